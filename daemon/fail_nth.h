/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the daemon's own error paths, as the kernel's
 * fail_nth is for its own: a context arms it with IOMMUFDD_TEST_OP_FAIL_NTH
 * (mock backend, daemon started with --fault-injection), and the Nth
 * failure point its requests pass after that fails once, as an allocation,
 * an mmap or a pin would. A test repeats a sequence with N = 1, 2, 3, ...
 * until it runs through, and checks after each failure that nothing leaked.
 *
 * Failure points are allocations and mappings whose size or count a
 * request decides; they are wrapped below so that each site reads as the
 * call it is.
 */
#ifndef IOMMUFDD_FAIL_NTH_H
#define IOMMUFDD_FAIL_NTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* One context's injection state; only its own requests touch it. */
struct fail_nth {
	uint32_t nth; /* fail the nth point from arming; 0: disarmed */
	uint32_t calls; /* points passed since arming */
	bool failed; /* the armed failure happened */
};

/* --fault-injection: off unless asked for. */
extern bool fail_nth_allowed;

/* The context whose request this thread runs (NULL: none). */
void fail_nth_enter(struct fail_nth *f);
void fail_nth_leave(void);

/* Count one failure point; true if it is the one to fail. */
bool fail_nth_point(const char *site);

static inline bool fail_nth_hit(const char *site)
{
	return fail_nth_allowed && fail_nth_point(site);
}

static inline void *fail_nth_calloc(size_t n, size_t size, const char *site)
{
	return fail_nth_hit(site) ? NULL : calloc(n, size);
}

static inline void *fail_nth_malloc(size_t size, const char *site)
{
	return fail_nth_hit(site) ? NULL : malloc(size);
}

struct iommufd_ucmd;
struct iommu_test_cmd;

/* IOMMUFDD_TEST_OP_FAIL_NTH (iommufdd_ext.h). */
int iommufd_test_fail_nth(struct iommufd_ucmd *ucmd,
			  struct iommu_test_cmd *cmd);

#endif
