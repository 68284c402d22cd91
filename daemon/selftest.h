/* SPDX-License-Identifier: MIT */
/*
 * IOMMU_TEST_CMD inside the daemon: the mock devices MOCK_DOMAIN creates,
 * what the op handlers share, and one handler per op (their rows, with
 * what each touches and returns, are in ioctl_table.h). Every handler
 * takes the decoded command and returns 0 or -errno.
 */
#ifndef IOMMUFDD_SELFTEST_H
#define IOMMUFDD_SELFTEST_H

#include <stdint.h>

#include <iommufd/iommufd_test.h>

#include "iommufd_private.h"

/* Accesses and device DMA move at most this much per op. */
#define MOCK_ACCESS_MAX_LENGTH (16ULL << 20)

/* A mock device and its binding: what MOCK_DOMAIN creates. */
struct selftest_obj {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct iommu_device *mock_dev;
	struct iommufd_device *idev;
};

struct mock_pgtable;

/* selftest.c */
struct selftest_obj *selftest_get_obj(struct iommufd_ctx *ictx, uint32_t id);
/* A mock paging domain by HWPT id: ENOENT for other ids, EINVAL non-mock. */
struct iommufd_hwpt_paging *selftest_get_md_pagetable(struct iommufd_ctx *ictx,
						      uint32_t id,
						      struct mock_pgtable **pt,
						      int *err);

/* selftest_check.c: the caller's page tables, read while it waits */
struct frame_reader {
	const struct ucaller *caller;
	int pagemap_fd;
};

int frame_reader_open(struct frame_reader *fr, const struct ucaller *caller,
		      const char *what);
void frame_reader_close(struct frame_reader *fr);
/*
 * The frame behind the caller's @va, faulting it in as get_user_pages
 * would. -EFAULT when nothing is mapped there; -EOPNOTSUPP (logged) when
 * the kernel hides frame numbers from the daemon.
 */
int frame_reader_frame(struct frame_reader *fr, uint64_t va, uint64_t *pfn);

#define SELFTEST_OP(name)                              \
	int selftest_##name(struct iommufd_ucmd *ucmd, \
			    struct iommu_test_cmd *cmd)

/* selftest.c */
SELFTEST_OP(add_reserved);
SELFTEST_OP(mock_domain);
SELFTEST_OP(mock_domain_flags);
SELFTEST_OP(mock_domain_replace);
SELFTEST_OP(md_check_iotlb);
SELFTEST_OP(set_temp_memory_limit);
SELFTEST_OP(dirty);
SELFTEST_OP(trigger_iopf);
SELFTEST_OP(dev_dma);
/* selftest_check.c */
SELFTEST_OP(md_check_map);
SELFTEST_OP(md_check_refs);
/* selftest_access.c */
SELFTEST_OP(create_access);
SELFTEST_OP(destroy_access_pages);
SELFTEST_OP(access_pages);
SELFTEST_OP(access_rw);
SELFTEST_OP(access_replace_ioas);
/* selftest_viommu.c */
SELFTEST_OP(dev_check_cache);
SELFTEST_OP(trigger_vevent);
/* selftest_pasid.c */
SELFTEST_OP(pasid_attach);
SELFTEST_OP(pasid_replace);
SELFTEST_OP(pasid_detach);
SELFTEST_OP(pasid_check_hwpt);

#endif
