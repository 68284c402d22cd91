/* SPDX-License-Identifier: MIT */
/*
 * refbench: the same iommufd operations timed on several /dev/iommu's in
 * one run (the kernel's and iommufdd's, in the reference guest), so that
 * only ratios taken side by side are compared.
 */
#ifndef IOMMUFDD_REFBENCH_H
#define IOMMUFDD_REFBENCH_H

#include <stdbool.h>
#include <stdint.h>

/* Devices (columns) one run compares at most. */
#define BENCH_MAX_DEVS 4

/* What one row gave on one device. */
struct bench_result {
	bool ok;
	bool measured; /* false for a row that does not use the device */
	unsigned int n; /* samples */
	double median_ns, p10_ns, p90_ns; /* per operation */
	char why[200]; /* the failure, when !ok */
};

/* Settings shared by all rows (refbench's options). */
struct bench_conf {
	double scale; /* multiplies every sample count */
	uint64_t *levels; /* live-mapping levels of the scale rows */
	unsigned int nlevels;
	uint64_t close_maps; /* live mappings of the close() row */
	uint64_t big_len; /* bytes of the big memfd map */
	unsigned int batch; /* maps per sample of the batched row */
	bool retry; /* grow mappings again where an earlier row failed to */
	bool verbose;
};

/*
 * A row: label is what the table says; run measures it on device number
 * dev, at path (NULL for a row that does not use a device), into res. arg
 * is the row's own parameter (a level, a length).
 */
struct bench_row {
	const char *id;
	char label[96];
	void (*run)(const struct bench_conf *conf, const struct bench_row *row,
		    unsigned int dev, const char *path,
		    struct bench_result *res);
	unsigned int samples; /* before conf->scale */
	uint64_t arg;
	bool no_device;
};

/* The rows, in table order, for conf; returns how many (at most max). */
unsigned int bench_rows(const struct bench_conf *conf, struct bench_row *rows,
			unsigned int max);

/* Statistics over t[0..n) (sorted in place) into res, per op (div). */
void bench_summarize(uint64_t *t, unsigned int n, unsigned int div,
		     struct bench_result *res);

/* Monotonic time in ns. */
uint64_t bench_now(void);

#endif /* IOMMUFDD_REFBENCH_H */
