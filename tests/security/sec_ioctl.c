// SPDX-License-Identifier: MIT
/* Thin iommufd ioctl wrappers for the security tests (sec_ioctl.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "sec_ioctl.h"

static long sec_ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

long sec_ioas_alloc(int fd, uint32_t *ioas)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	long ret = sec_ioc(fd, IOMMU_IOAS_ALLOC, &cmd);

	*ioas = ret ? 0 : cmd.out_ioas_id;
	return ret;
}

long sec_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return sec_ioc(fd, IOMMU_DESTROY, &cmd);
}

long sec_mock_domain(int fd, uint32_t ioas, uint32_t *idev)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas,
	};
	long ret = sec_ioc(fd, IOMMU_TEST_CMD, &cmd);

	if (idev)
		*idev = ret ? 0 : cmd.mock_domain.out_idev_id;
	return ret;
}

long sec_map_raw(int fd, uint32_t ioas, uint64_t va, uint64_t len,
		 uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags ? flags : SEC_MAP_RW,
		.ioas_id = ioas,
		.user_va = va,
		.length = len,
		.iova = iova ? *iova : 0,
	};
	long ret = sec_ioc(fd, IOMMU_IOAS_MAP, &cmd);

	if (!ret && iova)
		*iova = cmd.iova;
	return ret;
}

long sec_map(int fd, uint32_t ioas, const void *va, uint64_t len,
	     uint64_t *iova, uint32_t flags)
{
	return sec_map_raw(fd, ioas, (uint64_t)(uintptr_t)va, len, iova, flags);
}

long sec_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return sec_ioc(fd, IOMMU_IOAS_UNMAP, &cmd);
}

long sec_copy(int fd, uint32_t dst_ioas, uint32_t src_ioas, uint64_t src_iova,
	      uint64_t len, uint64_t *dst_iova, uint32_t flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags ? flags : SEC_MAP_RW,
		.dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	long ret = sec_ioc(fd, IOMMU_IOAS_COPY, &cmd);

	if (!ret)
		*dst_iova = cmd.dst_iova;
	return ret;
}

long sec_dev_dma(int fd, uint32_t idev, uint64_t iova, void *buf, uint64_t len,
		 bool write)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMUFDD_TEST_OP_DEV_DMA,
		.id = idev,
	};
	struct iommufdd_test_dma dma = {
		.iova = iova,
		.length = len,
		.uptr = (uint64_t)(uintptr_t)buf,
		.flags = write ? IOMMUFDD_TEST_DMA_WRITE : 0,
	};

	/* The payload sits in the union, where add_reserved starts. */
	memcpy((char *)&cmd + offsetof(struct iommu_test_cmd, add_reserved),
	       &dma, sizeof(dma));
	return sec_ioc(fd, IOMMU_TEST_CMD, &cmd);
}

long sec_create_access(int fd, uint32_t ioas, uint32_t flags, int *access_fd)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = { .flags = flags },
	};
	long ret = sec_ioc(fd, IOMMU_TEST_CMD, &cmd);

	*access_fd = ret ? -1 : (int)cmd.create_access.out_access_fd;
	return ret;
}

long sec_access_pages(int fd, int access_fd, uint64_t iova, uint64_t len,
		      uint32_t flags, uint32_t *pages_id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = (uint32_t)access_fd,
		.access_pages = { .flags = flags, .iova = iova, .length = len },
	};
	long ret = sec_ioc(fd, IOMMU_TEST_CMD, &cmd);

	if (pages_id)
		*pages_id = ret ? 0 : cmd.access_pages.out_access_pages_id;
	return ret;
}

long sec_allow_iovas(int fd, uint32_t ioas, uint32_t num, uint64_t ranges)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = num,
		.allowed_iovas = ranges,
	};

	return sec_ioc(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}
