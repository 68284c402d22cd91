/* SPDX-License-Identifier: MIT */
/*
 * What the FUSE-file and CUSE transports share: a libfuse session read from
 * the daemon's event loop, one core context per open file, and the replies
 * to the requests that mean the same on both (open, release, flush, an
 * ioctl served by reaching the caller directly).
 *
 * Both transports pass their struct transport_session to libfuse as the
 * session's userdata, so fuse_req_userdata() finds it in every request.
 */
#ifndef IOMMUFDD_TRANSPORT_COMMON_H
#define IOMMUFDD_TRANSPORT_COMMON_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif

#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <fuse_lowlevel.h>

#include "core.h"

struct event;
struct event_base;

/* One per open file description; fi->fh points at it. */
struct transport_file {
	struct iommufd_ctx *ictx;
	LIST_ENTRY(transport_file) entry;
};

struct transport_session {
	const char *name; /* "fuse" or "cuse": prefixes log lines */
	char *path;	  /* what clients open */
	struct fuse_session *session;
	struct event_base *base;
	struct event *readable;
	struct fuse_buf request_buf;
	/* Released on stop if the kernel never sends their RELEASE. */
	LIST_HEAD(, transport_file) files;
};

/* Route libfuse's own messages through the daemon's log. */
void transport_log_to_daemon_log(void);

/*
 * Read requests from @ts->session whenever its fd is readable, one at a
 * time, each handled to completion before the next (the kernel's queue
 * order matters: RELEASE is sent after the last close() and a client may
 * reopen at once). Makes the fd non-blocking. 0 or -errno.
 */
int transport_session_watch(struct transport_session *ts);

/*
 * Stop reading, release every context still open (their RELEASE will never
 * be read now) and free the buffers. Call before the session fd is closed:
 * the event must leave the loop while its fd is still valid.
 */
void transport_session_cleanup(struct transport_session *ts);

/* The thread that issued @req, as the daemon's pid namespace sees it. */
struct ucaller transport_caller(fuse_req_t req);

static inline struct transport_file *
transport_file_of(const struct fuse_file_info *fi)
{
	return (struct transport_file *)(uintptr_t)fi->fh;
}

/* Request handlers that mean the same on both transports. */
void transport_open(fuse_req_t req, struct fuse_file_info *fi);
void transport_release(fuse_req_t req, struct fuse_file_info *fi);
void transport_flush(fuse_req_t req, struct fuse_file_info *fi);

/* Run one ioctl with the caller reached directly and reply. */
void transport_ioctl_direct(fuse_req_t req, struct fuse_file_info *fi,
			    const struct ucaller *caller, unsigned int cmd,
			    uint64_t arg);

/*
 * Reply with the core's result: @ret >= 0, or -errno, and the @n iovecs of
 * data to write over the caller's out regions (an error may carry data).
 */
void transport_reply_result(fuse_req_t req, unsigned int cmd, long ret,
			    const struct iovec *iov, unsigned int n);

/* Reply with errno @err (positive), which must be one libfuse accepts. */
void transport_reply_errno(fuse_req_t req, long err);

#endif
