/* SPDX-License-Identifier: MIT */
/*
 * Inside the memory-file storage (memfile.h): what the storage itself
 * (memfile.c: windows, pins, DMA) and the cache that finds a file's storage
 * and keeps it for the next MAP (memfile_cache.c) share.
 *
 * Lock order: the cache's lock, then a file's lock, then the physical
 * address map's (addrmap.h). Nothing takes the cache's lock while it holds
 * a file's.
 */
#ifndef IOMMUFDD_MEMFILE_PRIV_H
#define IOMMUFDD_MEMFILE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "interval_tree.h"
#include "pages.h"
#include "runmap.h"
#include "util.h"

struct user_budget;

struct memfile {
	/* refs: areas, accesses, requests binding it; 0 while idle */
	struct iopt_pages pages;

	/* The cache's, under its lock. */
	struct list_head hash_item; /* findable by wd while wd >= 0 */
	/* and by number, if its numbers are unique (memfs.h), while cached */
	struct list_head num_item;
	struct list_head idle_item; /* on the idle list while idle */
	uint64_t idle_since_ns;
	int wd; /* the inode's inotify watch, its identity; -1: not cached */
	bool idle; /* no references, kept for reuse */

	/* Set at creation. */
	struct user_budget *budget; /* charged one file, until destroyed */
	dev_t dev;
	ino_t ino;
	uint64_t huge_size; /* hugetlbfs page size, or 0 */

	pthread_mutex_t lock; /* everything below */
	int fd_ro, fd_rw; /* -1 when not held */
	struct runmap pinned; /* users of each page: areas, accesses */
	struct list_head buckets; /* struct bucket_pins */
	struct itree windows_ro, windows_rw;
	bool published; /* the windows are in the physical address map */
};

/* ---- memfile.c ---------------------------------------------------------- */

/*
 * A storage holding @fd (the file @st describes), one reference, charged
 * to @uid's budget of files; or NULL (no memory, or over that budget).
 */
struct memfile *memfile_alloc(int fd, bool writable, const struct stat *st,
			      uid_t uid);
/* Unmap, close and free a storage nobody references or can find. */
void memfile_destroy(struct memfile *mf);
/* Give @mf the descriptor @fd (taking it) if it lacks one of that mode. */
void memfile_adopt_fd(struct memfile *mf, int fd, bool writable);
/*
 * Put @mf's windows in the physical address map (@on) or take them out
 * (idle: no domain may reach its pages by a stale address).
 */
void memfile_publish(struct memfile *mf, bool on);

/* ---- memfile_cache.c ---------------------------------------------------- */

/* The last reference to @mf is gone: keep it idle, or destroy it. */
void memfile_cache_release(struct memfile *mf);
/* Destroy every idle storage now (their windows are wanted). */
bool memfile_cache_trim(void);

#endif
