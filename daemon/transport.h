/* SPDX-License-Identifier: MIT */
/*
 * Transports: how /dev/iommu reaches the daemon. Each one turns kernel
 * requests into calls on the core (core.h) from the daemon's event loop, one
 * request at a time, in the order the kernel queued them.
 */
#ifndef IOMMUFDD_TRANSPORT_H
#define IOMMUFDD_TRANSPORT_H

struct event_base;

/*
 * FUSE file: a one-file FUSE file system mounted on top of @path, a regular
 * file that is created (and removed again on stop) if it does not exist.
 * Ioctls arrive restricted, i.e. with the raw argument pointer only, so the
 * core reaches caller memory through uaccess.h.
 *
 * Returns 0 or -errno (details are logged). When the kernel side goes away
 * (unmounted, connection aborted) the transport breaks @base's loop.
 */
int transport_fuse_start(struct event_base *base, const char *path);

/*
 * Unmount, release the contexts of files that are still open and remove the
 * file if start created it. Safe to call when start failed or never ran.
 */
void transport_fuse_stop(void);

/*
 * CUSE: a character device /dev/<basename of @path> created through
 * /dev/cuse, with number @major:@minor (major 0: a dynamic number). Ioctls
 * arrive unrestricted: the core reaches a caller it may ptrace directly
 * (one round trip); any other caller is served from memory the kernel
 * copies for the daemon with FUSE_IOCTL_RETRY (ioctl_regions.h).
 *
 * Returns 0 once the device exists, or -errno (details are logged). When the
 * kernel side goes away (connection aborted) the transport breaks @base's
 * loop.
 */
int transport_cuse_start(struct event_base *base, const char *path,
			 unsigned int major, unsigned int minor);

/*
 * Close the channel, which makes the kernel remove the device, and release
 * the contexts of files that are still open. Safe to call when start
 * failed or never ran.
 */
void transport_cuse_stop(void);

#endif
