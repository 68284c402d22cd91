// SPDX-License-Identifier: MIT
/* Unserved userfaultfd memory for the security tests (sec_uffd.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sec_uffd.h"

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

#define PAGE 4096UL

int sec_uffd_open(const char *dev)
{
	struct uffdio_api api = { .api = UFFD_API };
	int node, uffd;

	node = open(dev, O_RDWR | O_CLOEXEC);
	if (node < 0)
		return -errno;
	uffd = ioctl(node, USERFAULTFD_IOC_NEW, O_CLOEXEC);
	close(node);
	if (uffd < 0)
		return -errno;
	if (ioctl(uffd, UFFDIO_API, &api)) {
		int err = -errno;

		close(uffd);
		return err;
	}
	return uffd;
}

int sec_uffd_register(int uffd, void *addr, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)(uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

uint64_t sec_uffd_wait_fault(int uffd, double timeout_s)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, (int)(timeout_s * 1000)) <= 0)
		return 0;
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	return msg.arg.pagefault.address;
}

int sec_uffd_zero(int uffd, uint64_t addr)
{
	struct uffdio_zeropage zero = {
		.range = { .start = addr & ~(PAGE - 1), .len = PAGE },
	};

	return ioctl(uffd, UFFDIO_ZEROPAGE, &zero) ? -errno : 0;
}
