/* SPDX-License-Identifier: MIT */
/*
 * vfio_facts sections about memory: what type1 charges to locked_vm (and
 * checks against RLIMIT_MEMLOCK) and how long MAP_DMA of a large memfd
 * takes (see vfio_facts.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfio_facts.h"
#include "vfio_type1.h"

static uint64_t vm_locked_kib(pid_t pid)
{
	char path[64], line[256];
	uint64_t kib = UINT64_MAX;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return kib;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %" SCNu64, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Raise or drop CAP_IPC_LOCK in the effective set (kept in permitted). */
static int ipc_lock_effective(int on)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (on)
		data[0].effective |= 1u << CAP_IPC_LOCK;
	else
		data[0].effective &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* In a child: map the pages in c at iova, report, exit without unmap. */
static void child_maps(int c, void *buf, size_t len, uint64_t iova)
{
	uint64_t before = vm_locked_kib(getpid());
	int ret = vfio_dma_map(c, buf, iova, len, true);

	printf("fact: a child process MAP_DMA on the inherited container fd: "
	       "%s, child VmLck %" PRIu64 " -> %" PRIu64 " kB\n",
	       err(ret), before, vm_locked_kib(getpid()));
	fflush(stdout);
	_exit(0);
}

static void memlock_limit(int a, uint8_t *buf, size_t len)
{
	struct rlimit old, lim;
	uint64_t locked = vm_locked_kib(getpid());
	int ret;

	getrlimit(RLIMIT_MEMLOCK, &old);
	lim.rlim_cur = lim.rlim_max = locked * 1024 + len / 2;
	ret = setrlimit(RLIMIT_MEMLOCK, &lim) ? -errno : 0;
	ret = ret ? ret : ipc_lock_effective(0);
	printf("RLIMIT_MEMLOCK %" PRIu64 " kB (locked %" PRIu64 " kB + %zu "
	       "kB), CAP_IPC_LOCK dropped: %s\n",
	       (uint64_t)lim.rlim_cur / 1024, locked, len / 2048, err(ret));
	ret = vfio_dma_map(a, buf, 0x5000000, len, true);
	printf("fact: MAP_DMA of %zu kB more without CAP_IPC_LOCK: %s\n",
	       len / 1024, err(ret));
	ret = vfio_dma_map(a, buf, 0x6000000, len / 4, true);
	printf("fact: MAP_DMA of %zu kB more without CAP_IPC_LOCK: %s\n",
	       len / 4096, err(ret));
	ipc_lock_effective(1);
	ret = vfio_dma_map(a, buf, 0x7000000, len, true);
	printf("fact: the same limit with CAP_IPC_LOCK, MAP_DMA of %zu kB: %s "
	       "(VmLck %" PRIu64 " kB, over the limit)\n",
	       len / 1024, err(ret), vm_locked_kib(getpid()));
	setrlimit(RLIMIT_MEMLOCK, &old);
}

void sec_memlock(void)
{
	const size_t len = 16 * MIB;
	uint64_t l0, unmapped = 0;
	uint8_t *buf;
	int a, b, ret, st;
	pid_t pid;

	printf("\n## memlock\n");
	a = container_with(&dev[0]);
	b = container_with(&dev[1]);
	buf = memfd_buffer("memlock", len, NULL);
	if (a < 0 || b < 0 || !buf) {
		printf("cannot set up: %s\n", err(a < 0 ? a : b));
		goto out;
	}
	l0 = vm_locked_kib(getpid());
	printf("VmLck before: %" PRIu64 " kB; the memfd is %zu kB\n", l0,
	       len / 1024);
	ret = vfio_dma_map(a, buf, 0x1000000, len, true);
	printf("fact: MAP_DMA in container A: %s, VmLck %" PRIu64 " kB\n",
	       err(ret), vm_locked_kib(getpid()));
	ret = vfio_dma_map(a, buf, 0x2000000, len, true);
	printf("fact: the same pages again in A at another IOVA: %s, VmLck "
	       "%" PRIu64 " kB\n",
	       err(ret), vm_locked_kib(getpid()));
	ret = vfio_dma_map(b, buf, 0x1000000, len, true);
	printf("fact: the same pages in container B: %s, VmLck %" PRIu64
	       " kB\n",
	       err(ret), vm_locked_kib(getpid()));
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		child_maps(b, buf, len, 0x4000000);
	waitpid(pid, &st, 0);
	printf("parent VmLck after the child's map and exit: %" PRIu64 " kB\n",
	       vm_locked_kib(getpid()));
	ret = vfio_dma_unmap(b, 0x4000000, len, 0, &unmapped);
	printf("fact: UNMAP_DMA of the dead child's mapping: %s, %" PRIu64
	       " bytes\n",
	       err(ret), unmapped);
	memlock_limit(a, buf, len);
	vfio_dma_unmap(a, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL);
	vfio_dma_unmap(b, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL);
	printf("fact: after unmapping everything VmLck %" PRIu64
	       " kB (was %" PRIu64 ")\n",
	       vm_locked_kib(getpid()), l0);
out:
	reset_all();
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (buf)
		munmap(buf, len);
}

static void time_map(int c, void *buf, size_t len, const char *what)
{
	uint64_t unmapped = 0;
	double t0, t1, t2;
	int ret, ret2;

	t0 = now_s();
	ret = vfio_dma_map(c, buf, 0x10000000, len, true);
	t1 = now_s();
	ret2 = vfio_dma_unmap(c, 0x10000000, len, 0, &unmapped);
	t2 = now_s();
	printf("fact: MAP_DMA of %zu MiB %s: %.1f ms (%s); UNMAP_DMA: %.1f ms "
	       "(%s)\n",
	       len / MIB, what, (t1 - t0) * 1e3, err(ret), (t2 - t1) * 1e3,
	       err(ret2));
}

/* A memfd of len bytes, mapped but never touched: no pages yet. */
static void *memfd_unpopulated(size_t len)
{
	void *p;
	int fd;

	fd = memfd_create("timing-cold", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = ftruncate(fd, (off_t)len) ?
		    MAP_FAILED :
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void sec_timing(void)
{
	const size_t len = 256 * MIB;
	uint8_t *buf;
	int c, i;

	printf("\n## timing (guest clock; TCG with -icount: compare ratios)\n");
	c = container_with(&dev[0]);
	buf = memfd_buffer("timing", len, NULL); /* zeroed: pages exist */
	if (c < 0 || !buf) {
		printf("cannot set up: %s\n", err(c));
		goto out;
	}
	for (i = 0; i < 3; i++)
		time_map(c, buf, len, "memfd, populated");
	munmap(buf, len);
	buf = memfd_unpopulated(len);
	if (buf)
		time_map(c, buf, len, "memfd, not yet populated");
out:
	reset_all();
	if (c >= 0)
		close(c);
	if (buf)
		munmap(buf, len);
}
