/* SPDX-License-Identifier: MIT */
/*
 * The iommufd ioctl ABI as served on /dev/iommu.
 *
 * Written from the documented facts (docs/uapi.md), not from the kernel's
 * header. Identifiers, values and layouts match Linux's
 * include/uapi/linux/iommufd.h up to IOMMU_HW_QUEUE_ALLOC (the 6.18 level),
 * plus the later purely additive values marked "after 6.18"
 * (docs/newest-uapi.md §12), so code written against the kernel names
 * builds unchanged; tests/unit/test_uapi.c locks every number and offset.
 *
 * Every command is _IO(';', nr): the number carries no size, the size lives
 * in the first __u32 of each argument struct. Structs only ever grow at the
 * end, so older callers pass a shorter size and the rest reads as zero.
 */
#ifndef IOMMUFDD_IOMMUFD_H
#define IOMMUFDD_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Older <linux/types.h> copies may lack these; the layout depends on them. */
#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif
#ifndef __aligned_le64
#define __aligned_le64 __le64 __attribute__((aligned(8)))
#endif

#define IOMMUFD_TYPE (';')

/* ioctl nr values; the full command is _IO(IOMMUFD_TYPE, nr) = 0x3b00 | nr. */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
};

/**
 * struct iommu_destroy - IOMMU_DESTROY argument
 * @size: sizeof(struct iommu_destroy)
 * @id: object to remove; fails with EBUSY while anything else still uses it
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/**
 * struct iommu_ioas_alloc - IOMMU_IOAS_ALLOC argument
 * @size: sizeof(struct iommu_ioas_alloc)
 * @flags: must be 0
 * @out_ioas_id: ID of the new, empty I/O address space
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * struct iommu_iova_range - one closed IOVA interval
 * @start: first IOVA
 * @last: last IOVA, inclusive, so a range can reach U64_MAX
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - IOMMU_IOAS_IOVA_RANGES argument
 * @size: sizeof(struct iommu_ioas_iova_ranges)
 * @ioas_id: IOAS to query
 * @num_iovas: in: capacity of @allowed_iovas; out: number of ranges that
 *             exist (EMSGSIZE when that exceeds the capacity)
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 * @out_iova_alignment: alignment MAP/COPY must honour for IOVA and length
 *
 * Reports the IOVA holes left by every attached domain and reservation; they
 * change on attach and detach, so callers re-query afterwards.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - IOMMU_IOAS_ALLOW_IOVAS argument
 * @size: sizeof(struct iommu_ioas_allow_iovas)
 * @ioas_id: IOAS to change
 * @num_iovas: number of entries at @allowed_iovas; 0 clears the list
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 *
 * Replaces the allowed list. Automatic IOVA allocation stays inside it, and
 * any later reservation (a device's, a domain aperture) that would cut into
 * it is refused, so the ranges stay usable for the life of the IOAS.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of MAP, MAP_FILE and COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: use the caller's IOVA instead of choosing one
 * @IOMMU_IOAS_MAP_WRITEABLE: devices may write through the mapping
 * @IOMMU_IOAS_MAP_READABLE: devices may read through the mapping
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - IOMMU_IOAS_MAP argument
 * @size: sizeof(struct iommu_ioas_map)
 * @flags: enum iommufd_ioas_map_flags
 * @ioas_id: IOAS to map into
 * @__reserved: must be 0
 * @user_va: start of the caller's memory
 * @length: bytes to map
 * @iova: input with FIXED_IOVA, always returned
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_map_file - IOMMU_IOAS_MAP_FILE argument
 * @size: sizeof(struct iommu_ioas_map_file)
 * @flags: enum iommufd_ioas_map_flags
 * @ioas_id: IOAS to map into
 * @fd: the caller's memfd (or dma-buf) to map from
 * @start: byte offset into the file
 * @length: bytes to map
 * @iova: as for struct iommu_ioas_map
 *
 * Same as MAP but backed by a file, which is what lets the pinned pages move
 * to another process with IOMMU_IOAS_CHANGE_PROCESS.
 */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/**
 * struct iommu_ioas_copy - IOMMU_IOAS_COPY argument
 * @size: sizeof(struct iommu_ioas_copy)
 * @flags: enum iommufd_ioas_map_flags
 * @dst_ioas_id: IOAS receiving the mapping
 * @src_ioas_id: IOAS whose mapping is reused
 * @length: bytes to copy
 * @dst_iova: input with FIXED_IOVA, always returned
 * @src_iova: start of a fully mapped range in the source
 *
 * The destination shares the source's pinned pages, so nothing is pinned
 * twice.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - IOMMU_IOAS_UNMAP argument
 * @size: sizeof(struct iommu_ioas_unmap)
 * @ioas_id: IOAS to unmap from
 * @iova: start of the range
 * @length: in: bytes to unmap; out: bytes actually unmapped
 *
 * Only whole mappings can be removed; iova 0 with length U64_MAX removes all.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/**
 * enum iommufd_option - options reachable through IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE: pin accounting, 0 per user (default) or 1 per
 *                            process; context wide, object_id must be 0
 * @IOMMU_OPTION_HUGE_PAGES: per IOAS; 0 forces PAGE_SIZE mappings
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - what IOMMU_OPTION does with val64
 * @IOMMU_OPTION_OP_SET: store val64
 * @IOMMU_OPTION_OP_GET: return the current value in val64
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - IOMMU_OPTION argument
 * @size: sizeof(struct iommu_option)
 * @option_id: enum iommufd_option
 * @op: enum iommufd_option_ops
 * @__reserved: must be 0
 * @object_id: object the option applies to, 0 for context-wide options
 * @val64: value to set, or the value read back
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/**
 * enum iommufd_vfio_ioas_op - operations of IOMMU_VFIO_IOAS
 * @IOMMU_VFIO_IOAS_GET: report the compatibility IOAS
 * @IOMMU_VFIO_IOAS_SET: make ioas_id the compatibility IOAS
 * @IOMMU_VFIO_IOAS_CLEAR: forget the compatibility IOAS
 */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/**
 * struct iommu_vfio_ioas - IOMMU_VFIO_IOAS argument
 * @size: sizeof(struct iommu_vfio_ioas)
 * @ioas_id: input for SET, output for GET
 * @op: enum iommufd_vfio_ioas_op
 * @__reserved: must be 0
 *
 * VFIO container ioctls name no IOAS, so one per context is designated to
 * serve them.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the HWPT may serve as a nesting parent
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: require dirty tracking from the IOMMU
 * @IOMMU_HWPT_FAULT_ID_VALID: fault_id names a FAULT object to report to
 * @IOMMU_HWPT_ALLOC_PASID: the domain may be attached to PASIDs
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/**
 * enum iommu_hwpt_vtd_s1_flags - attribute bits of a VT-d stage-1 table
 * @IOMMU_VTD_S1_SRE: supervisor requests
 * @IOMMU_VTD_S1_EAFE: extended access flag
 * @IOMMU_VTD_S1_WPE: write protect
 */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/**
 * struct iommu_hwpt_vtd_s1 - IOMMU_HWPT_DATA_VTD_S1 payload
 * @flags: enum iommu_hwpt_vtd_s1_flags
 * @pgtbl_addr: guest physical base of the stage-1 table
 * @addr_width: input address width of that table
 * @__reserved: must be 0
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/**
 * struct iommu_hwpt_arm_smmuv3 - IOMMU_HWPT_DATA_ARM_SMMUV3 payload
 * @ste: first two little-endian words of the guest's stream table entry
 */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};

/**
 * struct iommu_hwpt_amd_guest - IOMMU_HWPT_DATA_AMD_GUEST payload
 * @dte: the guest's 256-bit device table entry, as four u64 words
 */
struct iommu_hwpt_amd_guest {
	__aligned_u64 dte[4];
};

/**
 * enum iommu_hwpt_data_type - format of IOMMU_HWPT_ALLOC driver data
 * @IOMMU_HWPT_DATA_NONE: no data, a kernel-managed (paging) HWPT
 * @IOMMU_HWPT_DATA_VTD_S1: struct iommu_hwpt_vtd_s1
 * @IOMMU_HWPT_DATA_ARM_SMMUV3: struct iommu_hwpt_arm_smmuv3
 * @IOMMU_HWPT_DATA_AMD_GUEST: struct iommu_hwpt_amd_guest (after 6.18)
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
	IOMMU_HWPT_DATA_AMD_GUEST = 3,
};

/**
 * struct iommu_hwpt_alloc - IOMMU_HWPT_ALLOC argument
 * @size: sizeof(struct iommu_hwpt_alloc); 24 and 40 are older valid sizes
 * @flags: enum iommufd_hwpt_alloc_flags
 * @dev_id: device the HWPT must suit
 * @pt_id: IOAS (paging HWPT), or parent HWPT / vIOMMU (nested HWPT)
 * @out_hwpt_id: ID of the new HWPT
 * @__reserved: must be 0
 * @data_type: enum iommu_hwpt_data_type
 * @data_len: bytes at @data_uptr
 * @data_uptr: user pointer to the driver data
 * @fault_id: FAULT object, used only with IOMMU_HWPT_FAULT_ID_VALID
 * @__reserved2: pads to 8 bytes; must be 0
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/**
 * enum iommu_hw_info_vtd_flags - flags of struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: read-only mappings are not allowed
 *                                         in a nesting parent (SPR erratum)
 */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/**
 * struct iommu_hw_info_vtd - IOMMU_HW_INFO_TYPE_INTEL_VTD data
 * @flags: enum iommu_hw_info_vtd_flags
 * @__reserved: must be 0
 * @cap_reg: raw VT-d capability register
 * @ecap_reg: raw VT-d extended capability register
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * struct iommu_hw_info_arm_smmuv3 - IOMMU_HW_INFO_TYPE_ARM_SMMUV3 data
 * @flags: must be 0
 * @__reserved: must be 0
 * @idr: raw SMMU_IDR0..5
 * @iidr: raw SMMU_IIDR
 * @aidr: raw SMMU_AIDR
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/**
 * struct iommu_hw_info_tegra241_cmdqv - IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV data
 * @flags: must be 0
 * @version: CMDQV hardware version
 * @log2vcmdqs: log2 of the number of virtual command queues
 * @log2vsids: log2 of the number of stream ID replacements
 * @__reserved: must be 0
 */
struct iommu_hw_info_tegra241_cmdqv {
	__u32 flags;
	__u8 version;
	__u8 log2vcmdqs;
	__u8 log2vsids;
	__u8 __reserved;
};

/**
 * struct iommu_hw_info_amd - IOMMU_HW_INFO_TYPE_AMD data
 * @efr: raw Extended Feature Register
 * @efr2: raw Extended Feature 2 Register
 */
struct iommu_hw_info_amd {
	__aligned_u64 efr;
	__aligned_u64 efr2;
};

/**
 * enum iommu_hw_info_type - format of IOMMU_GET_HW_INFO data
 * @IOMMU_HW_INFO_TYPE_NONE: the driver reports no data
 * @IOMMU_HW_INFO_TYPE_DEFAULT: as input, ask for the driver's default type
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_TYPE_ARM_SMMUV3: struct iommu_hw_info_arm_smmuv3
 * @IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: struct iommu_hw_info_tegra241_cmdqv
 * @IOMMU_HW_INFO_TYPE_AMD: struct iommu_hw_info_amd (after 6.18)
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	IOMMU_HW_INFO_TYPE_AMD = 4,
};

/**
 * enum iommufd_hw_capabilities - generic bits of out_capabilities
 * @IOMMU_HW_CAP_DIRTY_TRACKING: the HWPT dirty tracking ioctls work
 * @IOMMU_HW_CAP_PCI_PASID_EXEC: PASID execute permission; meaningless when
 *                               out_max_pasid_log2 is 0
 * @IOMMU_HW_CAP_PCI_PASID_PRIV: PASID privileged mode; likewise
 * @IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED: the device cannot use ATS; a negative
 *                                      bit so that kernels that predate it
 *                                      (and report 0) read as "may use ATS"
 */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3,
};

/**
 * enum iommufd_hw_info_flags - flags of IOMMU_GET_HW_INFO
 * @IOMMU_HW_INFO_FLAG_INPUT_TYPE: in_data_type selects the data format
 */
enum iommufd_hw_info_flags {
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

/**
 * struct iommu_hw_info - IOMMU_GET_HW_INFO argument
 * @size: sizeof(struct iommu_hw_info); 32 is an older valid size
 * @flags: enum iommufd_hw_info_flags
 * @dev_id: device whose IOMMU is described
 * @data_len: in: buffer size; out: size of the driver's data
 * @data_uptr: user buffer for the driver data (tail zeroed if larger)
 * @in_data_type: requested enum iommu_hw_info_type, with INPUT_TYPE only
 * @out_data_type: enum iommu_hw_info_type of the returned data
 * @out_max_pasid_log2: PASID width, 0 without PASID support
 * @__reserved: must be 0
 * @out_capabilities: enum iommufd_hw_capabilities
 *
 * The request and the reply type share a slot because a caller never needs
 * both at once; the field that was a __u32 reserved word now holds the PASID
 * width in its first byte, so the layout never changed.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__extension__ union {
		__u32 in_data_type;
		__u32 out_data_type;
	};
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/**
 * enum iommufd_hwpt_set_dirty_tracking_flags - flags of SET_DIRTY_TRACKING
 * @IOMMU_HWPT_DIRTY_TRACKING_ENABLE: start tracking; clear to stop
 */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/**
 * struct iommu_hwpt_set_dirty_tracking - IOMMU_HWPT_SET_DIRTY_TRACKING arg
 * @size: sizeof(struct iommu_hwpt_set_dirty_tracking)
 * @flags: enum iommufd_hwpt_set_dirty_tracking_flags
 * @hwpt_id: paging HWPT to change
 * @__reserved: must be 0
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/**
 * enum iommufd_hwpt_get_dirty_bitmap_flags - flags of GET_DIRTY_BITMAP
 * @IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR: leave the dirty state in place,
 *                                        for a read just before an unmap
 */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/**
 * struct iommu_hwpt_get_dirty_bitmap - IOMMU_HWPT_GET_DIRTY_BITMAP argument
 * @size: sizeof(struct iommu_hwpt_get_dirty_bitmap)
 * @hwpt_id: paging HWPT to read
 * @flags: enum iommufd_hwpt_get_dirty_bitmap_flags
 * @__reserved: must be 0
 * @iova: IOVA described by bit 0
 * @length: bytes of IOVA covered
 * @page_size: bytes per bit
 * @data: user pointer to the bitmap; bits are ORed in, never cleared
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/**
 * enum iommu_hwpt_invalidate_data_type - format of invalidation entries
 * @IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: struct iommu_hwpt_vtd_s1_invalidate
 * @IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3:
 *	struct iommu_viommu_arm_smmuv3_invalidate, sent to a vIOMMU
 */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

/**
 * enum iommu_hwpt_vtd_s1_invalidate_flags - flags of a VT-d invalidation
 * @IOMMU_VTD_INV_FLAGS_LEAF: only leaf entries changed, keep the paging
 *                            structure caches
 */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/**
 * struct iommu_hwpt_vtd_s1_invalidate - one VT-d stage-1 invalidation
 * @addr: 4 KiB aligned start
 * @npages: number of 4 KiB pages; addr 0 with U64_MAX means everything
 * @flags: enum iommu_hwpt_vtd_s1_invalidate_flags
 * @__reserved: must be 0
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct iommu_viommu_arm_smmuv3_invalidate - one SMMUv3 CMDQ command
 * @cmd: the 128-bit command, little-endian
 */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};

/**
 * struct iommu_hwpt_invalidate - IOMMU_HWPT_INVALIDATE argument
 * @size: sizeof(struct iommu_hwpt_invalidate)
 * @hwpt_id: nested HWPT or vIOMMU whose caches to flush
 * @data_uptr: user pointer to @entry_num entries of @entry_len bytes
 * @data_type: enum iommu_hwpt_invalidate_data_type of every entry
 * @entry_len: bytes per entry, so entries may grow later
 * @entry_num: in: entries given; out: entries handled, also on failure
 * @__reserved: must be 0
 *
 * @entry_num 0 only checks that @data_type is supported.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/**
 * enum iommu_hwpt_pgfault_flags - flags of struct iommu_hwpt_pgfault
 * @IOMMU_PGFAULT_FLAGS_PASID_VALID: @pasid is meaningful
 * @IOMMU_PGFAULT_FLAGS_LAST_PAGE: last request of its group; answer this one
 */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
};

/**
 * enum iommu_hwpt_pgfault_perm - access a page request asks for
 * @IOMMU_PGFAULT_PERM_READ: read
 * @IOMMU_PGFAULT_PERM_WRITE: write
 * @IOMMU_PGFAULT_PERM_EXEC: execute (PASID prefix bit)
 * @IOMMU_PGFAULT_PERM_PRIV: privileged mode (PASID prefix bit)
 */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = 1 << 0,
	IOMMU_PGFAULT_PERM_WRITE = 1 << 1,
	IOMMU_PGFAULT_PERM_EXEC = 1 << 2,
	IOMMU_PGFAULT_PERM_PRIV = 1 << 3,
};

/**
 * struct iommu_hwpt_pgfault - one page request, read from a FAULT fd
 * @flags: enum iommu_hwpt_pgfault_flags
 * @dev_id: device that faulted
 * @pasid: PASID, with IOMMU_PGFAULT_FLAGS_PASID_VALID
 * @grpid: page request group index
 * @perm: enum iommu_hwpt_pgfault_perm
 * @__reserved: 0
 * @addr: faulting address
 * @length: prefetch hint in bytes, 0 if none
 * @cookie: echo in struct iommu_hwpt_page_response to answer the group
 */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/**
 * enum iommufd_page_response_code - answer to a page request group
 * @IOMMUFD_PAGE_RESP_SUCCESS: pages are in place, the device retries
 * @IOMMUFD_PAGE_RESP_INVALID: the request cannot be served, do not retry
 */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/**
 * struct iommu_hwpt_page_response - one answer, written to a FAULT fd
 * @cookie: cookie of the group's last request
 * @code: enum iommufd_page_response_code
 */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/**
 * struct iommu_fault_alloc - IOMMU_FAULT_QUEUE_ALLOC argument
 * @size: sizeof(struct iommu_fault_alloc)
 * @flags: must be 0
 * @out_fault_id: ID of the new FAULT object
 * @out_fault_fd: fd in the caller for reading requests and writing answers
 */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/**
 * enum iommu_viommu_type - kind of virtual IOMMU
 * @IOMMU_VIOMMU_TYPE_DEFAULT: reserved, refused
 * @IOMMU_VIOMMU_TYPE_ARM_SMMUV3: ARM SMMUv3
 * @IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV: SMMUv3 with the Tegra241 CMDQV extension
 * @IOMMU_VIOMMU_TYPE_AMD: AMD hardware vIOMMU (after 6.18)
 */
enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
	IOMMU_VIOMMU_TYPE_AMD = 3,
};

/**
 * struct iommu_viommu_tegra241_cmdqv - TEGRA241_CMDQV vIOMMU data
 * @out_vintf_mmap_offset: mmap offset of the VINTF page 0 on the iommufd fd
 * @out_vintf_mmap_length: mmap length of that page
 */
struct iommu_viommu_tegra241_cmdqv {
	__aligned_u64 out_vintf_mmap_offset;
	__aligned_u64 out_vintf_mmap_length;
};

/**
 * struct iommu_viommu_alloc - IOMMU_VIOMMU_ALLOC argument
 * @size: sizeof(struct iommu_viommu_alloc); 24 is an older valid size
 * @flags: must be 0
 * @type: enum iommu_viommu_type
 * @dev_id: device whose physical IOMMU backs the vIOMMU
 * @hwpt_id: nesting parent HWPT the vIOMMU sits on
 * @out_viommu_id: ID of the new vIOMMU
 * @data_len: bytes at @data_uptr
 * @__reserved: must be 0
 * @data_uptr: user pointer to in/out driver data
 */
struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

/**
 * struct iommu_vdevice_alloc - IOMMU_VDEVICE_ALLOC argument
 * @size: sizeof(struct iommu_vdevice_alloc)
 * @viommu_id: vIOMMU the device is seen through
 * @dev_id: the physical device
 * @out_vdevice_id: ID of the new vDEVICE
 * @virt_id: the device's ID as the guest sees it (vSID, vRID, ...)
 */
struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

/**
 * struct iommu_ioas_change_process - IOMMU_IOAS_CHANGE_PROCESS argument
 * @size: sizeof(struct iommu_ioas_change_process)
 * @__reserved: must be 0
 *
 * Moves the pin accounting of every file-backed mapping to the calling
 * process, for handing a live device to a new process.
 */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};
#define IOMMU_IOAS_CHANGE_PROCESS \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/**
 * enum iommu_veventq_flag - flags of struct iommufd_vevent_header
 * @IOMMU_VEVENTQ_FLAG_LOST_EVENTS: events were dropped; no data follows
 */
enum iommu_veventq_flag {
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = 1U << 0,
};

/**
 * struct iommufd_vevent_header - precedes each record read from a vEVENTQ fd
 * @flags: enum iommu_veventq_flag
 * @sequence: per-queue counter in [0, INT_MAX], wrapping to 0; a gap tells
 *            the reader how many events were lost
 */
struct iommufd_vevent_header {
	__u32 flags;
	__u32 sequence;
};

/**
 * enum iommu_veventq_type - kind of virtual event queue
 * @IOMMU_VEVENTQ_TYPE_DEFAULT: reserved, refused
 * @IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: struct iommu_vevent_arm_smmuv3 records
 * @IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: struct iommu_vevent_tegra241_cmdqv
 */
enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
};

/**
 * struct iommu_vevent_arm_smmuv3 - SMMUv3 event record for the guest
 * @evt: the 256-bit record, little-endian, with the virtual stream ID
 */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};

/**
 * struct iommu_vevent_tegra241_cmdqv - Tegra241 CMDQV error interrupt
 * @lvcmdq_err_map: 128-bit logical VCMDQ error map, little-endian
 */
struct iommu_vevent_tegra241_cmdqv {
	__aligned_le64 lvcmdq_err_map[2];
};

/**
 * struct iommu_veventq_alloc - IOMMU_VEVENTQ_ALLOC argument
 * @size: sizeof(struct iommu_veventq_alloc)
 * @flags: must be 0
 * @viommu_id: vIOMMU whose events the queue carries
 * @type: enum iommu_veventq_type; one queue per type and vIOMMU
 * @veventq_depth: events held before new ones are lost
 * @out_veventq_id: ID of the new vEVENTQ
 * @out_veventq_fd: fd in the caller to read records from
 * @__reserved: must be 0
 */
struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 veventq_depth;
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

/**
 * enum iommu_hw_queue_type - kind of hardware-accelerated queue
 * @IOMMU_HW_QUEUE_TYPE_DEFAULT: reserved, refused
 * @IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV: Tegra241 virtual command queue
 */
enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

/**
 * struct iommu_hw_queue_alloc - IOMMU_HW_QUEUE_ALLOC argument
 * @size: sizeof(struct iommu_hw_queue_alloc)
 * @flags: must be 0
 * @viommu_id: vIOMMU the queue belongs to
 * @type: enum iommu_hw_queue_type
 * @index: queue number within @type on this vIOMMU
 * @out_hw_queue_id: ID of the new HW queue
 * @nesting_parent_iova: guest physical base of the queue memory
 * @length: bytes of queue memory
 */
struct iommu_hw_queue_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 index;
	__u32 out_hw_queue_id;
	__aligned_u64 nesting_parent_iova;
	__aligned_u64 length;
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

#endif /* IOMMUFDD_IOMMUFD_H */
