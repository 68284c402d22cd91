/* SPDX-License-Identifier: MIT */
/*
 * Access to a caller's memory. Every pointer in an ioctl refers to the calling
 * process; the daemon reaches it with process_vm_readv/writev while the caller
 * is blocked in the ioctl, so the thread id cannot be reused underneath us.
 */
#ifndef IOMMUFDD_UACCESS_H
#define IOMMUFDD_UACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/*
 * Copy @len bytes between the caller at @uptr and @buf. 0 on success;
 * -EFAULT for an unmapped or short range (including @uptr == 0 with len > 0),
 * -EPERM when the daemon may not access the caller at all, -ESRCH when the
 * caller is gone. A zero length always succeeds.
 */
int copy_from_user(const struct ucaller *c, void *buf, uint64_t uptr, size_t len);
int copy_to_user(const struct ucaller *c, uint64_t uptr, const void *buf, size_t len);

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

#endif
