// SPDX-License-Identifier: MIT
/*
 * mmap() of /dev/iommu at a vIOMMU's region (docs/newest-uapi.md §5, §7.1),
 * as the newest kernel gives it: written from the kernel's rules, not from
 * its selftest. Without iommufd-run the mmap() cannot reach the daemon and
 * fails as for any file without mmap (ENODEV); under iommufd-run (its
 * preload shim) it maps the mock's two pages, whose first word is the
 * vIOMMU's in_data, with the kernel's errnos for every wrong request, and
 * DESTROY of the vIOMMU is EBUSY while any mapping of it exists, in this
 * process or a forked one. Prints TAP.
 *
 * usage: viommu_mmap [/dev/iommu]
 * Environment: IOMMUFD_RUN (the launcher) and IOMMUFDD_RUN_DIR (the
 * daemon's run directory); the program re-runs itself under the launcher.
 * The daemon must answer at its default (newest) kernel ABI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#define IN_DATA 0xcafef00dU

static const char *path = "/dev/iommu";
static size_t page;

/* A vIOMMU with the mock's data, on a nesting parent of a mock device. */
struct bed {
	int fd;
	uint32_t ioas, stdev, idev, parent, viommu;
	off_t off;
	size_t len;
};

static long destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioc(fd, IOMMU_DESTROY, &cmd);
}

static long viommu_alloc(struct bed *b, bool with_data, uint32_t *id)
{
	struct iommu_viommu_selftest data = { .in_data = IN_DATA };
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = b->idev,
		.hwpt_id = b->parent,
		.data_len = with_data ? sizeof(data) : 0,
		.data_uptr = with_data ? (uintptr_t)&data : 0,
	};
	long ret = ioc(b->fd, IOMMU_VIOMMU_ALLOC, &cmd);

	if (!ret) {
		*id = cmd.out_viommu_id;
		b->off = (off_t)data.out_mmap_offset;
		b->len = (size_t)data.out_mmap_length;
	}
	return ret;
}

static bool bed_up(struct bed *b)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_test_cmd dom = {
		.size = sizeof(dom),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct iommu_hwpt_alloc parent = {
		.size = sizeof(parent),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	};

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0 || ioc(b->fd, IOMMU_IOAS_ALLOC, &ioas))
		return false;
	b->ioas = dom.id = parent.pt_id = ioas.out_ioas_id;
	if (ioc(b->fd, IOMMU_TEST_CMD, &dom))
		return false;
	b->stdev = dom.mock_domain.out_stdev_id;
	b->idev = parent.dev_id = dom.mock_domain.out_idev_id;
	if (ioc(b->fd, IOMMU_HWPT_ALLOC, &parent))
		return false;
	b->parent = parent.out_hwpt_id;
	return !viommu_alloc(b, true, &b->viommu) && b->len == 2 * page;
}

static void *map(struct bed *b, size_t len, int prot, int flags, off_t off)
{
	return mmap(NULL, len, prot, flags, b->fd, off);
}

/* check(), and whether it passed: later checks need what it made. */
static bool checked(bool ok, const char *what)
{
	check(ok, "%s", what);
	return ok;
}

/* The call fails with @err. */
static bool fails(void *p, int err)
{
	return p == MAP_FAILED && errno == err;
}

static sigjmp_buf on_sigbus;

static void sigbus(int sig)
{
	siglongjmp(on_sigbus, sig);
}

/*
 * A private mapping without the launcher, as iommufdd(8) says: a CUSE
 * device has no mmap (ENODEV); FUSE maps its page cache, which the daemon
 * cannot fill (SIGBUS on the first access).
 */
static void test_private_without_launcher(struct bed *b)
{
	struct sigaction sa = { .sa_handler = sigbus }, old;
	volatile uint32_t word = 0;
	struct stat st;
	void *m;
	int err;

	if (fstat(b->fd, &st))
		return;
	m = map(b, b->len, PROT_READ, MAP_PRIVATE, b->off);
	err = errno;
	if (S_ISCHR(st.st_mode)) {
		check(m == MAP_FAILED && err == ENODEV,
		      "CUSE: without iommufd-run a private mmap() is ENODEV");
		return;
	}
	if (m == MAP_FAILED) {
		check(0, "FUSE: a private mmap() maps the page cache (%s)",
		      strerror(err));
		return;
	}
	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(on_sigbus, 1)) {
		word = *(volatile uint32_t *)m;
		check(0, "FUSE: reading a private mapping is SIGBUS (read %x)",
		      word);
	} else {
		check(1, "FUSE: a private mmap() succeeds, reading it is "
			 "SIGBUS");
	}
	sigaction(SIGBUS, &old, NULL);
	munmap(m, b->len);
}

/* Without the launcher: the mmap() never reaches the daemon. */
static void test_without_launcher(struct bed *b)
{
	struct iommufdd_mmap_region req = {
		.size = sizeof(req),
		.offset = (uint64_t)b->off,
		.length = b->len,
		.prot = PROT_READ | PROT_WRITE,
		.map_flags = MAP_SHARED,
	};
	void *m = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);
	int err = errno;

	check(m == MAP_FAILED && err == ENODEV,
	      "without iommufd-run, mmap() of the region is ENODEV (%s)",
	      m == MAP_FAILED ? strerror(err) : "mapped");
	test_private_without_launcher(b);
	check(ioc(b->fd, IOMMUFDD_MMAP_REGION, &req) == -EOPNOTSUPP,
	      "IOMMUFDD_MMAP_REGION without iommufd-run is EOPNOTSUPP");
	req.offset += page;
	check(ioc(b->fd, IOMMUFDD_MMAP_REGION, &req) == -ENXIO,
	      "its checks come first: a wrong offset is ENXIO");
	req.offset -= page;
	req.flags = 1;
	check(ioc(b->fd, IOMMUFDD_MMAP_REGION, &req) == -EOPNOTSUPP,
	      "unknown flags are EOPNOTSUPP");
}

/* Every wrong request, with the kernel's errno and in its order. */
static void test_errnos(struct bed *b)
{
	const int rw = PROT_READ | PROT_WRITE;
	int rofd, other;

	check(fails(map(b, b->len, rw, MAP_SHARED, b->off + (off_t)page),
		    ENXIO),
	      "one page past the region's offset is ENXIO");
	check(fails(map(b, b->len, rw, MAP_SHARED, b->off + 2 * (off_t)page),
		    ENXIO),
	      "two pages past it (no region there) is ENXIO");
	check(fails(map(b, b->len / 2, rw, MAP_SHARED, b->off), ENXIO),
	      "half the region is ENXIO");
	check(fails(map(b, b->len * 2, rw, MAP_SHARED, b->off), ENXIO),
	      "twice the region is ENXIO");
	check(fails(map(b, b->len, rw, MAP_SHARED, 0), ENXIO),
	      "offset 0 (never a region) is ENXIO");
	check(fails(map(b, b->len, rw, MAP_SHARED, b->off + 1), EINVAL),
	      "an offset that is not page-aligned is EINVAL");
	check(fails(map(b, 0, rw, MAP_SHARED, b->off), EINVAL),
	      "length 0 is EINVAL");
	check(fails(map(b, b->len, rw, MAP_PRIVATE, b->off), EINVAL),
	      "a private mapping is EINVAL");
	check(fails(map(b, b->len, rw | PROT_EXEC, MAP_SHARED, b->off), EPERM),
	      "PROT_EXEC is EPERM");
	check(fails(map(b, b->len, rw | PROT_EXEC, MAP_PRIVATE, b->off),
		    EINVAL),
	      "a private PROT_EXEC mapping is EINVAL (shared is checked first)");
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	check(rofd >= 0 &&
		      mmap(NULL, b->len, rw, MAP_SHARED, rofd, b->off) ==
			      MAP_FAILED &&
		      errno == EACCES,
	      "a writable mapping of a read-only /dev/iommu is EACCES");
	if (rofd >= 0)
		close(rofd);
	/* Offsets belong to one open file: another has no region there. */
	other = open(path, O_RDWR | O_CLOEXEC);
	check(other >= 0 &&
		      mmap(NULL, b->len, rw, MAP_SHARED, other, b->off) ==
			      MAP_FAILED &&
		      errno == ENXIO,
	      "another open /dev/iommu has no region at that offset (ENXIO)");
	if (other >= 0)
		close(other);
}

/* The mock's two pages: in_data, zeros, and writes that stay. */
static void test_contents(struct bed *b)
{
	uint32_t *m1, *m2, *m3;
	bool zero = true;

	m1 = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);
	if (!checked(m1 != MAP_FAILED, "mmap() of the region"))
		return;
	check(m1[0] == IN_DATA, "its first word is in_data (0x%x)", m1[0]);
	for (size_t i = 1; i < b->len / sizeof(*m1); i++)
		zero = zero && !m1[i];
	check(zero, "the rest of its two pages is zero");
	m2 = (uint32_t *)mmap64(NULL, b->len, PROT_READ, MAP_SHARED, b->fd,
				b->off);
	check(m2 != MAP_FAILED, "a second, read-only mapping (mmap64)");
	m1[page / sizeof(*m1)] = 0x5a5a5a5a;
	m1[0] = 0x1234;
	check(m2 != MAP_FAILED && m2[page / sizeof(*m2)] == 0x5a5a5a5a &&
		      m2[0] == 0x1234,
	      "a write through one mapping shows in the other");
	munmap(m1, b->len);
	check(destroy(b->fd, b->viommu) == -EBUSY,
	      "DESTROY is EBUSY while the read-only mapping remains");
	if (m2 != MAP_FAILED)
		munmap(m2, b->len);
	m3 = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);
	check(m3 != MAP_FAILED && m3[0] == 0x1234 &&
		      m3[page / sizeof(*m3)] == 0x5a5a5a5a,
	      "mapped again, the region still holds what was written");
	if (m3 != MAP_FAILED) {
		m3[0] = IN_DATA;
		m3[page / sizeof(*m3)] = 0;
		munmap(m3, b->len);
	}
}

/* A region's memory is no user memory to pin (EFAULT, as VM_PFNMAP). */
static void test_no_pin(struct bed *b)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = b->ioas,
		.length = b->len,
	};
	void *m = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);

	if (!checked(m != MAP_FAILED, "mmap() for IOAS_MAP"))
		return;
	cmd.user_va = (uintptr_t)m;
	check(ioc(b->fd, IOMMU_IOAS_MAP, &cmd) == -EFAULT,
	      "IOAS_MAP of the mapped region into a domain is EFAULT");
	munmap(m, b->len);
}

/* Mappings in a forked child count too; so does one split in two. */
static void test_fork_and_split(struct bed *b)
{
	int to_child[2], from_child[2], status;
	char *m, c = 0;
	pid_t pid;

	m = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);
	if (!checked(m != MAP_FAILED, "mmap() before fork()") ||
	    pipe(to_child) || pipe(from_child))
		return;
	pid = fork();
	if (pid == 0) {
		/* The child keeps its copy until told, then checks it. */
		close(to_child[1]);
		close(from_child[0]);
		if (read(to_child[0], &c, 1) != 1)
			_exit(2);
		c = *(uint32_t *)m == IN_DATA ? 'y' : 'n';
		munmap(m, b->len);
		if (write(from_child[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	munmap(m, b->len);
	check(destroy(b->fd, b->viommu) == -EBUSY,
	      "DESTROY is EBUSY while a forked child still maps the region");
	if (write(to_child[1], "x", 1) != 1 || read(from_child[0], &c, 1) != 1)
		c = 0;
	waitpid(pid, &status, 0);
	close(to_child[1]);
	close(from_child[0]);
	check(c == 'y', "the child read in_data through its copy");

	m = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);
	if (!checked(m != MAP_FAILED, "mmap() to split"))
		return;
	munmap(m, page);
	check(destroy(b->fd, b->viommu) == -EBUSY,
	      "DESTROY is EBUSY while the second page is still mapped");
	munmap(m + page, page);
}

/*
 * A caller that keeps the descriptor the shim closes: it cannot resize
 * the memory under other mappings, and after DESTROY it can no longer
 * map it for writing; each region holds a daemon descriptor, so a user
 * may hold 256 (--max-user-mmap-regions), then ENOMEM.
 */
static void test_hostile(struct bed *b)
{
	struct iommufdd_mmap_region req = {
		.size = sizeof(req),
		.offset = (uint64_t)b->off,
		.length = b->len,
		.prot = PROT_READ | PROT_WRITE,
		.map_flags = MAP_SHARED,
	};
	uint32_t ids[256], extra;
	unsigned int n = 0;
	struct bed more = *b;
	long ret;

	if (!checked(ioc(b->fd, IOMMUFDD_MMAP_REGION, &req) == 0 &&
			     req.out_fd > 2,
		     "IOMMUFDD_MMAP_REGION itself hands over a descriptor"))
		return;
	check(ftruncate(req.out_fd, 0) < 0 && errno == EPERM,
	      "the region's size cannot be changed (EPERM)");
	while (n < 256 && !(ret = viommu_alloc(&more, true, &ids[n])))
		n++;
	check(ret == -ENOMEM && n == 255,
	      "the 256th region of this user exists, the next is ENOMEM "
	      "(%u more made, %s)",
	      n, strerror((int)-ret));
	while (n)
		destroy(b->fd, ids[--n]);
	check(!viommu_alloc(&more, true, &extra) && !destroy(b->fd, extra),
	      "destroyed ones are given back");
	/* Held but unmapped: that is no mapping, DESTROY goes ahead. */
	check(destroy(b->fd, b->viommu) == 0,
	      "a descriptor held without a mapping does not keep the vIOMMU");
	check(mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, req.out_fd,
		   0) == MAP_FAILED &&
		      errno == EPERM,
	      "after DESTROY the held descriptor cannot be mapped writable");
	close(req.out_fd);
	check(!viommu_alloc(b, true, &b->viommu),
	      "a new vIOMMU with data for the rest");
}

/* Unmapped, the vIOMMU goes, and so does its region. */
static void test_destroy(struct bed *b)
{
	uint32_t plain, second;
	long ret;
	void *m;

	check(destroy(b->fd, b->viommu) == 0,
	      "with every mapping gone, DESTROY of the vIOMMU succeeds");
	check(fails(map(b, b->len, PROT_READ, MAP_SHARED, b->off), ENXIO),
	      "its region is gone with it (ENXIO)");
	check(!viommu_alloc(b, false, &plain) &&
		      fails(map(b, 2 * page, PROT_READ, MAP_SHARED,
				(off_t)page),
			    ENXIO),
	      "a vIOMMU without data has no region (ENXIO)");
	ret = viommu_alloc(b, true, &second);
	check(!ret && b->off == (off_t)page,
	      "the next region takes the freed offset (%lld)",
	      (long long)b->off);
	m = map(b, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->off);
	check(m != MAP_FAILED && *(uint32_t *)m == IN_DATA,
	      "and maps with its own in_data");
	/* Closing /dev/iommu while mapped: the mapping keeps working. */
	close(b->fd);
	check(m != MAP_FAILED && *(uint32_t *)m == IN_DATA,
	      "after close() of /dev/iommu the mapping still reads in_data");
	if (m != MAP_FAILED)
		munmap(m, b->len);
}

int main(int argc, char **argv)
{
	const char *run = getenv("IOMMUFD_RUN");
	const char *run_dir = getenv("IOMMUFDD_RUN_DIR");
	struct bed b;

	if (argc > 1)
		path = argv[1];
	page = (size_t)sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);
	if (!bed_up(&b)) {
		printf("Bail out! cannot set up a vIOMMU with data on %s: %s\n",
		       path, strerror(errno));
		return 1;
	}
	if (!getenv("VIOMMU_MMAP_LAUNCHED")) {
		char n[16];

		printf("TAP version 13\n");
		test_without_launcher(&b);
		if (!run || !run_dir) {
			printf("Bail out! IOMMUFD_RUN and IOMMUFDD_RUN_DIR must "
			       "be set\n");
			return 1;
		}
		/* Numbering continues in the launched run. */
		snprintf(n, sizeof(n), "%u", ntests);
		setenv("VIOMMU_MMAP_LAUNCHED", n, 1);
		execl(run, run, "--run-dir", run_dir, "--", argv[0], path,
		      (char *)NULL);
		printf("Bail out! cannot run %s: %s\n", run, strerror(errno));
		return 1;
	}
	ntests = (unsigned int)atoi(getenv("VIOMMU_MMAP_LAUNCHED"));
	check(getenv("IOMMUFD_RUN_DEVICE") != NULL,
	      "iommufd-run names the daemon's file (IOMMUFD_RUN_DEVICE=%s)",
	      getenv("IOMMUFD_RUN_DEVICE") ? getenv("IOMMUFD_RUN_DEVICE") : "");
	test_errnos(&b);
	test_contents(&b);
	test_no_pin(&b);
	test_fork_and_split(&b);
	test_hostile(&b);
	test_destroy(&b);
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
