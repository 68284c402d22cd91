/* SPDX-License-Identifier: MIT */
/*
 * Watch the kernel log (/dev/kmsg) for messages logged after a point, e.g.
 * the DMAR fault the guest's VT-d driver logs for a refused DMA.
 */
#ifndef IOMMUFDD_TESTS_KMSG_H
#define IOMMUFDD_TESTS_KMSG_H

#include <stddef.h>

/* An open /dev/kmsg positioned after the last record; -errno on failure. */
int kmsg_open_at_end(void);

/*
 * Read the records logged since the last call (or since kmsg_open_at_end),
 * for up to wait_ms, until one contains every string of needles (a NULL-
 * terminated array). Returns 1 and copies that message (without the
 * record's prefix) into line when found, 0 when not, -errno on errors.
 */
int kmsg_find(int fd, const char *const *needles, unsigned int wait_ms,
	      char *line, size_t len);

#endif
