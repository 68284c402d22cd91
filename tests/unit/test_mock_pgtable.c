// SPDX-License-Identifier: MIT
/*
 * Unit tests for the mock IOMMU page table (daemon/mock_pgtable.c).
 *
 * Link with -Wl,--wrap=calloc to enable the allocation-failure sweep; without
 * it that test skips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/mock_pgtable.h"

#define SZ_2K MOCK_IO_PAGE_SIZE
#define SZ_1M MOCK_HUGE_PAGE_SIZE
#define RW (MOCK_PT_READ | MOCK_PT_WRITE)

/* --- allocation failure injection (active only with --wrap=calloc) --- */

extern void *__real_calloc(size_t n, size_t size) __attribute__((weak));
void *__wrap_calloc(size_t n, size_t size);

static unsigned long calloc_calls;
/* Number of callocs that still succeed; negative means no injection. */
static long calloc_budget = -1;

void *__wrap_calloc(size_t n, size_t size)
{
	calloc_calls++;
	if (calloc_budget == 0)
		return NULL;
	if (calloc_budget > 0)
		calloc_budget--;
	return __real_calloc(n, size);
}

/* --- helpers --- */

struct dirty_log {
	unsigned int n;
	uint64_t iova[8192];
	uint64_t size[8192];
};

static void dirty_record(void *arg, uint64_t iova, uint64_t size)
{
	struct dirty_log *log = arg;

	assert_true(log->n < 8192);
	log->iova[log->n] = iova;
	log->size[log->n] = size;
	log->n++;
}

static unsigned int read_dirty(struct mock_pgtable *pt, uint64_t iova,
			       uint64_t len, bool keep, struct dirty_log *log)
{
	log->n = 0;
	assert_int_equal(mock_pgtable_read_and_clear_dirty(pt, iova, len, keep,
							   dirty_record, log),
			 0);
	return log->n;
}

static struct mock_pgtable *new_pt(void)
{
	struct mock_pgtable *pt = mock_pgtable_new();

	assert_non_null(pt);
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	return pt;
}

/* Every 2K page of [iova, iova + len) maps to paddr + the same offset. */
static void check_mapped(const struct mock_pgtable *pt, uint64_t iova,
			 uint64_t paddr, uint64_t len, unsigned int want_flags,
			 unsigned int mask)
{
	uint64_t off;

	for (off = 0; off < len; off += SZ_2K) {
		uint64_t pa = 0;
		unsigned int flags = 0;

		assert_int_equal(mock_pgtable_lookup(pt, iova + off + 5, &pa,
						     &flags),
				 0);
		assert_int_equal(pa, paddr + off + 5);
		assert_int_equal(flags & mask, want_flags);
	}
}

static void check_unmapped(const struct mock_pgtable *pt, uint64_t iova,
			   uint64_t len)
{
	uint64_t off;

	for (off = 0; off < len; off += SZ_2K)
		assert_int_equal(mock_pgtable_lookup(pt, iova + off, NULL,
						     NULL),
				 -ENOENT);
}

/* --- basic mapping --- */

static void test_empty(void **state)
{
	struct mock_pgtable *pt = new_pt();
	struct dirty_log log;

	(void)state;
	assert_int_equal(mock_pgtable_lookup(pt, 0, NULL, NULL), -ENOENT);
	assert_int_equal(mock_pgtable_lookup(pt, UINT64_MAX, NULL, NULL),
			 -ENOENT);
	assert_int_equal(mock_pgtable_unmap(pt, 0, 1ULL << 40), 0);
	assert_int_equal(mock_pgtable_set_dirty(pt, 4096), -ENOENT);
	assert_int_equal(read_dirty(pt, 0, UINT64_MAX, false, &log), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
	mock_pgtable_free(NULL);
}

static void test_map_lookup(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t iova = 1ULL << 24, paddr = 0x7f0000123800ULL, pa;
	unsigned int flags;

	(void)state;
	assert_int_equal(
		mock_pgtable_map(pt, iova, paddr, 3 * SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(mock_pgtable_nr_entries(pt), 3);
	check_mapped(pt, iova, paddr, 3 * SZ_2K, RW, RW | MOCK_PT_HUGE);

	assert_int_equal(mock_pgtable_lookup(pt, iova, &pa, &flags), 0);
	assert_int_equal(pa, paddr);
	assert_int_equal(flags, RW | MOCK_PT_START);
	assert_int_equal(
		mock_pgtable_lookup(pt, iova + SZ_2K + 2047, &pa, &flags), 0);
	assert_int_equal(pa, paddr + SZ_2K + 2047);
	assert_int_equal(flags, RW);
	assert_int_equal(mock_pgtable_lookup(pt, iova + 2 * SZ_2K, &pa, &flags),
			 0);
	assert_int_equal(flags, RW | MOCK_PT_LAST);

	check_unmapped(pt, iova - SZ_2K, SZ_2K);
	check_unmapped(pt, iova + 3 * SZ_2K, SZ_2K);

	/* A single page is both first and last; permissions are kept. */
	assert_int_equal(mock_pgtable_map(pt, 0x40000000, 0x1000, SZ_2K, SZ_2K,
					  MOCK_PT_READ),
			 0);
	assert_int_equal(mock_pgtable_lookup(pt, 0x40000000, &pa, &flags), 0);
	assert_int_equal(flags, MOCK_PT_READ | MOCK_PT_START | MOCK_PT_LAST);
	assert_int_equal(mock_pgtable_nr_entries(pt), 4);
	mock_pgtable_free(pt);
}

static void test_map_invalid(void **state)
{
	struct mock_pgtable *pt = new_pt();

	(void)state;
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_2K, 4096, RW), -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_2K, 0, RW), -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, 0, SZ_2K, RW), -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 1024, 0, SZ_2K, SZ_2K, RW),
			 -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 1024, SZ_2K, SZ_2K, RW),
			 -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, 3072, SZ_2K, RW), -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, SZ_2K, 0, SZ_1M, SZ_1M, RW),
			 -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, SZ_2K, SZ_1M, SZ_1M, RW),
			 -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_1M + SZ_2K, SZ_1M, RW),
			 -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_2K, SZ_2K,
					  MOCK_PT_DIRTY),
			 -EINVAL);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_2K, SZ_2K,
					  MOCK_PT_START | MOCK_PT_READ),
			 -EINVAL);
	/* Ranges that wrap past 2^64, in IOVA or physical space. */
	assert_int_equal(mock_pgtable_map(pt, 0ULL - SZ_2K, 0, 2 * SZ_2K, SZ_2K,
					  RW),
			 -EOVERFLOW);
	assert_int_equal(mock_pgtable_map(pt, 0, 0ULL - SZ_1M, 2 * SZ_1M, SZ_1M,
					  RW),
			 -EOVERFLOW);
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
}

static void test_map_near_zero(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t pa;
	unsigned int flags;

	(void)state;
	/* IOVA 0 to physical 0 with no permissions is still a mapping. */
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_2K, SZ_2K, 0), 0);
	assert_int_equal(mock_pgtable_lookup(pt, 0, &pa, &flags), 0);
	assert_int_equal(pa, 0);
	assert_int_equal(flags, MOCK_PT_START | MOCK_PT_LAST);
	assert_int_equal(mock_pgtable_lookup(pt, 2047, &pa, NULL), 0);
	assert_int_equal(pa, 2047);
	assert_int_equal(mock_pgtable_map(pt, 0, 0, SZ_2K, SZ_2K, RW), -EEXIST);
	assert_int_equal(
		mock_pgtable_map(pt, SZ_2K, 0, SZ_1M - SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(mock_pgtable_nr_entries(pt), 512);
	assert_int_equal(mock_pgtable_unmap(pt, 0, SZ_1M), SZ_1M);
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
}

static void test_map_near_top(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t top_page = 0ULL - SZ_2K, top_mb = 0ULL - 4 * SZ_1M, pa;
	unsigned int flags;
	struct dirty_log log;

	(void)state;
	assert_int_equal(
		mock_pgtable_map(pt, top_page, top_page, SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(mock_pgtable_lookup(pt, UINT64_MAX, &pa, &flags), 0);
	assert_int_equal(pa, UINT64_MAX);
	assert_int_equal(flags, RW | MOCK_PT_START | MOCK_PT_LAST);
	assert_int_equal(mock_pgtable_set_dirty(pt, UINT64_MAX), 0);
	assert_int_equal(read_dirty(pt, UINT64_MAX, 1, false, &log), 1);
	assert_int_equal(log.iova[0], top_page);
	assert_int_equal(log.size[0], SZ_2K);
	/* An unmap running past 2^64 is cut at the end of the space. */
	assert_int_equal(mock_pgtable_unmap(pt, top_page, 1ULL << 20), SZ_2K);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);

	/* The last 4 MiB with huge pages, up to and including 2^64 - 1. */
	assert_int_equal(mock_pgtable_map(pt, top_mb, 1ULL << 40, 4 * SZ_1M,
					  SZ_1M, RW),
			 0);
	check_mapped(pt, top_mb, 1ULL << 40, 4 * SZ_1M, RW | MOCK_PT_HUGE,
		     RW | MOCK_PT_HUGE);
	assert_int_equal(mock_pgtable_set_dirty(pt, UINT64_MAX - 17), 0);
	assert_int_equal(read_dirty(pt, top_mb, UINT64_MAX, true, &log), 1);
	assert_int_equal(log.iova[0], 0ULL - SZ_1M);
	assert_int_equal(log.size[0], SZ_1M);
	assert_int_equal(mock_pgtable_unmap(pt, top_mb, 0ULL - top_mb),
			 4 * SZ_1M);
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);

	/* A 2K mapping straddling the middle of the space. */
	assert_int_equal(mock_pgtable_map(pt, (1ULL << 63) - SZ_2K, 0,
					  2 * SZ_2K, SZ_2K, RW),
			 0);
	check_mapped(pt, (1ULL << 63) - SZ_2K, 0, 2 * SZ_2K, RW, RW);
	assert_int_equal(mock_pgtable_unmap(pt, (1ULL << 63) - SZ_2K,
					    4 * SZ_2K),
			 2 * SZ_2K);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
}

static void test_huge(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t iova = 16 * SZ_1M, paddr = 0x100000000ULL;
	unsigned int flags;

	(void)state;
	assert_int_equal(mock_pgtable_map(pt, iova, paddr, 4 * SZ_1M, SZ_1M,
					  MOCK_PT_WRITE),
			 0);
	assert_int_equal(mock_pgtable_nr_entries(pt), 4 * 512);
	check_mapped(pt, iova, paddr, 4 * SZ_1M, MOCK_PT_WRITE | MOCK_PT_HUGE,
		     RW | MOCK_PT_HUGE | MOCK_PT_DIRTY);
	/* START and LAST mark the whole call, not each 1 MiB IOPTE. */
	assert_int_equal(mock_pgtable_lookup(pt, iova, NULL, &flags), 0);
	assert_true(flags & MOCK_PT_START);
	assert_false(flags & MOCK_PT_LAST);
	assert_int_equal(mock_pgtable_lookup(pt, iova + SZ_1M, NULL, &flags),
			 0);
	assert_false(flags & (MOCK_PT_START | MOCK_PT_LAST));
	assert_int_equal(
		mock_pgtable_lookup(pt, iova + 4 * SZ_1M - 1, NULL, &flags), 0);
	assert_true(flags & MOCK_PT_LAST);
	assert_false(flags & MOCK_PT_START);

	/* 2K and huge mappings sit side by side. */
	assert_int_equal(
		mock_pgtable_map(pt, iova - SZ_2K, 0, SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(mock_pgtable_lookup(pt, iova - SZ_2K, NULL, &flags),
			 0);
	assert_false(flags & MOCK_PT_HUGE);
	assert_int_equal(mock_pgtable_map(pt, iova + 2 * SZ_1M, 0, SZ_1M, SZ_1M,
					  RW),
			 -EEXIST);

	/* Part of a huge IOPTE can go; the rest stays huge. */
	assert_int_equal(mock_pgtable_unmap(pt, iova, SZ_2K), SZ_2K);
	assert_int_equal(mock_pgtable_lookup(pt, iova + SZ_2K, NULL, &flags),
			 0);
	assert_true(flags & MOCK_PT_HUGE);
	/* Unmap stops at the hole just made. */
	assert_int_equal(mock_pgtable_unmap(pt, iova - SZ_2K, 8 * SZ_1M),
			 SZ_2K);
	assert_int_equal(mock_pgtable_nr_entries(pt), 4 * 512 - 1);
	assert_int_equal(mock_pgtable_unmap(pt, iova + SZ_2K, 8 * SZ_1M),
			 4 * SZ_1M - SZ_2K);
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
}

static int collect_entry(void *arg, uint64_t iova, uint64_t paddr,
			 unsigned int flags)
{
	uint64_t *seen = arg;

	(void)flags;
	assert_int_equal(paddr, iova + 0x10000000);
	seen[0]++;
	seen[1] = iova;
	return seen[0] == seen[2] ? 99 : 0;
}

static void test_for_each(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t seen[3];

	(void)state;
	assert_int_equal(
		mock_pgtable_map(pt, 0, 0x10000000, 4 * SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(mock_pgtable_map(pt, 1ULL << 50,
					  (1ULL << 50) + 0x10000000, SZ_1M,
					  SZ_1M, RW),
			 0);

	memset(seen, 0, sizeof(seen));
	assert_int_equal(mock_pgtable_for_each(pt, 0, UINT64_MAX, collect_entry,
					       seen),
			 0);
	assert_int_equal(seen[0], 4 + 512);
	assert_int_equal(seen[1], (1ULL << 50) + SZ_1M - SZ_2K);

	/* A partial page at each end still counts. */
	memset(seen, 0, sizeof(seen));
	assert_int_equal(mock_pgtable_for_each(pt, SZ_2K + 1, SZ_2K,
					       collect_entry, seen),
			 0);
	assert_int_equal(seen[0], 2);

	/* A non-zero return stops the walk and comes back. */
	memset(seen, 0, sizeof(seen));
	seen[2] = 6;
	assert_int_equal(mock_pgtable_for_each(pt, 0, UINT64_MAX, collect_entry,
					       seen),
			 99);
	assert_int_equal(seen[0], 6);
	assert_int_equal(seen[1], (1ULL << 50) + SZ_2K);
	mock_pgtable_free(pt);
}

/* --- overlap and unmap --- */

static void test_eexist_unchanged(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t base = 64 * SZ_1M, nodes;

	(void)state;
	assert_int_equal(mock_pgtable_map(pt, base, 0, 2 * SZ_2K, SZ_2K, RW),
			 0);
	nodes = mock_pgtable_nr_nodes(pt);

	/* Starts in untouched leaves far below, ends on the existing page. */
	assert_int_equal(mock_pgtable_map(pt, base - 3 * SZ_1M, 0,
					  3 * SZ_1M + SZ_2K, SZ_2K, RW),
			 -EEXIST);
	/* Overlaps only the last page. */
	assert_int_equal(mock_pgtable_map(pt, base + SZ_2K, 0, SZ_1M, SZ_2K,
					  RW),
			 -EEXIST);
	/* A huge IOPTE over the leaf holding them. */
	assert_int_equal(mock_pgtable_map(pt, base, 0, SZ_1M, SZ_1M, RW),
			 -EEXIST);
	assert_int_equal(mock_pgtable_nr_entries(pt), 2);
	assert_int_equal(mock_pgtable_nr_nodes(pt), nodes);
	check_unmapped(pt, base - 3 * SZ_1M, 3 * SZ_1M);
	check_unmapped(pt, base + 2 * SZ_2K, SZ_1M);
	check_mapped(pt, base, 0, 2 * SZ_2K, RW, RW);

	/* Right next to it is fine. */
	assert_int_equal(
		mock_pgtable_map(pt, base + 2 * SZ_2K, 0, SZ_2K, SZ_2K, RW), 0);
	mock_pgtable_free(pt);
}

static void test_unmap_holes(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t base = 32 * SZ_1M;

	(void)state;
	/* [0, 8K) and [12K, 16K), then a page two leaves further on. */
	assert_int_equal(mock_pgtable_map(pt, base, 0, 4 * SZ_2K, SZ_2K, RW),
			 0);
	assert_int_equal(mock_pgtable_map(pt, base + 6 * SZ_2K, 0, 2 * SZ_2K,
					  SZ_2K, RW),
			 0);
	assert_int_equal(
		mock_pgtable_map(pt, base + 2 * SZ_1M, 0, SZ_2K, SZ_2K, RW), 0);

	assert_int_equal(mock_pgtable_unmap(pt, base + 4 * SZ_2K, SZ_2K), 0);
	/* Misaligned requests touch nothing. */
	assert_int_equal(mock_pgtable_unmap(pt, base + 1, SZ_2K), 0);
	assert_int_equal(mock_pgtable_unmap(pt, base, SZ_2K + 1), 0);
	assert_int_equal(mock_pgtable_unmap(pt, base, 0), 0);
	assert_int_equal(mock_pgtable_nr_entries(pt), 7);

	assert_int_equal(mock_pgtable_unmap(pt, base + SZ_2K, 16 * SZ_2K),
			 3 * SZ_2K);
	check_mapped(pt, base, 0, SZ_2K, RW, RW);
	check_unmapped(pt, base + SZ_2K, 5 * SZ_2K);
	check_mapped(pt, base + 6 * SZ_2K, 0, 2 * SZ_2K, RW, RW);

	/* The hole can be a whole missing leaf. */
	assert_int_equal(mock_pgtable_unmap(pt, base + 6 * SZ_2K, 4 * SZ_1M),
			 2 * SZ_2K);
	assert_int_equal(mock_pgtable_nr_entries(pt), 2);
	/* Length is honoured exactly. */
	assert_int_equal(
		mock_pgtable_map(pt, base + SZ_2K, 0, 2 * SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(mock_pgtable_unmap(pt, base, 2 * SZ_2K), 2 * SZ_2K);
	check_mapped(pt, base + 2 * SZ_2K, SZ_2K, SZ_2K, RW, RW);
	mock_pgtable_free(pt);
}

/* --- dirty tracking --- */

static void test_dirty_small(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t base = 16 * SZ_1M;
	unsigned int flags;
	struct dirty_log log;

	(void)state;
	assert_int_equal(mock_pgtable_map(pt, base, 0, 8 * SZ_2K, SZ_2K, RW),
			 0);
	assert_int_equal(mock_pgtable_set_dirty(pt, base - 1), -ENOENT);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 8 * SZ_2K), -ENOENT);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + SZ_2K + 100), 0);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 5 * SZ_2K), 0);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 5 * SZ_2K), 0);
	assert_int_equal(mock_pgtable_lookup(pt, base + SZ_2K, NULL, &flags),
			 0);
	assert_int_equal(flags, RW | MOCK_PT_DIRTY);
	assert_int_equal(mock_pgtable_lookup(pt, base, NULL, &flags), 0);
	assert_false(flags & MOCK_PT_DIRTY);

	/* keep leaves the bits alone. */
	assert_int_equal(read_dirty(pt, base, 8 * SZ_2K, true, &log), 2);
	assert_int_equal(log.iova[0], base + SZ_2K);
	assert_int_equal(log.size[0], SZ_2K);
	assert_int_equal(log.iova[1], base + 5 * SZ_2K);
	assert_int_equal(read_dirty(pt, base, 8 * SZ_2K, true, &log), 2);

	/* Only the range asked for is read and cleared. */
	assert_int_equal(read_dirty(pt, base + 4 * SZ_2K, SZ_2K, false, &log),
			 0);
	assert_int_equal(
		read_dirty(pt, base + 5 * SZ_2K + 2047, 1, false, &log), 1);
	assert_int_equal(log.iova[0], base + 5 * SZ_2K);
	assert_int_equal(read_dirty(pt, 0, UINT64_MAX, false, &log), 1);
	assert_int_equal(log.iova[0], base + SZ_2K);
	assert_int_equal(read_dirty(pt, 0, UINT64_MAX, false, &log), 0);
	assert_int_equal(mock_pgtable_lookup(pt, base + SZ_2K, NULL, &flags),
			 0);
	assert_int_equal(flags, RW);

	/* Unmapping forgets the dirty bit. */
	assert_int_equal(mock_pgtable_set_dirty(pt, base), 0);
	assert_int_equal(mock_pgtable_unmap(pt, base, SZ_2K), SZ_2K);
	assert_int_equal(mock_pgtable_map(pt, base, 0, SZ_2K, SZ_2K, RW), 0);
	assert_int_equal(read_dirty(pt, 0, UINT64_MAX, false, &log), 0);
	mock_pgtable_free(pt);
}

static void test_dirty_huge(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t base = 16 * SZ_1M;
	unsigned int flags;
	struct dirty_log log;

	(void)state;
	assert_int_equal(mock_pgtable_map(pt, base, 0, 3 * SZ_1M, SZ_1M, RW),
			 0);
	assert_int_equal(mock_pgtable_map(pt, base + 3 * SZ_1M, 0, 2 * SZ_2K,
					  SZ_2K, RW),
			 0);
	/* Any 2K of the IOPTE dirties all of it. */
	assert_int_equal(mock_pgtable_set_dirty(pt, base + SZ_1M + 300 * SZ_2K),
			 0);
	check_mapped(pt, base + SZ_1M, 0 + SZ_1M, SZ_1M,
		     RW | MOCK_PT_HUGE | MOCK_PT_DIRTY,
		     RW | MOCK_PT_HUGE | MOCK_PT_DIRTY);
	check_mapped(pt, base, 0, SZ_1M, RW | MOCK_PT_HUGE,
		     RW | MOCK_PT_HUGE | MOCK_PT_DIRTY);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 3 * SZ_1M + SZ_2K),
			 0);

	/* A read of one page inside reports the whole IOPTE, once. */
	assert_int_equal(
		read_dirty(pt, base + SZ_1M + 7 * SZ_2K, SZ_2K, true, &log), 1);
	assert_int_equal(log.iova[0], base + SZ_1M);
	assert_int_equal(log.size[0], SZ_1M);
	assert_int_equal(read_dirty(pt, base, 8 * SZ_1M, true, &log), 2);
	assert_int_equal(log.iova[0], base + SZ_1M);
	assert_int_equal(log.size[0], SZ_1M);
	assert_int_equal(log.iova[1], base + 3 * SZ_1M + SZ_2K);
	assert_int_equal(log.size[1], SZ_2K);

	assert_int_equal(read_dirty(pt, base + 2 * SZ_1M - 1, 2, false, &log),
			 1);
	assert_int_equal(log.iova[0], base + SZ_1M);
	assert_int_equal(mock_pgtable_lookup(pt, base + SZ_1M, NULL, &flags),
			 0);
	assert_false(flags & MOCK_PT_DIRTY);
	assert_int_equal(read_dirty(pt, base, 8 * SZ_1M, false, &log), 1);
	assert_int_equal(log.iova[0], base + 3 * SZ_1M + SZ_2K);
	assert_int_equal(read_dirty(pt, base, 8 * SZ_1M, false, &log), 0);

	/*
	 * The remains of a partly unmapped huge IOPTE are still one IOPTE,
	 * and 2K pages mapped into its gap are separate ones.
	 */
	assert_int_equal(mock_pgtable_unmap(pt, base + 2 * SZ_1M, 2 * SZ_2K),
			 2 * SZ_2K);
	assert_int_equal(mock_pgtable_map(pt, base + 2 * SZ_1M + SZ_2K, 0,
					  SZ_2K, SZ_2K, RW),
			 0);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 2 * SZ_1M + SZ_2K),
			 0);
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 3 * SZ_1M - 1), 0);
	assert_int_equal(read_dirty(pt, base + 2 * SZ_1M, SZ_1M, false, &log),
			 2);
	assert_int_equal(log.iova[0], base + 2 * SZ_1M);
	assert_int_equal(log.size[0], SZ_1M);
	assert_int_equal(log.iova[1], base + 2 * SZ_1M + SZ_2K);
	assert_int_equal(log.size[1], SZ_2K);

	/* Once the huge entries are gone, their dirty bit goes too. */
	assert_int_equal(mock_pgtable_set_dirty(pt, base + 3 * SZ_1M - 1), 0);
	assert_int_equal(mock_pgtable_unmap(pt, base + 2 * SZ_1M + 2 * SZ_2K,
					    SZ_1M - 2 * SZ_2K),
			 SZ_1M - 2 * SZ_2K);
	assert_int_equal(mock_pgtable_map(pt, base + 2 * SZ_1M + 2 * SZ_2K, 0,
					  SZ_2K, SZ_2K, RW),
			 0);
	assert_int_equal(read_dirty(pt, base + 2 * SZ_1M, SZ_1M, false, &log),
			 0);
	mock_pgtable_free(pt);
}

/* --- memory --- */

static void test_node_freeing(void **state)
{
	static const uint64_t where[] = {
		0,	    1ULL << 24,	      1ULL << 40, (1ULL << 56) - SZ_1M,
		1ULL << 63, 0ULL - 2 * SZ_1M,
	};
	struct mock_pgtable *pt = new_pt();
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		assert_int_equal(mock_pgtable_map(pt, where[i], where[i], SZ_1M,
						  SZ_1M, RW),
				 0);
		assert_int_equal(mock_pgtable_map(pt, where[i] + SZ_1M, 0,
						  3 * SZ_2K, SZ_2K, RW),
				 0);
	}
	assert_int_equal(mock_pgtable_nr_entries(pt), 6 * (512 + 3));
	assert_true(mock_pgtable_nr_nodes(pt) > 6);
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		assert_int_equal(mock_pgtable_unmap(pt, where[i], 2 * SZ_1M),
				 SZ_1M + 3 * SZ_2K);
	}
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);

	/* Freeing a populated table must not leak (checked by ASan). */
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		assert_int_equal(mock_pgtable_map(pt, where[i], 0, 2 * SZ_1M,
						  SZ_2K, RW),
				 0);
	}
	mock_pgtable_free(pt);
}

static void test_large(void **state)
{
	struct mock_pgtable *pt = new_pt();
	uint64_t base = 16 * SZ_1M, off;
	struct dirty_log log;
	unsigned int n;

	(void)state;
	assert_int_equal(mock_pgtable_map(pt, base, 1ULL << 32, 128 * SZ_1M,
					  SZ_1M, RW),
			 0);
	assert_int_equal(mock_pgtable_map(pt, base + 128 * SZ_1M, 1ULL << 33,
					  4 * SZ_1M, SZ_2K, RW),
			 0);
	assert_int_equal(mock_pgtable_nr_entries(pt), 132 * 512);
	for (off = 0; off < 132 * SZ_1M; off += 4096)
		assert_int_equal(mock_pgtable_set_dirty(pt, base + off), 0);
	n = read_dirty(pt, base, 132 * SZ_1M, false, &log);
	assert_int_equal(n, 128 + 1024);
	assert_int_equal(log.size[127], SZ_1M);
	assert_int_equal(log.size[128], SZ_2K);
	assert_int_equal(log.iova[n - 1], base + 132 * SZ_1M - 4096);
	assert_int_equal(mock_pgtable_unmap(pt, base, 1ULL << 40), 132 * SZ_1M);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
}

/* --- allocation failure --- */

struct snapshot {
	uint64_t nr_entries, nr_nodes, sum;
};

static int sum_entry(void *arg, uint64_t iova, uint64_t paddr,
		     unsigned int flags)
{
	uint64_t *sum = arg;

	*sum = *sum * 31 + (iova ^ paddr ^ flags);
	return 0;
}

static void take_snapshot(const struct mock_pgtable *pt, struct snapshot *s)
{
	s->nr_entries = mock_pgtable_nr_entries(pt);
	s->nr_nodes = mock_pgtable_nr_nodes(pt);
	s->sum = 0;
	mock_pgtable_for_each(pt, 0, UINT64_MAX, sum_entry, &s->sum);
}

static void test_enomem(void **state)
{
	unsigned long before = calloc_calls;
	struct mock_pgtable *pt = mock_pgtable_new();
	struct snapshot a, b;
	long nth;
	int rc;

	(void)state;
	assert_non_null(pt);
	if (calloc_calls == before) {
		mock_pgtable_free(pt);
		skip();
	}
	/*
	 * One page in the leaf where the new range starts, which rollback must
	 * keep, and one far away. The range then crosses 2^39, a boundary of
	 * level-2 nodes, so failures also hit freshly made inner nodes that
	 * rollback must free again.
	 */
	assert_int_equal(mock_pgtable_map(pt, (1ULL << 39) - 3 * SZ_1M, 0,
					  SZ_2K, SZ_2K, RW),
			 0);
	assert_int_equal(mock_pgtable_map(pt, 1ULL << 47, 0, SZ_2K, SZ_2K, RW),
			 0);
	take_snapshot(pt, &a);
	for (nth = 0;; nth++) {
		calloc_budget = nth;
		rc = mock_pgtable_map(pt, (1ULL << 39) - 3 * SZ_1M + SZ_2K, 0,
				      7 * SZ_1M - SZ_2K, SZ_2K, RW);
		calloc_budget = -1;
		if (!rc)
			break;
		assert_int_equal(rc, -ENOMEM);
		take_snapshot(pt, &b);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/*
	 * Two new leaves below 2^39; above it a new level-2 node, level-1 node
	 * and four leaves.
	 */
	assert_int_equal(nth, 8);
	assert_int_equal(mock_pgtable_nr_entries(pt), 1 + 7 * 512);
	mock_pgtable_free(pt);
}

/* --- randomized comparison with a flat model --- */

#define MODEL_PAGES 4096 /* an 8 MiB window */
#define MODEL_BLOCKS (MODEL_PAGES / 512)

struct model_ent {
	bool present;
	uint64_t paddr;
	unsigned int flags;
};

struct model {
	uint64_t base;
	uint64_t nr;
	struct model_ent ent[MODEL_PAGES];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible for a given seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static void model_map(struct mock_pgtable *pt, struct model *m)
{
	bool huge = rnd_below(4) == 0;
	uint64_t pgsize = huge ? SZ_1M : SZ_2K, first, n, i, paddr;
	unsigned int prot = rnd_below(4);
	int want = 0;

	if (huge) {
		first = rnd_below(MODEL_BLOCKS) * 512;
		n = (1 + rnd_below(3)) * 512;
	} else {
		first = rnd_below(MODEL_PAGES);
		n = 1 + rnd_below(rnd_below(8) ? 40 : 700);
	}
	if (first + n > MODEL_PAGES)
		n = (MODEL_PAGES - first) / (pgsize / SZ_2K) * (pgsize / SZ_2K);
	paddr = (rnd() >> 12) & ~(pgsize - 1);
	for (i = first; i < first + n; i++) {
		if (m->ent[i].present)
			want = -EEXIST;
	}
	assert_int_equal(mock_pgtable_map(pt, m->base + first * SZ_2K, paddr,
					  n * SZ_2K, pgsize, prot),
			 want);
	if (want)
		return;
	for (i = first; i < first + n; i++) {
		m->ent[i].present = true;
		m->ent[i].paddr = paddr + (i - first) * SZ_2K;
		m->ent[i].flags = prot | (huge ? MOCK_PT_HUGE : 0);
		if (i == first)
			m->ent[i].flags |= MOCK_PT_START;
		if (i == first + n - 1)
			m->ent[i].flags |= MOCK_PT_LAST;
	}
	m->nr += n;
}

static void model_unmap(struct mock_pgtable *pt, struct model *m)
{
	uint64_t first = rnd_below(MODEL_PAGES), n = 1 + rnd_below(1500), i;
	uint64_t len = n * SZ_2K;

	if (first + n > MODEL_PAGES)
		n = MODEL_PAGES - first;
	/* Past the window nothing is mapped, so the walk must stop there. */
	for (i = first; i < first + n && m->ent[i].present; i++) {
		memset(&m->ent[i], 0, sizeof(m->ent[i]));
		m->nr--;
	}
	assert_int_equal(mock_pgtable_unmap(pt, m->base + first * SZ_2K, len),
			 (i - first) * SZ_2K);
}

static void model_set_dirty(struct mock_pgtable *pt, struct model *m)
{
	uint64_t idx = rnd_below(MODEL_PAGES), i, blk = idx & ~511ULL;
	struct model_ent *e = &m->ent[idx];

	assert_int_equal(mock_pgtable_set_dirty(pt, m->base + idx * SZ_2K +
							    rnd_below(SZ_2K)),
			 e->present ? 0 : -ENOENT);
	if (!e->present)
		return;
	if (!(e->flags & MOCK_PT_HUGE)) {
		e->flags |= MOCK_PT_DIRTY;
		return;
	}
	/* The model keeps the huge dirty bit on every entry of the IOPTE. */
	for (i = blk; i < blk + 512; i++) {
		if (m->ent[i].present && (m->ent[i].flags & MOCK_PT_HUGE))
			m->ent[i].flags |= MOCK_PT_DIRTY;
	}
}

static void model_read_dirty(struct mock_pgtable *pt, struct model *m)
{
	static struct dirty_log got, want;
	uint64_t start = rnd_below(MODEL_PAGES * SZ_2K), len, first, last, i;
	bool keep = rnd_below(3) == 0;
	uint64_t blk;

	if (rnd_below(10) == 0)
		len = UINT64_MAX;
	else
		len = 1 + rnd_below(MODEL_PAGES * SZ_2K - start);
	first = start / SZ_2K;
	last = len == UINT64_MAX ? MODEL_PAGES - 1 : (start + len - 1) / SZ_2K;

	/*
	 * Per MiB block: its huge IOPTE first (it starts at the block's base)
	 * if any of its entries in range is dirty, then the 2K IOPTEs.
	 */
	want.n = 0;
	for (blk = first / 512; blk <= last / 512; blk++) {
		uint64_t lo = blk * 512 > first ? blk * 512 : first;
		uint64_t hi = blk * 512 + 511 < last ? blk * 512 + 511 : last;
		bool huge_dirty = false;

		for (i = lo; i <= hi; i++) {
			if ((m->ent[i].flags & MOCK_PT_HUGE) &&
			    (m->ent[i].flags & MOCK_PT_DIRTY))
				huge_dirty = true;
		}
		if (huge_dirty) {
			dirty_record(&want, m->base + blk * SZ_1M, SZ_1M);
			for (i = blk * 512; i < blk * 512 + 512 && !keep; i++) {
				if (m->ent[i].flags & MOCK_PT_HUGE)
					m->ent[i].flags &= ~MOCK_PT_DIRTY;
			}
		}
		for (i = lo; i <= hi; i++) {
			struct model_ent *e = &m->ent[i];

			if (!e->present || (e->flags & MOCK_PT_HUGE) ||
			    !(e->flags & MOCK_PT_DIRTY))
				continue;
			dirty_record(&want, m->base + i * SZ_2K, SZ_2K);
			if (!keep)
				e->flags &= ~MOCK_PT_DIRTY;
		}
	}
	read_dirty(pt, m->base + start, len, keep, &got);
	assert_int_equal(got.n, want.n);
	assert_memory_equal(got.iova, want.iova, want.n * sizeof(uint64_t));
	assert_memory_equal(got.size, want.size, want.n * sizeof(uint64_t));
}

struct model_walk {
	const struct model *m;
	uint64_t next;
};

static int model_check_entry(void *arg, uint64_t iova, uint64_t paddr,
			     unsigned int flags)
{
	struct model_walk *w = arg;
	uint64_t idx = (iova - w->m->base) / SZ_2K;

	/* for_each must visit exactly the present entries, in order. */
	while (w->next < MODEL_PAGES && !w->m->ent[w->next].present)
		w->next++;
	assert_int_equal(idx, w->next);
	assert_int_equal(paddr, w->m->ent[idx].paddr);
	assert_int_equal(flags, w->m->ent[idx].flags);
	w->next++;
	return 0;
}

static void model_compare(const struct mock_pgtable *pt, const struct model *m)
{
	struct model_walk w = { .m = m };
	uint64_t i;

	assert_int_equal(mock_pgtable_nr_entries(pt), m->nr);
	for (i = 0; i < MODEL_PAGES; i += 1 + rnd_below(8)) {
		uint64_t pa;
		unsigned int flags;
		int rc = mock_pgtable_lookup(pt, m->base + i * SZ_2K + 9, &pa,
					     &flags);

		if (!m->ent[i].present) {
			assert_int_equal(rc, -ENOENT);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(pa, m->ent[i].paddr + 9);
		assert_int_equal(flags, m->ent[i].flags);
	}
	assert_int_equal(mock_pgtable_for_each(pt, m->base, MODEL_PAGES * SZ_2K,
					       model_check_entry, &w),
			 0);
	while (w.next < MODEL_PAGES && !m->ent[w.next].present)
		w.next++;
	assert_int_equal(w.next, MODEL_PAGES);
}

static void run_model(uint64_t base, uint64_t seed)
{
	struct mock_pgtable *pt = new_pt();
	struct model *m = calloc(1, sizeof(*m));
	unsigned int step;
	uint64_t i;

	assert_non_null(m);
	m->base = base;
	rng_state = seed;
	for (step = 0; step < 6000; step++) {
		switch (rnd_below(10)) {
		case 0:
		case 1:
		case 2:
			model_map(pt, m);
			break;
		case 3:
		case 4:
			model_unmap(pt, m);
			break;
		case 5:
		case 6:
		case 7:
			model_set_dirty(pt, m);
			break;
		default:
			model_read_dirty(pt, m);
			break;
		}
		if (step % 100 == 0)
			model_compare(pt, m);
	}
	model_compare(pt, m);
	/* Empty it run by run and check every node went. */
	for (i = 0; i < MODEL_PAGES; i++) {
		uint64_t n;

		if (!m->ent[i].present)
			continue;
		n = mock_pgtable_unmap(pt, base + i * SZ_2K,
				       (MODEL_PAGES - i) * SZ_2K);
		assert_true(n >= SZ_2K);
		i += n / SZ_2K - 1;
		assert_true(i < MODEL_PAGES);
		assert_false(i + 1 < MODEL_PAGES && m->ent[i + 1].present);
	}
	assert_int_equal(mock_pgtable_nr_entries(pt), 0);
	assert_int_equal(mock_pgtable_nr_nodes(pt), 0);
	mock_pgtable_free(pt);
	free(m);
}

static void test_model(void **state)
{
	static const uint64_t bases[] = {
		0,
		/* straddles the boundary between two top-level slots */
		(1ULL << 56) - 4 * SZ_1M,
		0ULL - MODEL_PAGES * SZ_2K,
	};
	unsigned int i, seed;

	(void)state;
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		for (seed = 1; seed <= 4; seed++)
			run_model(bases[i], 0x9e3779b97f4a7c15ULL * seed + i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_map_lookup),
		cmocka_unit_test(test_map_invalid),
		cmocka_unit_test(test_map_near_zero),
		cmocka_unit_test(test_map_near_top),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_eexist_unchanged),
		cmocka_unit_test(test_unmap_holes),
		cmocka_unit_test(test_dirty_small),
		cmocka_unit_test(test_dirty_huge),
		cmocka_unit_test(test_node_freeing),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
