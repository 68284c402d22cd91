/* SPDX-License-Identifier: MIT */
/*
 * The page table of a mock IOMMU domain.
 *
 * The mock IOMMU translates in 2 KiB IO pages, half a CPU page, so that the
 * selftests catch code that silently assumes IO pages and CPU pages match.
 * A domain may also use 1 MiB IOPTEs. The table is a sparse radix tree over
 * the whole 64-bit IOVA space, indexed by IOVA / 2048, with one entry per
 * 2 KiB IO page. A 1 MiB IOPTE occupies 512 consecutive entries, all marked
 * MOCK_PT_HUGE, so every per-2K query works the same for both sizes.
 *
 * Physical addresses are opaque: the table stores them and hands them back.
 * In the daemon they are host addresses of pinned memory.
 *
 * Not thread-safe; the owning domain serialises access.
 */
#ifndef IOMMUFDD_MOCK_PGTABLE_H
#define IOMMUFDD_MOCK_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define MOCK_IO_PAGE_SIZE 2048ULL
#define MOCK_HUGE_PAGE_SIZE (512 * MOCK_IO_PAGE_SIZE)

/* Flag bits of an entry, as reported by lookup and for_each. */
#define MOCK_PT_READ (1u << 0)
#define MOCK_PT_WRITE (1u << 1)
/* First and last 2 KiB of one map call: the granularity a later unmap must respect. */
#define MOCK_PT_START (1u << 2)
#define MOCK_PT_LAST (1u << 3)
#define MOCK_PT_DIRTY (1u << 4)
/* The entry is one 2 KiB slice of a 1 MiB IOPTE. */
#define MOCK_PT_HUGE (1u << 5)

struct mock_pgtable;

/* An empty table, or NULL when out of memory. */
struct mock_pgtable *mock_pgtable_new(void);
/* Free the table and everything still mapped in it. Accepts NULL. */
void mock_pgtable_free(struct mock_pgtable *pt);

/*
 * Map [iova, iova + len) to [paddr, paddr + len) with IOPTEs of @pgsize,
 * MOCK_IO_PAGE_SIZE or MOCK_HUGE_PAGE_SIZE. @iova, @paddr and @len must be
 * multiples of @pgsize and @len non-zero; @prot is MOCK_PT_READ and/or
 * MOCK_PT_WRITE. The first entry gets MOCK_PT_START and the last one
 * MOCK_PT_LAST.
 * Returns 0; -EINVAL for bad arguments; -EOVERFLOW when either range wraps
 * past 2^64; -EEXIST when any entry in the range is already present;
 * -ENOMEM. On any error the table is unchanged.
 */
int mock_pgtable_map(struct mock_pgtable *pt, uint64_t iova, uint64_t paddr,
		     uint64_t len, uint64_t pgsize, unsigned int prot);

/*
 * Clear entries from @iova upwards until @len bytes are gone or a hole is
 * met, and free nodes left empty. A range running past 2^64 is cut at the end
 * of the IOVA space. Returns the number of bytes unmapped: 0 when @iova is
 * not mapped, or when @iova or @len is not a multiple of MOCK_IO_PAGE_SIZE
 * (nothing is touched then). Parts of a 1 MiB IOPTE can be unmapped; the rest
 * keeps MOCK_PT_HUGE.
 */
uint64_t mock_pgtable_unmap(struct mock_pgtable *pt, uint64_t iova,
			    uint64_t len);

/*
 * Translate @iova (any alignment). Returns 0 with *paddr including the offset
 * within the 2 KiB page and *flags the entry's MOCK_PT_* bits (either pointer
 * may be NULL), or -ENOENT.
 * An entry of a dirty 1 MiB IOPTE reports MOCK_PT_DIRTY, whichever 2 KiB of
 * it was marked.
 */
int mock_pgtable_lookup(const struct mock_pgtable *pt, uint64_t iova,
			uint64_t *paddr, unsigned int *flags);

/*
 * Mark the IOPTE that contains @iova dirty: the 2 KiB entry, or the whole
 * 1 MiB IOPTE. Returns 0 or -ENOENT when @iova is not mapped.
 */
int mock_pgtable_set_dirty(struct mock_pgtable *pt, uint64_t iova);

typedef void (*mock_pgtable_dirty_fn)(void *arg, uint64_t iova, uint64_t size);

/*
 * Report every dirty IOPTE with an entry in [iova, iova + len) by calling
 * @fn once per IOPTE, in increasing IOVA order, with its IOVA and size
 * (MOCK_IO_PAGE_SIZE or MOCK_HUGE_PAGE_SIZE). A 1 MiB IOPTE is reported whole,
 * even when the range covers only part of it, because hardware keeps one dirty
 * bit per IOPTE. The dirty bits are cleared unless @keep. The range may have
 * any alignment and is cut at the end of the IOVA space. Returns 0.
 */
int mock_pgtable_read_and_clear_dirty(struct mock_pgtable *pt, uint64_t iova,
				      uint64_t len, bool keep,
				      mock_pgtable_dirty_fn fn, void *arg);

typedef int (*mock_pgtable_entry_fn)(void *arg, uint64_t iova, uint64_t paddr,
				     unsigned int flags);

/*
 * Call @fn for every present 2 KiB entry that intersects [iova, iova + len),
 * in increasing IOVA order, with the entry's IOVA, physical address and flags
 * (as lookup reports them). Holes cost nothing per page. A non-zero return
 * from @fn stops the walk and is returned; otherwise 0. @fn must not modify
 * the table.
 */
int mock_pgtable_for_each(const struct mock_pgtable *pt, uint64_t iova,
			  uint64_t len, mock_pgtable_entry_fn fn, void *arg);

/* Number of present 2 KiB entries (a 1 MiB IOPTE counts 512). */
uint64_t mock_pgtable_nr_entries(const struct mock_pgtable *pt);
/* Number of allocated tree nodes, 0 for an empty table. */
uint64_t mock_pgtable_nr_nodes(const struct mock_pgtable *pt);

#endif
