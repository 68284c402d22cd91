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
 *   pidfd      the bind flow issue 8 plans: another process opens the
 *              group, this one takes it with pidfd_getfd and sets its
 *              container; that process's death
 *   timing     MAP_DMA/UNMAP_DMA of a 256 MiB memfd
 *   full-buffer  a 4096-byte transfer (stops Debian 12's QEMU 7.2)
 *
 * Runs in a guest booted with "run-in-guest.sh --vtd-edu 2", as root.
 * Lines starting "fact:" are the findings; the rest is raw evidence.
 * The sections live in vfio_facts.c (sysfs, info, container, dirty),
 * vfio_facts_dma.c and vfio_facts_mem.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vfio_facts.h"
#include "vfio_sysfs.h"
#include "vfio_type1.h"

struct edu_vfio dev[2];

const char *err(int ret)
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

int container_with(struct edu_vfio *d)
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

void reset_all(void)
{
	edu_vfio_close(&dev[0]);
	edu_vfio_close(&dev[1]);
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

/* VFIO_IOMMU_DIRTY_PAGES; GET_BITMAP fills bitmap (one u64) for 16 pages. */
static int dirty_pages(int c, uint32_t flags, uint64_t iova, uint64_t *bitmap)
{
	/* the struct ends in a flexible array: build it in raw storage */
	uint64_t raw[8] = { 0 };
	struct vfio_iommu_type1_dirty_bitmap *db = (void *)raw;
	struct vfio_iommu_type1_dirty_bitmap_get *get = (void *)db->data;

	db->argsz = sizeof(*db);
	db->flags = flags;
	if (flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) {
		db->argsz += sizeof(*get);
		get->iova = iova;
		get->size = 16 * PAGE;
		get->bitmap.pgsize = PAGE;
		get->bitmap.size = sizeof(*bitmap);
		get->bitmap.data = (__u64 *)bitmap;
		*bitmap = 0;
	}
	return ioctl(c, VFIO_IOMMU_DIRTY_PAGES, db) ? -errno : 0;
}

static void sec_dirty(void)
{
	const uint32_t get = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	uint64_t bitmap = 0;
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
	ret = dirty_pages(c, get, 0x100000, &bitmap);
	printf("fact: DIRTY_PAGES GET_BITMAP before START: %s\n", err(ret));
	ret = dirty_pages(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 0, NULL);
	printf("fact: DIRTY_PAGES START: %s\n", err(ret));
	ret = dirty_pages(c, get, 0x100000, &bitmap);
	printf("fact: GET_BITMAP right after START, no DMA yet: %s, bitmap "
	       "0x%" PRIx64 " (bit n = page n of 16)\n",
	       err(ret), bitmap);
	ret = edu_dma(&dev[0].edu, EDU_DEV_TO_RAM, 0x100000 + 5 * PAGE, 0, 64,
		      TMO);
	printf("edu wrote page 5: %s\n", err(ret));
	ret = dirty_pages(c, get, 0x100000, &bitmap);
	printf("fact: GET_BITMAP after the device wrote page 5: %s, bitmap "
	       "0x%" PRIx64 "\n",
	       err(ret), bitmap);
	ret = dirty_pages(c, get, 0x100000, &bitmap);
	printf("fact: GET_BITMAP again (no DMA since): %s, bitmap 0x%" PRIx64
	       "\n",
	       err(ret), bitmap);
	ret = dirty_pages(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 0, NULL);
	printf("fact: DIRTY_PAGES STOP: %s\n", err(ret));
out:
	reset_all();
	if (c >= 0)
		close(c);
	munmap(buf, 16 * PAGE);
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
	{ "pidfd", sec_pidfd, 1 },
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
