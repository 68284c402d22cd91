// SPDX-License-Identifier: MIT
/*
 * refbench: iommufd operations timed side by side on several /dev/iommu's
 * in one run, e.g. the kernel's and iommufdd's in the reference guest
 * (tests/reference). Each row runs on every device in turn before the next
 * row starts, and prints per operation the median and the spread (p10 and
 * p90) on each device and the ratio of each device's median to the first
 * one's. A row that fails on a device says so in its cell, with the cause,
 * and the run goes on.
 *
 * usage: refbench [OPTION]... DEVICE [DEVICE]...
 *
 *   -n, --names A,B,...   column titles (default: the device paths)
 *   -s, --scale F         multiply every sample count by F (default 1)
 *   -l, --levels N,...    live mappings of the scale rows (default
 *                         1,1000,100000; 500000 fits the mock aperture too)
 *   -c, --close-maps N    live mappings of the close() row (default 100000)
 *   -m, --big-mib N       size of the big memfd map (default 256)
 *   -b, --batch N         maps per sample of the batched row (default 64)
 *   -r, --rows ID,...     only these rows (pipe null ioas map4k-nodom map4k
 *                         map4k-map map4k-unmap big-map big-unmap scale close
 *                         batch)
 *   -t, --tsv FILE        also write every cell as a tab-separated line
 *   -R, --retry           grow mappings again in rows where an earlier row
 *                         failed to reach as many on that device (by default
 *                         such a row reports the earlier failure)
 *   -v, --verbose         say on stderr how long each row took
 *
 * The scale rows grow one file per device level by level, and the close()
 * row closes that file when it holds as many mappings as the row asks for
 * (one sample, printed as such, with no spread; otherwise it grows files
 * of its own): under TCG, growing iommufdd to 100k mappings costs tens of
 * seconds of guest time, minutes of wall clock.
 *
 * close() is timed until it returns: the kernel tears the context down
 * before that, and so does iommufdd over CUSE (the release waits for the
 * daemon's reply); over FUSE the kernel sends the release in the
 * background, so there the row measures only the call.
 *
 * The 6.12 mock domain's aperture is [16 MiB, 2 GiB): with a domain at
 * most 520,191 4 KiB mappings fit next to the probe, so a level beyond
 * that is reported as not fitting rather than measured. Runs as root
 * (RLIMIT_MEMLOCK is lifted when allowed, as a VMM would have it).
 *
 * Exit status: 0 when the table was printed (failed cells included), 2 on
 * usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "refbench.h"

#define MAX_DEVS BENCH_MAX_DEVS
#define MAX_ROWS 32
#define MAX_LEVELS 8

uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentiles; the median of an even count is the mean of two. */
void bench_summarize(uint64_t *t, unsigned int n, unsigned int div,
		     struct bench_result *res)
{
	double d = div ? div : 1;

	qsort(t, n, sizeof(*t), cmp_u64);
	res->n = n;
	res->median_ns =
		(n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2.0) / d;
	res->p10_ns = t[(n - 1) / 10] / d;
	res->p90_ns = t[(n - 1) * 9 / 10] / d;
}

/* ns as three significant digits in a readable unit */
static const char *dur(double ns, char *buf, size_t len)
{
	if (ns < 1e6)
		snprintf(buf, len, "%.3g us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.3g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3g s", ns / 1e9);
	return buf;
}

static void cell(const struct bench_result *r, char *buf, size_t len)
{
	char m[32], lo[32], hi[32];

	if (!r->measured)
		snprintf(buf, len, "-");
	else if (!r->ok)
		snprintf(buf, len, "FAILED: %s", r->why);
	else if (r->n == 1) /* no spread to show: say so */
		snprintf(buf, len, "%s (one sample)", dur(r->median_ns, m, 32));
	else
		snprintf(buf, len, "%s (%s - %s)", dur(r->median_ns, m, 32),
			 dur(r->p10_ns, lo, 32), dur(r->p90_ns, hi, 32));
}

static bool parse_list(const char *arg, uint64_t *v, unsigned int max,
		       unsigned int *n)
{
	char *copy = strdup(arg), *tok, *save = NULL, *end;

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		errno = 0;
		if (*n == max || !*tok)
			break;
		v[*n] = strtoull(tok, &end, 10);
		if (errno || *end || !v[*n] || (*n && v[*n] <= v[*n - 1]))
			break;
		(*n)++;
	}
	free(copy);
	/* every item parsed, in increasing order */
	return *n && !tok;
}

static bool wanted(const char *rows, const char *id)
{
	size_t n = strlen(id);
	const char *p;

	if (!rows)
		return true;
	for (p = rows; (p = strstr(p, id)); p += n)
		if ((p == rows || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: refbench [-n NAMES] [-s SCALE] [-l LEVELS] [-c CLOSE_MAPS]\n"
		"                [-m BIG_MIB] [-b BATCH] [-r ROWS] [-t TSV] [-R] [-v]\n"
		"                DEVICE [DEVICE]...\n");
}

struct opts {
	struct bench_conf conf;
	uint64_t levels[MAX_LEVELS];
	const char *names[MAX_DEVS], *devs[MAX_DEVS], *rows, *tsv;
	unsigned int ndevs;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "names", required_argument, NULL, 'n' },
		{ "scale", required_argument, NULL, 's' },
		{ "levels", required_argument, NULL, 'l' },
		{ "close-maps", required_argument, NULL, 'c' },
		{ "big-mib", required_argument, NULL, 'm' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rows", required_argument, NULL, 'r' },
		{ "tsv", required_argument, NULL, 't' },
		{ "retry", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v[MAX_DEVS];
	unsigned int n, i;
	char *names = NULL, *tok, *save = NULL;
	int c;

	o->conf = (struct bench_conf){ .scale = 1,
				       .close_maps = 100000,
				       .big_len = 256ULL << 20,
				       .batch = 64,
				       .levels = o->levels };
	parse_list("1,1000,100000", o->levels, MAX_LEVELS, &o->conf.nlevels);
	while ((c = getopt_long(argc, argv, "n:s:l:c:m:b:r:t:Rvh", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			names = optarg;
			break;
		case 's':
			o->conf.scale = strtod(optarg, NULL);
			if (!(o->conf.scale > 0))
				return 2;
			break;
		case 'l':
			if (!parse_list(optarg, o->levels, MAX_LEVELS,
					&o->conf.nlevels))
				return 2;
			break;
		case 'c':
		case 'm':
		case 'b':
			if (!parse_list(optarg, v, 1, &n))
				return 2;
			if (c == 'c')
				o->conf.close_maps = v[0];
			else if (c == 'm')
				o->conf.big_len = v[0] << 20;
			else if (v[0] <= 4096)
				o->conf.batch = (unsigned int)v[0];
			else
				return 2;
			break;
		case 'r':
			o->rows = optarg;
			break;
		case 't':
			o->tsv = optarg;
			break;
		case 'R':
			o->conf.retry = true;
			break;
		case 'v':
			o->conf.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return 2;
		}
	}
	if (optind == argc || argc - optind > MAX_DEVS)
		return 2;
	for (i = 0; optind < argc; i++)
		o->devs[o->ndevs++] = o->names[i] = argv[optind++];
	for (i = 0, tok = names ? strtok_r(names, ",", &save) : NULL;
	     tok && i < o->ndevs; i++, tok = strtok_r(NULL, ",", &save))
		o->names[i] = tok;
	return 0;
}

static void print_header(const struct opts *o)
{
	unsigned int i;

	printf("| operation |");
	for (i = 0; i < o->ndevs; i++)
		printf(" %s median (p10 - p90) |", o->names[i]);
	for (i = 1; i < o->ndevs; i++)
		printf(" %s / %s |", o->names[i], o->names[0]);
	printf("\n|---|");
	for (i = 0; i < 2 * o->ndevs - 1; i++)
		printf("---|");
	printf("\n");
}

static void print_row(const struct opts *o, const struct bench_row *row,
		      const struct bench_result *res, FILE *tsv)
{
	const struct bench_result *base = &res[0];
	char buf[320];
	unsigned int i;

	printf("| %s |", row->label);
	for (i = 0; i < o->ndevs; i++) {
		cell(&res[i], buf, sizeof(buf));
		printf(" %s |", buf);
		if (tsv && res[i].measured)
			fprintf(tsv,
				"%s\t%s\t%s\t%s\t%u\t%.0f\t%.0f\t%.0f\t%s\n",
				row->id, row->label, o->names[i],
				res[i].ok ? "ok" : "failed", res[i].n,
				res[i].median_ns, res[i].p10_ns, res[i].p90_ns,
				res[i].ok ? "" : res[i].why);
	}
	for (i = 1; i < o->ndevs; i++) {
		if (base->measured && base->ok && res[i].measured &&
		    res[i].ok && base->median_ns > 0)
			printf(" %.3gx |", res[i].median_ns / base->median_ns);
		else
			printf(" - |");
	}
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct bench_result res[MAX_DEVS];
	struct bench_row rows[MAX_ROWS];
	struct opts o = { 0 };
	unsigned int nrows, r, i;
	struct utsname u;
	FILE *tsv = NULL;
	uint64_t t0;

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	nrows = bench_rows(&o.conf, rows, MAX_ROWS);
	if (nrows > MAX_ROWS) {
		fprintf(stderr, "refbench: too many rows\n");
		return 2;
	}
	if (o.tsv && !(tsv = fopen(o.tsv, "we"))) {
		fprintf(stderr, "refbench: %s: %s\n", o.tsv, strerror(errno));
		return 2;
	}
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		fprintf(stderr, "refbench: note: RLIMIT_MEMLOCK stays: %s\n",
			strerror(errno));
	uname(&u);
	printf("refbench: kernel %s, %ld CPUs, scale %g; per operation, median "
	       "(p10 - p90) of the samples; ratios of medians\n\n",
	       u.release, sysconf(_SC_NPROCESSORS_ONLN), o.conf.scale);
	print_header(&o);
	for (r = 0; r < nrows; r++) {
		if (!wanted(o.rows, rows[r].id))
			continue;
		for (i = 0; i < o.ndevs; i++) {
			res[i] = (struct bench_result){ .ok = true };
			if (rows[r].no_device && i)
				continue;
			res[i].measured = true;
			t0 = bench_now();
			rows[r].run(&o.conf, &rows[r], i,
				    rows[r].no_device ? NULL : o.devs[i],
				    &res[i]);
			if (o.conf.verbose)
				fprintf(stderr, "refbench: %s on %s: %.1f s\n",
					rows[r].label, o.names[i],
					(bench_now() - t0) / 1e9);
		}
		print_row(&o, &rows[r], res, tsv);
	}
	if (tsv)
		fclose(tsv);
	return 0;
}
