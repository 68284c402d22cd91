// SPDX-License-Identifier: MIT
/*
 * Per-user budgets. The files of one user run on different workers at the
 * same time, so the counts are atomics, charged with a compare-and-swap
 * that never lets them pass the maximum even for a moment. The list of
 * users is touched only at open and at the last close of a file, under
 * one mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "log.h"
#include "user_budget.h"
#include "util.h"

/*
 * Defaults: room for a VMM that shadows a large guest page by page (one
 * area costs the daemon about 130 bytes, so 2^20 areas are ~130 MiB), far
 * from what makes a shared host swap.
 */
uint64_t user_budget_max[USER_BUDGET_KINDS] = {
	[USER_BUDGET_OBJECTS] = 1u << 20,
	[USER_BUDGET_AREAS] = 1u << 20,
	/* A VMM has one vIOMMU per physical IOMMU, each with one region. */
	[USER_BUDGET_MMAP_REGIONS] = 256,
	/*
	 * A VMM maps a few memory files (guest RAM regions), many times each.
	 * Each costs the daemon one or two descriptors and, once pinned,
	 * windows from a pool of 16384 that all users share (memfile.c).
	 */
	[USER_BUDGET_FILES] = 1024,
};

static const char *const kind_option[USER_BUDGET_KINDS] = {
	[USER_BUDGET_OBJECTS] = "--max-user-objects",
	[USER_BUDGET_AREAS] = "--max-user-areas",
	[USER_BUDGET_MMAP_REGIONS] = "--max-user-mmap-regions",
	[USER_BUDGET_FILES] = "--max-user-files",
};

struct user_budget {
	struct list_head item; /* on users, under users_lock */
	uid_t uid;
	unsigned int refs; /* open files, under users_lock */
	_Atomic uint64_t held[USER_BUDGET_KINDS];
	atomic_bool warned[USER_BUDGET_KINDS];
};

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head users = { &users, &users };

struct user_budget *user_budget_get(uid_t uid)
{
	struct user_budget *ub;

	pthread_mutex_lock(&users_lock);
	list_for_each_entry(ub, &users, item) {
		if (ub->uid == uid) {
			ub->refs++;
			goto out;
		}
	}
	ub = calloc(1, sizeof(*ub));
	if (ub) {
		ub->uid = uid;
		ub->refs = 1;
		list_add_tail(&ub->item, &users);
	}
out:
	pthread_mutex_unlock(&users_lock);
	return ub;
}

void user_budget_put(struct user_budget *ub)
{
	if (!ub)
		return;
	pthread_mutex_lock(&users_lock);
	if (--ub->refs) {
		ub = NULL;
	} else {
		list_del(&ub->item);
	}
	pthread_mutex_unlock(&users_lock);
	free(ub);
}

int user_budget_charge(struct user_budget *ub, enum user_budget_kind kind,
		       uint64_t n)
{
	uint64_t max = user_budget_max[kind];
	uint64_t held;

	if (!ub)
		return 0;
	held = atomic_load(&ub->held[kind]);
	do {
		if (max && (n > max || held > max - n)) {
			if (!atomic_exchange(&ub->warned[kind], true))
				log_info(
					"uid %u reached its limit of %llu (%s) over all its open files",
					(unsigned int)ub->uid,
					(unsigned long long)max,
					kind_option[kind]);
			return -ENOMEM;
		}
	} while (!atomic_compare_exchange_weak(&ub->held[kind], &held,
					       held + n));
	return 0;
}

void user_budget_uncharge(struct user_budget *ub, enum user_budget_kind kind,
			  uint64_t n)
{
	if (!ub)
		return;
	atomic_fetch_sub(&ub->held[kind], n);
	atomic_store(&ub->warned[kind], false);
}

uint64_t user_budget_held(const struct user_budget *ub,
			  enum user_budget_kind kind)
{
	return ub ? atomic_load(&ub->held[kind]) : 0;
}
