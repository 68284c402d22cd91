/* SPDX-License-Identifier: MIT */
/*
 * What the security tests share: who the attacker is, running a step as
 * that user in a child, the runner's environment, and the checks every
 * test makes after an attack (the daemon lives and still serves a fresh
 * client).
 *
 * The test programs run as root (the harness, which sets up what the
 * scenario needs and judges the outcome); every attacking step runs in a
 * forked child that has dropped to an unprivileged uid first. The runner
 * (run.sh) starts the daemon with "--group SEC_GROUP" and passes:
 *
 *   argv[1]              the /dev/iommu path
 *   SECURITY_DAEMON_PID  the daemon's pid (same pid namespace)
 *   SECURITY_PUB         a tmpfs every test user may search, mounted
 *                        without nosuid/nodev; PUB/bin holds copies of the
 *                        test programs and iommufd-run
 *   SECURITY_FUSE_DEV    a 0666 node of /dev/fuse (as distributions ship
 *                        it), SECURITY_UFFD_DEV a 0666 node of
 *                        /dev/userfaultfd (a host that lets users handle
 *                        kernel faults); either may be unset
 *   SECURITY_PIDNS=1     the runner gave the daemon and the tests a pid
 *                        namespace of their own
 *   IOMMUFDD_RUN_DIR, IOMMUFD_RUN, IOMMUFDCTL, SECURITY_DAEMON_LOG,
 *   SECURITY_GROUP (default 4242)
 */
#ifndef IOMMUFDD_SECURITY_SEC_H
#define IOMMUFDD_SECURITY_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "tap.h"

#define SEC_PAGE 4096UL

/* A local user as the tests see it. */
struct sec_user {
	const char *name;
	uid_t uid;
	gid_t gid;
	bool member; /* in the daemon's group (SECURITY_GROUP) */
};

/* An authorized, unprivileged user: the attacker. */
extern const struct sec_user sec_attacker;
/* Another authorized user, whose programs the attacker must not disturb. */
extern const struct sec_user sec_other;
/* A user outside the daemon's group. */
extern const struct sec_user sec_outsider;

/* ---- environment ---------------------------------------------------- */

/* The /dev/iommu path (argv[1]); set by sec_init(). */
extern const char *sec_dev;

/* Parse the command line and print the TAP header. */
void sec_init(int argc, char **argv);
/* Bail out: print "Bail out! ..." and exit 1. */
void __attribute__((noreturn, format(printf, 1, 2)))
sec_bail(const char *fmt, ...);
/* A diagnostic line ("# ..."), for the evidence behind a result. */
void __attribute__((format(printf, 1, 2))) sec_note(const char *fmt, ...);

/* An environment variable the runner must set, or bail out. */
const char *sec_env(const char *name);
/* The daemon's group id. */
gid_t sec_group(void);

/* ---- running steps as a user ---------------------------------------- */

/*
 * In a child: become @u (supplementary groups, gid, uid, all three ids),
 * dumpable again as a process started by that user would be, with
 * RLIMIT_MEMLOCK at @memlock bytes or the hard limit if that is lower (0:
 * leave it). Exits 100 on failure.
 */
void sec_become(const struct sec_user *u, uint64_t memlock);

/* Fork; the child becomes @u and exits with fn(arg). Returns the pid. */
pid_t sec_spawn(const struct sec_user *u, int (*fn)(void *), void *arg);

/*
 * Wait up to @timeout_s for @pid. Returns its exit status (128 + signal if
 * killed by one), or -1 if it was still running: then it is SIGKILLed
 * and, unless it cannot die (stuck in the kernel), reaped.
 */
int sec_wait(pid_t pid, double timeout_s);

/* sec_spawn() and sec_wait() in one. */
int sec_run_as(const struct sec_user *u, int (*fn)(void *), void *arg,
	       double timeout_s);

/* Run argv (as @u, or as root if NULL); wait up to @timeout_s. */
int sec_exec_as(const struct sec_user *u, char *const argv[], double timeout_s);

/*
 * unshare() a user and a mount namespace in which this process is root
 * (uid and gid mapped to 0), like "unshare -r". 0 or -errno.
 */
int sec_enter_userns(void);

/*
 * Roles: this program run again as another process, e.g. under iommufd-run
 * (a program's fd-returning ioctls need it from its start). A role is
 * "PROGRAM --role NAME DEVICE"; it sends one result struct back.
 */

/*
 * Start "--role @role" as @u, under iommufd-run if @launched. The role
 * inherits @keep_fd too (-1: none), its number in SEC_KEEP_FD. Returns its
 * pid; *result_fd is where its result arrives.
 */
pid_t sec_role_start(const struct sec_user *u, bool launched, const char *role,
		     int keep_fd, int *result_fd);
/*
 * Read the role's result (@len bytes, zeroed if none came) and wait for
 * it, all within @timeout_s. Returns its exit status, -1 on timeout.
 */
int sec_role_finish(pid_t pid, int result_fd, void *result, size_t len,
		    double timeout_s);
/* The role's name if this process is one (and sets sec_dev), else NULL. */
const char *sec_role(int argc, char **argv);
/* In a role: send the result. */
void sec_role_reply(const void *result, size_t len);

/*
 * How many sanitizer report lines the daemon's log (SECURITY_DAEMON_LOG)
 * holds; the first after the first @skip of them is copied to @hit.
 */
int sec_daemon_log_reports(int skip, char *hit, size_t len);

/* Memory shared with children forked afterwards. */
void *sec_shared(size_t len);
/*
 * One page of a new memfd, mapped shared and writable (its descriptor is
 * closed: the mapping keeps the file); NULL with errno set on failure.
 */
void *sec_memfd_page(void);

/* Monotonic time in seconds. */
double sec_now(void);
/* Sleep @s seconds. */
void sec_sleep(double s);

/* ---- pipes ------------------------------------------------------------ */

/* Write one byte; false if the reader is gone. */
bool sec_tell(int fd, char c);
/*
 * Read one byte within @timeout_s: the byte, 0 on EOF, -1 on timeout.
 */
int sec_hear(int fd, double timeout_s);

/* ---- the daemon ------------------------------------------------------- */

pid_t sec_daemon_pid(void);
/* True if the daemon process exists and is not a zombie. */
bool sec_daemon_alive(void);
/* A /proc/PID/status field of the daemon in kB (VmRSS, VmHWM), or -1. */
long sec_daemon_kb(const char *field);
/*
 * Reset the daemon's peak RSS (VmHWM) to its current RSS, so that the next
 * VmHWM shows the peak of what follows; returns that VmHWM in kB, or -1.
 */
long sec_daemon_peak_reset(void);

/*
 * One round of IOAS_ALLOC, MAP of a shared page, UNMAP and DESTROY by a
 * fresh authorized client (a new open of /dev/iommu), within @timeout_s.
 * 0 on success, else a negative errno or -ETIMEDOUT.
 */
int sec_fresh_client(double timeout_s);

/*
 * Run "iommufdctl --run-dir RUNDIR --json ARGS..." as root, its stdout in
 * @out (NUL-terminated, truncated to @len). Returns its exit status, -1 if
 * it did not finish within 10 s.
 */
int sec_ctl(char *out, size_t len, const char *const args[]);
/* What iommufdctl status says about a daemon's load. */
struct sec_status {
	long clients, objects, pinned_pages;
};
/* Fill @st from "iommufdctl status" (fields -1 if unknown); 0 or -1. */
int sec_ctl_status(struct sec_status *st);

/* ---- files ------------------------------------------------------------ */

/* PUB/NAME (static buffer per call site is the caller's). */
void sec_pub_path(char *buf, size_t len, const char *name);
/* This program's copy in PUB/bin, for re-running a role as another user. */
const char *sec_self(void);

/* ---- TAP (the counters live in tap.h, one set per program) ------------ */

/* Print the plan and return the exit status for main(). */
static inline int sec_done(void)
{
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}

/*
 * NULL if this system lets a process make a user namespace, else why not
 * (a chroot forbids it to everyone, root included).
 */
const char *sec_userns_unavailable(void);

/* A test that cannot run here: "ok N - what # SKIP why". */
static inline void __attribute__((format(printf, 2, 3)))
sec_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	printf("ok %u - ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

/*
 * The checks after an attack: the daemon process is alive, and a fresh
 * client of another user is served within 10 s.
 */
static inline void sec_check_serving(const char *after)
{
	double t0 = sec_now();
	int ret;

	check(sec_daemon_alive(), "the daemon is alive after %s", after);
	ret = sec_fresh_client(10);
	check(ret == 0,
	      "a fresh client's IOAS_ALLOC/MAP/UNMAP works after %s (%.2f s%s%s)",
	      after, sec_now() - t0, ret ? ": " : "",
	      ret ? strerror(-ret) : "");
}

#endif
