/* SPDX-License-Identifier: MIT */
/*
 * edu_dma - direct VFIO type1 DMA from QEMU's edu devices behind an
 * emulated VT-d: the baseline the vfio backend builds on, and a check of
 * the kernel behaviours its design relies on (tests/vfio/FACTS.md).
 *
 * Runs in a guest booted with "run-in-guest.sh --vtd-edu 2", as root. TAP
 * on stdout; exit 0 if every check passed, 1 if one failed, 77 (skip) when
 * the guest has no VFIO container or fewer than two edu devices.
 *
 * One memfd plays guest RAM. Both devices' groups end up in one type1v2
 * container; the device copies RAM -> its buffer -> RAM and the bytes are
 * compared. Checked: the copy; VFIO_GROUP_UNSET_CONTAINER and a second
 * open of the group fail with EBUSY while the device fd is open; a group
 * cannot move to another container (EINVAL); the second group sees the
 * mappings made before it joined; type1v2 refuses an unmap that splits a
 * mapping (EINVAL); after UNMAP_DMA (and unmap-all) a copy does not land
 * and the guest kernel logs a DMAR fault naming the device and IOVA;
 * GET_INFO's IOVA ranges leave out the group's reserved regions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../integration/tap.h"
#include "edu_vfio.h"
#include "kmsg.h"
#include "vfio_type1.h"

#define PAGE 4096UL
#define COPY_LEN 1024u
#define DMA_TIMEOUT_MS 10000u

/* IOVAs (below the edu's 28-bit DMA mask) and their pages in the memfd */
#define IOVA_SRC 0x100000ULL /* page 0 */
#define IOVA_DST 0x200000ULL /* pages 1-2: one two-page mapping */
#define IOVA_DST2 0x300000ULL /* page 3 */
#define IOVA_LATE 0x400000ULL /* page 4, mapped after the second group */
#define RAM_PAGES 8

static uint8_t *ram;
static int container = -1, container_b = -1;
static struct edu_vfio dev[2];

static uint8_t *page(unsigned int n)
{
	return ram + n * PAGE;
}

static void fill(uint8_t *p, unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < COPY_LEN; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static int all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/* RAM at src -> the device's buffer -> RAM at dst; 0 or -errno. */
static int copy_through(struct edu_vfio *d, uint64_t src, uint64_t dst)
{
	int ret = edu_dma(&d->edu, EDU_RAM_TO_DEV, src, 0, COPY_LEN,
			  DMA_TIMEOUT_MS);

	if (ret)
		return ret;
	return edu_dma(&d->edu, EDU_DEV_TO_RAM, dst, 0, COPY_LEN,
		       DMA_TIMEOUT_MS);
}

/* A fresh pattern in the source page, a zeroed destination, a copy. */
static int copy_checked(struct edu_vfio *d, uint64_t dst, uint8_t *dst_page,
			unsigned int seed)
{
	int ret;

	fill(page(0), seed);
	memset(dst_page, 0, COPY_LEN);
	ret = copy_through(d, IOVA_SRC, dst);
	if (ret)
		return ret;
	return memcmp(page(0), dst_page, COPY_LEN) ? -EIO : 0;
}

/*
 * The device writes its buffer to dst, which must be unreachable: the
 * bytes must not land and the kernel must log a DMAR write fault naming
 * the device and the IOVA.
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

/* Whether [start, end] lies inside one of the info's IOVA ranges. */
static int range_allowed(const struct vfio_type1_info *info, uint64_t start,
			 uint64_t end)
{
	uint32_t i;

	for (i = 0; i < info->nr_ranges && i < VFIO_INFO_MAX_RANGES; i++)
		if (start >= info->ranges[i].start &&
		    end <= info->ranges[i].end)
			return 1;
	return 0;
}

/* Whether [start, end] touches none of the info's IOVA ranges. */
static int range_excluded(const struct vfio_type1_info *info, uint64_t start,
			  uint64_t end)
{
	uint32_t i;

	for (i = 0; i < info->nr_ranges && i < VFIO_INFO_MAX_RANGES; i++)
		if (start <= info->ranges[i].end &&
		    end >= info->ranges[i].start)
			return 0;
	return 1;
}

static void check_info(unsigned int nr_mappings)
{
	struct iommu_resv_region resv[8];
	struct vfio_type1_info info;
	uint64_t limit = 0;
	int i, n, ret;

	ret = vfio_type1_get_info(container, &info);
	check(ret == 0 && info.have_ranges && info.nr_ranges > 0,
	      "GET_INFO has an IOVA range capability (%s, %u ranges)",
	      strerror(-ret), info.nr_ranges);
	check(info.iova_pgsizes & PAGE,
	      "iova_pgsizes 0x%" PRIx64 " includes 4 KiB", info.iova_pgsizes);
	check(range_allowed(&info, IOVA_SRC, IOVA_LATE + PAGE - 1),
	      "the test's IOVAs lie in an allowed range");
	for (int g = 0; g < 2; g++) {
		n = iommu_group_reserved_regions(dev[g].group, resv, 8);
		check(n > 0, "group %d has reserved regions (%d)", dev[g].group,
		      n);
		for (i = 0; i < n && i < 8; i++)
			check(range_excluded(&info, resv[i].start, resv[i].end),
			      "IOVA ranges leave out group %d's %s region "
			      "0x%" PRIx64 "-0x%" PRIx64,
			      dev[g].group, resv[i].type, resv[i].start,
			      resv[i].end);
	}
	read_u64_file("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit",
		      &limit);
	check(info.have_dma_avail && info.dma_avail + nr_mappings == limit,
	      "DMA_AVAIL %u + %u mappings = dma_entry_limit %" PRIu64,
	      info.dma_avail, nr_mappings, limit);
}

/* Container A with group 1, type1v2, two mappings, device 1 open. */
static int setup_first(void)
{
	int ret;

	container = vfio_container_open();
	check(container >= 0, "open /dev/vfio/vfio (%s)",
	      strerror(container < 0 ? -container : 0));
	if (container < 0)
		return -1;
	check(vfio_check_extension(container, VFIO_TYPE1v2_IOMMU) == 1,
	      "the container offers VFIO_TYPE1v2_IOMMU");
	ret = edu_vfio_open_group(&dev[0]);
	if (!ret)
		ret = vfio_group_set_container(dev[0].group_fd, container);
	if (!ret)
		ret = vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU);
	check(ret == 0, "group %d in a type1v2 container (%s)", dev[0].group,
	      strerror(-ret));
	if (ret)
		return -1;
	ret = vfio_dma_map(container, page(0), IOVA_SRC, PAGE, true);
	if (!ret)
		ret = vfio_dma_map(container, page(1), IOVA_DST, 2 * PAGE,
				   true);
	if (!ret) /* for the second device, before its group joins */
		ret = vfio_dma_map(container, page(3), IOVA_DST2, PAGE, true);
	check(ret == 0, "MAP_DMA the source and two destinations (%s)",
	      strerror(-ret));
	ret = edu_vfio_open_device(&dev[0]);
	check(ret == 0, "device fd of %s, BAR0 mapped, edu answers (%s)",
	      dev[0].name, strerror(-ret));
	return ret ? -1 : 0;
}

static void check_group_rules(void)
{
	int ret, fd;

	ret = vfio_group_unset_container(dev[0].group_fd);
	check(ret == -EBUSY,
	      "UNSET_CONTAINER with the device fd open: EBUSY (got %s)",
	      strerror(-ret));
	fd = vfio_group_open(dev[0].group);
	check(fd == -EBUSY, "a second open of /dev/vfio/%d: EBUSY (got %s)",
	      dev[0].group, strerror(fd < 0 ? -fd : 0));
	if (fd >= 0)
		close(fd);
	container_b = vfio_container_open();
	ret = container_b < 0 ?
		      container_b :
		      vfio_group_set_container(dev[0].group_fd, container_b);
	check(ret == -EINVAL,
	      "SET_CONTAINER to a second container while in one: EINVAL "
	      "(got %s)",
	      strerror(-ret));
}

static void check_second_group(void)
{
	int ret;

	ret = edu_vfio_open_group(&dev[1]);
	if (!ret)
		ret = vfio_group_set_container(dev[1].group_fd, container);
	check(ret == 0, "group %d joins the container that has mappings (%s)",
	      dev[1].group, strerror(-ret));
	ret = ret ? ret : edu_vfio_open_device(&dev[1]);
	check(ret == 0, "device fd of %s (%s)", dev[1].name, strerror(-ret));
	if (ret)
		return;
	ret = copy_checked(&dev[1], IOVA_DST2, page(3), 3);
	check(ret == 0,
	      "edu %s reaches mappings made before its group joined "
	      "(%s)",
	      dev[1].bdf, strerror(-ret));
	ret = vfio_dma_map(container, page(4), IOVA_LATE, PAGE, true);
	ret = ret ? ret : copy_checked(&dev[1], IOVA_LATE, page(4), 4);
	check(ret == 0, "edu %s reaches a mapping made after it joined (%s)",
	      dev[1].bdf, strerror(-ret));
	ret = copy_checked(&dev[0], IOVA_LATE, page(4), 5);
	check(ret == 0, "so does edu %s (%s)", dev[0].bdf, strerror(-ret));
}

static void check_unmap_rules(void)
{
	uint64_t unmapped = 1;
	int ret;

	ret = vfio_dma_unmap(container, IOVA_DST, PAGE, 0, NULL);
	check(ret == -EINVAL,
	      "UNMAP_DMA of the first half of a mapping: "
	      "EINVAL (got %s)",
	      strerror(-ret));
	ret = vfio_dma_unmap(container, IOVA_DST + PAGE, PAGE, 0, NULL);
	check(ret == -EINVAL, "UNMAP_DMA of the second half: EINVAL (got %s)",
	      strerror(-ret));
	ret = copy_checked(&dev[0], IOVA_DST + PAGE, page(2), 6);
	check(ret == 0, "the mapping is whole after the refused unmaps (%s)",
	      strerror(-ret));
	ret = vfio_dma_unmap(container, 0x8000000, PAGE, 0, &unmapped);
	check(ret == 0 && unmapped == 0,
	      "UNMAP_DMA where nothing is mapped: 0, size 0 (%s, %" PRIu64 ")",
	      strerror(-ret), unmapped);
	ret = vfio_dma_unmap(container, IOVA_DST, 2 * PAGE, 0, &unmapped);
	check(ret == 0 && unmapped == 2 * PAGE,
	      "UNMAP_DMA of the whole mapping (%s, size %" PRIu64 ")",
	      strerror(-ret), unmapped);
	check_blocked(&dev[0], IOVA_DST, page(1), "after UNMAP_DMA");
}

int main(void)
{
	uint64_t unmapped = 0;
	int n, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/vfio/vfio", F_OK) != 0) {
		printf("1..0 # SKIP no /dev/vfio/vfio (vfio modules?)\n");
		return 77;
	}
	n = edu_vfio_find(dev, 2);
	if (n == 0 || n == 1) {
		printf("1..0 # SKIP %d edu device(s); run-in-guest.sh "
		       "--vtd-edu 2 gives two\n",
		       n);
		return 77;
	}
	check(n == 2, "two edu devices bound to vfio-pci (%s)",
	      n < 0 ? strerror(-n) : "ok");
	if (n != 2)
		goto done;
	check(dev[0].group != dev[1].group, "%s in group %d, %s in group %d",
	      dev[0].name, dev[0].group, dev[1].name, dev[1].group);
	ram = memfd_buffer("edu-ram", RAM_PAGES * PAGE, NULL);
	if (!ram || setup_first())
		goto done;
	ret = copy_checked(&dev[0], IOVA_DST, page(1), 1);
	check(ret == 0, "edu %s copies RAM -> buffer -> RAM (%s)", dev[0].bdf,
	      strerror(-ret));
	check_group_rules();
	check_second_group();
	check_unmap_rules();
	check_info(3);
	ret = vfio_dma_unmap(container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
			     &unmapped);
	check(ret == 0 && unmapped == 3 * PAGE,
	      "UNMAP_DMA with FLAG_ALL (%s, size %" PRIu64 ")", strerror(-ret),
	      unmapped);
	check_blocked(&dev[1], IOVA_DST2, page(3), "after unmap-all");
	edu_vfio_close(&dev[1]);
	edu_vfio_close_device(&dev[0]);
	ret = vfio_group_unset_container(dev[0].group_fd);
	check(ret == 0, "UNSET_CONTAINER once the device fd is closed (%s)",
	      strerror(-ret));
done:
	edu_vfio_close(&dev[0]);
	printf("1..%u\n", ntests);
	return nfailed || !ntests ? 1 : 0;
}
