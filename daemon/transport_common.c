// SPDX-License-Identifier: MIT
/*
 * The parts of the FUSE-file and CUSE transports that are the same: the
 * session pump on the event loop, per-open contexts and the common replies.
 */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "caller.h"
#include "iommufd_private.h"
#include "log.h"
#include "objfile.h"
#include "permission.h"
#include "session_readers.h"
#include "transport_common.h"
#include "uaccess.h"
#include "workqueue.h"

/* How long stopping waits for requests still running. */
#define STOP_TIMEOUT_MS 3000

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

void transport_log_to_daemon_log(void)
{
	fuse_set_log_func(fuse_log_to_daemon_log);
}

int transport_session_watch(struct transport_session *ts)
{
	return session_readers_start(ts);
}

/* Runs on the context's queue (or at stop, with the pool idle). */
static void file_release(struct transport_file *file)
{
	struct transport_session *ts = file->ts;

	pthread_mutex_lock(&ts->files_lock);
	LIST_REMOVE(file, entry);
	pthread_mutex_unlock(&ts->files_lock);
	iommufd_ctx_release(file->ictx);
	free(file);
}

bool transport_session_cleanup(struct transport_session *ts)
{
	bool idle;

	/*
	 * No new requests now. Let the running ones finish (they reply on
	 * this session), then release the files whose RELEASE never came.
	 * A request stuck for good keeps its context and the session.
	 */
	idle = session_readers_stop(ts, STOP_TIMEOUT_MS);
	idle = wq_stop(STOP_TIMEOUT_MS) && idle;
	for (;;) {
		struct transport_file *file;

		pthread_mutex_lock(&ts->files_lock);
		file = LIST_FIRST(&ts->files);
		pthread_mutex_unlock(&ts->files_lock);
		if (!file)
			break;
		if (!iommufd_ctx_lock_timed(file->ictx, 0)) {
			log_warnx(
				"%s: a client's request is stuck; not releasing its context",
				ts->name);
			pthread_mutex_lock(&ts->files_lock);
			LIST_REMOVE(file, entry);
			pthread_mutex_unlock(&ts->files_lock);
			continue;
		}
		iommufd_ctx_unlock(file->ictx);
		file_release(file);
	}
	free(ts->request_buf.mem);
	ts->request_buf.mem = NULL;
	return idle;
}

struct ucaller transport_caller(fuse_req_t req)
{
	const struct fuse_ctx *fctx = fuse_req_ctx(req);
	struct ucaller caller = {
		.pid = fctx->pid,
		.uid = fctx->uid,
		.gid = fctx->gid,
	};

	return caller;
}

/* libfuse rejects errors outside 1..999; the core should never produce one. */
void transport_reply_errno(fuse_req_t req, long err)
{
	if (err <= 0 || err >= 1000) {
		log_err("invalid errno %ld from the core, replying EIO", err);
		err = EIO;
	}
	fuse_reply_err(req, (int)err);
}

/* The daemon's own check of the opener, besides the kernel's (permission.h). */
static bool opener_allowed(fuse_req_t req, const struct ucaller *opener,
			   int accmode)
{
	gid_t groups[256];
	int n = fuse_req_getgroups(req, (int)ARRAY_SIZE(groups), groups);

	/* Unknown groups (out of reach): only the primary group counts. */
	if (n < 0 || n > (int)ARRAY_SIZE(groups))
		n = n > (int)ARRAY_SIZE(groups) ? (int)ARRAY_SIZE(groups) : 0;
	return permission_allows(opener->uid, opener->gid, groups,
				 (unsigned int)n, accmode);
}

void transport_open(fuse_req_t req, struct fuse_file_info *fi)
{
	struct transport_session *ts = fuse_req_userdata(req);
	struct ucaller opener = transport_caller(req);
	struct transport_file *file;

	if (!opener_allowed(req, &opener, fi->flags & O_ACCMODE)) {
		log_info(
			"%s: pid %d (uid %u) may not open %s (mode %04o, group %u)",
			ts->name, (int)opener.pid, (unsigned int)opener.uid,
			ts->path, (unsigned int)daemon_permission.mode,
			(unsigned int)daemon_permission.gid);
		fuse_reply_err(req, EACCES);
		return;
	}

	file = calloc(1, sizeof(*file));
	if (!file) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	file->ictx = iommufd_ctx_open(&opener);
	if (!file->ictx) {
		int err = errno ? errno : ENOMEM;

		free(file);
		transport_reply_errno(req, err);
		return;
	}
	file->ts = ts;
	pthread_mutex_lock(&ts->files_lock);
	LIST_INSERT_HEAD(&ts->files, file, entry);
	pthread_mutex_unlock(&ts->files_lock);

	/* Every read/write/ioctl must reach us; there is no file position. */
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fi->keep_cache = 0;
	fi->fh = (uint64_t)(uintptr_t)file;

	/*
	 * If the open was aborted before our reply landed, the kernel has no
	 * file and will never send RELEASE for it.
	 */
	if (fuse_reply_open(req, fi) != 0) {
		log_debug("%s: open by pid %d went away before the reply",
			  ts->name, (int)opener.pid);
		transport_release(NULL, fi);
	}
}

/* One request for a context, queued on it. */
struct request_job {
	struct wq_job job;
	fuse_req_t req;
	/* Replied to: by the job, or early for a caller that was killed. */
	atomic_bool answered;
	/* The job's reference, and request_interrupted's while registered. */
	atomic_int refs;
	bool watched;
	struct transport_file *file;
	struct iommufd_ctx *ictx; /* held while queued */
	struct ucaller caller;
	unsigned int cmd;
	uint64_t arg;
	/* Served from the kernel's copies: the plan and the copies. */
	bool copied;
	struct ioctl_plan plan;
	const char *unreachable;
	uint64_t limit;
	size_t copies_len;
	unsigned char copies[];
};

static void request_put(struct request_job *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	iommufd_ctx_unhold(r->ictx);
	free(r);
}

static void request_done(struct wq_job *job)
{
	request_put(container_of(job, struct request_job, job));
}

static struct request_job *request_new(struct fuse_file_info *fi,
				       size_t copies_len)
{
	struct request_job *r = calloc(1, sizeof(*r) + copies_len);

	if (!r)
		return NULL;
	r->file = transport_file_of(fi);
	r->ictx = r->file->ictx;
	r->copies_len = copies_len;
	r->job.done = request_done;
	atomic_init(&r->refs, 1);
	iommufd_ctx_hold(r->ictx);
	return r;
}

static void release_run(struct wq_job *job)
{
	struct request_job *r = container_of(job, struct request_job, job);

	/* Replied once done: a CUSE close() waits for it, as in the kernel. */
	file_release(r->file);
	if (r->req)
		fuse_reply_err(r->req, 0);
}

void transport_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct request_job *r = request_new(fi, 0);

	if (!r) {
		/* Not even that: release here, on the loop, rather than leak. */
		struct transport_file *file = transport_file_of(fi);

		log_err("out of memory queueing a release; releasing inline");
		file_release(file);
		if (req)
			fuse_reply_err(req, 0);
		return;
	}
	/* RELEASE carries no caller (pid 0): the context comes from fh. */
	r->req = req;
	r->job.run = release_run;
	r->job.uid = r->ictx->opener.uid;
	r->job.release = true;
	wq_submit_here(&r->ictx->queue, &r->job);
}

/* Sent on every close() of a FUSE file; iommufd has nothing to do then. */
void transport_flush(fuse_req_t req, struct fuse_file_info *fi)
{
	(void)fi;
	fuse_reply_err(req, 0);
}

void transport_reply_result(fuse_req_t req, unsigned int cmd, long ret,
			    const struct iovec *iov, unsigned int n)
{
	/* The kernel would turn ENOSYS into ENOTTY; say what we mean. */
	if (ret == -ENOSYS)
		ret = -ENOTTY;
	if (ret > INT_MAX) {
		log_err("ioctl 0x%x result %ld does not fit", cmd, ret);
		ret = -EOVERFLOW;
	} else if (ret <= -1000) {
		log_err("invalid errno %ld from the core, replying EIO", -ret);
		ret = -EIO;
	}
	if (!n) {
		if (ret < 0)
			fuse_reply_err(req, (int)-ret);
		else
			fuse_reply_ioctl(req, (int)ret, NULL, 0);
		return;
	}
	/*
	 * A negative result travels with its data: the kernel writes the
	 * data back first and then returns the result (EMSGSIZE from
	 * IOVA_RANGES, the partial count of HWPT_INVALIDATE).
	 */
	fuse_reply_ioctl_iov(req, (int)ret, iov, (int)n);
}

/*
 * Interrupted requests to fail with EINTR once libfuse has let go of them
 * (request_interrupted runs with the request's lock held, and when it runs
 * from fuse_req_interrupt_func a reply there would free the request under
 * that lock). Only the reader threads process requests, so it is theirs.
 */
#define DEFERRED_MAX 8
static __thread struct request_job *deferred_eintr[DEFERRED_MAX];
static __thread unsigned int nr_deferred_eintr;

void transport_reply_deferred(void)
{
	while (nr_deferred_eintr) {
		struct request_job *r = deferred_eintr[--nr_deferred_eintr];

		/* Frees the request: request_interrupted cannot run again. */
		fuse_reply_err(r->req, EINTR);
		request_put(r);
	}
}

/*
 * The kernel tells us a caller waiting for this request got a signal. The
 * kernel's ioctls run to the end whatever arrives, and so does ours; but a
 * caller that was killed only waits for our reply to die, and while its
 * request waits for the caller's own memory (a userfaultfd page that only
 * it could serve, say), it would wait for good. So such a caller is let go
 * at once with EINTR; the job runs on and its reply is dropped.
 */
static void request_interrupted(fuse_req_t req, void *data)
{
	struct request_job *r = data;

	(void)req;
	if (nr_deferred_eintr == DEFERRED_MAX || !caller_is_dying(&r->caller))
		return;
	if (atomic_exchange(&r->answered, true))
		return;
	/* r stays ours (our reference) until the deferred reply is sent. */
	log_info("pid %d was killed while its ioctl 0x%x ran; letting it go",
		 (int)r->caller.pid, r->cmd);
	deferred_eintr[nr_deferred_eintr++] = r;
}

/*
 * Whether the job may still reply. If request_interrupted got there first,
 * the request may already be freed and must not be touched. Otherwise
 * unregistering waits for a running request_interrupted (libfuse holds the
 * request's lock through it), which then finds the request answered.
 */
static bool request_claim_reply(struct request_job *r)
{
	if (atomic_exchange(&r->answered, true))
		return false;
	if (r->watched) {
		fuse_req_interrupt_func(r->req, NULL, NULL);
		request_put(r);
	}
	return true;
}

static void ioctl_run(struct wq_job *job)
{
	struct request_job *r = container_of(job, struct request_job, job);
	struct iovec iov[IOCTL_REGIONS_MAX];
	struct uwindow window;
	unsigned int n = 0;
	long ret;

	if (!r->copied) {
		ret = iommufd_ctx_ioctl(r->ictx, &r->caller, r->cmd, r->arg);
		if (request_claim_reply(r))
			transport_reply_result(r->req, r->cmd, ret, NULL, 0);
		return;
	}
	/* The handler writes into the copies; the reply carries them back. */
	uwindow_init(&window, &r->plan, r->copies, r->unreachable);
	r->caller.window = &window;
	ret = iommufd_ctx_ioctl(r->ictx, &r->caller, r->cmd, r->arg);
	if (window.too_big) {
		log_warnx(
			"pid %d: ioctl 0x%x needs more of its memory copied than the %llu bytes a CUSE retry can carry, and %s; failing with ENOMEM, as the kernel does for oversized retries",
			(int)r->caller.pid, r->cmd,
			(unsigned long long)r->limit, r->unreachable);
		ret = -ENOMEM;
	}
	n = uwindow_out_iov(&window, iov);
	if (request_claim_reply(r))
		transport_reply_result(r->req, r->cmd, ret, iov, n);
}

/* Object files closed before this ioctl are closed before it runs. */
static void submit_ioctl(struct request_job *r)
{
	objfile_drain();
	r->job.run = ioctl_run;
	r->job.uid = r->caller.uid;
	/* Only a caller we can look at can be seen dying. */
	if (r->caller.pid > 0) {
		r->watched = true;
		atomic_fetch_add(&r->refs, 1);
		fuse_req_interrupt_func(r->req, request_interrupted, r);
	}
	wq_submit_here(&r->ictx->queue, &r->job);
}

void transport_ioctl_direct(fuse_req_t req, struct fuse_file_info *fi,
			    const struct ucaller *caller, unsigned int cmd,
			    uint64_t arg)
{
	struct request_job *r = request_new(fi, 0);

	if (!r) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r->req = req;
	r->caller = *caller;
	r->cmd = cmd;
	r->arg = arg;
	submit_ioctl(r);
}

void transport_ioctl_copied(fuse_req_t req, struct fuse_file_info *fi,
			    const struct ucaller *caller, unsigned int cmd,
			    uint64_t arg, const struct ioctl_plan *plan,
			    const void *in_buf, size_t in_bufsz,
			    const char *unreachable, uint64_t limit)
{
	/* The request buffer is the reader's: the job gets its own copy. */
	struct request_job *r = request_new(fi, in_bufsz);

	if (!r) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r->req = req;
	r->caller = *caller;
	r->cmd = cmd;
	r->arg = arg;
	r->copied = true;
	r->plan = *plan;
	r->unreachable = unreachable;
	r->limit = limit;
	if (in_bufsz)
		memcpy(r->copies, in_buf, in_bufsz);
	submit_ioctl(r);
}
