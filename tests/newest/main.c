// SPDX-License-Identifier: MIT
/*
 * newest_uapi - the newest iommufd uAPI, checked the way the newest kernel
 * selftests check it (fixtures iommufd_viommu, iommufd_device_pasid,
 * change_process, the MAP_FILE variants of iommufd_mock_domain, and the
 * newest additions to iommufd and iommufd_ioas), with our own assertions
 * written from docs/newest-uapi.md. Prints TAP; exits 0 when every check
 * passed, 1 otherwise.
 *
 * usage: newest_uapi [/dev/iommu]
 *
 * On a kernel the fd-returning ioctls (IOMMU_VEVENTQ_ALLOC,
 * IOMMU_FAULT_QUEUE_ALLOC) just work. Against iommufdd they need the
 * launcher: when IOMMUFD_RUN (the iommufd-run binary) and IOMMUFDD_RUN_DIR
 * (the daemon's run directory) are set, the program re-runs itself under
 * "iommufd-run --run-dir DIR --", as tests/integration/fd_objects.c does.
 *
 * Each check says which section of docs/newest-uapi.md it comes from; the
 * checks a Debian 6.12 kernel fails are listed in tests/newest/README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "newest.h"

const char *dev_path = "/dev/iommu";
size_t page_size;

static unsigned int ntests, nfailed, nskipped;

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	printf("%s %u - ", ok ? "ok" : "not ok", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		nfailed++;
	return ok;
}

void skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	nskipped++;
	printf("ok %u - ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

bool setup_ok(long ret, const char *what)
{
	if (ret)
		check(false, "set-up: %s (%s)", what, strerror((int)-ret));
	return !ret;
}

void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int open_dev(void)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		check(false, "open %s: %s", dev_path, strerror(errno));
	return fd;
}

void teardown(int fd, const void *buf, size_t len, const char *fixture)
{
	uint32_t ioas;
	int fd2;

	check(close(fd) == 0, "%s: close() of the context succeeds", fixture);
	if (!buf)
		return;
	fd2 = open_dev();
	if (fd2 < 0)
		return;
	/* The check needs a context; any object makes it a real one. */
	if (setup_ok(ioas_alloc(fd2, &ioas), "IOAS for the pin check"))
		check(check_refs(fd2, buf, len, 0) == 0,
		      "%s: after close() no page of the buffer is pinned",
		      fixture);
	close(fd2);
}

/*
 * The daemon hands out fds only to programs started by its launcher; run
 * once more under it when the environment says how.
 */
static void relaunch(char **argv)
{
	const char *run = getenv("IOMMUFD_RUN");
	const char *run_dir = getenv("IOMMUFDD_RUN_DIR");

	if (!run || !run_dir || getenv("NEWEST_UAPI_LAUNCHED"))
		return;
	setenv("NEWEST_UAPI_LAUNCHED", "1", 1);
	fflush(stdout);
	execl(run, run, "--run-dir", run_dir, "--", argv[0], dev_path,
	      (char *)NULL);
	printf("Bail out! cannot run %s: %s\n", run, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc > 1)
		dev_path = argv[1];
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	relaunch(argv);

	/* A daemon wedged by a bug: keep what was said, and end it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(300);
	printf("TAP version 13\n");
	fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("Bail out! cannot open %s: %s\n", dev_path,
		       strerror(errno));
		return 1;
	}
	close(fd);

	test_cmd_length();
	test_ioas_newest();
	test_map_file();
	test_change_process();
	test_viommu();
	test_veventq();
	test_hw_queue();
	test_pasid();

	printf("1..%u\n", ntests);
	note("%u checks, %u failed, %u skipped", ntests, nfailed, nskipped);
	return nfailed ? 1 : 0;
}
