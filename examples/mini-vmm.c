// SPDX-License-Identifier: MIT
/*
 * mini-vmm: what QEMU does with /dev/iommu for a passthrough device
 * (-device vfio-pci,iommufd=...), in a few steps, with libiommufd and
 * iommufdd's mock device instead of real hardware, or a real device behind
 * iommufdd's vfio backend.
 *
 * usage: mini-vmm [--hold] [--vfio GROUP:DEVICE] [/dev/iommu]
 *
 *   --hold  after the DMA, keep every object alive until Enter (when run in
 *           the foreground) or SIGTERM/SIGINT, so that "iommufdctl objects"
 *           and "iommufdctl graph" can be run next to it
 *   --vfio GROUP:DEVICE
 *           a real device (e.g. 1:0000:00:01.0) of a VFIO group, bound
 *           to vfio-pci, against "iommufdd --backend vfio": QEMU's edu
 *           DMA device, the one whose DMA engine mini-vmm knows
 *
 * Exit status: 0 when the device saw the guest's bytes and the guest saw
 * the device's reply; 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufdd_ext.h>
#include <libiommufd.h>

#include "mini-vmm-vfio.h"

#define GUEST_RAM_SIZE (2u << 20) /* 2 MiB of "guest RAM" */
#define REQUEST_GPA 0x1000 /* where the guest driver puts a request */
#define REPLY_GPA 0x2000 /* where the device writes its reply */

static const char request[] = "guest -> device: ping";
static const char reply[] = "device -> guest: pong";

static void fail(const char *what, int ret)
{
	fprintf(stderr, "mini-vmm: %s: %s\n", what, strerror(-ret));
	exit(1);
}

/*
 * The mock device DMAs through the domain it is attached to, exactly as
 * hardware would: IOMMUFDD_TEST_OP_DEV_DMA (iommufdd's IOMMU_TEST_CMD
 * extension). libiommufd has no wrapper for it, so this is a raw ioctl on
 * the library's fd; the payload sits in the command's union (offset 16).
 */
static int dev_dma(struct iommufd *h, uint32_t dev_id, uint64_t iova, void *buf,
		   size_t len, bool device_writes)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMUFDD_TEST_OP_DEV_DMA,
		.id = dev_id,
	};
	struct iommufdd_test_dma dma = {
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
		.flags = device_writes ? IOMMUFDD_TEST_DMA_WRITE : 0,
	};

	_Static_assert(offsetof(struct iommu_test_cmd, add_reserved) +
				       sizeof(dma) <=
			       sizeof(cmd),
		       "DEV_DMA payload must fit the command's union");
	memcpy((char *)&cmd + offsetof(struct iommu_test_cmd, add_reserved),
	       &dma, sizeof(dma));
	return ioctl(iommufd_fd(h), IOMMU_TEST_CMD, &cmd) ? -errno : 0;
}

/* A background job must not read the terminal: SIGTTIN would stop it. */
/*
 * The edu copies the guest's request through its own buffer into the
 * reply slot: it reads RAM at REQUEST_GPA and writes RAM at REPLY_GPA, both
 * through the real IOMMU. 0, or 1 after saying what went wrong.
 */
static int vfio_dma_ping(struct vmm_vfio *v, uint8_t *ram, uint64_t ram_iova)
{
	int ret = vmm_vfio_open_device(v);

	if (ret) {
		fprintf(stderr, "mini-vmm: device fd of %s (an edu?): %s\n",
			v->edu.name, strerror(-ret));
		return 1;
	}
	printf("device fd of %s from our own group fd, BAR0 mapped\n",
	       v->edu.name);
	memset(ram + REPLY_GPA, 0, sizeof(request));
	ret = vmm_vfio_copy(v, ram_iova + REQUEST_GPA, ram_iova + REPLY_GPA,
			    sizeof(request));
	if (ret) {
		fprintf(stderr, "mini-vmm: edu DMA: %s\n", strerror(-ret));
		return 1;
	}
	if (memcmp(ram + REPLY_GPA, request, sizeof(request))) {
		fprintf(stderr,
			"mini-vmm: the edu's copy is not in guest RAM\n");
		return 1;
	}
	printf("edu DMA-read GPA 0x%x and wrote \"%s\" back at GPA 0x%x\n",
	       REQUEST_GPA, (char *)ram + REPLY_GPA, REPLY_GPA);
	return 0;
}

static bool stdin_is_ours(void)
{
	return !isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) == getpgrp();
}

/* Wait for Enter (or a line on a pipe), or for SIGTERM, SIGINT or SIGHUP. */
static void hold(void)
{
	struct signalfd_siginfo si;
	bool watch_stdin = true;
	char line[256];
	sigset_t sigs;
	int sfd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0)
		fail("signalfd", -errno);

	printf("holding (pid %d): try \"iommufdctl objects\"; press Enter "
	       "or send SIGTERM to finish\n",
	       (int)getpid());
	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 },
				       { STDIN_FILENO, POLLIN, 0 } };
		/* re-checked every 250 ms: "fg" makes the terminal ours */
		int n = watch_stdin && stdin_is_ours() ? 2 : 1;

		if (poll(p, n, 250) < 0 && errno != EINTR)
			fail("poll", -errno);
		if (p[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			printf("got %s, finishing\n", strsignal(si.ssi_signo));
			break;
		}
		if (n == 2 && p[1].revents) {
			if (read(STDIN_FILENO, line, sizeof(line)) > 0)
				break;
			watch_stdin = false; /* EOF (/dev/null): signals only */
		}
	}
	close(sfd);
}

int main(int argc, char **argv)
{
	const char *path = "/dev/iommu";
	uint32_t ioas_id, stdev_id, hwpt_id, dev_id, nranges;
	struct iommufd_iova_range *ranges;
	uint64_t align, ram_iova, unmapped;
	const uint32_t rw = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			    IOMMU_IOAS_MAP_FIXED_IOVA;
	char buf[sizeof(request)];
	bool hold_objects = false;
	const char *vfio_spec = NULL;
	struct vmm_vfio vfio;
	struct iommufd *h;
	uint8_t *ram;
	int i, ret, memfd;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold"))
			hold_objects = true;
		else if (!strcmp(argv[i], "--vfio") && i + 1 < argc)
			vfio_spec = argv[++i];
		else if (argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr,
				"usage: mini-vmm [--hold] [--vfio GROUP:DEVICE] [/dev/iommu]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* 1. Open the iommufd (QEMU: -object iommufd, or open("/dev/iommu")). */
	ret = iommufd_open(path, &h);
	if (ret)
		fail(path, ret);
	printf("opened %s\n", path);

	/* 2. An I/O address space: the guest's physical address space. */
	ret = iommufd_ioas_alloc(h, &ioas_id);
	if (ret)
		fail("IOMMU_IOAS_ALLOC", ret);
	printf("IOAS %u allocated\n", ioas_id);

	/*
	 * 3. The device. QEMU opens /dev/vfio/devices/vfioX, binds it with
	 * VFIO_DEVICE_BIND_IOMMUFD and attaches it (to a HWPT it allocated, or
	 * straight to the IOAS) with VFIO_DEVICE_ATTACH_IOMMUFD_PT. With no
	 * VFIO here, the selftest MOCK_DOMAIN op stands in for both: it binds
	 * a mock device and attaches it to the IOAS through an automatically
	 * allocated paging HWPT (the IOMMU domain).
	 */
	if (vfio_spec) {
		/* A real device: our own group fd, iommufdd's BIND + ATTACH. */
		ret = vmm_vfio_bind(h, ioas_id, vfio_spec, &vfio, &hwpt_id);
		if (ret)
			fail("--vfio: open group, IOMMUFDD_VFIO_DEVICE_BIND + ATTACH",
			     ret);
		dev_id = vfio.dev_id;
		stdev_id = 0;
	} else {
		ret = iommufd_test_mock_domain(h, ioas_id, 0, &stdev_id,
					       &hwpt_id, &dev_id);
		if (ret)
			fail("IOMMU_TEST_OP_MOCK_DOMAIN (bind + attach)", ret);
	}
	printf("device %u bound and attached to IOAS %u through HWPT %u\n",
	       dev_id, ioas_id, hwpt_id);

	/* 4. Where the device can DMA (QEMU: IOMMU_IOAS_IOVA_RANGES). */
	ret = iommufd_ioas_iova_ranges(h, ioas_id, &ranges, &nranges, &align);
	if (ret || !nranges)
		fail("IOMMU_IOAS_IOVA_RANGES", ret ? ret : -ERANGE);
	ram_iova = (ranges[0].start + GUEST_RAM_SIZE - 1) &
		   ~(uint64_t)(GUEST_RAM_SIZE - 1);
	if (ram_iova + GUEST_RAM_SIZE - 1 > ranges[0].last)
		fail("no room for guest RAM in the first IOVA range", -ENOSPC);
	printf("usable IOVA 0x%llx-0x%llx (%u range(s), alignment 0x%llx)\n",
	       (unsigned long long)ranges[0].start,
	       (unsigned long long)ranges[0].last, nranges,
	       (unsigned long long)align);
	free(ranges);

	/* 5. Guest RAM from a memfd (memory-backend-memfd), and the CPU's view. */
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, GUEST_RAM_SIZE))
		fail("guest RAM memfd", -errno);
	ram = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	if (ram == MAP_FAILED)
		fail("mmap guest RAM", -errno);

	/*
	 * 6. Map guest RAM for DMA. QEMU uses IOVA = guest physical address;
	 * the mock IOMMU's aperture starts at 16 MiB, so here guest address 0
	 * is IOVA ram_iova. QEMU >= 10.1 maps fd-backed RAM by file; without
	 * IOMMU_IOAS_MAP_FILE (Linux < 6.13) it maps the same pages by VA.
	 */
	ret = iommufd_ioas_map_file(h, ioas_id, memfd, 0, GUEST_RAM_SIZE, rw,
				    &ram_iova);
	if (ret == -ENOTTY || ret == -EOPNOTSUPP) {
		ret = iommufd_ioas_map(h, ioas_id, ram, GUEST_RAM_SIZE, rw,
				       &ram_iova);
		printf("IOMMU_IOAS_MAP_FILE unsupported, using IOMMU_IOAS_MAP\n");
	}
	if (ret)
		fail("map guest RAM", ret);
	printf("guest RAM (%u KiB memfd) mapped at IOVA 0x%llx\n",
	       GUEST_RAM_SIZE >> 10, (unsigned long long)ram_iova);

	/* 7. The guest's driver writes a request into its RAM ... */
	memcpy(ram + REQUEST_GPA, request, sizeof(request));
	printf("guest wrote \"%s\" at GPA 0x%x\n", request, REQUEST_GPA);

	if (vfio_spec) {
		ret = vfio_dma_ping(&vfio, ram, ram_iova);
		if (ret)
			return 1;
		goto done;
	}

	/* ... the device reads it by DMA, through the IOMMU ... */
	ret = dev_dma(h, dev_id, ram_iova + REQUEST_GPA, buf, sizeof(buf),
		      false);
	if (ret)
		fail("device DMA read", ret);
	if (memcmp(buf, request, sizeof(request))) {
		fprintf(stderr, "mini-vmm: device read the wrong bytes\n");
		return 1;
	}
	printf("device DMA-read \"%s\"\n", buf);

	/* ... and writes its reply by DMA, which the guest finds in RAM. */
	ret = dev_dma(h, dev_id, ram_iova + REPLY_GPA, (void *)reply,
		      sizeof(reply), true);
	if (ret)
		fail("device DMA write", ret);
	if (memcmp(ram + REPLY_GPA, reply, sizeof(reply))) {
		fprintf(stderr, "mini-vmm: the reply is not in guest RAM\n");
		return 1;
	}
	printf("guest found \"%s\" at GPA 0x%x\n", (char *)ram + REPLY_GPA,
	       REPLY_GPA);

done:
	if (hold_objects)
		hold();

	/* 8. Teardown: unmap, unbind the device (which detaches it and frees
	 * its automatic HWPT), destroy the IOAS, close. */
	ret = iommufd_ioas_unmap(h, ioas_id, ram_iova, GUEST_RAM_SIZE,
				 &unmapped);
	if (ret || unmapped != GUEST_RAM_SIZE)
		fail("IOMMU_IOAS_UNMAP", ret ? ret : -EIO);
	printf("unmapped %llu KiB\n", (unsigned long long)unmapped >> 10);
	ret = vfio_spec ? vmm_vfio_close(h, &vfio) :
			  iommufd_destroy(h, stdev_id);
	if (!ret)
		ret = iommufd_destroy(h, ioas_id);
	if (ret)
		fail("IOMMU_DESTROY", ret);
	iommufd_close(h);
	munmap(ram, GUEST_RAM_SIZE);
	close(memfd);
	printf("device unbound, IOAS destroyed: done\n");
	return 0;
}
