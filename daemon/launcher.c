// SPDX-License-Identifier: MIT
/*
 * The supervisor: installs file descriptors in programs started by
 * iommufd-run (see launcher.h for the whole scheme).
 *
 * It is a thread of its own, because the requests it makes (the private
 * ioctls, opening an object file) are served by the main loop; the main
 * loop never waits for it. Notifications for ioctls that return no fd are
 * let through at once with SECCOMP_USER_NOTIF_FLAG_CONTINUE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#include "launcher.h"
#include "log.h"
#include "objfile.h"
#include "util.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define MAX_LISTENERS 256

static struct {
	pthread_t thread;
	bool running;
	int sock;	 /* registration socket */
	int wake[2];	 /* tells the thread to stop */
	char *sock_path;
	int listeners[MAX_LISTENERS];
	unsigned int nr_listeners;
} sup = { .sock = -1, .wake = { -1, -1 } };

static void send_resp(int listener, uint64_t id, int64_t val, int error,
		      bool cont)
{
	struct seccomp_notif_resp resp = {
		.id = id,
		.val = val,
		.error = error,
		.flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0,
	};

	/* ENOENT: the caller died or was interrupted meanwhile. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) && errno != ENOENT)
		log_warn("supervisor: cannot answer a notification");
}

/* Does this ioctl return a new fd? Only then is there work to do here. */
static bool returns_fd(pid_t tid, unsigned int cmd, uint64_t arg)
{
	uint32_t op = 0;
	struct iovec local = { &op, sizeof(op) };
	struct iovec remote = {
		(void *)(uintptr_t)(arg + offsetof(struct iommu_test_cmd, op)),
		sizeof(op)
	};

	if (cmd == IOMMU_FAULT_QUEUE_ALLOC || cmd == IOMMU_VEVENTQ_ALLOC)
		return true;
	if (cmd != IOMMU_TEST_CMD)
		return false;
	/* An unreadable struct: let the ioctl fail the ordinary way. */
	if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != sizeof(op))
		return false;
	return op == IOMMU_TEST_OP_CREATE_ACCESS;
}

/*
 * A duplicate of the caller's descriptor @fd, or -1. The notification must
 * still be pending once the pidfd is open: only then is the pidfd the
 * caller's, and not that of a process that got its tid after it died.
 */
static int dup_caller_fd(int listener, const struct seccomp_notif *req, int fd)
{
	int pidfd = syscall(SYS_pidfd_open, req->pid, PIDFD_THREAD), dup;

	if (pidfd < 0)
		pidfd = syscall(SYS_pidfd_open, req->pid, 0);
	if (pidfd < 0)
		return -1;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		close(pidfd);
		return -1;
	}
	dup = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return dup;
}

/*
 * Can @fd be our /dev/iommu: a FUSE file, or a CUSE character device? The
 * private ioctls run with the daemon's privileges, so they must never reach
 * a real driver behind a descriptor the caller chose.
 */
static bool maybe_ours(int fd)
{
	char link[64], target[256];
	struct statfs sfs;
	struct stat st;
	ssize_t n;

	if (!fstatfs(fd, &sfs) && sfs.f_type == FUSE_SUPER_MAGIC)
		return true;
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return false;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return n >= 5 && !strcmp(target + n - 5, "/cuse");
}

/*
 * Answer the notification only after the daemon's own descriptors of the
 * caller's /dev/iommu and of the object file are closed: the caller may
 * close its fd the moment it runs again, and the kernel's close is the
 * last reference (the object's file lets go of it at once, so a DESTROY
 * right after succeeds); a reference of ours would make it a late one.
 */
static void finish(int listener, uint64_t id, int error, bool cont,
		   int file, int dup)
{
	if (file >= 0)
		close(file);
	if (dup >= 0)
		close(dup);
	send_resp(listener, id, 0, error, cont);
}

static void handle_fd_ioctl(int listener, const struct seccomp_notif *req)
{
	struct iommufdd_priv_fd priv = {
		.size = sizeof(priv),
		.cmd = (uint32_t)req->data.args[1],
		.caller_tid = (int32_t)req->pid,
		.arg = req->data.args[2],
	};
	struct seccomp_notif_addfd addfd = {
		.id = req->id,
		.newfd_flags = O_CLOEXEC,
	};
	int dup, file = -1, fd;

	dup = dup_caller_fd(listener, req, (int)req->data.args[0]);
	if (dup < 0) {
		/* Not a descriptor at all: the kernel says EBADF itself. */
		finish(listener, req->id, 0, true, -1, -1);
		return;
	}
	if (!maybe_ours(dup)) {
		/* Not an iommufd of ours: the kernel answers for its file. */
		finish(listener, req->id, 0, true, -1, dup);
		return;
	}
	/*
	 * Travels through our transport onto the caller's context. A file
	 * that is not ours (the kernel's /dev/iommu, say) answers ENOTTY:
	 * then the ioctl is none of our business.
	 */
	if (ioctl(dup, IOMMUFDD_PRIV_FD_PREPARE, &priv) < 0) {
		int err = errno;

		finish(listener, req->id, err == ENOTTY ? 0 : -err,
		       err == ENOTTY, -1, dup);
		return;
	}
	if (!priv.token) {
		/* Ran to completion without making a file. */
		finish(listener, req->id, 0, false, -1, dup);
		return;
	}

	file = open(priv.path, O_RDWR | O_CLOEXEC);
	fd = file < 0 ? -1 : ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD,
				   (addfd.srcfd = (uint32_t)file, &addfd));
	if (fd < 0) {
		int err = errno;

		log_warnx("supervisor: cannot give pid %d its descriptor: %s",
			  (int)req->pid, strerror(err));
		/* Abort while our descriptor still holds the file open. */
		ioctl(dup, IOMMUFDD_PRIV_FD_ABORT, &priv);
		finish(listener, req->id, -(err == ENOENT ? EINTR : err),
		       false, file, dup);
		return;
	}
	priv.fd = fd;
	if (ioctl(dup, IOMMUFDD_PRIV_FD_COMMIT, &priv) < 0)
		log_warn("supervisor: cannot report fd %d to pid %d", fd,
			 (int)req->pid);
	finish(listener, req->id, 0, false, file, dup);
}

/* 0, or -1 when the listener is finished (its processes are gone). */
static int handle_listener(int listener)
{
	struct seccomp_notif req;

	memset(&req, 0, sizeof(req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -1;
	/*
	 * The filter is the launcher's, that is the caller's: whatever else
	 * it sends us is not an ioctl to look at.
	 */
	if (req.data.arch != AUDIT_ARCH_X86_64 || req.data.nr != __NR_ioctl ||
	    !returns_fd(req.pid, (unsigned int)req.data.args[1],
			req.data.args[2])) {
		send_resp(listener, req.id, 0, 0, true);
		return 0;
	}
	/* dup_caller_fd() checks that the caller is still there. */
	handle_fd_ioctl(listener, &req);
	return 0;
}

/* A launcher hands over its seccomp listener. */
static void accept_launcher(void)
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
	struct timeval timeout = { .tv_sec = 2 };
	struct cmsghdr *cmsg;
	int conn, listener = -1, nfds = 0;
	const char *answer = "ok";

	conn = accept4(sup.sock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return;
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	/* An empty message can carry descriptors too: look at them anyway. */
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		goto out;
	/*
	 * Exactly one descriptor is the request; whatever else came was
	 * installed in the daemon all the same and must not stay there.
	 */
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t i, n;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
			if (nfds++)
				close(fd);
			else
				listener = fd;
		}
	}
	if (nfds > 1 && listener >= 0) {
		close(listener);
		listener = -1;
	}
	if (listener < 0 || strcmp(hello, IOMMUFDD_LAUNCHER_HELLO)) {
		answer = "bad request";
	} else if (sup.nr_listeners == MAX_LISTENERS) {
		answer = "too many launched programs";
	} else {
		sup.listeners[sup.nr_listeners++] = listener;
		listener = -1;
		log_debug("supervisor: a launched program registered");
	}
	if (send(conn, answer, strlen(answer), MSG_NOSIGNAL) < 0)
		log_debug("supervisor: launcher went away");
out:
	if (listener >= 0)
		close(listener);
	close(conn);
}

static void *supervisor_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[MAX_LISTENERS + 2];
		unsigned int i, n = 0;

		pfd[n++] = (struct pollfd){ .fd = sup.wake[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sup.sock, .events = POLLIN };
		for (i = 0; i < sup.nr_listeners; i++)
			pfd[n++] = (struct pollfd){ .fd = sup.listeners[i],
						    .events = POLLIN };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("supervisor: poll");
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			accept_launcher();
		/* Walk backwards so removing a listener keeps indexes valid. */
		for (i = n; i-- > 2;) {
			unsigned int l = i - 2;

			if ((pfd[i].revents & POLLIN) &&
			    !handle_listener(sup.listeners[l]))
				continue;
			if (pfd[i].revents & (POLLHUP | POLLERR | POLLIN)) {
				close(sup.listeners[l]);
				sup.listeners[l] =
					sup.listeners[--sup.nr_listeners];
			}
		}
	}
	return NULL;
}

int launcher_start(struct event_base *base, const char *rundir)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *objdir = NULL;
	int ret;

	if (mkdir(rundir, 0755) && errno != EEXIST)
		return -errno;
	if (asprintf(&objdir, "%s/objects", rundir) < 0 ||
	    asprintf(&sup.sock_path, "%s/%s", rundir,
		     IOMMUFDD_LAUNCHER_SOCKET) < 0)
		fatalx("out of memory");
	ret = objfile_start(base, objdir);
	free(objdir);
	if (ret)
		return ret;

	if (strlen(sup.sock_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, sup.sock_path);
	unlink(sup.sock_path);
	sup.sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sup.sock < 0 ||
	    bind(sup.sock, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(sup.sock, 16) || pipe2(sup.wake, O_CLOEXEC)) {
		ret = -errno;
		log_warn("supervisor: cannot listen on %s", sup.sock_path);
		return ret;
	}
	/* Whoever may open /dev/iommu may use the launcher too. */
	chmod(sup.sock_path, 0666);
	ret = pthread_create(&sup.thread, NULL, supervisor_main, NULL);
	if (ret)
		return -ret;
	sup.running = true;
	log_info("launcher socket %s: programs run under iommufd-run get "
		 "file descriptors from fd-returning ioctls",
		 sup.sock_path);
	return 0;
}

void launcher_stop(void)
{
	unsigned int i;

	if (sup.running) {
		if (write(sup.wake[1], "x", 1) != 1)
			log_warn("supervisor: cannot wake");
		pthread_join(sup.thread, NULL);
		sup.running = false;
	}
	for (i = 0; i < sup.nr_listeners; i++)
		close(sup.listeners[i]);
	sup.nr_listeners = 0;
	if (sup.sock >= 0) {
		close(sup.sock);
		unlink(sup.sock_path);
		sup.sock = -1;
	}
	for (i = 0; i < 2; i++)
		if (sup.wake[i] >= 0)
			close(sup.wake[i]);
	free(sup.sock_path);
	sup.sock_path = NULL;
	objfile_stop();
}
