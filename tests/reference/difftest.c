// SPDX-License-Identifier: MIT
/*
 * difftest - run random iommufd ioctl sequences on two iommufd devices and
 * compare every answer.
 *
 * usage: difftest [OPTION]... PATH_A PATH_B
 *
 * PATH_A is the reference (the kernel's /dev/iommu), PATH_B the one under
 * test (iommufdd, e.g. /dev/iommu-d). Each sequence opens both afresh and
 * runs the same generated steps on both, with identical arguments and the
 * same user memory (output buffers are per side, equally initialised);
 * after every step the return value, errno, the argument struct and any
 * output buffer must be equal. The first difference ends the sequence: the
 * steps are minimized by deleting steps while the difference remains, then
 * printed (arguments in struct order) as TAP comments. One TAP test per
 * sequence; exit status 1 if any sequence diverged, 2 on usage or setup
 * errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "difftest.h"

struct dt_ctx {
	const char *path[2];
	struct dt_mem mem;
	uint64_t seed;
	unsigned int nseq, nsteps, first;
	double budget;
	bool verbose, include_known, no_minimize;
	uint64_t exclude;
	unsigned long steps_run, steps_ok, divergences;
};

/* --- user memory ------------------------------------------------------- */

#define MB (1UL << 20)

/*
 * One PROT_NONE reservation holds every region, each followed by a hole:
 * a length running past a region meets an unmapped page (EFAULT) on both
 * sides, never some unrelated mapping of ours.
 */
static int setup_memory(struct dt_mem *m)
{
	unsigned char *base;
	size_t i;
	int fd, side;

	base = mmap(NULL, 8 * MB, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fd = memfd_create("difftest", 0);
	if (base == MAP_FAILED || fd < 0 || ftruncate(fd, MB / 4))
		return -1;
	m->memfd_len = m->priv_len = MB / 4;
	m->ro_len = 16 * 1024;
	m->memfd = mmap(base, m->memfd_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	m->priv = mmap(base + MB / 2, m->priv_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	m->ro = mmap(base + MB, m->ro_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	m->in = mmap(base + 3 * MB, 64 * 1024, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (m->memfd == MAP_FAILED || m->priv == MAP_FAILED ||
	    m->ro == MAP_FAILED || m->in == MAP_FAILED)
		return -1;
	m->guard = base + 2 * MB;
	for (side = 0; side < 2; side++) {
		unsigned char *p =
			mmap(base + (4 + side) * MB, 4096 + DT_OBUF_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		m->side_arg[side] = p;
		m->side_obuf[side] = p + 4096;
	}
	/* Recognisable contents, and every page present. */
	for (i = 0; i < m->memfd_len; i++)
		m->memfd[i] = i * 7 + 1;
	for (i = 0; i < m->priv_len; i++)
		m->priv[i] = i * 13 + 5;
	memset(m->ro, 0x5a, m->ro_len);
	return mprotect(m->ro, m->ro_len, PROT_READ);
}

/* --- one step on both sides -------------------------------------------- */

static void run_side(struct dt_ctx *c, int side, int fd,
		     const struct dt_step *s, struct dt_result *r)
{
	const struct dt_op *op = dt_op(s->op);
	unsigned char *arg = c->mem.side_arg[side];
	long ret;

	memcpy(arg, s->arg, DT_ARG_MAX);
	if (s->buf_field >= 0) {
		const struct dt_field *f = &op->fields[s->buf_field];
		unsigned char *buf = c->mem.side_obuf[side];

		if (s->buf_dir == DT_BUF_IN) {
			buf = c->mem.in;
			memset(buf, 0, DT_IBUF_MAX);
			memcpy(buf, s->ibuf, DT_IBUF_MAX);
		} else {
			memset(buf, s->fill, DT_OBUF_SIZE);
		}
		dt_field_set(arg, f, (uintptr_t)buf);
	}
	errno = 0;
	if (op->argmode == DT_ARG_PTR)
		ret = ioctl(fd, op->req, arg);
	else if (op->argmode == DT_ARG_VAL)
		ret = ioctl(fd, op->req, s->byval);
	else
		ret = ioctl(fd, op->req);
	r->ret = ret;
	r->err = ret < 0 ? errno : 0;
}

/* Where A and B differ, in words, or "" when they agree. */
static void compare(struct dt_ctx *c, const struct dt_step *s,
		    struct dt_outcome *o)
{
	const struct dt_op *op = dt_op(s->op);
	unsigned char *a = o->arg[0], *b = o->arg[1];
	unsigned int i;
	size_t n;

	o->why[0] = 0;
	memcpy(a, c->mem.side_arg[0], DT_ARG_MAX);
	memcpy(b, c->mem.side_arg[1], DT_ARG_MAX);
	if (s->buf_field >= 0) {
		/* the per-side buffer addresses are not answers */
		dt_field_set(a, &op->fields[s->buf_field], 0);
		dt_field_set(b, &op->fields[s->buf_field], 0);
	}
	if (o->r[0].ret != o->r[1].ret || o->r[0].err != o->r[1].err) {
		snprintf(o->why, sizeof(o->why), "return value");
		return;
	}
	for (i = 0; i < op->nfields && op->argmode == DT_ARG_PTR; i++) {
		const struct dt_field *f = &op->fields[i];

		if (f->kind != DT_BYTES &&
		    dt_field_get(a, f) != dt_field_get(b, f)) {
			snprintf(o->why, sizeof(o->why), "output field %s",
				 f->name);
			return;
		}
	}
	n = op->argmode == DT_ARG_PTR ? s->arg_len : 0;
	for (i = 0; i < n; i++)
		if (a[i] != b[i]) {
			snprintf(o->why, sizeof(o->why),
				 "argument byte %u (0x%02x / 0x%02x)", i, a[i],
				 b[i]);
			return;
		}
	if (s->buf_field >= 0 && s->buf_dir == DT_BUF_OUT)
		for (n = 0; n < s->buf_len; n++)
			if (c->mem.side_obuf[0][n] != c->mem.side_obuf[1][n]) {
				snprintf(
					o->why, sizeof(o->why),
					"output buffer byte %zu (0x%02x / 0x%02x)",
					n, c->mem.side_obuf[0][n],
					c->mem.side_obuf[1][n]);
				return;
			}
}

static bool run_step(struct dt_ctx *c, const int fd[2], const struct dt_step *s,
		     struct dt_outcome *o)
{
	run_side(c, 0, fd[0], s, &o->r[0]);
	run_side(c, 1, fd[1], s, &o->r[1]);
	c->steps_run++;
	if (o->r[0].ret >= 0 && o->r[1].ret >= 0)
		c->steps_ok++;
	compare(c, s, o);
	return o->why[0] == 0;
}

static int open_both(struct dt_ctx *c, int fd[2])
{
	int side;

	for (side = 0; side < 2; side++) {
		fd[side] = open(c->path[side], O_RDWR | O_CLOEXEC);
		if (fd[side] < 0) {
			printf("Bail out! cannot open %s: %s\n", c->path[side],
			       strerror(errno));
			exit(2);
		}
	}
	return 0;
}

static void close_both(int fd[2])
{
	close(fd[0]);
	close(fd[1]);
}

/*
 * Replay steps on fresh file descriptors: the index of the first step
 * that diverges, or -1. With out, print every step as it runs.
 */
static int replay(struct dt_ctx *c, const struct dt_step *steps, unsigned int n,
		  FILE *out, struct dt_outcome *o)
{
	unsigned int i;
	int fd[2], at = -1;

	open_both(c, fd);
	for (i = 0; i < n; i++) {
		bool same = run_step(c, fd, &steps[i], o);

		if (out)
			dt_print_step(out, &c->mem, i + 1, &steps[i], o);
		if (!same) {
			at = i;
			break;
		}
	}
	close_both(fd);
	return at;
}

/*
 * Delete steps, latest first, while the rest still diverges somewhere;
 * cut what follows the new first divergence. A few passes at most.
 */
static unsigned int minimize(struct dt_ctx *c, struct dt_step *steps,
			     unsigned int n)
{
	struct dt_step *tmp = malloc(n * sizeof(*tmp));
	struct dt_outcome o;
	unsigned int pass, i;
	bool changed = true;
	int at;

	if (!tmp)
		return n;
	for (pass = 0; pass < 4 && changed; pass++) {
		changed = false;
		for (i = n - 1; i-- > 0;) {
			if (i >= n - 1)
				continue;
			memcpy(tmp, steps, i * sizeof(*tmp));
			memcpy(tmp + i, steps + i + 1,
			       (n - i - 1) * sizeof(*tmp));
			at = replay(c, tmp, n - 1, NULL, &o);
			if (at < 0)
				continue;
			n = at + 1;
			memcpy(steps, tmp, n * sizeof(*tmp));
			changed = true;
		}
	}
	free(tmp);
	return n;
}

/* --- sequences --------------------------------------------------------- */

static uint64_t sequence_seed(uint64_t seed, unsigned int index)
{
	struct dt_gen g = { .rng = seed ^ (0x51ed27a1ULL * (index + 1)) };

	return dt_rand(&g);
}

/* Generate and run one sequence: the diverging step's index, or -1. */
static int run_generated(struct dt_ctx *c, uint64_t seed, struct dt_step *steps,
			 struct dt_outcome *o)
{
	struct dt_gen g = { .rng = seed,
			    .mem = &c->mem,
			    .include_known = c->include_known,
			    .exclude = c->exclude };
	unsigned int i;
	int fd[2], at = -1;

	open_both(c, fd);
	for (i = 0; i < c->nsteps; i++) {
		dt_gen_step(&g, &steps[i]);
		if (c->verbose) {
			/* before it runs: a step that hangs is shown */
			dt_print_call(stdout, &c->mem, i + 1, &steps[i]);
			fflush(stdout);
		}
		if (!run_step(c, fd, &steps[i], o)) {
			at = i;
			break;
		}
		if (c->verbose)
			dt_print_answers(stdout, &c->mem, &steps[i], o);
		dt_learn(&g, &steps[i], o->arg[0], &o->r[0]);
	}
	close_both(fd);
	return at;
}

static void report(struct dt_ctx *c, unsigned int index, struct dt_step *steps,
		   unsigned int n)
{
	struct dt_outcome o;
	unsigned int m = n;
	int at;

	printf("not ok %u - sequence %u: %s diverged at step %u\n",
	       index - c->first + 1, index, dt_op(steps[n - 1].op)->name, n);
	printf("# replay: difftest --seed 0x%" PRIx64
	       " --first %u --sequences 1 --steps %u A B\n",
	       c->seed, index, c->nsteps);
	if (!c->no_minimize)
		m = minimize(c, steps, n);
	at = replay(c, steps, m, NULL, &o);
	if (at < 0) {
		printf("# not reproducible on fresh descriptors; as run:\n");
		m = n;
	} else {
		m = at + 1;
	}
	printf("# reproducer, %u of %u steps (arguments in struct order; "
	       "A = %s, B = %s):\n",
	       m, n, c->path[0], c->path[1]);
	replay(c, steps, m, stdout, &o);
	printf("# differs in: %s\n", o.why);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(struct dt_ctx *c)
{
	struct dt_step *steps = calloc(c->nsteps, sizeof(*steps));
	double start = now();
	struct dt_outcome o;
	unsigned int k, done = 0;
	int at;

	if (!steps) {
		printf("Bail out! out of memory\n");
		exit(2);
	}
	for (k = 0; k < c->nseq; k++) {
		unsigned int index = c->first + k;

		if (c->budget > 0 && now() - start > c->budget) {
			printf("# time budget of %.0f s reached\n", c->budget);
			break;
		}
		at = run_generated(c, sequence_seed(c->seed, index), steps, &o);
		done++;
		if (at < 0) {
			printf("ok %u - sequence %u: %u steps agree\n", k + 1,
			       index, c->nsteps);
		} else {
			c->divergences++;
			report(c, index, steps, at + 1);
		}
		if (done % 100 == 0)
			printf("# progress: %u sequences, %lu steps, %lu "
			       "divergences, %.1f s\n",
			       done, c->steps_run, c->divergences,
			       now() - start);
		fflush(stdout);
	}
	printf("1..%u\n", done);
	printf("# %u sequences, %lu steps (replays included; %lu succeeded on "
	       "both), %lu divergences, %.1f s\n",
	       done, c->steps_run, c->steps_ok, c->divergences, now() - start);
	free(steps);
}

/* --- options ----------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: difftest [OPTION]... PATH_A PATH_B\n"
		"  -s, --seed N          seed (default 1)\n"
		"  -n, --sequences N     sequences to run (default 100)\n"
		"  -k, --steps N         steps per sequence (default 40)\n"
		"  -f, --first N         index of the first sequence (default 0)\n"
		"  -t, --time-budget S   start no sequence after S seconds\n"
		"      --include-known   also generate the known differences\n"
		"  -x, --exclude OP      never generate OP (repeatable), e.g. to\n"
		"                        look past a known bug in it\n"
		"      --no-minimize     print diverging sequences as run\n"
		"  -v, --verbose         print every step\n");
	exit(2);
}

static void exclude_op(struct dt_ctx *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < dt_nops(); i++)
		if (!strcmp(dt_op(i)->name, name)) {
			c->exclude |= 1ULL << i;
			return;
		}
	fprintf(stderr, "difftest: no ioctl named %s\n", name);
	exit(2);
}

static void parse(struct dt_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "sequences", required_argument, NULL, 'n' },
		{ "steps", required_argument, NULL, 'k' },
		{ "first", required_argument, NULL, 'f' },
		{ "time-budget", required_argument, NULL, 't' },
		{ "include-known", no_argument, NULL, 'K' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "no-minimize", no_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	c->seed = 1;
	c->nseq = 100;
	c->nsteps = 40;
	while ((ch = getopt_long(argc, argv, "s:n:k:f:t:x:vh", opts, NULL)) !=
	       -1) {
		switch (ch) {
		case 's':
			c->seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			c->nseq = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			c->nsteps = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			c->first = strtoul(optarg, NULL, 0);
			break;
		case 't':
			c->budget = strtod(optarg, NULL);
			break;
		case 'K':
			c->include_known = true;
			break;
		case 'x':
			exclude_op(c, optarg);
			break;
		case 'M':
			c->no_minimize = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || c->nsteps == 0 ||
	    c->exclude == (1ULL << dt_nops()) - 1)
		usage();
	c->path[0] = argv[optind];
	c->path[1] = argv[optind + 1];
}

int main(int argc, char **argv)
{
	struct dt_ctx c = { 0 };
	unsigned int i;

	parse(&c, argc, argv);
	if (setup_memory(&c.mem)) {
		printf("Bail out! cannot set up memory: %s\n", strerror(errno));
		return 2;
	}
	printf("# difftest: A = %s, B = %s, seed 0x%" PRIx64
	       ", %u sequences of %u steps from %u\n",
	       c.path[0], c.path[1], c.seed, c.nseq, c.nsteps, c.first);
	for (i = 0; i < dt_nops(); i++)
		if (c.exclude >> i & 1)
			printf("# excluded: %s (--exclude)\n", dt_op(i)->name);
	for (i = 0; i < dt_nknown; i++)
		printf("# known difference, %s: %s %s: %s\n",
		       c.include_known ? "generated" : "not generated",
		       dt_known[i].op, dt_known[i].what, dt_known[i].reason);
	run(&c);
	return c.divergences ? 1 : 0;
}
