// SPDX-License-Identifier: MIT
/*
 * The security tests' common ground (sec.h): identities, children, pipes
 * and the after-attack checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

/* What an attacker's children may lock unless a test says otherwise. */
#define SEC_MEMLOCK_DEFAULT (64ULL << 20)

const struct sec_user sec_attacker = { "attacker", 65534, 65534, true };
const struct sec_user sec_other = { "other", 65533, 65533, true };
const struct sec_user sec_outsider = { "outsider", 65532, 65532, false };

const char *sec_dev = "/dev/iommu";

void sec_init(int argc, char **argv)
{
	if (argc > 1)
		sec_dev = argv[1];
	/* A wedged daemon must not cost us what was already said. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n");
	if (geteuid() != 0)
		sec_bail("the harness side of the security tests runs as root");
}

void sec_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

void sec_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

const char *sec_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		sec_bail("%s is not set (run this program through "
			 "tests/security/run.sh)",
			 name);
	return v;
}

gid_t sec_group(void)
{
	const char *g = getenv("SECURITY_GROUP");

	return g && *g ? (gid_t)strtoul(g, NULL, 10) : 4242;
}

/* ---- running steps as a user ---------------------------------------- */

void sec_become(const struct sec_user *u, uint64_t memlock)
{
	gid_t groups[1] = { sec_group() };
	uid_t r, e, s;

	if (memlock) {
		struct rlimit lim;

		/* Raising the hard limit needs CAP_SYS_RESOURCE: only lower. */
		if (getrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(100);
		if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < memlock)
			memlock = lim.rlim_max;
		lim.rlim_cur = lim.rlim_max = memlock;
		if (setrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(100);
	}
	if (setgroups(u->member ? 1 : 0, groups) ||
	    setresgid(u->gid, u->gid, u->gid) ||
	    setresuid(u->uid, u->uid, u->uid))
		_exit(100);
	if (getresuid(&r, &e, &s) || r != u->uid || e != u->uid || s != u->uid)
		_exit(100);
	/* A process the user started is dumpable; a set*id() one is not. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (chdir("/"))
		_exit(100);
}

pid_t sec_spawn(const struct sec_user *u, int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		sec_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		sec_become(u, SEC_MEMLOCK_DEFAULT);
		_exit(fn(arg));
	}
	return pid;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int sec_wait(pid_t pid, double timeout_s)
{
	double deadline = sec_now() + timeout_s;
	int status;

	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			return decode_status(status);
		if (got < 0)
			return -1;
		if (sec_now() >= deadline)
			break;
		sec_sleep(0.005);
	}
	kill(pid, SIGKILL);
	/* A child stuck in an uninterruptible wait is left behind. */
	deadline = sec_now() + 5;
	while (waitpid(pid, &status, WNOHANG) == 0 && sec_now() < deadline)
		sec_sleep(0.01);
	return -1;
}

int sec_run_as(const struct sec_user *u, int (*fn)(void *), void *arg,
	       double timeout_s)
{
	return sec_wait(sec_spawn(u, fn, arg), timeout_s);
}

int sec_exec_as(const struct sec_user *u, char *const argv[], double timeout_s)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		sec_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (u)
			sec_become(u, SEC_MEMLOCK_DEFAULT);
		execv(argv[0], argv);
		_exit(127);
	}
	return sec_wait(pid, timeout_s);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

const char *sec_userns_unavailable(void)
{
	static char why[160];
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) ? errno : 0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return "cannot tell whether user namespaces can be made here";
	if (!WEXITSTATUS(status))
		return NULL;
	snprintf(why, sizeof(why),
		 "no user namespace can be made here (unshare: %s; a chroot "
		 "or user.max_user_namespaces=0 forbids them)",
		 strerror(WEXITSTATUS(status)));
	return why;
}

int sec_enter_userns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int ret;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return -errno;
	ret = write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	if (!ret)
		ret = write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	if (!ret)
		ret = write_file("/proc/self/gid_map", map);
	return ret;
}

pid_t sec_role_start(const struct sec_user *u, bool launched, const char *role,
		     int keep_fd, int *result_fd)
{
	const char *self = sec_self();
	char fdnum[16];
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		sec_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		sec_become(u, SEC_MEMLOCK_DEFAULT);
		close(p[0]);
		fcntl(p[1], F_SETFD, 0);
		if (keep_fd >= 0) {
			fcntl(keep_fd, F_SETFD, 0);
			snprintf(fdnum, sizeof(fdnum), "%d", keep_fd);
			setenv("SEC_KEEP_FD", fdnum, 1);
		}
		snprintf(fdnum, sizeof(fdnum), "%d", p[1]);
		setenv("SEC_RESULT_FD", fdnum, 1);
		if (launched)
			execl(sec_env("IOMMUFD_RUN"), "iommufd-run",
			      "--run-dir", sec_env("IOMMUFDD_RUN_DIR"), "--",
			      self, "--role", role, sec_dev, (char *)NULL);
		else
			execl(self, self, "--role", role, sec_dev,
			      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*result_fd = p[0];
	return pid;
}

int sec_role_finish(pid_t pid, int result_fd, void *result, size_t len,
		    double timeout_s)
{
	double deadline = sec_now() + timeout_s;
	size_t got = 0;

	memset(result, 0, len);
	while (got < len && sec_now() < deadline) {
		struct pollfd p = { .fd = result_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(result_fd, (char *)result + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(result_fd);
	if (got != len)
		memset(result, 0, len);
	return sec_wait(pid, deadline > sec_now() ? deadline - sec_now() : 1);
}

const char *sec_role(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "--role"))
		return NULL;
	sec_dev = argv[3];
	return argv[2];
}

void sec_role_reply(const void *result, size_t len)
{
	const char *fd = getenv("SEC_RESULT_FD");

	if (!fd || write(atoi(fd), result, len) != (ssize_t)len)
		_exit(99);
}

int sec_daemon_log_reports(int skip, char *hit, size_t len)
{
	static const char *const marks[] = {
		"runtime error:",
		"ERROR: AddressSanitizer",
		"ERROR: LeakSanitizer",
		"SUMMARY: UndefinedBehaviorSanitizer",
	};
	char line[1024];
	int found = 0;
	FILE *f = fopen(sec_env("SECURITY_DAEMON_LOG"), "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
			if (!strstr(line, marks[i]))
				continue;
			if (found++ == skip) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(hit, len, "%s", line);
			}
			break;
		}
	}
	fclose(f);
	return found;
}

void *sec_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		sec_bail("mmap of %zu shared bytes: %s", len, strerror(errno));
	return p;
}

void *sec_memfd_page(void)
{
	int memfd = memfd_create("sec-page", MFD_CLOEXEC), err;
	void *p;

	if (memfd < 0)
		return NULL;
	if (ftruncate(memfd, SEC_PAGE)) {
		err = errno;
		close(memfd);
		errno = err;
		return NULL;
	}
	p = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	err = errno;
	close(memfd);
	errno = err;
	return p == MAP_FAILED ? NULL : p;
}

double sec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sec_sleep(double s)
{
	struct timespec ts = { (time_t)s,
			       (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- pipes ------------------------------------------------------------ */

bool sec_tell(int fd, char c)
{
	return write(fd, &c, 1) == 1;
}

int sec_hear(int fd, double timeout_s)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double deadline = sec_now() + timeout_s;
	char c;

	for (;;) {
		double left = deadline - sec_now();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n > 0)
			break;
		if (n == 0 || (n < 0 && errno != EINTR) ||
		    sec_now() >= deadline)
			return -1;
	}
	if (read(fd, &c, 1) != 1)
		return 0;
	return (unsigned char)c;
}

/* ---- the daemon ------------------------------------------------------- */

pid_t sec_daemon_pid(void)
{
	return (pid_t)atoi(sec_env("SECURITY_DAEMON_PID"));
}

bool sec_daemon_alive(void)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sec_daemon_pid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

long sec_daemon_kb(const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)sec_daemon_pid());
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':')
			kb = strtol(line + flen + 1, NULL, 10);
	fclose(f);
	return kb;
}

long sec_daemon_peak_reset(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs",
		 (int)sec_daemon_pid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "5", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return sec_daemon_kb("VmHWM");
}

struct fresh_result {
	int step;
	int err;
};

static const char *const fresh_steps[] = {
	"open", "IOAS_ALLOC", "mmap", "IOAS_MAP", "IOAS_UNMAP", "DESTROY",
};

static int fresh_client(void *arg)
{
	struct fresh_result *res = arg;
	uint64_t iova = 0;
	uint32_t ioas;
	void *page;
	int fd;

	res->step = 0;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return res->err = errno, 1;
	res->step = 1;
	if ((res->err = (int)-sec_ioas_alloc(fd, &ioas)))
		return 1;
	res->step = 2;
	page = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return res->err = errno, 1;
	res->step = 3;
	if ((res->err = (int)-sec_map(fd, ioas, page, SEC_PAGE, &iova, 0)))
		return 1;
	res->step = 4;
	if ((res->err = (int)-sec_unmap(fd, ioas, iova, SEC_PAGE)))
		return 1;
	res->step = 5;
	if ((res->err = (int)-sec_destroy(fd, ioas)))
		return 1;
	res->step = 6;
	close(fd);
	return 0;
}

int sec_fresh_client(double timeout_s)
{
	struct fresh_result *res = sec_shared(sizeof(*res));
	int st = sec_run_as(&sec_other, fresh_client, res, timeout_s);
	int ret = 0;

	if (st < 0) {
		sec_note("fresh client: no answer within %.0f s (stuck in %s)",
			 timeout_s, fresh_steps[res->step]);
		ret = -ETIMEDOUT;
	} else if (st != 0) {
		sec_note("fresh client: %s failed: %s (exit status %d)",
			 res->step < 6 ? fresh_steps[res->step] : "?",
			 strerror(res->err), st);
		ret = res->err ? -res->err : -ECHILD;
	}
	munmap(res, sizeof(*res));
	return ret;
}

int sec_ctl(char *out, size_t len, const char *const args[])
{
	const char *argv[16] = { sec_env("IOMMUFDCTL"), "--run-dir",
				 sec_env("IOMMUFDD_RUN_DIR"), "--json" };
	unsigned int n = 4, i;
	size_t used = 0;
	double deadline;
	int pfd[2];
	pid_t pid;

	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	deadline = sec_now() + 10;
	while (sec_now() < deadline) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		char sink[4096];
		ssize_t got;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if (used + 1 < len)
			got = read(pfd[0], out + used, len - 1 - used);
		else
			got = read(pfd[0], sink, sizeof(sink));
		if (got <= 0)
			break;
		if (used + 1 < len)
			used += (size_t)got;
	}
	close(pfd[0]);
	if (len)
		out[used] = '\0';
	return sec_wait(pid, deadline > sec_now() ? deadline - sec_now() : 1);
}

static long json_number(const char *json, const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	p = strstr(json, pattern);
	if (!p)
		return -1;
	p = strchr(p + strlen(pattern), ':');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

int sec_ctl_status(struct sec_status *st)
{
	const char *const args[] = { "status", NULL };
	char buf[4096];

	st->clients = st->objects = st->pinned_pages = -1;
	if (sec_ctl(buf, sizeof(buf), args) != 0)
		return -1;
	st->clients = json_number(buf, "clients");
	st->objects = json_number(buf, "objects");
	st->pinned_pages = json_number(buf, "pinned_pages");
	return 0;
}

/* ---- files ------------------------------------------------------------ */

void sec_pub_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", sec_env("SECURITY_PUB"), name);
}

const char *sec_self(void)
{
	static char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		sec_bail("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	return self;
}
