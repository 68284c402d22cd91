// SPDX-License-Identifier: MIT
/*
 * Memory file systems (memfs.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "caller.h"
#include "log.h"
#include "memfs.h"
#include "util.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#define MFD_HUGE_1GB (30U << 26)
#endif

struct memfs_dev {
	struct list_head item;
	dev_t dev;
	int mnt_id; /* -1: unknown (learnt from a device number) */
	unsigned int holds; /* files of it the daemon holds */
	bool internal; /* a kernel-internal mount: always valid */
};

static pthread_mutex_t memfs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head known = { &known, &known };
/* The kernel's internal shmem mount (set once, at start). */
static dev_t shmem_internal_dev;
static bool shmem_internal_known;

/* The mnt_id line of /proc/@who/fdinfo/@fd; -ENOENT when there is no @fd. */
static int fdinfo_mnt_id(const char *who, int fd, int *mnt_id)
{
	char path[64], line[128];
	FILE *f;
	int ret = -EIO;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%d", who, fd);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", mnt_id) == 1)
			ret = 0;
	fclose(f);
	return ret;
}

/* Under memfs_lock. */
static struct memfs_dev *find_dev(dev_t dev)
{
	struct memfs_dev *d;

	list_for_each_entry(d, &known, item)
		if (d->dev == dev && (d->internal || d->holds))
			return d;
	return NULL;
}

static struct memfs_dev *find_mnt(int mnt_id)
{
	struct memfs_dev *d;

	list_for_each_entry(d, &known, item)
		if (d->mnt_id == mnt_id && d->internal)
			return d;
	return NULL;
}

/*
 * One internal mount, from a file the daemon made on it (and keeps); its
 * device number in *dev if asked.
 */
static bool learn_internal(unsigned int mfd_flags, const char *what, dev_t *dev)
{
	struct memfs_dev *d;
	struct stat st;
	char self[16];
	int fd = memfd_create("iommufdd-memfs", MFD_CLOEXEC | mfd_flags);
	int mnt_id = -1;

	if (fd < 0) {
		log_debug("memfs: no %s here: %s", what, strerror(errno));
		return false;
	}
	snprintf(self, sizeof(self), "%d", (int)getpid());
	if (fstat(fd, &st) || fdinfo_mnt_id(self, fd, &mnt_id)) {
		close(fd);
		return false;
	}
	pthread_mutex_lock(&memfs_lock);
	if (!find_dev(st.st_dev)) {
		d = calloc(1, sizeof(*d));
		if (d) {
			d->dev = st.st_dev;
			d->mnt_id = mnt_id;
			d->internal = true;
			list_add_tail(&d->item, &known);
		}
	}
	pthread_mutex_unlock(&memfs_lock);
	/* Kept open: the superblock, and so its device number, stays ours. */
	log_debug("memfs: %s is device %u:%u, mount %d", what, major(st.st_dev),
		  minor(st.st_dev), mnt_id);
	if (dev)
		*dev = st.st_dev;
	return true;
}

int memfs_init(void)
{
	shmem_internal_known =
		learn_internal(0, "shmem (memfd, shared anonymous memory)",
			       &shmem_internal_dev);
	learn_internal(MFD_HUGETLB, "hugetlbfs (default huge page size)", NULL);
	learn_internal(MFD_HUGETLB | MFD_HUGE_2MB, "hugetlbfs (2 MiB)", NULL);
	learn_internal(MFD_HUGETLB | MFD_HUGE_1GB, "hugetlbfs (1 GiB)", NULL);
	return list_empty(&known) ? -ENOSYS : 0;
}

bool memfs_inode_numbers_unique(dev_t dev)
{
	/*
	 * mm/shmem.c numbers the inodes of its kernel-internal mount from a
	 * 64-bit counter (ino_t, per-CPU batches) that never wraps, where
	 * mounted tmpfs without inode64, and hugetlbfs (get_next_ino), count
	 * in 32 bits and wrap. A 64-bit daemon means a 64-bit kernel.
	 */
	return sizeof(long) == 8 && shmem_internal_known &&
	       dev == shmem_internal_dev;
}

static bool memory_fstype(const char *fstype)
{
	return !strcmp(fstype, "tmpfs") || !strcmp(fstype, "hugetlbfs");
}

/*
 * Look the mount up in the caller's own mount table: by mount id
 * (@mnt_id >= 0) or by device. True for a tmpfs or hugetlbfs match.
 */
static bool caller_mount_is_memory(const struct ucaller *caller, int mnt_id,
				   dev_t dev)
{
	char *line = NULL;
	size_t cap = 0;
	bool memory = false;
	FILE *f;
	int fd;

	fd = caller_proc_open(caller, "mountinfo", O_RDONLY);
	if (fd < 0)
		return false;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char fstype[32];
		const char *sep;
		int id;

		if (sscanf(line, "%d %*d %u:%u", &id, &maj, &min) != 3)
			continue;
		if (mnt_id >= 0 ? id != mnt_id : makedev(maj, min) != dev)
			continue;
		sep = strstr(line, " - ");
		if (sep && sscanf(sep + 3, "%31s", fstype) == 1)
			memory = memory_fstype(fstype);
		break;
	}
	free(line);
	fclose(f);
	return memory;
}

bool memfs_is_memory_dev(const struct ucaller *caller, dev_t dev)
{
	bool known_dev;

	pthread_mutex_lock(&memfs_lock);
	known_dev = find_dev(dev);
	pthread_mutex_unlock(&memfs_lock);
	return known_dev || caller_mount_is_memory(caller, -1, dev);
}

int memfs_caller_fd_is_memory(const struct ucaller *caller, int fd)
{
	char tid[16];
	bool internal;
	int mnt_id, ret;

	if (caller->pid <= 0 || caller->window)
		return -EPERM;
	if (fd < 0)
		return -EBADF;
	snprintf(tid, sizeof(tid), "%d", (int)caller->pid);
	ret = fdinfo_mnt_id(tid, fd, &mnt_id);
	if (ret)
		return ret == -ENOENT ? -EBADF : ret;
	pthread_mutex_lock(&memfs_lock);
	internal = find_mnt(mnt_id);
	pthread_mutex_unlock(&memfs_lock);
	return internal || caller_mount_is_memory(caller, mnt_id, 0);
}

void memfs_hold(dev_t dev)
{
	struct memfs_dev *d;

	pthread_mutex_lock(&memfs_lock);
	list_for_each_entry(d, &known, item) {
		if (d->dev == dev && !d->internal) {
			d->holds++;
			goto out;
		}
	}
	if (find_dev(dev))
		goto out; /* internal: nothing to count */
	d = calloc(1, sizeof(*d));
	if (d) {
		d->dev = dev;
		d->mnt_id = -1;
		d->holds = 1;
		list_add_tail(&d->item, &known);
	}
out:
	pthread_mutex_unlock(&memfs_lock);
}

void memfs_release(dev_t dev)
{
	struct memfs_dev *d, *next;

	pthread_mutex_lock(&memfs_lock);
	list_for_each_entry_safe(d, next, &known, item) {
		if (d->dev != dev || d->internal)
			continue;
		if (!--d->holds) {
			list_del(&d->item);
			free(d);
		}
		break;
	}
	pthread_mutex_unlock(&memfs_lock);
}
