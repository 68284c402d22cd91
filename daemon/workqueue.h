/* SPDX-License-Identifier: MIT */
/*
 * The request pool: worker threads that serve clients concurrently, as the
 * kernel serves each calling thread, so that no client waits for another.
 *
 * Work comes as jobs on serial queues. A queue runs its jobs one at a time,
 * in submission order, on whichever worker is free: each iommufd context
 * has one (the kernel's order of requests on one file), the control socket
 * has one per client. A job may block as long as it likes (a caller's
 * memory on a userfaultfd page nobody serves, a file whose FUSE server
 * never answers): only its queue waits, and only one worker.
 *
 * Fairness: at most WQ_PER_UID_RUNNING jobs of one user run at a time, so
 * a user whose requests are stuck holds that many workers and no more; the
 * pool grows up to WQ_MAX_THREADS workers as they are needed.
 *
 * Ordering across queues: the FUSE file sends RELEASE asynchronously after
 * the last close(), and a client may open again and ask right away. So
 * while a release of a context is pending, later jobs of the same user are
 * held back until it is done (wq_submit_release), as the kernel's close()
 * would have finished first. Other users are not held.
 *
 * Locking: one pool mutex over queues and counters, never held while a job
 * runs. A queue's exec_lock is held while one of its jobs runs; others
 * (inspection) may take it briefly to read the context it serves.
 */
#ifndef IOMMUFDD_WORKQUEUE_H
#define IOMMUFDD_WORKQUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

#define WQ_MAX_THREADS 256
#define WQ_PER_UID_RUNNING 8

struct wq_job {
	struct list_head item;
	/* The work, with the queue held. */
	void (*run)(struct wq_job *job);
	/*
	 * Called once the queue is let go of: it may drop the last
	 * reference to the queue's owner (and free the job). May be NULL.
	 */
	void (*done)(struct wq_job *job);
	uid_t uid; /* who asked: the user whose jobs it may wait behind */
	bool release; /* a release: later jobs of the user wait for it */
};

struct serial_queue {
	pthread_mutex_t exec_lock;
	/* under the pool lock */
	struct list_head jobs;
	struct list_head runnable; /* on the pool's list while it has work */
	bool on_runnable;
	bool running;
	uid_t uid; /* fairness: whose workers it uses */
};

void serial_queue_init(struct serial_queue *q, uid_t uid);
/* The queue must be idle and empty (its owner is going away). */
void serial_queue_destroy(struct serial_queue *q);

/* Queue @job on @q; it runs on a worker after the jobs before it. */
void wq_submit(struct serial_queue *q, struct wq_job *job);

/*
 * Run @job on the calling thread when a worker would start it at once (its
 * queue idle, its user under the cap, nothing held back), else queue it as
 * wq_submit does. Saves the hand-off to a worker, which on a quiet machine
 * is most of a request's latency. True when it ran here.
 */
bool wq_submit_here(struct serial_queue *q, struct wq_job *job);

/*
 * Run @job on the calling thread when a worker would start it at once (its
 * queue idle, its user under the cap, nothing held back), else queue it as
 * wq_submit does. This saves the hand-off to a worker, which on an idle
 * machine is most of a request's latency; the caller must cope with the
 * job blocking (session_readers.h). True when it ran here.
 */
bool wq_submit_here(struct serial_queue *q, struct wq_job *job);

/* Is the calling thread running a job of @q? */
bool wq_current_is(const struct serial_queue *q);

/* Start the pool (lazily grows). 0 or -errno. */
int wq_start(void);
/*
 * Stop taking work and wait up to @timeout_ms for running jobs. Jobs stuck
 * beyond that are left to the process's exit: a stuck caller must not
 * make shutdown hang. True when everything finished.
 */
bool wq_stop(unsigned int timeout_ms);

/* Workers alive, and jobs running, for inspection. */
void wq_stats(unsigned int *threads, unsigned int *running,
	      unsigned int *queued);

#endif
