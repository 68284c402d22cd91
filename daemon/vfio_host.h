/* SPDX-License-Identifier: MIT */
/*
 * What the host kernel publishes about VFIO groups and the IOMMUs behind
 * them, for the vfio backend: which character devices are VFIO groups,
 * which devices a group has, its reserved IOVA regions, and the IOMMU
 * unit's registers. Everything is read from /proc and /sys, never from a
 * file a caller controls.
 *
 * Functions return 0 (or a count) or -errno.
 */
#ifndef IOMMUFDD_VFIO_HOST_H
#define IOMMUFDD_VFIO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct iommu_resv_region;

/* Look in @root (a copy of the tree, for tests) instead of "/". */
void vfio_host_set_root(const char *root);

/* The major number of VFIO group devices ("vfio" in /proc/devices). */
int vfio_host_group_major(void);

/* The group number of the VFIO group character device @rdev. */
int vfio_host_group_of_rdev(dev_t rdev);

/*
 * Is @name usable as a sysfs file name (one path component, printable,
 * not "." or "..")? Checked before any path is built from it.
 */
bool vfio_host_valid_device_name(const char *name);

/* Is @name a device of IOMMU group @group? */
bool vfio_host_group_has_device(unsigned int group, const char *name);

/*
 * The reserved regions of IOMMU group @group, as the kernel's iommufd
 * reserves them: every type but direct-relaxable (which the kernel lets
 * a domain map over). Returns how many there are; at most @max are kept.
 */
int vfio_host_resv_regions(unsigned int group, struct iommu_resv_region *out,
			   unsigned int max);

/*
 * Parse the text of a reserved_regions file ("0x%016llx 0x%016llx TYPE"
 * per line) the same way; exposed for the unit tests.
 */
int vfio_host_parse_resv_regions(const char *text,
				 struct iommu_resv_region *out,
				 unsigned int max);

/* The IOMMU unit behind a device. */
struct vfio_host_iommu {
	char unit[32]; /* "dmar0", or "" when sysfs names none */
	bool vtd; /* an Intel VT-d unit: cap and ecap are valid */
	uint64_t cap, ecap;
};

int vfio_host_device_iommu(unsigned int group, const char *name,
			   struct vfio_host_iommu *out);

#endif
