/* SPDX-License-Identifier: MIT */
/*
 * Regions a caller maps through its iommufd (the kernel's mt_mmap, in
 * main.c and driver.c): a vIOMMU's page of the mock, in the kernel MMIO or
 * driver pages a VMA of the iommufd file maps. A FUSE or CUSE server never
 * sees an mmap() of its file, so here a region is a memfd the daemon owns
 * and never maps itself; a program run under iommufd-run gets a new
 * descriptor of it (IOMMUFDD_MMAP_REGION, iommufdd_ext.h) and maps that.
 * The iommufd side (offsets per context, the owner, the ioctl) is in
 * iommufd_private.h; this header is what the mechanism layer needs.
 */
#ifndef IOMMUFDD_MMAP_REGION_H
#define IOMMUFDD_MMAP_REGION_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Is the file (@dev, @ino) a region's memory? Such a file stands in for
 * the kernel's VM_PFNMAP | VM_IO mapping, which no pin can take: a mapping
 * of it must not become IOAS page storage. Any thread.
 */
bool mmap_region_file_is_region(dev_t dev, ino_t ino);

#endif
