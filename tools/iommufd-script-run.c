// SPDX-License-Identifier: MIT
/*
 * iommufd-script-run: run ioctl scripts (iommufd-script(5)) against a
 * /dev/iommu and print TAP.
 *
 * usage: iommufd-script-run SCRIPT [DEVICE]
 *        iommufd-script-run --dir DIR [DEVICE]
 *        iommufd-script-run --check SCRIPT...
 *
 * With IOMMUFD_SCRIPT_DIR set, "--dir $IOMMUFD_SCRIPT_DIR" is implied and
 * the only argument is the DEVICE: that is how the test harnesses, which
 * run every client as "PROGRAM /dev/iommu", run the whole directory.
 *
 * With IOMMUFD_RUN (the iommufd-run launcher) and IOMMUFDD_RUN_DIR set too,
 * it first re-runs itself under the launcher, so steps of fd-returning
 * ioctls (FAULT_QUEUE_ALLOC, VEVENTQ_ALLOC) get real descriptors from
 * iommufdd, as the integration programs do.
 *
 * Exit status: 0 all passed or skipped, 1 an expectation failed, 2 a
 * script is malformed or the usage is wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: iommufd-script-run SCRIPT [DEVICE]\n"
		"       iommufd-script-run --dir DIR [DEVICE]\n"
		"       iommufd-script-run --check SCRIPT...\n"
		"DEVICE defaults to /dev/iommu; with IOMMUFD_SCRIPT_DIR set the\n"
		"only argument is the DEVICE and every *.json there is run.\n");
	return IOMMUFD_SCRIPT_MALFORMED;
}

/* Run once more under iommufd-run when the environment says how. */
static void relaunch(char **argv)
{
	const char *run = getenv("IOMMUFD_RUN");
	const char *run_dir = getenv("IOMMUFDD_RUN_DIR");

	if (!run || !*run || !run_dir || getenv("IOMMUFD_SCRIPT_LAUNCHED"))
		return;
	setenv("IOMMUFD_SCRIPT_LAUNCHED", "1", 1);
	fflush(stdout);
	execv(run, (char *[]){ (char *)run, "--run-dir", (char *)run_dir, "--",
			       argv[0], argv[1], argv[1] ? argv[2] : NULL,
			       argv[1] && argv[2] ? argv[3] : NULL, NULL });
	fprintf(stderr, "iommufd-script-run: cannot run %s: %s\n", run,
		strerror(errno));
	exit(IOMMUFD_SCRIPT_MALFORMED);
}

int main(int argc, char **argv)
{
	const char *env_dir = getenv("IOMMUFD_SCRIPT_DIR");
	int i, rc = IOMMUFD_SCRIPT_PASSED;

	if (argc >= 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage();
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "--check")) {
		for (i = 2; i < argc; i++)
			if (iommufd_script_check(argv[i], stderr))
				rc = IOMMUFD_SCRIPT_MALFORMED;
		return rc;
	}
	if (argc <= 4)
		relaunch(argv);
	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "--dir"))
		return iommufd_script_run_dir(argv[2], argv[3], stdout);
	if (env_dir && *env_dir && argc <= 2)
		return iommufd_script_run_dir(env_dir, argv[1], stdout);
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return usage();
	return iommufd_script_run(argv[1], argv[2], stdout);
}
