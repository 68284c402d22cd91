/* SPDX-License-Identifier: MIT */
/*
 * Who pays for pinned memory, and whose lifetime a mapping depends on.
 *
 * A mapper is a process that mapped memory, as the kernel's iopt_pages
 * remembers its source task, mm and user: it is charged for the pages its
 * mappings pin, against its RLIMIT_MEMLOCK, in a charge bucket shared with
 * every process of its user (IOMMU_OPTION_RLIMIT_MODE 0, the default) or
 * its own (mode 1). A mapper that held CAP_IPC_LOCK in the initial user
 * namespace when it mapped is not charged, as capable() decides in the
 * kernel; a capability held only inside a user namespace does not count.
 *
 * Charging happens before memory is touched (pages.c charges a range, then
 * populates it), so a refused charge leaves nothing behind.
 *
 * A mapper whose last mapping went is kept for a moment (account.c), so a
 * process that maps and unmaps in turn keeps one; it is found again only
 * while its process lives (its pidfd), never by a pid alone.
 *
 * Locking: one mutex guards the mapper cache and every bucket; it is held
 * only for list and counter updates, never across a syscall that can block.
 */
#ifndef IOMMUFDD_ACCOUNT_H
#define IOMMUFDD_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.h"

enum pages_account {
	PAGES_ACCOUNT_USER, /* per user: user->locked_vm */
	PAGES_ACCOUNT_MM, /* per process: mm->pinned_vm */
};

struct mapper;
struct charge_bucket;

/*
 * The mapper for the calling thread of an in-flight request (its thread is
 * held in the request, so its identity is stable). Reads the caller's
 * credentials, capabilities and RLIMIT_MEMLOCK now. NULL and *err on
 * failure (-ESRCH: gone; -EPERM: out of the daemon's reach; -ENOMEM).
 */
struct mapper *mapper_of_caller(const struct ucaller *caller,
				enum pages_account mode, int *err);
/*
 * The mapper that takes over @old's mappings for the calling thread of an
 * in-flight request (IOMMU_IOAS_CHANGE_PROCESS): the caller's process and
 * user, in @old's mode, and charged exactly when @old was, whatever the
 * caller's capabilities: the kernel fixes whether a page storage is
 * charged when it is mapped. The limit is the caller's RLIMIT_MEMLOCK,
 * read now. NULL and *err as for mapper_of_caller().
 */
struct mapper *mapper_of_caller_like(const struct ucaller *caller,
				     const struct mapper *old, int *err);
/*
 * Would mapper_of_caller_like() make the same mapper for @a as for @b
 * (the same mode, both charged or neither)?
 */
bool mapper_same_kind(const struct mapper *a, const struct mapper *b);
struct mapper *mapper_get(struct mapper *m);
void mapper_put(struct mapper *m);
/* Let go of every mapper kept idle, now. */
void account_drop_idle(void);

/* Has the mapping process exited? (Its mappings then cannot be pinned.) */
bool mapper_alive(const struct mapper *m);
pid_t mapper_tgid(const struct mapper *m);
uid_t mapper_uid(const struct mapper *m);
/* The bucket this mapper's pins are charged to; NULL when never charged. */
struct charge_bucket *mapper_bucket(const struct mapper *m);

/*
 * Charge @npages to @bucket on behalf of @m: 0, or -ENOMEM when that would
 * exceed @m's RLIMIT_MEMLOCK (one log line says so).
 */
int account_charge(struct mapper *m, uint64_t npages);
void account_uncharge(struct mapper *m, uint64_t npages);

/* Each non-zero bucket: per user (uid) or per process (pid). */
void account_for_each_charge(void (*fn)(void *arg, bool per_process,
					unsigned int key, uint64_t pages),
			     void *arg);

/* A caller's capability in the initial user namespace, read now. */
bool caller_capable(const struct ucaller *caller, unsigned int cap);

#endif
