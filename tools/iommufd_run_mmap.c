// SPDX-License-Identifier: MIT
/*
 * libiommufd-run-mmap.so: preloaded by iommufd-run(1) into the programs it
 * runs, so that mmap() of /dev/iommu maps a vIOMMU's region as it does on
 * the kernel's iommufd.
 *
 * A FUSE or CUSE server never sees an mmap() of its file: CUSE files have
 * no mmap, and FUSE maps its own page cache (ENODEV for the shared
 * mappings a region needs). So mmap() and mmap64() are wrapped here: a
 * call on a descriptor of the daemon's /dev/iommu (the file iommufd-run
 * names in IOMMUFD_RUN_DEVICE, as mount ID and inode) becomes the ioctl
 * IOMMUFDD_MMAP_REGION, which the daemon answers with the kernel's checks
 * (ENXIO for a wrong offset or length, EINVAL, EPERM) and, under
 * iommufd-run, a descriptor of the region's memory; that is mapped with
 * the caller's address, length, protection and flags, then closed. Every
 * other mmap() goes on unchanged. munmap() needs nothing: the daemon sees
 * the mappings of the region's memory through the kernel (mmap_region.c).
 */
#define _GNU_SOURCE
/* Both symbols are defined here; with 64-bit offsets glibc renames mmap. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufdd_ext.h>

#include "launcher.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static bool device_known;
static unsigned long long device_mnt_id, device_ino;

__attribute__((constructor)) static void shim_init(void)
{
	const char *v = getenv(IOMMUFD_RUN_DEVICE_ENV);

	device_known = v &&
		       sscanf(v, "%llu:%llu", &device_mnt_id, &device_ino) == 2;
}

/* The next mmap() in the lookup order (libc's, or another wrapper's). */
static void *next_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	static mmap_fn next;
	mmap_fn fn = __atomic_load_n(&next, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
		if (!fn) {
			long ret = syscall(SYS_mmap, addr, len, prot, flags, fd,
					   off);

			return ret == -1 ? MAP_FAILED : (void *)ret;
		}
		__atomic_store_n(&next, fn, __ATOMIC_RELEASE);
	}
	return fn(addr, len, prot, flags, fd, off);
}

/* Is @fd the daemon's /dev/iommu? Cached attributes only, as the daemon. */
static bool fd_is_iommufd(int fd)
{
	struct statx stx;

	return !statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		      STATX_MNT_ID | STATX_INO, &stx) &&
	       (stx.stx_mask & STATX_MNT_ID) &&
	       stx.stx_mnt_id == device_mnt_id && stx.stx_ino == device_ino;
}

static void *fail(int err)
{
	errno = err;
	return MAP_FAILED;
}

/*
 * mmap()'s own checks that depend on the iommufd's file (the kernel's
 * do_mmap()): the request as the daemon must judge it, or an errno.
 */
static int request_for(int fd, size_t len, int prot, int flags, off_t off,
		       struct iommufdd_mmap_region *req)
{
	long page = sysconf(_SC_PAGESIZE);
	int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
	int type = flags & MAP_TYPE;

	if (off & (page - 1))
		return EINVAL;
	if (!len)
		return EINVAL;
	if (len > SIZE_MAX - (size_t)page + 1)
		return ENOMEM;
	switch (type) {
	case MAP_SHARED:
	case MAP_SHARED_VALIDATE:
		if ((prot & PROT_WRITE) && mode == O_RDONLY)
			return EACCES;
		/* The kernel drops VM_SHARED for a file not open for writing. */
		if (mode == O_RDONLY)
			flags = (flags & ~MAP_TYPE) | MAP_PRIVATE;
		/* fallthrough */
	case MAP_PRIVATE:
		if (mode == O_WRONLY)
			return EACCES;
		break;
	default:
		return EINVAL;
	}
	*req = (struct iommufdd_mmap_region){
		.size = sizeof(*req),
		.offset = (uint64_t)off,
		.length = (len + (size_t)page - 1) & ~((size_t)page - 1),
		.prot = (uint32_t)prot,
		.map_flags = (uint32_t)flags,
		.out_fd = -1,
	};
	return 0;
}

static void *iommufd_mmap(void *addr, size_t len, int prot, int flags, int fd,
			  off_t off)
{
	struct iommufdd_mmap_region req;
	int err = request_for(fd, len, prot, flags, off, &req);
	void *map;

	if (err)
		return fail(err);
	if (ioctl(fd, IOMMUFDD_MMAP_REGION, &req)) {
		err = errno;
		/*
		 * No region support (an older daemon, ENOTTY), or no way to
		 * hand the memory over (not under iommufd-run): the file
		 * cannot be mapped, which mmap() reports as ENODEV.
		 */
		return fail(err == ENOTTY || err == EOPNOTSUPP ? ENODEV : err);
	}
	map = next_mmap(addr, len, prot, flags, req.out_fd, 0);
	err = errno;
	/*
	 * The owner was destroyed between the ioctl and this mmap (another
	 * thread): its memory is sealed now, and the kernel would have found
	 * no region.
	 */
	if (map == MAP_FAILED && err == EPERM) {
		int seals = fcntl(req.out_fd, F_GET_SEALS);

		if (seals > 0 && (seals & F_SEAL_WRITE))
			err = ENXIO;
	}
	close(req.out_fd);
	errno = err;
	return map;
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	if (!device_known || (flags & MAP_ANONYMOUS) || fd < 0 ||
	    !fd_is_iommufd(fd))
		return next_mmap(addr, len, prot, flags, fd, off);
	return iommufd_mmap(addr, len, prot, flags, fd, off);
}

SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
			 off64_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}
