// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 container ioctls on an iommufd file (uapi.md §6). They
 * carry no IOAS id, so all of them act on the context's compat IOAS, and
 * ENODEV says there is none.
 */
#include <errno.h>
#include <string.h>

#include <iommufd/vfio_compat.h>

#include "backend.h"
#include "iommufd_private.h"
#include "uaccess.h"

struct iommufd_ioas *iommufd_vfio_compat_ioas_get(struct iommufd_ctx *ictx)
{
	if (!ictx->vfio_ioas)
		return NULL;
	iommufd_object_get(&ictx->vfio_ioas->obj);
	return ictx->vfio_ioas;
}

int iommufd_vfio_api_version(struct iommufd_ucmd *ucmd)
{
	(void)ucmd;
	return VFIO_API_VERSION;
}

int iommufd_vfio_check_extension(struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_ioas *ioas;
	int ret = 1;

	switch (ucmd->ubuffer) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		ioas = iommufd_vfio_compat_ioas_get(ictx);
		if (!ioas)
			return -ENODEV;
		list_for_each_entry(hwpt_paging, &ioas->hwpt_list, hwpt_item)
			if (!hwpt_paging->enforce_cache_coherency)
				ret = 0;
		iommufd_put_object(ictx, &ioas->obj);
		return ret;
	default:
		/* NOIOMMU, nesting, vaddr update, SPAPR, EEH: not offered. */
		return 0;
	}
}

int iommufd_vfio_set_iommu(struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	uint64_t type = ucmd->ubuffer;
	struct iommufd_ioas *ioas;
	int ret = 0;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	ioas = iommufd_vfio_compat_ioas_get(ictx);
	if (!ioas)
		return -ENODEV;
	/* Type1 (v1) may unmap part of a mapping: map page by page. */
	if (type == VFIO_TYPE1_IOMMU)
		ret = iopt_disable_large_pages(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	return ret;
}

static uint64_t vfio_pagesizes(struct iommufd_ioas *ioas)
{
	struct io_pagetable *iopt = &ioas->iopt;
	uint64_t pgsizes = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < iopt->ndomains; i++)
		pgsizes &= iopt->domains[i]->pgsize_bitmap;
	pgsizes = (pgsizes & ~(PAGE_SIZE - 1)) | PAGE_SIZE;
	return pgsizes > iopt->iova_alignment ? pgsizes : iopt->iova_alignment;
}

/*
 * The capability chain is written in order, each capability only where it
 * fits in argsz; its size counts either way so argsz can say what is needed.
 */
struct cap_writer {
	const struct ucaller *caller;
	uint64_t base; /* the caller's info struct */
	uint32_t argsz;
	uint64_t offset; /* where the next capability goes */
	uint64_t last_cap; /* offset of the previous capability, or 0 */
};

static int cap_put(struct cap_writer *w, uint64_t at, const void *data,
		   uint64_t len)
{
	if (at + len > w->argsz)
		return 0;
	return copy_to_user(w->caller, w->base + at, data, len) ? -EFAULT : 0;
}

static int cap_link(struct cap_writer *w, uint64_t size)
{
	uint32_t next = w->offset;

	if (w->last_cap && w->argsz >= w->offset &&
	    copy_to_user(w->caller,
			 w->base + w->last_cap +
				 offsetof(struct vfio_info_cap_header, next),
			 &next, sizeof(next)))
		return -EFAULT;
	w->last_cap = w->offset;
	w->offset += ALIGN_UP_U64(size, 8);
	return 0;
}

static int cap_dma_avail(struct cap_writer *w, struct iommufd_ioas *ioas)
{
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			    .version = 1 },
		/* No fixed mapping limit here: say "as many as you like". */
		.avail = UINT32_MAX,
	};
	int ret;

	(void)ioas;
	ret = cap_put(w, w->offset, &cap, sizeof(cap));
	return ret ? ret : cap_link(w, sizeof(cap));
}

static int cap_iova_range(struct cap_writer *w, struct iommufd_ioas *ioas)
{
	struct vfio_iommu_type1_info_cap_iova_range cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			    .version = 1 },
	};
	struct itree_span span;
	uint64_t total;
	int ret;

	for (itree_span_first(&span, &ioas->iopt.reserved_itree, NULL, 0,
			      UINT64_MAX);
	     !itree_span_done(&span); itree_span_next(&span)) {
		struct vfio_iova_range range = {
			.start = span.span_start,
			.end = span.span_last,
		};

		if (!span.is_hole)
			continue;
		ret = cap_put(w,
			      w->offset + sizeof(cap) +
				      (uint64_t)cap.nr_iovas * sizeof(range),
			      &range, sizeof(range));
		if (ret)
			return ret;
		cap.nr_iovas++;
	}
	total = sizeof(cap) +
		(uint64_t)cap.nr_iovas * sizeof(struct vfio_iova_range);
	/* The header only where the whole capability fits, as the kernel. */
	if (w->offset + total <= w->argsz) {
		ret = cap_put(w, w->offset, &cap, sizeof(cap));
		if (ret)
			return ret;
	}
	return cap_link(w, total);
}

int iommufd_vfio_get_info(struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	const struct ucaller *caller = ucmd->caller;
	uint64_t arg = ucmd->ubuffer;
	const size_t minsz =
		offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_iommu_type1_info info = { 0 };
	struct cap_writer w = { .caller = caller, .base = arg };
	struct iommufd_ioas *ioas;
	int ret;

	if (copy_from_user(caller, &info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ioas = iommufd_vfio_compat_ioas_get(ictx);
	if (!ioas)
		return -ENODEV;

	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = vfio_pagesizes(ioas);
	info.cap_offset = 0;
	w.argsz = info.argsz;
	w.offset = sizeof(info);
	ret = cap_dma_avail(&w, ioas);
	if (!ret)
		ret = cap_iova_range(&w, ioas);
	if (!ret) {
		if (info.argsz >= w.offset)
			info.cap_offset = sizeof(info);
		info.argsz = w.offset;
		if (copy_to_user(caller, arg, &info,
				 w.argsz < sizeof(info) ? w.argsz :
							  sizeof(info)))
			ret = -EFAULT;
	}
	iommufd_put_object(ictx, &ioas->obj);
	return ret;
}

int iommufd_vfio_map_dma(struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	const struct ucaller *caller = ucmd->caller;
	uint64_t arg = ucmd->ubuffer;
	const uint32_t valid = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_iommu_type1_dma_map map;
	struct iommufd_ioas *ioas;
	uint64_t iova;
	int prot = IOMMU_CACHE, ret;

	if (copy_from_user(caller, &map, arg, sizeof(map)))
		return -EFAULT;
	if (map.argsz < sizeof(map) || (map.flags & ~valid))
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	ioas = iommufd_vfio_compat_ioas_get(ictx);
	if (!ioas)
		return -ENODEV;
	iova = map.iova;
	ret = iommufd_ioas_map_user(ioas, caller, ictx->account_mm, map.vaddr,
				    map.size, &iova, prot, IOPT_MAP_FIXED_IOVA);
	iommufd_put_object(ictx, &ioas->obj);
	return ret;
}

int iommufd_vfio_unmap_dma(struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	const struct ucaller *caller = ucmd->caller;
	uint64_t arg = ucmd->ubuffer;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int ret;

	if (copy_from_user(caller, &unmap, arg, sizeof(unmap)))
		return -EFAULT;
	if (unmap.argsz < sizeof(unmap) ||
	    (unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	ioas = iommufd_vfio_compat_ioas_get(ictx);
	if (!ioas)
		return -ENODEV;

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size) {
			ret = -EINVAL;
			goto out_put;
		}
		ret = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		/* Type1 v1 may unmap part of a mapping: cut it out first. */
		if (ioas->iopt.disable_large_pages) {
			uint64_t cuts[2] = { unmap.iova + unmap.size - 1,
					     unmap.iova - 1 };

			ret = iopt_cut_iova(&ioas->iopt, cuts,
					    unmap.iova ? 2 : 1);
			if (ret)
				goto out_put;
		}
		ret = iopt_unmap_iova(&ioas->iopt, unmap.iova, unmap.size,
				      &unmapped);
	}
	/* The size goes back even when the unmap failed partway. */
	unmap.size = unmapped;
	if (copy_to_user(caller, arg, &unmap, sizeof(unmap)))
		ret = -EFAULT;
out_put:
	iommufd_put_object(ictx, &ioas->obj);
	return ret;
}
