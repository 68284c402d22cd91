// SPDX-License-Identifier: MIT
/*
 * The iommufd core driven through its real entry point, iommufd_ctx_ioctl(),
 * with this test's own thread as the caller: struct copies, map_files
 * pinning and pagemap frames all run for real, only the transport is
 * skipped. Needs root (frame numbers, map_files); skips otherwise.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

#include "addrmap.h"
#include "cannot_run.h"
#include "backend_mock.h"
#include "core.h"
#include "iommufd_private.h"
#include "pages.h"
#include "user_budget.h"

#define BUF_SIZE (16 * PAGE_SIZE)

static struct ucaller self;
static struct iommufd_ctx *ctx;
static uint8_t *buf; /* MAP_SHARED, as the selftests use */

/* An address that is certainly not mapped in this process. */
static void *unmapped_va(void)
{
	void *va = mmap(NULL, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);

	assert_true(va != MAP_FAILED);
	munmap(va, PAGE_SIZE);
	return va;
}

static long ioc(unsigned int cmd, void *arg)
{
	return iommufd_ctx_ioctl(ctx, &self, cmd, (uint64_t)(uintptr_t)arg);
}

static int setup(void **state)
{
	(void)state;
	ctx = iommufd_ctx_open(&self);
	return ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	iommufd_ctx_release(ctx);
	/* Releasing the context must drop every pin it made. */
	assert_int_equal(pages_pinned_total(), 0);
	return 0;
}

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &cmd), 0);
	return cmd.out_ioas_id;
}

static void mock_domain(uint32_t pt_id, uint32_t *stdev, uint32_t *hwpt,
			uint32_t *idev)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pt_id,
	};

	assert_int_equal(ioc(IOMMU_TEST_CMD, &cmd), 0);
	if (stdev)
		*stdev = cmd.mock_domain.out_stdev_id;
	if (hwpt)
		*hwpt = cmd.mock_domain.out_hwpt_id;
	if (idev)
		*idev = cmd.mock_domain.out_idev_id;
}

static long map(uint32_t ioas, void *va, uint64_t len, uint64_t *iova,
		uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	long ret = ioc(IOMMU_IOAS_MAP, &cmd);

	*iova = cmd.iova;
	return ret;
}

static long unmap(uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = { .size = sizeof(cmd),
					.ioas_id = ioas,
					.iova = iova,
					.length = len };

	return ioc(IOMMU_IOAS_UNMAP, &cmd);
}

static long destroy(uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioc(IOMMU_DESTROY, &cmd);
}

/* ---- dispatcher size rules -------------------------------------------- */

static void test_dispatch_sizes(void **state)
{
	struct {
		struct iommu_ioas_alloc cmd;
		uint8_t tail[8];
	} big = { .cmd = { .size = sizeof(big) } };
	struct iommu_ioas_alloc small = { .size = 11 };

	(void)state;
	/* below the minimum */
	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &small), -EINVAL);
	/* a zero tail behaves like the exact size and is echoed back */
	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &big), 0);
	assert_int_equal(big.cmd.out_ioas_id, 1);
	/* a non-zero tail past the known struct */
	big.tail[7] = 1;
	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &big), -E2BIG);
	/* the size is read before the number is looked at */
	assert_int_equal(ioc(IOMMU_DESTROY, NULL), -EFAULT);
	assert_int_equal(ioc(_IO(IOMMUFD_TYPE, 0x7f), NULL), -ENOTTY);
	assert_int_equal(ioc(_IO(IOMMUFD_TYPE, 0x9f), &big), -ENOTTY);
	/* wrong type byte in a known slot */
	assert_int_equal(ioc(_IO('x', IOMMUFD_CMD_IOAS_ALLOC), &big), -ENOTTY);
}

static void test_dispatch_copy_back(void **state)
{
	/* A caller that only knows the first 8 bytes gets none of out_ioas_id. */
	struct {
		struct iommu_ioas_iova_ranges cmd;
	} r = { .cmd = { .size = sizeof(r.cmd), .ioas_id = ioas_alloc() } };
	struct iommu_iova_range ranges[1];

	(void)state;
	r.cmd.allowed_iovas = (uintptr_t)ranges;
	r.cmd.num_iovas = 0;
	/* too small: the count goes back with EMSGSIZE */
	assert_int_equal(ioc(IOMMU_IOAS_IOVA_RANGES, &r.cmd), -EMSGSIZE);
	assert_int_equal(r.cmd.num_iovas, 1);
	r.cmd.num_iovas = 1;
	assert_int_equal(ioc(IOMMU_IOAS_IOVA_RANGES, &r.cmd), 0);
	assert_int_equal(ranges[0].start, 0);
	assert_true(ranges[0].last == UINT64_MAX);
	assert_int_equal(r.cmd.out_iova_alignment, 1);
}

/* ---- objects ---------------------------------------------------------- */

static void test_object_ids(void **state)
{
	uint32_t hwpt;

	(void)state;
	assert_int_equal(ioas_alloc(), 1);
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(ioas_alloc(), 3);
	assert_int_equal(destroy(2), 0);
	/* the lowest free id is reused at once */
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(destroy(0), -ENOENT);
	assert_int_equal(destroy(99), -ENOENT);

	/* selftest object, device, then the automatic HWPT */
	mock_domain(1, NULL, &hwpt, NULL);
	assert_int_equal(hwpt, 6);
	assert_int_equal(destroy(1), -EBUSY); /* the HWPT holds the IOAS */
	assert_int_equal(destroy(hwpt), -EBUSY); /* the device holds it */
	assert_int_equal(destroy(5), -EBUSY); /* the device is bound */
	assert_int_equal(destroy(4), 0); /* selftest object */
	/* its device and automatic domain went with it */
	assert_int_equal(destroy(hwpt), -ENOENT);
	assert_int_equal(destroy(1), 0);
}

/* ---- IOVA ------------------------------------------------------------- */

static void test_iova_alloc(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct iommu_test_cmd resv = {
		.size = sizeof(resv),
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas,
		.add_reserved = { .start = PAGE_SIZE, .length = 1ULL << 30 },
	};
	uint64_t iova = 0, iova2 = 0;

	(void)state;
	/* A domain-less IOAS never touches memory: any VA maps. */
	assert_int_equal(map(ioas, (void *)(1ULL << 31), 1ULL << 20, &iova, 0),
			 0);
	assert_int_equal(iova % (1ULL << 20), 0);
	assert_true(iova >= PAGE_SIZE);
	assert_int_equal(map(ioas, (void *)(1ULL << 31), 1ULL << 20, &iova2, 0),
			 0);
	assert_true(iova2 != iova);
	/* a fixed map over an existing one */
	assert_int_equal(map(ioas, buf, PAGE_SIZE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA),
			 -EEXIST);
	/* reserving over an area is refused */
	assert_int_equal(ioc(IOMMU_TEST_CMD, &resv), -EADDRINUSE);
	assert_int_equal(unmap(ioas, 0, UINT64_MAX), 0);
	assert_int_equal(ioc(IOMMU_TEST_CMD, &resv), 0);
	/* auto IOVA skips the reserved range */
	iova = 0;
	assert_int_equal(map(ioas, buf, PAGE_SIZE, &iova, 0), 0);
	assert_true(iova >= PAGE_SIZE + (1ULL << 30));
	/* partial unmap, nothing to unmap, overflow */
	assert_int_equal(unmap(ioas, iova, PAGE_SIZE / 2), -ENOENT);
	assert_int_equal(unmap(ioas, 1ULL << 40, PAGE_SIZE), -ENOENT);
	assert_int_equal(unmap(ioas, UINT64_MAX - 10, 100), -EOVERFLOW);
	assert_int_equal(unmap(ioas, iova, PAGE_SIZE), 0);
}

static void test_map_errnos(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = PAGE_SIZE,
	};

	(void)state;
	cmd.flags = 1U << 31;
	assert_int_equal(ioc(IOMMU_IOAS_MAP, &cmd), -EOPNOTSUPP);
	cmd.flags = 0;
	assert_int_equal(ioc(IOMMU_IOAS_MAP, &cmd), -EINVAL);
	cmd.flags = IOMMU_IOAS_MAP_READABLE;
	cmd.length = UINT64_MAX;
	assert_int_equal(ioc(IOMMU_IOAS_MAP, &cmd), -EOVERFLOW);
	cmd.length = 0;
	assert_int_equal(ioc(IOMMU_IOAS_MAP, &cmd), -EINVAL);
	cmd.length = PAGE_SIZE;
	cmd.ioas_id = 77;
	assert_int_equal(ioc(IOMMU_IOAS_MAP, &cmd), -ENOENT);
}

/* ---- pinning ---------------------------------------------------------- */

static void test_pin_once(void **state)
{
	uint32_t ioas = ioas_alloc(), ioas2 = ioas_alloc(), stdev;
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = ioas2,
		.src_ioas_id = ioas,
		.length = BUF_SIZE,
	};
	uint64_t iova = MOCK_APERTURE_START;

	(void)state;
	/* No domain: nothing pinned. Inside the aperture a domain will have. */
	assert_int_equal(
		map(ioas, buf, BUF_SIZE, &iova, IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(pages_pinned_total(), 0);

	/* The first domain pins every page once; the second reuses them. */
	mock_domain(ioas, &stdev, NULL, NULL);
	assert_int_equal(pages_pinned_total(), BUF_SIZE / PAGE_SIZE);
	mock_domain(ioas, NULL, NULL, NULL);
	assert_int_equal(pages_pinned_total(), BUF_SIZE / PAGE_SIZE);

	/* COPY shares the storage: still pinned once. */
	mock_domain(ioas2, NULL, NULL, NULL);
	copy.src_iova = iova;
	assert_int_equal(ioc(IOMMU_IOAS_COPY, &copy), 0);
	assert_int_equal(pages_pinned_total(), BUF_SIZE / PAGE_SIZE);

	/* The copy keeps the pages pinned after the source is unmapped. */
	assert_int_equal(unmap(ioas, 0, UINT64_MAX), 0);
	assert_int_equal(pages_pinned_total(), BUF_SIZE / PAGE_SIZE);
	assert_int_equal(unmap(ioas2, 0, UINT64_MAX), 0);
	assert_int_equal(pages_pinned_total(), 0);
	(void)stdev;
}

static void test_check_map_and_refs(void **state)
{
	uint32_t ioas = ioas_alloc(), hwpt;
	struct iommu_test_cmd check = {
		.size = sizeof(check),
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
	};
	struct iommu_test_cmd refs = {
		.size = sizeof(refs),
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = BUF_SIZE, .uptr = (uintptr_t)buf },
	};
	uint64_t iova = 0;

	(void)state;
	mock_domain(ioas, NULL, &hwpt, NULL);
	assert_int_equal(map(ioas, buf, BUF_SIZE, &iova, 0), 0);
	refs.check_refs.refs = 1;
	assert_int_equal(ioc(IOMMU_TEST_CMD, &refs), 0);
	check.id = hwpt;
	check.check_map.iova = iova;
	check.check_map.length = BUF_SIZE;
	check.check_map.uptr = (uintptr_t)buf;
	assert_int_equal(ioc(IOMMU_TEST_CMD, &check), 0);
	/* a different buffer is not what the IOVA points at */
	check.check_map.uptr = (uintptr_t)buf + PAGE_SIZE;
	check.check_map.length = PAGE_SIZE;
	assert_int_equal(ioc(IOMMU_TEST_CMD, &check), -EINVAL);

	assert_int_equal(unmap(ioas, iova, BUF_SIZE), 0);
	assert_int_equal(ioc(IOMMU_TEST_CMD, &refs), -EIO);
	refs.check_refs.refs = 0;
	assert_int_equal(ioc(IOMMU_TEST_CMD, &refs), 0);
}

static void test_domain_fill_efault(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = {
		.size = sizeof(md),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas,
	};
	uint64_t iova = 1ULL << 24;
	uint32_t idev;

	(void)state;
	/* Unmapped VA: fine without a domain, EFAULT once one needs it. */
	assert_int_equal(map(ioas, unmapped_va(), PAGE_SIZE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA),
			 0);
	assert_int_equal(ioc(IOMMU_TEST_CMD, &md), -EFAULT);
	/* The failed attach left no object behind: ids 2.. are free. */
	assert_int_equal(unmap(ioas, 0, UINT64_MAX), 0);
	mock_domain(ioas, NULL, NULL, &idev);
	assert_int_equal(idev, 3);
	alloc.dev_id = idev;
	alloc.pt_id = 99;
	assert_int_equal(ioc(IOMMU_HWPT_ALLOC, &alloc), -EINVAL);
	alloc.pt_id = ioas;
	assert_int_equal(ioc(IOMMU_HWPT_ALLOC, &alloc), 0);
	/* HWPT_ALLOC fills at once, and a mapping to bad memory fails */
	iova = 1ULL << 25;
	assert_int_equal(map(ioas, unmapped_va(), PAGE_SIZE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA),
			 -EFAULT);
}

static void test_invalidate_copy_back(void **state)
{
	struct iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.hwpt_id = 55,
		.entry_num = 3,
	};

	(void)state;
	/* Even the early EINVAL writes entry_num = 0 back. */
	assert_int_equal(ioc(IOMMU_HWPT_INVALIDATE, &inv), -EINVAL);
	assert_int_equal(inv.entry_num, 0);
	inv.entry_num = 0;
	assert_int_equal(ioc(IOMMU_HWPT_INVALIDATE, &inv), -ENOENT);
}

/* ---- accesses ------------------------------------------------------------ */

struct test_access {
	struct iommufd_access *access;
	uint64_t iova, length;
	unsigned int unmap_calls;
};

static void test_access_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct test_access *ta = data;

	ta->unmap_calls++;
	if (ta->length && iova <= ta->iova + ta->length - 1 &&
	    ta->iova <= iova + (length - 1)) {
		iommufd_access_unpin_pages(ta->access, ta->iova, ta->length);
		ta->length = 0;
	}
}

static const struct iommufd_access_ops test_access_ops = {
	.unmap = test_access_unmap,
};

static void test_access_pin_rw_unmap(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct test_access ta = { 0 };
	uint64_t iova = 0, paddrs[4];
	unsigned int id;
	char bytes[8];

	(void)state;
	ta.access =
		iommufd_access_create(ctx, &test_access_ops, &ta, true, &id);
	assert_int_equal(iommufd_access_attach(ta.access, ioas), 0);
	assert_int_equal(destroy(id), -EBUSY); /* owned by its driver */
	assert_int_equal(destroy(ioas), -EBUSY); /* held by the access */

	memcpy(buf, "livedata", 8);
	assert_int_equal(map(ioas, buf, 4 * PAGE_SIZE, &iova, 0), 0);
	/* rw reads the caller's live memory, without pinning */
	assert_int_equal(iommufd_access_rw(ta.access, iova, bytes, 8, 0), 0);
	assert_memory_equal(bytes, "livedata", 8);
	assert_int_equal(pages_pinned_total(), 0);

	assert_int_equal(iommufd_access_pin_pages(ta.access, iova,
						  4 * PAGE_SIZE, paddrs,
						  IOMMUFD_ACCESS_RW_WRITE),
			 0);
	ta.iova = iova;
	ta.length = 4 * PAGE_SIZE;
	assert_int_equal(pages_pinned_total(), 4);
	/* DMA through the pinned address reaches the caller's page */
	assert_int_equal(phys_rw(paddrs[0], "DMA!", 4, true), 0);
	assert_memory_equal(buf, "DMA!", 4);

	/* unmap tells the access, which unpins, and the unmap completes */
	assert_int_equal(unmap(ioas, iova, 4 * PAGE_SIZE), 0);
	assert_true(ta.unmap_calls >= 1);
	assert_int_equal(pages_pinned_total(), 0);
	assert_int_equal(iommufd_access_pin_pages(ta.access, iova, PAGE_SIZE,
						  paddrs, 0),
			 -ENOENT);
	iommufd_access_destroy(ta.access);
	assert_int_equal(destroy(ioas), 0);
}

/* ---- mock device DMA ---------------------------------------------------- */

static void test_mock_dma_dirty(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct iommu_device *dev;
	struct iommufd_device *idev;
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
		.pt_id = ioas,
	};
	struct iommu_hwpt_set_dirty_tracking track = {
		.size = sizeof(track),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	uint64_t bitmap = 0;
	struct iommu_hwpt_get_dirty_bitmap get = {
		.size = sizeof(get),
		.iova = MOCK_APERTURE_START,
		.length = BUF_SIZE,
		.page_size = PAGE_SIZE,
		.data = (uintptr_t)&bitmap,
	};
	uint64_t iova = MOCK_APERTURE_START, ro_iova = 0;
	uint32_t pt_id;
	char bytes[6];
	int err;

	(void)state;
	dev = mock_dev_create(0, &err);
	idev = iommufd_device_bind(ctx, dev);
	alloc.dev_id = idev->obj.id;
	assert_int_equal(ioc(IOMMU_HWPT_ALLOC, &alloc), 0);
	pt_id = alloc.out_hwpt_id;
	assert_int_equal(iommufd_device_attach(idev, &pt_id), 0);

	/* Blocked until something is mapped: no translation, no DMA. */
	assert_int_equal(mock_dev_dma(dev, iova, bytes, 6, false), -ENOENT);
	assert_int_equal(
		map(ioas, buf, BUF_SIZE, &iova, IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	track.hwpt_id = pt_id;
	assert_int_equal(ioc(IOMMU_HWPT_SET_DIRTY_TRACKING, &track), 0);

	/* A device write lands in the caller's memory and dirties its page. */
	assert_int_equal(mock_dev_dma(dev, iova + 3 * PAGE_SIZE + 10, "device",
				      6, true),
			 0);
	assert_memory_equal(buf + 3 * PAGE_SIZE + 10, "device", 6);
	memcpy(buf + 5 * PAGE_SIZE, "caller", 6);
	assert_int_equal(
		mock_dev_dma(dev, iova + 5 * PAGE_SIZE, bytes, 6, false), 0);
	assert_memory_equal(bytes, "caller", 6);

	get.hwpt_id = pt_id;
	assert_int_equal(ioc(IOMMU_HWPT_GET_DIRTY_BITMAP, &get), 0);
	assert_int_equal(bitmap, 1ULL << 3);
	bitmap = 0;
	assert_int_equal(ioc(IOMMU_HWPT_GET_DIRTY_BITMAP, &get), 0);
	assert_int_equal(bitmap, 0); /* read and cleared */

	/* A read-only mapping refuses device writes. */
	{
		struct iommu_ioas_map ro = {
			.size = sizeof(ro),
			.flags = IOMMU_IOAS_MAP_READABLE,
			.ioas_id = ioas,
			.user_va = (uintptr_t)buf,
			.length = PAGE_SIZE,
		};

		assert_int_equal(ioc(IOMMU_IOAS_MAP, &ro), 0);
		ro_iova = ro.iova;
	}
	assert_int_equal(mock_dev_dma(dev, ro_iova, "x", 1, true), -EPERM);

	iommufd_device_detach(idev);
	assert_int_equal(mock_dev_dma(dev, iova, bytes, 1, false), -EPERM);
	iommufd_device_unbind(idev);
	mock_dev_destroy(dev);
}

/* ---- VFIO compat -------------------------------------------------------- */

static void test_vfio_compat(void **state)
{
	struct iommu_vfio_ioas set = { .size = sizeof(set),
				       .op = IOMMU_VFIO_IOAS_SET };
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um) };

	(void)state;
	assert_int_equal(ioc(VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION);
	assert_int_equal(iommufd_ctx_ioctl(ctx, &self, VFIO_CHECK_EXTENSION,
					   VFIO_TYPE1v2_IOMMU),
			 1);
	assert_int_equal(iommufd_ctx_ioctl(ctx, &self, VFIO_SET_IOMMU,
					   VFIO_TYPE1v2_IOMMU),
			 -ENODEV);
	set.ioas_id = ioas_alloc();
	assert_int_equal(ioc(IOMMU_VFIO_IOAS, &set), 0);
	assert_int_equal(iommufd_ctx_ioctl(ctx, &self, VFIO_SET_IOMMU,
					   VFIO_TYPE1_IOMMU),
			 0);
	um.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	um.iova = 1;
	assert_int_equal(ioc(VFIO_IOMMU_UNMAP_DMA, &um), -EINVAL);
	um.iova = 0;
	assert_int_equal(ioc(VFIO_IOMMU_UNMAP_DMA, &um), 0);
	assert_int_equal(um.size, 0);
}

/* The budget of a user holds over all its open files, and comes back. */
static long other_ioc(struct iommufd_ctx *other, unsigned int cmd, void *arg)
{
	return iommufd_ctx_ioctl(other, &self, cmd, (uint64_t)(uintptr_t)arg);
}

static void test_user_budget(void **state)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	uint64_t saved = user_budget_max[USER_BUDGET_OBJECTS];
	struct iommufd_ctx *other;

	(void)state;
	user_budget_max[USER_BUDGET_OBJECTS] = 4;
	other = iommufd_ctx_open(&self);
	assert_non_null(other);
	ioas_alloc();
	ioas_alloc();
	assert_int_equal(other_ioc(other, IOMMU_IOAS_ALLOC, &cmd), 0);
	assert_int_equal(other_ioc(other, IOMMU_IOAS_ALLOC, &cmd), 0);
	/* 4 objects over the two files: a fifth on either is ENOMEM. */
	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &cmd), -ENOMEM);
	assert_int_equal(other_ioc(other, IOMMU_IOAS_ALLOC, &cmd), -ENOMEM);
	/* A destroy on one file makes room on the other. */
	destroy.id = 1;
	assert_int_equal(other_ioc(other, IOMMU_DESTROY, &destroy), 0);
	ioas_alloc();
	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &cmd), -ENOMEM);
	/* Closing a file gives back what it held. */
	iommufd_ctx_release(other);
	ioas_alloc();
	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &cmd), -ENOMEM);
	user_budget_max[USER_BUDGET_OBJECTS] = saved;
}

/* A batch: each operation answers as its own ioctl would, in order. */
static void test_ioas_batch(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct iommufdd_ioas_batch_op ops[] = {
		{ .op = IOMMUFDD_BATCH_MAP,
		  .flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA,
		  .user_va = (uintptr_t)buf,
		  .length = PAGE_SIZE,
		  .iova = 1 << 20 },
		/* the same IOVA again: EEXIST, and the rest still runs */
		{ .op = IOMMUFDD_BATCH_MAP,
		  .flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA,
		  .user_va = (uintptr_t)buf,
		  .length = PAGE_SIZE,
		  .iova = 1 << 20 },
		/* no FIXED_IOVA: the daemon picks the IOVA and says which */
		{ .op = IOMMUFDD_BATCH_MAP,
		  .flags = IOMMU_IOAS_MAP_READABLE,
		  .user_va = (uintptr_t)buf + PAGE_SIZE,
		  .length = PAGE_SIZE },
		{ .op = IOMMUFDD_BATCH_UNMAP,
		  .length = PAGE_SIZE,
		  .iova = 1 << 20 },
		{ .op = IOMMUFDD_BATCH_UNMAP,
		  .length = PAGE_SIZE,
		  .iova = 1 << 20 },
		{ .op = 7 },
		{ .op = IOMMUFDD_BATCH_MAP,
		  .user_va = (uintptr_t)buf,
		  .length = PAGE_SIZE },
	};
	struct iommufdd_ioas_batch cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_ops = ARRAY_SIZE(ops),
		.ops_uptr = (uintptr_t)ops,
	};

	(void)state;
	assert_int_equal(ioc(IOMMUFDD_IOAS_BATCH, &cmd), 0);
	assert_int_equal(ops[0].out_result, 0);
	assert_int_equal(ops[1].out_result, -EEXIST);
	assert_int_equal(ops[2].out_result, 0);
	assert_true(ops[2].iova != 0 && ops[2].iova != 1 << 20);
	assert_int_equal(ops[3].out_result, 0);
	assert_int_equal(ops[3].length, PAGE_SIZE);
	assert_int_equal(ops[4].out_result, -ENOENT);
	assert_int_equal(ops[5].out_result, -EOPNOTSUPP);
	/* neither READABLE nor WRITEABLE: EINVAL, as IOAS_MAP says */
	assert_int_equal(ops[6].out_result, -EINVAL);

	/* The header's own errors fail the ioctl. */
	cmd.num_ops = 0;
	assert_int_equal(ioc(IOMMUFDD_IOAS_BATCH, &cmd), -EINVAL);
	cmd.num_ops = IOMMUFDD_BATCH_MAX_OPS + 1;
	assert_int_equal(ioc(IOMMUFDD_IOAS_BATCH, &cmd), -EINVAL);
	cmd.num_ops = 1;
	cmd.flags = 1;
	assert_int_equal(ioc(IOMMUFDD_IOAS_BATCH, &cmd), -EOPNOTSUPP);
	cmd.flags = 0;
	cmd.ioas_id = 999;
	assert_int_equal(ioc(IOMMUFDD_IOAS_BATCH, &cmd), -ENOENT);
	cmd.ioas_id = ioas;
	cmd.ops_uptr = (uintptr_t)unmapped_va();
	assert_int_equal(ioc(IOMMUFDD_IOAS_BATCH, &cmd), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dispatch_sizes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_copy_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_object_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iova_alloc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_errnos, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_map_and_refs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_domain_fill_efault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_copy_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_pin_rw_unmap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mock_dma_dirty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vfio_compat, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_user_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioas_batch, setup,
						teardown),
	};

	if (geteuid() != 0)
		return cannot_run("frame numbers and map_files need root");
	self.pid = gettid();
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || iommufd_core_init("mock"))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
