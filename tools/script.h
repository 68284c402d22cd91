/* SPDX-License-Identifier: MIT */
/*
 * ioctl scripts: JSON files that describe a sequence of iommufd ioctls and
 * what each one must return (iommufd-script(5)). They run unchanged against
 * any /dev/iommu, the kernel's or iommufdd's, so one file reproduces a bug
 * on both.
 */
#ifndef IOMMUFD_SCRIPT_H
#define IOMMUFD_SCRIPT_H

#include <stdio.h>

/* Return values of the functions below. */
enum {
	/* every expectation held, or the script was skipped */
	IOMMUFD_SCRIPT_PASSED = 0,
	/* at least one expectation failed */
	IOMMUFD_SCRIPT_FAILED = 1,
	/* a script is not valid: nothing, or only part of it, ran */
	IOMMUFD_SCRIPT_MALFORMED = 2,
};

/*
 * Run one script against dev_path (NULL: /dev/iommu). Each step is logged
 * on out as a TAP comment as it runs, each step with an expectation gives
 * one TAP result, and the plan comes last. A script whose "requires" the
 * device does not meet prints "1..0 # SKIP ..." and passes. Problems with
 * the script itself are also reported on stderr, naming step and field.
 */
int iommufd_script_run(const char *script_path, const char *dev_path,
		       FILE *out);

/*
 * Run every *.json in dir, in name order, as one TAP stream: results are
 * numbered across scripts and prefixed with the script's file name, and a
 * skipped script is one "ok N - NAME # SKIP" result. Returns the worst
 * result of any script.
 */
int iommufd_script_run_dir(const char *dir, const char *dev_path, FILE *out);

/*
 * Only compile the script (every name, field and value is resolved before
 * a script runs) and report problems on err. PASSED or MALFORMED.
 */
int iommufd_script_check(const char *script_path, FILE *err);

#endif /* IOMMUFD_SCRIPT_H */
