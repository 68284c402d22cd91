/* SPDX-License-Identifier: MIT */
/*
 * The sysfs side of VFIO for the guest tests: find PCI devices by ID, hand
 * them to vfio-pci, and read what the kernel publishes about their IOMMU
 * (group number, reserved regions, the VT-d unit's cap/ecap registers).
 *
 * Functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef IOMMUFDD_TESTS_VFIO_SYSFS_H
#define IOMMUFDD_TESTS_VFIO_SYSFS_H

#include <stddef.h>
#include <stdint.h>

/* "0000:00:01.0" and a terminating NUL */
#define PCI_NAME_LEN 16

/*
 * Fill names[0..max) with the PCI devices whose vendor and device IDs
 * match, sorted by name; returns how many there are (possibly more than
 * max).
 */
int pci_find_devices(uint16_t vendor, uint16_t device,
		     char (*names)[PCI_NAME_LEN], int max);

/* The device's IOMMU group number. */
int pci_iommu_group(const char *name);

/*
 * Bind the device to vfio-pci through driver_override (unbinding any other
 * driver first) and wait until /dev/vfio/GROUP exists. Idempotent.
 */
int pci_bind_vfio(const char *name);

/* One line of /sys/kernel/iommu_groups/N/reserved_regions. */
struct iommu_resv_region {
	uint64_t start, end; /* inclusive */
	char type[24]; /* "msi", "direct", "direct-relaxable", ... */
};

/* Up to max regions of group; returns how many there are. */
int iommu_group_reserved_regions(int group, struct iommu_resv_region *out,
				 int max);

/*
 * The cap and ecap registers of the first Intel IOMMU in
 * /sys/class/iommu/ (its intel-iommu/cap and intel-iommu/ecap files, hex
 * without a 0x prefix). unit gets the unit's name (e.g. "dmar0").
 */
int intel_iommu_regs(char *unit, size_t unit_len, uint64_t *cap,
		     uint64_t *ecap);

/* Read a small sysfs or procfs file as one unsigned number (any base). */
int read_u64_file(const char *path, uint64_t *val);

#endif
