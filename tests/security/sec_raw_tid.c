// SPDX-License-Identifier: MIT
/*
 * Finding 9: a reply must reach the caller that asked, never whoever holds
 * its thread id later. A thread of a program under iommufd-run issues an
 * fd-returning ioctl (IOMMU_TEST_OP_CREATE_ACCESS) whose struct straddles
 * into a page mapped from a file of the attacker's own FUSE mount
 * (fusermount3), whose server answers the read only when told. So the
 * request is still being read when the program is SIGKILLed: the thread's
 * seccomp wait is interruptible, and a thread that is not the leader is
 * reaped as soon as it exits (the leader may stay behind in the FLUSH of
 * its close()). A victim of another user then gets the thread's tid (the
 * harness sets ns_last_pid in the runner's private pid namespace, standing
 * for the pid wrap-around an attacker would wait for) and maps memory at
 * the struct's address; then the server lets the read complete. Nothing
 * may be written into the victim.
 *
 * A FUSE page rather than a userfaultfd one: a read of /proc/PID/mem does
 * not wait for a userfaultfd (it fails with EFAULT), but any read waits for
 * a page that a FUSE server has not delivered yet.
 *
 * The same attack on a plain ioctl cannot happen with FUSE or CUSE: a
 * thread killed while the daemon handles its request stays in the kernel
 * until it is answered, so its tid is not free before the reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iommufd/iommufd_test.h>

#include "sec.h"
#include "sec_fuse.h"
#include "sec_ioctl.h"

#define STRUCT_VA 0x5f0000000000ULL
/* The struct's header (size, op, id) on the first page, the rest after. */
#define STRUCT_OFFSET (SEC_PAGE - 16)
#define VICTIM_BYTE 0xa5

/* ---- the attacker's FUSE file ------------------------------------------ */

struct slow_file {
	char path[512];
	pid_t server;
	int err;
};

static int events[2]; /* the FUSE server says 'R' when it holds a READ */

static int mount_slow_file(void *arg)
{
	struct slow_file *sf = arg;
	struct sec_fuse f;
	char dir[512];

	sec_pub_path(dir, sizeof(dir), "tmp/raw-tid-XXXXXX");
	if (!mkdtemp(dir))
		return sf->err = errno, 1;
	sf->err = -sec_fuse_mount_user(&f, dir, SEC_PAGE, events[1], 0);
	if (sf->err)
		return 1;
	snprintf(sf->path, sizeof(sf->path), "%s", f.path);
	sf->server = f.server;
	return 0;
}

/* ---- the caller (a role under iommufd-run, as the attacker) ------------- */

struct issuer {
	int fd, sock;
	struct iommu_test_cmd *cmd;
};

/* The thread that asks: not the leader, so its tid is freed at its exit. */
static void *issue(void *arg)
{
	struct issuer *is = arg;
	pid_t tid = gettid();
	int err;

	if (write(is->sock, &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	err = ioctl(is->fd, IOMMU_TEST_CMD, is->cmd) ? errno : 0;
	/* Returned: not expected before the kill. Say how. */
	sec_tell(is->sock, 'r');
	if (write(is->sock, &err, sizeof(err)) != sizeof(err))
		return NULL;
	return NULL;
}

/* Two pages at STRUCT_VA, the second from the slow file; the struct across. */
static struct iommu_test_cmd *straddling_struct(uint32_t ioas)
{
	const char *path = getenv("SEC_SLOW_FILE");
	struct iommu_test_cmd *cmd;
	char *region;
	int file;

	region = mmap((void *)(uintptr_t)STRUCT_VA, 2 * SEC_PAGE,
		      PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	file = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (region == MAP_FAILED || file < 0 ||
	    mmap(region + SEC_PAGE, SEC_PAGE, PROT_READ,
		 MAP_PRIVATE | MAP_FIXED, file, 0) != region + SEC_PAGE)
		return NULL;
	close(file);
	memset(region, 0, SEC_PAGE);
	cmd = (void *)(region + STRUCT_OFFSET);
	cmd->size = sizeof(*cmd);
	cmd->op = IOMMU_TEST_OP_CREATE_ACCESS;
	cmd->id = ioas;
	return cmd;
}

/*
 * Protocol on the socket: the caller sends 'C' and the asking thread's
 * tid. On 'k' the leader closes a duplicate of its /dev/iommu descriptor:
 * while the daemon is busy that close waits in FLUSH, so the leader
 * outlives the asking thread when both are killed.
 */
static int role_caller(void)
{
	const char *keep = getenv("SEC_KEEP_FD");
	struct issuer is = { .sock = keep ? atoi(keep) : -1 };
	pthread_t thread;
	uint32_t ioas;
	int dup_fd;

	is.fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (is.sock < 0 || is.fd < 0 || sec_ioas_alloc(is.fd, &ioas))
		return sec_tell(is.sock, '1'), 1;
	is.cmd = straddling_struct(ioas);
	dup_fd = dup(is.fd);
	if (!is.cmd || dup_fd < 0)
		return sec_tell(is.sock, '2'), 1;
	sec_tell(is.sock, 'C');
	if (pthread_create(&thread, NULL, issue, &is))
		return 1;
	if (sec_hear(is.sock, 120) == 'k')
		close(dup_fd);
	for (;;)
		pause();
	return 0;
}

/* ---- the victim --------------------------------------------------------- */

static int victim(void *arg)
{
	int sock = *(int *)arg;
	char *mem = mmap((void *)(uintptr_t)STRUCT_VA, 2 * SEC_PAGE,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			 0);
	bool intact = true;

	if (mem == MAP_FAILED)
		return sec_tell(sock, 'E'), 1;
	memset(mem, VICTIM_BYTE, 2 * SEC_PAGE);
	sec_tell(sock, 'V');
	if (sec_hear(sock, 120) != 'c')
		return 1;
	for (size_t i = 0; i < 2 * SEC_PAGE; i++)
		intact &= (unsigned char)mem[i] == VICTIM_BYTE;
	sec_tell(sock, intact ? 'I' : 'M');
	return 0;
}

/* ---- the harness ---------------------------------------------------------- */

static int set_last_pid(pid_t pid)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	bool ok = fd >= 0 && write(fd, buf, (size_t)n) == n;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* A victim with pid @tid, or -1. */
static pid_t victim_with_pid(pid_t tid, int *sock)
{
	for (int tries = 0; tries < 20; tries++) {
		int sv[2];
		pid_t pid;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			sec_bail("socketpair: %s", strerror(errno));
		if (set_last_pid(tid - 1))
			return -1;
		pid = sec_spawn(&sec_other, victim, &sv[1]);
		close(sv[1]);
		if (pid == tid && sec_hear(sv[0], 10) == 'V') {
			*sock = sv[0];
			return pid;
		}
		kill(pid, SIGKILL);
		sec_wait(pid, 5);
		close(sv[0]);
	}
	return -1;
}

/* Wait until no task has @tid any more. */
static bool thread_gone(pid_t tid, double timeout_s)
{
	double deadline = sec_now() + timeout_s;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)tid);
	while (access(path, F_OK) == 0 && sec_now() < deadline)
		sec_sleep(0.01);
	return access(path, F_OK) != 0;
}

/* Is @pid in uninterruptible sleep (within @timeout_s)? */
static bool in_d_state(pid_t pid, double timeout_s)
{
	double deadline = sec_now() + timeout_s;
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (sec_now() < deadline) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return false;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[2] == 'D')
			return true;
		sec_sleep(0.01);
	}
	return false;
}

/* Kill the caller, give its tid to a victim, then let the request go on. */
static void recycle(pid_t caller, pid_t tid, int sock, pid_t server)
{
	int vsock = -1, c;
	pid_t vpid;

	sec_tell(sock, 'k');
	sec_note("the caller's leader is %s in its close()",
		 in_d_state(caller, 2) ? "waiting" : "not waiting");
	kill(caller, SIGKILL);
	check(thread_gone(tid, 10),
	      "the asking thread %d died of SIGKILL and "
	      "its tid is free",
	      (int)tid);
	vpid = victim_with_pid(tid, &vsock);
	check(vpid == tid,
	      "a victim of another user got the dead thread's "
	      "tid %d",
	      (int)tid);
	kill(server, SIGUSR1);
	if (vpid != tid)
		return;
	/* Once a fresh client is served, the dead caller's request is done. */
	sec_sleep(0.5);
	sec_fresh_client(20);
	sec_tell(vsock, 'c');
	c = sec_hear(vsock, 10);
	check(c == 'I',
	      "nothing was written into the victim's memory (it "
	      "says '%c': %s)",
	      c > 0 ? c : '?',
	      c == 'M' ? "modified" :
	      c == 'I' ? "intact" :
			 "no answer");
	sec_wait(vpid, 5);
	close(vsock);
}

static void attack(const struct slow_file *sf)
{
	int sv[2], rfd, c, err;
	pid_t caller, tid;
	char unused;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		sec_bail("socketpair: %s", strerror(errno));
	setenv("SEC_SLOW_FILE", sf->path, 1);
	caller = sec_role_start(&sec_attacker, true, "caller", sv[1], &rfd);
	close(sv[1]);
	c = sec_hear(sv[0], 20);
	if (c != 'C' || read(sv[0], &tid, sizeof(tid)) != sizeof(tid)) {
		check(0, "the caller set up its straddling struct (%c)",
		      c > 0 ? c : '?');
	} else {
		c = sec_hear(events[0], 10);
		if (c != 'R' && sec_hear(sv[0], 0.1) == 'r' &&
		    read(sv[0], &err, sizeof(err)) == sizeof(err))
			sec_note("the ioctl returned %s before its struct's "
				 "second page was read",
				 err ? strerror(err) : "0");
		check(c == 'R', "the caller's fd-returning ioctl is being "
				"served (its struct's second page is being "
				"read)");
		if (c == 'R')
			recycle(caller, tid, sv[0], sf->server);
	}
	kill(sf->server, SIGKILL);
	sec_role_finish(caller, rfd, &unused, 0, 10);
	close(sv[0]);
}

int main(int argc, char **argv)
{
	const char *role = sec_role(argc, argv);
	const char *fuse = getenv("SECURITY_FUSE_DEV");
	struct slow_file *sf;
	int st;

	if (role)
		return role_caller();
	sec_init(argc, argv);
	if (pipe2(events, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	sf = sec_shared(sizeof(*sf));
	if (!getenv("SECURITY_PIDNS")) {
		sec_skip("not in a pid namespace of the runner's",
			 "a recycled tid gets no reply");
	} else if (!fuse || !*fuse) {
		sec_skip("no /dev/fuse node", "a recycled tid gets no reply");
	} else {
		st = sec_run_as(&sec_attacker, mount_slow_file, sf, 20);
		check(st == 0,
		      "the attacker mounted its FUSE file with "
		      "fusermount3 (%s)",
		      strerror(sf->err));
		if (st == 0)
			attack(sf);
	}
	sec_check_serving("the recycled tid");
	return sec_done();
}
