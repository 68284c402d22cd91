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
 * One reader drives the session from the daemon's event loop and queues each
 * request on its context (transport_common.h). RELEASE is sent
 * asynchronously after the last close() and a client may reopen and query
 * the core right away: the pool holds the user's later requests back until
 * the release is done (workqueue.h).
 */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "permission.h"
#include "transport.h"
#include "transport_common.h"
#include "util.h"

/* Attributes never change while we are mounted. */
#define ATTR_TIMEOUT_SEC 3600.0

/* Stacked stale mounts from repeated crashes are detached one per try. */
#define STALE_MOUNT_TRIES 8

struct fuse_transport {
	struct transport_session ts; /* first: the session's userdata */
	bool created_file;
	struct timespec mount_time;
};

static struct fuse_transport fuse_transport;

static struct fuse_transport *fuse_transport_of(fuse_req_t req)
{
	return container_of(fuse_req_userdata(req), struct fuse_transport, ts);
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
	struct fuse_transport *t = fuse_transport_of(req);
	struct stat st = {
		.st_ino = ino,
		.st_mode = S_IFREG | (daemon_permission.mode & 07777),
		.st_nlink = 1,
		.st_uid = 0,
		.st_gid = daemon_permission.gid,
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
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	transport_open(req, fi);
}

static void fuse_file_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
			    void *arg, struct fuse_file_info *fi,
			    unsigned int flags, const void *in_buf,
			    size_t in_bufsz, size_t out_bufsz)
{
	struct ucaller caller;

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

	caller = transport_caller(req);
	transport_ioctl_direct(req, fi, &caller, cmd, (uint64_t)(uintptr_t)arg);
}

/* Sent on every close(); iommufd has nothing to do until the last one. */
static void fuse_file_flush(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	(void)ino;
	transport_flush(req, fi);
}

static void fuse_file_release(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	(void)ino;
	transport_release(req, fi);
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
	if (unlink(t->ts.path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s", t->ts.path);
	t->created_file = false;
}

int transport_fuse_start(struct event_base *base, const char *path)
{
	static char arg_name[] = "iommufdd";
	static char arg_opt[] = "-o";
	/*
	 * allow_other: without it only the mounting uid may use the file.
	 * default_permissions: the kernel checks the mode getattr reports on
	 * open, as for a device node (the daemon checks again, see
	 * transport_common.c). The kernel shows fsname as the mount source and
	 * "fuse.<subtype>" as the type in /proc/self/mountinfo.
	 */
	static char arg_mount_opts[] =
		"allow_other,default_permissions,fsname=iommufdd,subtype=iommufd";
	char *argv[] = { arg_name, arg_opt, arg_mount_opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_transport *t = &fuse_transport;
	int ret;

	if (t->ts.session)
		return -EBUSY;

	memset(t, 0, sizeof(*t));
	LIST_INIT(&t->ts.files);
	pthread_mutex_init(&t->ts.files_lock, NULL);
	t->ts.name = "fuse";
	t->ts.base = base;
	t->ts.path = strdup(path);
	if (!t->ts.path)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &t->mount_time);

	ret = prepare_mount_point(path, &t->created_file);
	if (ret)
		goto err_free_path;

	transport_log_to_daemon_log();
	t->ts.session = fuse_session_new(&args, &fuse_file_ops,
					 sizeof(fuse_file_ops), &t->ts);
	fuse_opt_free_args(&args);
	if (!t->ts.session) {
		log_err("fuse: cannot create a session");
		ret = -EINVAL;
		goto err_remove_file;
	}

	/* libfuse has logged why; errno is whatever its last step left. */
	errno = 0;
	if (fuse_session_mount(t->ts.session, path) != 0) {
		ret = errno ? -errno : -EIO;
		log_err("fuse: cannot mount on %s: %s", path, strerror(-ret));
		goto err_destroy;
	}

	ret = transport_session_watch(&t->ts);
	if (ret)
		goto err_unmount;
	log_debug("fuse: mounted on %s%s", path,
		  t->created_file ? " (file created)" : "");
	return 0;

err_unmount:
	fuse_session_unmount(t->ts.session);
err_destroy:
	fuse_session_destroy(t->ts.session);
	t->ts.session = NULL;
err_remove_file:
	remove_created_file(t);
err_free_path:
	free(t->ts.path);
	t->ts.path = NULL;
	return ret;
}

void transport_fuse_stop(void)
{
	struct fuse_transport *t = &fuse_transport;

	if (!t->ts.session)
		return;

	/* Nothing reads the session any more, so no RELEASE will arrive. */
	if (!transport_session_cleanup(&t->ts)) {
		/* A stuck request may still reply: keep the session, detach. */
		umount2(t->ts.path, MNT_DETACH | UMOUNT_NOFOLLOW);
		remove_created_file(t);
		return;
	}

	/*
	 * Closes the session fd and lazily unmounts. After an abort libfuse
	 * sees the dead fd and skips the unmount, which would leave an
	 * ENOTCONN file behind; detach that ourselves.
	 */
	fuse_session_unmount(t->ts.session);
	detach_dead_fuse_mount(t->ts.path);
	fuse_session_destroy(t->ts.session);
	t->ts.session = NULL;

	remove_created_file(t);
	log_debug("fuse: unmounted %s", t->ts.path);
	free(t->ts.path);
	t->ts.path = NULL;
}
