/* SPDX-License-Identifier: MIT */
/*
 * What all the open files of one user may make the daemon hold together.
 * The per-file limits (iommufd_limits) bound one open file; without these,
 * a user would multiply them by opening the device again and again.
 */
#ifndef IOMMUFDD_USER_BUDGET_H
#define IOMMUFDD_USER_BUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum user_budget_kind {
	USER_BUDGET_OBJECTS,
	USER_BUDGET_AREAS,
	USER_BUDGET_MMAP_REGIONS, /* each holds a descriptor in the daemon */
	/*
	 * Memory files the daemon holds a descriptor and windows for, charged
	 * to the user whose request made the storage, until it goes.
	 */
	USER_BUDGET_FILES,
	USER_BUDGET_KINDS,
};

/* Maxima per user (0: no limit), set from the command line at start. */
extern uint64_t user_budget_max[USER_BUDGET_KINDS];

struct user_budget;

/* The budget of @uid, shared by all its open files; NULL without memory. */
struct user_budget *user_budget_get(uid_t uid);
void user_budget_put(struct user_budget *ub);

/*
 * Take @n of @kind from the user's budget: 0, or -ENOMEM (logged once per
 * user until it is below the limit again) if that would go over.
 */
int user_budget_charge(struct user_budget *ub, enum user_budget_kind kind,
		       uint64_t n);
void user_budget_uncharge(struct user_budget *ub, enum user_budget_kind kind,
			  uint64_t n);
/* What the user holds now, for inspection. */
uint64_t user_budget_held(const struct user_budget *ub,
			  enum user_budget_kind kind);

#endif
