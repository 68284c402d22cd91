// SPDX-License-Identifier: MIT
/*
 * The FUSE-file transport: a file system whose root is a single regular file,
 * mounted on top of /dev/iommu (or any other regular file).
 *
 * Ioctls on a FUSE file are always "restricted": iommufd's _IO() numbers carry
 * no size, so the kernel forwards only cmd and the raw argument pointer and
 * refuses a retry. The core therefore reads and writes the caller's memory
 * directly (uaccess.h) while the caller sleeps in the ioctl.
 *
 * One reader drives the session from the daemon's event loop and handles each
 * request to completion before reading the next. That keeps the kernel's
 * queue order, which matters because RELEASE is sent asynchronously after the
 * last close() and a client may reopen and query the core right away.
 */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core.h"
#include "log.h"
#include "transport.h"

/*
 * What stat() shows. The kernel's node is 0660 root:root; until the mode is
 * configurable everyone may use the file. With default_permissions off the
 * kernel does not check it on open, so it is informational only.
 */
#define IOMMU_FILE_MODE 0666

/* Attributes never change while we are mounted. */
#define ATTR_TIMEOUT_SEC 3600.0

/* Bound one wake-up so that signal events get a turn under heavy load. */
#define REQUESTS_PER_WAKEUP 64

/* Stacked stale mounts from repeated crashes are detached one per try. */
#define STALE_MOUNT_TRIES 8

/* One per open file description; fi->fh points at it. */
struct fuse_open_file {
	struct iommufd_ctx *ictx;
	LIST_ENTRY(fuse_open_file) entry;
};

struct fuse_transport {
	struct fuse_session *session;
	struct event_base *base;
	struct event *readable;
	struct fuse_buf request_buf;
	char *path;
	bool created_file;
	struct timespec mount_time;
	/* Released on stop if the kernel never sends their RELEASE. */
	LIST_HEAD(, fuse_open_file) open_files;
};

static struct fuse_transport fuse_transport;

static struct ucaller caller_of(fuse_req_t req)
{
	const struct fuse_ctx *fctx = fuse_req_ctx(req);
	struct ucaller caller = {
		.pid = fctx->pid,
		.uid = fctx->uid,
		.gid = fctx->gid,
	};

	return caller;
}

static struct fuse_open_file *open_file_of(const struct fuse_file_info *fi)
{
	return (struct fuse_open_file *)(uintptr_t)fi->fh;
}

static void open_file_release(struct fuse_open_file *of)
{
	LIST_REMOVE(of, entry);
	iommufd_ctx_release(of->ictx);
	free(of);
}

/* libfuse rejects errors outside 1..999; the core should never produce one. */
static int reply_errno(fuse_req_t req, long err)
{
	if (err <= 0 || err >= 1000) {
		log_err("fuse: invalid errno %ld from the core, replying EIO",
			err);
		err = EIO;
	}
	return fuse_reply_err(req, (int)err);
}

static void fuse_file_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	log_debug("fuse: kernel speaks protocol %u.%u", conn->proto_major,
		  conn->proto_minor);
}

static void fuse_file_getattr(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	struct fuse_transport *t = fuse_req_userdata(req);
	struct stat st = {
		.st_ino = ino,
		.st_mode = S_IFREG | IOMMU_FILE_MODE,
		.st_nlink = 1,
		.st_uid = 0,
		.st_gid = 0,
		.st_atim = t->mount_time,
		.st_mtim = t->mount_time,
		.st_ctim = t->mount_time,
	};

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_attr(req, &st, ATTR_TIMEOUT_SEC);
}

static void fuse_file_open(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct fuse_transport *t = fuse_req_userdata(req);
	struct ucaller opener = caller_of(req);
	struct fuse_open_file *of;

	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	of = calloc(1, sizeof(*of));
	if (!of) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	of->ictx = iommufd_ctx_open(&opener);
	if (!of->ictx) {
		int err = errno ? errno : ENOMEM;

		free(of);
		reply_errno(req, err);
		return;
	}
	LIST_INSERT_HEAD(&t->open_files, of, entry);

	/* Every read/write/ioctl must reach us; there is no file position. */
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fi->keep_cache = 0;
	fi->fh = (uint64_t)(uintptr_t)of;

	/*
	 * If the open was aborted before our reply landed, the kernel has no
	 * file and will never send RELEASE for it.
	 */
	if (fuse_reply_open(req, fi) != 0) {
		log_debug("fuse: open by pid %d went away before the reply",
			  (int)opener.pid);
		open_file_release(of);
	}
}

static void fuse_file_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
			    void *arg, struct fuse_file_info *fi,
			    unsigned int flags, const void *in_buf,
			    size_t in_bufsz, size_t out_bufsz)
{
	struct fuse_open_file *of = open_file_of(fi);
	struct ucaller caller;
	long ret;

	(void)ino;
	(void)in_buf;
	(void)in_bufsz;
	(void)out_bufsz;

	/*
	 * 32-bit callers would work the same way (iommufd pointers are
	 * __aligned_u64), but nothing has been tested against them yet.
	 */
	if (flags & FUSE_IOCTL_COMPAT) {
		fuse_reply_err(req, ENOTTY);
		return;
	}

	caller = caller_of(req);
	ret = iommufd_ctx_ioctl(of->ictx, &caller, cmd,
				(uint64_t)(uintptr_t)arg);
	if (ret >= 0) {
		if (ret > INT_MAX) {
			log_err("fuse: ioctl 0x%x result %ld does not fit", cmd,
				ret);
			fuse_reply_err(req, EOVERFLOW);
			return;
		}
		fuse_reply_ioctl(req, (int)ret, NULL, 0);
		return;
	}
	/* The kernel would turn ENOSYS into ENOTTY; say what we mean. */
	reply_errno(req, ret == -ENOSYS ? ENOTTY : -ret);
}

/* Sent on every close(); iommufd has nothing to do until the last one. */
static void fuse_file_flush(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void fuse_file_release(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	(void)ino;
	/* RELEASE carries no caller (pid 0): the context comes from fh. */
	open_file_release(open_file_of(fi));
	fuse_reply_err(req, 0);
}

/* iommufd has no read or write; the kernel's fops return EINVAL for both. */
static void fuse_file_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EINVAL);
}

static void fuse_file_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			    size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EINVAL);
}

static const struct fuse_lowlevel_ops fuse_file_ops = {
	.init = fuse_file_init,
	.getattr = fuse_file_getattr,
	.open = fuse_file_open,
	.read = fuse_file_read,
	.write = fuse_file_write,
	.flush = fuse_file_flush,
	.release = fuse_file_release,
	.ioctl = fuse_file_ioctl,
};

/* Route libfuse's messages (mount errors, mostly) through our log. */
__attribute__((format(printf, 2, 0))) static void
fuse_log_to_daemon_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	int our_level;

	if (level <= FUSE_LOG_ERR)
		our_level = LOG_LEVEL_ERROR;
	else if (level == FUSE_LOG_WARNING)
		our_level = LOG_LEVEL_WARNING;
	else if (level <= FUSE_LOG_INFO)
		our_level = LOG_LEVEL_INFO;
	else
		our_level = LOG_LEVEL_DEBUG;
	log_vmessage(our_level, fmt, ap);
}

/* The kernel side is gone: nothing more can arrive, so end the loop. */
static void fuse_connection_lost(struct fuse_transport *t, int err)
{
	if (err < 0)
		log_warnx("fuse: reading %s failed: %s", t->path,
			  strerror(-err));
	else
		log_warnx("fuse: %s was unmounted or its connection aborted",
			  t->path);
	event_del(t->readable);
	event_base_loopbreak(t->base);
}

static void fuse_session_readable(evutil_socket_t fd, short what, void *arg)
{
	struct fuse_transport *t = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < REQUESTS_PER_WAKEUP; i++) {
		int n = fuse_session_receive_buf(t->session, &t->request_buf);

		/* The fd is non-blocking: EAGAIN means the queue is empty. */
		if (n == -EINTR || n == -EAGAIN)
			return;
		/* libfuse turns ENODEV (unmount, abort) into 0 + exited. */
		if (n <= 0 || fuse_session_exited(t->session)) {
			fuse_connection_lost(t, n);
			return;
		}
		fuse_session_process_buf(t->session, &t->request_buf);
		if (fuse_session_exited(t->session)) {
			fuse_connection_lost(t, 0);
			return;
		}
	}
}

/*
 * A FUSE mount whose daemon died answers every lookup with ENOTCONN until
 * someone unmounts it. Only a dead FUSE mount does that, so it is safe to
 * detach: it is the leftover of an earlier run (or of an aborted connection).
 */
static bool detach_dead_fuse_mount(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 || errno != ENOTCONN)
		return false;
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
		log_warn("fuse: cannot detach the dead FUSE mount on %s", path);
		return false;
	}
	return true;
}

/* The mount point must be a regular file; create an empty one if needed. */
static int prepare_mount_point(const char *path, bool *created)
{
	struct stat st;
	int fd;

	*created = false;
	for (int i = 0; i < STALE_MOUNT_TRIES; i++) {
		if (!detach_dead_fuse_mount(path))
			break;
		log_warnx(
			"fuse: detached a dead FUSE mount from %s (left by a previous daemon?)",
			path);
	}

	if (stat(path, &st) == 0) {
		/*
		 * libfuse passes the mount point's file type as rootmode, so
		 * a character device (a real /dev/iommu) would not match
		 * our regular file; shadowing the kernel's iommufd is not
		 * wanted anyway.
		 */
		if (!S_ISREG(st.st_mode)) {
			log_err("%s exists and is not a regular file; not mounting over it",
				path);
			return -EEXIST;
		}
		return 0;
	}
	if (errno != ENOENT) {
		int err = errno;

		log_err("cannot stat %s: %s", path, strerror(err));
		return -err;
	}

	/* The underlying file is hidden by the mount; its mode is moot. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		int err = errno;

		log_err("cannot create %s: %s", path, strerror(err));
		return -err;
	}
	close(fd);
	*created = true;
	return 0;
}

static void remove_created_file(struct fuse_transport *t)
{
	if (!t->created_file)
		return;
	if (unlink(t->path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s", t->path);
	t->created_file = false;
}

int transport_fuse_start(struct event_base *base, const char *path)
{
	static char arg_name[] = "iommufdd";
	static char arg_opt[] = "-o";
	/*
	 * allow_other: without it only the mounting uid may use the file.
	 * No default_permissions: access control is the daemon's business.
	 * The kernel shows fsname as the mount source and "fuse.<subtype>"
	 * as the type in /proc/self/mountinfo.
	 */
	static char arg_mount_opts[] =
		"allow_other,fsname=iommufdd,subtype=iommufd";
	char *argv[] = { arg_name, arg_opt, arg_mount_opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_transport *t = &fuse_transport;
	int ret, fd, flags;

	if (t->session)
		return -EBUSY;

	memset(t, 0, sizeof(*t));
	LIST_INIT(&t->open_files);
	t->base = base;
	t->path = strdup(path);
	if (!t->path)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &t->mount_time);

	ret = prepare_mount_point(path, &t->created_file);
	if (ret)
		goto err_free_path;

	fuse_set_log_func(fuse_log_to_daemon_log);
	t->session = fuse_session_new(&args, &fuse_file_ops,
				      sizeof(fuse_file_ops), t);
	fuse_opt_free_args(&args);
	if (!t->session) {
		log_err("fuse: cannot create a session");
		ret = -EINVAL;
		goto err_remove_file;
	}

	/* libfuse has logged why; errno is whatever its last step left. */
	errno = 0;
	if (fuse_session_mount(t->session, path) != 0) {
		ret = errno ? -errno : -EIO;
		log_err("fuse: cannot mount on %s: %s", path, strerror(-ret));
		goto err_destroy;
	}

	/*
	 * A queued request can vanish between poll and read (its caller was
	 * killed); a blocking read would then stall the whole loop.
	 */
	fd = fuse_session_fd(t->session);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		ret = -errno;
		log_err("fuse: cannot make the session fd non-blocking: %s",
			strerror(-ret));
		goto err_unmount;
	}

	t->readable = event_new(base, fd, EV_READ | EV_PERSIST,
				fuse_session_readable, t);
	if (!t->readable || event_add(t->readable, NULL) < 0) {
		log_err("fuse: cannot watch the session fd");
		ret = -ENOMEM;
		goto err_unmount;
	}
	log_debug("fuse: mounted on %s%s", path,
		  t->created_file ? " (file created)" : "");
	return 0;

err_unmount:
	if (t->readable)
		event_free(t->readable);
	t->readable = NULL;
	fuse_session_unmount(t->session);
err_destroy:
	fuse_session_destroy(t->session);
	t->session = NULL;
err_remove_file:
	remove_created_file(t);
err_free_path:
	free(t->path);
	t->path = NULL;
	return ret;
}

void transport_fuse_stop(void)
{
	struct fuse_transport *t = &fuse_transport;

	if (!t->session)
		return;

	event_free(t->readable);
	t->readable = NULL;

	/*
	 * Closes the session fd and lazily unmounts. After an abort libfuse
	 * sees the dead fd and skips the unmount, which would leave an
	 * ENOTCONN file behind; detach that ourselves.
	 */
	fuse_session_unmount(t->session);
	detach_dead_fuse_mount(t->path);

	/* The connection is closed: no RELEASE can come for these any more. */
	while (!LIST_EMPTY(&t->open_files))
		open_file_release(LIST_FIRST(&t->open_files));

	fuse_session_destroy(t->session);
	t->session = NULL;
	free(t->request_buf.mem);
	t->request_buf.mem = NULL;

	remove_created_file(t);
	log_debug("fuse: unmounted %s", t->path);
	free(t->path);
	t->path = NULL;
}
