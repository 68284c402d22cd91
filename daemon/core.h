/* SPDX-License-Identifier: MIT */
/*
 * The boundary between a transport (FUSE file, CUSE) and the iommufd core.
 *
 * A transport owns the kernel-facing session. For every open of /dev/iommu it
 * creates one context, forwards each ioctl with the identity of the calling
 * thread, and releases the context when the kernel says the file is gone.
 * The core never replies to anybody: it returns a result or -errno and the
 * transport turns that into a reply.
 */
#ifndef IOMMUFDD_CORE_H
#define IOMMUFDD_CORE_H

#include <stdint.h>
#include <sys/types.h>

struct iommufd_ctx;
struct uwindow;

/*
 * Handles on a caller's address space, opened while the caller was
 * provably there (/proc/TID/mem and maps, then the seccomp notification
 * still valid): they keep naming that address space whatever happens to
 * the thread id. For callers not held in a FUSE request (launcher.c).
 */
struct caller_handles {
	int mem_fd;
	int maps_fd;
};

/* Who issued a request: the calling thread as the daemon's pid namespace sees it. */
struct ucaller {
	pid_t pid; /* thread id of the caller, 0 if unknown */
	uid_t uid;
	gid_t gid;
	/*
	 * NULL: the caller's memory is reached directly (process_vm_*).
	 * Otherwise the caller is out of reach and the kernel has copied the
	 * memory the ioctl needs; every access is served from these copies
	 * (uaccess.h).
	 */
	struct uwindow *window;
	/*
	 * Set instead of a pid for a caller that is not held in a request:
	 * its memory is reached through these handles only.
	 */
	const struct caller_handles *handles;
};

/* Global core set-up, once per daemon. Returns 0 or -errno. */
int iommufd_core_init(const char *backend_name);
void iommufd_core_exit(void);

/* One context per open file. NULL with errno set on failure. */
struct iommufd_ctx *iommufd_ctx_open(const struct ucaller *opener);

/*
 * Run one ioctl. @arg is the raw pointer value in the caller's address space;
 * the core reads and writes the caller's memory itself (uaccess.h), through
 * @caller->window when one is set. Returns the ioctl's non-negative result
 * or -errno.
 */
long iommufd_ctx_ioctl(struct iommufd_ctx *ictx, const struct ucaller *caller,
		       unsigned int cmd, uint64_t arg);

/* The last reference to the file is gone: destroy everything it owned. */
void iommufd_ctx_release(struct iommufd_ctx *ictx);

#endif
