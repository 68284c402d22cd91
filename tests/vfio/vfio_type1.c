/* SPDX-License-Identifier: MIT */
/*
 * VFIO type1 container, group and device wrappers (see vfio_type1.h).
 */
#define _GNU_SOURCE
#include "vfio_type1.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int vfio_container_open(void)
{
	int fd, ver;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ver = ioctl(fd, VFIO_GET_API_VERSION);
	if (ver != VFIO_API_VERSION) {
		close(fd);
		return ver < 0 ? -errno : -EPROTO;
	}
	return fd;
}

int vfio_check_extension(int container, unsigned long ext)
{
	int ret = ioctl(container, VFIO_CHECK_EXTENSION, ext);

	return ret < 0 ? -errno : ret;
}

int vfio_set_iommu(int container, unsigned long type)
{
	return ioctl(container, VFIO_SET_IOMMU, type) < 0 ? -errno : 0;
}

int vfio_group_open(int group)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[32];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = xioctl(fd, VFIO_GROUP_GET_STATUS, &st);
	if (!ret && !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		ret = -EPERM; /* a device of the group is not bound to VFIO */
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int vfio_group_set_container(int group_fd, int container)
{
	return xioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container);
}

int vfio_group_unset_container(int group_fd)
{
	return ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER) < 0 ? -errno : 0;
}

int vfio_device_open(int group_fd, const char *name)
{
	int fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, name);

	return fd < 0 ? -errno : fd;
}

int vfio_dma_map(int container, const void *vaddr, uint64_t iova, uint64_t size,
		 bool writable)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ |
			 (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return xioctl(container, VFIO_IOMMU_MAP_DMA, &map);
}

int vfio_dma_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags,
		   uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int ret;

	ret = xioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	if (unmapped)
		*unmapped = ret ? 0 : unmap.size;
	return ret;
}

/* Decode one capability of the VFIO_IOMMU_GET_INFO chain. */
static void info_cap(struct vfio_type1_info *out,
		     const struct vfio_info_cap_header *hdr)
{
	const struct vfio_iommu_type1_info_cap_iova_range *ranges;
	const struct vfio_iommu_type1_info_dma_avail *avail;
	const struct vfio_iommu_type1_info_cap_migration *mig;
	uint32_t i;

	switch (hdr->id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
		ranges = (const void *)hdr;
		out->have_ranges = true;
		out->nr_ranges = ranges->nr_iovas;
		for (i = 0; i < ranges->nr_iovas && i < VFIO_INFO_MAX_RANGES;
		     i++) {
			out->ranges[i].start = ranges->iova_ranges[i].start;
			out->ranges[i].end = ranges->iova_ranges[i].end;
		}
		break;
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
		avail = (const void *)hdr;
		out->have_dma_avail = true;
		out->dma_avail = avail->avail;
		break;
	case VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION:
		mig = (const void *)hdr;
		out->have_migration = true;
		out->mig_flags = mig->flags;
		out->mig_pgsize_bitmap = mig->pgsize_bitmap;
		out->mig_max_dirty_bitmap_size = mig->max_dirty_bitmap_size;
		break;
	}
}

int vfio_type1_get_info(int container, struct vfio_type1_info *out)
{
	struct vfio_iommu_type1_info *info;
	const struct vfio_info_cap_header *hdr;
	uint32_t argsz = sizeof(*info), off;
	int ret;

	memset(out, 0, sizeof(*out));
	for (;;) {
		info = calloc(1, argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		ret = xioctl(container, VFIO_IOMMU_GET_INFO, info);
		if (ret || info->argsz <= argsz)
			break;
		/* the chain did not fit: the kernel said how much it needs */
		argsz = info->argsz;
		free(info);
	}
	if (ret) {
		free(info);
		return ret;
	}
	out->flags = info->flags;
	out->iova_pgsizes = info->iova_pgsizes;
	off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
	while (off && off + sizeof(*hdr) <= argsz) {
		hdr = (const void *)((const char *)info + off);
		if (out->nr_caps <
		    sizeof(out->cap_ids) / sizeof(out->cap_ids[0]))
			out->cap_ids[out->nr_caps++] = hdr->id;
		info_cap(out, hdr);
		if (hdr->next <= off) /* the chain only goes forward */
			break;
		off = hdr->next;
	}
	free(info);
	return 0;
}

static int region_info(int device, unsigned int index,
		       struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return xioctl(device, VFIO_DEVICE_GET_REGION_INFO, ri);
}

int vfio_pci_enable_dma(int device)
{
	struct vfio_region_info ri;
	uint16_t cmd;
	int ret;

	ret = region_info(device, VFIO_PCI_CONFIG_REGION_INDEX, &ri);
	if (ret)
		return ret;
	if (pread(device, &cmd, sizeof(cmd), ri.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -EIO;
	/* Without Bus Master Enable the device's DMA goes nowhere. */
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(device, &cmd, sizeof(cmd), ri.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -EIO;
	return 0;
}

void *vfio_pci_map_bar(int device, unsigned int bar, size_t *len)
{
	struct vfio_region_info ri;
	void *p;
	int ret;

	ret = region_info(device, VFIO_PCI_BAR0_REGION_INDEX + bar, &ri);
	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || !ri.size) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, device,
		 ri.offset);
	if (p != MAP_FAILED)
		*len = ri.size;
	return p;
}
