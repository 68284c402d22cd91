// SPDX-License-Identifier: MIT
/*
 * The supervisor: installs file descriptors in programs started by
 * iommufd-run (see launcher.h for the whole scheme).
 *
 * A registrar thread takes the launchers' connections: each hands over the
 * seccomp user-notification listener of one launched program. Every
 * listener then gets a thread of its own, so a program whose request is
 * stuck (its memory on a userfaultfd page, say) stalls only itself. The
 * registrar never blocks on a connection: they are read as they become
 * readable and dropped when too slow. Limits per user keep one user from
 * taking all connection and listener slots.
 *
 * Before acting on a caller's descriptor the supervisor makes sure it is
 * our /dev/iommu, from /proc/TID/fdinfo (mount and inode), without opening
 * or asking the file: a file of the caller's own FUSE server could make
 * any such request wait forever. Notifications for ioctls that return no fd
 * are let through at once with SECCOMP_USER_NOTIF_FLAG_CONTINUE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#include "ioctl_table.h"
#include "launcher.h"
#include "log.h"
#include "objfile.h"
#include "permission.h"
#include "util.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#define MAX_LISTENERS 1024
#define MAX_LISTENERS_PER_UID 32
#define MAX_PENDING 64
#define MAX_PENDING_PER_UID 4
/* A launcher says hello at once; one that does not is dropped. */
#define HELLO_TIMEOUT_MS 2000
/* How long stopping waits for the supervisor threads. */
#define STOP_TIMEOUT_MS 2000

/* A connection that has not sent its listener yet. */
struct pending {
	int fd;
	uid_t uid;
	struct timespec deadline;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t gone; /* a thread exited */
	int sock; /* registration socket */
	int wake[2]; /* readable once stopping */
	bool stopping;
	char *sock_path;
	unsigned int threads; /* registrar + one per listener */
	/* per uid: listeners serving (under lock) */
	struct uid_count {
		uid_t uid;
		unsigned int n;
	} uids[MAX_LISTENERS];
	unsigned int nr_uids, nr_listeners;
	/* our /dev/iommu, as fdinfo and statx name it */
	char *iommu_path;
	bool identity_known;
	uint64_t mnt_id, ino;
} sup = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
	.sock = -1,
	.wake = { -1, -1 },
};

static void send_resp(int listener, uint64_t id, int error, bool cont)
{
	struct seccomp_notif_resp resp = {
		.id = id,
		.error = error,
		.flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0,
	};

	/* ENOENT: the caller died or was interrupted meanwhile. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) && errno != ENOENT)
		log_warn("supervisor: cannot answer a notification");
}

static bool notif_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Learn our /dev/iommu's mount and inode (once the transport answers). */
static bool iommu_identity(void)
{
	struct statx stx;

	if (sup.identity_known)
		return true;
	/* Cached attributes: the mount and inode are all we need. */
	if (statx(AT_FDCWD, sup.iommu_path, AT_STATX_DONT_SYNC,
		  STATX_MNT_ID | STATX_INO, &stx) ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return false;
	sup.mnt_id = stx.stx_mnt_id;
	sup.ino = stx.stx_ino;
	sup.identity_known = true;
	return true;
}

/* Is the caller's descriptor @fd our /dev/iommu? Read from fdinfo only. */
static bool caller_fd_is_ours(pid_t tid, int fd)
{
	unsigned long long mnt_id = 0, ino = 0;
	char path[64], line[128];
	bool got_mnt = false, got_ino = false;
	FILE *f;

	if (fd < 0 || !iommu_identity())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)tid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mnt_id: %llu", &mnt_id) == 1)
			got_mnt = true;
		else if (sscanf(line, "ino: %llu", &ino) == 1)
			got_ino = true;
	}
	fclose(f);
	return got_mnt && got_ino && mnt_id == sup.mnt_id && ino == sup.ino;
}

/* The same check on a descriptor of ours, without asking the file. */
static bool fd_is_ours(int fd)
{
	struct statx stx;

	return !statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		      STATX_MNT_ID | STATX_INO, &stx) &&
	       (stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id == sup.mnt_id &&
	       stx.stx_ino == sup.ino;
}

/* What the supervisor holds for one notification; -1 when not open. */
struct call {
	int listener;
	const struct seccomp_notif *req;
	int mem_fd, maps_fd, pidfd, dup, file;
};

static void call_finish(struct call *c, int error, bool cont)
{
	/*
	 * Close our descriptors before the caller runs again: its close()
	 * of the object file must be the last one, so the object is free
	 * at once (a DESTROY right after succeeds, as in the kernel).
	 */
	int *fds[] = { &c->mem_fd, &c->maps_fd, &c->pidfd, &c->dup, &c->file };

	for (unsigned int i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	send_resp(c->listener, c->req->id, error, cont);
}

/* Handles on the caller's memory, bound to it while it still waits. */
static bool open_caller_memory(struct call *c)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)c->req->pid);
	c->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)c->req->pid);
	c->maps_fd = open(path, O_RDONLY | O_CLOEXEC);
	return c->mem_fd >= 0 && c->maps_fd >= 0 &&
	       notif_valid(c->listener, c->req->id);
}

/* May this command return a new fd (ioctl_table.h)? The filter's list. */
static bool may_return_fd(unsigned int cmd)
{
	const struct iommufd_ioctl *row = iommufd_ioctl_find(cmd);

	return row && row->fd != IOCTL_NO_FD;
}

/* Does this ioctl return a new fd? Only then is there work to do here. */
static bool returns_fd(struct call *c, unsigned int cmd, uint64_t arg)
{
	const struct iommufd_ioctl *row = iommufd_ioctl_find(cmd);
	const struct iommufd_test_op *op;
	uint32_t nr = 0;

	if (!row || row->fd == IOCTL_NO_FD)
		return false;
	if (row->fd != IOCTL_FD_BY_TEST_OP)
		return true;
	/* An unreadable struct: let the ioctl fail the ordinary way. */
	if (pread(c->mem_fd, &nr, sizeof(nr),
		  (off_t)(arg + offsetof(struct iommu_test_cmd, op))) !=
	    sizeof(nr))
		return false;
	op = iommufd_test_op_find(nr);
	return op && op->fd != IOCTL_NO_FD;
}

/* The caller's descriptor, duplicated while the notification is valid. */
static int take_caller_fd(struct call *c, int fd)
{
	int dup;

	c->pidfd = syscall(SYS_pidfd_open, c->req->pid, PIDFD_THREAD);
	if (c->pidfd < 0)
		c->pidfd = syscall(SYS_pidfd_open, c->req->pid, 0);
	if (c->pidfd < 0 || !notif_valid(c->listener, c->req->id))
		return -1;
	dup = syscall(SYS_pidfd_getfd, c->pidfd, fd, 0);
	/*
	 * Swapped since fdinfo said it was ours (another thread of the
	 * caller can dup2 over it): then it is the caller's own business.
	 * Closing it may wait on the caller's file; that stalls only this
	 * program's thread.
	 */
	if (dup >= 0 && !fd_is_ours(dup)) {
		close(dup);
		return -1;
	}
	return dup;
}

static void handle_fd_ioctl(int listener, const struct seccomp_notif *req)
{
	struct call c = { listener, req, -1, -1, -1, -1, -1 };
	unsigned int cmd = (unsigned int)req->data.args[1];
	struct iommufdd_priv_fd priv = {
		.size = sizeof(priv),
		.cmd = cmd,
		.caller_tid = (int32_t)req->pid,
		.arg = req->data.args[2],
	};
	struct seccomp_notif_addfd addfd = {
		.id = req->id,
		.newfd_flags = O_CLOEXEC,
	};
	int fd;

	/* Not ours, or no fd to give: the kernel and our transport answer. */
	if (!caller_fd_is_ours(req->pid, (int)req->data.args[0]) ||
	    !open_caller_memory(&c) || !returns_fd(&c, cmd, priv.arg)) {
		call_finish(&c, 0, true);
		return;
	}
	c.dup = take_caller_fd(&c, (int)req->data.args[0]);
	if (c.dup < 0) {
		call_finish(&c, 0, true);
		return;
	}
	priv.mem_fd = c.mem_fd;
	priv.maps_fd = c.maps_fd;
	/* Runs on the caller's context queue, like its own ioctls. */
	if (ioctl(c.dup, IOMMUFDD_PRIV_FD_PREPARE, &priv) < 0) {
		call_finish(&c, -errno, false);
		return;
	}
	if (!priv.token) {
		/* Ran to completion without making a file. */
		call_finish(&c, 0, false);
		return;
	}
	c.file = open(priv.path, O_RDWR | O_CLOEXEC);
	fd = c.file < 0 ? -1 :
			  ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD,
				(addfd.srcfd = (uint32_t)c.file, &addfd));
	if (fd < 0) {
		int err = errno;

		log_warnx("supervisor: cannot give pid %d its descriptor: %s",
			  (int)req->pid, strerror(err));
		/* Abort while our descriptor still holds the file open. */
		ioctl(c.dup, IOMMUFDD_PRIV_FD_ABORT, &priv);
		call_finish(&c, -(err == ENOENT ? EINTR : err), false);
		return;
	}
	priv.fd = fd;
	/* As copy_to_user in the kernel: a struct we cannot write is EFAULT. */
	if (ioctl(c.dup, IOMMUFDD_PRIV_FD_COMMIT, &priv) < 0) {
		log_info(
			"supervisor: pid %d's struct is no longer writable; fd %d was installed but the ioctl fails (EFAULT)",
			(int)req->pid, fd);
		call_finish(&c, -EFAULT, false);
		return;
	}
	call_finish(&c, 0, false);
}

/* 0, or -1 when the listener is finished (its processes are gone). */
static int handle_notification(int listener)
{
	struct seccomp_notif req;
	unsigned int cmd;

	memset(&req, 0, sizeof(req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -1;
	cmd = (unsigned int)req.data.args[1];
	/*
	 * The filter is the launcher's, that is the caller's: whatever else
	 * it sends us is not an ioctl to look at.
	 */
	if (req.data.arch != AUDIT_ARCH_X86_64 || req.data.nr != __NR_ioctl ||
	    !may_return_fd(cmd)) {
		send_resp(listener, req.id, 0, true);
		return 0;
	}
	handle_fd_ioctl(listener, &req);
	return 0;
}

/* Under sup.lock. */
static struct uid_count *uid_count(uid_t uid)
{
	for (unsigned int i = 0; i < sup.nr_uids; i++)
		if (sup.uids[i].uid == uid)
			return &sup.uids[i];
	if (sup.nr_uids == ARRAY_SIZE(sup.uids))
		return NULL;
	sup.uids[sup.nr_uids] = (struct uid_count){ uid, 0 };
	return &sup.uids[sup.nr_uids++];
}

static void thread_exit(void)
{
	pthread_mutex_lock(&sup.lock);
	sup.threads--;
	pthread_cond_broadcast(&sup.gone);
	pthread_mutex_unlock(&sup.lock);
}

struct listener_arg {
	int listener;
	uid_t uid;
};

static void *listener_main(void *p)
{
	struct listener_arg a = *(struct listener_arg *)p;
	struct uid_count *u;

	free(p);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sup.wake[0], .events = POLLIN },
			{ .fd = a.listener, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		if ((pfd[1].revents & POLLIN) &&
		    !handle_notification(a.listener))
			continue;
		if (pfd[1].revents & (POLLHUP | POLLERR | POLLIN))
			break; /* the launched program is gone */
	}
	close(a.listener);
	pthread_mutex_lock(&sup.lock);
	u = uid_count(a.uid);
	if (u)
		u->n--;
	sup.nr_listeners--;
	pthread_mutex_unlock(&sup.lock);
	thread_exit();
	return NULL;
}

/* A listener from a launcher of @uid: a thread for it, or an answer why not. */
static const char *serve_listener(int listener, uid_t uid)
{
	struct listener_arg *a = malloc(sizeof(*a));
	const char *answer = NULL;
	struct uid_count *u;
	pthread_attr_t attr;
	pthread_t thread;

	pthread_mutex_lock(&sup.lock);
	u = uid_count(uid);
	if (!a || !u || sup.nr_listeners >= MAX_LISTENERS)
		answer = "too many launched programs";
	else if (u->n >= MAX_LISTENERS_PER_UID)
		answer = "too many launched programs of this user";
	if (answer) {
		pthread_mutex_unlock(&sup.lock);
		free(a);
		return answer;
	}
	u->n++;
	sup.nr_listeners++;
	sup.threads++;
	pthread_mutex_unlock(&sup.lock);

	*a = (struct listener_arg){ listener, uid };
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, listener_main, a)) {
		pthread_mutex_lock(&sup.lock);
		u = uid_count(uid);
		if (u)
			u->n--;
		sup.nr_listeners--;
		pthread_mutex_unlock(&sup.lock);
		thread_exit();
		free(a);
		answer = "out of threads";
	}
	pthread_attr_destroy(&attr);
	return answer;
}

/* Read a launcher's hello and listener; it is readable, so this cannot block. */
static void read_hello(struct pending *p)
{
	char hello[64] = { 0 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { hello, sizeof(hello) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	int listener = -1, nfds = 0;
	const char *answer = "bad request";
	char ok[64] = "ok";

	if (recvmsg(p->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) < 0)
		return;
	/*
	 * Exactly one descriptor is the request; whatever else came was
	 * installed in the daemon all the same and must not stay there.
	 */
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg;
	     cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (nfds++)
				close(fd);
			else
				listener = fd;
		}
	}
	if (nfds == 1 && listener >= 0 &&
	    !strcmp(hello, IOMMUFDD_LAUNCHER_HELLO)) {
		answer = serve_listener(listener, p->uid);
		if (!answer) {
			listener = -1; /* its thread owns it now */
			/* Which file is ours, for the launcher's mmap shim. */
			if (iommu_identity())
				snprintf(ok, sizeof(ok), "ok %llu %llu",
					 (unsigned long long)sup.mnt_id,
					 (unsigned long long)sup.ino);
			answer = ok;
			log_debug("supervisor: a program of uid %u registered",
				  (unsigned int)p->uid);
		}
	}
	if (send(p->fd, answer, strlen(answer), MSG_NOSIGNAL | MSG_DONTWAIT) <
	    0)
		log_debug("supervisor: launcher went away");
	if (listener >= 0)
		close(listener);
}

static bool may_launch(int conn, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	*uid = cred.uid;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERGROUPS, groups, &glen))
		glen = 0;
	/* Whoever may open /dev/iommu may use the launcher, nobody else. */
	return permission_allows(cred.uid, cred.gid, groups,
				 glen / sizeof(gid_t), O_RDWR);
}

static long ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 +
	       (t->tv_nsec - now.tv_nsec) / 1000000;
}

/* Accept a connection into @pending, within the limits. */
static void accept_one(struct pending *pending, unsigned int *n)
{
	int conn = accept4(sup.sock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	unsigned int same = 0;
	uid_t uid;

	if (conn < 0)
		return;
	if (!may_launch(conn, &uid)) {
		close(conn);
		return;
	}
	for (unsigned int i = 0; i < *n; i++)
		same += pending[i].uid == uid;
	if (*n == MAX_PENDING || same >= MAX_PENDING_PER_UID) {
		close(conn);
		return;
	}
	pending[*n].fd = conn;
	pending[*n].uid = uid;
	clock_gettime(CLOCK_MONOTONIC, &pending[*n].deadline);
	pending[*n].deadline.tv_sec += HELLO_TIMEOUT_MS / 1000;
	(*n)++;
}

static void *registrar_main(void *arg)
{
	struct pending pending[MAX_PENDING];
	unsigned int n = 0;

	(void)arg;
	for (;;) {
		struct pollfd pfd[MAX_PENDING + 2];
		long timeout = -1;
		unsigned int i;

		pfd[0] = (struct pollfd){ .fd = sup.wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sup.sock, .events = POLLIN };
		for (i = 0; i < n; i++) {
			long left = ms_until(&pending[i].deadline);

			pfd[i + 2] = (struct pollfd){ .fd = pending[i].fd,
						      .events = POLLIN };
			if (timeout < 0 || left < timeout)
				timeout = left < 0 ? 0 : left;
		}
		if (poll(pfd, n + 2, (int)timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		/* Walk backwards so removing a connection keeps indexes valid. */
		for (i = n; i-- > 0;) {
			if (pfd[i + 2].revents)
				read_hello(&pending[i]);
			else if (ms_until(&pending[i].deadline) > 0)
				continue;
			close(pending[i].fd);
			pending[i] = pending[--n];
		}
		if (pfd[1].revents & POLLIN)
			accept_one(pending, &n);
	}
	for (unsigned int i = 0; i < n; i++)
		close(pending[i].fd);
	thread_exit();
	return NULL;
}

int launcher_start(struct event_base *base, const char *rundir,
		   const char *iommu_path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *objdir = NULL;
	pthread_t thread;
	int ret;

	if (mkdir(rundir, 0755) && errno != EEXIST)
		return -errno;
	sup.iommu_path = strdup(iommu_path);
	if (!sup.iommu_path || asprintf(&objdir, "%s/objects", rundir) < 0 ||
	    asprintf(&sup.sock_path, "%s/%s", rundir,
		     IOMMUFDD_LAUNCHER_SOCKET) < 0)
		return -ENOMEM;
	ret = objfile_start(base, objdir);
	free(objdir);
	if (ret)
		return ret;

	if (strlen(sup.sock_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, sup.sock_path);
	unlink(sup.sock_path);
	sup.sock = socket(AF_UNIX,
			  SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sup.sock < 0 ||
	    bind(sup.sock, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(sup.sock, 64) || pipe2(sup.wake, O_CLOEXEC)) {
		ret = -errno;
		log_warn("supervisor: cannot listen on %s", sup.sock_path);
		return ret;
	}
	/* Whoever may open /dev/iommu may use the launcher too, nobody else. */
	permission_apply(sup.sock_path, false);
	sup.threads = 1;
	ret = pthread_create(&thread, NULL, registrar_main, NULL);
	if (ret) {
		sup.threads = 0;
		return -ret;
	}
	pthread_detach(thread);
	log_info("launcher socket %s: programs run under iommufd-run get "
		 "file descriptors from fd-returning ioctls",
		 sup.sock_path);
	return 0;
}

void launcher_stop(void)
{
	struct timespec deadline;
	bool all_gone;

	if (sup.wake[1] >= 0 && write(sup.wake[1], "x", 1) != 1)
		log_warn("supervisor: cannot wake");
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&sup.lock);
	while (sup.threads &&
	       !pthread_cond_timedwait(&sup.gone, &sup.lock, &deadline))
		;
	all_gone = !sup.threads;
	pthread_mutex_unlock(&sup.lock);
	if (sup.sock >= 0) {
		close(sup.sock);
		unlink(sup.sock_path);
		sup.sock = -1;
	}
	/* A thread stuck in a request still polls the wake pipe: keep it. */
	if (!all_gone) {
		log_warnx(
			"supervisor: a launched program's request is stuck; leaving its thread");
		objfile_stop();
		return;
	}
	for (int i = 0; i < 2; i++)
		if (sup.wake[i] >= 0)
			close(sup.wake[i]);
	sup.wake[0] = sup.wake[1] = -1;
	free(sup.sock_path);
	sup.sock_path = NULL;
	free(sup.iommu_path);
	sup.iommu_path = NULL;
	objfile_stop();
}
