// SPDX-License-Identifier: MIT
/*
 * File descriptors from fd-returning ioctls, as the kernel hands them out:
 * without iommufd-run the ioctl fails cleanly; under it the caller gets a
 * close-on-exec fd with the object's file semantics, and closing it is
 * what releases the object. Prints TAP.
 *
 * usage: fd_objects [/dev/iommu]
 * Environment: IOMMUFD_RUN (the launcher) and IOMMUFDD_RUN_DIR (the
 * daemon's run directory); the program re-runs itself under the launcher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

static const char *path = "/dev/iommu";
static unsigned int ntests, nfailed;

static void check(int ok, const char *fmt, ...)
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
}

static long ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	return ioc(fd, IOMMU_IOAS_ALLOC, &cmd) ? 0 : cmd.out_ioas_id;
}

static long destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioc(fd, IOMMU_DESTROY, &cmd);
}

static long create_access(int fd, uint32_t ioas, int *access_fd)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
	};
	long ret = ioc(fd, IOMMU_TEST_CMD, &cmd);

	*access_fd = (int)cmd.create_access.out_access_fd;
	return ret;
}

/* Before the launcher: the fd cannot be created, and nothing leaks. */
static void test_without_launcher(int fd)
{
	struct iommu_fault_alloc fault = { .size = sizeof(fault) };
	uint32_t ioas = ioas_alloc(fd);
	int afd;

	check(create_access(fd, ioas, &afd) == -EOPNOTSUPP,
	      "without iommufd-run CREATE_ACCESS fails with EOPNOTSUPP");
	check(ioc(fd, IOMMU_FAULT_QUEUE_ALLOC, &fault) == -EOPNOTSUPP,
	      "without iommufd-run FAULT_QUEUE_ALLOC fails with EOPNOTSUPP");
	check(destroy(fd, ioas) == 0, "and left nothing holding the IOAS");
}

static void test_fault_fd(int fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	struct iommu_hwpt_pgfault rec;
	struct pollfd pfd;
	long ret = ioc(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);
	int flags;

	check(ret == 0 && (int)cmd.out_fault_fd > 2,
	      "FAULT_QUEUE_ALLOC returns fd %d", (int)cmd.out_fault_fd);
	flags = fcntl((int)cmd.out_fault_fd, F_GETFD);
	check(flags >= 0 && (flags & FD_CLOEXEC), "the fault fd is O_CLOEXEC");
	check(read((int)cmd.out_fault_fd, &rec, sizeof(rec)) == 0,
	      "an empty queue reads 0 at once");
	check(read((int)cmd.out_fault_fd, &rec, 39) < 0 && errno == ESPIPE,
	      "a read of a partial record is ESPIPE");
	pfd = (struct pollfd){ .fd = (int)cmd.out_fault_fd,
			       .events = POLLIN | POLLOUT };
	check(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT,
	      "poll: writable, nothing to read");
	check(destroy(fd, cmd.out_fault_id) == -EBUSY,
	      "DESTROY of the queue is EBUSY while its fd is open");
	close((int)cmd.out_fault_fd);
	check(destroy(fd, cmd.out_fault_id) == 0,
	      "after close() the queue can be destroyed");
}

static void test_access_fd(int fd)
{
	uint32_t ioas = ioas_alloc(fd);
	int afd = -1, flags;
	long ret = create_access(fd, ioas, &afd);

	check(ret == 0 && afd > 2, "CREATE_ACCESS returns fd %d", afd);
	flags = fcntl(afd, F_GETFD);
	check(flags >= 0 && (flags & FD_CLOEXEC), "the access fd is O_CLOEXEC");
	check(destroy(fd, ioas) == -EBUSY, "the access holds its IOAS");
	check(close(afd) == 0, "close() of the access fd succeeds");
	check(destroy(fd, ioas) == 0, "and released the access and the IOAS");
}

int main(int argc, char **argv)
{
	const char *run = getenv("IOMMUFD_RUN");
	const char *run_dir = getenv("IOMMUFDD_RUN_DIR");
	int fd;

	if (argc > 1)
		path = argv[1];

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("Bail out! cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!getenv("FD_OBJECTS_LAUNCHED")) {
		printf("TAP version 13\n");
		test_without_launcher(fd);
		fflush(stdout);
		if (!run || !run_dir) {
			printf("Bail out! IOMMUFD_RUN and IOMMUFDD_RUN_DIR must "
			       "be set\n");
			return 1;
		}
		/* Numbering continues in the launched run. */
		setenv("FD_OBJECTS_LAUNCHED", "3", 1);
		execl(run, run, "--run-dir", run_dir, "--", argv[0], path,
		      (char *)NULL);
		printf("Bail out! cannot run %s: %s\n", run, strerror(errno));
		return 1;
	}
	ntests = (unsigned int)atoi(getenv("FD_OBJECTS_LAUNCHED"));
	test_fault_fd(fd);
	test_access_fd(fd);
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
