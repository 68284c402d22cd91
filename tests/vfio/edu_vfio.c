/* SPDX-License-Identifier: MIT */
/*
 * edu devices through plain VFIO (see edu_vfio.h).
 */
#define _GNU_SOURCE
#include "edu_vfio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio_type1.h"

#define EDU_MAX 16

int edu_vfio_find(struct edu_vfio *devs, int max)
{
	char names[EDU_MAX][PCI_NAME_LEN];
	int n, i, ret;

	n = pci_find_devices(EDU_VENDOR, EDU_DEVICE, names, EDU_MAX);
	if (n < 0)
		return n;
	if (n > max)
		n = max;
	if (n > EDU_MAX)
		n = EDU_MAX;
	for (i = 0; i < n; i++) {
		struct edu_vfio *d = &devs[i];

		memset(d, 0, sizeof(*d));
		memcpy(d->name, names[i], PCI_NAME_LEN);
		/* drop the PCI domain: "0000:00:01.0" -> "00:01.0" */
		snprintf(d->bdf, sizeof(d->bdf), "%s", d->name + 5);
		d->group_fd = d->device_fd = -1;
		ret = pci_bind_vfio(d->name);
		if (ret)
			return ret;
		d->group = pci_iommu_group(d->name);
		if (d->group < 0)
			return d->group;
	}
	return n;
}

int edu_vfio_open_group(struct edu_vfio *dev)
{
	int fd = vfio_group_open(dev->group);

	if (fd < 0)
		return fd;
	dev->group_fd = fd;
	return 0;
}

int edu_vfio_open_device(struct edu_vfio *dev)
{
	size_t len = 0;
	void *bar;
	int fd, ret;

	fd = vfio_device_open(dev->group_fd, dev->name);
	if (fd < 0)
		return fd;
	ret = vfio_pci_enable_dma(fd);
	if (ret)
		goto out_close;
	bar = vfio_pci_map_bar(fd, 0, &len);
	if (bar == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	dev->edu.bar0 = bar;
	dev->edu.len = len;
	ret = edu_probe(&dev->edu);
	if (ret)
		goto out_unmap;
	dev->device_fd = fd;
	return 0;

out_unmap:
	munmap(bar, len);
	dev->edu.bar0 = NULL;
out_close:
	close(fd);
	return ret;
}

void edu_vfio_close_device(struct edu_vfio *dev)
{
	if (dev->edu.bar0) {
		munmap((void *)dev->edu.bar0, dev->edu.len);
		dev->edu.bar0 = NULL;
	}
	if (dev->device_fd >= 0)
		close(dev->device_fd);
	dev->device_fd = -1;
}

void edu_vfio_close(struct edu_vfio *dev)
{
	edu_vfio_close_device(dev);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	dev->group_fd = -1;
}

void *memfd_buffer(const char *name, size_t size, int *fd)
{
	void *p;
	int mfd;

	mfd = memfd_create(name, MFD_CLOEXEC);
	if (mfd < 0)
		return NULL;
	if (ftruncate(mfd, (off_t)size) < 0) {
		close(mfd);
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED) {
		close(mfd);
		return NULL;
	}
	memset(p, 0, size);
	if (fd)
		*fd = mfd;
	else
		close(mfd);
	return p;
}
