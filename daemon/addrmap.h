/* SPDX-License-Identifier: MIT */
/*
 * The daemon's "physical" address space: the numbers domains map IOVAs to.
 *
 * Shared memory is mapped into the daemon in windows (memfile.c), and a
 * page's physical address is its address in a window, which a real IOMMU
 * (VFIO) can be given as a vaddr. Private memory stays in its process; its
 * pinned pages get numbers from a range no daemon mapping can use (above
 * the 47-bit user address space), so the two never collide.
 *
 * Every range has an owner that performs DMA on it. Lookups take a
 * reference on the owner, so the registry lock is never held while memory
 * is touched (which may fault, or wait on the owning process).
 *
 * Locking: a rwlock over the registry; owners are refcounted by their ops.
 */
#ifndef IOMMUFDD_ADDRMAP_H
#define IOMMUFDD_ADDRMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "interval_tree.h"

struct addr_range;

struct addr_owner_ops {
	/* Copy @len bytes at @offset into the range. 0 or -EFAULT. */
	int (*rw)(struct addr_range *r, uint64_t offset, void *buf,
		  uint64_t len, bool write);
	/* The page frame behind the page at @offset: 0, or -errno. */
	int (*pfn)(struct addr_range *r, uint64_t offset, uint64_t *pfn);
	void (*get)(struct addr_range *r);
	void (*put)(struct addr_range *r);
};

struct addr_range {
	struct itree_node node; /* [start, last] physical addresses */
	const struct addr_owner_ops *ops;
};

/* Register @r, whose node.start and node.last are set. */
void addrmap_insert(struct addr_range *r);
void addrmap_remove(struct addr_range *r);

/*
 * Reserve @len bytes (a multiple of the page size, aligned to @align) of
 * the private-memory number space for @r and register it. 0 or -ENOMEM.
 */
int addrmap_insert_private(struct addr_range *r, uint64_t len, uint64_t align);

/*
 * Is @paddr private memory (a number, not an address the daemon can use)?
 * A real IOMMU can only be given daemon addresses.
 */
bool addrmap_is_private(uint64_t paddr);

/* DMA on physical addresses, across ranges. 0, or -EFAULT for a hole. */
int phys_rw(uint64_t paddr, void *buf, uint64_t length, bool write);
/* The frame behind the page at @paddr. 0, -ENOENT for a hole, -errno. */
int phys_to_pfn(uint64_t paddr, uint64_t *pfn);

/*
 * Copy between daemon memory and a daemon mapping that may have lost its
 * pages (a shared file truncated under it): -EFAULT instead of SIGBUS.
 */
int safe_copy(void *dst, const void *src, uint64_t len, bool to_mapping);

#endif
