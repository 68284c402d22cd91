/* SPDX-License-Identifier: MIT */
/*
 * Shared memory files (shmem, hugetlbfs) as page storage: one storage per
 * file, found by its inode (memfile_cache.c), shared by every mapping of it
 * in any client. Its page index is the file page index.
 *
 * The daemon reaches the pages through its own mappings of the file, in
 * windows of MEMFILE_WINDOW bytes mapped on first use: the number of
 * daemon mappings grows with the files and gigabytes in use, not with the
 * number of MAPs. A window never has its pages locked or populated as a
 * whole; pinning populates exactly the pinned pages, after charging them.
 * Pinned pages' physical addresses are their window addresses. A window is
 * read-only unless the daemon holds the file open for writing, which it
 * does only once a caller proved it may write (a writable shared mapping,
 * or a descriptor open for writing).
 *
 * A storage whose last area went is kept idle for a short while (its
 * descriptor, windows and identity, none of its pins or charges), so that
 * the next MAP of the file reuses it; each request still proves its own
 * access to the file (memfile_cache.c says how).
 *
 * Locking: a global mutex over the cache of files; per file, a mutex over
 * its pins, charges and windows. Neither is held across anything that can
 * wait on a caller.
 */
#ifndef IOMMUFDD_MEMFILE_H
#define IOMMUFDD_MEMFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "caller.h"
#include "core.h"

#define MEMFILE_WINDOW (1ULL << 30)

struct memfile;
struct iopt_pages;

/*
 * In-request: the storage of the file behind the caller's shared mapping
 * @vma, reached through /proc/TID/map_files and checked to be the file the
 * caller's mapping still shows afterwards (@maps_fd). -EOPNOTSUPP when it
 * is not a memory file; -EAGAIN when the mapping changed meanwhile.
 */
int memfile_from_vma(const struct ucaller *caller, int maps_fd,
		     const struct vma_info *vma, struct memfile **out);

/*
 * In-request: the file behind the caller's descriptor @fd (MAP_FILE).
 * -EOPNOTSUPP when it is not a memory file, -EBADF; *writable says
 * whether the descriptor was open for writing.
 */
int memfile_from_caller_fd(const struct ucaller *caller, int fd,
			   struct memfile **out, bool *writable);

struct iopt_pages *memfile_pages(struct memfile *mf);
bool memfile_writable(const struct memfile *mf);

/* How many windows (daemon mappings) all files use, for inspection. */
uint64_t memfile_nr_windows(void);
/* How many files are kept idle for reuse, for inspection. */
uint64_t memfile_nr_idle(void);
/* Let go of every file kept idle, now (a client closed, or a test). */
void memfile_drop_idle(void);

#endif
