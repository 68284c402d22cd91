/* SPDX-License-Identifier: MIT */
/*
 * An edu device reached through plain VFIO, the way the tests set one up:
 * bound to vfio-pci, its group opened and put in a type1 container, its
 * device fd taken, bus mastering on and BAR0 mapped.
 */
#ifndef IOMMUFDD_TESTS_EDU_VFIO_H
#define IOMMUFDD_TESTS_EDU_VFIO_H

#include "edu.h"
#include "vfio_sysfs.h"

struct edu_vfio {
	char name[PCI_NAME_LEN]; /* "0000:00:01.0" */
	char bdf[8]; /* "00:01.0", as DMAR fault messages say */
	int group;
	int group_fd;
	int device_fd;
	struct edu edu;
};

/*
 * Find the edu devices and bind them to vfio-pci: fills devs[0..max)
 * (name, bdf, group; fds set to -1) and returns how many were found.
 */
int edu_vfio_find(struct edu_vfio *devs, int max);

/* Open the device's group; -EBUSY if it is open already (here or not). */
int edu_vfio_open_group(struct edu_vfio *dev);

/*
 * Take the device fd (its group must be in a container with an IOMMU
 * set), enable its DMA, map BAR0 and probe the device.
 */
int edu_vfio_open_device(struct edu_vfio *dev);

/*
 * Unmap BAR0 and close the device fd. Both are needed for the kernel to
 * see the device closed: the mapping holds the device file too.
 */
void edu_vfio_close_device(struct edu_vfio *dev);

/* edu_vfio_close_device, then close the group. */
void edu_vfio_close(struct edu_vfio *dev);

/*
 * A shared memory buffer of size bytes (a memfd, as a VMM's guest RAM),
 * mapped and zeroed; NULL on failure.
 */
void *memfd_buffer(const char *name, size_t size, int *fd);

#endif
