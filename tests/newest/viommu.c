// SPDX-License-Identifier: MIT
/*
 * The iommufd_viommu fixture: vIOMMU allocation and its errors, nested
 * HWPTs on a vIOMMU with and without a fault queue, the vIOMMU's mmap
 * region, vDEVICEs and their tombstones, and invalidation through the
 * vIOMMU (newest-uapi.md §2, §3.1-§3.4, §5, §7.1). The vEVENTQ and the HW
 * queue tests are in veventq.c and hw_queue.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "newest.h"

bool viommu_setup(struct viommu_fixture *f, bool with_viommu)
{
	*f = (struct viommu_fixture){ .len = 8 * page_size };
	f->fd = open_dev();
	if (f->fd < 0)
		return false;
	f->buf = mmap(NULL, f->len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->buf == MAP_FAILED) {
		f->buf = NULL;
		setup_ok(-errno, "buffer");
		goto fail;
	}
	memset(f->buf, 0x5a, f->len);
	if (!setup_ok(ioas_alloc(f->fd, &f->ioas), "IOAS"))
		goto fail;
	if (!with_viommu)
		return true;
	if (setup_ok(mock_domain(f->fd, f->ioas, 0, &f->stdev, NULL, &f->idev),
		     "mock device") &&
	    setup_ok(hwpt_alloc(f->fd, f->idev, f->ioas,
				IOMMU_HWPT_ALLOC_NEST_PARENT, 0, &f->parent),
		     "nesting parent HWPT") &&
	    setup_ok(viommu_alloc(f->fd, f->idev, f->parent,
				  IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
				  &f->viommu),
		     "selftest vIOMMU") &&
	    setup_ok(hwpt_alloc_nested(f->fd, f->idev, f->viommu, 0, 0,
				       &f->nested),
		     "nested HWPT on the vIOMMU"))
		return true;
fail:
	/* The set-up failure is reported; nothing of the fixture is tested. */
	close(f->fd);
	if (f->buf)
		munmap(f->buf, f->len);
	return false;
}

void viommu_teardown(struct viommu_fixture *f, const char *name)
{
	if (f->fd >= 0)
		teardown(f->fd, f->buf, f->len, name);
	if (f->buf)
		munmap(f->buf, f->len);
	f->fd = -1;
	f->buf = NULL;
}

/* no_viommu: the fixture's IDs are 0, and 0 is never an object. */
static void no_viommu(void)
{
	struct viommu_fixture f;

	if (!viommu_setup(&f, false))
		return;
	check(viommu_alloc(f.fd, 0, 0, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
			   NULL) == -ENOENT,
	      "no_viommu: VIOMMU_ALLOC with device 0 is ENOENT");
	check(vdevice_alloc(f.fd, 0, 0, 0x99, NULL) == -ENOENT,
	      "no_viommu: VDEVICE_ALLOC with vIOMMU 0 is ENOENT");
	viommu_teardown(&f, "iommufd_viommu.no_viommu");
}

/* viommu_auto_destroy: close() with the vIOMMU and nested HWPT alive. */
static void auto_destroy(void)
{
	struct viommu_fixture f;

	if (viommu_setup(&f, true))
		viommu_teardown(&f, "viommu_auto_destroy");
}

static void negative_tests(void)
{
	struct viommu_alloc_case {
		const char *what;
		uint32_t flags, type, dev, hwpt;
		long expect;
	};
	struct viommu_fixture f;
	struct iommu_viommu_alloc cmd;
	uint32_t paging;

	if (!viommu_setup(&f, true))
		return;
	const struct viommu_alloc_case cases[] = {
		{ "HWPT 0", 0, IOMMU_VIOMMU_TYPE_SELFTEST, f.idev, 0, -ENOENT },
		{ "an IOAS as HWPT", 0, IOMMU_VIOMMU_TYPE_SELFTEST, f.idev,
		  f.ioas, -ENOENT },
		{ "type 0xdead", 0, 0xdead, f.idev, f.parent, -EOPNOTSUPP },
		{ "type DEFAULT", 0, IOMMU_VIOMMU_TYPE_DEFAULT, f.idev,
		  f.parent, -EOPNOTSUPP },
		{ "flags 1", 1, IOMMU_VIOMMU_TYPE_SELFTEST, f.idev, f.parent,
		  -EOPNOTSUPP },
		{ "an IOAS as device", 0, IOMMU_VIOMMU_TYPE_SELFTEST, f.ioas,
		  f.parent, -ENOENT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cmd = (struct iommu_viommu_alloc){
			.size = sizeof(cmd),
			.flags = cases[i].flags,
			.type = cases[i].type,
			.dev_id = cases[i].dev,
			.hwpt_id = cases[i].hwpt,
		};
		check(ioc(f.fd, IOMMU_VIOMMU_ALLOC, &cmd) == cases[i].expect,
		      "VIOMMU_ALLOC with %s is %s", cases[i].what,
		      strerror((int)-cases[i].expect));
	}
	if (setup_ok(hwpt_alloc(f.fd, f.idev, f.ioas, 0, 0, &paging),
		     "paging HWPT")) {
		check(viommu_alloc(f.fd, f.idev, paging,
				   IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
				   NULL) == -EINVAL,
		      "VIOMMU_ALLOC on a HWPT that is no nesting parent is "
		      "EINVAL");
		destroy(f.fd, paging);
	}
	check(destroy(f.fd, f.parent) == -EBUSY,
	      "DESTROY of the parent HWPT under a vIOMMU is EBUSY");
	check(destroy(f.fd, f.viommu) == -EBUSY,
	      "DESTROY of a vIOMMU with a nested HWPT is EBUSY");
	check(destroy(f.fd, f.nested) == 0 && destroy(f.fd, f.viommu) == 0 &&
		      destroy(f.fd, f.parent) == 0,
	      "nested HWPT, vIOMMU and parent then destroy in that order");
	viommu_teardown(&f, "viommu_negative_tests");
}

/* HWPT_ALLOC with a vIOMMU as pt_id (newest-uapi.md §3.3). */
static void nested_on_viommu(void)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc cmd;
	struct viommu_fixture f;
	struct {
		const char *what;
		uint32_t flags, type, len;
		long expect;
	} cases[] = {
		{ "no data", 0, IOMMU_HWPT_DATA_NONE, 0, -EOPNOTSUPP },
		{ "NEST_PARENT", IOMMU_HWPT_ALLOC_NEST_PARENT,
		  IOMMU_HWPT_DATA_SELFTEST, sizeof(data), -EOPNOTSUPP },
		{ "a data type the mock lacks", 0, IOMMU_HWPT_DATA_VTD_S1,
		  sizeof(data), -EOPNOTSUPP },
		{ "3 bytes of data", 0, IOMMU_HWPT_DATA_SELFTEST, 3, -EINVAL },
		/* 12: longer than the 4 bytes of N and the 8 of 7.0 */
		{ "data longer than the mock's", 0, IOMMU_HWPT_DATA_SELFTEST,
		  sizeof(data) + 8, -EINVAL },
	};
	uint32_t hwpt;

	if (!viommu_setup(&f, true))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[16] = { 0 };

		memcpy(buf, &data, sizeof(data));
		cmd = (struct iommu_hwpt_alloc){
			.size = sizeof(cmd),
			.flags = cases[i].flags,
			.dev_id = f.idev,
			.pt_id = f.viommu,
			.data_type = cases[i].type,
			.data_len = cases[i].len,
			.data_uptr = cases[i].len ? (uintptr_t)buf : 0,
		};
		check(ioc(f.fd, IOMMU_HWPT_ALLOC, &cmd) == cases[i].expect,
		      "HWPT_ALLOC on a vIOMMU with %s is %s", cases[i].what,
		      strerror((int)-cases[i].expect));
	}
	check(hwpt_alloc_nested(f.fd, f.idev, 0xfffff, 0, 0, &hwpt) == -EINVAL,
	      "HWPT_ALLOC with an unused pt_id is EINVAL");
	if (check(hwpt_alloc_nested(f.fd, f.idev, f.viommu,
				    IOMMU_HWPT_ALLOC_PASID, 0, &hwpt) == 0,
		  "HWPT_ALLOC on a vIOMMU with ALLOC_PASID"))
		destroy(f.fd, hwpt);
	check(check_iotlb(f.fd, f.nested, 0, IOMMU_TEST_IOTLB_DEFAULT) == 0,
	      "the nested HWPT's IOTLB holds the data it was given");
	viommu_teardown(&f, "HWPT_ALLOC on a vIOMMU");
}

static void check_iopf_record(const struct iommu_hwpt_pgfault *rec,
			      uint32_t idev, uint32_t pasid, const char *what)
{
	uint32_t flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE |
			 (pasid ? IOMMU_PGFAULT_FLAGS_PASID_VALID : 0);

	check(rec->flags == flags && rec->dev_id == idev &&
		      rec->pasid == pasid && rec->grpid == 2 &&
		      rec->perm == (IOMMU_PGFAULT_PERM_READ |
				    IOMMU_PGFAULT_PERM_WRITE) &&
		      rec->addr == 0xdeadbeaf,
	      "%s: the record is {flags 0x%x, dev %u, pasid %u, grpid 2, "
	      "R|W, 0xdeadbeaf} (got flags 0x%x dev %u pasid %u)",
	      what, flags, idev, pasid, rec->flags, rec->dev_id, rec->pasid);
}

/* viommu_alloc_nested_iopf (newest-uapi.md §3.3, §3.5 FAULT fd). */
static void nested_iopf(void)
{
	struct iommu_hwpt_pgfault rec;
	struct viommu_fixture f;
	uint32_t fault, iopf, vdev;
	uint8_t small[20];
	int ffd;

	if (!viommu_setup(&f, true))
		return;
	if (!setup_ok(fault_alloc(f.fd, &fault, &ffd), "fault queue"))
		goto out;
	check(hwpt_alloc_nested(f.fd, f.idev, f.viommu,
				IOMMU_HWPT_FAULT_ID_VALID, UINT32_MAX,
				&iopf) == -ENOENT,
	      "nested HWPT with fault_id UINT32_MAX is ENOENT");
	check(hwpt_alloc_nested(f.fd, f.idev, f.viommu,
				IOMMU_HWPT_FAULT_ID_VALID | (1U << 31), fault,
				&iopf) == -EOPNOTSUPP,
	      "nested HWPT with flag bit 31 is EOPNOTSUPP");
	if (!check(hwpt_alloc_nested(f.fd, f.idev, f.viommu,
				     IOMMU_HWPT_FAULT_ID_VALID, fault,
				     &iopf) == 0,
		   "nested HWPT with a fault queue on the vIOMMU"))
		goto close_fault;
	check(mock_replace(f.fd, f.stdev, iopf) == -ENOENT,
	      "attaching it without a vDEVICE is ENOENT");
	if (!setup_ok(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, &vdev),
		      "vDEVICE 0x99"))
		goto close_fault;
	check(mock_replace(f.fd, f.stdev, iopf) == 0,
	      "with a vDEVICE the device attaches to it");
	check(destroy(f.fd, iopf) == -EBUSY,
	      "DESTROY of the attached HWPT is EBUSY");
	check(destroy(f.fd, fault) == -EBUSY,
	      "DESTROY of its fault queue is EBUSY");
	check(trigger_iopf(f.fd, f.idev, 1) == 0, "TRIGGER_IOPF");
	check(read(ffd, small, sizeof(small)) < 0 && errno == ESPIPE,
	      "a fault read of less than a record is ESPIPE");
	check(read(ffd, small, 0) < 0 && errno == EINVAL,
	      "a fault read of 0 bytes with a fault pending is EINVAL");
	if (check(read_fault(ffd, &rec) == 0, "the fault is read")) {
		check_iopf_record(&rec, f.idev, 1, "nested iopf");
		check(answer_fault(ffd, rec.cookie,
				   IOMMUFD_PAGE_RESP_SUCCESS) ==
			      (long)sizeof(struct iommu_hwpt_page_response),
		      "the response is taken");
		check(answer_fault(ffd, rec.cookie,
				   IOMMUFD_PAGE_RESP_SUCCESS) == -EINVAL,
		      "a second response to the same cookie is EINVAL");
	}
	check(mock_replace(f.fd, f.stdev, f.ioas) == 0 &&
		      destroy(f.fd, iopf) == 0,
	      "after detaching, the HWPT is destroyed");
	check(destroy(f.fd, vdev) == 0, "the vDEVICE is destroyed");
close_fault:
	close(ffd);
	check(destroy(f.fd, fault) == 0, "the fault queue is destroyed");
out:
	viommu_teardown(&f, "viommu_alloc_nested_iopf");
}

/* viommu_alloc_with_data: the user data and the mmap region (§5, §7.1). */
static void with_data(void)
{
	struct iommu_viommu_selftest data = { .in_data = 0xbeef };
	struct viommu_fixture f;
	uint32_t viommu, *map;
	size_t len;
	off_t off;

	if (!viommu_setup(&f, true))
		return;
	check(viommu_alloc(f.fd, f.idev, f.parent, IOMMU_VIOMMU_TYPE_SELFTEST,
			   &data, 4, NULL) == -EINVAL,
	      "vIOMMU data shorter than 8 bytes is EINVAL");
	check(viommu_alloc(f.fd, f.idev, f.parent, IOMMU_VIOMMU_TYPE_SELFTEST,
			   &data, sizeof(data) + 8, NULL) == -EINVAL,
	      "vIOMMU data longer than the mock's is EINVAL");
	if (!check(viommu_alloc(f.fd, f.idev, f.parent,
				IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data),
				&viommu) == 0,
		   "VIOMMU_ALLOC with selftest data"))
		goto out;
	len = (size_t)data.out_mmap_length;
	off = (off_t)data.out_mmap_offset;
	check(data.out_data == data.in_data, "out_data echoes in_data");
	check(len == 2 * page_size && off >= (off_t)page_size &&
		      off % (off_t)page_size == 0,
	      "the region is 2 pages at a page-aligned offset >= 1 page "
	      "(%zu at %lld)",
	      len, (long long)off);
	check(mmap(NULL, len, PROT_READ, MAP_SHARED, f.fd,
		   off + (off_t)page_size) == MAP_FAILED &&
		      errno == ENXIO,
	      "mmap one page past the region's offset is ENXIO");
	check(mmap(NULL, len / 2, PROT_READ, MAP_SHARED, f.fd, off) ==
			      MAP_FAILED &&
		      errno == ENXIO,
	      "mmap of half the region is ENXIO");
	check(mmap(NULL, len * 2, PROT_READ, MAP_SHARED, f.fd, off) ==
			      MAP_FAILED &&
		      errno == ENXIO,
	      "mmap of twice the region is ENXIO");
	check(mmap(NULL, len, PROT_READ, MAP_PRIVATE, f.fd, off) ==
			      MAP_FAILED &&
		      errno == EINVAL,
	      "a private mmap of the region is EINVAL");
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, off);
	if (check(map != MAP_FAILED, "mmap of the region")) {
		check(map[0] == data.in_data,
		      "its first word is in_data (loopback)");
		check(destroy(f.fd, viommu) == -EBUSY,
		      "DESTROY of the vIOMMU while mapped is EBUSY");
		munmap(map, len);
	}
	check(destroy(f.fd, viommu) == 0,
	      "after munmap the vIOMMU is destroyed");
out:
	viommu_teardown(&f, "viommu_alloc_with_data");
}

/* vdevice_alloc's rules without the event queue (§3.2, §2.2). */
static void vdevice_rules(void)
{
	struct viommu_fixture f;
	uint32_t vdev, vdev2, stdev2, idev2;

	if (!viommu_setup(&f, true))
		return;
	check(mock_replace(f.fd, f.stdev, f.nested) == -ENOENT,
	      "attaching to the vIOMMU's nested HWPT without a vDEVICE is "
	      "ENOENT");
	check(vdevice_alloc(f.fd, f.ioas, f.idev, 0x99, NULL) == -ENOENT,
	      "VDEVICE_ALLOC on an IOAS is ENOENT");
	check(vdevice_alloc(f.fd, f.viommu, f.ioas, 0x99, NULL) == -ENOENT,
	      "VDEVICE_ALLOC of an IOAS is ENOENT");
	if (!check(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, &vdev) == 0,
		   "VDEVICE_ALLOC 0x99"))
		goto out;
	check(vdevice_alloc(f.fd, f.viommu, f.idev, 0x77, NULL) == -EEXIST,
	      "a second vDEVICE of the same device is EEXIST");
	if (setup_ok(mock_domain(f.fd, f.ioas, 0, &stdev2, NULL, &idev2),
		     "second mock device")) {
		check(vdevice_alloc(f.fd, f.viommu, idev2, 0x99, NULL) ==
			      -EEXIST,
		      "virt_id 0x99 for another device is EEXIST");
		if (check(vdevice_alloc(f.fd, f.viommu, idev2, 0x77, &vdev2) ==
				  0,
			  "the other device gets 0x77"))
			destroy(f.fd, vdev2);
	}
	check(mock_replace(f.fd, f.stdev, f.nested) == 0,
	      "with the vDEVICE the device attaches to the nested HWPT");
	check(mock_replace(f.fd, f.stdev, f.ioas) == 0 &&
		      destroy(f.fd, vdev) == 0,
	      "detached again, the vDEVICE is destroyed");
	if (!check(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, &vdev) == 0,
		   "virt_id 0x99 is free again"))
		goto out;
	check(destroy(f.fd, f.nested) == 0, "the nested HWPT is destroyed");
	check(destroy(f.fd, f.viommu) == -EBUSY,
	      "DESTROY of a vIOMMU whose only user is a vDEVICE is EBUSY");
	check(destroy(f.fd, vdev) == 0 && destroy(f.fd, f.viommu) == 0,
	      "after its vDEVICE the vIOMMU is destroyed");
out:
	viommu_teardown(&f, "vdevice_alloc");
}

struct inv_case {
	const char *what;
	uint32_t num, entry_len, type;
	bool null_array;
	struct iommu_viommu_invalidate_selftest req[2];
	long expect;
	uint32_t done;
};

static void invalidate_case(struct viommu_fixture *f, const struct inv_case *c)
{
	uint32_t num = c->num;
	long ret = invalidate(f->fd, f->viommu, c->null_array ? NULL : c->req,
			      c->type, c->entry_len, &num);

	check(ret == c->expect && num == c->done,
	      "vIOMMU invalidate, %s: %s with entry_num %u (got %s, %u)",
	      c->what, c->expect ? strerror((int)-c->expect) : "success",
	      c->done, ret ? strerror((int)-ret) : "success", num);
}

static void cache_expect(struct viommu_fixture *f, const uint32_t want[4],
			 const char *when)
{
	bool ok = true;

	for (uint32_t i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		ok = ok && dev_check_cache(f->fd, f->idev, i, want[i]) == 0;
	check(ok, "device cache after %s is {%x, %x, %x, %x}", when, want[0],
	      want[1], want[2], want[3]);
}

/* vdevice_cache (§3.4 mock vIOMMU invalidation). */
static void vdevice_cache(void)
{
	const uint32_t t = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST;
	const uint32_t sz = sizeof(struct iommu_viommu_invalidate_selftest);
	const uint32_t D = IOMMU_TEST_DEV_CACHE_DEFAULT;
	const struct inv_case errors[] = {
		{ "empty array", 0, sz, t, false, { { 0 } }, 0, 0 },
		{ "wrong type",
		  1,
		  sz,
		  IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
		  false,
		  { { 0 } },
		  -EINVAL,
		  0 },
		{ "entry_len + 1", 1, sz + 1, t, false, { { 0 } }, -EINVAL, 0 },
		{ "entry_len 1", 1, 1, t, false, { { 0 } }, -EINVAL, 0 },
		{ "bad flags",
		  1,
		  sz,
		  t,
		  false,
		  { { 0xffffffff, 0x99, 0 } },
		  -EOPNOTSUPP,
		  0 },
		{ "NULL array", 1, sz, t, true, { { 0 } }, -EINVAL, 0 },
		{ "entry_len 0", 1, 0, t, false, { { 0, 0x99, 0 } }, -EINVAL, 0 },
		{ "cache_id 4", 1, sz, t, false, { { 0, 0x99, 4 } }, -EINVAL, 0 },
		{ "unknown vdev_id",
		  1,
		  sz,
		  t,
		  false,
		  { { 0, 0x9, 0 } },
		  -EINVAL,
		  0 },
	};
	const struct inv_case partial[] = {
		{ "2nd entry with bad flags",
		  2,
		  sz,
		  t,
		  false,
		  { { 0, 0x99, 0 }, { 0xffffffff, 0x99, 1 } },
		  -EOPNOTSUPP,
		  1 },
		{ "2nd entry with cache_id 4",
		  2,
		  sz,
		  t,
		  false,
		  { { 0, 0x99, 0 }, { 0, 0x99, 4 } },
		  -EINVAL,
		  1 },
		{ "cache_id 1", 1, sz, t, false, { { 0, 0x99, 1 } }, 0, 1 },
		{ "cache_id 2 and 3",
		  2,
		  sz,
		  t,
		  false,
		  { { 0, 0x99, 2 }, { 0, 0x99, 3 } },
		  0,
		  2 },
	};
	const uint32_t after[][4] = {
		{ 0, D, D, D },
		{ 0, D, D, D },
		{ 0, 0, D, D },
		{ 0, 0, 0, 0 },
	};
	const struct inv_case all = {
		"FLAG_ALL", 1,
		sz,	    t,
		false,	    { { IOMMU_TEST_INVALIDATE_FLAG_ALL, 0x99, 0 } },
		0,	    1
	};
	struct viommu_fixture f;
	uint32_t vdev, stdev2, idev2;

	if (!viommu_setup(&f, true))
		return;
	if (!setup_ok(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, &vdev),
		      "vDEVICE 0x99"))
		goto out;
	check(dev_check_cache_all(f.fd, f.idev, D) == 0,
	      "a new device's cache holds the default");
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++)
		invalidate_case(&f, &errors[i]);
	check(dev_check_cache_all(f.fd, f.idev, D) == 0,
	      "failed invalidations changed nothing");
	for (size_t i = 0; i < ARRAY_SIZE(partial); i++) {
		invalidate_case(&f, &partial[i]);
		cache_expect(&f, after[i], partial[i].what);
	}
	/* FLAG_ALL must clear a device's entries and only that device's. */
	if (setup_ok(mock_domain(f.fd, f.ioas, 0, &stdev2, NULL, &idev2),
		     "second mock device") &&
	    setup_ok(vdevice_alloc(f.fd, f.viommu, idev2, 0x55, NULL),
		     "vDEVICE 0x55")) {
		invalidate_case(&f, &all);
		check(dev_check_cache_all(f.fd, f.idev, 0) == 0 &&
			      dev_check_cache_all(f.fd, idev2, D) == 0,
		      "FLAG_ALL for 0x99 left device 0x55's cache alone");
	}
	check(destroy(f.fd, vdev) == 0, "the vDEVICE is destroyed");
out:
	viommu_teardown(&f, "vdevice_cache");
}

/*
 * IDs are handed out lowest-free first, so new objects take the IDs the
 * device's teardown freed; they must step over the tombstone's.
 */
static bool tombstone_skipped(int fd, uint32_t tomb)
{
	uint32_t id = 0;

	for (int i = 0; i < 64 && id <= tomb; i++) {
		if (ioas_alloc(fd, &id) || id == tomb)
			return false;
	}
	return id > tomb;
}

/* vdevice_tombstone (§2.4). */
static void tombstone(void)
{
	struct viommu_fixture f;
	uint32_t vdev;

	if (!viommu_setup(&f, true))
		return;
	if (!setup_ok(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, &vdev),
		      "vDEVICE 0x99"))
		goto out;
	check(destroy(f.fd, f.stdev) == 0,
	      "DESTROY of a device with a vDEVICE succeeds");
	check(destroy(f.fd, vdev) == -ENOENT,
	      "the vDEVICE went with it: DESTROY is ENOENT");
	check(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, NULL) == -ENOENT,
	      "VDEVICE_ALLOC for the gone device is ENOENT");
	check(tombstone_skipped(f.fd, vdev),
	      "new objects fill the freed IDs but skip the tombstone %u", vdev);
	check(destroy(f.fd, f.nested) == 0 && destroy(f.fd, f.viommu) == 0 &&
		      destroy(f.fd, f.parent) == 0,
	      "the tombstone holds no vIOMMU: it and its HWPTs destroy");
out:
	viommu_teardown(&f, "vdevice_tombstone");
}

void test_viommu(void)
{
	note("iommufd_viommu: vIOMMU, nested HWPTs, mmap, vDEVICE");
	no_viommu();
	auto_destroy();
	negative_tests();
	nested_on_viommu();
	nested_iopf();
	with_data();
	vdevice_rules();
	vdevice_cache();
	tombstone();
}
