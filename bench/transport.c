// SPDX-License-Identifier: MIT
/*
 * transport: what one ioctl costs through a /dev/iommu transport, next to a
 * pipe round trip measured in the same run (the machines are noisy; only
 * ratios carry over).
 *
 *   pipe     one byte to a child process and back: two wake-ups, the
 *            floor of any request/reply between two processes
 *   version  VFIO_GET_API_VERSION: no caller memory is touched
 *   destroy  IOMMU_DESTROY of id 0: the struct is read, ENOENT comes back
 *   map      IOMMU_IOAS_MAP of 4 KiB at a fixed IOVA + IOMMU_IOAS_UNMAP,
 *            the memory shared (memfd), no domain
 *
 * usage: transport [DEVICE] [ITERATIONS]
 * Prints one line per measurement: median and p10-p90 in microseconds and
 * the ratio of the median to the pipe's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

static uint64_t now_ns(void)
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

struct result {
	const char *name;
	double median_us, p10_us, p90_us;
};

static struct result summarize(const char *name, uint64_t *t, unsigned int n)
{
	struct result r = { name, 0, 0, 0 };

	qsort(t, n, sizeof(*t), cmp_u64);
	r.median_us = t[n / 2] / 1000.0;
	r.p10_us = t[n / 10] / 1000.0;
	r.p90_us = t[n * 9 / 10] / 1000.0;
	return r;
}

static struct result bench_pipe(unsigned int n, uint64_t *t)
{
	int to_child[2], to_parent[2];
	unsigned int i;
	pid_t child;
	char c = 0;

	if (pipe(to_child) || pipe(to_parent))
		exit(1);
	child = fork();
	if (child == 0) {
		/* Only the parent writes here: EOF must reach us when it is done. */
		close(to_child[1]);
		close(to_parent[0]);
		while (read(to_child[0], &c, 1) == 1)
			if (write(to_parent[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (write(to_child[1], &c, 1) != 1 ||
		    read(to_parent[0], &c, 1) != 1)
			exit(1);
		t[i] = now_ns() - t0;
	}
	close(to_child[1]);
	waitpid(child, NULL, 0);
	close(to_child[0]);
	close(to_parent[0]);
	close(to_parent[1]);
	return summarize("pipe", t, n);
}

static struct result bench_version(int fd, unsigned int n, uint64_t *t)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
			perror("VFIO_GET_API_VERSION");
			exit(1);
		}
		t[i] = now_ns() - t0;
	}
	return summarize("version", t, n);
}

static struct result bench_destroy(int fd, unsigned int n, uint64_t *t)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = 0 };
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (ioctl(fd, IOMMU_DESTROY, &cmd) == 0 || errno != ENOENT) {
			perror("IOMMU_DESTROY");
			exit(1);
		}
		t[i] = now_ns() - t0;
	}
	return summarize("destroy", t, n);
}

static struct result bench_map(int fd, unsigned int n, uint64_t *t)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int memfd = memfd_create("transport-bench", MFD_CLOEXEC);
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = 4096,
		.iova = 1ULL << 24,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.iova = 1ULL << 24,
		.length = 4096,
	};
	unsigned int i;
	void *mem;

	if (memfd < 0 || ftruncate(memfd, 4096))
		exit(1);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED || ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
		perror("IOMMU_IOAS_ALLOC");
		exit(1);
	}
	map.ioas_id = unmap.ioas_id = alloc.out_ioas_id;
	map.user_va = (uintptr_t)mem;
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (ioctl(fd, IOMMU_IOAS_MAP, &map) ||
		    ioctl(fd, IOMMU_IOAS_UNMAP, &unmap)) {
			perror("IOMMU_IOAS_MAP/UNMAP");
			exit(1);
		}
		t[i] = now_ns() - t0;
	}
	munmap(mem, 4096);
	close(memfd);
	return summarize("map+unmap", t, n);
}

#define BATCH 64

/*
 * 64 maps of 4 KiB in one IOMMUFDD_IOAS_BATCH and their 64 unmaps in
 * another; the time is per map+unmap, to set beside map+unmap's. A
 * kernel's /dev/iommu has no batch: the row is then skipped.
 */
static bool bench_batch(int fd, unsigned int n, uint64_t *t, struct result *r)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int memfd = memfd_create("transport-bench", MFD_CLOEXEC);
	struct iommufdd_ioas_batch_op maps[BATCH], unmaps[BATCH];
	struct iommufdd_ioas_batch batch = { .size = sizeof(batch),
					     .num_ops = BATCH };
	unsigned int i, j;
	char *mem;

	if (memfd < 0 || ftruncate(memfd, BATCH * 4096))
		exit(1);
	mem = mmap(NULL, BATCH * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	if (mem == MAP_FAILED || ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
		perror("IOMMU_IOAS_ALLOC");
		exit(1);
	}
	for (j = 0; j < BATCH; j++) {
		maps[j] = (struct iommufdd_ioas_batch_op){
			.op = IOMMUFDD_BATCH_MAP,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)mem + j * 4096,
			.length = 4096,
			.iova = (1ULL << 24) + j * 4096,
		};
		unmaps[j] = (struct iommufdd_ioas_batch_op){
			.op = IOMMUFDD_BATCH_UNMAP,
			.length = 4096,
			.iova = (1ULL << 24) + j * 4096,
		};
	}
	batch.ioas_id = alloc.out_ioas_id;
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		batch.ops_uptr = (uintptr_t)maps;
		if (ioctl(fd, IOMMUFDD_IOAS_BATCH, &batch)) {
			if (errno == ENOTTY)
				return false;
			perror("IOMMUFDD_IOAS_BATCH");
			exit(1);
		}
		batch.ops_uptr = (uintptr_t)unmaps;
		if (ioctl(fd, IOMMUFDD_IOAS_BATCH, &batch)) {
			perror("IOMMUFDD_IOAS_BATCH");
			exit(1);
		}
		for (j = 0; j < BATCH; j++)
			if (maps[j].out_result || unmaps[j].out_result) {
				fprintf(stderr, "batch: op %u failed\n", j);
				exit(1);
			}
		t[i] = (now_ns() - t0) / BATCH;
	}
	munmap(mem, BATCH * 4096);
	close(memfd);
	*r = summarize("batch/64", t, n);
	return true;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/iommu";
	unsigned int n = argc > 2 ? (unsigned int)atoi(argv[2]) : 20000, i;
	uint64_t *t = calloc(n, sizeof(*t));
	struct result r[5];
	unsigned int nr = 4;
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0 || !t || n < 10) {
		fprintf(stderr, "transport: cannot open %s: %s\n", dev,
			strerror(errno));
		return 1;
	}
	/* Warm up caches and the scheduler's placement first. */
	bench_destroy(fd, n / 10, t);
	r[0] = bench_pipe(n, t);
	r[1] = bench_version(fd, n, t);
	r[2] = bench_destroy(fd, n, t);
	r[3] = bench_map(fd, n, t);
	if (bench_batch(fd, n / BATCH > 10 ? n / BATCH : 10, t, &r[4]))
		nr = 5;

	printf("# %s, %u iterations each\n", dev, n);
	printf("%-10s %10s %18s %8s\n", "what", "median us", "p10-p90 us",
	       "x pipe");
	for (i = 0; i < nr; i++)
		printf("%-10s %10.1f %8.1f-%-9.1f %8.2f\n", r[i].name,
		       r[i].median_us, r[i].p10_us, r[i].p90_us,
		       r[i].median_us / r[0].median_us);
	close(fd);
	free(t);
	return 0;
}
