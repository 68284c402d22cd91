// SPDX-License-Identifier: MIT
/*
 * libiommufd against a fake /dev/iommu: the daemon core, run in-process.
 *
 * The library's sources are compiled into this test and linked with
 * -Wl,--wrap=ioctl, so their one ioctl() call lands in __wrap_ioctl() below.
 * That forwards ioctls on the fake's fd to the core with this thread as the
 * caller, so struct copies, pinning and the mock IOMMU all run for real;
 * every other fd reaches the real ioctl(). Needs root, as the core does for
 * pinning and pagemap frames; skips otherwise.
 *
 * Most tests check results the core computes (IDs, IOVAs, translations,
 * pin counts, dirty bits). The vIOMMU-family wrappers are checked here
 * through the struct the library sent and the errno that came back; what
 * the core does with them is test_viommu.c's.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libiommufd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "../libiommufd/fake_iommu.h"
#include "cannot_run.h"

#define BUF_PAGES 16
#define MOCK_IO_PAGE 2048 /* the mock's IOPTE size; one dirty bit each */
#define MiB (1ULL << 20)
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

int __wrap_ioctl(int fd, unsigned long req, ...);
int __real_ioctl(int fd, unsigned long req, ...);

static size_t page_size;
static size_t buf_size;
static uint8_t *buf, *buf2; /* MAP_SHARED, as the kernel selftests use */

/* The open fake device, if any, and the handle the tests use on it. */
static struct fake_iommu *fake;
static int fake_fd = -1;
static struct iommufd *h;

/* What the library last sent to the fake, and a hook to run before it. */
static struct {
	unsigned int calls;
	unsigned long cmd;
	unsigned char arg[128];
	void (*before)(unsigned long cmd, void *arg, unsigned int nth);
} seen;

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	uint32_t size = 0;
	va_list ap;
	void *arg;
	long ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake || fd != fake_fd)
		return __real_ioctl(fd, req, arg);

	seen.calls++;
	seen.cmd = req;
	memset(seen.arg, 0, sizeof(seen.arg));
	if (arg) {
		memcpy(&size, arg, sizeof(size));
		memcpy(seen.arg, arg,
		       size < sizeof(seen.arg) ? size : sizeof(seen.arg));
	}
	if (seen.before)
		seen.before(req, arg, seen.calls);
	ret = fake_iommu_ioctl(fake, req, arg);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

/* The last command as the library encoded it. */
#define SEEN(type) ((const type *)seen.arg)

static int setup(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	/* Any real fd will do as the fake's; /dev/null is never an iommufd. */
	if (iommufd_open("/dev/null", &h))
		return -1;
	fake_fd = iommufd_fd(h);
	fake = fake_iommu_open();
	return fake ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	iommufd_close(h);
	h = NULL;
	fake_iommu_close(fake);
	fake = NULL;
	fake_fd = -1;
	return 0;
}

static uint32_t ioas_alloc(void)
{
	uint32_t id = 0;

	assert_int_equal(iommufd_ioas_alloc(h, &id), 0);
	return id;
}

/* errno must carry the same code as the return value. */
#define assert_err(call, err)                     \
	do {                                      \
		errno = 0;                        \
		assert_int_equal((call), -(err)); \
		assert_int_equal(errno, (err));   \
	} while (0)

/* ---- handles ------------------------------------------------------------- */

static void test_open_close(void **state)
{
	struct iommufd *t = (struct iommufd *)1;
	int fd;

	(void)state;
	assert_err(iommufd_open("/nonexistent/iommu", &t), ENOENT);
	assert_null(t);
	assert_err(iommufd_open("/dev/null", NULL), EINVAL);
	if (access("/dev/iommu", F_OK) && errno == ENOENT) {
		/* NULL means /dev/iommu, which this machine lacks. */
		assert_err(iommufd_open(NULL, &t), ENOENT);
	}

	assert_int_equal(iommufd_open("/dev/null", &t), 0);
	fd = iommufd_fd(t);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Not an iommufd: the real kernel's errno comes back unchanged. */
	{
		uint32_t id = 77;

		assert_err(iommufd_ioas_alloc(t, &id), ENOTTY);
		assert_int_equal(id, 77); /* untouched on failure */
	}
	errno = EDOM;
	iommufd_close(t); /* owns the fd from iommufd_open() */
	assert_int_equal(errno, EDOM);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	iommufd_close(NULL);
	assert_err(iommufd_fd(NULL), EINVAL);
	assert_err(iommufd_destroy(NULL, 1), EINVAL);
	assert_err(iommufd_ioas_unmap(NULL, 1, 0, 1, NULL), EINVAL);
}

static void test_from_fd(void **state)
{
	struct iommufd *t = (struct iommufd *)1;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	/* Borrowed: closing the handle leaves the fd to its owner. */
	assert_int_equal(iommufd_from_fd(fd, 0, &t), 0);
	assert_int_equal(iommufd_fd(t), fd);
	iommufd_close(t);
	assert_true(fcntl(fd, F_GETFD) >= 0);

	assert_err(iommufd_from_fd(fd, 1U << 7, &t), EOPNOTSUPP);
	assert_null(t);
	assert_true(fcntl(fd, F_GETFD) >= 0); /* still the caller's */
	assert_err(iommufd_from_fd(fd, 0, NULL), EINVAL);
	assert_err(iommufd_from_fd(-1, 0, &t), EBADF);

	/* Owned: closing the handle closes the fd. */
	assert_int_equal(
		iommufd_from_fd(fd, IOMMUFD_FROM_FD_TAKE_OWNERSHIP, &t), 0);
	iommufd_close(t);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_err(iommufd_from_fd(fd, 0, &t), EBADF);
}

struct log_capture {
	unsigned int count;
	int priority;
	char last[256];
};

static void capture_log(void *userdata, int priority, const char *msg)
{
	struct log_capture *c = userdata;

	c->count++;
	c->priority = priority;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

static void test_log_fn(void **state)
{
	struct log_capture c = { 0 };

	(void)state;
	/* Silent by default: nothing to observe but the absence of a crash. */
	assert_err(iommufd_destroy(h, 99), ENOENT);

	iommufd_set_log_fn(h, capture_log, &c);
	assert_int_equal(iommufd_destroy(h, ioas_alloc()), 0);
	assert_int_equal(c.count, 0); /* success is not news */
	assert_err(iommufd_destroy(h, 99), ENOENT);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.priority, IOMMUFD_LOG_DEBUG);
	assert_non_null(strstr(c.last, "IOMMU_DESTROY"));
	assert_non_null(strstr(c.last, strerror(ENOENT)));

	iommufd_set_log_fn(h, NULL, NULL);
	assert_err(iommufd_destroy(h, 99), ENOENT);
	assert_int_equal(c.count, 1);
}

/* ---- objects and IOVA ranges ------------------------------------------- */

static void test_destroy_ids(void **state)
{
	uint32_t stdev = 0, hwpt = 0, idev = 0;
	unsigned int calls;

	(void)state;
	assert_int_equal(ioas_alloc(), 1);
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(iommufd_destroy(h, 1), 0);
	assert_err(iommufd_destroy(h, 1), ENOENT);
	assert_int_equal(ioas_alloc(), 1); /* the lowest free ID again */

	/* selftest object, device, then the automatic HWPT */
	assert_int_equal(
		iommufd_test_mock_domain(h, 2, 0, &stdev, &hwpt, &idev), 0);
	assert_int_equal(stdev, 3);
	assert_int_equal(idev, 4);
	assert_int_equal(hwpt, 5);
	assert_int_equal(SEEN(struct iommu_test_cmd)->op,
			 IOMMU_TEST_OP_MOCK_DOMAIN);
	assert_err(iommufd_destroy(h, 2), EBUSY);
	assert_int_equal(iommufd_destroy(h, stdev), 0);
	assert_int_equal(iommufd_destroy(h, 2), 0);

	/* A missing required output is refused before any ioctl. */
	calls = seen.calls;
	assert_err(iommufd_ioas_alloc(h, NULL), EINVAL);
	assert_int_equal(seen.calls, calls);
}

static void check_range(const struct iommufd_iova_range *r, uint64_t start,
			uint64_t last)
{
	assert_true(r->start == start);
	assert_true(r->last == last);
}

/* Reserve one more MiB while the library is between two calls. */
static void grow_before_second_call(unsigned long cmd, void *arg,
				    unsigned int nth)
{
	const struct iommu_ioas_iova_ranges *r = arg;
	struct iommu_test_cmd resv = {
		.size = sizeof(resv),
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = r->ioas_id,
		.add_reserved = { .start = 30 * MiB, .length = MiB },
	};

	if (cmd != IOMMU_IOAS_IOVA_RANGES || nth != 2)
		return;
	assert_int_equal(fake_iommu_ioctl(fake, IOMMU_TEST_CMD, &resv), 0);
}

static void test_iova_ranges(void **state)
{
	struct iommufd_iova_range *ranges = NULL, *sentinel;
	uint32_t ioas = ioas_alloc(), num = 0, i;
	uint64_t align = 0;
	struct log_capture c = { 0 };

	(void)state;
	seen.calls = 0;
	assert_int_equal(
		iommufd_ioas_iova_ranges(h, ioas, &ranges, &num, &align), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(num, 1);
	check_range(&ranges[0], 0, UINT64_MAX);
	assert_int_equal(align, 1);
	free(ranges);

	/* Ten reservations leave eleven holes: more than the first guess. */
	for (i = 0; i < 10; i++)
		assert_int_equal(iommufd_test_add_reserved(
					 h, ioas, (2 * i + 1) * MiB, MiB),
				 0);
	seen.calls = 0;
	assert_int_equal(iommufd_ioas_iova_ranges(h, ioas, &ranges, &num, NULL),
			 0);
	assert_int_equal(seen.calls, 2); /* EMSGSIZE, then the right size */
	assert_int_equal(num, 11);
	check_range(&ranges[0], 0, MiB - 1);
	for (i = 1; i < 10; i++)
		check_range(&ranges[i], 2 * i * MiB, (2 * i + 1) * MiB - 1);
	check_range(&ranges[10], 20 * MiB, UINT64_MAX);
	free(ranges);

	/* The count changes between the calls: ask until it settles. */
	iommufd_set_log_fn(h, capture_log, &c);
	seen.calls = 0;
	seen.before = grow_before_second_call;
	assert_int_equal(iommufd_ioas_iova_ranges(h, ioas, &ranges, &num, NULL),
			 0);
	seen.before = NULL;
	assert_int_equal(seen.calls, 3);
	assert_int_equal(num, 12);
	check_range(&ranges[10], 20 * MiB, 30 * MiB - 1);
	check_range(&ranges[11], 31 * MiB, UINT64_MAX);
	free(ranges);
	/* One line per retry; the expected EMSGSIZE is not a failure. */
	assert_int_equal(c.count, 2);
	assert_non_null(strstr(c.last, "asking again"));

	/* A real failure is logged and leaves the outputs alone. */
	sentinel = (struct iommufd_iova_range *)&c;
	ranges = sentinel;
	assert_err(iommufd_ioas_iova_ranges(h, 99, &ranges, &num, NULL),
		   ENOENT);
	assert_ptr_equal(ranges, sentinel);
	assert_int_equal(c.count, 3);
	assert_non_null(strstr(c.last, "IOMMU_IOAS_IOVA_RANGES"));
	iommufd_set_log_fn(h, NULL, NULL);
	assert_err(iommufd_ioas_iova_ranges(h, ioas, NULL, &num, NULL), EINVAL);
	assert_err(iommufd_ioas_iova_ranges(h, ioas, &ranges, NULL, NULL),
		   EINVAL);
}

static void test_allow_iovas(void **state)
{
	const struct iommufd_iova_range allowed[] = {
		{ .start = 16 * MiB, .last = 32 * MiB - 1 },
	};
	const struct iommufd_iova_range bad[] = {
		{ .start = 8 * MiB, .last = 4 * MiB },
	};
	uint32_t ioas = ioas_alloc();
	uint64_t iova = 0;

	(void)state;
	assert_int_equal(iommufd_ioas_allow_iovas(h, ioas, allowed, 1), 0);
	assert_int_equal(SEEN(struct iommu_ioas_allow_iovas)->num_iovas, 1);
	/* Automatic IOVA now comes from the allowed range only. */
	assert_int_equal(iommufd_ioas_map(h, ioas, buf, buf_size,
					  IOMMU_IOAS_MAP_READABLE, &iova),
			 0);
	assert_true(iova >= 16 * MiB && iova + buf_size - 1 < 32 * MiB);
	/* and a reservation inside it is refused */
	assert_err(iommufd_test_add_reserved(h, ioas, 20 * MiB, MiB),
		   EADDRINUSE);

	assert_err(iommufd_ioas_allow_iovas(h, ioas, bad, 1), EINVAL);
	assert_err(iommufd_ioas_allow_iovas(h, ioas, NULL, 1), EINVAL);
	assert_err(iommufd_ioas_allow_iovas(h, 99, allowed, 1), ENOENT);
	assert_int_equal(iommufd_ioas_unmap(h, ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(iommufd_ioas_allow_iovas(h, ioas, NULL, 0), 0);
}

/* ---- mapping ------------------------------------------------------------ */

static void test_map_unmap(void **state)
{
	uint32_t ioas = ioas_alloc(), hwpt = 0;
	uint64_t iova = 12345, iova2 = MOCK_APERTURE_START + 64 * MiB, done = 0;
	unsigned int calls;

	(void)state;
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, &hwpt, NULL), 0);
	/* No FIXED_IOVA: the input IOVA is not sent, the chosen one returns. */
	assert_int_equal(iommufd_ioas_map(h, ioas, buf, buf_size,
					  IOMMU_IOAS_MAP_READABLE |
						  IOMMU_IOAS_MAP_WRITEABLE,
					  &iova),
			 0);
	assert_int_equal(SEEN(struct iommu_ioas_map)->iova, 0);
	assert_int_equal(SEEN(struct iommu_ioas_map)->user_va, (uintptr_t)buf);
	assert_true(iova != 12345);
	/* The mock domain translates the IOVA to exactly these pages. */
	assert_int_equal(iommufd_test_check_map(h, hwpt, iova, buf_size, buf),
			 0);
	assert_int_equal(iommufd_test_check_refs(h, buf, buf_size, 1), 0);
	assert_err(iommufd_test_check_map(h, hwpt, iova, page_size,
					  buf + page_size),
		   EINVAL);

	/* FIXED_IOVA keeps the caller's IOVA. */
	assert_int_equal(iommufd_ioas_map(h, ioas, buf2, buf_size,
					  IOMMU_IOAS_MAP_READABLE |
						  IOMMU_IOAS_MAP_FIXED_IOVA,
					  &iova2),
			 0);
	assert_true(iova2 == MOCK_APERTURE_START + 64 * MiB);
	assert_int_equal(iommufd_test_check_map(h, hwpt, iova2, buf_size, buf2),
			 0);
	assert_err(iommufd_ioas_map(h, ioas, buf2, page_size,
				    IOMMU_IOAS_MAP_READABLE |
					    IOMMU_IOAS_MAP_FIXED_IOVA,
				    &iova),
		   EEXIST);
	assert_err(iommufd_ioas_map(h, ioas, buf2, page_size, 0, &iova2),
		   EINVAL);
	calls = seen.calls;
	assert_err(iommufd_ioas_map(h, ioas, buf2, page_size,
				    IOMMU_IOAS_MAP_READABLE, NULL),
		   EINVAL);
	assert_int_equal(seen.calls, calls);

	/* Whole mappings only; the unmapped length comes back. */
	assert_err(iommufd_ioas_unmap(h, ioas, iova, page_size, &done), ENOENT);
	assert_int_equal(iommufd_ioas_unmap(h, ioas, iova, buf_size, &done), 0);
	assert_int_equal(done, buf_size);
	assert_int_equal(iommufd_test_check_refs(h, buf, buf_size, 0), 0);
	done = 7;
	assert_err(iommufd_ioas_unmap(h, ioas, iova, buf_size, &done), ENOENT);
	assert_int_equal(done, 7);
	assert_err(iommufd_ioas_unmap(h, ioas, UINT64_MAX - 10, 100, NULL),
		   EOVERFLOW);
	/* iova 0, length UINT64_MAX: everything */
	assert_int_equal(iommufd_ioas_unmap(h, ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, buf_size);
	assert_err(iommufd_ioas_unmap(h, 99, 0, UINT64_MAX, NULL), ENOENT);
}

static void test_copy(void **state)
{
	uint32_t src = ioas_alloc(), dst = ioas_alloc(), dst_hwpt = 0;
	uint64_t iova = 0, dst_iova = 1,
		 fixed = MOCK_APERTURE_START + 128 * MiB;
	const uint32_t rw = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;

	(void)state;
	assert_int_equal(iommufd_test_mock_domain(h, src, 0, NULL, NULL, NULL),
			 0);
	assert_int_equal(
		iommufd_test_mock_domain(h, dst, 0, NULL, &dst_hwpt, NULL), 0);
	assert_int_equal(iommufd_ioas_map(h, src, buf, buf_size, rw, &iova), 0);

	assert_int_equal(iommufd_ioas_copy(h, dst, src, iova, buf_size, rw,
					   &dst_iova),
			 0);
	assert_int_equal(SEEN(struct iommu_ioas_copy)->dst_iova, 0);
	assert_int_equal(SEEN(struct iommu_ioas_copy)->src_iova, iova);
	/* The destination domain sees the same pages, pinned only once. */
	assert_int_equal(iommufd_test_check_map(h, dst_hwpt, dst_iova, buf_size,
						buf),
			 0);
	assert_int_equal(iommufd_test_check_refs(h, buf, buf_size, 1), 0);

	assert_int_equal(
		iommufd_ioas_copy(h, dst, src, iova + page_size, page_size,
				  rw | IOMMU_IOAS_MAP_FIXED_IOVA, &fixed),
		0);
	assert_true(fixed == MOCK_APERTURE_START + 128 * MiB);
	assert_int_equal(iommufd_test_check_map(h, dst_hwpt, fixed, page_size,
						buf + page_size),
			 0);

	assert_err(iommufd_ioas_copy(h, dst, src, iova + buf_size, page_size,
				     rw, &dst_iova),
		   ENOENT);
	assert_err(iommufd_ioas_copy(h, dst, src, iova, buf_size, rw, NULL),
		   EINVAL);
}

static void test_map_file(void **state)
{
	uint32_t ioas = ioas_alloc(), hwpt = 0, other;
	uint64_t iova = 0, length;
	int memfd, rofd;
	uint8_t *mem;
	char path[64];

	(void)state;
	memfd = memfd_create("libiommufd-test", MFD_CLOEXEC);
	assert_true(memfd >= 0);
	assert_int_equal(ftruncate(memfd, (off_t)buf_size), 0);
	mem = mmap(NULL, buf_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		   0);
	assert_true(mem != MAP_FAILED);
	memset(mem, 0x5a, buf_size);
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, &hwpt, NULL), 0);

	/* From the second page on: start is a file offset, not an address. */
	length = buf_size - page_size;
	assert_int_equal(iommufd_ioas_map_file(h, ioas, memfd, page_size,
					       length,
					       IOMMU_IOAS_MAP_READABLE |
						       IOMMU_IOAS_MAP_WRITEABLE,
					       &iova),
			 0);
	assert_int_equal(SEEN(struct iommu_ioas_map_file)->fd, memfd);
	assert_int_equal(iommufd_test_check_map(h, hwpt, iova, length,
						mem + page_size),
			 0);

	/* A read-only fd cannot back a writeable mapping. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(rofd >= 0);
	assert_err(iommufd_ioas_map_file(h, ioas, rofd, 0, page_size,
					 IOMMU_IOAS_MAP_READABLE |
						 IOMMU_IOAS_MAP_WRITEABLE,
					 &iova),
		   EPERM);
	assert_err(iommufd_ioas_map_file(h, ioas, -1, 0, page_size,
					 IOMMU_IOAS_MAP_READABLE, &iova),
		   EBADF);

	/* Only file-backed mappings: the caller (their owner) takes them. */
	assert_int_equal(iommufd_ioas_change_process(h), 0);
	assert_int_equal(seen.cmd, IOMMU_IOAS_CHANGE_PROCESS);
	assert_int_equal(SEEN(struct iommu_ioas_change_process)->size,
			 sizeof(struct iommu_ioas_change_process));
	assert_int_equal(SEEN(struct iommu_ioas_change_process)->__reserved, 0);
	/* User memory mapped anywhere refuses the move. */
	other = ioas_alloc();
	iova = 0;
	assert_int_equal(iommufd_ioas_map(h, other, buf, page_size,
					  IOMMU_IOAS_MAP_READABLE, &iova),
			 0);
	assert_err(iommufd_ioas_change_process(h), EINVAL);
	assert_int_equal(iommufd_ioas_unmap(h, other, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(iommufd_ioas_change_process(h), 0);

	assert_int_equal(iommufd_ioas_unmap(h, ioas, 0, UINT64_MAX, NULL), 0);
	close(rofd);
	munmap(mem, buf_size);
	close(memfd);
}

/* ---- IOMMU_OPTION and IOMMU_VFIO_IOAS ------------------------------------- */

/* The daemon, like the kernel, lets only CAP_SYS_RESOURCE set RLIMIT_MODE. */
static bool has_cap_sys_resource(void)
{
	unsigned long long capeff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &capeff) == 1)
			break;
	fclose(f);
	return capeff & (1ULL << 24);
}

static void test_options(void **state)
{
	uint32_t mode = 7, enabled = 7, expected, ioas;
	uint64_t val = 7;

	(void)state;
	assert_int_equal(iommufd_rlimit_mode_get(h, &mode), 0);
	assert_int_equal(mode, 0);
	if (has_cap_sys_resource()) {
		assert_err(iommufd_rlimit_mode_set(h, 2), EINVAL);
		assert_int_equal(iommufd_rlimit_mode_set(h, 1), 0);
		expected = 1;
	} else {
		/* Containers often drop it: the refusal must come through. */
		assert_err(iommufd_rlimit_mode_set(h, 1), EPERM);
		expected = 0;
	}
	assert_int_equal(SEEN(struct iommu_option)->option_id,
			 IOMMU_OPTION_RLIMIT_MODE);
	assert_int_equal(SEEN(struct iommu_option)->op, IOMMU_OPTION_OP_SET);
	assert_int_equal(SEEN(struct iommu_option)->val64, 1);
	assert_int_equal(iommufd_rlimit_mode_get(h, &mode), 0);
	assert_int_equal(mode, expected);
	assert_int_equal(
		iommufd_option_get(h, IOMMU_OPTION_RLIMIT_MODE, 0, &val), 0);
	assert_int_equal(val, expected);
	assert_err(iommufd_option_get(h, 99, 0, &val), EOPNOTSUPP);
	assert_err(iommufd_rlimit_mode_get(h, NULL), EINVAL);

	/* Context-wide accounting is fixed once an object exists. */
	ioas = ioas_alloc();
	if (has_cap_sys_resource())
		assert_err(iommufd_rlimit_mode_set(h, 0), EBUSY);

	assert_int_equal(iommufd_ioas_huge_pages_get(h, ioas, &enabled), 0);
	assert_int_equal(enabled, 1);
	assert_int_equal(iommufd_ioas_huge_pages_set(h, ioas, 0), 0);
	assert_int_equal(SEEN(struct iommu_option)->object_id, ioas);
	assert_int_equal(iommufd_ioas_huge_pages_get(h, ioas, &enabled), 0);
	assert_int_equal(enabled, 0);
	assert_int_equal(
		iommufd_option_set(h, IOMMU_OPTION_HUGE_PAGES, ioas, 1), 0);
	assert_int_equal(
		iommufd_option_get(h, IOMMU_OPTION_HUGE_PAGES, ioas, &val), 0);
	assert_int_equal(val, 1);
	assert_err(iommufd_ioas_huge_pages_set(h, ioas, 2), EINVAL);
	assert_err(iommufd_ioas_huge_pages_get(h, 99, &enabled), ENOENT);
}

static void test_vfio_ioas(void **state)
{
	uint32_t ioas = ioas_alloc(), got = 0;

	(void)state;
	assert_err(iommufd_vfio_ioas_get(h, &got), ENODEV);
	assert_int_equal(iommufd_vfio_ioas_set(h, ioas), 0);
	assert_int_equal(iommufd_vfio_ioas_get(h, &got), 0);
	assert_int_equal(got, ioas);
	assert_err(iommufd_vfio_ioas_set(h, 99), ENOENT);
	assert_int_equal(iommufd_vfio_ioas_clear(h), 0);
	assert_err(iommufd_vfio_ioas_get(h, &got), ENODEV);
	assert_err(iommufd_vfio_ioas_get(h, NULL), EINVAL);
}

/* ---- HW page tables ------------------------------------------------------ */

static void test_hwpt_alloc(void **state)
{
	uint32_t ioas = ioas_alloc(), idev = 0, hwpt = 0, parent = 0,
		 nested = 0, i;
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, parent_opts,
		     .flags = IOMMU_HWPT_ALLOC_NEST_PARENT);
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, nested_opts, .data = &data,
		     .data_type = IOMMU_HWPT_DATA_SELFTEST,
		     .data_len = sizeof(data));
	uint64_t iova = 0;

	(void)state;
	assert_int_equal(parent_opts.sz, sizeof(parent_opts));
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, NULL, &idev), 0);

	/* A paging HWPT mirrors the IOAS: it translates what was mapped. */
	assert_int_equal(iommufd_hwpt_alloc(h, idev, ioas, NULL, &hwpt), 0);
	assert_int_equal(SEEN(struct iommu_hwpt_alloc)->size,
			 sizeof(struct iommu_hwpt_alloc));
	assert_int_equal(SEEN(struct iommu_hwpt_alloc)->data_type,
			 IOMMU_HWPT_DATA_NONE);
	assert_int_equal(iommufd_ioas_map(h, ioas, buf, buf_size,
					  IOMMU_IOAS_MAP_READABLE, &iova),
			 0);
	assert_int_equal(iommufd_test_check_map(h, hwpt, iova, buf_size, buf),
			 0);

	/* Nested: a stage 1 with driver data on a nesting parent. */
	assert_int_equal(
		iommufd_hwpt_alloc(h, idev, ioas, &parent_opts, &parent), 0);
	assert_int_equal(SEEN(struct iommu_hwpt_alloc)->flags,
			 IOMMU_HWPT_ALLOC_NEST_PARENT);
	assert_int_equal(
		iommufd_hwpt_alloc(h, idev, parent, &nested_opts, &nested), 0);
	assert_int_equal(SEEN(struct iommu_hwpt_alloc)->data_uptr,
			 (uintptr_t)&data);
	for (i = 0; i <= MOCK_NESTED_DOMAIN_IOTLB_ID_MAX; i++)
		assert_int_equal(
			iommufd_test_check_iotlb(h, nested, i,
						 IOMMU_TEST_IOTLB_DEFAULT),
			0);
	assert_err(iommufd_test_check_iotlb(h, nested, 0, 0), EINVAL);
	/* A plain paging parent cannot carry a nested HWPT. */
	assert_err(iommufd_hwpt_alloc(h, idev, hwpt, &nested_opts, &nested),
		   EINVAL);

	/* EINVAL for a pt_id that does not suit is what VMMs probe with. */
	assert_err(iommufd_hwpt_alloc(h, idev, 99, NULL, &hwpt), EINVAL);
	assert_err(iommufd_hwpt_alloc(h, 99, ioas, NULL, &hwpt), ENOENT);
	assert_err(iommufd_hwpt_alloc(h, idev, ioas, NULL, NULL), EINVAL);
	assert_int_equal(iommufd_ioas_unmap(h, ioas, 0, UINT64_MAX, NULL), 0);
}

static void test_opts_rules(void **state)
{
	uint32_t ioas = ioas_alloc(), idev = 0, hwpt = 0;
	struct {
		struct iommufd_hwpt_alloc_opts opts;
		uint64_t newer_field;
	} newer;
	struct iommufd_hwpt_alloc_opts older;
	unsigned int calls;

	(void)state;
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, NULL, &idev), 0);

	/* sz must at least cover itself; nothing reaches the kernel. */
	memset(&older, 0, sizeof(older));
	calls = seen.calls;
	assert_err(iommufd_hwpt_alloc(h, idev, ioas, &older, &hwpt), EINVAL);
	assert_int_equal(seen.calls, calls);

	/* A newer caller's extra field: fine while zero, E2BIG once used. */
	memset(&newer, 0, sizeof(newer));
	newer.opts.sz = sizeof(newer);
	assert_int_equal(iommufd_hwpt_alloc(h, idev, ioas, &newer.opts, &hwpt),
			 0);
	newer.newer_field = 1;
	assert_err(iommufd_hwpt_alloc(h, idev, ioas, &newer.opts, &hwpt),
		   E2BIG);
	assert_int_equal(seen.calls, calls + 1);

	/* An older caller's struct ends early: fields past sz read as 0. */
	older.sz = offsetofend(struct iommufd_hwpt_alloc_opts, data_len);
	older.flags = IOMMU_HWPT_ALLOC_NEST_PARENT; /* not the caller's */
	assert_int_equal(iommufd_hwpt_alloc(h, idev, ioas, &older, &hwpt), 0);
	assert_int_equal(SEEN(struct iommu_hwpt_alloc)->flags, 0);
}

static void test_hw_info(void **state)
{
	uint32_t ioas = ioas_alloc(), idev = 0, pasid_idev = 0;
	struct iommu_test_hw_info data;
	uint8_t big[16];
	IOMMUFD_OPTS(iommufd_hw_info_opts, info, .data = &data,
		     .data_len = sizeof(data));

	(void)state;
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, NULL, &idev), 0);
	assert_int_equal(iommufd_get_hw_info(h, idev, &info), 0);
	assert_int_equal(SEEN(struct iommu_hw_info)->flags, 0);
	assert_int_equal(info.out_data_type, IOMMU_HW_INFO_TYPE_SELFTEST);
	assert_int_equal(info.data_len, sizeof(data));
	assert_int_equal(data.test_reg, IOMMU_HW_INFO_SELFTEST_REGVAL);
	assert_true(info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING);
	assert_int_equal(info.out_max_pasid_log2, 0);

	/* A larger buffer gets the data and a zeroed tail. */
	memset(big, 0xff, sizeof(big));
	info.data = big;
	info.data_len = sizeof(big);
	assert_int_equal(iommufd_get_hw_info(h, idev, &info), 0);
	assert_int_equal(info.data_len, sizeof(struct iommu_test_hw_info));
	assert_int_equal(big[8], 0);
	assert_int_equal(big[15], 0);

	/* A named type sets INPUT_TYPE; the mock only speaks its own. */
	info.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	assert_err(iommufd_get_hw_info(h, idev, &info), EOPNOTSUPP);
	assert_int_equal(SEEN(struct iommu_hw_info)->flags,
			 IOMMU_HW_INFO_FLAG_INPUT_TYPE);
	info.in_data_type = IOMMU_HW_INFO_TYPE_SELFTEST;
	assert_int_equal(iommufd_get_hw_info(h, idev, &info), 0);

	/* A PASID-capable mock device, via MOCK_DOMAIN_FLAGS. */
	assert_int_equal(iommufd_test_mock_domain(h, ioas,
						  MOCK_FLAGS_DEVICE_PASID, NULL,
						  NULL, &pasid_idev),
			 0);
	assert_int_equal(SEEN(struct iommu_test_cmd)->op,
			 IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS);
	info.in_data_type = 0;
	assert_int_equal(iommufd_get_hw_info(h, pasid_idev, &info), 0);
	assert_int_equal(info.out_max_pasid_log2, MOCK_PASID_WIDTH);

	/* Outputs past an older caller's sz stay untouched. */
	info.sz = offsetof(struct iommufd_hw_info_opts, out_max_pasid_log2);
	info.out_max_pasid_log2 = 77;
	assert_int_equal(iommufd_get_hw_info(h, pasid_idev, &info), 0);
	assert_int_equal(info.out_max_pasid_log2, 77);

	assert_err(iommufd_get_hw_info(h, 99, &info), ENOENT);
	assert_err(iommufd_get_hw_info(h, idev, NULL), EINVAL);
}

static void test_dirty_tracking(void **state)
{
	uint32_t ioas = ioas_alloc(), stdev = 0, idev = 0, auto_hwpt = 0,
		 hwpt = 0, replaced = 0, plain = 0;
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, opts,
		     .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	uint64_t iova = MOCK_APERTURE_START, mark = 0, bitmap = 0, nr = 0;

	(void)state;
	assert_int_equal(iommufd_test_mock_domain(h, ioas, 0, &stdev,
						  &auto_hwpt, &idev),
			 0);
	assert_int_equal(iommufd_hwpt_alloc(h, idev, ioas, &opts, &hwpt), 0);
	assert_int_equal(
		iommufd_test_mock_domain_replace(h, stdev, hwpt, &replaced), 0);
	assert_int_equal(replaced, hwpt);
	assert_int_equal(iommufd_ioas_map(h, ioas, buf, buf_size,
					  IOMMU_IOAS_MAP_READABLE |
						  IOMMU_IOAS_MAP_WRITEABLE |
						  IOMMU_IOAS_MAP_FIXED_IOVA,
					  &iova),
			 0);

	/* Marking needs tracking on. */
	mark = (1ULL << 1) | (1ULL << 5);
	assert_err(iommufd_test_dirty(h, hwpt, iova, buf_size, MOCK_IO_PAGE,
				      &mark, &nr),
		   EINVAL);
	assert_int_equal(iommufd_hwpt_set_dirty_tracking(
				 h, hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
			 0);
	assert_int_equal(iommufd_test_dirty(h, hwpt, iova, buf_size,
					    MOCK_IO_PAGE, &mark, &nr),
			 0);
	assert_int_equal(nr, 2);

	/* NO_CLEAR reads without consuming; a plain read consumes. */
	assert_int_equal(iommufd_hwpt_get_dirty_bitmap(
				 h, hwpt, iova, buf_size, MOCK_IO_PAGE, &bitmap,
				 IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
			 0);
	assert_int_equal(bitmap, mark);
	bitmap = 0;
	assert_int_equal(iommufd_hwpt_get_dirty_bitmap(h, hwpt, iova, buf_size,
						       MOCK_IO_PAGE, &bitmap,
						       0),
			 0);
	assert_int_equal(bitmap, mark);
	bitmap = 0;
	assert_int_equal(iommufd_hwpt_get_dirty_bitmap(h, hwpt, iova, buf_size,
						       MOCK_IO_PAGE, &bitmap,
						       0),
			 0);
	assert_int_equal(bitmap, 0);
	/*
	 * Length 0: Debian's 6.12 refuses it (EINVAL); the newest kernel has
	 * no such check, so iova + 0 - 1 overflows (abi.h,
	 * dirty-bitmap-zero-length).
	 */
	assert_err(iommufd_hwpt_get_dirty_bitmap(h, hwpt, iova, 0, MOCK_IO_PAGE,
						 &bitmap, 0),
		   EOVERFLOW);
	assert_int_equal(fake_iommu_set_abi("6.12"), 0);
	assert_err(iommufd_hwpt_get_dirty_bitmap(h, hwpt, iova, 0, MOCK_IO_PAGE,
						 &bitmap, 0),
		   EINVAL);
	assert_int_equal(fake_iommu_set_abi("7.2"), 0);

	assert_int_equal(iommufd_hwpt_set_dirty_tracking(h, hwpt, 0), 0);
	assert_err(iommufd_hwpt_set_dirty_tracking(h, hwpt, 1U << 7),
		   EOPNOTSUPP);
	/* The automatic domain went away when the device moved off it. */
	assert_err(iommufd_destroy(h, auto_hwpt), ENOENT);
	/* A HWPT made without DIRTY_TRACKING cannot start tracking. */
	assert_int_equal(iommufd_hwpt_alloc(h, idev, ioas, NULL, &plain), 0);
	assert_err(iommufd_hwpt_set_dirty_tracking(
			   h, plain, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
		   EOPNOTSUPP);
	assert_err(iommufd_test_mock_domain_replace(h, 99, hwpt, NULL), ENOENT);
}

static void test_invalidate(void **state)
{
	uint32_t ioas = ioas_alloc(), idev = 0, parent = 0, nested = 0,
		 done = 77, i;
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, parent_opts,
		     .flags = IOMMU_HWPT_ALLOC_NEST_PARENT);
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, nested_opts, .data = &data,
		     .data_type = IOMMU_HWPT_DATA_SELFTEST,
		     .data_len = sizeof(data));
	const struct iommu_hwpt_invalidate_selftest two[] = {
		{ .iotlb_id = 1 },
		{ .iotlb_id = 2 },
	};
	const struct iommu_hwpt_invalidate_selftest bad_second[] = {
		{ .iotlb_id = 3 },
		{ .iotlb_id = 99 },
		{ .iotlb_id = 0 },
	};
	const struct iommu_hwpt_invalidate_selftest all[] = {
		{ .flags = IOMMU_TEST_INVALIDATE_FLAG_ALL },
	};
	struct iommufd *t;

	(void)state;
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, NULL, &idev), 0);
	assert_int_equal(
		iommufd_hwpt_alloc(h, idev, ioas, &parent_opts, &parent), 0);
	assert_int_equal(
		iommufd_hwpt_alloc(h, idev, parent, &nested_opts, &nested), 0);

	/* The return value is the number of entries handled. */
	assert_int_equal(iommufd_hwpt_invalidate(
				 h, nested, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				 two, sizeof(two[0]), 2, &done),
			 2);
	assert_int_equal(done, 2);
	assert_int_equal(iommufd_test_check_iotlb(h, nested, 0,
						  IOMMU_TEST_IOTLB_DEFAULT),
			 0);
	assert_int_equal(iommufd_test_check_iotlb(h, nested, 1, 0), 0);
	assert_int_equal(iommufd_test_check_iotlb(h, nested, 2, 0), 0);

	/* A bad entry stops the batch; the count says where. */
	assert_err(iommufd_hwpt_invalidate(
			   h, nested, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
			   bad_second, sizeof(bad_second[0]), 3, &done),
		   EINVAL);
	assert_int_equal(done, 1);
	assert_int_equal(iommufd_test_check_iotlb(h, nested, 3, 0), 0);
	assert_int_equal(iommufd_test_check_iotlb(h, nested, 0,
						  IOMMU_TEST_IOTLB_DEFAULT),
			 0);

	/* entry_num 0 only checks the type */
	assert_int_equal(iommufd_hwpt_invalidate(
				 h, nested, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				 NULL, 0, 0, NULL),
			 0);
	assert_err(iommufd_hwpt_invalidate(
			   h, nested,
			   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, two,
			   sizeof(two[0]), 2, &done),
		   EINVAL);
	assert_int_equal(done, 0);
	assert_int_equal(iommufd_hwpt_invalidate(
				 h, nested, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				 all, sizeof(all[0]), 1, NULL),
			 1);
	for (i = 0; i <= MOCK_NESTED_DOMAIN_IOTLB_ID_MAX; i++)
		assert_int_equal(iommufd_test_check_iotlb(h, nested, i, 0), 0);
	assert_err(iommufd_hwpt_invalidate(h, 99,
					   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					   two, sizeof(two[0]), 2, &done),
		   ENOENT);
	assert_int_equal(done, 0);

	/* Refused before the kernel wrote a count back: none were done. */
	assert_int_equal(iommufd_open("/dev/null", &t), 0);
	done = 77;
	assert_err(iommufd_hwpt_invalidate(t, nested,
					   IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					   two, sizeof(two[0]), 2, &done),
		   ENOTTY);
	assert_int_equal(done, 0);
	iommufd_close(t);
	assert_err(iommufd_hwpt_invalidate(h, nested, 0, two, sizeof(two[0]),
					   (uint32_t)INT32_MAX + 1, &done),
		   EINVAL);
}

/* ---- commands iommufdd refuses: encoding and errno only ------------------- */

static void test_fd_and_viommu_family(void **state)
{
	uint32_t id = 77;
	int fd = 77;
	uint64_t driver_data[2] = { 0 };
	IOMMUFD_OPTS(iommufd_viommu_alloc_opts, vopts, .data = driver_data,
		     .data_len = sizeof(driver_data));

	(void)state;
	/* A FUSE server cannot create an fd in the caller: EOPNOTSUPP. */
	assert_err(iommufd_fault_queue_alloc(h, &id, &fd), EOPNOTSUPP);
	assert_int_equal(seen.cmd, IOMMU_FAULT_QUEUE_ALLOC);
	assert_int_equal(SEEN(struct iommu_fault_alloc)->size,
			 sizeof(struct iommu_fault_alloc));
	assert_int_equal(SEEN(struct iommu_fault_alloc)->flags, 0);
	assert_int_equal(id, 77);
	assert_int_equal(fd, 77);
	assert_err(iommufd_fault_queue_alloc(h, &id, NULL), EINVAL);

	/* Implemented: no such device (ENOENT) is the first check to fail. */
	assert_err(iommufd_viommu_alloc(h, 5, 6, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
					&vopts, &id),
		   ENOENT);
	assert_int_equal(seen.cmd, IOMMU_VIOMMU_ALLOC);
	{
		const struct iommu_viommu_alloc *c =
			SEEN(struct iommu_viommu_alloc);

		assert_int_equal(c->size, sizeof(*c));
		assert_int_equal(c->type, IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
		assert_int_equal(c->dev_id, 5);
		assert_int_equal(c->hwpt_id, 6);
		assert_int_equal(c->data_len, sizeof(driver_data));
		assert_int_equal(c->data_uptr, (uintptr_t)driver_data);
	}
	assert_err(iommufd_viommu_alloc(h, 5, 6, 1, NULL, NULL), EINVAL);

	assert_err(iommufd_vdevice_alloc(h, 7, 8, 0x1234, &id), ENOENT);
	assert_int_equal(seen.cmd, IOMMU_VDEVICE_ALLOC);
	assert_int_equal(SEEN(struct iommu_vdevice_alloc)->viommu_id, 7);
	assert_int_equal(SEEN(struct iommu_vdevice_alloc)->dev_id, 8);
	assert_int_equal(SEEN(struct iommu_vdevice_alloc)->virt_id, 0x1234);

	assert_err(iommufd_veventq_alloc(h, 7, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					 64, &id, &fd),
		   ENOENT);
	assert_int_equal(seen.cmd, IOMMU_VEVENTQ_ALLOC);
	assert_int_equal(SEEN(struct iommu_veventq_alloc)->viommu_id, 7);
	assert_int_equal(SEEN(struct iommu_veventq_alloc)->type,
			 IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
	assert_int_equal(SEEN(struct iommu_veventq_alloc)->veventq_depth, 64);
	assert_int_equal(fd, 77);

	assert_err(iommufd_hw_queue_alloc(h, 7,
					  IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 1,
					  0x80000, 0x1000, &id),
		   ENOENT);
	assert_int_equal(seen.cmd, IOMMU_HW_QUEUE_ALLOC);
	assert_int_equal(SEEN(struct iommu_hw_queue_alloc)->index, 1);
	assert_int_equal(SEEN(struct iommu_hw_queue_alloc)->nesting_parent_iova,
			 0x80000);
	assert_int_equal(SEEN(struct iommu_hw_queue_alloc)->length, 0x1000);

	assert_int_equal(id, 77);
}

/* ---- the rest of the test extension --------------------------------------- */

static void test_selftest_misc(void **state)
{
	uint32_t ioas = ioas_alloc(), hwpt = 0, idev = 0;
	uint64_t iova = 0;

	(void)state;
	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, &hwpt, &idev), 0);
	/* No FAULT queue on the HWPT: the request is dropped, not refused. */
	assert_int_equal(iommufd_test_trigger_iopf(h, idev, 0, 1,
						   IOMMU_PGFAULT_PERM_READ,
						   0x1000),
			 0);
	assert_int_equal(SEEN(struct iommu_test_cmd)->trigger_iopf.grpid, 1);
	assert_err(iommufd_test_trigger_iopf(h, 99, 0, 1, 0, 0), ENOENT);

	/* Pinning in the smallest batches still maps every page right. */
	assert_err(iommufd_test_set_temp_memory_limit(h, 11), EINVAL);
	assert_int_equal(iommufd_test_set_temp_memory_limit(h, 12), 0);
	assert_int_equal(iommufd_ioas_map(h, ioas, buf, buf_size,
					  IOMMU_IOAS_MAP_READABLE, &iova),
			 0);
	assert_int_equal(iommufd_test_check_map(h, hwpt, iova, buf_size, buf),
			 0);
	assert_int_equal(iommufd_test_set_temp_memory_limit(h, 65536), 0);

	assert_err(iommufd_test_add_reserved(h, ioas, iova, page_size),
		   EADDRINUSE);
	assert_err(iommufd_test_add_reserved(h, ioas, UINT64_MAX, 2),
		   EOVERFLOW);
	assert_err(iommufd_test_check_refs(h, buf + 1, page_size, 1), EINVAL);
}

/* ---- the newest uAPI: vEVENTQ records and test ops ------------------------ */

/* Append one vEVENTQ record (header, then @data_len bytes of @data). */
static size_t put_vevent(uint8_t *p, uint32_t flags, uint32_t seq,
			 const void *data, size_t data_len)
{
	struct iommufd_vevent_header hdr = { .flags = flags, .sequence = seq };

	memcpy(p, &hdr, sizeof(hdr));
	if (data_len)
		memcpy(p + sizeof(hdr), data, data_len);
	return sizeof(hdr) + data_len;
}

static void test_vevent_next(void **state)
{
	struct iommu_viommu_event_selftest ev1 = { .virt_id = 0x99 },
					   ev2 = { .virt_id = 0x88 };
	uint8_t stream[64];
	size_t len = 0, left;
	const void *cur;
	struct iommufd_vevent rec;

	(void)state;
	/* What a depth-2 queue holds after three events: two, then a loss. */
	len += put_vevent(stream + len, 0, 0, &ev1, sizeof(ev1));
	len += put_vevent(stream + len, 0, 1, &ev2, sizeof(ev2));
	len += put_vevent(stream + len, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 2, NULL,
			  0);
	assert_int_equal(len, 2 * 12 + 8);

	cur = stream;
	left = len;
	assert_int_equal(iommufd_vevent_next(&cur, &left, sizeof(ev1), &rec),
			 1);
	assert_int_equal(rec.flags, 0);
	assert_int_equal(rec.sequence, 0);
	assert_int_equal(rec.data_len, sizeof(ev1));
	assert_ptr_equal(rec.data, stream + 8);
	assert_int_equal(
		((const struct iommu_viommu_event_selftest *)rec.data)->virt_id,
		0x99);
	assert_int_equal(left, len - 12);

	assert_int_equal(iommufd_vevent_next(&cur, &left, sizeof(ev1), &rec),
			 1);
	assert_int_equal(rec.sequence, 1);
	assert_int_equal(
		((const struct iommu_viommu_event_selftest *)rec.data)->virt_id,
		0x88);

	/* The marker carries no data whatever the queue's event size. */
	assert_int_equal(iommufd_vevent_next(&cur, &left, sizeof(ev1), &rec),
			 1);
	assert_int_equal(rec.flags, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	assert_int_equal(rec.sequence, 2);
	assert_null(rec.data);
	assert_int_equal(rec.data_len, 0);
	assert_int_equal(left, 0);
	assert_ptr_equal(cur, stream + len);
	assert_int_equal(iommufd_vevent_next(&cur, &left, sizeof(ev1), &rec),
			 0);

	/* A record cut short, in the header or in the data, is refused. */
	cur = stream;
	left = 5;
	assert_err(iommufd_vevent_next(&cur, &left, sizeof(ev1), &rec), EINVAL);
	left = 11;
	assert_err(iommufd_vevent_next(&cur, &left, sizeof(ev1), &rec), EINVAL);
	assert_ptr_equal(cur, stream); /* nothing consumed on failure */
	assert_int_equal(left, 11);
	/* The same bytes read with a larger event size no longer fit. */
	left = len;
	assert_err(iommufd_vevent_next(&cur, &left, 32, &rec), EINVAL);
	assert_err(iommufd_vevent_next(NULL, &left, 4, &rec), EINVAL);
	assert_err(iommufd_vevent_next(&cur, &left, 4, NULL), EINVAL);
}

/*
 * The newest test ops. iommufdd's mock may not know them yet: then the
 * encoding is what the test checks, plus the EOPNOTSUPP a kernel without
 * the op gives; once it does, the mock's documented answers are checked
 * (docs/newest-uapi.md §6).
 */
static void test_newest_selftest_ops(void **state)
{
	uint32_t ioas = ioas_alloc(), stdev = 0, idev = 0, hwpt = 0, got = 0;
	const struct iommu_test_cmd *c = SEEN(struct iommu_test_cmd);
	int ret;

	(void)state;
	assert_int_equal(iommufd_test_mock_domain(h, ioas,
						  MOCK_FLAGS_DEVICE_PASID,
						  &stdev, &hwpt, &idev),
			 0);

	ret = iommufd_test_dev_check_cache(h, idev, 2,
					   IOMMU_TEST_DEV_CACHE_DEFAULT);
	assert_int_equal(seen.cmd, IOMMU_TEST_CMD);
	assert_int_equal(c->size, sizeof(struct iommu_test_cmd));
	assert_int_equal(c->op, IOMMU_TEST_OP_DEV_CHECK_CACHE);
	assert_int_equal(c->id, idev);
	assert_int_equal(c->check_dev_cache.id, 2);
	assert_int_equal(c->check_dev_cache.cache,
			 IOMMU_TEST_DEV_CACHE_DEFAULT);
	if (ret == -EOPNOTSUPP) {
		assert_int_equal(errno, EOPNOTSUPP);
	} else {
		assert_int_equal(ret, 0);
		assert_err(iommufd_test_dev_check_cache(h, idev, 2, 0), EINVAL);
		assert_err(iommufd_test_dev_check_cache(
				   h, idev, 4, IOMMU_TEST_DEV_CACHE_DEFAULT),
			   EINVAL);
	}

	/* Attached to a paging HWPT only: nothing to report the event to. */
	ret = iommufd_test_trigger_vevent(h, idev);
	assert_int_equal(c->op, IOMMU_TEST_OP_TRIGGER_VEVENT);
	assert_int_equal(c->trigger_vevent.dev_id, idev);
	assert_true(ret == -EOPNOTSUPP || ret == -ENOENT);

	ret = iommufd_test_pasid_check_hwpt(h, stdev, 100, 0);
	assert_int_equal(c->op, IOMMU_TEST_OP_PASID_CHECK_HWPT);
	assert_int_equal(c->id, stdev);
	assert_int_equal(c->pasid_check.pasid, 100);
	assert_int_equal(c->pasid_check.hwpt_id, 0);
	if (ret == -EOPNOTSUPP) {
		got = 77;
		assert_err(iommufd_test_pasid_attach(h, stdev, 100, hwpt, &got),
			   EOPNOTSUPP);
		assert_int_equal(c->op, IOMMU_TEST_OP_PASID_ATTACH);
		assert_int_equal(c->pasid_attach.pasid, 100);
		assert_int_equal(c->pasid_attach.pt_id, hwpt);
		assert_int_equal(got, 77); /* untouched on failure */
		assert_err(iommufd_test_pasid_replace(h, stdev, 100, hwpt,
						      NULL),
			   EOPNOTSUPP);
		assert_int_equal(c->op, IOMMU_TEST_OP_PASID_REPLACE);
		assert_err(iommufd_test_pasid_detach(h, stdev, 100),
			   EOPNOTSUPP);
		assert_int_equal(c->op, IOMMU_TEST_OP_PASID_DETACH);
		assert_int_equal(c->pasid_detach.pasid, 100);
		return;
	}
	/* Implemented: nothing is on PASID 100, an automatic domain cannot
	 * serve a PASID, and detaching an unattached PASID is fine. */
	assert_int_equal(ret, 0);
	assert_err(iommufd_test_pasid_check_hwpt(h, stdev, 100, hwpt), EINVAL);
	assert_err(iommufd_test_pasid_attach(h, stdev, 100, ioas, NULL),
		   EINVAL);
	assert_err(iommufd_test_pasid_replace(h, stdev, 100, hwpt, NULL),
		   EINVAL);
	assert_int_equal(iommufd_test_pasid_detach(h, stdev, 100), 0);
	assert_err(iommufd_test_pasid_detach(h, 99, 100), ENOENT);
}

/*
 * iommufdd's device ioctls. BIND needs the vfio backend (EOPNOTSUPP
 * here); ATTACH and DETACH work on any device object, so a mock device
 * shows them moving between HWPTs for real.
 */
static void test_device_ioctls(void **state)
{
	uint32_t ioas = ioas_alloc(), ioas2 = ioas_alloc(), idev = 0, hwpt = 0,
		 hwpt2 = 0, got = 0, id = 7;
	const char *name = "0000:00:01.0";
	uint64_t iova = 0, iova2 = 0;

	(void)state;
	assert_err(iommufd_vfio_device_bind(h, 0, name, &id), EOPNOTSUPP);
	assert_int_equal(SEEN(struct iommufdd_vfio_device_bind)->size,
			 sizeof(struct iommufdd_vfio_device_bind));
	assert_int_equal(SEEN(struct iommufdd_vfio_device_bind)->name_len,
			 strlen(name));
	assert_int_equal(SEEN(struct iommufdd_vfio_device_bind)->name_uptr,
			 (uintptr_t)name);
	assert_int_equal(id, 7); /* untouched on failure */
	assert_err(iommufd_vfio_device_bind(h, 0, NULL, &id), EINVAL);

	assert_int_equal(
		iommufd_test_mock_domain(h, ioas, 0, NULL, &hwpt, &idev), 0);
	assert_int_equal(iommufd_ioas_map(h, ioas, buf, buf_size,
					  IOMMU_IOAS_MAP_READABLE, &iova),
			 0);

	/* Detach blocks; a second detach does nothing, as in VFIO. */
	assert_int_equal(iommufd_device_detach(h, idev), 0);
	assert_int_equal(SEEN(struct iommufdd_device_detach)->dev_id, idev);
	assert_int_equal(iommufd_device_detach(h, idev), 0);

	/* Attach to the IOAS: an automatic HWPT with the IOAS's mappings. */
	assert_int_equal(iommufd_device_attach(h, idev, ioas, &got), 0);
	assert_int_not_equal(got, 0);
	assert_int_equal(iommufd_test_check_map(h, got, iova, buf_size, buf),
			 0);

	/* Attached already: ATTACH replaces, here with another IOAS's HWPT. */
	assert_int_equal(iommufd_hwpt_alloc(h, idev, ioas2, NULL, &hwpt2), 0);
	assert_int_equal(iommufd_ioas_map(h, ioas2, buf2, buf_size,
					  IOMMU_IOAS_MAP_READABLE, &iova2),
			 0);
	assert_int_equal(iommufd_device_attach(h, idev, hwpt2, &got), 0);
	assert_int_equal(got, hwpt2);
	assert_int_equal(
		iommufd_test_check_map(h, hwpt2, iova2, buf_size, buf2), 0);

	assert_err(iommufd_device_attach(h, 99, ioas, NULL), ENOENT);
	assert_err(iommufd_device_detach(h, 99), ENOENT);
	assert_err(iommufd_device_attach(h, idev, 99, NULL), ENOENT);
	assert_int_equal(iommufd_ioas_unmap(h, ioas, 0, UINT64_MAX, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_close),
		cmocka_unit_test(test_from_fd),
		cmocka_unit_test_setup_teardown(test_log_fn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iova_ranges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_allow_iovas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_unmap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfio_ioas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_alloc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_opts_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hw_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_tracking, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalidate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_and_viommu_family,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_selftest_misc, setup,
						teardown),
		cmocka_unit_test(test_vevent_next),
		cmocka_unit_test_setup_teardown(test_device_ioctls, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newest_selftest_ops, setup,
						teardown),
	};

	if (geteuid() != 0)
		return cannot_run("pinning and pagemap frames need root");
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	buf_size = BUF_PAGES * page_size;
	buf = mmap(NULL, buf_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	buf2 = mmap(NULL, buf_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || buf2 == MAP_FAILED || fake_iommu_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
