/* SPDX-License-Identifier: MIT */
/*
 * Plain VFIO for the guest tests: a type1 container, its groups, a PCI
 * device's fd, its BAR and config space. Thin wrappers over the kernel's
 * ioctls (include/uapi/linux/vfio.h) that return 0 (or an fd, or a value)
 * on success and -errno on failure, so that a test can assert the errno
 * the kernel gave.
 */
#ifndef IOMMUFDD_TESTS_VFIO_TYPE1_H
#define IOMMUFDD_TESTS_VFIO_TYPE1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* /dev/vfio/vfio, after checking the API version. */
int vfio_container_open(void);

/* VFIO_CHECK_EXTENSION: the kernel's answer (0 = no), or -errno. */
int vfio_check_extension(int container, unsigned long ext);

/* VFIO_SET_IOMMU, e.g. VFIO_TYPE1v2_IOMMU. */
int vfio_set_iommu(int container, unsigned long type);

/* /dev/vfio/GROUP, checked to be viable (all its devices bound to VFIO). */
int vfio_group_open(int group);

int vfio_group_set_container(int group_fd, int container);
int vfio_group_unset_container(int group_fd);

/* VFIO_GROUP_GET_DEVICE_FD for the PCI device called name. */
int vfio_device_open(int group_fd, const char *name);

/* VFIO_IOMMU_MAP_DMA: size bytes at vaddr, readable, and writable if asked. */
int vfio_dma_map(int container, const void *vaddr, uint64_t iova, uint64_t size,
		 bool writable);

/*
 * VFIO_IOMMU_UNMAP_DMA with flags (0 or VFIO_DMA_UNMAP_FLAG_ALL); unmapped,
 * if not NULL, gets the size the kernel reports unmapped.
 */
int vfio_dma_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags,
		   uint64_t *unmapped);

#define VFIO_INFO_MAX_RANGES 16

/* VFIO_IOMMU_GET_INFO with its capability chain decoded. */
struct vfio_type1_info {
	uint32_t flags;
	uint64_t iova_pgsizes;
	/* VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE */
	bool have_ranges;
	uint32_t nr_ranges; /* all of them; at most VFIO_INFO_MAX_RANGES kept */
	struct {
		uint64_t start, end; /* inclusive */
	} ranges[VFIO_INFO_MAX_RANGES];
	/* VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL */
	bool have_dma_avail;
	uint32_t dma_avail;
	/* VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION */
	bool have_migration;
	uint32_t mig_flags;
	uint64_t mig_pgsize_bitmap;
	uint64_t mig_max_dirty_bitmap_size;
	uint32_t cap_ids[8]; /* every capability id in chain order */
	uint32_t nr_caps;
};

int vfio_type1_get_info(int container, struct vfio_type1_info *info);

/* The device's config space: set Memory Space and Bus Master Enable. */
int vfio_pci_enable_dma(int device);

/*
 * mmap() BAR bar of the device; *len gets its size. Returns MAP_FAILED
 * with errno set on failure.
 */
void *vfio_pci_map_bar(int device, unsigned int bar, size_t *len);

#endif
