/* SPDX-License-Identifier: MIT */
/*
 * Page storage (iopt_pages): the memory an area maps, as an index space of
 * pages that can be pinned, addressed and read or written.
 *
 * What a MAP names is resolved while the caller waits in its request
 * (caller.h) and bound then, so nothing later can retarget it:
 *  - shared memory the kernel could pin long-term (shmem: memfd, tmpfs,
 *    MAP_SHARED|MAP_ANONYMOUS; hugetlbfs) becomes the storage of that file
 *    (memfile.c), verified to be the file the caller had mapped, with
 *    write access only if its mapping was writable. One storage per file:
 *    every MAP, MAP_FILE and COPY of any client that reaches a file shares
 *    it, and a page is pinned once however many areas hold it;
 *  - private memory stays in its process and is reached through handles
 *    on that address space opened during the MAP (privmem.c);
 *  - a range nothing was mapped at, or memory no pin could hold, gets a
 *    storage whose pin fails with the kernel's errno.
 * A MAP whose range crosses several of these gets a composite storage.
 *
 * Pins are counted per storage page (runmap.h) and charged to the mapper
 * (account.h) before memory is touched.
 */
#ifndef IOMMUFDD_PAGES_H
#define IOMMUFDD_PAGES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.h"

struct mapper;
struct iopt_pages;

/* Who a pin is for: the mapper charged and what the mapping allows. */
struct pin_user {
	struct mapper *mapper;
	/* A user-VA mapping: pinning fails once the mapping process is gone. */
	bool needs_live_mapper;
	bool writable;
};

struct iopt_pages_info {
	const char *kind; /* "file", "private", "composite", ... */
	pid_t tgid; /* private memory: its process */
	uint64_t base; /* file: device and inode in info->ino */
	uint64_t ino;
	uint64_t npinned;
	unsigned int refs;
	bool writable; /* write access was proven */
};

/* A page of memory as a caller names it (for the selftest checks). */
struct page_key {
	bool file;
	dev_t dev; /* file: device and inode, and the page in it */
	uint64_t ino;
	uint64_t index;
	pid_t tgid; /* private: the process and its address */
	uint64_t va;
};

struct iopt_pages_ops {
	const char *kind;
	int (*pin)(struct iopt_pages *p, uint64_t first, uint64_t last,
		   const struct pin_user *u);
	/*
	 * One more pin of pages [first, last] that are pinned already, for
	 * another user (IOMMU_IOAS_CHANGE_PROCESS): charged to @u as pin()
	 * would, without touching memory or checking the file again. Undone
	 * by unpin(@u). NULL for storages that are never moved (only file
	 * storage is, and what never pins has nothing to move).
	 */
	int (*repin)(struct iopt_pages *p, uint64_t first, uint64_t last,
		     const struct pin_user *u);
	void (*unpin)(struct iopt_pages *p, uint64_t first, uint64_t last,
		      const struct pin_user *u);
	/*
	 * Physical address of pinned page @index for an access that may
	 * write (@writable), and in *contig how many pages from @index on are
	 * physically contiguous (at least 1).
	 */
	uint64_t (*paddr)(struct iopt_pages *p, uint64_t index, bool writable,
			  uint64_t *contig);
	/* Bytes at @offset, pinned or not. 0, -EFAULT, -EPERM. */
	int (*rw)(struct iopt_pages *p, uint64_t offset, void *buf,
		  uint64_t len, bool write);
	void (*info)(struct iopt_pages *p, struct iopt_pages_info *info);
	/* Is @key one of the pages [first, last] of the storage? */
	bool (*holds)(struct iopt_pages *p, uint64_t first, uint64_t last,
		      const struct page_key *key);
	void (*release)(struct iopt_pages *p);
};

struct iopt_pages {
	const struct iopt_pages_ops *ops;
	atomic_uint refs; /* 0: static, never freed */
	uint64_t npages; /* indexes are [0, npages) */
};

/*
 * Bind the caller's [uptr, uptr + length) (in-request) for a mapping that
 * may write (@writable) or not. The area maps the storage from byte
 * *start_byte on. 0, -ENOMEM, -EPERM (out of reach), -ESRCH (caller gone).
 */
int iopt_pages_from_user(const struct ucaller *caller, uint64_t uptr,
			 uint64_t length, bool writable,
			 struct iopt_pages **pages, uint64_t *start_byte);
/*
 * Bind [start, start + length) of the caller's descriptor @fd. -EBADF,
 * -EPERM for a writable map of a file not open for writing.
 */
int iopt_pages_from_file(const struct ucaller *caller, int fd, uint64_t start,
			 uint64_t length, bool writable,
			 struct iopt_pages **pages, uint64_t *start_byte);

struct iopt_pages *iopt_pages_get(struct iopt_pages *p);
void iopt_pages_put(struct iopt_pages *p);

static inline int iopt_pages_pin(struct iopt_pages *p, uint64_t first,
				 uint64_t last, const struct pin_user *u)
{
	return p->ops->pin(p, first, last, u);
}

/* A storage without repin has no pins to move: -EINVAL, a caller's bug. */
static inline int iopt_pages_repin(struct iopt_pages *p, uint64_t first,
				   uint64_t last, const struct pin_user *u)
{
	return p->ops->repin ? p->ops->repin(p, first, last, u) : -EINVAL;
}

static inline void iopt_pages_unpin(struct iopt_pages *p, uint64_t first,
				    uint64_t last, const struct pin_user *u)
{
	p->ops->unpin(p, first, last, u);
}

static inline uint64_t iopt_pages_paddr(struct iopt_pages *p, uint64_t index,
					bool writable, uint64_t *contig)
{
	return p->ops->paddr(p, index, writable, contig);
}

static inline int iopt_pages_rw(struct iopt_pages *p, uint64_t offset,
				void *buf, uint64_t len, bool write)
{
	return p->ops->rw(p, offset, buf, len, write);
}

void iopt_pages_get_info(struct iopt_pages *p, struct iopt_pages_info *info);

static inline bool iopt_pages_holds(struct iopt_pages *p, uint64_t first,
				    uint64_t last, const struct page_key *key)
{
	return p->ops->holds && p->ops->holds(p, first, last, key);
}

/* Storages whose pin always fails: nothing mapped, or no memory to pin. */
extern struct iopt_pages iopt_pages_unmapped; /* EFAULT */
extern struct iopt_pages iopt_pages_not_memory; /* EINVAL (MAP_FILE) */
/*
 * What a caller the daemon cannot reach maps: the mapping is made, as the
 * kernel touches no memory before a domain needs it; a pin fails (EPERM).
 */
extern struct iopt_pages iopt_pages_unreachable;

/* Start-up: learn the memory file systems. 0 or -errno. */
int pages_init(void);

/* Pages pinned in all storages, and the storages' way to count them. */
uint64_t pages_pinned_total(void);
void pages_count_pinned(int64_t delta);

/* Memory limit for pinned pages per pin operation (selftest). */
void pages_set_temp_memory_limit(unsigned int limit);

#endif
