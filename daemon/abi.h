/* SPDX-License-Identifier: MIT */
/*
 * Which kernel's answers the daemon gives (--kernel-abi). By default the
 * newest kernel's; with 6.12, Debian's 6.12 kernel's, so that programs
 * written against it (its selftests) see exactly what that kernel does.
 *
 * Each behaviour that differs between the two is one named entry of one
 * table (abi.c, docs/newest-uapi.md §11, iommufdd(8)); code that behaves
 * differently asks abi_newest(entry) and nothing else. Commands and test
 * ops newer than the level do not exist for callers (ioctl_table.h, entries
 * abi-new-ioctls and test-ops-newest).
 */
#ifndef IOMMUFDD_ABI_H
#define IOMMUFDD_ABI_H

#include <stdbool.h>

#include "ioctl_table.h"

enum abi_difference {
	ABI_NEW_IOCTLS,
	ABI_INVALIDATE_NON_NESTED,
	ABI_HWPT_ALLOC_PASID,
	ABI_HWPT_ALLOC_FAULT_PAGING,
	ABI_TEST_OPS_NEWEST,
	ABI_DIRTY_BITMAP_ZERO_LENGTH,
	ABI_HW_INFO_ATS,
	ABI_MOCK_HUGE_IOVA,
	ABI_MOCK_HWPT_SELFTEST_DATA,
	ABI_MOCK_DIRTY_OP,
	ABI_MMAP,
	ABI_NR_DIFFERENCES,
};

struct abi_entry {
	const char *name;
	enum iommufd_abi_level since; /* the first level with the new answer */
	const char *old; /* what the levels before it answer */
	const char *newest; /* what it answers from then on */
};

extern const struct abi_entry abi_table[ABI_NR_DIFFERENCES];

/* The level in force; set once at start-up, before any request. */
extern enum iommufd_abi_level iommufd_abi;

/* Does the level in force give @what's newer answer? */
static inline bool abi_newest(enum abi_difference what)
{
	return iommufd_abi >= abi_table[what].since;
}

/* Is a command or test op of @since there for callers at this level? */
static inline bool abi_has(enum iommufd_abi_level since)
{
	return iommufd_abi >= since;
}

/* "6.12", "7.2" or "newest" to a level: 0, or -EINVAL. */
int abi_level_parse(const char *name, enum iommufd_abi_level *level);
const char *abi_level_name(enum iommufd_abi_level level);

#endif
