// SPDX-License-Identifier: MIT
/*
 * One small wrapper per ioctl for the newest-uAPI test program. Each
 * returns 0 or -errno and writes its outputs only on success, so a test
 * line reads as the assertion it makes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "newest.h"

long ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

long ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	long ret = ioc(fd, IOMMU_IOAS_ALLOC, &cmd);

	if (!ret)
		*id = cmd.out_ioas_id;
	return ret;
}

long destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioc(fd, IOMMU_DESTROY, &cmd);
}

long ioas_map(int fd, uint32_t ioas, const void *va, uint64_t len,
	      uint64_t *iova, bool fixed)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = fixed ? *iova : 0,
	};
	long ret = ioc(fd, IOMMU_IOAS_MAP, &cmd);

	if (!ret)
		*iova = cmd.iova;
	return ret;
}

long ioas_map_file(int fd, uint32_t ioas, int mfd, uint64_t start, uint64_t len,
		   uint64_t *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = mfd,
		.start = start,
		.length = len,
	};
	long ret = ioc(fd, IOMMU_IOAS_MAP_FILE, &cmd);

	if (!ret)
		*iova = cmd.iova;
	return ret;
}

long ioas_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return ioc(fd, IOMMU_IOAS_UNMAP, &cmd);
}

long test_op(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioc(fd, IOMMU_TEST_CMD, cmd);
}

long mock_domain(int fd, uint32_t pt, uint32_t dev_flags, uint32_t *stdev,
		 uint32_t *hwpt, uint32_t *idev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = pt,
		.mock_domain_flags.dev_flags = dev_flags,
	};
	long ret = test_op(fd, &cmd);

	if (ret)
		return ret;
	if (stdev)
		*stdev = cmd.mock_domain_flags.out_stdev_id;
	if (hwpt)
		*hwpt = cmd.mock_domain_flags.out_hwpt_id;
	if (idev)
		*idev = cmd.mock_domain_flags.out_idev_id;
	return 0;
}

long mock_replace(int fd, uint32_t stdev, uint32_t pt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace.pt_id = pt,
	};

	return test_op(fd, &cmd);
}

static long hwpt_alloc_data(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
			    uint32_t fault_id, uint32_t data_type, void *data,
			    uint32_t data_len, uint32_t *out)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = idev,
		.pt_id = pt,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.fault_id = fault_id,
	};
	long ret = ioc(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!ret)
		*out = cmd.out_hwpt_id;
	return ret;
}

long hwpt_alloc(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
		uint32_t fault_id, uint32_t *out)
{
	return hwpt_alloc_data(fd, idev, pt, flags, fault_id,
			       IOMMU_HWPT_DATA_NONE, NULL, 0, out);
}

long hwpt_alloc_nested(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
		       uint32_t fault_id, uint32_t *out)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };

	return hwpt_alloc_data(fd, idev, pt, flags, fault_id,
			       IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data),
			       out);
}

long viommu_alloc(int fd, uint32_t idev, uint32_t hwpt, uint32_t type,
		  void *data, uint32_t data_len, uint32_t *out)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = idev,
		.hwpt_id = hwpt,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	long ret = ioc(fd, IOMMU_VIOMMU_ALLOC, &cmd);

	if (!ret && out)
		*out = cmd.out_viommu_id;
	return ret;
}

long vdevice_alloc(int fd, uint32_t viommu, uint32_t idev, uint64_t virt_id,
		   uint32_t *out)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.dev_id = idev,
		.virt_id = virt_id,
	};
	long ret = ioc(fd, IOMMU_VDEVICE_ALLOC, &cmd);

	if (!ret && out)
		*out = cmd.out_vdevice_id;
	return ret;
}

long veventq_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t depth,
		   uint32_t *id, int *qfd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.type = type,
		.veventq_depth = depth,
	};
	long ret = ioc(fd, IOMMU_VEVENTQ_ALLOC, &cmd);

	if (ret)
		return ret;
	if (id)
		*id = cmd.out_veventq_id;
	if (qfd)
		*qfd = (int)cmd.out_veventq_fd;
	else
		close((int)cmd.out_veventq_fd);
	return 0;
}

long hw_queue_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t index,
		    uint64_t iova, uint64_t len, uint32_t *out)
{
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.type = type,
		.index = index,
		.nesting_parent_iova = iova,
		.length = len,
	};
	long ret = ioc(fd, IOMMU_HW_QUEUE_ALLOC, &cmd);

	if (!ret && out)
		*out = cmd.out_hw_queue_id;
	return ret;
}

long fault_alloc(int fd, uint32_t *id, int *ffd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	long ret = ioc(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (ret)
		return ret;
	*id = cmd.out_fault_id;
	*ffd = (int)cmd.out_fault_fd;
	return 0;
}

long invalidate(int fd, uint32_t id, const void *reqs, uint32_t type,
		uint32_t entry_len, uint32_t *num)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = (uintptr_t)reqs,
		.data_type = type,
		.entry_len = entry_len,
		.entry_num = *num,
	};
	long ret = ioc(fd, IOMMU_HWPT_INVALIDATE, &cmd);

	*num = cmd.entry_num;
	return ret;
}

long dev_check_cache(int fd, uint32_t idev, uint32_t index, uint32_t value)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
		.id = idev,
		.check_dev_cache = { .id = index, .cache = value },
	};

	return test_op(fd, &cmd);
}

long dev_check_cache_all(int fd, uint32_t idev, uint32_t value)
{
	long ret = 0;
	uint32_t i;

	for (i = 0; i < MOCK_DEV_CACHE_NUM && !ret; i++)
		ret = dev_check_cache(fd, idev, i, value);
	return ret;
}

long trigger_vevent(int fd, uint32_t idev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent.dev_id = idev,
	};

	return test_op(fd, &cmd);
}

/* The fault the kernel selftests raise; the checks compare against it. */
long trigger_iopf(int fd, uint32_t idev, uint32_t pasid)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = idev,
			.pasid = pasid,
			.grpid = 0x2,
			.perm = IOMMU_PGFAULT_PERM_READ |
				IOMMU_PGFAULT_PERM_WRITE,
			.addr = 0xdeadbeaf,
		},
	};

	return test_op(fd, &cmd);
}

/*
 * PASID_ATTACH/REPLACE/DETACH/CHECK_HWPT share a layout: pasid at 16 and
 * the HWPT (or IOAS) at 20.
 */
long pasid_op(int fd, uint32_t op, uint32_t stdev, uint32_t pasid, uint32_t pt)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.id = stdev,
		.pasid_attach = { .pasid = pasid, .pt_id = pt },
	};

	return test_op(fd, &cmd);
}

long check_map(int fd, uint32_t hwpt, uint64_t iova, uint64_t len,
	       const void *ptr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = { .iova = iova,
			       .length = len,
			       .uptr = (uintptr_t)ptr },
	};

	return test_op(fd, &cmd);
}

long check_refs(int fd, const void *ptr, uint64_t len, uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = len,
				.uptr = (uintptr_t)ptr,
				.refs = refs },
	};

	return test_op(fd, &cmd);
}

long check_iotlb(int fd, uint32_t hwpt, uint32_t index, uint32_t value)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt,
		.check_iotlb = { .id = index, .iotlb = value },
	};

	return test_op(fd, &cmd);
}

void *memfd_map(size_t len, bool huge, int *mfd)
{
	void *p;

	*mfd = memfd_create("newest_uapi",
			    MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
	if (*mfd < 0)
		return MAP_FAILED;
	if (ftruncate(*mfd, (off_t)len))
		goto fail;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	if (p == MAP_FAILED)
		goto fail;
	/* Touch every page, so a hugetlbfs shortage shows here. */
	if (huge && madvise(p, len, MADV_POPULATE_WRITE)) {
		munmap(p, len);
		goto fail;
	}
	return p;
fail:
	close(*mfd);
	*mfd = -1;
	return MAP_FAILED;
}

long read_fault(int ffd, struct iommu_hwpt_pgfault *rec)
{
	struct pollfd pfd = { .fd = ffd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 1000) != 1)
		return -ETIMEDOUT;
	n = read(ffd, rec, sizeof(*rec));
	if (n < 0)
		return -errno;
	return n == sizeof(*rec) ? 0 : -EIO;
}

long answer_fault(int ffd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response resp = { .cookie = cookie,
						 .code = code };
	ssize_t n = write(ffd, &resp, sizeof(resp));

	return n < 0 ? -errno : n;
}
