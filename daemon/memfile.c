// SPDX-License-Identifier: MIT
/*
 * Shared memory files as page storage (memfile.h): windows, pins, charges
 * and DMA. Finding and keeping a file's storage is memfile_cache.c's.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "account.h"
#include "addrmap.h"
#include "fail_nth.h"
#include "interval_tree.h"
#include "log.h"
#include "memfile.h"
#include "memfile_priv.h"
#include "memfs.h"
#include "pages.h"
#include "runmap.h"
#include "user_budget.h"
#include "util.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define WINDOW_PAGES (MEMFILE_WINDOW / PAGE_SIZE)

/*
 * Windows are daemon mappings; vm.max_map_count (65530 by default) bounds
 * them all. A client needs one per file and gigabyte in use.
 */
#define MAX_WINDOWS 16384

/* Pins charged to one bucket, so each page is charged to it once. */
struct bucket_pins {
	struct list_head item;
	struct charge_bucket *bucket;
	struct runmap map;
};

struct window {
	struct addr_range range; /* the daemon addresses, as paddrs */
	struct itree_node chunk; /* [chunk, chunk] in the file's tree */
	struct memfile *mf;
	void *addr;
	bool writable;
};

static atomic_uint_fast64_t nr_windows;

/* Pages populated per step (IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT). */
static atomic_uint temp_memory_limit = 65536;

void pages_set_temp_memory_limit(unsigned int limit)
{
	atomic_store(&temp_memory_limit, limit ? limit : 1);
}

static struct memfile *mf_of(struct iopt_pages *p)
{
	return container_of(p, struct memfile, pages);
}

struct iopt_pages *memfile_pages(struct memfile *mf)
{
	return &mf->pages;
}

bool memfile_writable(const struct memfile *mf)
{
	return mf->fd_rw >= 0;
}

uint64_t memfile_nr_windows(void)
{
	return atomic_load(&nr_windows);
}

/* ---- windows ------------------------------------------------------- */

static void window_get_ref(struct addr_range *r)
{
	iopt_pages_get(&container_of(r, struct window, range)->mf->pages);
}

static void window_put_ref(struct addr_range *r)
{
	iopt_pages_put(&container_of(r, struct window, range)->mf->pages);
}

static int window_rw(struct addr_range *r, uint64_t offset, void *buf,
		     uint64_t len, bool write)
{
	struct window *w = container_of(r, struct window, range);
	char *at = (char *)w->addr + offset;

	if (write && !w->writable)
		return -EFAULT;
	return write ? safe_copy(at, buf, len, true) :
		       safe_copy(buf, at, len, false);
}

static int pagemap_fd = -1;

static void open_self_pagemap(void)
{
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

static int window_pfn(struct addr_range *r, uint64_t offset, uint64_t *pfn)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct window *w = container_of(r, struct window, range);
	uint64_t va = (uint64_t)(uintptr_t)w->addr + offset, entry;

	pthread_once(&once, open_self_pagemap);
	if (pagemap_fd < 0)
		return -EIO;
	if (pread(pagemap_fd, &entry, 8, (off_t)(va / PAGE_SIZE * 8)) != 8 ||
	    !(entry & (1ULL << 63)))
		return -EFAULT;
	*pfn = entry & ((1ULL << 55) - 1);
	return 0;
}

static const struct addr_owner_ops window_ops = {
	.rw = window_rw,
	.pfn = window_pfn,
	.get = window_get_ref,
	.put = window_put_ref,
};

/*
 * Map window @chunk of the file: MEMFILE_WINDOW bytes at a daemon address
 * aligned to the window size, so huge pages (up to 1 GiB) line up with
 * their file offsets. Nothing is populated or reserved (MAP_NORESERVE:
 * hugetlbfs would otherwise reserve the whole window).
 */
static struct window *window_map(struct memfile *mf, uint64_t chunk,
				 bool writable, int *err)
{
	int fd = writable ? mf->fd_rw :
			    (mf->fd_ro >= 0 ? mf->fd_ro : mf->fd_rw);
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	uint64_t reserve_len = 2 * MEMFILE_WINDOW, start;
	struct window *w;
	char *reserve;
	void *map;

	if (atomic_fetch_add(&nr_windows, 1) >= MAX_WINDOWS) {
		atomic_fetch_sub(&nr_windows, 1);
		*err = -ENOSPC; /* windows_ensure_or_trim decides */
		return NULL;
	}
	w = fail_nth_calloc(1, sizeof(*w), "memory window");
	reserve = mmap(NULL, reserve_len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!w || reserve == MAP_FAILED)
		goto err_nomem;
	start = ALIGN_UP_U64((uint64_t)(uintptr_t)reserve, MEMFILE_WINDOW);
	map = mmap((void *)(uintptr_t)start, MEMFILE_WINDOW, prot,
		   MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd,
		   (off_t)(chunk * MEMFILE_WINDOW));
	if (map == MAP_FAILED) {
		log_warn("memory window: cannot map %s the file %u:%lu",
			 writable ? "writable" : "read-only",
			 (unsigned int)mf->dev, (unsigned long)mf->ino);
		munmap(reserve, reserve_len);
		goto err_map;
	}
	if (start > (uint64_t)(uintptr_t)reserve)
		munmap(reserve, start - (uint64_t)(uintptr_t)reserve);
	if ((uint64_t)(uintptr_t)reserve + reserve_len > start + MEMFILE_WINDOW)
		munmap((char *)map + MEMFILE_WINDOW,
		       (uint64_t)(uintptr_t)reserve + reserve_len - start -
			       MEMFILE_WINDOW);
	w->mf = mf;
	w->addr = map;
	w->writable = writable;
	w->chunk.start = w->chunk.last = chunk;
	w->range.ops = &window_ops;
	w->range.node.start = start;
	w->range.node.last = start + MEMFILE_WINDOW - 1;
	itree_insert(writable ? &mf->windows_rw : &mf->windows_ro, &w->chunk);
	if (mf->published)
		addrmap_insert(&w->range);
	return w;

err_nomem:
	if (reserve != MAP_FAILED)
		munmap(reserve, reserve_len);
err_map:
	free(w);
	atomic_fetch_sub(&nr_windows, 1);
	*err = -ENOMEM;
	return NULL;
}

static struct window *window_find(struct itree *tree, uint64_t chunk)
{
	struct itree_node *n = itree_iter_first(tree, chunk, chunk);

	return n ? container_of(n, struct window, chunk) : NULL;
}

/* The window for @index to read through (any) or write through. */
static struct window *window_of(struct memfile *mf, uint64_t index,
				bool writable)
{
	uint64_t chunk = index / WINDOW_PAGES;
	struct window *w = window_find(&mf->windows_rw, chunk);

	if (w || writable)
		return w;
	return window_find(&mf->windows_ro, chunk);
}

/* Under mf->lock: windows over [first, last], writable ones if asked. */
static int windows_ensure(struct memfile *mf, uint64_t first, uint64_t last,
			  bool writable)
{
	int err = 0;

	if (writable && mf->fd_rw < 0)
		return -EFAULT;
	for (uint64_t c = first / WINDOW_PAGES; c <= last / WINDOW_PAGES; c++) {
		bool rw = writable || mf->fd_ro < 0;

		if (window_of(mf, c * WINDOW_PAGES, writable))
			continue;
		if (!window_map(mf, c, rw, &err))
			return err;
	}
	return 0;
}

/*
 * windows_ensure, with @mf->lock held on entry and on return (dropped in
 * between): when every window is in use, idle files give theirs back and
 * it tries once more.
 */
static int windows_ensure_or_trim(struct memfile *mf, uint64_t first,
				  uint64_t last, bool writable)
{
	int ret = windows_ensure(mf, first, last, writable);
	bool trimmed;

	if (ret != -ENOSPC)
		return ret;
	pthread_mutex_unlock(&mf->lock);
	trimmed = memfile_cache_trim();
	pthread_mutex_lock(&mf->lock);
	if (trimmed)
		ret = windows_ensure(mf, first, last, writable);
	if (ret == -ENOSPC) {
		log_warnx("memory windows: all %d in use; refusing more",
			  MAX_WINDOWS);
		ret = -ENOMEM;
	}
	return ret;
}

static void windows_unmap(struct memfile *mf, struct itree *tree)
{
	struct itree_node *n;

	while ((n = itree_first(tree))) {
		struct window *w = container_of(n, struct window, chunk);

		itree_remove(tree, n);
		if (mf->published)
			addrmap_remove(&w->range);
		munmap(w->addr, MEMFILE_WINDOW);
		free(w);
		atomic_fetch_sub(&nr_windows, 1);
	}
}

/* ---- pinning ------------------------------------------------------- */

struct pin_ctx {
	struct memfile *mf;
	const struct pin_user *u;
};

/* Fault pages [first, last] in through the daemon's windows. */
static int populate(void *arg, uint64_t first, uint64_t last)
{
	struct pin_ctx *pc = arg;
	uint64_t index = first;

	while (index <= last) {
		struct window *w = window_of(pc->mf, index, false);
		uint64_t in_window = WINDOW_PAGES - index % WINDOW_PAGES;
		uint64_t n = last - index + 1;
		char *at;

		if (n > in_window)
			n = in_window;
		if (n > atomic_load(&temp_memory_limit))
			n = atomic_load(&temp_memory_limit);
		if (!w)
			return -EFAULT;
		at = (char *)w->addr + index % WINDOW_PAGES * PAGE_SIZE;
		/* Beyond the end of the file this is EFAULT, not SIGBUS. */
		if (madvise(at, n * PAGE_SIZE, MADV_POPULATE_READ)) {
			int err = errno;

			log_debug("pinning pages of file %u:%lu failed: %s",
				  (unsigned int)pc->mf->dev,
				  (unsigned long)pc->mf->ino, strerror(err));
			return err == ENOMEM ? -ENOMEM : -EFAULT;
		}
		index += n;
	}
	pages_count_pinned((int64_t)(last - first + 1));
	return 0;
}

static int unpopulate(void *arg, uint64_t first, uint64_t last)
{
	(void)arg;
	/* The pages stay the file's; only the daemon's count changes. */
	pages_count_pinned(-(int64_t)(last - first + 1));
	return 0;
}

static int charge_and_populate(void *arg, uint64_t first, uint64_t last)
{
	struct pin_ctx *pc = arg;
	uint64_t n = last - first + 1;
	int ret;

	/* Charged before a single page is touched. */
	ret = account_charge(pc->u->mapper, n);
	if (ret)
		return ret;
	ret = runmap_add(&pc->mf->pinned, first, last, populate, unpopulate,
			 pc);
	if (ret)
		account_uncharge(pc->u->mapper, n);
	return ret;
}

static int uncharge_and_release(void *arg, uint64_t first, uint64_t last)
{
	struct pin_ctx *pc = arg;

	runmap_remove(&pc->mf->pinned, first, last, unpopulate, NULL);
	account_uncharge(pc->u->mapper, last - first + 1);
	return 0;
}

/* Under mf->lock. NULL when @b is NULL (never charged) or no memory. */
static struct bucket_pins *bucket_pins_get(struct memfile *mf,
					   struct charge_bucket *b)
{
	struct bucket_pins *bp;

	list_for_each_entry(bp, &mf->buckets, item)
		if (bp->bucket == b)
			return bp;
	bp = fail_nth_calloc(1, sizeof(*bp), "bucket pins");
	if (!bp)
		return NULL;
	bp->bucket = b;
	list_add_tail(&bp->item, &mf->buckets);
	return bp;
}

static void bucket_pins_trim(struct bucket_pins *bp)
{
	if (!runmap_empty(&bp->map))
		return;
	list_del(&bp->item);
	runmap_clear(&bp->map);
	free(bp);
}

/* Under mf->lock: -EINVAL unless page @last ends inside the file. */
static int mf_check_size(struct memfile *mf, uint64_t last)
{
	int fd = mf->fd_rw >= 0 ? mf->fd_rw : mf->fd_ro;
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return -EFAULT;
	if (last >= (uint64_t)st.st_size / PAGE_SIZE)
		return -EINVAL;
	return 0;
}

/*
 * Under mf->lock: one more pin for @u, charging its bucket for the pages
 * it did not hold yet and populating those no one held yet.
 */
static int mf_hold(struct memfile *mf, uint64_t first, uint64_t last,
		   const struct pin_user *u)
{
	struct charge_bucket *b = mapper_bucket(u->mapper);
	struct pin_ctx pc = { mf, u };
	struct bucket_pins *bp;
	int ret;

	if (!b)
		return runmap_add(&mf->pinned, first, last, populate,
				  unpopulate, &pc);
	bp = bucket_pins_get(mf, b);
	if (!bp)
		return -ENOMEM;
	ret = runmap_add(&bp->map, first, last, charge_and_populate,
			 uncharge_and_release, &pc);
	bucket_pins_trim(bp);
	return ret;
}

static int mf_pin(struct iopt_pages *p, uint64_t first, uint64_t last,
		  const struct pin_user *u)
{
	struct memfile *mf = mf_of(p);
	int ret;

	if (u->needs_live_mapper && !mapper_alive(u->mapper))
		return -EFAULT;
	pthread_mutex_lock(&mf->lock);
	/*
	 * A mapping of the file itself (IOAS_MAP_FILE) pins as the kernel's
	 * memfd_pin_folios() does: a range ending at or past the file's
	 * size is EINVAL. (A user VA mapping of it faults: EFAULT below.)
	 */
	if (!u->needs_live_mapper) {
		ret = mf_check_size(mf, last);
		if (ret)
			goto out;
	}
	ret = windows_ensure_or_trim(mf, first, last, u->writable);
	if (ret)
		goto out;
	ret = mf_hold(mf, first, last, u);
out:
	pthread_mutex_unlock(&mf->lock);
	return ret;
}

/* Pinned pages, pinned for @u too: only @u's bucket is left to charge. */
static int mf_repin(struct iopt_pages *p, uint64_t first, uint64_t last,
		    const struct pin_user *u)
{
	struct memfile *mf = mf_of(p);
	int ret;

	pthread_mutex_lock(&mf->lock);
	ret = mf_hold(mf, first, last, u);
	pthread_mutex_unlock(&mf->lock);
	return ret;
}

static void mf_unpin(struct iopt_pages *p, uint64_t first, uint64_t last,
		     const struct pin_user *u)
{
	struct memfile *mf = mf_of(p);
	struct charge_bucket *b = mapper_bucket(u->mapper);
	struct pin_ctx pc = { mf, u };
	struct bucket_pins *bp;

	pthread_mutex_lock(&mf->lock);
	if (!b) {
		runmap_remove(&mf->pinned, first, last, unpopulate, NULL);
	} else {
		bp = bucket_pins_get(mf, b);
		if (bp) {
			runmap_remove(&bp->map, first, last,
				      uncharge_and_release, &pc);
			bucket_pins_trim(bp);
		}
	}
	pthread_mutex_unlock(&mf->lock);
}

static uint64_t mf_paddr(struct iopt_pages *p, uint64_t index, bool writable,
			 uint64_t *contig)
{
	struct memfile *mf = mf_of(p);
	struct window *w;

	pthread_mutex_lock(&mf->lock);
	w = window_of(mf, index, writable);
	pthread_mutex_unlock(&mf->lock);
	*contig = WINDOW_PAGES - index % WINDOW_PAGES;
	/* Pinned pages always have their window; 0 only on a caller bug. */
	if (!w) {
		log_err("file %u:%lu: page %" PRIu64 " has no window",
			(unsigned int)mf->dev, (unsigned long)mf->ino, index);
		return 0;
	}
	return (uint64_t)(uintptr_t)w->addr + index % WINDOW_PAGES * PAGE_SIZE;
}

static int mf_rw(struct iopt_pages *p, uint64_t offset, void *buf, uint64_t len,
		 bool write)
{
	struct memfile *mf = mf_of(p);
	uint64_t last;
	int ret;

	if (!len)
		return 0;
	if (check_add_overflow_u64(offset, len - 1, &last))
		return -EFAULT;
	if (write && mf->fd_rw < 0)
		return -EPERM;
	pthread_mutex_lock(&mf->lock);
	ret = windows_ensure_or_trim(mf, offset / PAGE_SIZE, last / PAGE_SIZE,
				     write);
	pthread_mutex_unlock(&mf->lock);
	while (!ret && len) {
		uint64_t index = offset / PAGE_SIZE;
		uint64_t n = MEMFILE_WINDOW - offset % MEMFILE_WINDOW;
		struct window *w;

		if (n > len)
			n = len;
		pthread_mutex_lock(&mf->lock);
		w = window_of(mf, index, write);
		pthread_mutex_unlock(&mf->lock);
		ret = w ? window_rw(&w->range, offset % MEMFILE_WINDOW, buf, n,
				    write) :
			  -EFAULT;
		offset += n;
		buf = (char *)buf + n;
		len -= n;
	}
	return ret;
}

static void mf_info(struct iopt_pages *p, struct iopt_pages_info *info)
{
	struct memfile *mf = mf_of(p);

	pthread_mutex_lock(&mf->lock);
	info->npinned = mf->pinned.held;
	pthread_mutex_unlock(&mf->lock);
	info->base = (uint64_t)mf->dev;
	info->ino = (uint64_t)mf->ino;
	info->writable = mf->fd_rw >= 0;
}

static bool mf_holds(struct iopt_pages *p, uint64_t first, uint64_t last,
		     const struct page_key *key)
{
	struct memfile *mf = mf_of(p);

	return key->file && key->dev == mf->dev && key->ino == mf->ino &&
	       key->index >= first && key->index <= last;
}

void memfile_destroy(struct memfile *mf)
{
	struct bucket_pins *bp, *next;

	if (!runmap_empty(&mf->pinned))
		log_err("file %u:%lu freed with %" PRIu64 " pages pinned",
			(unsigned int)mf->dev, (unsigned long)mf->ino,
			mf->pinned.held);
	windows_unmap(mf, &mf->windows_ro);
	windows_unmap(mf, &mf->windows_rw);
	runmap_clear(&mf->pinned);
	list_for_each_entry_safe(bp, next, &mf->buckets, item) {
		runmap_clear(&bp->map);
		free(bp);
	}
	if (mf->fd_ro >= 0)
		close(mf->fd_ro);
	if (mf->fd_rw >= 0)
		close(mf->fd_rw);
	memfs_release(mf->dev);
	user_budget_uncharge(mf->budget, USER_BUDGET_FILES, 1);
	user_budget_put(mf->budget);
	pthread_mutex_destroy(&mf->lock);
	free(mf);
}

static void mf_release(struct iopt_pages *p)
{
	memfile_cache_release(mf_of(p));
}

static const struct iopt_pages_ops memfile_ops = {
	.kind = "file",
	.pin = mf_pin,
	.repin = mf_repin,
	.unpin = mf_unpin,
	.paddr = mf_paddr,
	.rw = mf_rw,
	.info = mf_info,
	.holds = mf_holds,
	.release = mf_release,
};

struct memfile *memfile_alloc(int fd, bool writable, const struct stat *st,
			      uid_t uid)
{
	struct user_budget *budget = user_budget_get(uid);
	struct memfile *mf;

	if (!budget || user_budget_charge(budget, USER_BUDGET_FILES, 1)) {
		user_budget_put(budget);
		return NULL;
	}
	mf = fail_nth_calloc(1, sizeof(*mf), "memory file");
	if (!mf) {
		user_budget_uncharge(budget, USER_BUDGET_FILES, 1);
		user_budget_put(budget);
		return NULL;
	}
	mf->budget = budget;
	mf->pages.ops = &memfile_ops;
	atomic_init(&mf->pages.refs, 1);
	mf->pages.npages = UINT64_MAX / PAGE_SIZE;
	list_init(&mf->hash_item);
	list_init(&mf->num_item);
	list_init(&mf->idle_item);
	mf->wd = -1;
	mf->dev = st->st_dev;
	mf->ino = st->st_ino;
	mf->fd_ro = writable ? -1 : fd;
	mf->fd_rw = writable ? fd : -1;
	mf->huge_size = st->st_blksize > (blksize_t)PAGE_SIZE ?
				(uint64_t)st->st_blksize :
				0;
	pthread_mutex_init(&mf->lock, NULL);
	list_init(&mf->buckets);
	mf->published = true;
	memfs_hold(mf->dev);
	return mf;
}

void memfile_adopt_fd(struct memfile *mf, int fd, bool writable)
{
	int *slot = writable ? &mf->fd_rw : &mf->fd_ro;

	pthread_mutex_lock(&mf->lock);
	if (*slot < 0) {
		*slot = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&mf->lock);
	if (fd >= 0)
		close(fd);
}

static void windows_publish(struct itree *tree, bool on)
{
	for (struct itree_node *n = itree_first(tree); n; n = itree_next(n)) {
		struct window *w = container_of(n, struct window, chunk);

		if (on)
			addrmap_insert(&w->range);
		else
			addrmap_remove(&w->range);
	}
}

void memfile_publish(struct memfile *mf, bool on)
{
	pthread_mutex_lock(&mf->lock);
	if (mf->published != on) {
		windows_publish(&mf->windows_ro, on);
		windows_publish(&mf->windows_rw, on);
		mf->published = on;
	}
	pthread_mutex_unlock(&mf->lock);
}
