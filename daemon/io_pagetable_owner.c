// SPDX-License-Identifier: MIT
/*
 * IO page table, the owners of areas. An area's owner (its mapper) is
 * charged for every pin the area holds on its storage: one over the whole
 * area while its table has a domain (io_pagetable_domain.c), and one per
 * range an access pinned through it, which the area records so that its
 * pins can be counted again when IOMMU_IOAS_CHANGE_PROCESS hands the area
 * to another owner.
 *
 * A storage charges each page once per charge bucket however often it is
 * pinned for it (memfile.c), so moving pins one by one moves the charge of
 * each page exactly once: the new bucket is charged when it first holds a
 * page, the old one released when it last lets go of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "account.h"
#include "fail_nth.h"
#include "io_pagetable.h"
#include "pages.h"

/* Free the area's record of access pins once it holds none. */
static void accesses_trim(struct iopt_area *area)
{
	struct iopt_area_accesses *acc = area->accesses;

	if (!acc || acc->num || !runmap_empty(&acc->pins))
		return;
	runmap_clear(&acc->pins);
	free(acc);
	area->accesses = NULL;
}

int iopt_area_pin_access(struct iopt_area *area, uint64_t first, uint64_t last,
			 bool writable)
{
	int64_t n = (int64_t)(last - first + 1);
	struct pin_user u;
	int ret;

	iopt_area_pin_user(area, &u);
	u.writable = writable;
	ret = iopt_budget_pin(area->iopt, n);
	if (ret)
		return ret;
	ret = iopt_pages_pin(area->pages, first, last, &u);
	if (ret)
		goto err_budget;
	if (!area->accesses)
		area->accesses = fail_nth_calloc(1, sizeof(*area->accesses),
						 "area accesses");
	ret = area->accesses ? runmap_add(&area->accesses->pins, first, last,
					  NULL, NULL, NULL) :
			       -ENOMEM;
	if (ret)
		goto err_unpin;
	area->accesses->num++;
	return 0;

err_unpin:
	accesses_trim(area);
	iopt_pages_unpin(area->pages, first, last, &u);
err_budget:
	iopt_budget_pin(area->iopt, -n);
	return ret;
}

void iopt_area_unpin_access(struct iopt_area *area, uint64_t first,
			    uint64_t last)
{
	struct pin_user u;

	runmap_remove(&area->accesses->pins, first, last, NULL, NULL);
	area->accesses->num--;
	accesses_trim(area);
	iopt_area_pin_user(area, &u);
	iopt_pages_unpin(area->pages, first, last, &u);
	iopt_budget_pin(area->iopt, -(int64_t)(last - first + 1));
}

/* ---- walking an area's pins ---------------------------------------- */

typedef int (*area_pin_fn)(struct iopt_area *area, uint64_t first,
			   uint64_t last, const struct pin_user *u);

/*
 * Call @fn for the first @limit pins @area holds (UINT64_MAX: all), always
 * in the same order while the area does not change; stop at the first
 * error. *done says how many calls succeeded.
 */
static int area_walk_pins(struct iopt_area *area, uint64_t limit,
			  area_pin_fn fn, const struct pin_user *u,
			  uint64_t *done)
{
	uint64_t index = iopt_area_first_index(area), last, count;
	int ret;

	*done = 0;
	if (area->iopt->ndomains) {
		if (*done == limit)
			return 0;
		ret = fn(area, index, iopt_area_last_index(area), u);
		if (ret)
			return ret;
		(*done)++;
	}
	/* Runs of equal counts: c pins of [index, last] hold what they did. */
	while (area->accesses && index <= iopt_area_last_index(area)) {
		count = runmap_lookup(&area->accesses->pins, index, &last);
		if (last > iopt_area_last_index(area))
			last = iopt_area_last_index(area);
		for (; count; count--) {
			if (*done == limit)
				return 0;
			ret = fn(area, index, last, u);
			if (ret)
				return ret;
			(*done)++;
		}
		if (last == UINT64_MAX)
			break;
		index = last + 1;
	}
	return 0;
}

static int repin_one(struct iopt_area *area, uint64_t first, uint64_t last,
		     const struct pin_user *u)
{
	return iopt_pages_repin(area->pages, first, last, u);
}

static int unpin_one(struct iopt_area *area, uint64_t first, uint64_t last,
		     const struct pin_user *u)
{
	iopt_pages_unpin(area->pages, first, last, u);
	return 0;
}

/* ---- moving an area to another owner -------------------------------- */

/*
 * Does handing @area to @to move any charge? (The kernel's test differs in
 * per-user mode, where it also moves the mm's pinned_vm; the daemon keeps
 * no per-process count in that mode.)
 */
static bool owner_charge_moves(const struct iopt_area *area,
			       const struct mapper *to)
{
	return mapper_bucket(area->mapper) != mapper_bucket(to);
}

static void pin_user_for(const struct iopt_area *area, struct mapper *to,
			 struct pin_user *u)
{
	iopt_area_pin_user(area, u);
	u->mapper = to;
}

int iopt_area_charge_owner(struct iopt_area *area, struct mapper *to)
{
	struct pin_user u;
	uint64_t done, undone;
	int ret;

	if (!owner_charge_moves(area, to))
		return 0;
	pin_user_for(area, to, &u);
	ret = area_walk_pins(area, UINT64_MAX, repin_one, &u, &done);
	if (ret)
		area_walk_pins(area, done, unpin_one, &u, &undone);
	return ret;
}

void iopt_area_uncharge_owner(struct iopt_area *area, struct mapper *to)
{
	struct pin_user u;
	uint64_t done;

	if (!owner_charge_moves(area, to))
		return;
	pin_user_for(area, to, &u);
	area_walk_pins(area, UINT64_MAX, unpin_one, &u, &done);
}

void iopt_area_set_owner(struct iopt_area *area, struct mapper *to)
{
	struct pin_user old;
	uint64_t done;

	if (owner_charge_moves(area, to)) {
		iopt_area_pin_user(area, &old);
		area_walk_pins(area, UINT64_MAX, unpin_one, &old, &done);
	}
	old.mapper = area->mapper;
	area->mapper = mapper_get(to);
	mapper_put(old.mapper);
}
