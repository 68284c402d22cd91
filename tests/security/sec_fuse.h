/* SPDX-License-Identifier: MIT */
/*
 * A file system whose server never answers: what an unprivileged user can
 * mount to make accesses to one file hang. Our own minimal server speaking
 * the raw /dev/fuse protocol: it answers what open() needs (INIT, LOOKUP,
 * GETATTR, OPEN, RELEASE), holds READ until it gets SIGUSR1 (then answers
 * every READ with zeroes), holds IOCTL forever and FLUSH (the request
 * every close() sends) forever with SEC_FUSE_HOLD_FLUSH, else answers it.
 * Killing the server process ends the connection, which fails every held
 * request.
 *
 * Two ways to mount it, as a user can: in a user namespace of one's own
 * (FUSE is FS_USERNS_MOUNT), or with the setuid fusermount3 in the user's
 * current namespaces. The kernel sends requests on behalf of a process
 * only if its ids map into the mount's user namespace: a root daemon's page
 * fault on a user-namespace mount fails at once (EOVERFLOW, so EFAULT),
 * while one on a fusermount3 mount waits for the server. FLUSH is sent
 * either way.
 */
#ifndef IOMMUFDD_SECURITY_SEC_FUSE_H
#define IOMMUFDD_SECURITY_SEC_FUSE_H

#include <stdint.h>
#include <sys/types.h>

#define SEC_FUSE_HOLD_FLUSH (1 << 0)

struct sec_fuse {
	pid_t server; /* the server process */
	char path[512]; /* the one file */
};

/*
 * In a process that is root of its own user and mount namespace
 * (sec_enter_userns()): mount the file system on directory @dir through
 * @fuse_dev (a /dev/fuse node) and fork its server. The file is @size
 * bytes; @flags: SEC_FUSE_HOLD_FLUSH or 0. For each request it holds, the
 * server writes one byte to @notify_fd (-1: none): 'R' READ, 'F' FLUSH,
 * 'I' IOCTL. 0 or -errno.
 */
int sec_fuse_mount(struct sec_fuse *f, const char *fuse_dev, const char *dir,
		   uint64_t size, int notify_fd, unsigned int flags);

/*
 * The same, mounted by fusermount3 (from PATH) on @dir, a directory the
 * calling user owns, in the current user namespace. 0 or -errno (-ENOENT:
 * no fusermount3).
 */
int sec_fuse_mount_user(struct sec_fuse *f, const char *dir, uint64_t size,
			int notify_fd, unsigned int flags);

#endif
