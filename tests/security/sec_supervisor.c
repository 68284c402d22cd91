// SPDX-License-Identifier: MIT
/*
 * Finding 10: one user must not be able to wedge or fill the supervisor
 * that hands file descriptors to every user's iommufd-run programs.
 *
 *  - Slots: the attacker registers 300 launched programs; another user
 *    must still be able to register one (per-uid limits, not one shared
 *    pool).
 *  - Silence: the attacker opens connections to the launcher socket and
 *    never speaks; another user's program must still register promptly.
 *  - Wedge: the attacker, under iommufd-run, issues an fd-returning ioctl
 *    on a file of its own FUSE mount whose server never answers; other
 *    users' launched programs, one already running and one starting, must
 *    still get their FAULT_QUEUE_ALLOC and CREATE_ACCESS answered.
 *
 * Each is then undone by killing the attacker's processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec.h"
#include "sec_fuse.h"
#include "sec_ioctl.h"

#define HOLDERS 300
#define SILENT_CONNS 20
#define PROMPT_S 10.0

/* ---- roles ------------------------------------------------------------- */

static int keep_fd(void)
{
	const char *keep = getenv("SEC_KEEP_FD");

	return keep ? atoi(keep) : -1;
}

/* A registered program that just stays. */
static int role_hold(void)
{
	sec_tell(keep_fd(), 'h');
	for (;;)
		pause();
	return 0;
}

struct client_result {
	bool done;
	int fault_err, access_err;
};

/* Another user's launched program: the two fd-returning ioctls. */
static int role_client(void)
{
	struct iommu_fault_alloc fault = { .size = sizeof(fault) };
	struct client_result r = { .fault_err = -1, .access_err = -1 };
	int sock = keep_fd(), fd, afd = -1;
	uint32_t ioas;

	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (sock >= 0) {
		/* Running already: wait for the harness's go. */
		sec_tell(sock, 'W');
		if (sec_hear(sock, 120) != 'g')
			return 1;
	}
	if (fd >= 0) {
		r.fault_err =
			ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &fault) ? errno : 0;
		r.access_err =
			sec_ioas_alloc(fd, &ioas) ?
				-2 :
				(int)-sec_create_access(fd, ioas, 0, &afd);
	}
	r.done = true;
	sec_role_reply(&r, sizeof(r));
	return 0;
}

/* The attacker: an fd-returning ioctl on a file of its stuck FUSE mount. */
static int role_wedger(void)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int sock = keep_fd(), file, err;
	struct sec_fuse f;
	char mnt[512];

	sec_pub_path(mnt, sizeof(mnt), "mnt");
	if (sec_enter_userns() ||
	    sec_fuse_mount(&f, getenv("SECURITY_FUSE_DEV"), mnt, SEC_PAGE, sock,
			   SEC_FUSE_HOLD_FLUSH))
		return sec_tell(sock, 'x'), 1;
	file = open(f.path, O_RDWR | O_CLOEXEC);
	if (file < 0)
		return sec_tell(sock, 'x'), 1;
	sec_tell(sock, 'O');
	if (write(sock, &f.server, sizeof(f.server)) != sizeof(f.server))
		return 1;
	err = ioctl(file, IOMMU_FAULT_QUEUE_ALLOC, &cmd) ? errno : 0;
	sec_tell(sock, 'R');
	if (write(sock, &err, sizeof(err)) != sizeof(err))
		return 1;
	for (;;)
		pause();
	return 0;
}

/* ---- the harness ---------------------------------------------------------- */

/* Start another user's client; -1 on setup failure. */
static pid_t start_client(int keep, int *rfd)
{
	return sec_role_start(&sec_other, true, "client", keep, rfd);
}

/* Finish a client within @timeout_s; the seconds it took, or -1. */
static double finish_client(pid_t pid, int rfd, double t0, double timeout_s,
			    struct client_result *r)
{
	int st = sec_role_finish(pid, rfd, r, sizeof(*r), timeout_s);

	if (st == 127)
		sec_note("iommufd-run failed (exit status 127): refused or "
			 "unreachable");
	else if (st < 0)
		sec_note("no answer within %.0f s", timeout_s);
	return st == 0 && r->done ? sec_now() - t0 : -1;
}

static void check_client(const char *what, double took,
			 const struct client_result *r)
{
	check(took >= 0 && took <= PROMPT_S && r->fault_err == 0 &&
		      r->access_err == 0,
	      "%s: FAULT_QUEUE_ALLOC (%s) and CREATE_ACCESS (%s) answered "
	      "within %.0f s (%s)",
	      what, took < 0 ? "none" : strerror(r->fault_err),
	      took < 0 ? "none" : strerror(r->access_err), PROMPT_S,
	      took < 0 ? "no answer" : "in time");
	if (took >= 0)
		sec_note("%s took %.2f s", what, took);
}

/* Another user's program, started now, run to its end. */
static void run_client(const char *what)
{
	struct client_result r;
	double t0 = sec_now();
	int rfd;
	pid_t pid = start_client(-1, &rfd);

	check_client(what, finish_client(pid, rfd, t0, PROMPT_S, &r), &r);
}

static void kill_all(pid_t *pids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0)
			sec_wait(pids[i], 5);
}

static void test_slots(void)
{
	static pid_t holders[HOLDERS];
	unsigned int registered = 0;
	int p[2], rfd;

	if (pipe2(p, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	for (unsigned int i = 0; i < HOLDERS; i++) {
		holders[i] =
			sec_role_start(&sec_attacker, true, "hold", p[1], &rfd);
		close(rfd);
	}
	close(p[1]);
	while (registered < HOLDERS && sec_hear(p[0], 5) == 'h')
		registered++;
	sec_note("the attacker registered %u of %d launched programs",
		 registered, HOLDERS);
	run_client("another user's program, with the attacker's 300 "
		   "registered");
	kill_all(holders, HOLDERS);
	close(p[0]);
}

static int silent_connections(void *arg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int tell = *(int *)arg, n = 0;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/launcher.sock",
		 sec_env("IOMMUFDD_RUN_DIR"));
	for (int i = 0; i < SILENT_CONNS; i++) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);

		if (s >= 0 &&
		    !connect(s, (struct sockaddr *)&addr, sizeof(addr)))
			n++;
	}
	sec_tell(tell, (char)n);
	for (;;)
		pause();
	return 0;
}

static void test_silence(void)
{
	int p[2], n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	pid = sec_spawn(&sec_attacker, silent_connections, &p[1]);
	n = sec_hear(p[0], 10);
	sec_note("the attacker holds %d silent connections to the launcher "
		 "socket",
		 n);
	run_client("another user's program, with the attacker's silent "
		   "connections");
	kill_all(&pid, 1);
	close(p[0]);
	close(p[1]);
}

/* The attacker wedges; returns its pid and its FUSE server's. */
static pid_t start_wedger(int sock, int role_sock, pid_t *server)
{
	int rfd, err = -1, c;
	pid_t pid =
		sec_role_start(&sec_attacker, true, "wedger", role_sock, &rfd);

	close(rfd);
	close(role_sock);
	*server = 0;
	c = sec_hear(sock, 10);
	if (c != 'O' || read(sock, server, sizeof(*server)) != sizeof(*server))
		sec_note("the attacker could not mount its FUSE file (%c)",
			 c > 0 ? c : '?');
	/* The server says 'F' or 'I' for what it holds: note them all. */
	while ((c = sec_hear(sock, 2)) > 0) {
		if (c == 'R') {
			if (read(sock, &err, sizeof(err)) != sizeof(err))
				break;
			sec_note("the attacker's ioctl on its own FUSE file "
				 "returned: %s",
				 err ? strerror(err) : "0");
		} else {
			sec_note("the attacker's FUSE server holds a %s",
				 c == 'F' ? "FLUSH" :
				 c == 'I' ? "IOCTL" :
					    "READ");
		}
	}
	return pid;
}

static void test_wedge(void)
{
	struct client_result r;
	int sv[2], sock[2], rfd;
	pid_t waiting, wedger, server;
	double t0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock))
		sec_bail("socketpair: %s", strerror(errno));
	waiting = start_client(sv[1], &rfd);
	close(sv[1]);
	if (sec_hear(sv[0], PROMPT_S) != 'W')
		sec_note("another user's program did not start");
	wedger = start_wedger(sock[0], sock[1], &server);

	run_client("a program another user starts after the attack");
	t0 = sec_now();
	sec_tell(sv[0], 'g');
	check_client("a program another user was running already",
		     finish_client(waiting, rfd, t0, PROMPT_S, &r), &r);
	{
		/* The server too: the attacker may wait on it itself. */
		pid_t attacker[2] = { wedger, server };

		kill_all(attacker, 2);
	}
	close(sv[0]);
	close(sock[0]);
	run_client("another user's program, once the attacker is gone");
}

int main(int argc, char **argv)
{
	const char *role = sec_role(argc, argv);
	const char *fuse = getenv("SECURITY_FUSE_DEV");

	if (role && !strcmp(role, "hold"))
		return role_hold();
	if (role && !strcmp(role, "client"))
		return role_client();
	if (role && !strcmp(role, "wedger"))
		return role_wedger();
	sec_init(argc, argv);
	test_slots();
	sec_check_serving("300 launched programs of one user");
	test_silence();
	sec_check_serving("silent launcher connections");
	if (fuse && *fuse)
		test_wedge();
	else
		sec_skip("no /dev/fuse node", "a wedged supervisor");
	sec_check_serving("the supervisor wedge");
	return sec_done();
}
