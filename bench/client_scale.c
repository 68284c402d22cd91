// SPDX-License-Identifier: MIT
/*
 * client_scale: does the daemon serve clients side by side? For 1, 2, 4
 * and 8 concurrent clients (separate processes, each with its own open of
 * the device, its own IOAS and a mock domain attached, so that every MAP
 * pins and programs the IO page table) it counts IOAS_MAP + IOAS_UNMAP
 * pairs of one 4 KiB page for a fixed time, and reports the aggregate
 * throughput and its ratio to one client, all from this one run. A daemon
 * that serves one request at a time stays near 1x however many clients
 * and cores there are.
 *
 * usage: client_scale [DEVICE] [SECONDS]   (defaults /dev/iommu, 2)
 * bench/client_scale.sh runs it against a freshly started daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
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
#include <iommufd/iommufd_test.h>

#define MAX_CLIENTS 8
#define PAGE 4096

struct board {
	atomic_int ready, go, stop;
	uint64_t pairs[MAX_CLIENTS];
	int err[MAX_CLIENTS]; /* first failure of each client, as errno */
};

static const char *dev = "/dev/iommu";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(int *fd, uint32_t *ioas, void **page)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd domain = {
		.size = sizeof(domain),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};

	*fd = open(dev, O_RDWR | O_CLOEXEC);
	if (*fd < 0 || ioctl(*fd, IOMMU_IOAS_ALLOC, &alloc))
		return errno;
	*ioas = domain.id = alloc.out_ioas_id;
	if (ioctl(*fd, IOMMU_TEST_CMD, &domain))
		return errno;
	*page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (*page == MAP_FAILED)
		return errno;
	memset(*page, 1, PAGE);
	return 0;
}

static void client(struct board *b, int me)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.length = PAGE,
	};
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap) };
	void *page = NULL;
	int fd = -1;

	b->err[me] = setup(&fd, &map.ioas_id, &page);
	unmap.ioas_id = map.ioas_id;
	map.user_va = (uintptr_t)page;
	atomic_fetch_add(&b->ready, 1);
	while (!atomic_load(&b->go))
		usleep(100);
	while (!b->err[me] && !atomic_load(&b->stop)) {
		map.iova = 0;
		if (ioctl(fd, IOMMU_IOAS_MAP, &map)) {
			b->err[me] = errno;
			break;
		}
		unmap.iova = map.iova;
		unmap.length = PAGE;
		if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap)) {
			b->err[me] = errno;
			break;
		}
		b->pairs[me]++;
	}
	_exit(0);
}

/* Aggregate pairs per second of @n clients over @seconds, or -1. */
static double run_point(struct board *b, int n, double seconds)
{
	pid_t pids[MAX_CLIENTS];
	uint64_t total = 0;
	double t0, elapsed;
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (pids[i] == 0)
			client(b, i);
	}
	while (atomic_load(&b->ready) < n)
		usleep(1000);
	t0 = now();
	atomic_store(&b->go, 1);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&b->stop, 1);
	elapsed = now() - t0;
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	for (i = 0; i < n; i++) {
		if (b->err[i]) {
			fprintf(stderr, "client_scale: client %d of %d: %s\n",
				i, n, strerror(b->err[i]));
			return -1;
		}
		total += b->pairs[i];
	}
	return (double)total / elapsed;
}

int main(int argc, char **argv)
{
	static const int points[] = { 1, 2, 4, 8 };
	double seconds = 2, base = 0;
	struct board *b;

	if (argc > 1)
		dev = argv[1];
	if (argc > 2)
		seconds = atof(argv[2]);
	if (seconds <= 0) {
		fprintf(stderr, "usage: client_scale [DEVICE] [SECONDS]\n");
		return 2;
	}
	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return 1;
	printf("IOAS_MAP + IOAS_UNMAP of 4 KiB with a mock domain, %.1f s per "
	       "point, %ld CPUs, %s\n",
	       seconds, sysconf(_SC_NPROCESSORS_ONLN), dev);
	printf("%8s %14s %14s %8s\n", "clients", "pairs/s", "per client",
	       "vs 1");
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		double rate = run_point(b, points[i], seconds);

		if (rate < 0)
			return 1;
		if (!base)
			base = rate;
		printf("%8d %14.0f %14.0f %7.2fx\n", points[i], rate,
		       rate / points[i], rate / base);
		fflush(stdout);
	}
	return 0;
}
