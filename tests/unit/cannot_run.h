/* SPDX-License-Identifier: MIT */
/*
 * A unit test program that cannot run here (it needs root) says so as TAP,
 * "1..0 # SKIP why", and exits 77, meson's skip. Under CI=true, where every
 * suite is expected to run, it fails instead, so a CI machine set up wrong
 * cannot pass by skipping.
 */
#ifndef TESTS_UNIT_CANNOT_RUN_H
#define TESTS_UNIT_CANNOT_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int cannot_run(const char *why)
{
	const char *ci = getenv("CI");

	if (ci && !strcmp(ci, "true")) {
		printf("Bail out! cannot run: %s (CI=true: a suite that cannot run fails)\n",
		       why);
		return 1;
	}
	printf("1..0 # SKIP %s\n", why);
	return 77;
}

#endif /* TESTS_UNIT_CANNOT_RUN_H */
