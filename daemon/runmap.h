/* SPDX-License-Identifier: MIT */
/*
 * A run-length count map over page indexes: how many users hold each page,
 * stored as maximal runs of equal counts, so its size follows the number of
 * distinct ranges users hold rather than the number of pages. It plays the
 * role of the kernel's per-page pin counts (the xarray and the domain and
 * access interval trees of struct iopt_pages): sparse, bounds-checked, and
 * cheap for a million single-page users as well as for one 1 TiB user.
 *
 * Adding a range reports the sub-ranges going from 0 to 1 users first (so
 * the caller can charge and pin them, and refuse the whole add by failing);
 * removing reports the sub-ranges going from 1 to 0 after the fact.
 *
 * The map does no locking; its owner does.
 */
#ifndef IOMMUFDD_RUNMAP_H
#define IOMMUFDD_RUNMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "interval_tree.h"

struct run;

struct runmap {
	struct itree runs; /* struct run, disjoint, count >= 1 */
	uint64_t held; /* pages with count >= 1 */
	struct run *spare[2]; /* for the splits of a remove */
};

#define RUNMAP_INIT            \
	{                      \
		ITREE_INIT, 0, \
		{              \
			0      \
		}              \
	}

/*
 * Called for each maximal sub-range [first, last] that an add takes from 0
 * to 1 users (before the map changes) or a remove takes from 1 to 0 (after
 * it changed). An add callback that fails stops the add: the callbacks
 * already made are undone with @undo (in reverse order), the map is left as
 * it was and the error is returned.
 */
typedef int (*runmap_fn)(void *arg, uint64_t first, uint64_t last);

/* Add one user to every page in [first, last]. 0, -ENOMEM or a callback's -errno. */
int runmap_add(struct runmap *m, uint64_t first, uint64_t last,
	       runmap_fn acquire, runmap_fn undo, void *arg);

/*
 * Drop one user from every page in [first, last]; every page there must be
 * held (a page that is not is logged and skipped). @release may be NULL.
 * Removing cannot fail: the two runs a split may need come from spares the
 * map keeps (refilled after every change). Should even the refill have
 * failed, the pages stay held, with an error logged, until the map is
 * cleared: a bounded leak rather than a lost count.
 */
void runmap_remove(struct runmap *m, uint64_t first, uint64_t last,
		   runmap_fn release, void *arg);

/* Users of page @index (0 if none). */
uint64_t runmap_count(const struct runmap *m, uint64_t index);

/*
 * The run holding @index: its count, and through @last the last index with
 * the same count (so callers can walk a range run by run). 0 if @index is
 * not held, and then *last is the last index before the next held page (or
 * UINT64_MAX).
 */
uint64_t runmap_lookup(const struct runmap *m, uint64_t index, uint64_t *last);

static inline bool runmap_empty(const struct runmap *m)
{
	return !m->held;
}

/* Number of runs: what the map costs in memory. */
static inline uint64_t runmap_nr_runs(const struct runmap *m)
{
	return m->runs.count;
}

/* Free every run (the owner is going away; no callbacks). */
void runmap_clear(struct runmap *m);

#endif
