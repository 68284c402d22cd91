/* SPDX-License-Identifier: MIT */
/*
 * vfio_map - the cost of mapping guest RAM into a real IOMMU domain through
 * iommufdd's vfio backend, next to VFIO_IOMMU_MAP_DMA issued directly on a
 * type1 container of the program's own, in the same guest and run.
 *
 * usage: vfio_map /dev/iommu [MiB] [ROUNDS]   (default 256 MiB, 3 rounds)
 *
 * Runs in a guest booted with "run-in-guest.sh --vtd-edu 2" against
 * "iommufdd --backend vfio" (bench/vfio_map.sh does both). The first edu's
 * group goes to the daemon (bind, attach to an IOAS), the second into a
 * container of our own. One populated memfd of MiB plays guest RAM; each
 * round maps and unmaps all of it both ways, the direct way first. Times
 * are the guest's CLOCK_MONOTONIC (TCG: compare ratios only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iommufd/iommufd.h>
#include <libiommufd.h>

#include "../tests/vfio/edu_vfio.h"
#include "../tests/vfio/vfio_type1.h"

#define IOVA 0x10000000ULL /* below the MSI window, in the 39-bit aperture */
#define MAX_ROUNDS 16

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "vfio_map: %s: %s\n", what, strerror(err));
	return 1;
}

/* Our own container with the second edu's group in it. */
static int direct_setup(struct edu_vfio *d, int *container)
{
	int ret;

	*container = vfio_container_open();
	if (*container < 0)
		return *container;
	ret = edu_vfio_open_group(d);
	if (!ret)
		ret = vfio_group_set_container(d->group_fd, *container);
	if (!ret)
		ret = vfio_set_iommu(*container, VFIO_TYPE1v2_IOMMU);
	return ret;
}

/* The first edu bound through the daemon and attached to a new IOAS. */
static int daemon_setup(const char *path, struct edu_vfio *d,
			struct iommufd **h, uint32_t *ioas)
{
	uint32_t dev_id, hwpt;
	int ret = iommufd_open(path, h);

	if (!ret)
		ret = iommufd_ioas_alloc(*h, ioas);
	if (!ret)
		ret = edu_vfio_open_group(d);
	if (!ret)
		ret = iommufd_vfio_device_bind(*h, d->group_fd, d->name,
					       &dev_id);
	if (!ret)
		ret = iommufd_device_attach(*h, dev_id, *ioas, &hwpt);
	return ret;
}

static void print_row(const char *what, const double *ms, int rounds)
{
	printf("%-34s", what);
	for (int r = 0; r < rounds; r++)
		printf(" %9.1f", ms[r]);
	printf("  ms\n");
}

int main(int argc, char **argv)
{
	double dmap[MAX_ROUNDS], dunmap[MAX_ROUNDS], imap[MAX_ROUNDS],
		iunmap[MAX_ROUNDS], t;
	uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 0) : 256;
	int rounds = argc > 3 ? atoi(argv[3]) : 3, container, ret;
	uint64_t size = mib << 20, iova;
	struct edu_vfio dev[2];
	struct iommufd *h;
	uint32_t ioas;
	void *ram;

	if (argc < 2 || !mib || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: %s /dev/iommu [MiB] [ROUNDS<=%d]\n",
			argv[0], MAX_ROUNDS);
		return 2;
	}
	ret = edu_vfio_find(dev, 2);
	if (ret < 2)
		return fail("two edu devices bound to vfio-pci",
			    ret < 0 ? -ret : ENODEV);
	/* memfd_buffer zero-fills it: every page is populated. */
	ram = memfd_buffer("vfio-map-ram", size, NULL);
	if (!ram)
		return fail("memfd guest RAM", ENOMEM);
	ret = direct_setup(&dev[1], &container);
	if (ret)
		return fail("own type1 container", -ret);
	ret = daemon_setup(argv[1], &dev[0], &h, &ioas);
	if (ret)
		return fail("bind and attach through the daemon", -ret);

	for (int r = 0; r < rounds; r++) {
		t = now_ms();
		ret = vfio_dma_map(container, ram, IOVA, size, true);
		dmap[r] = now_ms() - t;
		if (ret)
			return fail("VFIO_IOMMU_MAP_DMA", -ret);
		t = now_ms();
		ret = vfio_dma_unmap(container, IOVA, size, 0, NULL);
		dunmap[r] = now_ms() - t;
		if (ret)
			return fail("VFIO_IOMMU_UNMAP_DMA", -ret);

		iova = IOVA;
		t = now_ms();
		ret = iommufd_ioas_map(h, ioas, ram, size,
				       IOMMU_IOAS_MAP_READABLE |
					       IOMMU_IOAS_MAP_WRITEABLE |
					       IOMMU_IOAS_MAP_FIXED_IOVA,
				       &iova);
		imap[r] = now_ms() - t;
		if (ret)
			return fail("IOMMU_IOAS_MAP", -ret);
		t = now_ms();
		ret = iommufd_ioas_unmap(h, ioas, IOVA, size, NULL);
		iunmap[r] = now_ms() - t;
		if (ret)
			return fail("IOMMU_IOAS_UNMAP", -ret);
	}
	printf("# %" PRIu64 " MiB populated memfd, %d rounds (guest clock)\n",
	       mib, rounds);
	print_row("direct VFIO_IOMMU_MAP_DMA", dmap, rounds);
	print_row("direct VFIO_IOMMU_UNMAP_DMA", dunmap, rounds);
	print_row("iommufdd IOMMU_IOAS_MAP", imap, rounds);
	print_row("iommufdd IOMMU_IOAS_UNMAP", iunmap, rounds);
	printf("# last round, daemon / direct: map %.2fx, unmap %.2fx\n",
	       imap[rounds - 1] / dmap[rounds - 1],
	       iunmap[rounds - 1] / dunmap[rounds - 1]);
	iommufd_close(h);
	edu_vfio_close(&dev[0]);
	edu_vfio_close(&dev[1]);
	return 0;
}
