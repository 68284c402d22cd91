/* SPDX-License-Identifier: MIT */
/*
 * The vfio backend's own surface (the design is at the top of
 * backend_vfio.c): binding a device of a caller's VFIO group, and the
 * group's type1 container that the backend keeps for it (vfio_group.c).
 */
#ifndef IOMMUFDD_BACKEND_VFIO_H
#define IOMMUFDD_BACKEND_VFIO_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "util.h"

extern const struct iommu_backend_ops vfio_backend_ops;

/* Gaps between the container's IOVA ranges kept, at most. */
#define VFIO_GROUP_MAX_HOLES 8

/* What the container reports after VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU). */
struct vfio_group_info {
	uint64_t pgsizes; /* iova_pgsizes */
	uint64_t aperture_start; /* first IOVA of the first range */
	uint64_t aperture_last; /* last IOVA of the last range */
	struct iommu_resv_region holes[VFIO_GROUP_MAX_HOLES];
	unsigned int nr_holes; /* gaps between the ranges (MSI window) */
	bool cache_coherent; /* VFIO_DMA_CC_IOMMU */
	uint32_t dma_avail; /* mappings it takes (dma_entry_limit) */
};

struct vfio_domain;

/*
 * One bound VFIO group: our duplicate of the caller's group file and the
 * type1 container we put the group in. Devices of one group share it, and
 * so share their DMA view: they are attached to one domain at a time.
 */
struct vfio_group {
	struct list_head item; /* on the registry (vfio_group.c) */
	const void *owner; /* the context that bound it */
	unsigned int number; /* /dev/vfio/NUMBER */
	unsigned int refs; /* bound devices */
	int group_fd;
	int container_fd;
	struct vfio_group_info info;
	struct list_head devices; /* struct vfio_device, bound */
	/* attachment, changed only by the owner's jobs (backend_vfio.c) */
	struct vfio_domain *domain;
	struct list_head domain_item; /* on domain->groups */
	unsigned int nr_attached; /* its devices attached to domain */
};

/*
 * The group @number for @owner from @group_fd (a duplicate the caller is
 * done with; taken on success, closed on failure): the existing binding
 * when @owner bound it already, else a new container. -EBUSY when another
 * context holds it or it is in a container already; -EINVAL when it is not
 * viable; -ENODEV without type1v2.
 */
struct vfio_group *vfio_group_get(const void *owner, unsigned int number,
				  int group_fd, int *err);
/* Drop a device's reference; the last one takes the group out of its container. */
void vfio_group_put(struct vfio_group *g);

/* VFIO_IOMMU_MAP_DMA of [iova, iova + len) to daemon address @vaddr. */
int vfio_group_dma_map(struct vfio_group *g, uint64_t iova, uint64_t vaddr,
		       uint64_t len, int prot);
/* VFIO_IOMMU_UNMAP_DMA of whole mappings in [iova, iova + len). */
int vfio_group_dma_unmap(struct vfio_group *g, uint64_t iova, uint64_t len);
/* VFIO_IOMMU_UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_ALL: block all DMA. */
int vfio_group_dma_unmap_all(struct vfio_group *g);
/* The number of mappings the container takes now (DMA_AVAIL), or -errno. */
int64_t vfio_group_dma_avail(struct vfio_group *g);

/* Can the host serve the backend (/dev/vfio/vfio with type1v2)? */
int vfio_group_host_check(void);

/*
 * Bind device @name of @g (a reference the device takes over) for @owner.
 * NULL and *err: -EBUSY when the device is bound already.
 */
struct iommu_device *vfio_dev_bind(struct vfio_group *g, const char *name,
				   int *err);
/* Detach the device if attached, then drop it and its group reference. */
void vfio_dev_unbind(struct iommu_device *dev);

#endif
