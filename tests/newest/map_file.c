// SPDX-License-Identifier: MIT
/*
 * IOMMU_IOAS_MAP_FILE as the iommufd_mock_domain file variants use it
 * (one_domain_file, one_domain_file_hugepage): what the mock domain maps,
 * what is pinned, COPY out of a file-backed IOAS, the argument checks and
 * the ranges past the end of the file (newest-uapi.md §3.7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "newest.h"

struct file_fixture {
	int fd, mfd;
	uint32_t ioas, stdev, hwpt, idev;
	uint8_t *buf;
	size_t len;
};

static long map_file_flags(int fd, uint32_t ioas, uint32_t flags, int mfd,
			   uint64_t len)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.fd = mfd,
		.length = len,
	};

	return ioc(fd, IOMMU_IOAS_MAP_FILE, &cmd);
}

/* §3.7 steps 1-5, in the kernel's order. */
static void arg_rules(struct file_fixture *f)
{
	const uint32_t rw = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	const uint64_t pg = page_size;

	check(map_file_flags(f->fd, f->ioas, rw | (1U << 3), f->mfd, pg) ==
		      -EOPNOTSUPP,
	      "MAP_FILE with an unknown flag is EOPNOTSUPP");
	check(map_file_flags(f->fd, f->ioas, rw, f->mfd, UINT64_MAX) ==
		      -EOVERFLOW,
	      "MAP_FILE of length ULONG_MAX is EOVERFLOW");
	check(map_file_flags(f->fd, f->ioas, 0, f->mfd, pg) == -EINVAL,
	      "MAP_FILE neither readable nor writeable is EINVAL");
	check(map_file_flags(f->fd, f->idev, rw, f->mfd, pg) == -ENOENT,
	      "MAP_FILE into a device ID is ENOENT");
	check(map_file_flags(f->fd, f->ioas, rw, -1, pg) == -EBADF,
	      "MAP_FILE of fd -1 is EBADF");
}

/* The file mapped whole, in part, and copied to a second IOAS. */
static void mapping(struct file_fixture *f, const char *v)
{
	uint64_t iova, iova2, dst, src;
	uint32_t ioas2;
	struct iommu_ioas_copy copy = { .size = sizeof(copy) };

	if (!check(ioas_map_file(f->fd, f->ioas, f->mfd, 0, f->len, &iova) == 0,
		   "%s: MAP_FILE of the whole file", v))
		return;
	check(check_map(f->fd, f->hwpt, iova, f->len, f->buf) == 0,
	      "%s: the mock domain maps the file's pages", v);
	check(check_refs(f->fd, f->buf, f->len, 1) == 0,
	      "%s: each page is pinned once", v);
	if (check(ioas_map_file(f->fd, f->ioas, f->mfd, f->len / 2, f->len / 2,
				&iova2) == 0,
		  "%s: MAP_FILE of the second half", v)) {
		check(check_map(f->fd, f->hwpt, iova2, f->len / 2,
				f->buf + f->len / 2) == 0,
		      "%s: it maps from the right offset", v);
		ioas_unmap(f->fd, f->ioas, iova2, f->len / 2);
	}
	if (setup_ok(ioas_alloc(f->fd, &ioas2), "second IOAS")) {
		copy.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
		copy.dst_ioas_id = f->ioas;
		copy.src_ioas_id = ioas2;
		copy.length = f->len;
		if (setup_ok(ioas_map_file(f->fd, ioas2, f->mfd, 0, f->len,
					   &src),
			     "MAP_FILE into the second IOAS")) {
			copy.src_iova = src;
			check(ioc(f->fd, IOMMU_IOAS_COPY, &copy) == 0 &&
				      check_map(f->fd, f->hwpt, copy.dst_iova,
						f->len, f->buf) == 0,
			      "%s: COPY from a file-backed IOAS maps the file",
			      v);
		}
		dst = copy.dst_iova;
		if (dst)
			ioas_unmap(f->fd, f->ioas, dst, f->len);
		destroy(f->fd, ioas2);
	}
	check(ioas_unmap(f->fd, f->ioas, iova, f->len) == 0 &&
		      check_refs(f->fd, f->buf, f->len, 0) == 0,
	      "%s: after unmap nothing is pinned", v);
}

/* iommufd_mock_domain.basic, file variants: past the end of a memfd. */
static void past_end(struct file_fixture *f, const char *v)
{
	uint64_t iova;
	uint8_t *tmp;
	long ret;
	int tfd;

	tmp = memfd_map(f->len, false, &tfd);
	if (!setup_ok(tmp == MAP_FAILED ? -errno : 0, "second memfd"))
		return;
	ret = ioas_map_file(f->fd, f->ioas, tfd, 0, f->len + 1, &iova);
	check(ret == -EINVAL,
	      "%s: MAP_FILE one byte past the end of the file is EINVAL (%s)",
	      v, strerror((int)-ret));
	ret = ioas_map_file(f->fd, f->ioas, tfd, f->len, page_size, &iova);
	check(ret == -EINVAL,
	      "%s: MAP_FILE wholly past the end of the file is EINVAL (%s)", v,
	      strerror((int)-ret));
	if (setup_ok(ftruncate(tfd, 0) ? -errno : 0, "ftruncate(0)")) {
		ret = ioas_map_file(f->fd, f->ioas, tfd, 0, f->len, &iova);
		check(ret == -EINVAL,
		      "%s: MAP_FILE of a file truncated to 0 is EINVAL (%s)", v,
		      strerror((int)-ret));
	}
	munmap(tmp, f->len);
	close(tfd);
}

static void file_variant(bool huge)
{
	const char *v = huge ? "one_domain_file_hugepage" : "one_domain_file";
	struct file_fixture f = { .len = huge ? 2UL << 20 : 16 * page_size };

	note("iommufd_mock_domain.%s", v);
	f.buf = memfd_map(f.len, huge, &f.mfd);
	if (f.buf == MAP_FAILED) {
		if (huge)
			skip("no 2 MiB hugetlbfs page available",
			     "%s: MAP_FILE of a hugetlbfs memfd", v);
		else
			setup_ok(-errno, "memfd");
		return;
	}
	memset(f.buf, 0xa5, f.len);
	f.fd = open_dev();
	if (f.fd < 0)
		goto out;
	if (setup_ok(ioas_alloc(f.fd, &f.ioas), "IOAS") &&
	    setup_ok(mock_domain(f.fd, f.ioas, 0, &f.stdev, &f.hwpt, &f.idev),
		     "mock device")) {
		if (!huge)
			arg_rules(&f);
		mapping(&f, v);
		past_end(&f, v);
	}
	teardown(f.fd, f.buf, f.len, v);
out:
	munmap(f.buf, f.len);
	close(f.mfd);
}

/* IOMMU_TEST_OP_DMABUF_GET: the new dma-buf fd is the ioctl's result. */
static int dmabuf_get(int fd, uint32_t len)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DMABUF_GET,
		.dmabuf_get = { .length = len, .open_flags = O_CLOEXEC },
	};
	int ret = ioctl(fd, IOMMU_TEST_CMD, &cmd);

	return ret < 0 ? -errno : ret;
}

static long dmabuf_revoke(int fd, int dfd, bool revoked)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = { .dmabuf_fd = dfd, .revoked = revoked },
	};

	return test_op(fd, &cmd);
}

/*
 * iommufd_ioas.dmabuf_simple and dmabuf_revoke (7.2, newest-uapi.md §3.7
 * and §12): MAP_FILE of the selftest's dma-buf.
 */
static void dmabuf(void)
{
	const uint64_t len = 4 * page_size;
	uint64_t iova, iova2;
	uint32_t ioas;
	int fd, dfd;

	note("iommufd_ioas.dmabuf_simple, dmabuf_revoke (7.2)");
	fd = open_dev();
	if (fd < 0)
		return;
	if (!setup_ok(ioas_alloc(fd, &ioas), "IOAS"))
		goto out;
	check(dmabuf_get(fd, 0) == -EINVAL, "DMABUF_GET of 0 bytes is EINVAL");
	dfd = dmabuf_get(fd, (uint32_t)len);
	if (!check(dfd >= 0, "DMABUF_GET of 4 pages returns an fd (%d)", dfd))
		goto out;
	check(ioas_map_file(fd, ioas, dfd, 0, 0, &iova) == -EINVAL,
	      "MAP_FILE of 0 bytes of it is EINVAL");
	check(ioas_map_file(fd, ioas, dfd, len, len, &iova) == -EINVAL,
	      "MAP_FILE from its end is EINVAL");
	check(ioas_map_file(fd, ioas, dfd, 0, len + 1, &iova) == -EINVAL,
	      "MAP_FILE of one byte more than it has is EINVAL");
	if (!check(ioas_map_file(fd, ioas, dfd, 0, len, &iova) == 0,
		   "MAP_FILE of the whole dma-buf"))
		goto close_dfd;
	check(dmabuf_revoke(fd, dfd, true) == 0, "DMABUF_REVOKE");
	check(ioas_map_file(fd, ioas, dfd, 0, len, &iova2) == -ENODEV,
	      "MAP_FILE of a revoked dma-buf is ENODEV");
	check(dmabuf_revoke(fd, dfd, false) == 0 &&
		      ioas_map_file(fd, ioas, dfd, 0, len, &iova2) == 0,
	      "restored, it maps again");
	check(ioas_unmap(fd, ioas, iova, len) == 0, "the first mapping unmaps");
	check(dmabuf_revoke(fd, -1, true) == -EBADF,
	      "DMABUF_REVOKE of fd -1 is EBADF");
	check(dmabuf_revoke(fd, fd, true) == -EINVAL,
	      "DMABUF_REVOKE of a file that is no dma-buf is EINVAL");
close_dfd:
	close(dfd);
out:
	teardown(fd, NULL, 0, "dmabuf");
}

void test_map_file(void)
{
	file_variant(false);
	file_variant(true);
	dmabuf();
}
