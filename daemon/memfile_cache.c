// SPDX-License-Identifier: MIT
/*
 * Finding the storage of a memory file, and keeping it for the next MAP
 * (memfile.h).
 *
 * Identity. A file's storage is found by its inode, never by a number the
 * caller can repeat: device and inode numbers are not unique over time
 * (hugetlbfs and tmpfs without inode64 take them from 32-bit counters that
 * wrap, so another user's new file can get the number of one the daemon
 * still holds). Every cached storage owns an inotify watch on its inode in
 * one daemon-wide instance, and inotify gives the same watch descriptor
 * for the same inode and a different one for any other: asking for the
 * watch of the file a caller has mapped names its storage exactly.
 *
 * Where numbers are unique after all (the kernel's internal shmem mount,
 * whose inode numbers come from a 64-bit counter: memfd, shared anonymous
 * memory), a cached storage is also found by device and inode number, so
 * that the MAP of a memfd the daemon holds costs one PROCMAP_QUERY; and
 * found only so where the watch cannot be had (a kernel without inotify,
 * or its watch limit reached). Other files are then neither shared nor
 * kept: each MAP has a storage of its own, charged to --max-user-files.
 *
 * Proof of access, per request. The caller must show, in the request that
 * wants the storage, that it holds the file with the access it asks for:
 * a shared mapping of it at the MAP's address, writable for a writable
 * MAP (its maps, read in the request: once where numbers are unique,
 * else before and after the file is reached through /proc/TID/map_files),
 * or a descriptor of it (MAP_FILE). What is kept between requests is the
 * daemon's own descriptor and windows, never the caller's pid or a path.
 *
 * Reuse. When the last reference to a storage goes (its last area, with
 * its pins and charges), the storage is kept idle: descriptor, windows
 * and watch stay, so the next MAP of that file costs no open, mmap or
 * window set-up. An idle storage holds nothing a domain can reach (its
 * windows leave the physical address map) and no pins or charges. It is
 * destroyed after IDLE_NS without use, when more than IDLE_MAX are idle,
 * when windows run out, or when any client closes /dev/iommu; a file the
 * owner dropped therefore outlives it by at most IDLE_NS in the daemon,
 * and not at all past the owner's close (the kernel frees the pages when
 * the last area goes: a program that closes and at once allocates that
 * memory again must get it). A hugetlbfs file is never kept idle: its
 * pages come from a fixed system-wide pool, where memory held for two
 * seconds is an allocation that fails, not one that waits.
 *
 * A truncated file is never reused stale: the daemon reaches the file's
 * pages only through its own mappings of the file, which the truncation
 * empties as it does the caller's, so what a DMA reaches after a
 * truncation is what the file holds then.
 *
 * Locking: cache_lock over the hash, the idle list and every storage's
 * cache fields; taken before a storage's own lock (memfile_priv.h), held
 * for list updates and quick syscalls on the daemon's own descriptors
 * (inotify, fstat), never across anything that can wait on a caller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "memfile.h"
#include "memfile_priv.h"
#include "memfs.h"
#include "mmap_region.h"
#include "util.h"

#define IDLE_NS (2ULL * 1000000000ULL)
#define IDLE_MAX 64
#define HASH_SIZE 256

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reaper_kick;
static struct list_head hash[HASH_SIZE]; /* by watch */
static struct list_head by_number[HASH_SIZE]; /* unique numbers only */
static struct list_head idle_list;
static unsigned int nr_idle;
static int inotify_fd = -1;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static atomic_bool warned_unwatched;
static bool reaper_running; /* set once by cache_init: storages may idle */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *reaper(void *arg);

static void cache_init(void)
{
	pthread_condattr_t attr;
	pthread_t thread;

	for (unsigned int i = 0; i < HASH_SIZE; i++) {
		list_init(&hash[i]);
		list_init(&by_number[i]);
	}
	list_init(&idle_list);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&reaper_kick, &attr);
	pthread_condattr_destroy(&attr);
	inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (inotify_fd < 0)
		log_warn("inotify: memory files are shared and kept between "
			 "mappings only where their inode numbers are unique "
			 "(memfd, shared anonymous memory)");
	if (pthread_create(&thread, NULL, reaper, NULL)) {
		log_warnx("cannot start the idle memory file reaper; memory "
			  "files are not kept between mappings");
		return;
	}
	pthread_detach(thread);
	reaper_running = true;
}

/* Read away the IN_IGNORED events that removing watches queued. */
static void drain_events(void)
{
	char buf[4096];

	while (read(inotify_fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * Under cache_lock: the watch of the inode behind @fd (an O_PATH
 * descriptor will do), added if it has none. -errno on failure.
 */
static int inode_watch(int fd)
{
	char path[40];
	int wd;

	if (inotify_fd < 0)
		return -ENOSYS;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* The mask only keeps events away: nothing the owner does is one. */
	wd = inotify_add_watch(inotify_fd, path, IN_DELETE_SELF | IN_MASK_ADD);
	return wd < 0 ? -errno : wd;
}

static void inode_unwatch(int wd)
{
	inotify_rm_watch(inotify_fd, wd);
	drain_events();
}

/* Under cache_lock: the storage owning watch @wd, or NULL. */
static struct memfile *hash_find(int wd)
{
	struct memfile *mf;

	list_for_each_entry(mf, &hash[(unsigned int)wd % HASH_SIZE], hash_item)
		if (mf->wd == wd)
			return mf;
	return NULL;
}

/* Under cache_lock: the storage of file @dev:@ino, whose numbers are unique. */
static struct memfile *number_find(dev_t dev, ino_t ino)
{
	struct memfile *mf;

	list_for_each_entry(mf, &by_number[ino % HASH_SIZE], num_item)
		if (mf->dev == dev && mf->ino == ino)
			return mf;
	return NULL;
}

/* Under cache_lock: can a request find @mf (by its watch or numbers)? */
static bool findable(const struct memfile *mf)
{
	return mf->wd >= 0 || !list_empty(&mf->num_item);
}

/* Under cache_lock: take a reference on @mf, waking it if it was idle. */
static void cache_get_locked(struct memfile *mf)
{
	if (mf->idle) {
		list_del(&mf->idle_item);
		list_init(&mf->idle_item);
		mf->idle = false;
		nr_idle--;
		memfile_publish(mf, true);
	}
	atomic_fetch_add(&mf->pages.refs, 1);
}

/*
 * Under cache_lock: make idle @mf unfindable and move it to @victims, to
 * be destroyed once the lock is dropped.
 */
static void evict_locked(struct memfile *mf, struct list_head *victims)
{
	list_del(&mf->idle_item);
	nr_idle--;
	mf->idle = false;
	list_del(&mf->hash_item);
	list_init(&mf->hash_item);
	list_del(&mf->num_item);
	list_init(&mf->num_item);
	if (mf->wd >= 0)
		inode_unwatch(mf->wd);
	mf->wd = -1;
	list_add_tail(&mf->idle_item, victims);
}

static void destroy_all(struct list_head *victims)
{
	struct memfile *mf, *next;

	list_for_each_entry_safe(mf, next, victims, idle_item)
		memfile_destroy(mf);
}

static void *reaper(void *arg)
{
	struct list_head victims;

	(void)arg;
	pthread_mutex_lock(&cache_lock);
	for (;;) {
		struct memfile *oldest;
		struct timespec until;
		uint64_t deadline;

		if (list_empty(&idle_list)) {
			pthread_cond_wait(&reaper_kick, &cache_lock);
			continue;
		}
		oldest =
			list_first_entry(&idle_list, struct memfile, idle_item);
		deadline = oldest->idle_since_ns + IDLE_NS;
		if (now_ns() < deadline) {
			until.tv_sec = (time_t)(deadline / 1000000000ULL);
			until.tv_nsec = (long)(deadline % 1000000000ULL);
			pthread_cond_timedwait(&reaper_kick, &cache_lock,
					       &until);
			continue;
		}
		list_init(&victims);
		evict_locked(oldest, &victims);
		pthread_mutex_unlock(&cache_lock);
		destroy_all(&victims);
		pthread_mutex_lock(&cache_lock);
	}
	return NULL;
}

void memfile_cache_release(struct memfile *mf)
{
	struct list_head victims;

	list_init(&victims);
	pthread_mutex_lock(&cache_lock);
	/* Found again since its count reached 0, or already idle. */
	if (atomic_load(&mf->pages.refs) || mf->idle) {
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	if (!findable(mf) || !reaper_running || mf->huge_size ||
	    !runmap_empty(&mf->pinned)) {
		/*
		 * Not cached, nothing would time it out, hugetlbfs (see the
		 * top of the file), or a pin leaked (memfile_destroy logs it).
		 */
		list_del(&mf->hash_item);
		list_del(&mf->num_item);
		if (mf->wd >= 0)
			inode_unwatch(mf->wd);
		pthread_mutex_unlock(&cache_lock);
		memfile_destroy(mf);
		return;
	}
	memfile_publish(mf, false);
	mf->idle = true;
	mf->idle_since_ns = now_ns();
	list_add_tail(&mf->idle_item, &idle_list);
	nr_idle++;
	while (nr_idle > IDLE_MAX)
		evict_locked(list_first_entry(&idle_list, struct memfile,
					      idle_item),
			     &victims);
	pthread_cond_signal(&reaper_kick);
	pthread_mutex_unlock(&cache_lock);
	destroy_all(&victims);
}

uint64_t memfile_nr_idle(void)
{
	uint64_t n;

	pthread_mutex_lock(&cache_lock);
	n = nr_idle;
	pthread_mutex_unlock(&cache_lock);
	return n;
}

void memfile_drop_idle(void)
{
	memfile_cache_trim();
}

bool memfile_cache_trim(void)
{
	struct list_head victims;
	bool any;

	pthread_once(&cache_once, cache_init);
	list_init(&victims);
	pthread_mutex_lock(&cache_lock);
	any = !list_empty(&idle_list);
	while (!list_empty(&idle_list))
		evict_locked(list_first_entry(&idle_list, struct memfile,
					      idle_item),
			     &victims);
	pthread_mutex_unlock(&cache_lock);
	destroy_all(&victims);
	return any;
}

/*
 * The cached storage of the inode behind @fd (O_PATH will do), referenced,
 * or NULL when it has none.
 */
static struct memfile *cache_lookup(int fd)
{
	struct memfile *mf = NULL;
	int wd;

	pthread_once(&cache_once, cache_init);
	pthread_mutex_lock(&cache_lock);
	wd = inode_watch(fd);
	if (wd >= 0) {
		mf = hash_find(wd);
		if (mf)
			cache_get_locked(mf);
		else
			inode_unwatch(wd); /* only storages own watches */
	}
	pthread_mutex_unlock(&cache_lock);
	return mf;
}

/*
 * The storage of the inode behind @fd, which it takes: the cached one, or
 * a new one holding @fd. -EFAULT, -ENOMEM, -EOPNOTSUPP (an mmap region).
 */
static int cache_get_or_add(int fd, bool writable, uid_t uid,
			    struct memfile **out)
{
	struct memfile *mf = NULL;
	int wd = -ENOSYS;
	struct stat st;
	bool unique;

	if (fstat(fd, &st)) {
		close(fd);
		return -EFAULT;
	}
	/* An iommufd's mmap region is no memory to pin (mmap_region.h). */
	if (mmap_region_file_is_region(st.st_dev, st.st_ino)) {
		close(fd);
		return -EOPNOTSUPP;
	}
	unique = memfs_inode_numbers_unique(st.st_dev);
	pthread_once(&cache_once, cache_init);
	pthread_mutex_lock(&cache_lock);
	/* Unique numbers name the file by themselves, watched or not. */
	if (unique)
		mf = number_find(st.st_dev, st.st_ino);
	if (!mf) {
		wd = inode_watch(fd);
		mf = wd >= 0 ? hash_find(wd) : NULL;
	}
	if (mf) {
		cache_get_locked(mf);
		pthread_mutex_unlock(&cache_lock);
		memfile_adopt_fd(mf, fd, writable);
		*out = mf;
		return 0;
	}
	mf = memfile_alloc(fd, writable, &st, uid);
	if (!mf) {
		if (wd >= 0)
			inode_unwatch(wd);
		pthread_mutex_unlock(&cache_lock);
		close(fd);
		return -ENOMEM;
	}
	if (wd >= 0) {
		mf->wd = wd;
		list_add_tail(&mf->hash_item,
			      &hash[(unsigned int)wd % HASH_SIZE]);
	}
	if (unique)
		list_add_tail(&mf->num_item, &by_number[mf->ino % HASH_SIZE]);
	if (wd < 0 && wd != -ENOSYS && !unique &&
	    !atomic_exchange(&warned_unwatched, true)) {
		/* Still correct, only not shared (nor kept): say so once. */
		log_warnx(
			"inotify_add_watch: %s; memory files it fails for are "
			"not shared between mappings (first: %u:%lu)",
			strerror(-wd), (unsigned int)st.st_dev,
			(unsigned long)st.st_ino);
	}
	pthread_mutex_unlock(&cache_lock);
	*out = mf;
	return 0;
}

static bool vma_same(const struct vma_info *a, const struct vma_info *b)
{
	return a->start == b->start && a->end == b->end &&
	       a->offset == b->offset && a->dev == b->dev &&
	       a->inode == b->inode && a->shared == b->shared &&
	       a->read == b->read && a->write == b->write;
}

/*
 * The file of @vma through /proc/TID/map_files, opened O_PATH (which
 * calls into no file system) and checked to be @vma's device and inode,
 * so that only a memory file is ever opened for I/O or watched.
 */
static int open_vma_path(const struct ucaller *caller,
			 const struct vma_info *vma)
{
	char name[64];
	struct statx stx;
	int path_fd;

	snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64,
		 vma->start, vma->end);
	path_fd = caller_proc_open(caller, name, O_PATH);
	if (path_fd < 0)
		return path_fd == -ESRCH ? -EAGAIN : path_fd;
	if (statx(path_fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO,
		  &stx) ||
	    makedev(stx.stx_dev_major, stx.stx_dev_minor) != vma->dev ||
	    stx.stx_ino != vma->inode) {
		close(path_fd);
		return -EAGAIN;
	}
	return path_fd;
}

/* Reopen @path_fd for I/O, as the daemon (root). */
static int reopen(const struct ucaller *caller, int path_fd, bool writable)
{
	char self[40];
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", path_fd);
	fd = open(self, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		log_warn("cannot open the file of a mapping of pid %d",
			 (int)caller->pid);
		return errno_is_fd_shortage(err) ? -ENOMEM : -EFAULT;
	}
	return fd;
}

/*
 * The storage for @vma's file, reached through @path_fd: the cached one
 * if it has the access @vma allows, else with a descriptor opened now.
 */
static int storage_of_path(const struct ucaller *caller, int path_fd,
			   const struct vma_info *vma, struct memfile **out)
{
	struct memfile *mf = cache_lookup(path_fd);
	int fd;

	if (mf && (mf->dev != vma->dev || mf->ino != vma->inode)) {
		/* Not the file the maps showed: it changed meanwhile. */
		iopt_pages_put(&mf->pages);
		return -EAGAIN;
	}
	if (mf && (!vma->write || memfile_writable(mf))) {
		*out = mf;
		return 0;
	}
	fd = reopen(caller, path_fd, vma->write);
	if (fd < 0) {
		iopt_pages_put(mf ? &mf->pages : NULL);
		return fd;
	}
	if (mf) {
		memfile_adopt_fd(mf, fd, vma->write);
		*out = mf;
		return 0;
	}
	return cache_get_or_add(fd, vma->write, caller->uid, out);
}

/*
 * The cached storage of @vma's file where its numbers name it (memfs.h),
 * with the access @vma allows; NULL if there is none.
 */
static struct memfile *cached_by_number(const struct vma_info *vma)
{
	struct memfile *mf = NULL;

	if (!memfs_inode_numbers_unique(vma->dev))
		return NULL;
	pthread_once(&cache_once, cache_init);
	pthread_mutex_lock(&cache_lock);
	mf = number_find(vma->dev, (ino_t)vma->inode);
	if (mf && (!vma->write || memfile_writable(mf)))
		cache_get_locked(mf);
	else
		mf = NULL;
	pthread_mutex_unlock(&cache_lock);
	return mf;
}

int memfile_from_vma(const struct ucaller *caller, int maps_fd,
		     const struct vma_info *vma, struct memfile **out)
{
	struct vma_info now;
	struct memfile *mf;
	int path_fd, ret;

	if (!vma->shared || !vma->file ||
	    !memfs_is_memory_dev(caller, vma->dev))
		return -EOPNOTSUPP;
	/*
	 * The caller maps this very file (its numbers are its own), with
	 * @vma's access, as this request's query of its maps showed.
	 */
	mf = cached_by_number(vma);
	if (mf) {
		*out = mf;
		return 0;
	}
	path_fd = open_vma_path(caller, vma);
	if (path_fd < 0)
		return path_fd;
	ret = storage_of_path(caller, path_fd, vma, &mf);
	close(path_fd);
	if (ret)
		return ret;
	/*
	 * The caller's mapping is still @vma after its file was reached:
	 * it held a mapping of this very inode, with @vma's access, while
	 * the request ran. (No earlier request's proof is ever reused.)
	 */
	if (vma_query(maps_fd, vma->start, &now) || !vma_same(vma, &now)) {
		iopt_pages_put(&mf->pages);
		return -EAGAIN;
	}
	*out = mf;
	return 0;
}

int memfile_from_caller_fd(const struct ucaller *caller, int fd,
			   struct memfile **out, bool *writable)
{
	struct statx stx;
	int ret, dup, fl;

	ret = memfs_caller_fd_is_memory(caller, fd);
	if (ret < 0)
		return ret;
	if (!ret)
		return -EOPNOTSUPP;
	dup = caller_getfd(caller, fd);
	if (dup < 0)
		return dup;
	/* It may have been replaced since; check without waiting on it. */
	if (statx(dup, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO,
		  &stx) ||
	    !memfs_is_memory_dev(caller, makedev(stx.stx_dev_major,
						 stx.stx_dev_minor))) {
		close(dup);
		return -EOPNOTSUPP;
	}
	fl = fcntl(dup, F_GETFL);
	*writable = fl >= 0 && (fl & O_ACCMODE) == O_RDWR;
	if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) {
		/* Write-only: the daemon could not read it either. */
		close(dup);
		return -EOPNOTSUPP;
	}
	/* The caller's own open file: its inode is the storage's key. */
	return cache_get_or_add(dup, *writable, caller->uid, out);
}
