/* SPDX-License-Identifier: MIT */
/*
 * vfio_facts - print what the guest's kernel does with VFIO type1 on an
 * emulated VT-d, as evidence for tests/vfio/FACTS.md (the design facts of
 * the vfio backend). Not a test: it reports what it sees, errnos included,
 * and only fails when it cannot run an experiment at all.
 *
 * usage: vfio_facts [SECTION]...   (default: all but full-buffer)
 *   sysfs      reserved regions, group types, the VT-d unit's registers
 *   info       container extensions and the GET_INFO capability chain
 *   container  what a container needs (a group) and loses with its last
 *              group; domain sharing between groups (VT-d domains_used)
 *   dirty      VFIO_IOMMU_DIRTY_PAGES on a container with a real IOMMU
 *   groups     unset/move rules with the device fd (or BAR0 mapping) open
 *   lifetime   DMA after the container fd is closed
 *   fault      what edu reads from an unmapped IOVA
 *   memlock    locked_vm charged by MAP_DMA: same pages twice, two
 *              containers, another process, RLIMIT_MEMLOCK
 *   timing     MAP_DMA/UNMAP_DMA of a 256 MiB memfd
 *   full-buffer  a 4096-byte transfer (QEMU < 8.0 may stop the machine)
 *
 * Runs in a guest booted with "run-in-guest.sh --vtd-edu 2", as root.
 * Lines starting "fact:" are the findings; the rest is raw evidence.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edu_vfio.h"
#include "kmsg.h"
#include "vfio_type1.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define TMO 10000u

static struct edu_vfio dev[2];

static const char *err(int ret)
{
	return ret ? strerror(-ret) : "ok";
}

static void cat_file(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "re");

	printf("$ cat %s\n", path);
	if (!f) {
		printf("(%s)\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
}

/* A container holding the group of d, with type1v2 set. */
static int container_with(struct edu_vfio *d)
{
	int c, ret;

	c = vfio_container_open();
	if (c < 0)
		return c;
	if (d->group_fd < 0 && (ret = edu_vfio_open_group(d)))
		goto fail;
	ret = vfio_group_set_container(d->group_fd, c);
	if (!ret)
		ret = vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	if (!ret)
		return c;
fail:
	close(c);
	return ret;
}

/* Put every device back to "group closed, no container". */
static void reset_all(void)
{
	edu_vfio_close(&dev[0]);
	edu_vfio_close(&dev[1]);
}

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

static void sec_sysfs(void)
{
	static const char *const regs[] = { "cap",
					    "ecap",
					    "version",
					    "address",
					    "domains_supported",
					    "domains_used" };
	char path[128], unit[32];
	uint64_t cap, ecap;
	int g, ret;

	printf("\n## sysfs\n");
	for (g = 0; g < 2; g++) {
		printf("# %s: group %d\n", dev[g].name, dev[g].group);
		snprintf(path, sizeof(path),
			 "/sys/kernel/iommu_groups/%d/reserved_regions",
			 dev[g].group);
		cat_file(path);
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type",
			 dev[g].group);
		cat_file(path);
	}
	ret = intel_iommu_regs(unit, sizeof(unit), &cap, &ecap);
	printf("fact: intel-iommu unit %s cap 0x%" PRIx64 " ecap 0x%" PRIx64
	       " (%s)\n",
	       ret ? "?" : unit, ret ? 0 : cap, ret ? 0 : ecap, err(ret));
	for (size_t i = 0; !ret && i < sizeof(regs) / sizeof(regs[0]); i++) {
		snprintf(path, sizeof(path),
			 "/sys/class/iommu/%s/intel-iommu/%s", unit, regs[i]);
		cat_file(path);
	}
	cat_file("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit");
	cat_file("/sys/module/vfio_iommu_type1/parameters/"
		 "allow_unsafe_interrupts");
	cat_file("/sys/module/vfio_iommu_type1/parameters/disable_hugepages");
}

static void print_extensions(int c, const char *when)
{
	static const struct {
		unsigned long ext;
		const char *name;
	} exts[] = {
		{ VFIO_TYPE1_IOMMU, "VFIO_TYPE1_IOMMU" },
		{ VFIO_TYPE1v2_IOMMU, "VFIO_TYPE1v2_IOMMU" },
		{ VFIO_TYPE1_NESTING_IOMMU, "VFIO_TYPE1_NESTING_IOMMU" },
		{ VFIO_DMA_CC_IOMMU, "VFIO_DMA_CC_IOMMU" },
		{ VFIO_UNMAP_ALL, "VFIO_UNMAP_ALL" },
		{ VFIO_UPDATE_VADDR, "VFIO_UPDATE_VADDR" },
	};

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		printf("fact: CHECK_EXTENSION(%s) %s: %d\n", exts[i].name, when,
		       vfio_check_extension(c, exts[i].ext));
}

static void print_info(int c)
{
	struct vfio_type1_info info;
	uint32_t i;
	int ret;

	ret = vfio_type1_get_info(c, &info);
	printf("GET_INFO: %s flags 0x%x iova_pgsizes 0x%" PRIx64 "\n", err(ret),
	       info.flags, info.iova_pgsizes);
	printf("fact: capability chain ids in order:");
	for (i = 0; i < info.nr_caps; i++)
		printf(" %u", info.cap_ids[i]);
	printf(" (1 IOVA_RANGE, 2 MIGRATION, 3 DMA_AVAIL)\n");
	for (i = 0; i < info.nr_ranges && i < VFIO_INFO_MAX_RANGES; i++)
		printf("fact: IOVA range %u: 0x%" PRIx64 "-0x%" PRIx64 "\n", i,
		       info.ranges[i].start, info.ranges[i].end);
	printf("fact: DMA_AVAIL %s %u\n", info.have_dma_avail ? "yes" : "no",
	       info.dma_avail);
	printf("fact: MIGRATION cap %s: flags 0x%x pgsize_bitmap 0x%" PRIx64
	       " max_dirty_bitmap_size %" PRIu64 "\n",
	       info.have_migration ? "yes" : "no", info.mig_flags,
	       info.mig_pgsize_bitmap, info.mig_max_dirty_bitmap_size);
}

static void sec_info(void)
{
	void *buf;
	int c, c0, ret;

	printf("\n## info\n");
	c0 = vfio_container_open();
	print_extensions(c0, "on a new container");
	close(c0);
	c = container_with(&dev[0]);
	if (c < 0) {
		printf("cannot set up a container: %s\n", err(c));
		return;
	}
	print_extensions(c, "after SET_IOMMU(type1v2)");
	print_info(c);
	buf = memfd_buffer("info", 2 * PAGE, NULL);
	ret = vfio_dma_map(c, buf, 0x100000, PAGE, true);
	ret = ret ? ret :
		    vfio_dma_map(c, (char *)buf + PAGE, 0x200000, PAGE, true);
	printf("after 2 MAP_DMA (%s):\n", err(ret));
	print_info(c);
	ret = vfio_dma_map(c, buf, 0xfee00000, PAGE, true);
	printf("fact: MAP_DMA inside the MSI window 0xfee00000: %s\n",
	       err(ret));
	ret = vfio_dma_map(c, buf, 1ULL << 39, PAGE, true);
	printf("fact: MAP_DMA at 1<<39 (beyond the aperture): %s\n", err(ret));
	ret = vfio_dma_map(c, buf, 0x100000, PAGE, true);
	printf("fact: MAP_DMA over an existing mapping: %s\n", err(ret));
	close(c);
	reset_all();
	munmap(buf, 2 * PAGE);
}

static uint64_t domains_used(void)
{
	char unit[32];
	char path[96];
	uint64_t cap, ecap, n = UINT64_MAX;

	if (intel_iommu_regs(unit, sizeof(unit), &cap, &ecap) == 0) {
		snprintf(path, sizeof(path),
			 "/sys/class/iommu/%s/intel-iommu/domains_used", unit);
		read_u64_file(path, &n);
	}
	return n;
}

static void sec_container(void)
{
	struct vfio_type1_info info;
	uint8_t *buf;
	int c, ret;

	printf("\n## container\n");
	buf = memfd_buffer("container", PAGE, NULL);
	c = vfio_container_open();
	ret = vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	printf("fact: SET_IOMMU on a container without a group: %s\n",
	       err(ret));
	ret = vfio_dma_map(c, buf, 0x100000, PAGE, true);
	printf("fact: MAP_DMA on a container without an IOMMU set: %s\n",
	       err(ret));
	printf("VT-d domains_used with no group in a container: %" PRIu64 "\n",
	       domains_used());
	ret = edu_vfio_open_group(&dev[0]);
	ret = ret ? ret : vfio_group_set_container(dev[0].group_fd, c);
	ret = ret ? ret : vfio_set_iommu(c, VFIO_TYPE1_NESTING_IOMMU);
	printf("fact: SET_IOMMU(VFIO_TYPE1_NESTING_IOMMU) with a group: %s\n",
	       err(ret));
	ret = vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	printf("SET_IOMMU(type1v2): %s; domains_used %" PRIu64 "\n", err(ret),
	       domains_used());
	ret = vfio_dma_map(c, buf, 0x100000, PAGE, true);
	printf("MAP_DMA: %s\n", err(ret));
	ret = edu_vfio_open_group(&dev[1]);
	ret = ret ? ret : vfio_group_set_container(dev[1].group_fd, c);
	printf("fact: second group joins (same VT-d unit): %s; domains_used "
	       "%" PRIu64 " (one less: it left its default domain for the "
	       "container's; the same count would mean a domain of its own)\n",
	       err(ret), domains_used());
	edu_vfio_close(&dev[1]);
	ret = vfio_group_unset_container(dev[0].group_fd);
	printf("the last group leaves: %s; domains_used %" PRIu64 "\n",
	       err(ret), domains_used());
	ret = vfio_type1_get_info(c, &info);
	printf("fact: GET_INFO after the last group left: %s\n", err(ret));
	ret = vfio_dma_map(c, buf, 0x200000, PAGE, true);
	printf("fact: MAP_DMA after the last group left: %s\n", err(ret));
	ret = vfio_group_set_container(dev[0].group_fd, c);
	ret = ret ? ret : vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	ret = ret ? ret : vfio_dma_map(c, buf, 0x100000, PAGE, true);
	printf("fact: the group rejoins, SET_IOMMU again, MAP_DMA at the old "
	       "IOVA: %s (the old mapping went with the IOMMU)\n",
	       err(ret));
	reset_all();
	close(c);
	munmap(buf, PAGE);
}

static void sec_dirty(void)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap db;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} req;
	uint64_t bitmap[1] = { 0 };
	uint8_t *buf;
	int c, ret;

	printf("\n## dirty\n");
	c = container_with(&dev[0]);
	buf = memfd_buffer("dirty", 16 * PAGE, NULL);
	ret = c < 0 ? c : vfio_dma_map(c, buf, 0x100000, 16 * PAGE, true);
	ret = ret ? ret : edu_vfio_open_device(&dev[0]);
	if (ret) {
		printf("cannot set up: %s\n", err(ret));
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.db.argsz = sizeof(req.db);
	req.db.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	ret = ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &req.db) ? -errno : 0;
	printf("fact: DIRTY_PAGES START: %s\n", err(ret));
	/* the device writes one page of the sixteen */
	ret = edu_dma(&dev[0].edu, EDU_DEV_TO_RAM, 0x100000 + 5 * PAGE, 0, 64,
		      TMO);
	printf("edu wrote page 5: %s\n", err(ret));
	memset(&req, 0, sizeof(req));
	req.db.argsz = sizeof(req);
	req.db.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	req.get.iova = 0x100000;
	req.get.size = 16 * PAGE;
	req.get.bitmap.pgsize = PAGE;
	req.get.bitmap.size = sizeof(bitmap);
	req.get.bitmap.data = (__u64 *)bitmap;
	ret = ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &req) ? -errno : 0;
	printf("fact: DIRTY_PAGES GET_BITMAP: %s, bitmap 0x%" PRIx64
	       " (bit n = page n of 16)\n",
	       err(ret), bitmap[0]);
	memset(&req, 0, sizeof(req));
	req.db.argsz = sizeof(req.db);
	req.db.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	ret = ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &req.db) ? -errno : 0;
	printf("fact: DIRTY_PAGES STOP: %s\n", err(ret));
out:
	reset_all();
	if (c >= 0)
		close(c);
	munmap(buf, 16 * PAGE);
}

static void sec_groups(void)
{
	int a, b, fd2, ret;
	uint8_t *buf;

	printf("\n## groups\n");
	a = container_with(&dev[0]);
	b = container_with(&dev[1]);
	buf = memfd_buffer("groups", 2 * PAGE, NULL);
	ret = a < 0 ? a : b < 0 ? b : edu_vfio_open_device(&dev[0]);
	if (ret) {
		printf("cannot set up: %s\n", err(ret));
		goto out;
	}
	fd2 = vfio_device_open(dev[0].group_fd, dev[0].name);
	printf("fact: a second GET_DEVICE_FD while one is open: %s\n",
	       fd2 < 0 ? err(fd2) : "ok (a second fd)");
	if (fd2 >= 0)
		close(fd2);
	ret = vfio_group_unset_container(dev[0].group_fd);
	printf("fact: UNSET_CONTAINER with the device fd open: %s\n", err(ret));
	ret = vfio_group_set_container(dev[0].group_fd, b);
	printf("fact: SET_CONTAINER to another container while in one: %s\n",
	       err(ret));
	close(dev[0].device_fd); /* BAR0 stays mapped */
	dev[0].device_fd = -1;
	ret = vfio_group_unset_container(dev[0].group_fd);
	printf("fact: UNSET_CONTAINER with the device fd closed but BAR0 "
	       "mapped: %s\n",
	       err(ret));
	edu_vfio_close_device(&dev[0]);
	ret = ret ? vfio_group_unset_container(dev[0].group_fd) : ret;
	printf("fact: UNSET_CONTAINER with device fd closed, BAR0 unmapped: "
	       "%s\n",
	       err(ret));
	ret = vfio_group_set_container(dev[0].group_fd, b);
	printf("fact: SET_CONTAINER into the other container (which has group "
	       "%d): %s\n",
	       dev[1].group, err(ret));
	ret = ret ? ret : vfio_dma_map(b, buf, 0x100000, PAGE, true);
	ret = ret ? ret : edu_vfio_open_device(&dev[0]);
	if (!ret) {
		memset(buf, 0x5a, 64);
		ret = edu_dma(&dev[0].edu, EDU_RAM_TO_DEV, 0x100000, 0, 64,
			      TMO);
		ret = ret ? ret :
			    edu_dma(&dev[0].edu, EDU_DEV_TO_RAM, 0x100000 + 64,
				    0, 64, TMO);
		ret = ret ? ret : memcmp(buf, buf + 64, 64) ? -EIO : 0;
	}
	printf("fact: the moved group's device, reopened, DMAs through the new "
	       "container: %s\n",
	       err(ret));
out:
	reset_all();
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	munmap(buf, 2 * PAGE);
}

/* RAM at iova -> buffer -> RAM at iova + 64 (64 bytes) with d. */
static int loop_copy(struct edu_vfio *d, uint64_t iova)
{
	int ret = edu_dma(&d->edu, EDU_RAM_TO_DEV, iova, 0, 64, TMO);

	return ret ? ret :
		     edu_dma(&d->edu, EDU_DEV_TO_RAM, iova + 64, 0, 64, TMO);
}

static void sec_lifetime(void)
{
	uint8_t *buf;
	int c, ret;

	printf("\n## lifetime\n");
	c = container_with(&dev[0]);
	buf = memfd_buffer("lifetime", PAGE, NULL);
	ret = c < 0 ? c : vfio_dma_map(c, buf, 0x100000, PAGE, true);
	ret = ret ? ret : edu_vfio_open_device(&dev[0]);
	if (ret) {
		printf("cannot set up: %s\n", err(ret));
		goto out;
	}
	close(c);
	c = -1;
	memset(buf, 0xa5, 64);
	memset(buf + 64, 0, 64);
	ret = loop_copy(&dev[0], 0x100000);
	ret = ret ? ret : memcmp(buf, buf + 64, 64) ? -EIO : 0;
	printf("fact: DMA through a mapping after the container fd was closed "
	       "(group still attached, device fd open): %s\n",
	       ret ? err(ret) : "still lands");
out:
	reset_all();
	if (c >= 0)
		close(c);
	munmap(buf, PAGE);
}

static void sec_fault(void)
{
	const char *needles[] = { "DMAR", "fault addr", NULL };
	char line[512];
	uint8_t *buf;
	int c, kfd, ret, found;

	printf("\n## fault\n");
	c = container_with(&dev[0]);
	buf = memfd_buffer("fault", 2 * PAGE, NULL);
	ret = c < 0 ? c : vfio_dma_map(c, buf, 0x100000, PAGE, true);
	ret = ret ? ret : vfio_dma_map(c, buf + PAGE, 0x200000, PAGE, true);
	ret = ret ? ret : edu_vfio_open_device(&dev[0]);
	if (ret) {
		printf("cannot set up: %s\n", err(ret));
		goto out;
	}
	/* the device's buffer holds 0x3c bytes first */
	memset(buf, 0x3c, 256);
	ret = edu_dma(&dev[0].edu, EDU_RAM_TO_DEV, 0x100000, 0, 256, TMO);
	kfd = kmsg_open_at_end();
	/* a read from an IOVA nothing is mapped at */
	ret = ret ? ret :
		    edu_dma(&dev[0].edu, EDU_RAM_TO_DEV, 0x300000, 0, 256, TMO);
	printf("fact: edu reading an unmapped IOVA reports: %s\n", err(ret));
	found = kfd < 0 ? kfd :
			  kmsg_find(kfd, needles, 3000, line, sizeof(line));
	printf("fact: kernel log after it: %s\n",
	       found == 1 ? line : "(nothing)");
	memset(buf + PAGE, 0xee, 256);
	ret = edu_dma(&dev[0].edu, EDU_DEV_TO_RAM, 0x200000, 0, 256, TMO);
	printf("fact: the buffer after the refused read holds 0x%02x 0x%02x "
	       "... 0x%02x (was 0x3c; %s)\n",
	       buf[PAGE], buf[PAGE + 1], buf[PAGE + 255], err(ret));
	if (kfd >= 0)
		close(kfd);
out:
	reset_all();
	if (c >= 0)
		close(c);
	munmap(buf, 2 * PAGE);
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

static void sec_memlock(void)
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

static void sec_timing(void)
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

/* A transfer that fills the device's buffer exactly: raw registers. */
static void sec_full_buffer(void)
{
	volatile uint64_t *r;
	uint8_t *buf;
	int c, ret;

	printf("\n## full-buffer\n");
	c = container_with(&dev[0]);
	buf = memfd_buffer("full", PAGE, NULL);
	ret = c < 0 ? c : vfio_dma_map(c, buf, 0x100000, PAGE, true);
	ret = ret ? ret : edu_vfio_open_device(&dev[0]);
	if (ret) {
		printf("cannot set up: %s\n", err(ret));
		return;
	}
	printf("starting a 4096-byte transfer to 0x40000 (if nothing follows, "
	       "QEMU stopped)\n");
	fflush(stdout);
	r = (volatile uint64_t *)(dev[0].edu.bar0 + EDU_REG_DMA_SRC);
	r[0] = 0x100000;
	r[1] = EDU_BUF_ADDR;
	r[2] = EDU_BUF_SIZE;
	r[3] = EDU_DMA_CMD_RUN;
	sleep(1);
	printf("fact: a 4096-byte transfer into the buffer: command reads "
	       "0x%" PRIx64 " after 1 s, QEMU still running\n",
	       (uint64_t)r[3]);
	reset_all();
	close(c);
	munmap(buf, PAGE);
}

static const struct {
	const char *name;
	void (*run)(void);
	int by_default;
} sections[] = {
	{ "sysfs", sec_sysfs, 1 },
	{ "info", sec_info, 1 },
	{ "container", sec_container, 1 },
	{ "dirty", sec_dirty, 1 },
	{ "groups", sec_groups, 1 },
	{ "lifetime", sec_lifetime, 1 },
	{ "fault", sec_fault, 1 },
	{ "memlock", sec_memlock, 1 },
	{ "timing", sec_timing, 1 },
	{ "full-buffer", sec_full_buffer, 0 },
};

int main(int argc, char **argv)
{
	const size_t nsec = sizeof(sections) / sizeof(sections[0]);
	struct utsname u;
	int n, i;
	size_t s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	printf("# vfio_facts on %s %s\n", u.sysname, u.release);
	cat_file("/proc/cmdline");
	n = edu_vfio_find(dev, 2);
	if (n != 2) {
		fprintf(stderr,
			"vfio_facts: need two edu devices bound to "
			"vfio-pci, have %d (%s)\n",
			n,
			n < 0 ? strerror(-n) : "run-in-guest.sh --vtd-edu 2");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		for (s = 0; s < nsec && strcmp(argv[i], sections[s].name); s++)
			;
		if (s == nsec) {
			fprintf(stderr, "vfio_facts: unknown section %s\n",
				argv[i]);
			return 2;
		}
	}
	for (s = 0; s < nsec; s++) {
		int want = argc < 2 ? sections[s].by_default : 0;

		for (i = 1; i < argc; i++)
			want |= !strcmp(argv[i], sections[s].name);
		if (want)
			sections[s].run();
	}
	return 0;
}
