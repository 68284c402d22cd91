// SPDX-License-Identifier: MIT
/*
 * The daemon's own descriptors and sockets against clients that misbehave:
 * the launcher socket (anybody may connect) must not keep descriptors it
 * did not ask for, the control socket must not buffer without bound for a
 * client that never reads, and clients SIGKILLed while they map memory
 * files must leave no descriptor behind. Prints TAP.
 *
 * usage: daemon_sockets [/dev/iommu]
 * Environment: IOMMUFDD_RUN_DIR, the daemon's run directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#include "launcher.h"

#define PAGE_SIZE_4K 4096UL

static const char *path = "/dev/iommu";
static const char *run_dir;

static int connect_to(const char *name, int type)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", run_dir, name);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		printf("Bail out! cannot connect to %s: %s\n", addr.sun_path,
		       strerror(errno));
		exit(1);
	}
	return fd;
}

static unsigned int count_fds(pid_t pid)
{
	char dir[64];
	unsigned int n = 0;
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((d = readdir(dp)))
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* Send @len bytes of @data with @nfds copies of /dev/null; the answer. */
static void launcher_send(const char *data, size_t len, int nfds, char *answer,
			  size_t answer_len)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = CMSG_SPACE(nfds * sizeof(int)),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	int sock = connect_to(IOMMUFDD_LAUNCHER_SOCKET, SOCK_SEQPACKET), i;
	ssize_t n;

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	for (i = 0; i < nfds; i++) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		answer[0] = '\0';
	for (i = 0; i < nfds; i++) {
		int fd;

		memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
		close(fd);
	}
	n = recv(sock, answer, answer_len - 1, 0);
	answer[n > 0 ? n : 0] = '\0';
	close(sock);
}

/* The daemon's pid, as its launcher socket names it; 0 (a failed check). */
static pid_t daemon_pid(void)
{
	int sock = connect_to(IOMMUFDD_LAUNCHER_SOCKET, SOCK_SEQPACKET);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int ret = getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len);

	close(sock);
	if (ret) {
		check(0, "the launcher socket names the daemon");
		return 0;
	}
	return cred.pid;
}

/* Registrations the launcher refuses leave nothing in the daemon. */
static void test_launcher_extra_fds(void)
{
	pid_t pid = daemon_pid();
	unsigned int before, after = 0, i, refused = 0;
	char answer[64];

	if (!pid)
		return;
	before = count_fds(pid);
	for (i = 0; i < 32; i++) {
		/* two descriptors where one is expected */
		launcher_send(IOMMUFDD_LAUNCHER_HELLO,
			      strlen(IOMMUFDD_LAUNCHER_HELLO), 2, answer,
			      sizeof(answer));
		refused += !strcmp(answer, "bad request");
		/* an empty message that still carries one */
		launcher_send("", 0, 1, answer, sizeof(answer));
		refused += !strcmp(answer, "bad request");
	}
	check(refused == 64,
	      "the launcher refuses all 64 bad registrations "
	      "(%u)",
	      refused);
	/* The last close may come just after its answer. */
	for (i = 0; i < 100; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		after = count_fds(pid);
		if (after <= before)
			break;
		nanosleep(&ts, NULL);
	}
	check(before && after <= before,
	      "and keeps none of their descriptors (%u open before, %u after)",
	      before, after);
}

/* One page of a new memfd, mapped into @ioas; 0 or -1. */
static int map_new_memfd(int fd, uint32_t ioas)
{
	int memfd = memfd_create("kill-storm", MFD_CLOEXEC);
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.length = PAGE_SIZE_4K,
	};
	void *mem;

	if (memfd < 0 || ftruncate(memfd, PAGE_SIZE_4K))
		return -1;
	mem = mmap(NULL, PAGE_SIZE_4K, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	close(memfd);
	if (mem == MAP_FAILED)
		return -1;
	map.user_va = (uintptr_t)mem;
	return ioctl(fd, IOMMU_IOAS_MAP, &map);
}

/* A client mapping memfds into a mock domain, until it is killed. */
static _Noreturn void storm_client(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = {
		.size = sizeof(md),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
		_exit(1);
	md.id = alloc.out_ioas_id;
	ioctl(fd, IOMMU_TEST_CMD, &md);
	for (int i = 0; i < 64; i++)
		map_new_memfd(fd, alloc.out_ioas_id);
	pause();
	_exit(0);
}

/*
 * Descriptors of @pid, once they are down to @limit, or what is left
 * after 5 s (@limit 0: after 0.2 s, to let a just-closed client go).
 */
static unsigned int fds_settled(pid_t pid, unsigned int limit)
{
	unsigned int n = count_fds(pid);

	for (int i = 0; i < (limit ? 500 : 20) && n > limit; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		n = count_fds(pid);
	}
	return n;
}

/*
 * Clients killed at random points while they map memory files into a
 * mock domain: once their files are released, the daemon holds no more
 * descriptors than before (memory files, pidfds of the mapping processes).
 */
static void test_kill_storm(void)
{
	pid_t pid = daemon_pid();
	unsigned int before, after, killed = 0;

	if (!pid)
		return;
	/* What the daemon makes once, at a first MAP (its inotify instance). */
	{
		int fd = open(path, O_RDWR | O_CLOEXEC);
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

		if (fd >= 0 && !ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
			map_new_memfd(fd, alloc.out_ioas_id);
		if (fd >= 0)
			close(fd);
	}
	before = fds_settled(pid, 0);
	srand(4242);
	for (int i = 0; i < 40; i++) {
		struct timespec ts = { 0, (rand() % 20) * 1000 * 1000 };
		pid_t child = fork();

		if (child == 0)
			storm_client();
		nanosleep(&ts, NULL);
		killed += kill(child, SIGKILL) == 0;
		waitpid(child, NULL, 0);
	}
	after = fds_settled(pid, before);
	check(before && after <= before,
	      "after %u clients were SIGKILLed while mapping memfds, the "
	      "daemon holds no more descriptors (%u before, %u after)",
	      killed, before, after);
}

static const char events_request[] =
	"{\"version\": 1, \"id\": 1, \"command\": \"events\"}\n";
static const char status_request[] =
	"{\"version\": 1, \"id\": 2, \"command\": \"status\"}\n";

/*
 * A follower that never reads is dropped once it is far behind: it gets
 * EOF after what the daemon had managed to send, and the daemon goes on.
 */
static void test_control_slow_follower(void)
{
	int ctl = connect_to("control", SOCK_STREAM), rcvbuf = 4096;
	int fd = open(path, O_RDWR | O_CLOEXEC), i, eof = 0, idle = 0;
	char buf[65536];
	ssize_t n;

	setsockopt(ctl, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || write(ctl, events_request, strlen(events_request)) !=
			      (ssize_t)strlen(events_request)) {
		check(0, "an events follower");
		return;
	}
	/* The answer to "events" first, so the follower is registered. */
	n = recv(ctl, buf, sizeof(buf), 0);
	check(n > 0 && strstr(buf, "\"ok\":true"), "events: ok");
	/* Two events each, some 120 bytes of JSON apiece: 7 MB. */
	for (i = 0; i < 30000; i++) {
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
		struct iommu_destroy d = { .size = sizeof(d) };

		if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
			break;
		d.id = alloc.out_ioas_id;
		if (ioctl(fd, IOMMU_DESTROY, &d))
			break;
	}
	check(i == 30000, "30000 IOAS_ALLOC/DESTROY pairs (%d)", i);
	/* Read what is there; the connection must end, not stay idle. */
	while (!eof && idle < 20) {
		struct pollfd pfd = { .fd = ctl, .events = POLLIN };

		if (poll(&pfd, 1, 100) <= 0) {
			idle++;
			continue;
		}
		n = recv(ctl, buf, sizeof(buf), 0);
		if (n <= 0)
			eof = 1;
	}
	check(eof, "the follower that did not read was dropped (EOF)");
	close(ctl);

	ctl = connect_to("control", SOCK_STREAM);
	n = -1;
	if (write(ctl, status_request, strlen(status_request)) ==
	    (ssize_t)strlen(status_request))
		n = recv(ctl, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	check(n > 0 && strstr(buf, "\"ok\":true"),
	      "and the control socket still answers");
	close(ctl);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		path = argv[1];
	run_dir = getenv("IOMMUFDD_RUN_DIR");
	printf("TAP version 13\n");
	if (!run_dir) {
		printf("1..0 # SKIP IOMMUFDD_RUN_DIR is not set\n");
		return 0;
	}
	test_launcher_extra_fds();
	test_control_slow_follower();
	test_kill_storm();
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
