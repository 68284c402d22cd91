/* SPDX-License-Identifier: MIT */
/*
 * What the FUSE-file and CUSE transports share: a libfuse session read by
 * reader threads, one core context per open file, and the replies to the
 * requests that mean the same on both (open, release, flush, an ioctl).
 *
 * An ioctl or a release is a job on the file's context queue (workqueue.h):
 * the reader runs it at once when the context is idle, else a worker runs
 * it in turn; whoever runs it replies. A request that blocks (a caller's
 * memory nobody serves) holds one thread and its own context; the readers'
 * watchdog hands the session to another thread (session_readers.h).
 *
 * Both transports pass their struct transport_session to libfuse as the
 * session's userdata, so fuse_req_userdata() finds it in every request.
 */
#ifndef IOMMUFDD_TRANSPORT_COMMON_H
#define IOMMUFDD_TRANSPORT_COMMON_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <fuse_lowlevel.h>

#include "core.h"
#include "ioctl_regions.h"

struct event_base;
struct session_readers;

struct transport_session;

/* One per open file description; fi->fh points at it. */
struct transport_file {
	struct iommufd_ctx *ictx;
	struct transport_session *ts;
	LIST_ENTRY(transport_file) entry;
};

struct transport_session {
	const char *name; /* "fuse" or "cuse": prefixes log lines */
	char *path; /* what clients open */
	struct fuse_session *session;
	struct event_base *base; /* its loop stops when the kernel side goes */
	struct session_readers *readers; /* session_readers.h */
	struct fuse_buf request_buf; /* for a transport's own setup reads */
	/* Released on stop if the kernel never sends their RELEASE. */
	pthread_mutex_t files_lock;
	LIST_HEAD(, transport_file) files;
};

/* Route libfuse's own messages through the daemon's log. */
void transport_log_to_daemon_log(void);

/*
 * Read and serve @ts->session's requests on reader threads
 * (session_readers.h); the kernel's queue order is kept, and each context
 * sees its requests in that order (its queue). 0 or -errno.
 */
int transport_session_watch(struct transport_session *ts);

/*
 * Stop reading, wait a while for the requests still running (they reply on
 * this session), release every context still open (their RELEASE will
 * never be read now) and free the buffers. Call before the session fd is
 * closed: the event must leave the loop while its fd is still valid.
 * False when a request is stuck for good: then the session must not be
 * destroyed (a late reply would use it); the process is about to exit.
 */
bool transport_session_cleanup(struct transport_session *ts);

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

/* Queue one ioctl with the caller reached directly; the job replies. */
void transport_ioctl_direct(fuse_req_t req, struct fuse_file_info *fi,
			    const struct ucaller *caller, unsigned int cmd,
			    uint64_t arg);

/*
 * Queue one ioctl served from the kernel's copies of the caller's memory
 * (@plan's regions, @in_buf as the kernel sent them), for a caller out of
 * direct reach (@unreachable says why). A region left out for its size
 * fails the ioctl with ENOMEM, logged with @limit, what one round carries.
 */
void transport_ioctl_copied(fuse_req_t req, struct fuse_file_info *fi,
			    const struct ucaller *caller, unsigned int cmd,
			    uint64_t arg, const struct ioctl_plan *plan,
			    const void *in_buf, size_t in_bufsz,
			    const char *unreachable, uint64_t limit);

/*
 * Reply with the core's result: @ret >= 0, or -errno, and the @n iovecs of
 * data to write over the caller's out regions (an error may carry data).
 */
void transport_reply_result(fuse_req_t req, unsigned int cmd, long ret,
			    const struct iovec *iov, unsigned int n);

/*
 * Send the replies that handling the last request deferred (an EINTR for a
 * killed caller). Reader threads call it after each request.
 */
void transport_reply_deferred(void);

/* Reply with errno @err (positive), which must be one libfuse accepts. */
void transport_reply_errno(fuse_req_t req, long err);

#endif
