/* SPDX-License-Identifier: MIT */
/*
 * The VFIO container (type1) ioctls that iommufd also answers on its fd.
 *
 * Written from docs/uapi.md §6 with the kernel's names, so a legacy VFIO
 * user can drive the daemon unchanged. Only the container subset is here;
 * group and device ioctls belong to VFIO itself.
 *
 * VFIO_TYPE is ';' like IOMMUFD_TYPE, but VFIO numbers start at 100 (0x64)
 * and iommufd's at 0x80, so one fd can serve both; VFIO_IOMMU_DIRTY_PAGES
 * (0x75) is the highest listed.
 *
 * When <linux/vfio.h> was included first it already provides all of this,
 * so the body is skipped instead of redefining its structs. Including
 * <linux/vfio.h> after this header is not supported.
 */
#ifndef IOMMUFDD_VFIO_COMPAT_H
#define IOMMUFDD_VFIO_COMPAT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef VFIO_API_VERSION

#define VFIO_API_VERSION 0

/* Extensions for VFIO_CHECK_EXTENSION; the IOMMU types for VFIO_SET_IOMMU. */
#define VFIO_TYPE1_IOMMU 1
#define VFIO_SPAPR_TCE_IOMMU 2
#define VFIO_TYPE1v2_IOMMU 3
#define VFIO_DMA_CC_IOMMU 4
#define VFIO_EEH 5
#define VFIO_TYPE1_NESTING_IOMMU 6
/* Newer kernel headers retired the nesting type under this name. */
#define __VFIO_RESERVED_TYPE1_NESTING_IOMMU 6
#define VFIO_SPAPR_TCE_v2_IOMMU 7
#define VFIO_NOIOMMU_IOMMU 8
#define VFIO_UNMAP_ALL 9
#define VFIO_UPDATE_VADDR 10

#define VFIO_TYPE (';')
#define VFIO_BASE 100

/**
 * struct vfio_info_cap_header - head of each entry in an info cap chain
 * @id: capability ID, scoped to the INFO ioctl
 * @version: layout version of this capability
 * @next: offset of the next entry from the start of the info struct, 0 last
 */
struct vfio_info_cap_header {
	__u16 id;
	__u16 version;
	__u32 next;
};

/* The argument is passed by value: no struct, no copy. */
#define VFIO_GET_API_VERSION _IO(VFIO_TYPE, VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION _IO(VFIO_TYPE, VFIO_BASE + 1)
#define VFIO_SET_IOMMU _IO(VFIO_TYPE, VFIO_BASE + 2)

/**
 * struct vfio_iommu_type1_info - VFIO_IOMMU_GET_INFO argument
 * @argsz: bytes available; set to the bytes needed for the full cap chain
 * @flags: VFIO_IOMMU_INFO_*
 * @iova_pgsizes: bitmap of supported IOMMU page sizes
 * @cap_offset: offset of the first capability, 0 if the chain did not fit
 * @pad: keeps the size a multiple of 8 on every ABI
 */
struct vfio_iommu_type1_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_INFO_PGSIZES (1 << 0)
#define VFIO_IOMMU_INFO_CAPS (1 << 1)
	__u64 iova_pgsizes;
	__u32 cap_offset;
	__u32 pad;
};

#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1

/**
 * struct vfio_iova_range - one usable IOVA interval
 * @start: first IOVA
 * @end: last IOVA, inclusive
 */
struct vfio_iova_range {
	__u64 start;
	__u64 end;
};

/**
 * struct vfio_iommu_type1_info_cap_iova_range - usable IOVA capability
 * @header: id VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, version 1
 * @nr_iovas: number of entries in @iova_ranges
 * @reserved: 0
 * @iova_ranges: the same holes IOMMU_IOAS_IOVA_RANGES reports
 */
struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	__u32 nr_iovas;
	__u32 reserved;
	struct vfio_iova_range iova_ranges[];
};

/* Defined by VFIO, never reported by iommufd (no dirty tracking here). */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2

#define VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL 3

/**
 * struct vfio_iommu_type1_info_dma_avail - mapping budget capability
 * @header: id VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, version 1
 * @avail: mappings that may still be created; iommufd has no such limit
 *         and reports U32_MAX
 */
struct vfio_iommu_type1_info_dma_avail {
	struct vfio_info_cap_header header;
	__u32 avail;
};

#define VFIO_IOMMU_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

/**
 * struct vfio_iommu_type1_dma_map - VFIO_IOMMU_MAP_DMA argument
 * @argsz: sizeof(struct vfio_iommu_type1_dma_map)
 * @flags: VFIO_DMA_MAP_FLAG_*; iommufd refuses VADDR
 * @vaddr: start of the caller's memory
 * @iova: fixed IOVA to map at
 * @size: bytes to map
 */
struct vfio_iommu_type1_dma_map {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_MAP_FLAG_READ (1 << 0)
#define VFIO_DMA_MAP_FLAG_WRITE (1 << 1)
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

#define VFIO_IOMMU_MAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 13)

/**
 * struct vfio_iommu_type1_dma_unmap - VFIO_IOMMU_UNMAP_DMA argument
 * @argsz: sizeof(struct vfio_iommu_type1_dma_unmap), plus any bitmap request
 * @flags: VFIO_DMA_UNMAP_FLAG_*; iommufd accepts only ALL
 * @iova: start of the range; 0 with ALL
 * @size: in: bytes to unmap (0 with ALL); out: bytes unmapped
 * @data: dirty bitmap request, only with GET_DIRTY_BITMAP
 */
struct vfio_iommu_type1_dma_unmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0)
#define VFIO_DMA_UNMAP_FLAG_ALL (1 << 1)
#define VFIO_DMA_UNMAP_FLAG_VADDR (1 << 2)
	__u64 iova;
	__u64 size;
	__u8 data[];
};

#define VFIO_IOMMU_UNMAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 14)

/* Defined so they can be recognised and refused with ENOTTY. */
#define VFIO_IOMMU_ENABLE _IO(VFIO_TYPE, VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE _IO(VFIO_TYPE, VFIO_BASE + 16)
#define VFIO_IOMMU_DIRTY_PAGES _IO(VFIO_TYPE, VFIO_BASE + 17)

#endif /* VFIO_API_VERSION */

#endif /* IOMMUFDD_VFIO_COMPAT_H */
