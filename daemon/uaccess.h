/* SPDX-License-Identifier: MIT */
/*
 * Access to a caller's memory. Every pointer in an ioctl refers to the calling
 * process; the daemon reaches it with process_vm_readv/writev while the caller
 * is blocked in the ioctl, so the thread id cannot be reused underneath us.
 *
 * When the caller is out of reach (another pid namespace, ptrace denied), a
 * CUSE transport has the kernel copy the memory instead, and the caller
 * carries a window over those copies (struct uwindow). The functions below
 * then read and write the copies, so the core runs unchanged.
 */
#ifndef IOMMUFDD_UACCESS_H
#define IOMMUFDD_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core.h"
#include "ioctl_regions.h"

/*
 * Copy @len bytes between the caller at @uptr and @buf. 0 on success;
 * -EFAULT for an unmapped or short range (including @uptr == 0 with len > 0),
 * -EPERM when the daemon may not access the caller at all, -ESRCH when the
 * caller is gone. A zero length always succeeds.
 */
int copy_from_user(const struct ucaller *c, void *buf, uint64_t uptr,
		   size_t len);
int copy_to_user(const struct ucaller *c, uint64_t uptr, const void *buf,
		 size_t len);

/*
 * Read up to @len bytes in one call and say how many arrived: the count
 * stops at the first unreadable page. For speculative reads past what the
 * caller promised; -errno only when nothing could be tried at all.
 */
long copy_from_user_partial(const struct ucaller *c, void *buf, uint64_t uptr,
			    size_t len);

/* Write @len zero bytes at @uptr. */
int clear_user(const struct ucaller *c, uint64_t uptr, size_t len);

/*
 * 0 if all bytes of [uptr, uptr + len) are zero, -E2BIG at the first non-zero
 * byte, -EFAULT if a byte cannot be read first. Works for any length.
 */
int check_zeroed_user(const struct ucaller *c, uint64_t uptr, uint64_t len);

/*
 * 0 if process_vm_* can reach the caller at all (even when @uptr itself is
 * unmapped: the kernel checks access before it touches an address); -ESRCH
 * for pid 0 or a vanished thread, -EPERM when ptrace access is denied.
 */
int caller_probe(const struct ucaller *c, uint64_t uptr);

/*
 * For what needs the caller itself rather than copies of its memory:
 * pinning its pages (map_files), reading its page tables (pagemap), taking
 * one of its descriptors (pidfd_getfd). 0 for a caller reached directly;
 * for one behind a window, -EPERM after one log line naming @what and why.
 */
int caller_require_direct(const struct ucaller *c, const char *what);

/* One region of a window, as planned, and the kernel's copy of it. */
struct uwindow_region {
	struct ioctl_region r;
	unsigned char *data; /* r.len bytes; NULL when not fetched */
	uint64_t written_end; /* offset just past the last byte written */
};

/*
 * The caller's memory as the kernel copied it for one ioctl. Reads outside
 * the fetched regions and writes outside the fetched OUT regions fail with
 * -EFAULT (logged at debug level). An access that reaches a region left out
 * for its size sets @too_big, so the transport can say so instead.
 */
struct uwindow {
	struct uwindow_region regions[IOCTL_REGIONS_MAX];
	unsigned int nr;
	const char *unreachable; /* why the caller is out of direct reach */
	bool too_big;
	/* Accesses outside every region: a bad pointer, or a planner bug. */
	unsigned int misses;
};

/*
 * Lay @plan's fetched regions over @data, the copies back to back as the
 * kernel sent them (plan->in_len bytes, modified in place by writes).
 */
void uwindow_init(struct uwindow *w, const struct ioctl_plan *plan,
		  unsigned char *data, const char *unreachable);

/*
 * The reply data for the kernel: the OUT regions in plan order, ending at
 * the last byte written (the kernel writes back only what the reply
 * carries). Fills up to IOCTL_REGIONS_MAX iovecs and returns their number.
 */
unsigned int uwindow_out_iov(const struct uwindow *w, struct iovec *iov);

#endif
