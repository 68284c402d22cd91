// SPDX-License-Identifier: MIT
/*
 * map_scale: does IOAS_MAP + IOAS_UNMAP stay flat as live mappings grow,
 * and what does a mapping cost in daemon memory?
 *
 * Drives the iommufd core in-process through iommufd_ctx_ioctl(), the entry
 * point the transport calls, so the struct copies through process_vm_* are
 * included and only the FUSE round trip (constant per ioctl) is not. For
 * each population size it grows the IOAS to N live 4 KiB mappings, then
 * times map+unmap pairs of one more mapping at auto and at fixed IOVA and
 * reports the median, the spread (p10-p90) and the ratio to N = 1, all from
 * this one run. Heap per mapping comes from mallinfo2() deltas.
 *
 * usage: map_scale [MAX_N]   (default 1000000; needs root)
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iommufd/iommufd.h>

#include "core.h"

#define SAMPLES 3001
#define MAP_LEN 4096ULL

static struct iommufd_ctx *ctx;
static struct ucaller self;
static uint32_t ioas_id;

static long ioc(unsigned int cmd, void *arg)
{
	return iommufd_ctx_ioctl(ctx, &self, cmd, (uint64_t)(uintptr_t)arg);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int map(uint64_t *iova, bool fixed)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas_id,
		/* No domain: the memory is never touched, as in the kernel. */
		.user_va = 1ULL << 30,
		.length = MAP_LEN,
		.iova = *iova,
	};
	int ret = ioc(IOMMU_IOAS_MAP, &cmd);

	*iova = cmd.iova;
	return ret;
}

static int unmap(uint64_t iova)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = MAP_LEN,
	};

	return ioc(IOMMU_IOAS_UNMAP, &cmd);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	uint64_t median, p10, p90;
};

/* Time map+unmap of one extra mapping, at auto or at a fixed IOVA. */
static struct stats time_pairs(bool fixed, uint64_t fixed_iova)
{
	static uint64_t t[SAMPLES];
	struct stats st;
	int i;

	for (i = 0; i < SAMPLES; i++) {
		uint64_t iova = fixed_iova, t0 = now_ns();

		if (map(&iova, fixed) || unmap(iova)) {
			fprintf(stderr, "map_scale: map/unmap failed\n");
			exit(1);
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, SAMPLES, sizeof(t[0]), cmp_u64);
	st.median = t[SAMPLES / 2];
	st.p10 = t[SAMPLES / 10];
	st.p90 = t[SAMPLES * 9 / 10];
	return st;
}

int main(int argc, char **argv)
{
	uint64_t max_n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	static const uint64_t sizes[] = { 1, 1000, 10000, 100000, 1000000 };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct stats base_auto = { 0 }, base_fixed = { 0 };
	uint64_t live = 0, heap0;
	unsigned int i;

	if (geteuid() != 0) {
		fprintf(stderr, "map_scale: needs root\n");
		return 77;
	}
	self.pid = gettid();
	if (iommufd_core_init("mock"))
		return 1;
	ctx = iommufd_ctx_open(&self);
	if (ioc(IOMMU_IOAS_ALLOC, &alloc))
		return 1;
	ioas_id = alloc.out_ioas_id;
	heap0 = mallinfo2().uordblks;

	printf("# IOAS_MAP+IOAS_UNMAP of 4 KiB with N live mappings, in-process"
	       " core, %d samples each\n",
	       SAMPLES);
	printf("%10s %14s %16s %9s %14s %16s %9s %14s\n", "N", "auto ns",
	       "auto p10-p90", "auto/N=1", "fixed ns", "fixed p10-p90",
	       "fixed/N=1", "heap B/map");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && sizes[i] <= max_n;
	     i++) {
		struct stats a, f;
		uint64_t heap;

		/* Grow to N live mappings, packed from the bottom up. */
		while (live < sizes[i]) {
			uint64_t iova = 0;

			if (map(&iova, false))
				return 1;
			live++;
		}
		heap = mallinfo2().uordblks - heap0;
		a = time_pairs(false, 0);
		/* a fixed IOVA far above the packed mappings */
		f = time_pairs(true, 1ULL << 44);
		if (i == 0) {
			base_auto = a;
			base_fixed = f;
		}
		printf("%10llu %14llu %7llu-%-8llu %9.2f %14llu %7llu-%-8llu "
		       "%9.2f %14.1f\n",
		       (unsigned long long)live, (unsigned long long)a.median,
		       (unsigned long long)a.p10, (unsigned long long)a.p90,
		       (double)a.median / (double)base_auto.median,
		       (unsigned long long)f.median, (unsigned long long)f.p10,
		       (unsigned long long)f.p90,
		       (double)f.median / (double)base_fixed.median,
		       (double)heap / (double)live);
	}
	iommufd_ctx_release(ctx);
	return 0;
}
