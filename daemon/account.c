// SPDX-License-Identifier: MIT
/*
 * Mappers and charges (account.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "caller.h"
#include "fail_nth.h"
#include "log.h"
#include "util.h"

#define CAP_IPC_LOCK_BIT 14

/*
 * A mapper whose last mapping went is kept this long (and at most
 * IDLE_MAX of them), so that a process mapping and unmapping in turn does
 * not open a pidfd per MAP. Finding one again still needs its process
 * alive (its pidfd), so a recycled pid never finds it.
 */
#define IDLE_NS (2ULL * 1000000000ULL)
#define IDLE_MAX 64

struct charge_bucket {
	struct list_head item;
	enum pages_account mode;
	unsigned int key; /* uid or tgid */
	uint64_t pages;
	unsigned int mappers; /* mappers charging here */
};

struct mapper {
	struct list_head item; /* on mappers, while referenced or idle */
	atomic_uint refs;
	bool idle; /* under account_lock: no references, kept */
	uint64_t idle_since_ns;
	pid_t tgid;
	uid_t uid;
	int pidfd; /* the process, for liveness */
	enum pages_account mode;
	struct charge_bucket *bucket; /* NULL: privileged, never charged */
	uint64_t limit_pages; /* RLIMIT_MEMLOCK at the last map */
};

static pthread_mutex_t account_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head buckets = { &buckets, &buckets };
static struct list_head mappers = { &mappers, &mappers };
static unsigned int nr_idle_mappers;

static bool pidfd_alive(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	/* A pidfd polls readable once its process has exited. */
	return poll(&pfd, 1, 0) == 0;
}

bool mapper_alive(const struct mapper *m)
{
	return m && pidfd_alive(m->pidfd);
}

pid_t mapper_tgid(const struct mapper *m)
{
	return m->tgid;
}

uid_t mapper_uid(const struct mapper *m)
{
	return m->uid;
}

struct charge_bucket *mapper_bucket(const struct mapper *m)
{
	return m ? m->bucket : NULL;
}

/*
 * The soft RLIMIT_MEMLOCK of @tgid in pages. prlimit() needs
 * CAP_SYS_RESOURCE for another user's process; /proc/PID/limits says the
 * same to anyone who may read it. UINT64_MAX: unlimited or unknowable.
 */
static uint64_t memlock_limit_pages(const struct ucaller *caller, pid_t tgid)
{
	unsigned long long soft;
	struct rlimit lim;
	char line[256];
	uint64_t bytes = UINT64_MAX;
	FILE *f;
	int fd;

	if (prlimit(tgid, RLIMIT_MEMLOCK, NULL, &lim) == 0)
		return lim.rlim_cur == RLIM_INFINITY ?
			       UINT64_MAX :
			       (uint64_t)lim.rlim_cur / PAGE_SIZE;
	fd = caller_proc_open(caller, "limits", O_RDONLY);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		log_warnx("pid %d: cannot read RLIMIT_MEMLOCK; not enforced",
			  (int)tgid);
		return UINT64_MAX;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Max locked memory %llu", &soft) == 1)
			bytes = soft;
	fclose(f);
	return bytes == UINT64_MAX ? UINT64_MAX : bytes / PAGE_SIZE;
}

/* Under account_lock. */
static struct charge_bucket *bucket_get(enum pages_account mode,
					unsigned int key)
{
	struct charge_bucket *b;

	list_for_each_entry(b, &buckets, item) {
		if (b->mode == mode && b->key == key) {
			b->mappers++;
			return b;
		}
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->mode = mode;
	b->key = key;
	b->mappers = 1;
	list_add_tail(&b->item, &buckets);
	return b;
}

/* Under account_lock. A bucket outlives its mappers while it holds pages. */
static void bucket_put(struct charge_bucket *b)
{
	if (!b || --b->mappers || b->pages)
		return;
	list_del(&b->item);
	free(b);
}

bool caller_capable(const struct ucaller *caller, unsigned int cap)
{
	struct caller_status st;

	if (caller_read_status(caller, &st))
		return false;
	return st.in_daemon_userns && (st.cap_effective & (1ULL << cap));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Under account_lock: a live mapper of this process and mode. */
static struct mapper *mapper_find(pid_t tgid, enum pages_account mode,
				  bool privileged)
{
	struct mapper *m;

	list_for_each_entry(m, &mappers, item) {
		if (m->tgid == tgid && m->mode == mode &&
		    !m->bucket == privileged && pidfd_alive(m->pidfd)) {
			if (m->idle) {
				m->idle = false;
				nr_idle_mappers--;
			}
			atomic_fetch_add(&m->refs, 1);
			return m;
		}
	}
	return NULL;
}

/* Close and free a mapper nobody references or can find. */
static void mapper_free(struct mapper *m)
{
	close(m->pidfd);
	free(m);
}

/*
 * Under account_lock: move idle mappers that are too old or too many to
 * @dead, to be freed after the lock. (One whose process is gone is never
 * found again; it waits for its time like the others.)
 */
static void reap_idle_locked(struct list_head *dead)
{
	uint64_t now = now_ns();
	struct mapper *m, *next;

	list_for_each_entry_safe(m, next, &mappers, item) {
		if (!nr_idle_mappers)
			break;
		if (!m->idle || (nr_idle_mappers <= IDLE_MAX &&
				 now - m->idle_since_ns < IDLE_NS))
			continue;
		list_del(&m->item);
		m->idle = false;
		nr_idle_mappers--;
		bucket_put(m->bucket);
		list_add_tail(&m->item, dead);
	}
}

static void free_dead(struct list_head *dead)
{
	struct mapper *m, *next;

	list_for_each_entry_safe(m, next, dead, item)
		mapper_free(m);
}

void account_drop_idle(void)
{
	struct mapper *m, *next;
	struct list_head dead;

	list_init(&dead);
	pthread_mutex_lock(&account_lock);
	list_for_each_entry_safe(m, next, &mappers, item) {
		if (!m->idle)
			continue;
		list_del(&m->item);
		m->idle = false;
		nr_idle_mappers--;
		bucket_put(m->bucket);
		list_add_tail(&m->item, &dead);
	}
	pthread_mutex_unlock(&account_lock);
	free_dead(&dead);
}

static struct mapper *mapper_new(const struct caller_status *st,
				 enum pages_account mode, bool privileged,
				 int *err)
{
	struct mapper *m = calloc(1, sizeof(*m));

	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	/* The caller's thread is held in its request: the tgid is its own. */
	m->pidfd = syscall(SYS_pidfd_open, st->tgid, 0);
	if (m->pidfd < 0) {
		*err = -ESRCH;
		free(m);
		return NULL;
	}
	atomic_init(&m->refs, 1);
	m->tgid = st->tgid;
	m->uid = st->ruid;
	m->mode = mode;
	if (!privileged) {
		pthread_mutex_lock(&account_lock);
		m->bucket = bucket_get(mode, mode == PAGES_ACCOUNT_USER ?
						     (unsigned int)st->ruid :
						     (unsigned int)st->tgid);
		pthread_mutex_unlock(&account_lock);
		if (!m->bucket) {
			close(m->pidfd);
			free(m);
			*err = -ENOMEM;
			return NULL;
		}
	}
	return m;
}

/* Whether a mapper made for a caller is charged for what it pins. */
enum mapper_charging {
	CHARGE_AS_CAPABLE, /* unless the caller has CAP_IPC_LOCK now */
	CHARGE_ALWAYS,
	CHARGE_NEVER,
};

static struct mapper *mapper_for_caller(const struct ucaller *caller,
					enum pages_account mode,
					enum mapper_charging charging, int *err)
{
	struct caller_status st;
	struct mapper *m, *found;
	struct list_head dead;
	bool privileged;
	uint64_t limit;

	*err = caller_read_status(caller, &st);
	if (*err)
		return NULL;
	if (charging == CHARGE_AS_CAPABLE)
		privileged = st.in_daemon_userns &&
			     (st.cap_effective & (1ULL << CAP_IPC_LOCK_BIT));
	else
		privileged = charging == CHARGE_NEVER;
	limit = privileged ? UINT64_MAX : memlock_limit_pages(caller, st.tgid);

	pthread_mutex_lock(&account_lock);
	m = mapper_find(st.tgid, mode, privileged);
	if (m)
		m->limit_pages = limit;
	pthread_mutex_unlock(&account_lock);
	if (m)
		return m;

	m = mapper_new(&st, mode, privileged, err);
	if (!m)
		return NULL;
	m->limit_pages = limit;
	list_init(&dead);
	pthread_mutex_lock(&account_lock);
	/* Another thread of the process may have raced us here. */
	found = mapper_find(st.tgid, mode, privileged);
	if (found) {
		found->limit_pages = limit;
		bucket_put(m->bucket);
	} else {
		list_add_tail(&m->item, &mappers);
	}
	reap_idle_locked(&dead);
	pthread_mutex_unlock(&account_lock);
	free_dead(&dead);
	if (found) {
		mapper_free(m);
		return found;
	}
	return m;
}

struct mapper *mapper_of_caller(const struct ucaller *caller,
				enum pages_account mode, int *err)
{
	return mapper_for_caller(caller, mode, CHARGE_AS_CAPABLE, err);
}

struct mapper *mapper_of_caller_like(const struct ucaller *caller,
				     const struct mapper *old, int *err)
{
	if (!old)
		return mapper_for_caller(caller, PAGES_ACCOUNT_USER,
					 CHARGE_NEVER, err);
	return mapper_for_caller(caller, old->mode,
				 old->bucket ? CHARGE_ALWAYS : CHARGE_NEVER,
				 err);
}

bool mapper_same_kind(const struct mapper *a, const struct mapper *b)
{
	if (!a || !b)
		return !a == !b;
	return a->mode == b->mode && !a->bucket == !b->bucket;
}

struct mapper *mapper_get(struct mapper *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void mapper_put(struct mapper *m)
{
	struct list_head dead;

	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	list_init(&dead);
	pthread_mutex_lock(&account_lock);
	/* Unless it was found again meanwhile, it is kept idle. */
	if (!atomic_load(&m->refs) && !m->idle) {
		m->idle = true;
		m->idle_since_ns = now_ns();
		nr_idle_mappers++;
	}
	reap_idle_locked(&dead);
	pthread_mutex_unlock(&account_lock);
	free_dead(&dead);
}

int account_charge(struct mapper *m, uint64_t npages)
{
	struct charge_bucket *b = m ? m->bucket : NULL;
	int ret = 0;

	if (!b || !npages)
		return 0;
	if (fail_nth_hit("pin charge"))
		return -ENOMEM;
	pthread_mutex_lock(&account_lock);
	if (m->limit_pages != UINT64_MAX &&
	    (npages > m->limit_pages || b->pages > m->limit_pages - npages)) {
		ret = -ENOMEM;
	} else {
		b->pages += npages;
	}
	pthread_mutex_unlock(&account_lock);
	if (ret)
		log_info("pid %d: pinning %" PRIu64 " more pages exceeds its "
			 "RLIMIT_MEMLOCK (%" PRIu64 " pages already charged to "
			 "%s %u)",
			 (int)m->tgid, npages, b->pages,
			 b->mode == PAGES_ACCOUNT_USER ? "uid" : "pid", b->key);
	return ret;
}

void account_uncharge(struct mapper *m, uint64_t npages)
{
	struct charge_bucket *b = m ? m->bucket : NULL;

	if (!b || !npages)
		return;
	pthread_mutex_lock(&account_lock);
	if (b->pages < npages) {
		log_err("uncharging %" PRIu64
			" pages from %s %u, which has %" PRIu64,
			npages, b->mode == PAGES_ACCOUNT_USER ? "uid" : "pid",
			b->key, b->pages);
		npages = b->pages;
	}
	b->pages -= npages;
	pthread_mutex_unlock(&account_lock);
}

void account_for_each_charge(void (*fn)(void *arg, bool per_process,
					unsigned int key, uint64_t pages),
			     void *arg)
{
	struct charge_bucket *b;

	pthread_mutex_lock(&account_lock);
	list_for_each_entry(b, &buckets, item)
		if (b->pages)
			fn(arg, b->mode == PAGES_ACCOUNT_MM, b->key, b->pages);
	pthread_mutex_unlock(&account_lock);
}
