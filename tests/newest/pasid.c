// SPDX-License-Identifier: MIT
/*
 * iommufd_device_pasid.pasid_attach (variants no_pasid and has_pasid):
 * which HWPTs a PASID may use, attach/replace/detach and their errnos, the
 * PASID 1024 quirk of the mock, and a page request on PASID 2048 through a
 * fault-capable nested HWPT (newest-uapi.md §4, §6).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "newest.h"

struct pasid_fixture {
	int fd, ffd;
	bool pasid_capable;
	uint32_t ioas, stdev, idev, no_pasid_stdev;
	uint32_t parent, nested[3], iopf, s2, viommu, fault;
};

static long attach(struct pasid_fixture *f, uint32_t pasid, uint32_t pt)
{
	return pasid_op(f->fd, IOMMU_TEST_OP_PASID_ATTACH, f->stdev, pasid, pt);
}

static long replace(struct pasid_fixture *f, uint32_t pasid, uint32_t pt)
{
	return pasid_op(f->fd, IOMMU_TEST_OP_PASID_REPLACE, f->stdev, pasid,
			pt);
}

static long detach(struct pasid_fixture *f, uint32_t pasid)
{
	return pasid_op(f->fd, IOMMU_TEST_OP_PASID_DETACH, f->stdev, pasid, 0);
}

/* PASID_CHECK_HWPT: 0 when @hwpt (0: nothing) is on @pasid. */
static long on_pasid(struct pasid_fixture *f, uint32_t pasid, uint32_t hwpt)
{
	return pasid_op(f->fd, IOMMU_TEST_OP_PASID_CHECK_HWPT, f->stdev, pasid,
			hwpt);
}

/* The HWPTs of the test: which of them allow PASIDs is the point. */
static bool prepare(struct pasid_fixture *f)
{
	const uint32_t pasid_ok = IOMMU_HWPT_ALLOC_PASID;

	return setup_ok(hwpt_alloc(f->fd, f->idev, f->ioas,
				   IOMMU_HWPT_ALLOC_NEST_PARENT, 0, &f->parent),
			"nesting parent without ALLOC_PASID") &&
	       setup_ok(hwpt_alloc_nested(f->fd, f->idev, f->parent, pasid_ok,
					  0, &f->nested[0]),
			"nested HWPT 0 with ALLOC_PASID") &&
	       setup_ok(hwpt_alloc_nested(f->fd, f->idev, f->parent, pasid_ok,
					  0, &f->nested[1]),
			"nested HWPT 1 with ALLOC_PASID") &&
	       setup_ok(fault_alloc(f->fd, &f->fault, &f->ffd),
			"fault queue") &&
	       setup_ok(hwpt_alloc_nested(f->fd, f->idev, f->parent,
					  IOMMU_HWPT_FAULT_ID_VALID | pasid_ok,
					  f->fault, &f->iopf),
			"nested HWPT with a fault queue and ALLOC_PASID") &&
	       setup_ok(viommu_alloc(f->fd, f->idev, f->parent,
				     IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
				     &f->viommu),
			"vIOMMU") &&
	       setup_ok(hwpt_alloc_nested(f->fd, f->idev, f->viommu, pasid_ok,
					  0, &f->nested[2]),
			"nested HWPT with ALLOC_PASID on the vIOMMU") &&
	       setup_ok(hwpt_alloc(f->fd, f->idev, f->ioas, pasid_ok, 0,
				   &f->s2),
			"paging HWPT with ALLOC_PASID");
}

/* §4.1: the RID's HWPT and the PASIDs' HWPTs must agree. */
static void rid_rules(struct pasid_fixture *f)
{
	check(detach(f, 100) == 0, "detaching a PASID never attached is 0");
	check(mock_replace(f->fd, f->stdev, f->parent) == 0,
	      "RID on a HWPT without ALLOC_PASID");
	check(attach(f, 100, f->s2) == -EINVAL,
	      "then a PASID attach, even of a PASID HWPT, is EINVAL");
	check(mock_replace(f->fd, f->stdev, f->s2) == 0, "RID on a PASID HWPT");
	check(attach(f, 100, f->nested[0]) == 0, "then PASID 100 attaches");
	check(mock_replace(f->fd, f->stdev, f->parent) == -EINVAL,
	      "and moving the RID to a non-PASID HWPT is EINVAL");
	check(destroy(f->fd, f->nested[0]) == -EBUSY,
	      "DESTROY of a HWPT on a PASID is EBUSY");
	check(detach(f, 100) == 0 && on_pasid(f, 100, 0) == 0,
	      "PASID 100 detached holds nothing");
	if (f->pasid_capable)
		return;
	check(mock_replace(f->fd, f->no_pasid_stdev, f->nested[0]) == 0 &&
		      mock_replace(f->fd, f->no_pasid_stdev, f->ioas) == 0,
	      "a device without PASIDs may use a PASID HWPT on its RID");
	check(pasid_op(f->fd, IOMMU_TEST_OP_PASID_ATTACH, f->no_pasid_stdev,
		       100, f->parent) == -EINVAL &&
		      pasid_op(f->fd, IOMMU_TEST_OP_PASID_ATTACH,
			       f->no_pasid_stdev, 100, f->s2) == -EINVAL,
	      "but any PASID attach on it is EINVAL");
}

/* §4.1, §4.2: attach. */
static void attach_rules(struct pasid_fixture *f)
{
	check(attach(f, 100, f->parent) == -EINVAL && on_pasid(f, 100, 0) == 0,
	      "PASID attach of a HWPT without ALLOC_PASID is EINVAL");
	check(attach(f, 100, f->ioas) == -EINVAL && on_pasid(f, 100, 0) == 0,
	      "PASID attach of an IOAS is EINVAL");
	check(attach(f, 100, f->s2) == 0 && on_pasid(f, 100, f->s2) == 0,
	      "PASID 100 attaches to the PASID paging HWPT");
	check(attach(f, 100, f->nested[0]) == -EBUSY,
	      "attach over an attached PASID is EBUSY");
	check(on_pasid(f, 100, f->nested[0]) == -EINVAL,
	      "PASID_CHECK_HWPT of another HWPT is EINVAL");
	check(on_pasid(f, 100, 0) == -EINVAL,
	      "PASID_CHECK_HWPT of none on an attached PASID is EINVAL");
	check(on_pasid(f, 100, f->ioas) == -EINVAL,
	      "PASID_CHECK_HWPT of an IOAS is EINVAL");
	check(on_pasid(f, 100, 0xfffff) == -ENOENT,
	      "PASID_CHECK_HWPT of an unused ID is ENOENT");
	check(detach(f, 100) == 0 && on_pasid(f, 100, 0) == 0,
	      "PASID 100 detaches");
	check(attach(f, 100, f->nested[0]) == 0 &&
		      on_pasid(f, 100, f->nested[0]) == 0,
	      "PASID 100 attaches to a nested PASID HWPT");
	check(attach(f, 100, f->nested[0]) == -EBUSY,
	      "attaching it again, to the same HWPT, is EBUSY");
	detach(f, 100);
	check(attach(f, 1U << MOCK_PASID_WIDTH, f->s2) == -EINVAL,
	      "PASID 1 << %d is beyond the device: EINVAL", MOCK_PASID_WIDTH);
	check(pasid_op(f->fd, IOMMU_TEST_OP_PASID_ATTACH, f->ioas, 100,
		       f->s2) == -ENOENT,
	      "PASID_ATTACH on an IOAS ID is ENOENT");
}

/* §4.2: replace, and the mock's PASID 1024 (§6). */
static void replace_rules(struct pasid_fixture *f)
{
	check(replace(f, 200, f->s2) == -EINVAL,
	      "replace of an unattached PASID is EINVAL");
	check(attach(f, 200, f->s2) == 0 && on_pasid(f, 200, f->s2) == 0,
	      "PASID 200 attaches");
	check(replace(f, 200, f->ioas) == -EINVAL &&
		      on_pasid(f, 200, f->s2) == 0,
	      "replace with an IOAS is EINVAL and keeps the old HWPT");
	check(replace(f, 200, f->nested[0]) == 0 &&
		      on_pasid(f, 200, f->nested[0]) == 0,
	      "replace with a nested HWPT");
	check(replace(f, 200, f->nested[1]) == 0 &&
		      on_pasid(f, 200, f->nested[1]) == 0,
	      "replace with another nested HWPT");
	check(replace(f, 200, f->nested[1]) == 0 &&
		      on_pasid(f, 200, f->nested[1]) == 0,
	      "replace with the current HWPT changes nothing");
	check(detach(f, 200) == 0, "PASID 200 detaches");

	check(attach(f, IOMMU_TEST_PASID_RESERVED, f->s2) == 0,
	      "PASID 1024 attaches");
	check(replace(f, IOMMU_TEST_PASID_RESERVED, f->nested[0]) == -ENOMEM &&
		      on_pasid(f, IOMMU_TEST_PASID_RESERVED, f->s2) == 0,
	      "the mock fails its replace with ENOMEM, old HWPT kept");
	check(detach(f, IOMMU_TEST_PASID_RESERVED) == 0, "PASID 1024 detaches");
}

/* §4.4: a page request on a PASID reaches that PASID's fault queue. */
static void iopf_on_pasid(struct pasid_fixture *f)
{
	struct iommu_hwpt_pgfault rec;
	const uint32_t flags = IOMMU_PGFAULT_FLAGS_PASID_VALID |
			       IOMMU_PGFAULT_FLAGS_LAST_PAGE;

	check(attach(f, 2048, f->iopf) == 0 && on_pasid(f, 2048, f->iopf) == 0,
	      "PASID 2048 attaches to the fault-capable HWPT");
	check(trigger_iopf(f->fd, f->idev, 2048) == 0, "TRIGGER_IOPF on 2048");
	if (check(read_fault(f->ffd, &rec) == 0, "the fault is read")) {
		check(rec.flags == flags && rec.pasid == 2048 &&
			      rec.dev_id == f->idev && rec.grpid == 2 &&
			      rec.addr == 0xdeadbeaf,
		      "it is {PASID_VALID|LAST_PAGE, pasid 2048, dev %u, grpid "
		      "2, 0xdeadbeaf}",
		      f->idev);
		check(answer_fault(f->ffd, rec.cookie,
				   IOMMUFD_PAGE_RESP_SUCCESS) ==
			      (long)sizeof(struct iommu_hwpt_page_response),
		      "and answered");
	}
	check(replace(f, 2048, f->s2) == 0 && on_pasid(f, 2048, f->s2) == 0,
	      "PASID 2048 moves to the paging HWPT");
	check(detach(f, 2048) == 0 && destroy(f->fd, f->iopf) == 0,
	      "detached, the fault-capable HWPT is destroyed");
	close(f->ffd);
	f->ffd = -1;
	check(destroy(f->fd, f->fault) == 0, "and its fault queue");
	check(mock_replace(f->fd, f->stdev, f->ioas) == 0,
	      "the RID goes back to the IOAS");
}

static void pasid_variant(bool pasid_capable)
{
	const char *name = pasid_capable ? "has_pasid" : "no_pasid";
	struct pasid_fixture f = { .pasid_capable = pasid_capable, .ffd = -1 };

	note("iommufd_device_pasid.pasid_attach (%s)", name);
	f.fd = open_dev();
	if (f.fd < 0)
		return;
	if (!setup_ok(ioas_alloc(f.fd, &f.ioas), "IOAS") ||
	    !setup_ok(mock_domain(f.fd, f.ioas, MOCK_FLAGS_DEVICE_PASID,
				  &f.stdev, NULL, &f.idev),
		      "PASID-capable mock device") ||
	    (!pasid_capable &&
	     !setup_ok(mock_domain(f.fd, f.ioas, 0, &f.no_pasid_stdev, NULL,
				   NULL),
		       "mock device without PASIDs")) ||
	    !prepare(&f))
		goto out;
	rid_rules(&f);
	attach_rules(&f);
	replace_rules(&f);
	iopf_on_pasid(&f);
out:
	if (f.ffd >= 0)
		close(f.ffd);
	teardown(f.fd, NULL, 0, name);
}

void test_pasid(void)
{
	pasid_variant(false);
	pasid_variant(true);
}
