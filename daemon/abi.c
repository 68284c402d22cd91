// SPDX-License-Identifier: MIT
/*
 * The differences between Debian's 6.12 kernel and the newest one (7.2),
 * one row each, as docs/newest-uapi.md §11 measures and cites them. Rows
 * the spec marks keep-N (6.12 kernel behaviour that Debian's own 6.12
 * selftests reject) are not here: every level answers them as the newest
 * kernel does.
 */
#include <errno.h>
#include <string.h>

#include "abi.h"
#include "util.h"

enum iommufd_abi_level iommufd_abi = ABI_7_2;

const struct abi_entry abi_table[ABI_NR_DIFFERENCES] = {
	[ABI_NEW_IOCTLS] = {
		"abi-new-ioctls", ABI_7_2,
		"IOAS_MAP_FILE, VIOMMU_ALLOC, VDEVICE_ALLOC, IOAS_CHANGE_PROCESS, VEVENTQ_ALLOC and HW_QUEUE_ALLOC read the size word, then ENOTTY",
		"implemented",
	},
	[ABI_INVALIDATE_NON_NESTED] = {
		"invalidate-non-nested", ABI_7_2,
		"HWPT_INVALIDATE of an existing object that is no nested HWPT: ENOENT",
		"EINVAL (a vIOMMU is invalidated)",
	},
	[ABI_HWPT_ALLOC_PASID] = {
		"hwpt-alloc-pasid", ABI_7_2,
		"HWPT_ALLOC with IOMMU_HWPT_ALLOC_PASID: EOPNOTSUPP",
		"accepted, the HWPT may serve PASIDs",
	},
	[ABI_HWPT_ALLOC_FAULT_PAGING] = {
		"hwpt-alloc-fault-paging", ABI_7_2,
		"HWPT_ALLOC of a paging HWPT with FAULT_ID_VALID: EOPNOTSUPP",
		"accepted, unless with NEST_PARENT (EOPNOTSUPP)",
	},
	[ABI_TEST_OPS_NEWEST] = {
		"test-ops-newest", ABI_7_2,
		"IOMMU_TEST_CMD ops 16-21 (DEV_CHECK_CACHE, TRIGGER_VEVENT, PASID_ATTACH, PASID_REPLACE, PASID_DETACH, PASID_CHECK_HWPT): EOPNOTSUPP",
		"implemented",
	},
	[ABI_DIRTY_BITMAP_ZERO_LENGTH] = {
		"dirty-bitmap-zero-length", ABI_7_2,
		"HWPT_GET_DIRTY_BITMAP of length 0: EINVAL",
		"no such check: EOVERFLOW for iova != 0, the alignment rules for iova 0",
	},
	[ABI_HW_INFO_ATS] = {
		"hw-info-ats", ABI_7_2,
		"GET_HW_INFO never sets IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED",
		"set for every device without ATS (every mock device)",
	},
	[ABI_MOCK_HUGE_IOVA] = {
		"mock-huge-iova", ABI_7_2,
		"MOCK_FLAGS_DEVICE_HUGE_IOVA: the device's domains use 1 MiB IO pages",
		"EINVAL, an unknown device flag (huge pages come from the HWPT's selftest data)",
	},
	[ABI_MOCK_HWPT_SELFTEST_DATA] = {
		"mock-hwpt-selftest-data", ABI_7_2,
		"paging HWPT_ALLOC with driver data: EOPNOTSUPP; nested selftest data exactly 4 bytes",
		"paging accepts {iotlb, pagetable_type} (4-8 bytes; type 0 default, 1 huge); nested data 4-8 bytes",
	},
	[ABI_MOCK_DIRTY_OP] = {
		"mock-dirty-op", ABI_7_2,
		"TEST_OP_DIRTY marks IO page iova / page_size + i and counts present entries",
		"marks the page at iova + i * page_size and counts every bit set",
	},
	[ABI_MMAP] = {
		"mmap", ABI_7_2,
		"mmap() of /dev/iommu: ENODEV (the file has no mmap)",
		"a vIOMMU's region at its out_mmap_offset (under iommufd-run)",
	},
};

int abi_level_parse(const char *name, enum iommufd_abi_level *level)
{
	if (!strcmp(name, "6.12"))
		*level = ABI_6_12;
	else if (!strcmp(name, "7.2") || !strcmp(name, "newest"))
		*level = ABI_7_2;
	else
		return -EINVAL;
	return 0;
}

const char *abi_level_name(enum iommufd_abi_level level)
{
	return level == ABI_6_12 ? "6.12" : "7.2";
}
