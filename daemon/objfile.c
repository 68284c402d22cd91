// SPDX-License-Identifier: MIT
/*
 * The object-file directory: a flat FUSE file system whose files are live
 * iommufd objects.
 *
 * Its session is read on the daemon's event loop. Directory requests
 * (lookup, getattr, readdir) are answered there from the file list; the
 * requests on a file (open, read, write, poll, release) touch its object
 * and run as jobs on the queue of the context that owns it, in the order
 * they came, like that context's ioctls. The transports drain this session
 * before they queue an ioctl, so a close() is handled before any request
 * the caller issues after it.
 *
 * Locking: od.lock guards the file list and each file's opens, removed,
 * priv and poll handle; it is never held while an object's op runs.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
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
#include "permission.h"
#include "util.h"
#include "workqueue.h"

#define OBJFILE_NAME_MAX 32

struct objfile {
	struct list_head item;
	fuse_ino_t ino;
	char name[OBJFILE_NAME_MAX];
	char *path;
	const struct objfile_ops *ops;
	struct objfile_owner *owner;
	void *priv;
	unsigned int opens; /* open file descriptions */
	bool removed; /* the object is gone, the file lingers */
	struct fuse_pollhandle *ph;
};

static struct {
	pthread_mutex_t lock;
	/*
	 * One drainer at a time: they share buf, and one that finds the
	 * queue empty must know that the requests another took from it are
	 * submitted (a RELEASE before the DESTROY that follows the close).
	 */
	pthread_mutex_t drain_lock;
	struct fuse_session *se;
	struct fuse_buf buf;
	struct event *readable;
	char *dir;
	dev_t dev; /* of the mount: a path alone can be faked */
	struct list_head files;
	fuse_ino_t next_ino;
} od = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.drain_lock = PTHREAD_MUTEX_INITIALIZER,
	.files = { &od.files, &od.files },
};

bool objfile_enabled(void)
{
	return od.se;
}

/* Under od.lock. */
static struct objfile *file_by_ino(fuse_ino_t ino)
{
	struct objfile *f;

	list_for_each_entry(f, &od.files, item)
		if (f->ino == ino)
			return f;
	return NULL;
}

/* Under od.lock. */
static struct objfile *file_by_name(const char *name)
{
	struct objfile *f;

	list_for_each_entry(f, &od.files, item)
		if (!f->removed && !strcmp(f->name, name))
			return f;
	return NULL;
}

/* Under od.lock; the owner is let go by the caller (file_free_unlocked). */
static struct objfile_owner *file_unlink(struct objfile *f)
{
	struct objfile_owner *owner = f->owner;

	list_del(&f->item);
	if (f->ph)
		fuse_pollhandle_destroy(f->ph);
	free(f->path);
	free(f);
	return owner;
}

/*
 * Files are root's, 0600: only the supervisor opens them by name. The
 * directory is /dev/iommu's group's (permission.h): nobody else may even
 * list which objects exist.
 */
static void fill_attr(struct stat *st, fuse_ino_t ino, bool dir)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = dir ? S_IFDIR | permission_dir_mode() : S_IFREG | 0600;
	st->st_gid = dir ? daemon_permission.gid : 0;
	st->st_nlink = dir ? 2 : 1;
}

static void od_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = { 0 };
	struct objfile *f;

	pthread_mutex_lock(&od.lock);
	f = parent == FUSE_ROOT_ID ? file_by_name(name) : NULL;
	if (f)
		e.ino = f->ino;
	pthread_mutex_unlock(&od.lock);
	if (!e.ino) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(&e.attr, e.ino, false);
	fuse_reply_entry(req, &e);
}

static void od_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	bool known;

	(void)fi;
	pthread_mutex_lock(&od.lock);
	known = ino == FUSE_ROOT_ID || file_by_ino(ino);
	pthread_mutex_unlock(&od.lock);
	if (!known) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(&st, ino, ino == FUSE_ROOT_ID);
	fuse_reply_attr(req, &st, 0);
}

static void od_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char *buf;
	struct objfile *f;
	size_t used = 0;
	off_t n = 0;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&od.lock);
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
	pthread_mutex_unlock(&od.lock);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

/* ---- requests on files: jobs on the owner's queue ------------------- */

enum file_op { OP_OPEN, OP_RELEASE, OP_READ, OP_WRITE, OP_POLL };

struct file_job {
	struct wq_job job;
	fuse_req_t req;
	struct objfile *f;
	struct objfile_owner *owner; /* held for the job */
	enum file_op op;
	struct fuse_file_info fi;
	struct fuse_pollhandle *ph;
	size_t size;
	char data[]; /* the write's bytes */
};

static void job_open(struct file_job *j)
{
	struct objfile *f = j->f;
	bool first, gone;

	pthread_mutex_lock(&od.lock);
	gone = f->removed;
	pthread_mutex_unlock(&od.lock);
	if (gone) {
		fuse_reply_err(j->req, ENOENT);
		return;
	}
	j->fi.direct_io = 1;
	j->fi.nonseekable = 1;
	j->fi.fh = (uintptr_t)f;
	/* An open aborted before our reply gets no RELEASE: do not count it. */
	if (fuse_reply_open(j->req, &j->fi))
		return;
	pthread_mutex_lock(&od.lock);
	first = f->opens++ == 0;
	pthread_mutex_unlock(&od.lock);
	if (first && f->ops->open)
		f->ops->open(f->priv);
}

static void job_release(struct file_job *j)
{
	struct objfile *f = j->f;
	struct objfile_owner *owner = NULL;
	bool last, removed;
	void *priv;

	fuse_reply_err(j->req, 0);
	pthread_mutex_lock(&od.lock);
	last = --f->opens == 0;
	removed = f->removed;
	priv = f->priv;
	if (last && removed)
		owner = file_unlink(f);
	pthread_mutex_unlock(&od.lock);
	if (owner)
		owner->unhold(owner);
	else if (last && f->ops->release)
		f->ops->release(priv);
}

static void job_read(struct file_job *j)
{
	struct objfile *f = j->f;
	char *buf;
	long n;

	if (f->removed || !f->ops->read) {
		fuse_reply_err(j->req, f->removed ? EIO : EINVAL);
		return;
	}
	buf = malloc(j->size ? j->size : 1);
	if (!buf) {
		fuse_reply_err(j->req, ENOMEM);
		return;
	}
	n = f->ops->read(f->priv, buf, j->size);
	if (n < 0)
		fuse_reply_err(j->req, (int)-n);
	else
		fuse_reply_buf(j->req, buf, (size_t)n);
	free(buf);
}

static void job_write(struct file_job *j)
{
	struct objfile *f = j->f;
	long n;

	if (f->removed || !f->ops->write) {
		fuse_reply_err(j->req, f->removed ? EIO : EINVAL);
		return;
	}
	n = f->ops->write(f->priv, j->data, j->size);
	if (n < 0)
		fuse_reply_err(j->req, (int)-n);
	else
		fuse_reply_write(j->req, (size_t)n);
}

static void job_poll(struct file_job *j)
{
	struct objfile *f = j->f;
	unsigned int events;

	/* Keep the latest handle: it is how a later event wakes the poller. */
	pthread_mutex_lock(&od.lock);
	if (j->ph) {
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		f->ph = j->ph;
	}
	pthread_mutex_unlock(&od.lock);
	events = f->removed   ? POLLERR :
		 f->ops->poll ? f->ops->poll(f->priv) :
				0;
	fuse_reply_poll(j->req, events);
}

static void file_job_run(struct wq_job *job)
{
	struct file_job *j = container_of(job, struct file_job, job);

	switch (j->op) {
	case OP_OPEN:
		job_open(j);
		break;
	case OP_RELEASE:
		job_release(j);
		break;
	case OP_READ:
		job_read(j);
		break;
	case OP_WRITE:
		job_write(j);
		break;
	case OP_POLL:
		job_poll(j);
		break;
	}
}

static void file_job_done(struct wq_job *job)
{
	struct file_job *j = container_of(job, struct file_job, job);

	j->owner->unhold(j->owner);
	free(j);
}

/* Queue @op on @f's owner (the file may go meanwhile: the job checks). */
static void submit(fuse_req_t req, struct objfile *f, enum file_op op,
		   struct fuse_file_info *fi, const char *data, size_t size,
		   struct fuse_pollhandle *ph)
{
	struct file_job *j = calloc(1, sizeof(*j) + (data ? size : 0));

	if (!j) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	j->job.run = file_job_run;
	j->job.done = file_job_done;
	j->job.uid = fuse_req_ctx(req)->uid;
	j->req = req;
	j->f = f;
	j->op = op;
	j->size = size;
	j->ph = ph;
	if (fi)
		j->fi = *fi;
	if (data)
		memcpy(j->data, data, size);
	pthread_mutex_lock(&od.lock);
	j->owner = f->owner;
	j->owner->hold(j->owner);
	pthread_mutex_unlock(&od.lock);
	wq_submit(j->owner->queue, &j->job);
}

static void od_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct objfile *f;

	pthread_mutex_lock(&od.lock);
	f = file_by_ino(ino);
	if (f && f->removed)
		f = NULL;
	pthread_mutex_unlock(&od.lock);
	if (!f) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	submit(req, f, OP_OPEN, fi, NULL, 0, NULL);
}

static void od_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	submit(req, (struct objfile *)(uintptr_t)fi->fh, OP_RELEASE, fi, NULL,
	       0, NULL);
}

static void od_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)off;
	submit(req, (struct objfile *)(uintptr_t)fi->fh, OP_READ, fi, NULL,
	       size, NULL);
}

static void od_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)off;
	submit(req, (struct objfile *)(uintptr_t)fi->fh, OP_WRITE, fi, buf,
	       size, NULL);
}

static void od_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	(void)ino;
	submit(req, (struct objfile *)(uintptr_t)fi->fh, OP_POLL, fi, NULL, 0,
	       ph);
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

/*
 * Serve every request already queued on the objects mount. Called by the
 * loop when the mount is readable and by the readers before each ioctl
 * they submit, so that files closed before an ioctl are closed before it
 * runs.
 */
void objfile_drain(void)
{
	pthread_mutex_lock(&od.drain_lock);
	while (od.se && od.readable) {
		int n = fuse_session_receive_buf(od.se, &od.buf);

		if (n == -EINTR || n == -EAGAIN)
			break;
		if (n <= 0 || fuse_session_exited(od.se)) {
			log_warnx("object files: %s was unmounted", od.dir);
			event_free(od.readable);
			od.readable = NULL;
			break;
		}
		fuse_session_process_buf(od.se, &od.buf);
	}
	pthread_mutex_unlock(&od.drain_lock);
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
	static char arg_mount_opts[] =
		"allow_other,default_permissions,"
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
	od.readable =
		event_new(base, fd, EV_READ | EV_PERSIST, od_readable, NULL);
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
	pthread_mutex_lock(&od.drain_lock);
	if (od.readable)
		event_free(od.readable);
	od.readable = NULL;
	fuse_session_unmount(od.se);
	fuse_session_destroy(od.se);
	od.se = NULL;
	free(od.buf.mem);
	od.buf.mem = NULL;
	pthread_mutex_unlock(&od.drain_lock);
	pthread_mutex_lock(&od.lock);
	list_for_each_entry_safe(f, next, &od.files, item) {
		struct objfile_owner *owner = file_unlink(f);

		pthread_mutex_unlock(&od.lock);
		owner->unhold(owner);
		pthread_mutex_lock(&od.lock);
	}
	pthread_mutex_unlock(&od.lock);
	rmdir(od.dir);
	free(od.dir);
	od.dir = NULL;
}

struct objfile *objfile_create(const char *kind, const struct objfile_ops *ops,
			       void *priv, struct objfile_owner *owner)
{
	struct objfile *f;

	if (!od.se)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_lock(&od.lock);
	f->ino = od.next_ino++;
	pthread_mutex_unlock(&od.lock);
	/* The inode number makes the name unique for the daemon's life. */
	snprintf(f->name, sizeof(f->name), "%s-%llu", kind,
		 (unsigned long long)f->ino);
	if (asprintf(&f->path, "%s/%s", od.dir, f->name) < 0) {
		free(f);
		return NULL;
	}
	f->ops = ops;
	f->priv = priv;
	f->owner = owner;
	owner->hold(owner);
	pthread_mutex_lock(&od.lock);
	list_add_tail(&f->item, &od.files);
	pthread_mutex_unlock(&od.lock);
	return f;
}

/* Wake a poller: take the handle under the lock, notify outside. */
static void notify(struct fuse_pollhandle *ph)
{
	if (ph) {
		fuse_lowlevel_notify_poll(ph);
		fuse_pollhandle_destroy(ph);
	}
}

void objfile_remove(struct objfile *f)
{
	struct objfile_owner *owner = NULL;
	struct fuse_pollhandle *ph = NULL;

	if (!f)
		return;
	pthread_mutex_lock(&od.lock);
	if (!f->opens) {
		owner = file_unlink(f);
	} else {
		/* Descriptors still open: keep the node until their last close. */
		f->removed = true;
		f->priv = NULL;
		ph = f->ph;
		f->ph = NULL;
	}
	pthread_mutex_unlock(&od.lock);
	notify(ph);
	if (owner)
		owner->unhold(owner);
}

bool objfile_is_open(const struct objfile *f)
{
	bool open;

	if (!f)
		return false;
	pthread_mutex_lock(&od.lock);
	open = f->opens;
	pthread_mutex_unlock(&od.lock);
	return open;
}

const char *objfile_path(const struct objfile *f)
{
	return f->path;
}

void objfile_notify(struct objfile *f)
{
	struct fuse_pollhandle *ph;

	pthread_mutex_lock(&od.lock);
	ph = f->ph;
	f->ph = NULL;
	pthread_mutex_unlock(&od.lock);
	notify(ph);
}

void *objfile_from_fd(pid_t pid, int fd, const char *kind,
		      const struct objfile_owner *owner)
{
	struct objfile *f;
	struct statx stx;
	char link[64];
	void *priv = NULL;

	if (!od.se || fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	/*
	 * Not by the link's text: that is the path in the caller's mount
	 * namespace, where anybody may mount anything on our directory's
	 * path. The file itself must be on our mount. Cached attributes
	 * only, so a file of some other FUSE server is not asked.
	 */
	if (statx(AT_FDCWD, link, AT_STATX_DONT_SYNC, 0, &stx) ||
	    makedev(stx.stx_dev_major, stx.stx_dev_minor) != od.dev)
		return NULL;
	pthread_mutex_lock(&od.lock);
	f = file_by_ino(stx.stx_ino);
	if (f && !f->removed && f->owner == owner &&
	    !strncmp(f->name, kind, strlen(kind)) &&
	    f->name[strlen(kind)] == '-')
		priv = f->priv;
	pthread_mutex_unlock(&od.lock);
	return priv;
}
