// SPDX-License-Identifier: MIT
/*
 * The vIOMMU family in the daemon core, run in-process (the fake /dev/iommu
 * of test_libiommufd.c, through libiommufd): each object's life cycle and
 * every errno docs/newest-uapi.md gives for vIOMMU, vDEVICE, nested HWPTs
 * and invalidation on a vIOMMU, HW queues and PASID attachments, and the
 * answers of --kernel-abi 6.12. (vEVENTQs return a descriptor, which only
 * the launcher can install: tests/newest covers them.) Needs root, as the
 * core does for pinning; skips otherwise.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libiommufd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "../libiommufd/fake_iommu.h"

#define MOCK_APERTURE 0x1000000ULL

int __wrap_ioctl(int fd, unsigned long req, ...);
int __real_ioctl(int fd, unsigned long req, ...);

static struct fake_iommu *fake;
static int fake_fd = -1;
static struct iommufd *h;
static size_t page_size;
static uint8_t *buf;

/* The library's one ioctl() call: the fake's fd goes to the core. */
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	long ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake || fd != fake_fd)
		return __real_ioctl(fd, req, arg);
	ret = fake_iommu_ioctl(fake, req, arg);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

#define assert_err(call, err)                     \
	do {                                      \
		errno = 0;                        \
		assert_int_equal((call), -(err)); \
		assert_int_equal(errno, (err));   \
	} while (0)

/* What every test starts from: an IOAS, a mock device on it, a parent. */
struct bed {
	uint32_t ioas, stdev, idev, auto_hwpt, parent;
};

static int setup(void **state)
{
	static struct bed b;

	assert_int_equal(fake_iommu_set_abi("7.2"), 0);
	if (iommufd_open("/dev/null", &h))
		return -1;
	fake_fd = iommufd_fd(h);
	fake = fake_iommu_open();
	if (!fake)
		return -1;
	memset(&b, 0, sizeof(b));
	assert_int_equal(iommufd_ioas_alloc(h, &b.ioas), 0);
	assert_int_equal(
		iommufd_test_mock_domain(h, b.ioas, MOCK_FLAGS_DEVICE_PASID,
					 &b.stdev, &b.auto_hwpt, &b.idev),
		0);
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, po,
		     .flags = IOMMU_HWPT_ALLOC_NEST_PARENT);
	assert_int_equal(iommufd_hwpt_alloc(h, b.idev, b.ioas, &po, &b.parent),
			 0);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	iommufd_close(h);
	h = NULL;
	fake_iommu_close(fake);
	fake = NULL;
	fake_fd = -1;
	return 0;
}

static uint32_t nested_on(uint32_t idev, uint32_t pt, uint32_t flags)
{
	uint32_t data = IOMMU_TEST_IOTLB_DEFAULT, id = 0;
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, o, .data = &data,
		     .data_type = IOMMU_HWPT_DATA_SELFTEST,
		     .data_len = sizeof(data), .flags = flags);

	assert_int_equal(iommufd_hwpt_alloc(h, idev, pt, &o, &id), 0);
	return id;
}

/* §3.1: the checks in the kernel's order, then what a vIOMMU holds. */
static void test_viommu_alloc(void **state)
{
	struct bed *b = *state;
	uint32_t viommu = 0, nested;

	assert_err(iommufd_viommu_alloc(h, b->idev, b->parent,
					IOMMU_VIOMMU_TYPE_DEFAULT, NULL,
					&viommu),
		   EOPNOTSUPP);
	assert_err(iommufd_viommu_alloc(h, 999, b->parent,
					IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					&viommu),
		   ENOENT);
	/* An unknown type is refused before the HWPT is looked up. */
	assert_err(iommufd_viommu_alloc(h, b->idev, 999, 0xdead, NULL, &viommu),
		   EOPNOTSUPP);
	assert_err(iommufd_viommu_alloc(h, b->idev, 0,
					IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					&viommu),
		   ENOENT);
	assert_err(iommufd_viommu_alloc(h, b->idev, b->auto_hwpt,
					IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					&viommu),
		   EINVAL);
	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					      &viommu),
			 0);
	/* Failed allocations released their ids: it is the next one. */
	assert_int_equal(viommu, b->parent + 1);
	assert_err(iommufd_destroy(h, b->parent), EBUSY);

	nested = nested_on(b->idev, viommu, 0);
	assert_err(iommufd_destroy(h, viommu), EBUSY);
	/* Without a vDEVICE the device cannot use the vIOMMU's HWPT. */
	assert_err(iommufd_test_mock_domain_replace(h, b->stdev, nested, NULL),
		   ENOENT);
	assert_int_equal(iommufd_destroy(h, nested), 0);
	assert_int_equal(iommufd_destroy(h, viommu), 0);
	assert_int_equal(iommufd_destroy(h, b->parent), 0);
}

/* §7.1: the mock echoes its data and names an mmap region. */
static void test_viommu_data(void **state)
{
	struct bed *b = *state;
	struct iommu_viommu_selftest data = { .in_data = 0xbadbeef };
	uint32_t viommu = 0, second = 0;
	IOMMUFD_OPTS(iommufd_viommu_alloc_opts, o, .data = &data,
		     .data_len = sizeof(data));

	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, &o,
					      &viommu),
			 0);
	assert_int_equal(data.out_data, 0xbadbeef);
	assert_int_equal(data.out_mmap_offset, page_size);
	assert_int_equal(data.out_mmap_length, 2 * page_size);
	/* A second region goes after the first. */
	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, &o,
					      &second),
			 0);
	assert_int_equal(data.out_mmap_offset, 3 * page_size);
	/* Shorter than out_data, or longer than the struct: EINVAL. */
	o.data_len = 4;
	assert_err(iommufd_viommu_alloc(h, b->idev, b->parent,
					IOMMU_VIOMMU_TYPE_SELFTEST, &o,
					&second),
		   EINVAL);
}

/* IOMMUFDD_MMAP_REGION straight from the core, without a launcher. */
static long mmap_region(uint64_t offset, uint64_t length, uint32_t prot,
			uint32_t map_flags)
{
	struct iommufdd_mmap_region req = {
		.size = sizeof(req),
		.offset = offset,
		.length = length,
		.prot = prot,
		.map_flags = map_flags,
	};

	return fake_iommu_ioctl(fake, IOMMUFDD_MMAP_REGION, &req);
}

/* §5: the kernel's mmap checks, in its order; the region goes with it. */
static void test_mmap_region(void **state)
{
	struct bed *b = *state;
	struct iommu_viommu_selftest data = { .in_data = 1 };
	const uint32_t rw = PROT_READ | PROT_WRITE;
	const uint64_t len = 2 * page_size;
	struct iommufdd_mmap_region req = { .size = sizeof(req), .flags = 1 };
	uint32_t viommu = 0;
	IOMMUFD_OPTS(iommufd_viommu_alloc_opts, o, .data = &data,
		     .data_len = sizeof(data));

	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, &o,
					      &viommu),
			 0);
	assert_int_equal(data.out_mmap_offset, page_size);
	/* Right: only the launcher can hand the memory over. */
	assert_int_equal(mmap_region(page_size, len, rw, MAP_SHARED),
			 -EOPNOTSUPP);
	assert_int_equal(mmap_region(page_size, len, PROT_READ,
				     MAP_SHARED_VALIDATE),
			 -EOPNOTSUPP);
	assert_int_equal(mmap_region(page_size, 0, rw, MAP_SHARED), -EINVAL);
	assert_int_equal(mmap_region(page_size, len + 1, rw, MAP_SHARED),
			 -EINVAL);
	assert_int_equal(mmap_region(page_size + 8, len, rw, MAP_SHARED),
			 -EINVAL);
	assert_int_equal(mmap_region(page_size, len, rw | PROT_EXEC,
				     MAP_PRIVATE),
			 -EINVAL);
	assert_int_equal(mmap_region(page_size, len, rw | PROT_EXEC,
				     MAP_SHARED),
			 -EPERM);
	assert_int_equal(mmap_region(2 * page_size, len, rw, MAP_SHARED),
			 -ENXIO);
	assert_int_equal(mmap_region(page_size, page_size, rw, MAP_SHARED),
			 -ENXIO);
	assert_int_equal(mmap_region(page_size, 2 * len, rw, MAP_SHARED),
			 -ENXIO);
	assert_int_equal(mmap_region(0, len, rw, MAP_SHARED), -ENXIO);
	assert_int_equal(fake_iommu_ioctl(fake, IOMMUFDD_MMAP_REGION, &req),
			 -EOPNOTSUPP);
	req.flags = 0;
	req.__reserved = 1;
	assert_int_equal(fake_iommu_ioctl(fake, IOMMUFDD_MMAP_REGION, &req),
			 -EOPNOTSUPP);
	/* Nothing maps it: the vIOMMU goes, and its region with it. */
	assert_int_equal(iommufd_destroy(h, viommu), 0);
	assert_int_equal(mmap_region(page_size, len, rw, MAP_SHARED), -ENXIO);
	/* 6.12's iommufd has no mmap at all. */
	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, &o,
					      &viommu),
			 0);
	assert_int_equal(fake_iommu_set_abi("6.12"), 0);
	assert_int_equal(mmap_region(page_size, len, rw, MAP_SHARED), -ENODEV);
}

/* §3.2, §2.4: virtual IDs, one vDEVICE per device, the tombstone. */
static void test_vdevice(void **state)
{
	struct bed *b = *state;
	uint32_t viommu = 0, vdev = 0, other = 0, stdev2 = 0, idev2 = 0, id;

	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					      &viommu),
			 0);
	assert_err(iommufd_vdevice_alloc(h, b->parent, b->idev, 1, &vdev),
		   ENOENT);
	assert_err(iommufd_vdevice_alloc(h, viommu, b->stdev, 1, &vdev),
		   ENOENT);
	assert_int_equal(iommufd_vdevice_alloc(h, viommu, b->idev, 0x99, &vdev),
			 0);
	assert_err(iommufd_vdevice_alloc(h, viommu, b->idev, 0x88, &other),
		   EEXIST);
	assert_int_equal(iommufd_test_mock_domain(h, b->ioas, 0, &stdev2, NULL,
						  &idev2),
			 0);
	/* The same virtual ID in one vIOMMU: EEXIST, and the id is freed. */
	assert_err(iommufd_vdevice_alloc(h, viommu, idev2, 0x99, &other),
		   EEXIST);
	assert_int_equal(iommufd_vdevice_alloc(h, viommu, idev2, 0x77, &other),
			 0);
	assert_err(iommufd_destroy(h, viommu), EBUSY);

	/* The device goes: its vDEVICE with it, its id never reused. */
	assert_int_equal(iommufd_destroy(h, stdev2), 0);
	assert_err(iommufd_destroy(h, other), ENOENT);
	assert_int_equal(iommufd_ioas_alloc(h, &id), 0);
	assert_true(id != other);
	assert_int_equal(iommufd_destroy(h, id), 0);
	assert_int_equal(iommufd_destroy(h, vdev), 0);
	assert_int_equal(iommufd_destroy(h, viommu), 0);
}

/* §3.4: invalidation through the vIOMMU resets its devices' caches. */
static void test_viommu_invalidate(void **state)
{
	struct bed *b = *state;
	struct iommu_viommu_invalidate_selftest inv[2] = {
		{ .vdev_id = 0x99, .cache_id = 1 },
		{ .vdev_id = 0x99, .cache_id = 4 },
	};
	uint32_t viommu = 0, vdev = 0, done = 77;

	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					      &viommu),
			 0);
	assert_int_equal(iommufd_vdevice_alloc(h, viommu, b->idev, 0x99, &vdev),
			 0);
	assert_int_equal(
		iommufd_hwpt_invalidate(h, viommu,
					IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					NULL, sizeof(inv[0]), 0, &done),
		0);
	assert_err(iommufd_hwpt_invalidate(
			   h, viommu,
			   IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, inv,
			   sizeof(inv[0]), 1, &done),
		   EINVAL);
	assert_int_equal(done, 0);
	/* The second entry's cache_id is out of range: one done. */
	assert_err(iommufd_hwpt_invalidate(
			   h, viommu, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
			   inv, sizeof(inv[0]), 2, &done),
		   EINVAL);
	assert_int_equal(done, 1);
	assert_int_equal(iommufd_test_dev_check_cache(h, b->idev, 1, 0), 0);
	assert_int_equal(iommufd_test_dev_check_cache(
				 h, b->idev, 0, IOMMU_TEST_DEV_CACHE_DEFAULT),
			 0);
	inv[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x55 };
	assert_err(iommufd_hwpt_invalidate(
			   h, viommu, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
			   inv, sizeof(inv[0]), 1, &done),
		   EINVAL);
	inv[0] = (struct iommu_viommu_invalidate_selftest){
		.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL, .vdev_id = 0x99
	};
	assert_int_equal(
		iommufd_hwpt_invalidate(h, viommu,
					IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					inv, sizeof(inv[0]), 1, &done),
		1);
	assert_int_equal(iommufd_test_dev_check_cache(h, b->idev, 3, 0), 0);
	/* Neither a nested HWPT nor a vIOMMU: EINVAL now, ENOENT in 6.12. */
	assert_err(iommufd_hwpt_invalidate(h, b->parent,
					   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					   NULL, 8, 0, &done),
		   EINVAL);
	assert_int_equal(fake_iommu_set_abi("6.12"), 0);
	assert_err(iommufd_hwpt_invalidate(h, b->parent,
					   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					   NULL, 8, 0, &done),
		   ENOENT);
	assert_err(iommufd_viommu_alloc(h, b->idev, b->parent,
					IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					&viommu),
		   ENOTTY);
	assert_err(iommufd_test_dev_check_cache(h, b->idev, 0, 0), EOPNOTSUPP);
}

/* §3.6: HW queues pin their memory; ids and EBUSY follow. */
static void test_hw_queue(void **state)
{
	struct bed *b = *state;
	uint64_t iova = MOCK_APERTURE;
	uint32_t viommu = 0, q0 = 0, q1 = 0;

	assert_int_equal(iommufd_viommu_alloc(h, b->idev, b->parent,
					      IOMMU_VIOMMU_TYPE_SELFTEST, NULL,
					      &viommu),
			 0);
	assert_err(iommufd_hw_queue_alloc(h, viommu,
					  IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova,
					  page_size, &q0),
		   ENOENT);
	/* Two mappings, a page each: the queue's, and one beside it. */
	for (int i = 0; i < 2; i++) {
		uint64_t at = iova + i * page_size;

		assert_int_equal(
			iommufd_ioas_map(h, b->ioas, buf + i * page_size,
					 page_size,
					 IOMMU_IOAS_MAP_FIXED_IOVA |
						 IOMMU_IOAS_MAP_READABLE |
						 IOMMU_IOAS_MAP_WRITEABLE,
					 &at),
			0);
	}
	assert_err(iommufd_hw_queue_alloc(h, viommu,
					  IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, iova,
					  page_size, &q1),
		   EIO);
	assert_int_equal(iommufd_hw_queue_alloc(h, viommu,
						IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
						iova, page_size, &q0),
			 0);
	/* The id after the queue's is its internal access. */
	assert_err(iommufd_destroy(h, q0 + 1), EBUSY);
	assert_err(iommufd_hw_queue_alloc(h, viommu,
					  IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova,
					  page_size, &q1),
		   EEXIST);
	assert_int_equal(iommufd_hw_queue_alloc(
				 h, viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1,
				 iova + page_size / 2, page_size / 2, &q1),
			 0);
	assert_err(iommufd_ioas_unmap(h, b->ioas, iova, page_size, NULL),
		   EBUSY);
	assert_int_equal(iommufd_ioas_unmap(h, b->ioas, iova + page_size,
					    page_size, NULL),
			 0);
	assert_err(iommufd_destroy(h, q0), EBUSY);
	assert_err(iommufd_destroy(h, viommu), EBUSY);
	assert_int_equal(iommufd_destroy(h, q1), 0);
	assert_int_equal(iommufd_destroy(h, q0), 0);
	assert_int_equal(iommufd_ioas_unmap(h, b->ioas, iova, page_size, NULL),
			 0);
}

/* §4: which HWPTs a PASID takes, and what an attached PASID holds. */
static void test_pasid(void **state)
{
	struct bed *b = *state;
	uint32_t s2 = 0, nested, got = 0;
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, o,
		     .flags = IOMMU_HWPT_ALLOC_PASID);

	assert_int_equal(iommufd_hwpt_alloc(h, b->idev, b->ioas, &o, &s2), 0);
	nested = nested_on(b->idev, b->parent, IOMMU_HWPT_ALLOC_PASID);
	/* The RID is on an automatic domain: no PASID may attach. */
	assert_err(iommufd_test_pasid_attach(h, b->stdev, 100, s2, &got),
		   EINVAL);
	assert_int_equal(
		iommufd_test_mock_domain_replace(h, b->stdev, s2, NULL), 0);
	assert_err(iommufd_test_pasid_attach(h, b->stdev, 100, b->parent, &got),
		   EINVAL);
	assert_int_equal(
		iommufd_test_pasid_attach(h, b->stdev, 100, nested, &got), 0);
	assert_int_equal(got, nested);
	assert_err(iommufd_test_pasid_attach(h, b->stdev, 100, s2, &got),
		   EBUSY);
	assert_err(iommufd_destroy(h, nested), EBUSY);
	assert_err(iommufd_test_mock_domain_replace(h, b->stdev, b->ioas, NULL),
		   EINVAL);
	assert_int_equal(iommufd_test_pasid_replace(h, b->stdev, 100, s2, NULL),
			 0);
	assert_int_equal(iommufd_test_pasid_check_hwpt(h, b->stdev, 100, s2),
			 0);
	assert_err(iommufd_test_pasid_replace(h, b->stdev, 200, s2, NULL),
		   EINVAL);
	assert_err(iommufd_test_pasid_attach(h, b->stdev, 1U << 20, s2, &got),
		   EINVAL);
	assert_int_equal(iommufd_test_pasid_detach(h, b->stdev, 100), 0);
	assert_int_equal(iommufd_test_pasid_check_hwpt(h, b->stdev, 100, 0), 0);
	assert_int_equal(iommufd_destroy(h, nested), 0);
}

static int cannot_run(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	return 77;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_viommu_alloc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_viommu_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmap_region, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vdevice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_viommu_invalidate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hw_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasid, setup, teardown),
	};

	if (geteuid() != 0)
		return cannot_run("pinning needs root");
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	buf = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || fake_iommu_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
