// SPDX-License-Identifier: MIT
/*
 * Robustness against a live /dev/iommu (ours or the kernel's with the
 * selftest mock): malformed requests get the kernel's errno and the server
 * keeps serving; a client killed in the middle of a session leaves no pin
 * behind. Prints TAP.
 *
 * usage: robustness [/dev/iommu]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#define PAGE 4096UL
#define BUF_PAGES 64

static const char *path = "/dev/iommu";

static int open_iommu(void)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("Bail out! cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	return ioc(fd, IOMMU_IOAS_ALLOC, &cmd) ? 0 : cmd.out_ioas_id;
}

static long check_refs(int fd, void *buf, size_t len, unsigned int refs)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = len,
				.uptr = (uintptr_t)buf,
				.refs = refs },
	};

	return ioc(fd, IOMMU_TEST_CMD, &cmd);
}

static void test_malformed(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd);
	size_t tail_len = 3 * PAGE;
	uint8_t *mem;
	struct iommu_ioas_map *map;
	struct iommu_ioas_allow_iovas allow = {
		.size = sizeof(allow),
		.ioas_id = ioas,
		.num_iovas = 4,
		.allowed_iovas = 8, /* an unmapped address */
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas,
		.iova = UINT64_MAX - 100,
		.length = 1000,
	};
	struct iommu_destroy destroy = { .size = sizeof(destroy), .id = 9999 };

	check(ioas != 0, "IOAS_ALLOC works");

	/* A struct followed by a guard page to test tails and huge sizes. */
	mem = mmap(NULL, tail_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(mem + 2 * PAGE, PAGE, PROT_NONE);
	map = (void *)(mem + 2 * PAGE - sizeof(*map) - 16);
	memset(mem, 0, 2 * PAGE);
	map->ioas_id = ioas;
	map->flags = IOMMU_IOAS_MAP_READABLE;
	map->user_va = (uintptr_t)mem;
	map->length = PAGE;

	map->size = 8;
	check(ioc(fd, IOMMU_IOAS_MAP, map) == -EINVAL, "short size: EINVAL");
	map->size = sizeof(*map) + 16;
	((uint8_t *)map)[sizeof(*map) + 15] = 1;
	check(ioc(fd, IOMMU_IOAS_MAP, map) == -E2BIG, "non-zero tail: E2BIG");
	((uint8_t *)map)[sizeof(*map) + 15] = 0;
	map->size = 0xffffffff;
	check(ioc(fd, IOMMU_IOAS_MAP, map) == -EFAULT,
	      "4 GiB size running into a guard page: EFAULT");
	check(ioc(fd, IOMMU_IOAS_MAP, (void *)8) == -EFAULT,
	      "bad struct pointer: EFAULT");
	check(ioc(fd, IOMMU_IOAS_ALLOW_IOVAS, &allow) == -EFAULT,
	      "bad array pointer: EFAULT");
	check(ioc(fd, IOMMU_IOAS_UNMAP, &unmap) == -EOVERFLOW,
	      "overflowing range: EOVERFLOW");
	check(ioc(fd, IOMMU_DESTROY, &destroy) == -ENOENT,
	      "unknown id: ENOENT");
	check(ioc(fd, _IO(IOMMUFD_TYPE, 0x7e), NULL) == -ENOTTY,
	      "unknown command: ENOTTY");

	map->size = sizeof(*map);
	check(ioc(fd, IOMMU_IOAS_MAP, map) == 0 && map->iova,
	      "a valid request after all that still works");
	munmap(mem, tail_len);
	close(fd);
}

/*
 * A child pins a shared buffer through a mock domain and is SIGKILLed. Its
 * file is released as it dies; the pins must be gone by the time our next
 * request is served, because requests are handled in order.
 */
static void test_killed_client(void)
{
	uint8_t *buf = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int pipefd[2], fd;
	pid_t child;
	char c;

	memset(buf, 0x5a, BUF_PAGES * PAGE);
	if (pipe(pipefd))
		exit(1);
	child = fork();
	if (child == 0) {
		struct iommu_test_cmd md = {
			.size = sizeof(md),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		};
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE |
				 IOMMU_IOAS_MAP_FIXED_IOVA,
			.user_va = (uintptr_t)buf,
			.length = BUF_PAGES * PAGE,
			.iova = MOCK_APERTURE_START,
		};
		int cfd = open_iommu();

		md.id = map.ioas_id = ioas_alloc(cfd);
		c = ioc(cfd, IOMMU_TEST_CMD, &md) == 0 &&
				    ioc(cfd, IOMMU_IOAS_MAP, &map) == 0 ?
			    'y' :
			    'n';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		c = 'n';
	check(c == 'y', "child mapped a buffer into a mock domain");

	fd = open_iommu();
	check(check_refs(fd, buf, BUF_PAGES * PAGE, 1) == 0,
	      "the child's pages are pinned once");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	check(check_refs(fd, buf, BUF_PAGES * PAGE, 0) == 0,
	      "after SIGKILL the child's pins are gone");
	check(ioas_alloc(fd) == 1, "and the server still serves");
	close(fd);
	munmap(buf, BUF_PAGES * PAGE);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		path = argv[1];
	printf("TAP version 13\n");
	test_malformed();
	test_killed_client();
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
