// SPDX-License-Identifier: MIT
/*
 * The request pool (workqueue.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "workqueue.h"

/* Small stacks: a stuck worker costs address space, not memory. */
#define WORKER_STACK (256 * 1024)

/* What one user has in the pool. */
struct uid_state {
	struct list_head item;
	uid_t uid;
	unsigned int running; /* jobs of its queues running now */
	unsigned int releases; /* releases submitted, not done */
	struct list_head held; /* jobs waiting for those releases */
};

struct held_job {
	struct list_head item;
	struct serial_queue *q;
	struct wq_job *job;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a queue became runnable, or stop */
	pthread_cond_t idle; /* a job finished (for wq_stop) */
	struct list_head runnable;
	struct list_head uids;
	unsigned int threads, waiting, running, queued;
	bool stopping;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.runnable = { &pool.runnable, &pool.runnable },
	.uids = { &pool.uids, &pool.uids },
};

static __thread const struct serial_queue *current_queue;

void serial_queue_init(struct serial_queue *q, uid_t uid)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->exec_lock, NULL);
	list_init(&q->jobs);
	list_init(&q->runnable);
	q->uid = uid;
}

void serial_queue_destroy(struct serial_queue *q)
{
	pthread_mutex_lock(&pool.lock);
	if (!list_empty(&q->jobs) || q->running || q->on_runnable)
		log_err("workqueue: destroying a busy queue");
	if (q->on_runnable)
		list_del(&q->runnable);
	pthread_mutex_unlock(&pool.lock);
	pthread_mutex_destroy(&q->exec_lock);
}

bool wq_current_is(const struct serial_queue *q)
{
	return current_queue == q;
}

/* Under the lock. NULL only when out of memory. */
static struct uid_state *uid_get(uid_t uid)
{
	struct uid_state *u;

	list_for_each_entry(u, &pool.uids, item)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	list_init(&u->held);
	list_add_tail(&u->item, &pool.uids);
	return u;
}

/* Under the lock: drop the state of a user with nothing left in the pool. */
static void uid_trim(struct uid_state *u)
{
	if (u->running || u->releases || !list_empty(&u->held))
		return;
	list_del(&u->item);
	free(u);
}

static void *worker_main(void *arg);

/* Under the lock: one more worker if none is free. */
static void maybe_spawn(void)
{
	pthread_attr_t attr;
	pthread_t thread;

	if (pool.waiting || pool.threads >= WQ_MAX_THREADS || pool.stopping)
		return;
	if (pthread_attr_init(&attr))
		return;
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!pthread_create(&thread, &attr, worker_main, NULL))
		pool.threads++;
	else if (!pool.threads)
		log_err("workqueue: cannot start a worker thread");
	pthread_attr_destroy(&attr);
}

/* Under the lock. */
static void enqueue(struct serial_queue *q, struct wq_job *job)
{
	list_add_tail(&job->item, &q->jobs);
	pool.queued++;
	if (!q->running && !q->on_runnable) {
		list_add_tail(&q->runnable, &pool.runnable);
		q->on_runnable = true;
	}
	maybe_spawn();
	pthread_cond_signal(&pool.work);
}

void wq_submit(struct serial_queue *q, struct wq_job *job)
{
	struct uid_state *u;
	struct held_job *h;

	pthread_mutex_lock(&pool.lock);
	u = uid_get(job->uid);
	if (u && !job->release && (u->releases || !list_empty(&u->held))) {
		h = malloc(sizeof(*h));
		if (h) {
			h->q = q;
			h->job = job;
			list_add_tail(&h->item, &u->held);
			pthread_mutex_unlock(&pool.lock);
			return;
		}
		/* No memory to hold it back: run it; order is best effort. */
	}
	if (u && job->release)
		u->releases++;
	enqueue(q, job);
	pthread_mutex_unlock(&pool.lock);
}

/* Under the lock: a release of @uid finished; let its held jobs go. */
static void release_done(uid_t uid)
{
	struct uid_state *u = uid_get(uid);
	struct held_job *h, *next;

	if (!u || !u->releases)
		return;
	if (--u->releases)
		return;
	list_for_each_entry_safe(h, next, &u->held, item) {
		list_del(&h->item);
		enqueue(h->q, h->job);
		free(h);
	}
	uid_trim(u);
}

/* Under the lock: the first runnable queue whose user has a free slot. */
static struct serial_queue *pick_queue(void)
{
	struct serial_queue *q;

	list_for_each_entry(q, &pool.runnable, runnable) {
		struct uid_state *u = uid_get(q->uid);

		if (!u || u->running < WQ_PER_UID_RUNNING)
			return q;
	}
	return NULL;
}

/* Under the lock: mark @q running a job for user @u. */
static void start_running(struct serial_queue *q, struct uid_state *u)
{
	q->running = true;
	pool.running++;
	if (u)
		u->running++;
}

/*
 * Under the lock, returns with it held: run @job of @q, which
 * start_running marked, then let the queue and the job go.
 */
static void run_job(struct serial_queue *q, struct wq_job *job)
{
	struct uid_state *u;
	bool release = job->release;
	uid_t job_uid = job->uid;

	pthread_mutex_unlock(&pool.lock);

	pthread_mutex_lock(&q->exec_lock);
	current_queue = q;
	job->run(job);
	current_queue = NULL;
	pthread_mutex_unlock(&q->exec_lock);

	pthread_mutex_lock(&pool.lock);
	q->running = false;
	if (!list_empty(&q->jobs)) {
		/* To the back: other queues' jobs go first. */
		list_add_tail(&q->runnable, &pool.runnable);
		q->on_runnable = true;
		pthread_cond_signal(&pool.work);
	}
	pool.running--;
	u = uid_get(q->uid);
	if (u) {
		/* A user back under its cap may have queues waiting. */
		if (u->running-- == WQ_PER_UID_RUNNING)
			pthread_cond_broadcast(&pool.work);
		uid_trim(u);
	}
	if (release)
		release_done(job_uid);
	pthread_cond_broadcast(&pool.idle);
	if (job->done) {
		/* The owner, and the queue with it, may go away now. */
		pthread_mutex_unlock(&pool.lock);
		job->done(job);
		pthread_mutex_lock(&pool.lock);
	}
}

/* Under the lock, returns with it held: run @q's first job. */
static void run_one(struct serial_queue *q)
{
	struct wq_job *job = list_first_entry(&q->jobs, struct wq_job, item);

	list_del(&job->item);
	list_del(&q->runnable);
	q->on_runnable = false;
	pool.queued--;
	start_running(q, uid_get(q->uid));
	run_job(q, job);
}

bool wq_submit_here(struct serial_queue *q, struct wq_job *job)
{
	struct uid_state *owner, *asker;

	pthread_mutex_lock(&pool.lock);
	owner = uid_get(q->uid);
	asker = uid_get(job->uid);
	/*
	 * Only what a worker would start right now: the queue idle, nothing
	 * held back for the user who asks, the queue's user under its cap.
	 * Anything else waits its turn as wq_submit makes it.
	 */
	if (pool.stopping || q->running || q->on_runnable ||
	    !list_empty(&q->jobs) || !owner || !asker || asker->releases ||
	    !list_empty(&asker->held) || owner->running >= WQ_PER_UID_RUNNING) {
		pthread_mutex_unlock(&pool.lock);
		wq_submit(q, job);
		return false;
	}
	/* Later jobs of the user wait for it, even while it runs here. */
	if (job->release)
		asker->releases++;
	start_running(q, owner);
	run_job(q, job);
	pthread_mutex_unlock(&pool.lock);
	return true;
}

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	while (!pool.stopping) {
		struct serial_queue *q = pick_queue();

		if (!q) {
			pool.waiting++;
			pthread_cond_wait(&pool.work, &pool.lock);
			pool.waiting--;
			continue;
		}
		run_one(q);
	}
	pool.threads--;
	pthread_cond_broadcast(&pool.idle);
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

int wq_start(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = false;
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

bool wq_stop(unsigned int timeout_ms)
{
	struct timespec deadline;
	bool done;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.work);
	while (pool.running &&
	       pthread_cond_timedwait(&pool.idle, &pool.lock, &deadline) == 0)
		;
	done = !pool.running;
	if (!done)
		log_warnx(
			"workqueue: %u requests still stuck at shutdown (callers whose memory never resolves); leaving them",
			pool.running);
	pthread_mutex_unlock(&pool.lock);
	return done;
}

void wq_stats(unsigned int *threads, unsigned int *running,
	      unsigned int *queued)
{
	pthread_mutex_lock(&pool.lock);
	*threads = pool.threads;
	*running = pool.running;
	*queued = pool.queued;
	pthread_mutex_unlock(&pool.lock);
}
