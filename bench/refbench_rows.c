// SPDX-License-Identifier: MIT
/*
 * The rows of refbench: each sets up what it needs on a fresh open of the
 * device, times the operation a number of times and leaves nothing behind,
 * so that a row that fails (the daemon's 65k-mapping wall, say) does not
 * change what the next row measures.
 *
 * Mappings are of a shared memfd (what a VMM maps: guest RAM) at fixed
 * IOVAs inside the mock domain's aperture, readable and writable. With a
 * domain attached, both the kernel and iommufdd pin the pages at MAP time;
 * without one, both only record the area.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "refbench.h"

#define PAGE 4096ULL
/* The small mappings cycle over this many pages of one memfd. */
#define POOL_PAGES 64
#define APERTURE_PAGES \
	(((uint64_t)MOCK_APERTURE_LAST + 1 - MOCK_APERTURE_START) / PAGE)
#define MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

__attribute__((format(printf, 2, 3))) static bool
failf(struct bench_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	res->ok = false;
	return false;
}

static const char *err_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "unknown errno";
}

/* A shared memfd of len bytes, mapped and written, so pages exist. */
static uint8_t *memfd_buffer(uint64_t len, struct bench_result *res)
{
	int fd = memfd_create("refbench", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		failf(res, "memfd of %llu bytes: %s", (unsigned long long)len,
		      strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		failf(res, "mmap of the memfd: %s", strerror(errno));
		return NULL;
	}
	memset(p, 0x5a, len);
	return p;
}

/* The pool the 4 KiB rows map from, made once per process. */
static uint8_t *pool(struct bench_result *res)
{
	static uint8_t *p;

	if (!p)
		p = memfd_buffer(POOL_PAGES * PAGE, res);
	return p;
}

/*
 * The big buffer, made once for the MAP and the UNMAP rows: writing a few
 * hundred MiB costs seconds under TCG.
 */
static uint8_t *big_buffer(uint64_t len, struct bench_result *res)
{
	static uint8_t *p;
	static uint64_t have;

	if (p && have != len) {
		munmap(p, have);
		p = NULL;
	}
	if (!p) {
		p = memfd_buffer(len, res);
		have = len;
	}
	return p;
}

/* An open device with one IOAS and, if asked, a mock domain on it. */
struct session {
	int fd;
	uint32_t ioas;
};

static bool session_open(struct session *s, const char *path, bool domain,
			 struct bench_result *res)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd mock = {
		.size = sizeof(mock),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};

	s->fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return failf(res, "open %s: %s", path, err_name(errno));
	if (ioctl(s->fd, IOMMU_IOAS_ALLOC, &alloc)) {
		failf(res, "IOAS_ALLOC: %s", err_name(errno));
		close(s->fd);
		return false;
	}
	s->ioas = alloc.out_ioas_id;
	mock.id = s->ioas;
	if (domain && ioctl(s->fd, IOMMU_TEST_CMD, &mock)) {
		failf(res, "TEST_CMD MOCK_DOMAIN: %s", err_name(errno));
		close(s->fd);
		return false;
	}
	return true;
}

static int map_at(const struct session *s, const void *va, uint64_t len,
		  uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = s->ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(s->fd, IOMMU_IOAS_MAP, &cmd) ? -errno : 0;
}

static int unmap_at(const struct session *s, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = s->ioas,
		.iova = iova,
		.length = len,
	};

	return ioctl(s->fd, IOMMU_IOAS_UNMAP, &cmd) ? -errno : 0;
}

/* The i-th page of the aperture, and the pool page it maps. */
static uint64_t nth_iova(uint64_t i)
{
	return MOCK_APERTURE_START + i * PAGE;
}

static const uint8_t *nth_va(const uint8_t *p, uint64_t i)
{
	return p + (i % POOL_PAGES) * PAGE;
}

/*
 * Where growing a file's mappings failed on a device: every row grows them
 * the same way (same memory, same IOVAs, one file), so a later row that
 * needs at least as many is told the cause instead of paying for the same
 * failure again (under TCG, tens of thousands of slow MAPs), unless
 * conf->retry.
 */
struct wall {
	bool hit;
	uint64_t at; /* the mapping that failed, counted from 1 */
	char why[200];
};

static struct wall walls[BENCH_MAX_DEVS];

/* Whether want mappings on dev are known to fail; res says why. */
static bool walled(const struct bench_conf *conf, unsigned int dev,
		   uint64_t want, struct bench_result *res)
{
	const struct wall *w = &walls[dev];

	if (!w->hit || want < w->at || conf->retry)
		return false;
	failf(res, "%s (in an earlier row; not retried)", w->why);
	return true;
}

/*
 * Grow s from *live to want live 4 KiB mappings (pages 0 .. want-1) on
 * device dev.
 */
static bool populate(const struct bench_conf *conf, unsigned int dev,
		     const struct session *s, const uint8_t *p, uint64_t *live,
		     uint64_t want, struct bench_result *res)
{
	struct wall *w = &walls[dev];
	int ret;

	if (want >= APERTURE_PAGES)
		return failf(
			res,
			"%llu mappings and a probe do not fit the mock aperture (%llu pages)",
			(unsigned long long)want,
			(unsigned long long)APERTURE_PAGES);
	if (walled(conf, dev, want, res))
		return false;
	for (; *live < want; (*live)++) {
		ret = map_at(s, nth_va(p, *live), PAGE, nth_iova(*live));
		if (!ret)
			continue;
		failf(res, "IOAS_MAP of live mapping #%llu: %s",
		      (unsigned long long)*live + 1, err_name(-ret));
		w->hit = true;
		w->at = *live + 1;
		snprintf(w->why, sizeof(w->why), "%s", res->why);
		return false;
	}
	return true;
}

static unsigned int nsamples(const struct bench_conf *conf,
			     const struct bench_row *row)
{
	double n = row->samples * conf->scale;

	return n < 1 ? 1 : (unsigned int)n;
}

/* Room for the samples; fails the row when there is none. */
static uint64_t *sample_buf(unsigned int n, struct bench_result *res)
{
	uint64_t *t = calloc(n, sizeof(*t));

	if (!t)
		failf(res, "out of memory for %u samples", n);
	return t;
}

/* ---- the rows ---------------------------------------------------------- */

/* One byte to a child and back: the floor of any request and reply. */
static void row_pipe(const struct bench_conf *conf, const struct bench_row *row,
		     unsigned int dev, const char *path,
		     struct bench_result *res)
{
	unsigned int n = nsamples(conf, row), i;
	int to[2], from[2];
	uint64_t *t, t0;
	pid_t pid;
	char c = 0;

	(void)dev;
	(void)path;
	t = sample_buf(n, res);
	if (!t)
		return;
	if (pipe(to) || pipe(from)) {
		failf(res, "pipe: %s", strerror(errno));
		free(t);
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* only the parent's write end may keep the pipe open */
		close(to[1]);
		close(from[0]);
		while (read(to[0], &c, 1) == 1)
			if (write(from[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	for (i = 0; pid > 0 && i < n; i++) {
		t0 = bench_now();
		if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1) {
			failf(res, "pipe round trip: %s", strerror(errno));
			break;
		}
		t[i] = bench_now() - t0;
	}
	if (pid < 0)
		failf(res, "fork: %s", strerror(errno));
	close(to[1]);
	close(from[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (res->ok)
		bench_summarize(t, n, 1, res);
	free(t);
}

/* IOMMU_OPTION get: the cheapest ioctl that reaches iommufd's dispatch. */
static void row_null(const struct bench_conf *conf, const struct bench_row *row,
		     unsigned int dev, const char *path,
		     struct bench_result *res)
{
	struct iommu_option opt = {
		.size = sizeof(opt),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};
	unsigned int n = nsamples(conf, row), i, j,
		     per = (unsigned int)row->arg;
	struct session s;
	uint64_t *t, t0;

	(void)dev;
	if (!session_open(&s, path, false, res))
		return;
	t = sample_buf(n, res);
	for (i = 0; t && i < n && res->ok; i++) {
		t0 = bench_now();
		for (j = 0; j < per; j++)
			if (ioctl(s.fd, IOMMU_OPTION, &opt))
				failf(res, "OPTION get: %s", err_name(errno));
		t[i] = bench_now() - t0;
	}
	if (t && res->ok)
		bench_summarize(t, n, per, res);
	free(t);
	close(s.fd);
}

static void row_ioas(const struct bench_conf *conf, const struct bench_row *row,
		     unsigned int dev, const char *path,
		     struct bench_result *res)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	unsigned int n = nsamples(conf, row), i;
	struct session s;
	uint64_t *t, t0;

	(void)dev;
	if (!session_open(&s, path, false, res))
		return;
	t = sample_buf(n, res);
	for (i = 0; t && i < n; i++) {
		t0 = bench_now();
		if (ioctl(s.fd, IOMMU_IOAS_ALLOC, &alloc)) {
			failf(res, "IOAS_ALLOC: %s", err_name(errno));
			break;
		}
		destroy.id = alloc.out_ioas_id;
		if (ioctl(s.fd, IOMMU_DESTROY, &destroy)) {
			failf(res, "DESTROY: %s", err_name(errno));
			break;
		}
		t[i] = bench_now() - t0;
	}
	if (t && res->ok)
		bench_summarize(t, n, 1, res);
	free(t);
	close(s.fd);
}

/*
 * MAP and UNMAP of len bytes at the start of the aperture; arg selects
 * the domain and what is timed. The buffer is the 4 KiB pool or, for
 * bigger lengths, a memfd of its own.
 */
enum { TIME_BOTH = 0, TIME_MAP = 1, TIME_UNMAP = 2, NO_DOMAIN = 4 };

static void time_map(const struct bench_conf *conf, const struct bench_row *row,
		     const char *path, uint64_t len, struct bench_result *res)
{
	unsigned int n = nsamples(conf, row), i, what = row->arg & 3;
	const uint8_t *buf = len <= PAGE ? pool(res) : big_buffer(len, res);
	struct session s;
	uint64_t *t, t0, t1, t2;
	int ret = 0;

	if (!buf || !session_open(&s, path, !(row->arg & NO_DOMAIN), res))
		return;
	t = sample_buf(n, res);
	for (i = 0; t && i < n; i++) {
		t0 = bench_now();
		ret = map_at(&s, buf, len, MOCK_APERTURE_START);
		t1 = bench_now();
		if (ret) {
			failf(res, "IOAS_MAP of %llu bytes: %s",
			      (unsigned long long)len, err_name(-ret));
			break;
		}
		ret = unmap_at(&s, MOCK_APERTURE_START, len);
		t2 = bench_now();
		if (ret) {
			failf(res, "IOAS_UNMAP: %s", err_name(-ret));
			break;
		}
		t[i] = what == TIME_MAP	  ? t1 - t0 :
		       what == TIME_UNMAP ? t2 - t1 :
					    t2 - t0;
	}
	if (t && res->ok)
		bench_summarize(t, n, 1, res);
	free(t);
	close(s.fd);
}

static void row_map4k(const struct bench_conf *conf,
		      const struct bench_row *row, unsigned int dev,
		      const char *path, struct bench_result *res)
{
	(void)dev;
	time_map(conf, row, path, PAGE, res);
}

static void row_map_big(const struct bench_conf *conf,
			const struct bench_row *row, unsigned int dev,
			const char *path, struct bench_result *res)
{
	(void)dev;
	time_map(conf, row, path, conf->big_len, res);
}

/*
 * map+unmap of one more 4 KiB page next to row->arg live ones, with a
 * domain. The levels grow one IOAS per device: each row adds mappings to
 * what the previous level left, and the last level closes it. A device
 * that failed to reach a level fails the higher ones with the same cause.
 */
struct scale_state {
	struct session s;
	bool open, failed;
	uint64_t live;
	char why[200];
};

static struct scale_state ladders[BENCH_MAX_DEVS];

static void row_scale(const struct bench_conf *conf,
		      const struct bench_row *row, unsigned int dev,
		      const char *path, struct bench_result *res)
{
	unsigned int n = nsamples(conf, row), i;
	struct scale_state *st = dev < BENCH_MAX_DEVS ? &ladders[dev] : NULL;
	const uint8_t *p = pool(res);
	uint64_t *t = NULL, t0, probe;
	int ret;

	if (!st) {
		failf(res, "too many devices");
		return;
	}
	if (!p) /* pool() said why */
		return;
	if (st->failed) {
		failf(res, "%s", st->why);
		goto out;
	}
	if (!st->open && !session_open(&st->s, path, true, res))
		goto fail;
	st->open = true;
	if (!populate(conf, dev, &st->s, p, &st->live, row->arg, res))
		goto fail;
	probe = st->live;
	t = sample_buf(n, res);
	for (i = 0; t && i < n; i++) {
		t0 = bench_now();
		ret = map_at(&st->s, nth_va(p, probe), PAGE, nth_iova(probe));
		if (!ret)
			ret = unmap_at(&st->s, nth_iova(probe), PAGE);
		t[i] = bench_now() - t0;
		if (ret) {
			failf(res, "map+unmap next to %llu live mappings: %s",
			      (unsigned long long)st->live, err_name(-ret));
			goto fail;
		}
	}
	if (t)
		bench_summarize(t, n, 1, res);
	goto out;
fail:
	/* Give everything back now: the other rows must not pay for it. */
	st->failed = true;
	snprintf(st->why, sizeof(st->why), "%s", res->why);
out:
	free(t);
	/*
	 * After the last level the file goes, unless it holds just what the
	 * close() row wants: growing that many again costs minutes in TCG.
	 */
	if (st->open &&
	    (st->failed || (row->arg == conf->levels[conf->nlevels - 1] &&
			    st->live != conf->close_maps))) {
		close(st->s.fd);
		st->open = false;
	}
}

/*
 * close() of a file holding row->arg live 4 KiB mappings with a domain:
 * the scale rows' file when it holds just as many (one sample), else
 * files grown for the purpose.
 */
static void row_close(const struct bench_conf *conf,
		      const struct bench_row *row, unsigned int dev,
		      const char *path, struct bench_result *res)
{
	struct scale_state *ladder = dev < BENCH_MAX_DEVS ? &ladders[dev] :
							    NULL;
	unsigned int n = nsamples(conf, row), i;
	const uint8_t *p = pool(res);
	struct session s;
	uint64_t *t, t0, live;

	if (ladder && ladder->open && ladder->live == row->arg) {
		uint64_t one;

		ladder->open = false;
		t0 = bench_now();
		if (close(ladder->s.fd)) {
			failf(res, "close: %s", err_name(errno));
			return;
		}
		one = bench_now() - t0;
		bench_summarize(&one, 1, 1, res);
		return;
	}
	t = p && !walled(conf, dev, row->arg, res) ? sample_buf(n, res) : NULL;
	for (i = 0; t && i < n; i++) {
		live = 0;
		if (!session_open(&s, path, true, res))
			break;
		if (!populate(conf, dev, &s, p, &live, row->arg, res)) {
			close(s.fd);
			break;
		}
		t0 = bench_now();
		if (close(s.fd)) {
			failf(res, "close: %s", err_name(errno));
			break;
		}
		t[i] = bench_now() - t0;
	}
	if (t && res->ok)
		bench_summarize(t, n, 1, res);
	free(t);
}

/*
 * Maps row->arg consecutive pages in one IOMMUFDD_IOAS_BATCH; -ENOTTY where
 * the device has none (the kernel). ops[] is the caller's scratch space.
 */
static int batch_map(const struct session *s, uint64_t count, const uint8_t *p,
		     struct iommufdd_ioas_batch_op *ops)
{
	struct iommufdd_ioas_batch batch = {
		.size = sizeof(batch),
		.ioas_id = s->ioas,
		.num_ops = (uint32_t)count,
		.ops_uptr = (uintptr_t)ops,
	};
	uint64_t j;

	for (j = 0; j < count; j++)
		ops[j] = (struct iommufdd_ioas_batch_op){
			.op = IOMMUFDD_BATCH_MAP,
			.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
			.user_va = (uintptr_t)nth_va(p, j),
			.length = PAGE,
			.iova = nth_iova(j),
		};
	if (ioctl(s->fd, IOMMUFDD_IOAS_BATCH, &batch))
		return -errno;
	for (j = 0; j < count; j++)
		if (ops[j].out_result)
			return ops[j].out_result;
	return 0;
}

/* row->arg consecutive pages mapped one IOMMU_IOAS_MAP at a time. */
static int single_maps(const struct session *s, uint64_t count,
		       const uint8_t *p)
{
	uint64_t j;
	int ret = 0;

	for (j = 0; j < count && !ret; j++)
		ret = map_at(s, nth_va(p, j), PAGE, nth_iova(j));
	return ret;
}

/*
 * row->arg consecutive 4 KiB maps, timed together, per map; one unmap. A
 * device with IOMMUFDD_IOAS_BATCH gets them in one call, which is what a
 * VMM on iommufdd would do; the kernel, which has no batch, gets single
 * MAPs. The ops array is filled inside the timed region on both paths, as
 * a caller would.
 */
static void row_batch(const struct bench_conf *conf,
		      const struct bench_row *row, unsigned int dev,
		      const char *path, struct bench_result *res)
{
	unsigned int n = nsamples(conf, row), i;
	const uint8_t *p = pool(res);
	struct iommufdd_ioas_batch_op *ops;
	uint64_t *t = NULL, t0;
	bool batched = true;
	struct session s;
	int ret = 0;

	(void)dev;
	ops = calloc(row->arg, sizeof(*ops));
	if (!ops) {
		failf(res, "out of memory");
		return;
	}
	if (!p || !session_open(&s, path, true, res)) {
		free(ops);
		return;
	}
	t = sample_buf(n, res);
	for (i = 0; t && i < n && !ret; i++) {
		t0 = bench_now();
		ret = batched ? batch_map(&s, row->arg, p, ops) :
				single_maps(&s, row->arg, p);
		if (ret == -ENOTTY && batched && i == 0) {
			batched = false; /* no batch here: the kernel */
			t0 = bench_now();
			ret = single_maps(&s, row->arg, p);
		}
		t[i] = bench_now() - t0;
		if (ret)
			failf(res, "%s of a batch: %s",
			      batched ? "IOMMUFDD_IOAS_BATCH" : "IOAS_MAP",
			      err_name(-ret));
		else if ((ret = unmap_at(&s, nth_iova(0), row->arg * PAGE)))
			failf(res, "IOAS_UNMAP of a batch: %s", err_name(-ret));
	}
	if (t && res->ok)
		bench_summarize(t, n, (unsigned int)row->arg, res);
	free(t);
	free(ops);
	close(s.fd);
}

/* ---- the table ---------------------------------------------------------- */

static unsigned int add(struct bench_row *rows, unsigned int k,
			unsigned int max, const struct bench_row *r)
{
	if (k < max)
		rows[k] = *r;
	return k + 1;
}

static const char *count_str(uint64_t v, char *buf, size_t len)
{
	if (v >= 1000000 && v % 1000000 == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v / 1000000));
	else if (v >= 1000 && v % 1000 == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(v / 1000));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

unsigned int bench_rows(const struct bench_conf *conf, struct bench_row *rows,
			unsigned int max)
{
	static const struct bench_row fixed[] = {
		{ "pipe", "pipe round trip (IPC floor)", row_pipe, 2000, 0,
		  true },
		{ "null", "OPTION get (null ioctl)", row_null, 1000, 8, false },
		{ "ioas", "IOAS_ALLOC + DESTROY", row_ioas, 1000, 0, false },
		{ "map4k-nodom", "MAP + UNMAP 4 KiB, no domain", row_map4k,
		  1000, TIME_BOTH | NO_DOMAIN, false },
		{ "map4k", "MAP + UNMAP 4 KiB, mock domain", row_map4k, 500,
		  TIME_BOTH, false },
		{ "map4k-map", "MAP 4 KiB alone, mock domain", row_map4k, 500,
		  TIME_MAP, false },
		{ "map4k-unmap", "UNMAP 4 KiB alone, mock domain", row_map4k,
		  500, TIME_UNMAP, false },
	};
	char a[32], b[32];
	struct bench_row r;
	unsigned int k = 0, i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		k = add(rows, k, max, &fixed[i]);

	r = (struct bench_row){ "big-map", "", row_map_big, 5, TIME_MAP };
	snprintf(r.label, sizeof(r.label), "MAP %llu MiB memfd, mock domain",
		 (unsigned long long)(conf->big_len >> 20));
	k = add(rows, k, max, &r);
	r = (struct bench_row){ "big-unmap", "", row_map_big, 5, TIME_UNMAP };
	snprintf(r.label, sizeof(r.label), "UNMAP %llu MiB, mock domain",
		 (unsigned long long)(conf->big_len >> 20));
	k = add(rows, k, max, &r);

	for (i = 0; i < conf->nlevels; i++) {
		r = (struct bench_row){ "", "", row_scale, 200,
					conf->levels[i] };
		r.id = "scale";
		snprintf(r.label, sizeof(r.label),
			 "map+unmap 4 KiB at %s live mapping%s, mock domain",
			 count_str(conf->levels[i], a, sizeof(a)),
			 conf->levels[i] == 1 ? "" : "s");
		k = add(rows, k, max, &r);
	}

	r = (struct bench_row){ "close", "", row_close, 1, conf->close_maps };
	snprintf(r.label, sizeof(r.label),
		 "close() with %s mappings, mock domain",
		 count_str(conf->close_maps, a, sizeof(a)));
	k = add(rows, k, max, &r);

	r = (struct bench_row){ "batch", "", row_batch, 100, conf->batch };
	snprintf(
		r.label, sizeof(r.label),
		"%s 4 KiB maps, one IOMMUFDD_IOAS_BATCH (kernel: single MAPs), per map",
		count_str(conf->batch, b, sizeof(b)));
	k = add(rows, k, max, &r);
	return k;
}
