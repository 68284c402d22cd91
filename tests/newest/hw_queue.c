// SPDX-License-Identifier: MIT
/*
 * iommufd_viommu.hw_queue: HW queues of the selftest vIOMMU, their checks,
 * the pinning that makes their memory unmappable, and the order they must
 * be created and destroyed in (newest-uapi.md §3.6, §7.3).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "newest.h"

static void arg_rules(struct viommu_fixture *f, uint64_t iova)
{
	struct {
		const char *what;
		struct iommu_hw_queue_alloc cmd;
		long expect;
	} cases[] = {
		{ "type DEFAULT",
		  { .viommu_id = f->viommu,
		    .length = 4096,
		    .nesting_parent_iova = iova },
		  -EOPNOTSUPP },
		{ "flags 1",
		  { .flags = 1,
		    .viommu_id = f->viommu,
		    .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
		    .nesting_parent_iova = iova,
		    .length = 4096 },
		  -EOPNOTSUPP },
		{ "length 0",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
		    .nesting_parent_iova = iova },
		  -EINVAL },
		{ "iova ~0",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
		    .nesting_parent_iova = ~0ULL,
		    .length = 4096 },
		  -EOVERFLOW },
		{ "an IOAS as vIOMMU",
		  { .viommu_id = f->ioas,
		    .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
		    .nesting_parent_iova = iova,
		    .length = 4096 },
		  -ENOENT },
		{ "a type the mock lacks",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
		    .nesting_parent_iova = iova,
		    .length = 4096 },
		  -EOPNOTSUPP },
		{ "unmapped IOVA",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
		    .nesting_parent_iova = iova,
		    .length = 4096 },
		  -ENOENT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cases[i].cmd.size = sizeof(cases[i].cmd);
		check(ioc(f->fd, IOMMU_HW_QUEUE_ALLOC, &cases[i].cmd) ==
			      cases[i].expect,
		      "HW_QUEUE_ALLOC with %s is %s", cases[i].what,
		      strerror((int)-cases[i].expect));
	}
}

void test_hw_queue(void)
{
	const uint32_t type = IOMMU_HW_QUEUE_TYPE_SELFTEST;
	uint64_t iova = MOCK_APERTURE_START, iova2 = 0;
	struct viommu_fixture f;
	uint32_t q0, q1, next;

	note("iommufd_viommu.hw_queue");
	if (!viommu_setup(&f, true))
		return;
	arg_rules(&f, iova);
	if (!setup_ok(ioas_map(f.fd, f.ioas, f.buf, page_size, &iova, false),
		      "map page 0") ||
	    !setup_ok(ioas_map(f.fd, f.ioas, (char *)f.buf + page_size,
			       page_size, &iova2, false),
		      "map page 1"))
		goto out;
	check(hw_queue_alloc(f.fd, f.viommu, type, 1, iova, page_size, NULL) ==
		      -EIO,
	      "index 1 before index 0 is EIO");
	check(hw_queue_alloc(f.fd, f.viommu, type, IOMMU_TEST_HW_QUEUE_MAX,
			     iova, page_size, NULL) == -EINVAL,
	      "index %d is EINVAL", IOMMU_TEST_HW_QUEUE_MAX);
	if (!check(hw_queue_alloc(f.fd, f.viommu, type, 0, iova, page_size,
				  &q0) == 0,
		   "index 0 on the first mapped page"))
		goto out;
	check(hw_queue_alloc(f.fd, f.viommu, type, 0, iova, page_size, NULL) ==
		      -EEXIST,
	      "index 0 again is EEXIST");
	/* §3.6 step 7: the queue's own access object took the next ID. */
	check(destroy(f.fd, q0 + 1) == -EBUSY,
	      "the ID after the queue's is its internal access: EBUSY");
	if (setup_ok(ioas_alloc(f.fd, &next), "IOAS after the queue")) {
		check(next == q0 + 2, "so the next object gets ID %u (got %u)",
		      q0 + 2, next);
		destroy(f.fd, next);
	}
	check(ioas_unmap(f.fd, f.ioas, iova, page_size) == -EBUSY,
	      "unmapping the queue's page is EBUSY");
	check(ioas_unmap(f.fd, f.ioas, iova2, page_size) == 0,
	      "the page beside it unmaps");
	check(destroy(f.fd, f.viommu) == -EBUSY,
	      "DESTROY of the vIOMMU with a queue is EBUSY");
	if (check(hw_queue_alloc(f.fd, f.viommu, type, 1, iova + page_size / 2,
				 page_size / 2, &q1) == 0,
		  "index 1: half a page at an unaligned IOVA")) {
		check(destroy(f.fd, q0) == -EBUSY,
		      "DESTROY of queue 0 under queue 1 is EBUSY");
		check(destroy(f.fd, q1) == 0, "queue 1 is destroyed");
	}
	check(destroy(f.fd, q0) == 0, "then queue 0");
	check(ioas_unmap(f.fd, f.ioas, iova, page_size) == 0,
	      "and the first page unmaps");
out:
	viommu_teardown(&f, "hw_queue");
}
