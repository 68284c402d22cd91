/* SPDX-License-Identifier: MIT */
/*
 * The iommufd ioctls the attacks use, as thin wrappers: each returns 0 or
 * -errno, like a handler, so a test can print what the daemon answered.
 * Only the kernel's uAPI (and our documented IOMMUFDD_TEST_OP_DEV_DMA).
 */
#ifndef IOMMUFDD_SECURITY_SEC_IOCTL_H
#define IOMMUFDD_SECURITY_SEC_IOCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <iommufd/iommufd.h>

/* Read and write, auto IOVA unless @flags has IOMMU_IOAS_MAP_FIXED_IOVA. */
#define SEC_MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

long sec_ioas_alloc(int fd, uint32_t *ioas);
long sec_destroy(int fd, uint32_t id);

/* A mock device on a domain attached to @ioas; its DEVICE id in @idev. */
long sec_mock_domain(int fd, uint32_t ioas, uint32_t *idev);

/*
 * IOAS_MAP of [va, va + len); @flags 0 means SEC_MAP_RW. *iova is the
 * fixed IOVA in, the IOVA used out.
 */
long sec_map(int fd, uint32_t ioas, const void *va, uint64_t len,
	     uint64_t *iova, uint32_t flags);
long sec_map_raw(int fd, uint32_t ioas, uint64_t va, uint64_t len,
		 uint64_t *iova, uint32_t flags);
long sec_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len);
long sec_copy(int fd, uint32_t dst_ioas, uint32_t src_ioas, uint64_t src_iova,
	      uint64_t len, uint64_t *dst_iova, uint32_t flags);

/* The mock device @idev reads (or writes) @len bytes at @iova into @buf. */
long sec_dev_dma(int fd, uint32_t idev, uint64_t iova, void *buf, uint64_t len,
		 bool write);

/* IOMMU_TEST_OP_CREATE_ACCESS (needs iommufd-run); the access fd out. */
long sec_create_access(int fd, uint32_t ioas, uint32_t flags, int *access_fd);
long sec_access_pages(int fd, int access_fd, uint64_t iova, uint64_t len,
		      uint32_t flags, uint32_t *pages_id);

long sec_allow_iovas(int fd, uint32_t ioas, uint32_t num, uint64_t ranges);

#endif
