// SPDX-License-Identifier: MIT
/*
 * Bound VFIO groups and their type1 containers (backend_vfio.h): one
 * container per group, made when the first device of the group is bound
 * and taken apart when the last one is unbound.
 *
 * The registry (every bound group, by number) is shared by all contexts
 * and guarded by one mutex; a group's container and attachment are used
 * only by its owner's jobs, one at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend_vfio.h"
#include "log.h"

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head registry = { &registry, &registry };

int vfio_group_host_check(void)
{
	int fd = open(VFIO_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		ret = -errno;
		log_err("vfio backend: cannot open %s: %s (is the vfio module loaded?)",
			VFIO_CONTAINER_PATH, strerror(-ret));
		return ret;
	}
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		log_err("vfio backend: %s offers no VFIO type1v2 IOMMU (is vfio_iommu_type1 loaded?)",
			VFIO_CONTAINER_PATH);
		ret = -ENODEV;
	}
	close(fd);
	return ret;
}

/* ---- the container's capability chain ---------------------------------- */

static void
info_add_ranges(struct vfio_group_info *gi,
		const struct vfio_iommu_type1_info_cap_iova_range *cap,
		size_t room)
{
	uint32_t n = cap->nr_iovas;

	if (sizeof(*cap) + (uint64_t)n * sizeof(cap->iova_ranges[0]) > room ||
	    !n)
		return;
	gi->aperture_start = cap->iova_ranges[0].start;
	gi->aperture_last = cap->iova_ranges[n - 1].end;
	for (uint32_t i = 1; i < n; i++) {
		uint64_t start = cap->iova_ranges[i - 1].end + 1;
		uint64_t last = cap->iova_ranges[i].start - 1;

		if (start > last || gi->nr_holes == VFIO_GROUP_MAX_HOLES)
			continue;
		gi->holes[gi->nr_holes].start = start;
		gi->holes[gi->nr_holes].last = last;
		gi->nr_holes++;
	}
}

/* Walk the chain of VFIO_IOMMU_GET_INFO, which the kernel checks itself. */
static void info_parse_caps(struct vfio_group_info *gi, const char *buf,
			    uint32_t len, uint32_t offset)
{
	unsigned int hops = 0;

	while (offset && offset + sizeof(struct vfio_info_cap_header) <= len &&
	       hops++ < 64) {
		const struct vfio_info_cap_header *h =
			(const void *)(buf + offset);

		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			info_add_ranges(gi, (const void *)h, len - offset);
		else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL &&
			 offset + sizeof(struct vfio_iommu_type1_info_dma_avail) <=
				 len)
			gi->dma_avail =
				((const struct vfio_iommu_type1_info_dma_avail *)
					 h)
					->avail;
		if (h->next <= offset)
			break;
		offset = h->next;
	}
}

static int container_info(int container, struct vfio_group_info *gi)
{
	struct vfio_iommu_type1_info head = { .argsz = sizeof(head) };
	struct vfio_iommu_type1_info *info;
	int ret = 0;

	memset(gi, 0, sizeof(*gi));
	gi->aperture_last = UINT64_MAX;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, &head))
		return -errno;
	if (!(head.flags & VFIO_IOMMU_INFO_PGSIZES) || !head.iova_pgsizes)
		return -ENODEV;
	gi->pgsizes = head.iova_pgsizes;
	if (head.argsz > sizeof(head) && head.argsz < (1U << 20)) {
		info = calloc(1, head.argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = head.argsz;
		if (ioctl(container, VFIO_IOMMU_GET_INFO, info))
			ret = -errno;
		else if (info->flags & VFIO_IOMMU_INFO_CAPS)
			info_parse_caps(gi, (const char *)info, info->argsz,
					info->cap_offset);
		free(info);
	}
	if (!ret)
		gi->cache_coherent = ioctl(container, VFIO_CHECK_EXTENSION,
					   VFIO_DMA_CC_IOMMU) == 1;
	return ret;
}

int64_t vfio_group_dma_avail(struct vfio_group *g)
{
	struct vfio_group_info gi;
	int ret = container_info(g->container_fd, &gi);

	return ret ? (int64_t)ret : (int64_t)gi.dma_avail;
}

/* ---- binding a group ---------------------------------------------------- */

/* Put @g's group in a new type1v2 container of ours. */
static int group_setup(struct vfio_group *g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int ret;

	if (ioctl(g->group_fd, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_info(
			"vfio: group %u is not viable: bind every device of it to vfio-pci (or leave it driverless)",
			g->number);
		return -EINVAL;
	}
	if (st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET)
		return -EBUSY;

	g->container_fd = open(VFIO_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	if (g->container_fd < 0)
		return -errno;
	if (ioctl(g->group_fd, VFIO_GROUP_SET_CONTAINER, &g->container_fd))
		return errno == EINVAL ? -EBUSY : -errno;
	if (ioctl(g->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		log_info("vfio: group %u: VFIO_SET_IOMMU(type1v2): %s",
			 g->number, strerror(-ret));
		goto err_unset;
	}
	ret = container_info(g->container_fd, &g->info);
	if (ret) {
		log_info("vfio: group %u: VFIO_IOMMU_GET_INFO: %s", g->number,
			 strerror(-ret));
		goto err_unset;
	}
	return 0;

err_unset:
	ioctl(g->group_fd, VFIO_GROUP_UNSET_CONTAINER);
	return ret;
}

static void group_free(struct vfio_group *g)
{
	if (g->container_fd >= 0)
		close(g->container_fd);
	if (g->group_fd >= 0)
		close(g->group_fd);
	free(g);
}

struct vfio_group *vfio_group_get(const void *owner, unsigned int number,
				  int group_fd, int *err)
{
	struct vfio_group *g;
	int ret;

	pthread_mutex_lock(&registry_lock);
	list_for_each_entry(g, &registry, item) {
		if (g->number != number)
			continue;
		if (g->owner != owner) {
			pthread_mutex_unlock(&registry_lock);
			close(group_fd);
			*err = -EBUSY;
			return NULL;
		}
		/* The group opens once: the caller's fd is the file we hold. */
		g->refs++;
		pthread_mutex_unlock(&registry_lock);
		close(group_fd);
		return g;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		pthread_mutex_unlock(&registry_lock);
		close(group_fd);
		*err = -ENOMEM;
		return NULL;
	}
	g->owner = owner;
	g->number = number;
	g->refs = 1;
	g->group_fd = group_fd;
	g->container_fd = -1;
	list_init(&g->devices);
	list_init(&g->domain_item);
	/* Listed before the set-up, so a second binder finds it busy. */
	list_add_tail(&g->item, &registry);
	pthread_mutex_unlock(&registry_lock);

	ret = group_setup(g);
	if (ret) {
		pthread_mutex_lock(&registry_lock);
		list_del(&g->item);
		pthread_mutex_unlock(&registry_lock);
		group_free(g);
		*err = ret;
		return NULL;
	}
	log_debug(
		"vfio: group %u in container fd %d: pgsizes 0x%llx, IOVA 0x%llx-0x%llx, %u hole(s), %scache coherent",
		number, g->container_fd, (unsigned long long)g->info.pgsizes,
		(unsigned long long)g->info.aperture_start,
		(unsigned long long)g->info.aperture_last, g->info.nr_holes,
		g->info.cache_coherent ? "" : "not ");
	return g;
}

void vfio_group_put(struct vfio_group *g)
{
	bool last;

	pthread_mutex_lock(&registry_lock);
	last = !--g->refs;
	if (last)
		list_del(&g->item);
	pthread_mutex_unlock(&registry_lock);
	if (!last)
		return;
	/*
	 * Nothing stays mapped whatever happens next. While the VMM holds a
	 * device fd of the group the kernel keeps the group in the container
	 * (EBUSY); closing our fds then leaves it there, empty, until the
	 * VMM closes the device and the group.
	 */
	vfio_group_dma_unmap_all(g);
	if (ioctl(g->group_fd, VFIO_GROUP_UNSET_CONTAINER))
		log_debug(
			"vfio: group %u stays in its (empty) container until its devices are closed: %s",
			g->number, strerror(errno));
	group_free(g);
}

/* ---- the container's mappings ------------------------------------------ */

int vfio_group_dma_map(struct vfio_group *g, uint64_t iova, uint64_t vaddr,
		       uint64_t len, int prot)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.vaddr = vaddr,
		.iova = iova,
		.size = len,
	};

	if (prot & IOMMU_READ)
		map.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (prot & IOMMU_WRITE)
		map.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	return ioctl(g->container_fd, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int vfio_group_dma_unmap(struct vfio_group *g, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	return ioctl(g->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno :
								      0;
}

int vfio_group_dma_unmap_all(struct vfio_group *g)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};

	return ioctl(g->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno :
								      0;
}
