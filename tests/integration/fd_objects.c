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
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

static const char *path = "/dev/iommu";

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

static void skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	printf("ok %u - ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

/* Where descriptor @fd of this process leads, in @buf. */
static int fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * An object file is for the program it was handed to: another user cannot
 * open it by name and read someone else's fault queue.
 */
static void test_object_file_private(int fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	char file[256], dir[256];
	struct stat st;
	int status, res, dfd;
	pid_t child;

	if (ioc(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd) ||
	    fd_path((int)cmd.out_fault_fd, file, sizeof(file))) {
		check(0, "a fault queue to look at");
		return;
	}
	/*
	 * The run directory of a test daemon may be root's alone: go to the
	 * objects directory first, so that only the file's own permissions
	 * are in the way.
	 */
	snprintf(dir, sizeof(dir), "%s", file);
	dfd = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
	child = fork();
	if (child == 0) {
		if (dfd < 0 || setgid(65534) || setuid(65534))
			_exit(100);
		/* The file must be visible, or the check proves nothing. */
		if (fstatat(dfd, strrchr(file, '/') + 1, &st, 0))
			_exit(101);
		res = openat(dfd, strrchr(file, '/') + 1, O_RDWR | O_CLOEXEC);
		_exit(res >= 0 ? 0 : errno == EACCES ? 1 : 2);
	}
	waitpid(child, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
		skip("uid 65534 cannot see the file at all",
		     "another user cannot open %s", file);
	else
		check(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		      "another user cannot open %s (EACCES)", file);
	if (dfd >= 0)
		close(dfd);
	close((int)cmd.out_fault_fd);
	destroy(fd, cmd.out_fault_id);
}

static long access_rw(int fd, int access_fd, uint64_t iova, void *buf,
		      size_t len)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = (uint32_t)access_fd,
		.access_rw = { .iova = iova,
			       .length = len,
			       .uptr = (uintptr_t)buf },
	};

	return ioc(fd, IOMMU_TEST_CMD, &cmd);
}

/*
 * An fd passed as an access id must be the access file itself, not a file
 * of the same name: in a mount namespace of its own anybody can put one
 * at our directory's path, and would then reach other programs' memory
 * through their accesses.
 */
static void test_access_fd_not_by_name(int fd)
{
	static const char secret[16] = "not for others";
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
	};
	char file[256], got[16], dir[256];
	int afd = -1, pipefd[2], status;
	uint64_t iova;
	long ret = -1;
	void *mem;
	pid_t child;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(mem, secret, sizeof(secret));
	map.ioas_id = ioas_alloc(fd);
	map.user_va = (uintptr_t)mem;
	map.length = 4096;
	if (ioc(fd, IOMMU_IOAS_MAP, &map) ||
	    create_access(fd, map.ioas_id, &afd) ||
	    fd_path(afd, file, sizeof(file)) || pipe(pipefd)) {
		check(0, "an access to an IOAS with a mapping");
		return;
	}
	iova = map.iova;
	memset(got, 0, sizeof(got));
	check(access_rw(fd, afd, iova, got, sizeof(got)) == 0 &&
		      !memcmp(got, secret, sizeof(got)),
	      "ACCESS_RW through the access fd reads the IOAS");

	snprintf(dir, sizeof(dir), "%s", file);
	child = fork();
	if (child == 0) {
		int ifd, fake;
		char c;

		close(pipefd[0]);
		c = 's';
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", dirname(dir), "tmpfs", 0, NULL)) {
			if (write(pipefd[1], &c, 1) != 1)
				_exit(1);
			_exit(0);
		}
		fake = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ifd = open(path, O_RDWR | O_CLOEXEC);
		memset(got, 0, sizeof(got));
		ret = fake < 0 || ifd < 0 ?
			      -1000 :
			      access_rw(ifd, fake, iova, got, sizeof(got));
		c = ret == -EBADF		      ? 'y' :
		    !memcmp(got, secret, sizeof(got)) ? 'l' :
							'n';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	got[0] = 'n';
	if (read(pipefd[0], got, 1) != 1)
		got[0] = 'n';
	waitpid(child, &status, 0);
	close(pipefd[0]);
	if (got[0] == 's')
		skip("no private mount namespace", "a file named like %s",
		     file);
	else
		check(got[0] == 'y',
		      "a file named like %s in another mount namespace is no "
		      "access fd (EBADF)%s",
		      file, got[0] == 'l' ? "; it read the IOAS" : "");
	close(afd);
	destroy(fd, map.ioas_id);
	munmap(mem, 4096);
}

struct destroyer {
	int fd;
	uint32_t id;
	atomic_bool stop;
	atomic_int destroyed;
};

static void *destroy_loop(void *arg)
{
	struct destroyer *d = arg;

	while (!atomic_load(&d->stop))
		if (destroy(d->fd, d->id) == 0)
			atomic_fetch_add(&d->destroyed, 1);
	return NULL;
}

/*
 * Another thread destroys the fault queue's id while FAULT_QUEUE_ALLOC is
 * still handing out its fd. The kernel's file holds the queue from the
 * start, so that DESTROY is EBUSY; it must not free the queue under the fd
 * that is being installed.
 */
static void test_fault_destroy_race(int fd)
{
	unsigned int i, failed = 0, destroyed = 0;
	uint32_t next = ioas_alloc(fd);

	destroy(fd, next);
	for (i = 0; i < 200; i++) {
		struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
		struct destroyer d = { .fd = fd, .id = next };
		pthread_t thread;
		long ret;

		pthread_create(&thread, NULL, destroy_loop, &d);
		ret = ioc(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);
		atomic_store(&d.stop, true);
		pthread_join(thread, NULL);
		destroyed += (unsigned int)atomic_load(&d.destroyed);
		if (ret || cmd.out_fault_id != next ||
		    fcntl((int)cmd.out_fault_fd, F_GETFD) < 0) {
			failed++;
			continue;
		}
		close((int)cmd.out_fault_fd);
		destroy(fd, cmd.out_fault_id);
	}
	check(!failed && !destroyed,
	      "FAULT_QUEUE_ALLOC racing a DESTROY of its id: %u of 200 "
	      "failed, %u DESTROYs succeeded",
	      failed, destroyed);
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
	/* A daemon wedged by a bug: keep what was said, and end it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);
	test_fault_fd(fd);
	test_access_fd(fd);
	test_object_file_private(fd);
	test_access_fd_not_by_name(fd);
	test_fault_destroy_race(fd);
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
