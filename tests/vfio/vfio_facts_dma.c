/* SPDX-License-Identifier: MIT */
/*
 * vfio_facts sections about groups, devices and DMA: what holds a group in
 * its container, what a closed container fd changes, what a refused DMA
 * looks like, binding through another process's group file, and edu's
 * buffer bound (see vfio_facts.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmsg.h"
#include "vfio_facts.h"
#include "vfio_type1.h"

void sec_groups(void)
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

void sec_lifetime(void)
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

void sec_fault(void)
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

/*
 * The "VMM" of the pidfd section, in a child: it opens the group itself,
 * lets the parent (the "daemon") take the group file and set a container,
 * then gets the device fd from its own group fd and copies 64 bytes with
 * the device. With hold, it then tells the parent and waits to be killed.
 */
static void vmm_child(int to_parent, int from_parent, uint8_t *ram, int hold)
{
	struct edu_vfio *d = &dev[0];
	char c = 0;
	int ret;

	ret = edu_vfio_open_group(d);
	if (write(to_parent, &d->group_fd, sizeof(int)) != sizeof(int) ||
	    read(from_parent, &c, 1) != 1)
		_exit(3);
	ret = ret ? ret : edu_vfio_open_device(d);
	printf("fact: the VMM's GET_DEVICE_FD on its own group fd after the "
	       "daemon set the container: %s\n",
	       err(ret));
	memset(ram, 0x77, 64);
	memset(ram + 64, 0, 64);
	ret = ret ? ret : loop_copy(d, 0x100000);
	ret = ret ? ret : memcmp(ram, ram + 64, 64) ? -EIO : 0;
	printf("fact: its DMA through the daemon's mapping: %s\n", err(ret));
	fflush(stdout);
	if (hold && !ret && write(to_parent, "", 1) == 1)
		pause();
	_exit(ret ? 1 : 0);
}

/* Start the VMM child; returns the daemon's copy of its group file. */
static int take_vmm_group(pid_t *pid, uint8_t *ram, int hold, int *to_child,
			  int *from_child)
{
	int up[2], down[2], child_fd, pidfd, gfd;

	*pid = -1;
	*to_child = *from_child = -1;
	if (pipe(up) || pipe(down))
		return -errno;
	fflush(stdout);
	*pid = fork();
	if (*pid < 0)
		return -errno;
	if (*pid == 0) {
		close(up[0]);
		close(down[1]);
		vmm_child(up[1], down[0], ram, hold);
	}
	close(up[1]);
	close(down[0]);
	*to_child = down[1];
	*from_child = up[0];
	if (read(up[0], &child_fd, sizeof(int)) != sizeof(int) || child_fd < 0)
		return -EIO;
	pidfd = syscall(SYS_pidfd_open, *pid, 0);
	if (pidfd < 0)
		return -errno;
	gfd = syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	gfd = gfd < 0 ? -errno : gfd;
	close(pidfd);
	return gfd;
}

/* One round: the daemon binds the VMM's group; round 1 kills the VMM. */
static void pidfd_round(uint8_t *ram, int kill_vmm)
{
	int gfd, c, to_child, from_child, st, ret;
	char ready;
	pid_t pid;

	gfd = take_vmm_group(&pid, ram, kill_vmm, &to_child, &from_child);
	printf("fact: pidfd_getfd of the VMM's group fd: %s\n",
	       gfd < 0 ? err(gfd) : "ok");
	c = vfio_container_open();
	ret = gfd < 0 ? gfd : vfio_group_set_container(gfd, c);
	ret = ret ? ret : vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	ret = ret ? ret : vfio_dma_map(c, ram, 0x100000, PAGE, true);
	printf("daemon: SET_CONTAINER on the taken group file, SET_IOMMU, "
	       "MAP_DMA: %s\n",
	       err(ret));
	if (write(to_child, "", 1) != 1)
		printf("cannot wake the VMM\n");
	if (kill_vmm && read(from_child, &ready, 1) == 1) {
		ret = vfio_group_unset_container(gfd);
		printf("fact: daemon UNSET_CONTAINER while the VMM holds its "
		       "device fd: %s\n",
		       err(ret));
		kill(pid, SIGKILL);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	ret = gfd < 0 ? gfd : vfio_group_unset_container(gfd);
	printf("fact: daemon UNSET_CONTAINER after the VMM %s: %s\n",
	       kill_vmm ? "was SIGKILLed with its device open" :
			  "exited normally",
	       err(ret));
	if (gfd >= 0)
		close(gfd);
	close(c);
	if (to_child >= 0)
		close(to_child);
	if (from_child >= 0)
		close(from_child);
}

void sec_pidfd(void)
{
	uint8_t *ram = memfd_buffer("pidfd", PAGE, NULL);

	printf("\n## pidfd\n");
	if (!ram)
		return;
	pidfd_round(ram, 0);
	pidfd_round(ram, 1);
	munmap(ram, PAGE);
}

/* A transfer that fills the device's buffer exactly: raw registers. */
void sec_full_buffer(void)
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
