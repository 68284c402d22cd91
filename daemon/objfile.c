// SPDX-License-Identifier: MIT
/*
 * The object-file directory: a flat FUSE file system whose files are live
 * iommufd objects. It runs on the daemon's event loop like the /dev/iommu
 * transport, one request at a time, so a close (RELEASE) is handled before
 * any request that the caller issues after it.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "objfile.h"
#include "util.h"

#define OBJFILE_NAME_MAX 32

struct objfile {
	struct list_head item;
	fuse_ino_t ino;
	char name[OBJFILE_NAME_MAX];
	char *path;
	const struct objfile_ops *ops;
	void *priv;
	unsigned int opens;	  /* open file descriptions */
	bool removed;		  /* the object is gone, the file lingers */
	struct fuse_pollhandle *ph;
};

static struct {
	struct fuse_session *se;
	struct fuse_buf buf;
	struct event *readable;
	char *dir;
	dev_t dev; /* of the mount: a path alone can be faked */
	struct list_head files;
	fuse_ino_t next_ino;
} od = { .files = { &od.files, &od.files } };

bool objfile_enabled(void)
{
	return od.se;
}

static struct objfile *file_by_ino(fuse_ino_t ino)
{
	struct objfile *f;

	list_for_each_entry(f, &od.files, item)
		if (f->ino == ino)
			return f;
	return NULL;
}

static struct objfile *file_by_name(const char *name)
{
	struct objfile *f;

	list_for_each_entry(f, &od.files, item)
		if (!f->removed && !strcmp(f->name, name))
			return f;
	return NULL;
}

static void file_free(struct objfile *f)
{
	list_del(&f->item);
	if (f->ph)
		fuse_pollhandle_destroy(f->ph);
	free(f->path);
	free(f);
}

static void fill_attr(struct stat *st, fuse_ino_t ino, bool dir)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = dir ? S_IFDIR | 0755 : S_IFREG | 0600;
	st->st_nlink = dir ? 2 : 1;
}

static void od_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = { 0 };
	struct objfile *f = parent == FUSE_ROOT_ID ? file_by_name(name) : NULL;

	if (!f) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = f->ino;
	fill_attr(&e.attr, f->ino, false);
	fuse_reply_entry(req, &e);
}

static void od_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && !file_by_ino(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(&st, ino, ino == FUSE_ROOT_ID);
	fuse_reply_attr(req, &st, 0);
}

static void od_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char *buf = xcalloc(1, size);
	struct objfile *f;
	size_t used = 0;
	off_t n = 0;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		free(buf);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	list_for_each_entry(f, &od.files, item) {
		struct stat st;
		size_t len;

		if (f->removed || n++ < off)
			continue;
		fill_attr(&st, f->ino, false);
		len = fuse_add_direntry(req, buf + used, size - used, f->name,
					&st, n);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void od_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct objfile *f = file_by_ino(ino);

	if (!f || f->removed) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fi->fh = (uintptr_t)f;
	if (fuse_reply_open(req, fi) == 0 && f->opens++ == 0 && f->ops->open)
		f->ops->open(f->priv);
}

static void od_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct objfile *f = (struct objfile *)(uintptr_t)fi->fh;

	(void)ino;
	fuse_reply_err(req, 0);
	if (--f->opens)
		return;
	if (f->removed) {
		file_free(f);
		return;
	}
	if (f->ops->release)
		f->ops->release(f->priv);
}

static void od_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct objfile *f = (struct objfile *)(uintptr_t)fi->fh;
	char *buf;
	long n;

	(void)ino;
	(void)off;
	if (f->removed || !f->ops->read) {
		fuse_reply_err(req, f->removed ? EIO : EINVAL);
		return;
	}
	buf = xcalloc(1, size);
	n = f->ops->read(f->priv, buf, size);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void od_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct objfile *f = (struct objfile *)(uintptr_t)fi->fh;
	long n;

	(void)ino;
	(void)off;
	if (f->removed || !f->ops->write) {
		fuse_reply_err(req, f->removed ? EIO : EINVAL);
		return;
	}
	n = f->ops->write(f->priv, buf, size);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void od_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct objfile *f = (struct objfile *)(uintptr_t)fi->fh;

	(void)ino;
	/* Keep the latest handle: it is how a later event wakes the poller. */
	if (ph) {
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		f->ph = ph;
	}
	fuse_reply_poll(req, f->removed ? POLLERR :
			(f->ops->poll ? f->ops->poll(f->priv) : 0));
}

static void od_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops od_ops = {
	.lookup = od_lookup,
	.getattr = od_getattr,
	.readdir = od_readdir,
	.open = od_open,
	.release = od_release,
	.read = od_read,
	.write = od_write,
	.poll = od_poll,
	.flush = od_flush,
};

/* Serve every request already queued on the objects mount. */
void objfile_drain(void)
{
	if (!od.se || !od.readable)
		return;
	for (;;) {
		int n = fuse_session_receive_buf(od.se, &od.buf);

		if (n == -EINTR || n == -EAGAIN)
			return;
		if (n <= 0 || fuse_session_exited(od.se)) {
			log_warnx("object files: %s was unmounted", od.dir);
			event_free(od.readable);
			od.readable = NULL;
			return;
		}
		fuse_session_process_buf(od.se, &od.buf);
	}
}

static void od_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	objfile_drain();
}

int objfile_start(struct event_base *base, const char *dir)
{
	static char arg_name[] = "iommufdd";
	static char arg_opt[] = "-o";
	/*
	 * The files are root's, mode 0600, and the kernel is to enforce that:
	 * only the supervisor opens them by name. Anybody else would be
	 * reading another program's fault queue.
	 */
	static char arg_mount_opts[] = "allow_other,default_permissions,"
				       "fsname=iommufdd,subtype=iommufd-objects";
	char *argv[] = { arg_name, arg_opt, arg_mount_opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct statfs sfs;
	struct statx stx;
	int fd;

	/* A daemon that died leaves a mount answering ENOTCONN: drop it. */
	if (statfs(dir, &sfs) && errno == ENOTCONN) {
		log_info("object files: detaching a dead mount on %s", dir);
		umount2(dir, MNT_DETACH);
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		log_warn("object files: cannot create %s", dir);
		return -errno;
	}
	od.se = fuse_session_new(&args, &od_ops, sizeof(od_ops), NULL);
	fuse_opt_free_args(&args);
	if (!od.se)
		return -EINVAL;
	if (fuse_session_mount(od.se, dir)) {
		log_warnx("object files: cannot mount on %s", dir);
		fuse_session_destroy(od.se);
		od.se = NULL;
		return -EIO;
	}
	/*
	 * Cached attributes only: a FUSE request for them would wait for
	 * this very thread.
	 */
	if (statx(AT_FDCWD, dir, AT_STATX_DONT_SYNC, 0, &stx)) {
		log_warn("object files: cannot stat %s", dir);
		fuse_session_unmount(od.se);
		fuse_session_destroy(od.se);
		od.se = NULL;
		return -EIO;
	}
	od.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	fd = fuse_session_fd(od.se);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	od.readable = event_new(base, fd, EV_READ | EV_PERSIST, od_readable,
				NULL);
	event_add(od.readable, NULL);
	od.dir = strdup(dir);
	od.next_ino = FUSE_ROOT_ID + 1;
	log_debug("object files: mounted on %s", dir);
	return 0;
}

void objfile_stop(void)
{
	struct objfile *f, *next;

	if (!od.se)
		return;
	if (od.readable)
		event_free(od.readable);
	fuse_session_unmount(od.se);
	fuse_session_destroy(od.se);
	od.se = NULL;
	free(od.buf.mem);
	od.buf.mem = NULL;
	list_for_each_entry_safe(f, next, &od.files, item)
		file_free(f);
	rmdir(od.dir);
	free(od.dir);
	od.dir = NULL;
}

struct objfile *objfile_create(const char *kind, const struct objfile_ops *ops,
			       void *priv)
{
	struct objfile *f;

	if (!od.se)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->ino = od.next_ino++;
	/* The inode number makes the name unique for the daemon's life. */
	snprintf(f->name, sizeof(f->name), "%s-%llu", kind,
		 (unsigned long long)f->ino);
	if (asprintf(&f->path, "%s/%s", od.dir, f->name) < 0)
		fatalx("out of memory");
	f->ops = ops;
	f->priv = priv;
	list_add_tail(&f->item, &od.files);
	return f;
}

void objfile_remove(struct objfile *f)
{
	if (!f)
		return;
	if (!f->opens) {
		file_free(f);
		return;
	}
	/* Descriptors still open: keep the node until their last close. */
	f->removed = true;
	f->priv = NULL;
	objfile_notify(f);
}

bool objfile_is_open(const struct objfile *f)
{
	return f && f->opens;
}

const char *objfile_path(const struct objfile *f)
{
	return f->path;
}

void objfile_notify(struct objfile *f)
{
	if (f->ph) {
		fuse_lowlevel_notify_poll(f->ph);
		fuse_pollhandle_destroy(f->ph);
		f->ph = NULL;
	}
}

void *objfile_from_fd(pid_t pid, int fd, const char *kind)
{
	struct objfile *f;
	struct statx stx;
	char link[64];

	if (!od.se || fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	/*
	 * Not by the link's text: that is the path in the caller's mount
	 * namespace, where anybody may mount anything on our directory's
	 * path. The file itself must be on our mount. Cached attributes
	 * only, as in objfile_start().
	 */
	if (statx(AT_FDCWD, link, AT_STATX_DONT_SYNC, 0, &stx) ||
	    makedev(stx.stx_dev_major, stx.stx_dev_minor) != od.dev)
		return NULL;
	f = file_by_ino(stx.stx_ino);
	if (!f || f->removed || strncmp(f->name, kind, strlen(kind)) ||
	    f->name[strlen(kind)] != '-')
		return NULL;
	return f->priv;
}
