// SPDX-License-Identifier: MIT
/*
 * Finding 9: a reply must reach the caller that asked, never whoever holds
 * its thread id later. A thread of a program under iommufd-run issues an
 * fd-returning ioctl (IOMMU_TEST_OP_CREATE_ACCESS) whose struct straddles
 * into a userfaultfd page that a helper serves only when told, so the
 * request is still being read when the program is SIGKILLed: the thread's
 * seccomp wait is interruptible, and a thread that is not the leader is
 * reaped as soon as it exits (the leader may stay behind in the FLUSH of
 * its close()). A victim of another user then gets the thread's tid (the
 * harness sets ns_last_pid in the runner's private pid namespace, standing
 * for the pid wrap-around an attacker would wait for) and maps memory at
 * the struct's address; then the helper lets the read complete. Nothing
 * may be written into the victim.
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
#include "sec_ioctl.h"
#include "sec_uffd.h"

#define STRUCT_VA 0x5f0000000000ULL
/* The struct's header (size, op, id) on the first page, the rest after. */
#define STRUCT_OFFSET (SEC_PAGE - 16)
#define VICTIM_BYTE 0xa5

/* ---- the caller and its helper (roles, as the attacker) ---------------- */

/*
 * The helper holds the userfaultfd: it reports the fault, and serves it
 * when the harness sends SIGUSR1 (blocked here since before the fork).
 */
static void __attribute__((noreturn)) helper(int sock, int uffd)
{
	struct timespec wait = { .tv_sec = 120 };
	uint64_t addr = sec_uffd_wait_fault(uffd, 30);
	sigset_t usr1;

	sec_tell(sock, addr ? 'F' : 'f');
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigtimedwait(&usr1, NULL, &wait) == SIGUSR1)
		sec_tell(sock,
			 sec_uffd_zero(uffd, STRUCT_VA + SEC_PAGE) ? 'e' : 'Z');
	_exit(0);
}

struct issuer {
	int fd, sock;
	struct iommu_test_cmd *cmd;
};

/* The thread that asks: not the leader, so its tid is freed at its exit. */
static void *issue(void *arg)
{
	struct issuer *is = arg;
	pid_t tid = gettid();

	if (write(is->sock, &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	ioctl(is->fd, IOMMU_TEST_CMD, is->cmd);
	sec_tell(is->sock, 'r'); /* returned: not expected before the kill */
	return NULL;
}

/* Map the two pages, the second one unserved, with the struct across. */
static struct iommu_test_cmd *straddling_struct(int uffd, uint32_t ioas)
{
	struct iommu_test_cmd *cmd;
	char *region;

	region = mmap((void *)(uintptr_t)STRUCT_VA, 2 * SEC_PAGE,
		      PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (region == MAP_FAILED)
		return NULL;
	memset(region, 0, SEC_PAGE);
	if (sec_uffd_register(uffd, region + SEC_PAGE, SEC_PAGE))
		return NULL;
	cmd = (void *)(region + STRUCT_OFFSET);
	cmd->size = sizeof(*cmd);
	cmd->op = IOMMU_TEST_OP_CREATE_ACCESS;
	cmd->id = ioas;
	return cmd;
}

/*
 * Protocol on the socket: the caller sends 'C', the helper's pid and the
 * asking thread's tid; the helper 'F' once the daemon touched the second
 * page. On 'k' the leader closes a duplicate of its /dev/iommu descriptor:
 * while the daemon is busy that close waits in FLUSH, so the leader
 * outlives the asking thread when both are killed.
 */
static int role_caller(void)
{
	const char *keep = getenv("SEC_KEEP_FD");
	struct issuer is = { .sock = keep ? atoi(keep) : -1 };
	pthread_t thread;
	sigset_t usr1;
	uint32_t ioas;
	pid_t helper_pid;
	int uffd, dup_fd;

	is.fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (is.sock < 0 || is.fd < 0 || sec_ioas_alloc(is.fd, &ioas))
		return sec_tell(is.sock, '1'), 1;
	uffd = sec_uffd_open(getenv("SECURITY_UFFD_DEV"));
	is.cmd = uffd < 0 ? NULL : straddling_struct(uffd, ioas);
	dup_fd = dup(is.fd);
	if (!is.cmd || dup_fd < 0)
		return sec_tell(is.sock, '2'), 1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	fflush(NULL);
	helper_pid = fork();
	if (helper_pid == 0)
		helper(is.sock, uffd);
	close(uffd);
	sec_tell(is.sock, 'C');
	if (write(is.sock, &helper_pid, sizeof(helper_pid)) !=
		    sizeof(helper_pid) ||
	    pthread_create(&thread, NULL, issue, &is))
		return 1;
	if (sec_hear(is.sock, 120) == 'k')
		close(dup_fd);
	for (;;)
		pause();
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

/* The caller's messages: 'C', the helper's pid, the asking thread's tid. */
static bool hear_caller(int sock, pid_t *helper_pid, pid_t *tid)
{
	return sec_hear(sock, 20) == 'C' &&
	       read(sock, helper_pid, sizeof(*helper_pid)) ==
		       sizeof(*helper_pid) &&
	       read(sock, tid, sizeof(*tid)) == sizeof(*tid);
}

/* Is @pid in uninterruptible sleep? */
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
static void recycle(pid_t caller, pid_t helper_pid, pid_t tid, int sock)
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
	kill(helper_pid, SIGUSR1);
	c = sec_hear(sock, 10);
	sec_note("the helper served the fault: %c", c > 0 ? c : '?');
	if (vpid != tid)
		return;
	/* Once a fresh client is served, the dead caller's request is done. */
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

static void attack(void)
{
	pid_t caller, helper_pid, tid;
	int sv[2], rfd, c;
	char unused;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		sec_bail("socketpair: %s", strerror(errno));
	caller = sec_role_start(&sec_attacker, true, "caller", sv[1], &rfd);
	close(sv[1]);
	if (!hear_caller(sv[0], &helper_pid, &tid)) {
		check(0, "the caller set up its straddling struct");
	} else {
		c = sec_hear(sv[0], 10);
		check(c == 'F', "the caller's fd-returning ioctl is being "
				"served (its struct faulted)");
		if (c == 'F')
			recycle(caller, helper_pid, tid, sv[0]);
		else
			kill(helper_pid, SIGKILL);
	}
	sec_role_finish(caller, rfd, &unused, 0, 10);
	close(sv[0]);
}

int main(int argc, char **argv)
{
	const char *role = sec_role(argc, argv);
	const char *uffd = getenv("SECURITY_UFFD_DEV");

	if (role)
		return role_caller();
	sec_init(argc, argv);
	if (!getenv("SECURITY_PIDNS"))
		sec_skip("not in a pid namespace of the runner's",
			 "a recycled tid gets no reply");
	else if (!uffd || !*uffd)
		sec_skip("no userfaultfd node", "a recycled tid gets no reply");
	else
		attack();
	sec_check_serving("the recycled tid");
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return sec_done();
}
