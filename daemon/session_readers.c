// SPDX-License-Identifier: MIT
/*
 * The readers of a transport session (session_readers.h).
 *
 * Locking: sr->lock covers who holds the session, the spare and thread
 * counts and stopping. A reader's busy counter is written by that reader
 * alone and read by the watchdog; the session's turn number says whether a
 * reader still holds the session, and is bumped only under the lock.
 */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "session_readers.h"
#include "transport_common.h"
#include "workqueue.h"

/* Small stacks: a reader stuck in a request costs address space only. */
#define READER_STACK (256 * 1024)
/* Stuck readers are bounded by the pool's per-user caps; this is a backstop. */
#define READERS_MAX WQ_MAX_THREADS
/* Parked readers kept for a takeover; more of them leave. */
#define READER_SPARES 1

/* What the watchdog sees of the reader holding the session. */
struct reader {
	/* Odd while it handles a request; only it writes. */
	atomic_ulong busy;
};

struct session_readers {
	struct transport_session *ts;
	pthread_mutex_t lock;
	pthread_cond_t promote; /* spares wait for the session */
	pthread_cond_t kick; /* the watchdog's sleep; stop */
	pthread_cond_t gone; /* a thread left */
	int stop_fd; /* readable once stopping */
	bool stopping;
	bool watchdog_alive;
	struct reader *holder; /* NULL while nobody holds the session */
	unsigned int threads, spares;
	unsigned long takeovers;
	/* Bumped when the holder loses the session. */
	atomic_ulong turn;
	atomic_bool watchdog_asleep;
};

static void *reader_main(void *arg);

/* Under the lock. */
static int spawn_reader(struct session_readers *sr)
{
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	if (sr->threads >= READERS_MAX)
		return -EAGAIN;
	err = pthread_attr_init(&attr);
	if (err)
		return -err;
	pthread_attr_setstacksize(&attr, READER_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, reader_main, sr);
	pthread_attr_destroy(&attr);
	if (err)
		return -err;
	sr->threads++;
	return 0;
}

/* Under the lock: nothing is read from now on. */
static void stop_locked(struct session_readers *sr)
{
	uint64_t one = 1;

	if (sr->stopping)
		return;
	sr->stopping = true;
	atomic_fetch_add(&sr->turn, 1);
	/* Wakes a reader in poll; the eventfd stays readable. */
	if (write(sr->stop_fd, &one, sizeof(one)) < 0)
		log_warnx("%s: cannot wake the reader: %s", sr->ts->name,
			  strerror(errno));
	pthread_cond_broadcast(&sr->promote);
	pthread_cond_broadcast(&sr->kick);
}

/* The kernel side is gone: nothing more can arrive, so end the loop. */
static void connection_lost(struct session_readers *sr, int err)
{
	struct transport_session *ts = sr->ts;

	pthread_mutex_lock(&sr->lock);
	if (!sr->stopping) {
		if (err < 0)
			log_warnx("%s: reading requests for %s failed: %s",
				  ts->name, ts->path, strerror(-err));
		else
			log_warnx(
				"%s: the kernel connection for %s is gone (unmounted or aborted)",
				ts->name, ts->path);
		stop_locked(sr);
	}
	pthread_mutex_unlock(&sr->lock);
	event_base_loopbreak(ts->base);
}

static void wake_watchdog(struct session_readers *sr)
{
	pthread_mutex_lock(&sr->lock);
	atomic_store(&sr->watchdog_asleep, false);
	pthread_cond_signal(&sr->kick);
	pthread_mutex_unlock(&sr->lock);
}

/*
 * Read and handle requests while @turn is the session's: until a takeover,
 * a stop or the end of the connection.
 */
static void read_requests(struct session_readers *sr, struct reader *me,
			  struct fuse_buf *buf, unsigned long turn)
{
	struct fuse_session *se = sr->ts->session;
	struct pollfd fds[2] = {
		{ .fd = fuse_session_fd(se), .events = POLLIN },
		{ .fd = sr->stop_fd, .events = POLLIN },
	};

	while (atomic_load(&sr->turn) == turn) {
		int n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			connection_lost(sr, -errno);
			return;
		}
		if (fds[1].revents)
			return;
		/*
		 * The fd is non-blocking: a request can vanish between poll
		 * and read (its caller was killed), and a spare may have read
		 * it first.
		 */
		n = fuse_session_receive_buf(se, buf);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		/* libfuse turns ENODEV (unmount, abort) into 0 + exited. */
		if (n <= 0 || fuse_session_exited(se)) {
			connection_lost(sr, n);
			return;
		}
		atomic_fetch_add(&me->busy, 1);
		if (atomic_load(&sr->watchdog_asleep))
			wake_watchdog(sr);
		fuse_session_process_buf(se, buf);
		transport_reply_deferred();
		atomic_fetch_add(&me->busy, 1);
		if (fuse_session_exited(se)) {
			connection_lost(sr, 0);
			return;
		}
	}
}

static void *reader_main(void *arg)
{
	struct session_readers *sr = arg;
	struct fuse_buf buf = { 0 };
	struct reader me = { 0 };

	pthread_mutex_lock(&sr->lock);
	while (!sr->stopping) {
		unsigned long turn;

		if (sr->holder) {
			if (sr->spares >= READER_SPARES)
				break;
			sr->spares++;
			pthread_cond_wait(&sr->promote, &sr->lock);
			sr->spares--;
			continue;
		}
		sr->holder = &me;
		turn = atomic_load(&sr->turn);
		pthread_mutex_unlock(&sr->lock);
		read_requests(sr, &me, &buf, turn);
		pthread_mutex_lock(&sr->lock);
		if (sr->holder == &me)
			sr->holder = NULL;
	}
	sr->threads--;
	pthread_cond_broadcast(&sr->gone);
	pthread_mutex_unlock(&sr->lock);
	free(buf.mem);
	return NULL;
}

/* Under the lock: the holder has been on one request too long. */
static void take_over(struct session_readers *sr)
{
	int err = 0;

	sr->holder = NULL;
	atomic_fetch_add(&sr->turn, 1);
	sr->takeovers++;
	if (sr->spares)
		pthread_cond_signal(&sr->promote);
	else
		err = spawn_reader(sr);
	if (err)
		/* The old reader takes the session back when it is done. */
		log_warnx(
			"%s: a request has held the session for %d ms and no thread can take over (%s)",
			sr->ts->name, READER_STALL_MS, strerror(-err));
	else
		log_debug(
			"%s: a request has held the session for %d ms; another thread reads on (takeover %lu)",
			sr->ts->name, READER_STALL_MS, sr->takeovers);
}

/* Under the lock: sleep one period, or less if stopping. */
static void sleep_one_period(struct session_readers *sr)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += READER_STALL_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!sr->stopping && pthread_cond_timedwait(&sr->kick, &sr->lock,
						       &until) != ETIMEDOUT)
		;
}

/* Under the lock: sleep until a reader starts on a request. */
static void sleep_until_busy(struct session_readers *sr, struct reader *holder,
			     unsigned long seen)
{
	atomic_store(&sr->watchdog_asleep, true);
	/* A request that began before the flag was up will not wake us. */
	if (sr->holder == holder && atomic_load(&holder->busy) == seen)
		while (atomic_load(&sr->watchdog_asleep) && !sr->stopping)
			pthread_cond_wait(&sr->kick, &sr->lock);
	atomic_store(&sr->watchdog_asleep, false);
}

static void *watchdog_main(void *arg)
{
	struct session_readers *sr = arg;
	struct reader *watched = NULL;
	unsigned long seen = 0;

	pthread_mutex_lock(&sr->lock);
	while (!sr->stopping) {
		struct reader *holder = sr->holder;
		unsigned long busy = holder ? atomic_load(&holder->busy) : 0;

		if (holder && holder == watched && busy == seen) {
			if (busy & 1)
				take_over(sr);
			else
				sleep_until_busy(sr, holder, busy);
			/* Look again a full period from now. */
			holder = sr->holder;
			busy = holder ? atomic_load(&holder->busy) : 0;
		}
		watched = holder;
		seen = busy;
		sleep_one_period(sr);
	}
	sr->watchdog_alive = false;
	pthread_cond_broadcast(&sr->gone);
	pthread_mutex_unlock(&sr->lock);
	return NULL;
}

static void readers_free(struct session_readers *sr)
{
	close(sr->stop_fd);
	pthread_cond_destroy(&sr->gone);
	pthread_cond_destroy(&sr->kick);
	pthread_cond_destroy(&sr->promote);
	pthread_mutex_destroy(&sr->lock);
	free(sr);
}

static int start_threads(struct session_readers *sr)
{
	pthread_t watchdog;
	int err;

	pthread_mutex_lock(&sr->lock);
	err = pthread_create(&watchdog, NULL, watchdog_main, sr);
	if (!err) {
		pthread_detach(watchdog);
		sr->watchdog_alive = true;
		err = -spawn_reader(sr);
	}
	/* The spare is a nicety: a takeover can start one later. */
	if (!err && spawn_reader(sr))
		log_warnx("%s: no spare reader thread", sr->ts->name);
	pthread_mutex_unlock(&sr->lock);
	return -err;
}

int session_readers_start(struct transport_session *ts)
{
	struct session_readers *sr = calloc(1, sizeof(*sr));
	int err;

	if (!sr)
		return -ENOMEM;
	sr->ts = ts;
	sr->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sr->stop_fd < 0) {
		err = -errno;
		free(sr);
		return err;
	}
	pthread_mutex_init(&sr->lock, NULL);
	pthread_cond_init(&sr->promote, NULL);
	pthread_cond_init(&sr->gone, NULL);
	{
		pthread_condattr_t attr;

		/* The watchdog's periods follow the monotonic clock. */
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&sr->kick, &attr);
		pthread_condattr_destroy(&attr);
	}
	ts->readers = sr;
	err = start_threads(sr);
	if (err) {
		log_err("%s: cannot start the reader threads: %s", ts->name,
			strerror(-err));
		session_readers_stop(ts, 1000);
	}
	return err;
}

bool session_readers_stop(struct transport_session *ts, unsigned int timeout_ms)
{
	struct session_readers *sr = ts->readers;
	struct timespec until;
	bool all_gone;

	if (!sr)
		return true;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sr->lock);
	stop_locked(sr);
	while ((sr->threads || sr->watchdog_alive) &&
	       pthread_cond_timedwait(&sr->gone, &sr->lock, &until) == 0)
		;
	all_gone = !sr->threads && !sr->watchdog_alive;
	if (!all_gone)
		log_warnx(
			"%s: %u reader threads are stuck in requests; leaving them",
			ts->name, sr->threads);
	pthread_mutex_unlock(&sr->lock);
	if (all_gone) {
		ts->readers = NULL;
		readers_free(sr);
	}
	return all_gone;
}
