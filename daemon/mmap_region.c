// SPDX-License-Identifier: MIT
/*
 * mmap regions of an iommufd (mmap_region.h; docs/newest-uapi.md §5).
 *
 * The kernel gives each region an offset in a per-context allocator (the
 * lowest free range at or above one page), maps it when mmap() of the
 * iommufd names exactly that offset and length, and counts every VMA as a
 * users reference of the region's owner, so IOMMU_DESTROY of the owner is
 * EBUSY while any mapping exists, in any process.
 *
 * Here a region is a memfd the daemon creates, fills and never maps. A
 * caller maps a descriptor of it that IOMMUFDD_MMAP_REGION hands over
 * after the kernel's checks. The daemon does not learn of mappings, and
 * need not: while any shared mapping of an O_RDWR memfd exists (a fork's
 * copy, a split, a read-only one included) the kernel counts it as a
 * writable mapping and refuses F_SEAL_WRITE with EBUSY. So DESTROY of the
 * owner tries that seal: EBUSY means mapped, success means nobody can map
 * it for writing any more, and the owner goes. A caller that closes the
 * iommufd while mapped keeps its mapping and its memory, as in the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"
#include "iommufd_private.h"
#include "log.h"
#include "mmap_region.h"
#include "user_budget.h"

struct mmap_region {
	struct list_head item; /* on its context's mmap_regions */
	struct list_head file_item; /* on region_files */
	struct iommufd_object *owner; /* not held: it destroys us */
	uint64_t offset, length;
	int fd; /* the memfd, open read-write */
	dev_t dev;
	ino_t ino;
	struct user_budget *budget; /* charged one region */
};

/* Every region's file, for mmap_region_file_is_region(). */
static pthread_mutex_t region_files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head region_files = { &region_files, &region_files };

bool mmap_region_file_is_region(dev_t dev, ino_t ino)
{
	struct mmap_region *r;
	bool found = false;

	pthread_mutex_lock(&region_files_lock);
	list_for_each_entry(r, &region_files, file_item) {
		if (r->dev == dev && r->ino == ino) {
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&region_files_lock);
	return found;
}

/* The lowest free offset at or above one page, as the kernel allocates. */
static uint64_t region_offset(struct iommufd_ctx *ictx, uint64_t length)
{
	uint64_t offset = PAGE_SIZE;
	struct mmap_region *r;
	bool moved;

	do {
		moved = false;
		list_for_each_entry(r, &ictx->mmap_regions, item) {
			if (offset < r->offset + r->length &&
			    r->offset < offset + length) {
				offset = r->offset + r->length;
				moved = true;
			}
		}
	} while (moved);
	return offset;
}

/*
 * A zeroed memfd of @length whose size the caller cannot change: a
 * shrink would make the memory under other mappings vanish (SIGBUS).
 */
static int region_file(struct mmap_region *r)
{
	struct stat st;

	r->fd = memfd_create("iommufd-mmap-region",
			     MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->fd < 0)
		return errno == EMFILE || errno == ENFILE ? -ENOMEM : -errno;
	if (ftruncate(r->fd, (off_t)r->length) ||
	    fcntl(r->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) ||
	    fstat(r->fd, &st)) {
		int err = errno;

		close(r->fd);
		return -err;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	return 0;
}

int iommufd_mmap_region_alloc(struct iommufd_ctx *ictx,
			      struct iommufd_object *owner, uint64_t length,
			      struct mmap_region **out)
{
	struct mmap_region *r;
	int ret;

	if (!length || length % PAGE_SIZE)
		return -EINVAL;
	/* One per owner: a retired region cannot be unsealed (below). */
	list_for_each_entry(r, &ictx->mmap_regions, item)
		if (r->owner == owner)
			return -EEXIST;
	ret = user_budget_charge(ictx->budget.user, USER_BUDGET_MMAP_REGIONS,
				 1);
	if (ret)
		return ret;
	r = fail_nth_calloc(1, sizeof(*r), "mmap region");
	if (!r) {
		ret = -ENOMEM;
		goto uncharge;
	}
	r->owner = owner;
	r->length = length;
	r->budget = ictx->budget.user;
	ret = region_file(r);
	if (ret) {
		free(r);
		goto uncharge;
	}
	r->offset = region_offset(ictx, length);
	list_add_tail(&r->item, &ictx->mmap_regions);
	pthread_mutex_lock(&region_files_lock);
	list_add_tail(&r->file_item, &region_files);
	pthread_mutex_unlock(&region_files_lock);
	*out = r;
	return 0;

uncharge:
	user_budget_uncharge(ictx->budget.user, USER_BUDGET_MMAP_REGIONS, 1);
	return ret;
}

uint64_t mmap_region_offset(const struct mmap_region *r)
{
	return r->offset;
}

int mmap_region_write(struct mmap_region *r, uint64_t at, const void *data,
		      size_t len)
{
	if (at > r->length || len > r->length - at)
		return -EINVAL;
	/* pwrite, not a mapping: a mapping of ours would count as busy. */
	if (pwrite(r->fd, data, len, (off_t)at) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

void iommufd_mmap_region_destroy(struct iommufd_ctx *ictx,
				 struct mmap_region *r)
{
	(void)ictx;
	list_del(&r->item);
	pthread_mutex_lock(&region_files_lock);
	list_del(&r->file_item);
	pthread_mutex_unlock(&region_files_lock);
	/* Mappings that outlive the context keep the memfd's memory. */
	close(r->fd);
	user_budget_uncharge(r->budget, USER_BUDGET_MMAP_REGIONS, 1);
	free(r);
}

/*
 * May @owner go? Not while a region of it is mapped (the kernel's VMA
 * holds a users reference): -EBUSY. Otherwise its region is sealed
 * against new writable mappings, and the caller destroys the owner.
 */
int iommufd_mmap_region_retire(struct iommufd_ctx *ictx,
			       struct iommufd_object *owner)
{
	struct mmap_region *r;

	list_for_each_entry(r, &ictx->mmap_regions, item) {
		if (r->owner != owner)
			continue;
		if (!fcntl(r->fd, F_ADD_SEALS, F_SEAL_WRITE))
			return 0;
		if (errno == EBUSY)
			return -EBUSY;
		/*
		 * EPERM: the caller sealed its descriptor with F_SEAL_SEAL.
		 * Then it cannot be told whether a mapping exists; that
		 * caller's own destroy goes ahead, its mapping keeps working.
		 */
		log_debug("mmap region at 0x%llx: cannot seal: %s",
			  (unsigned long long)r->offset, strerror(errno));
		return 0;
	}
	return 0;
}

/* The kernel's iommufd_fops_mmap() checks, in its order (§5). */
static struct mmap_region *
region_for_mmap(struct iommufd_ctx *ictx,
		const struct iommufdd_mmap_region *cmd, int *err)
{
	unsigned int type = cmd->map_flags & MAP_TYPE;
	struct mmap_region *r;

	*err = -EINVAL;
	/* mmap() itself refuses these before the file is asked. */
	if (!cmd->length || cmd->length % PAGE_SIZE || cmd->offset % PAGE_SIZE)
		return NULL;
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return NULL;
	*err = -EPERM;
	if (cmd->prot & PROT_EXEC)
		return NULL;
	*err = -ENXIO;
	list_for_each_entry(r, &ictx->mmap_regions, item) {
		if (cmd->offset < r->offset ||
		    cmd->offset - r->offset >= r->length)
			continue;
		/* Only the exact region: not a part, not more. */
		if (cmd->offset != r->offset || cmd->length != r->length)
			return NULL;
		*err = 0;
		return r;
	}
	return NULL;
}

int iommufd_mmap_region_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommufdd_mmap_region *cmd = ucmd->cmd;
	struct iommufd_fd_install *install = ucmd->install;
	struct mmap_region *r;
	int ret, fd;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!abi_newest(ABI_MMAP))
		return -ENODEV;
	r = region_for_mmap(ucmd->ictx, cmd, &ret);
	if (!r)
		return ret;
	if (!install)
		return iommufd_fd_needs_launcher(ucmd);
	/*
	 * The supervisor opens this descriptor of ours anew for the caller
	 * (a description of its own, not our file offset and flags). Until
	 * it has, the owner stays: a DESTROY meanwhile is EBUSY.
	 */
	fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE ? -ENOMEM : -errno;
	install->reopen_fd = fd;
	install->obj = r->owner;
	iommufd_object_get(r->owner);
	return 0;
}
