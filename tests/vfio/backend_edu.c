/* SPDX-License-Identifier: MIT */
/*
 * backend_edu - real DMA through iommufdd's vfio backend: QEMU's edu
 * devices behind an emulated VT-d, programmed only through /dev/iommu.
 *
 * usage: backend_edu /dev/iommu
 *
 * Runs in a guest booted with "run-in-guest.sh --vtd-edu 2", as root,
 * against "iommufdd --backend vfio" (guest-backend.sh starts it through
 * tests/integration/run.sh). TAP on stdout; exit 0 if every check passed,
 * 1 otherwise, 77 (skip) without two edu devices.
 *
 * A memfd plays guest RAM. The program opens each device's VFIO group
 * itself, binds the device with IOMMUFDD_VFIO_DEVICE_BIND, attaches it to
 * an IOAS with IOMMUFDD_DEVICE_ATTACH and takes the device fd from its own
 * group fd; the daemon alone programs the type1 containers. Checked:
 *  - a copy RAM -> edu buffer -> RAM through IOAS mappings lands;
 *  - after IOMMU_IOAS_UNMAP the device's write does not land and the
 *    guest kernel logs a DMAR fault for that device and IOVA;
 *  - the second edu attached to the same IOAS gets the same automatic
 *    HWPT and reaches a mapping made before its attach;
 *  - replace moves it to a HWPT of another IOAS (new mappings reachable,
 *    old ones not), while the first device keeps its own;
 *  - detach blocks its DMA;
 *  - the daemon's control socket names each device's backend, PCI name,
 *    group and IOMMU unit (what iommufdctl shows);
 *  - the same memfd page mapped in two IOASes (two containers) is pinned
 *    once by the daemon;
 *  - DIRTY_TRACKING and NEST_PARENT HWPTs get EOPNOTSUPP, and GET_HW_INFO
 *    reports no capabilities, as a kernel does for this VT-d;
 *  - GET_HW_INFO gives the VT-d's cap/ecap as sysfs has them, and
 *    IOVA_RANGES leaves out the group's MSI window;
 *  - private anonymous memory cannot back the real domain (EOPNOTSUPP);
 *  - a client SIGKILLed with its device bound, attached and mapped leaves
 *    the daemon holding none of its group: the group can be opened again,
 *    and the daemon keeps only the other group's two VFIO files;
 *  - the VFIO type1 compat ioctls on a second /dev/iommu file
 *    (VFIO_SET_IOMMU, MAP_DMA, UNMAP_DMA) drive a device attached to the
 *    compat IOAS the same way.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <linux/vfio.h>
#include <libiommufd.h>

#include "../integration/tap.h"
#include "daemon_ctl.h"
#include "edu_vfio.h"
#include "kmsg.h"
#include "vfio_type1.h"

#define PAGE 4096UL
#define COPY_LEN 1024u
#define DMA_TIMEOUT_MS 10000u
#define FAULT_WINDOW_S 5.5 /* DEFAULT_RATELIMIT_INTERVAL, and a margin */
#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (RW | IOMMU_IOAS_MAP_FIXED_IOVA)

/* IOVAs (below the edu's 28-bit DMA mask) and their pages in the memfd */
#define IOVA_SRC 0x100000ULL /* page 0 */
#define IOVA_DST 0x200000ULL /* pages 1-2 */
#define IOVA_DST2 0x300000ULL /* page 3, mapped before edu 2 attaches */
#define IOVA_ALT 0x400000ULL /* page 4, only in the second IOAS */
#define IOVA_PRIV 0x500000ULL /* private memory, refused */
#define IOVA_KILL 0x600000ULL /* page 5, the killed client's mapping */
#define IOVA_COMPAT 0x700000ULL /* page 6, mapped with VFIO_IOMMU_MAP_DMA */
#define RAM_PAGES 8

static uint8_t *ram;
static int ram_fd = -1;
static struct edu_vfio dev[2];
static struct iommufd *h;
static uint32_t ioas, ioas2, dev_id[2], hwpt[2];

static uint8_t *page(unsigned int n)
{
	return ram + n * PAGE;
}

static void fill(uint8_t *p, unsigned int seed)
{
	for (unsigned int i = 0; i < COPY_LEN; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static int all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/*
 * A fresh pattern at IOVA_SRC (page 0), a zeroed destination, RAM ->
 * buffer -> RAM at dst: 0 when the bytes landed, -EIO when not, -errno.
 */
static int copy_checked(struct edu_vfio *d, uint64_t dst, uint8_t *dst_page,
			unsigned int seed)
{
	int ret;

	fill(page(0), seed);
	memset(dst_page, 0, COPY_LEN);
	ret = edu_dma(&d->edu, EDU_RAM_TO_DEV, IOVA_SRC, 0, COPY_LEN,
		      DMA_TIMEOUT_MS);
	if (!ret)
		ret = edu_dma(&d->edu, EDU_DEV_TO_RAM, dst, 0, COPY_LEN,
			      DMA_TIMEOUT_MS);
	if (ret)
		return ret;
	return memcmp(page(0), dst_page, COPY_LEN) ? -EIO : 0;
}

/*
 * The VT-d driver rate-limits its fault messages (10 per 5 s, shared by
 * the "handling fault status" line and each fault record): in this guest
 * the fourth fault within 2 s was no longer logged. Before a fault that
 * would be the fourth in a window, wait for the window to end.
 */
static void wait_fault_ratelimit(void)
{
	static struct timespec window;
	static unsigned int faults;
	struct timespec now;
	double elapsed;

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double)(now.tv_sec - window.tv_sec) +
		  (double)(now.tv_nsec - window.tv_nsec) / 1e9;
	if (faults == 3 && elapsed < FAULT_WINDOW_S) {
		printf("# waiting %.1f s for the DMAR fault rate limit\n",
		       FAULT_WINDOW_S - elapsed);
		usleep((useconds_t)((FAULT_WINDOW_S - elapsed) * 1e6));
		clock_gettime(CLOCK_MONOTONIC, &now);
		faults = 0;
	}
	if (!faults || elapsed >= FAULT_WINDOW_S) {
		window = now;
		faults = 0;
	}
	faults++;
}

/*
 * The device writes its buffer to dst, which must be unreachable: nothing
 * lands, and the kernel logs a DMAR write fault naming device and IOVA.
 */
static void check_blocked(struct edu_vfio *d, uint64_t dst, uint8_t *dst_page,
			  const char *what)
{
	char addr[32], who[48], line[512];
	const char *needles[] = { "DMA Write", who, addr, NULL };
	int kfd, ret, found = 0;

	snprintf(addr, sizeof(addr), "fault addr 0x%" PRIx64, dst);
	snprintf(who, sizeof(who), "Request device [%s]", d->bdf);
	memset(dst_page, 0, COPY_LEN);
	wait_fault_ratelimit();
	kfd = kmsg_open_at_end();
	ret = edu_dma(&d->edu, EDU_DEV_TO_RAM, dst, 0, COPY_LEN,
		      DMA_TIMEOUT_MS);
	check(ret == 0,
	      "%s: edu %s reports the write to 0x%" PRIx64 " done (%s)", what,
	      d->bdf, dst, strerror(-ret));
	check(all_zero(dst_page, COPY_LEN), "%s: nothing landed at 0x%" PRIx64,
	      what, dst);
	if (kfd >= 0) {
		found = kmsg_find(kfd, needles, 3000, line, sizeof(line));
		close(kfd);
	}
	check(found == 1,
	      "%s: the kernel logged a DMAR fault for %s at 0x%" PRIx64, what,
	      d->bdf, dst);
	if (found == 1)
		printf("# kernel: %s\n", line);
}

static int map_fixed(uint32_t id, void *va, uint64_t len, uint64_t iova)
{
	return iommufd_ioas_map(h, id, va, len, FIXED, &iova);
}

/* Open the device's group, bind the device, attach it to pt_id. */
static int bind_attach(unsigned int i, uint32_t pt_id)
{
	int ret = edu_vfio_open_group(&dev[i]);

	check(ret == 0, "open /dev/vfio/%d ourselves (%s)", dev[i].group,
	      strerror(-ret));
	if (ret)
		return ret;
	ret = iommufd_vfio_device_bind(h, dev[i].group_fd, dev[i].name,
				       &dev_id[i]);
	check(ret == 0, "IOMMUFDD_VFIO_DEVICE_BIND %s: dev_id %u (%s)",
	      dev[i].name, dev_id[i], strerror(-ret));
	if (ret)
		return ret;
	ret = iommufd_device_attach(h, dev_id[i], pt_id, &hwpt[i]);
	check(ret == 0, "IOMMUFDD_DEVICE_ATTACH %s to %u: HWPT %u (%s)",
	      dev[i].name, pt_id, hwpt[i], strerror(-ret));
	return ret;
}

/* Pages the daemon holds pinned, all clients together; -1 if unknown. */
static int64_t pinned_pages(void)
{
	char *reply = daemon_ctl("status");
	int64_t n = daemon_ctl_number(reply, "pinned_pages");

	free(reply);
	return n;
}

/*
 * What type1 cannot do is refused as a kernel refuses it for an IOMMU
 * without it: no dirty tracking, no nesting parent, no capability bits.
 */
static void check_unsupported(void)
{
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, dirty,
		     .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, parent,
		     .flags = IOMMU_HWPT_ALLOC_NEST_PARENT);
	struct iommufd_hw_info_opts info = { .sz = sizeof(info) };
	uint32_t id = 0;
	int ret;

	ret = iommufd_hwpt_alloc(h, dev_id[0], ioas, &dirty, &id);
	check(ret == -EOPNOTSUPP,
	      "HWPT_ALLOC with DIRTY_TRACKING: EOPNOTSUPP (got %s)",
	      strerror(-ret));
	ret = iommufd_hwpt_alloc(h, dev_id[0], ioas, &parent, &id);
	check(ret == -EOPNOTSUPP,
	      "HWPT_ALLOC with NEST_PARENT: EOPNOTSUPP (got %s)",
	      strerror(-ret));
	ret = iommufd_get_hw_info(h, dev_id[0], &info);
	check(ret == 0 && info.out_capabilities == 0,
	      "GET_HW_INFO reports no capabilities (0x%llx, %s)",
	      (unsigned long long)info.out_capabilities, strerror(-ret));
}

/* GET_HW_INFO against sysfs, IOVA_RANGES against the MSI window. */
static void check_properties(void)
{
	struct iommu_hw_info_vtd vtd = { 0 };
	struct iommufd_hw_info_opts info = {
		.sz = sizeof(info),
		.data = &vtd,
		.data_len = sizeof(vtd),
	};
	struct iommu_resv_region resv[8];
	struct iommufd_iova_range *r = NULL;
	uint64_t cap = 0, ecap = 0;
	char unit[32] = "";
	uint32_t nr = 0;
	int ret, n, msi = 0;

	ret = iommufd_get_hw_info(h, dev_id[0], &info);
	intel_iommu_regs(unit, sizeof(unit), &cap, &ecap);
	check(ret == 0 && info.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD &&
		      vtd.cap_reg == cap && vtd.ecap_reg == ecap,
	      "GET_HW_INFO: type %u, cap 0x%llx ecap 0x%llx; %s in sysfs: cap "
	      "0x%" PRIx64 " ecap 0x%" PRIx64 " (%s)",
	      info.out_data_type, (unsigned long long)vtd.cap_reg,
	      (unsigned long long)vtd.ecap_reg, unit, cap, ecap,
	      strerror(-ret));
	ret = iommufd_ioas_iova_ranges(h, ioas, &r, &nr, NULL);
	n = iommu_group_reserved_regions(dev[0].group, resv, 8);
	for (int i = 0; i < n && i < 8; i++) {
		if (strcmp(resv[i].type, "msi"))
			continue;
		msi++;
		for (uint32_t j = 0; j < nr; j++)
			if (resv[i].start <= r[j].last &&
			    resv[i].end >= r[j].start)
				msi = -100;
		printf("# MSI window 0x%" PRIx64 "-0x%" PRIx64 "\n",
		       resv[i].start, resv[i].end);
	}
	check(ret == 0 && nr > 1 && msi > 0,
	      "IOVA_RANGES (%u ranges) leave out the group's MSI window (%s)",
	      nr, strerror(-ret));
	free(r);
}

/* Map, copy, unmap (blocked), map again (copy works again). */
static void check_map_unmap(void)
{
	uint64_t unmapped = 0;
	int ret;

	ret = map_fixed(ioas, page(0), PAGE, IOVA_SRC);
	if (!ret)
		ret = map_fixed(ioas, page(1), 2 * PAGE, IOVA_DST);
	check(ret == 0, "IOAS_MAP of memfd RAM at 0x%llx and 0x%llx (%s)",
	      IOVA_SRC, IOVA_DST, strerror(-ret));
	ret = edu_vfio_open_device(&dev[0]);
	check(ret == 0, "device fd of %s from our own group fd (%s)",
	      dev[0].name, strerror(-ret));
	if (ret)
		return;
	ret = copy_checked(&dev[0], IOVA_DST, page(1), 1);
	check(ret == 0, "edu %s copies RAM -> buffer -> RAM (%s)", dev[0].bdf,
	      strerror(-ret));
	ret = iommufd_ioas_unmap(h, ioas, IOVA_DST, 2 * PAGE, &unmapped);
	check(ret == 0 && unmapped == 2 * PAGE,
	      "IOAS_UNMAP 0x%llx (%s, %" PRIu64 " bytes)", IOVA_DST,
	      strerror(-ret), unmapped);
	check_blocked(&dev[0], IOVA_DST, page(1), "after IOAS_UNMAP");
	ret = map_fixed(ioas, page(1), 2 * PAGE, IOVA_DST);
	ret = ret ? ret : copy_checked(&dev[0], IOVA_DST, page(1), 2);
	check(ret == 0, "mapped again, the copy lands again (%s)",
	      strerror(-ret));
}

/*
 * The daemon's control socket ($IOMMUFDD_RUN_DIR/control, what iommufdctl
 * reads) names each bound device: backend, PCI name, group, IOMMU unit.
 */
static void check_control(void)
{
	char *reply = daemon_ctl("objects"), want[256];
	int found = 0;

	for (int i = 0; i < 2 && reply; i++) {
		snprintf(want, sizeof(want),
			 "\"backend\":\"vfio\",\"device\":\"%s\",\"group\":%d,"
			 "\"iommu\":\"dmar0\"",
			 dev[i].name, dev[i].group);
		found += strstr(reply, want) != NULL;
	}
	check(found == 2,
	      "the control socket's objects name both devices with backend, "
	      "PCI name, group and IOMMU (%d of 2%s)",
	      found, reply ? "" : "; no reply");
	free(reply);
}

/* The second edu: auto-HWPT reuse with replay, replace, detach. */
static void check_second_device(void)
{
	uint32_t got = 0;
	int64_t pinned;
	int ret;

	ret = map_fixed(ioas, page(3), PAGE, IOVA_DST2);
	check(ret == 0, "IOAS_MAP 0x%llx before edu %s attaches (%s)",
	      IOVA_DST2, dev[1].bdf, strerror(-ret));
	if (bind_attach(1, ioas))
		return;
	check(hwpt[1] == hwpt[0], "both devices share the IOAS's HWPT %u (%u)",
	      hwpt[0], hwpt[1]);
	ret = edu_vfio_open_device(&dev[1]);
	ret = ret ? ret : copy_checked(&dev[1], IOVA_DST2, page(3), 3);
	check(ret == 0,
	      "edu %s reaches the mapping made before its attach (%s)",
	      dev[1].bdf, strerror(-ret));
	if (ret)
		return;

	pinned = pinned_pages();
	ret = iommufd_ioas_alloc(h, &ioas2);
	ret = ret ? ret : map_fixed(ioas2, page(0), PAGE, IOVA_SRC);
	ret = ret ? ret : map_fixed(ioas2, page(4), PAGE, IOVA_ALT);
	ret = ret ? ret : iommufd_hwpt_alloc(h, dev_id[1], ioas2, NULL, &got);
	check(ret == 0, "a second IOAS with its own mappings, HWPT %u (%s)",
	      got, strerror(-ret));
	/* Page 0 is mapped in both IOASes (two containers): pinned once. */
	check(pinned >= 0 && pinned_pages() == pinned + 1,
	      "the daemon pins one more page, not two (%" PRId64 " -> %" PRId64
	      ")",
	      pinned, pinned_pages());
	ret = ret ? ret : iommufd_device_attach(h, dev_id[1], got, &hwpt[1]);
	check(ret == 0 && hwpt[1] == got,
	      "replace: edu %s moves to HWPT %u (%s)", dev[1].bdf, hwpt[1],
	      strerror(-ret));
	ret = copy_checked(&dev[1], IOVA_ALT, page(4), 4);
	check(ret == 0, "edu %s reaches the new HWPT's mapping (%s)",
	      dev[1].bdf, strerror(-ret));
	check_blocked(&dev[1], IOVA_DST2, page(3), "after replace");
	ret = copy_checked(&dev[0], IOVA_DST2, page(3), 5);
	check(ret == 0, "edu %s still reaches its HWPT's mapping (%s)",
	      dev[0].bdf, strerror(-ret));
	check_control();
	ret = iommufd_device_detach(h, dev_id[1]);
	check(ret == 0, "IOMMUFDD_DEVICE_DETACH edu %s (%s)", dev[1].bdf,
	      strerror(-ret));
	check_blocked(&dev[1], IOVA_ALT, page(4), "after detach");
}

/* Private anonymous memory has no daemon address a real IOMMU could use. */
static void check_private_memory(void)
{
	uint64_t iova = IOVA_PRIV;
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (p == MAP_FAILED) {
		check(0, "mmap private memory (%s)", strerror(errno));
		return;
	}
	memset(p, 1, PAGE);
	ret = iommufd_ioas_map(h, ioas, p, PAGE, FIXED, &iova);
	check(ret == -EOPNOTSUPP,
	      "IOAS_MAP of private anonymous memory: EOPNOTSUPP (got %s)",
	      strerror(-ret));
	ret = copy_checked(&dev[0], IOVA_DST, page(1), 6);
	check(ret == 0, "the domain still works after the refusal (%s)",
	      strerror(-ret));
	munmap(p, PAGE);
}

/* How many of the daemon's descriptors are VFIO files; -1 if not found. */
static int daemon_vfio_fds(void)
{
	char path[64], comm[32], link[64];
	struct dirent *e, *f;
	int count = -1;
	DIR *proc = opendir("/proc"), *fds;

	while (proc && (e = readdir(proc))) {
		FILE *c;

		snprintf(path, sizeof(path), "/proc/%.16s/comm", e->d_name);
		c = fopen(path, "re");
		if (!c)
			continue;
		if (!fgets(comm, sizeof(comm), c) ||
		    strcmp(comm, "iommufdd\n")) {
			fclose(c);
			continue;
		}
		fclose(c);
		snprintf(path, sizeof(path), "/proc/%.16s/fd", e->d_name);
		fds = opendir(path);
		count = 0;
		while (fds && (f = readdir(fds))) {
			char fp[128];
			ssize_t n;

			snprintf(fp, sizeof(fp), "%s/%.16s", path, f->d_name);
			n = readlink(fp, link, sizeof(link) - 1);
			if (n > 0 &&
			    (link[n] = '\0', !strncmp(link, "/dev/vfio/", 10)))
				count++;
		}
		if (fds)
			closedir(fds);
		break;
	}
	if (proc)
		closedir(proc);
	return count;
}

/* The killed client: bind, attach, map, DMA, report, wait to die. */
static void killed_client(const char *path, int ready)
{
	struct iommufd *ch;
	uint32_t cioas, cdev, chwpt;
	char ok = 'n';

	if (!iommufd_open(path, &ch) && !iommufd_ioas_alloc(ch, &cioas) &&
	    !edu_vfio_open_group(&dev[1]) &&
	    !iommufd_vfio_device_bind(ch, dev[1].group_fd, dev[1].name,
				      &cdev) &&
	    !iommufd_device_attach(ch, cdev, cioas, &chwpt) &&
	    !iommufd_ioas_map(ch, cioas, page(0), PAGE, FIXED,
			      &(uint64_t){ IOVA_SRC }) &&
	    !iommufd_ioas_map(ch, cioas, page(5), PAGE, FIXED,
			      &(uint64_t){ IOVA_KILL }) &&
	    !edu_vfio_open_device(&dev[1]) &&
	    !copy_checked(&dev[1], IOVA_KILL, page(5), 7))
		ok = 'y';
	if (write(ready, &ok, 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

/* Open the group again for up to 10 s: 0 once the daemon let it go. */
static int reopen_group(int group)
{
	for (int i = 0; i < 100; i++) {
		int fd = vfio_group_open(group);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (fd != -EBUSY)
			return fd;
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	return -EBUSY;
}

static void check_sigkill(const char *path)
{
	int p[2], ret, status;
	char ok = 0;
	pid_t pid;

	ret = iommufd_destroy(h, dev_id[1]);
	edu_vfio_close(&dev[1]);
	check(ret == 0, "DESTROY edu %s's device, close our group (%s)",
	      dev[1].bdf, strerror(-ret));
	ret = reopen_group(dev[1].group);
	check(ret == 0, "the daemon let group %d go (%s)", dev[1].group,
	      strerror(-ret));
	if (pipe(p) || (pid = fork()) < 0) {
		check(0, "fork a client (%s)", strerror(errno));
		return;
	}
	if (!pid) {
		close(p[0]);
		killed_client(path, p[1]);
	}
	close(p[1]);
	ret = read(p[0], &ok, 1) == 1 && ok == 'y';
	close(p[0]);
	check(ret, "a child binds edu %s, attaches, maps, and its DMA lands",
	      dev[1].bdf);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ret = reopen_group(dev[1].group);
	check(ret == 0,
	      "after SIGKILL of that child, group %d can be opened again (%s)",
	      dev[1].group, strerror(-ret));
	ret = daemon_vfio_fds();
	check(ret == 2,
	      "the daemon holds 2 VFIO files, edu %s's group and container "
	      "(%d)",
	      dev[0].bdf, ret);
}

/* A VFIO-type1 program on our fd: the compat IOAS, MAP_DMA, UNMAP_DMA. */
static void check_compat(const char *path)
{
	struct iommufd *h2 = NULL;
	uint32_t cioas = 0, cdev = 0, chwpt = 0;
	uint64_t unmapped = 0;
	int fd, ret;

	ret = iommufd_open(path, &h2);
	ret = ret ? ret : iommufd_ioas_alloc(h2, &cioas);
	ret = ret ? ret : iommufd_vfio_ioas_set(h2, cioas);
	ret = ret ? ret : edu_vfio_open_group(&dev[1]);
	ret = ret ? ret :
		    iommufd_vfio_device_bind(h2, dev[1].group_fd, dev[1].name,
					     &cdev);
	ret = ret ? ret : iommufd_device_attach(h2, cdev, cioas, &chwpt);
	check(ret == 0, "compat: edu %s bound and attached to IOAS %u (%s)",
	      dev[1].bdf, cioas, strerror(-ret));
	if (ret)
		goto out;
	fd = iommufd_fd(h2);
	ret = vfio_set_iommu(fd, VFIO_TYPE1v2_IOMMU);
	check(ret == 0, "compat: VFIO_SET_IOMMU(TYPE1v2) on /dev/iommu (%s)",
	      strerror(-ret));
	ret = vfio_dma_map(fd, page(0), IOVA_SRC, PAGE, true);
	ret = ret ? ret : vfio_dma_map(fd, page(6), IOVA_COMPAT, PAGE, true);
	check(ret == 0, "compat: VFIO_IOMMU_MAP_DMA of memfd RAM (%s)",
	      strerror(-ret));
	ret = ret ? ret : edu_vfio_open_device(&dev[1]);
	ret = ret ? ret : copy_checked(&dev[1], IOVA_COMPAT, page(6), 8);
	check(ret == 0, "compat: edu %s copies through MAP_DMA mappings (%s)",
	      dev[1].bdf, strerror(-ret));
	if (ret)
		goto out;
	ret = vfio_dma_unmap(fd, IOVA_COMPAT, PAGE, 0, &unmapped);
	check(ret == 0 && unmapped == PAGE,
	      "compat: VFIO_IOMMU_UNMAP_DMA (%s, %" PRIu64 " bytes)",
	      strerror(-ret), unmapped);
	check_blocked(&dev[1], IOVA_COMPAT, page(6), "after UNMAP_DMA");
out:
	edu_vfio_close(&dev[1]);
	if (h2)
		iommufd_close(h2);
}

int main(int argc, char **argv)
{
	int n, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: %s /dev/iommu\n", argv[0]);
		return 2;
	}
	n = edu_vfio_find(dev, 2);
	if (n < 2) {
		printf("1..0 # SKIP %d edu device(s) (%s); run-in-guest.sh "
		       "--vtd-edu 2 gives two\n",
		       n < 0 ? 0 : n, n < 0 ? strerror(-n) : "ok");
		return 77;
	}
	ram = memfd_buffer("edu-ram", RAM_PAGES * PAGE, &ram_fd);
	ret = ram ? iommufd_open(argv[1], &h) : -ENOMEM;
	check(ret == 0, "open %s, memfd RAM (%s)", argv[1], strerror(-ret));
	if (ret)
		goto done;
	ret = iommufd_ioas_alloc(h, &ioas);
	check(ret == 0, "IOAS %u (%s)", ioas, strerror(-ret));
	if (ret || bind_attach(0, ioas))
		goto done;
	ret = iommufd_vfio_device_bind(h, dev[0].group_fd, dev[0].name,
				       &(uint32_t){ 0 });
	check(ret == -EBUSY, "binding %s twice: EBUSY (got %s)", dev[0].name,
	      strerror(-ret));
	check_properties();
	check_unsupported();
	check_map_unmap();
	if (dev[0].device_fd < 0)
		goto done;
	check_second_device();
	check_private_memory();
	check_sigkill(argv[1]);
	check_compat(argv[1]);
	ret = iommufd_destroy(h, dev_id[0]);
	check(ret == 0, "DESTROY edu %s's device (%s)", dev[0].bdf,
	      strerror(-ret));
done:
	edu_vfio_close(&dev[1]);
	edu_vfio_close(&dev[0]);
	if (h)
		iommufd_close(h);
	printf("1..%u\n", ntests);
	return nfailed || !ntests ? 1 : 0;
}
