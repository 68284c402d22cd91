/* SPDX-License-Identifier: MIT */
/*
 * Object files: the files the kernel hands out for some iommufd objects
 * (access, fault queue, vEVENTQ), served by the daemon from a FUSE
 * directory so a caller's fd has real read, write, poll and close
 * semantics. The iommufd-run launcher installs them in the caller; fd
 * numbers the caller later passes as ids are resolved back to the object
 * through /proc/PID/fd.
 */
#ifndef IOMMUFDD_OBJFILE_H
#define IOMMUFDD_OBJFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct objfile;
struct serial_queue;

/*
 * Whose state an object file's requests touch: they run as jobs on its
 * queue (workqueue.h). A file holds its owner while it exists.
 */
struct objfile_owner {
	struct serial_queue *queue;
	void (*hold)(struct objfile_owner *owner);
	void (*unhold)(struct objfile_owner *owner);
};

struct objfile_ops {
	/* Bytes read into @buf, or -errno. NULL: EINVAL. */
	long (*read)(void *priv, char *buf, size_t count);
	/* Bytes consumed, or -errno. NULL: EINVAL. */
	long (*write)(void *priv, const char *buf, size_t count);
	/* POLLIN/POLLOUT bits that are ready now. */
	unsigned int (*poll)(void *priv);
	/* First open, and the close of the last descriptor of the file. */
	void (*open)(void *priv);
	void (*release)(void *priv);
};

int objfile_start(struct event_base *base, const char *dir);
void objfile_stop(void);
bool objfile_enabled(void);

/*
 * Take what is already queued for object files onto their owners' queues.
 * Their RELEASE comes on a connection of its own, so a caller's close()
 * followed by an ioctl could otherwise be served in the wrong order: the
 * transports drain first, on the thread that reads requests.
 */
void objfile_drain(void);

/*
 * A new file "<kind>-<n>" in the directory, whose requests run on
 * @owner's queue; NULL if objfile is not on (or no memory).
 */
struct objfile *objfile_create(const char *kind, const struct objfile_ops *ops,
			       void *priv, struct objfile_owner *owner);
/* The object is gone: the file disappears; open descriptors get EIO. */
void objfile_remove(struct objfile *file);
/* Is any descriptor of the file open? */
bool objfile_is_open(const struct objfile *file);
/* Absolute path, for the launcher to open. */
const char *objfile_path(const struct objfile *file);
/* Something became readable: wake poll() waiters. */
void objfile_notify(struct objfile *file);

/*
 * The object behind descriptor @fd of process @pid, if it is one of our
 * files of @kind belonging to @owner; its priv, or NULL. (The kernel lets
 * one iommufd use another's access; contexts here are served on their own
 * queues, so only the caller's own objects can be reached.)
 */
void *objfile_from_fd(pid_t pid, int fd, const char *kind,
		      const struct objfile_owner *owner);

#endif
