/* SPDX-License-Identifier: MIT */
/*
 * A file system whose server never answers: what an unprivileged user can
 * mount in a user namespace of their own (FUSE is FS_USERNS_MOUNT) to make
 * any access to one file hang. Our own minimal server speaking the raw
 * /dev/fuse protocol: it answers what open() needs (INIT, LOOKUP, GETATTR,
 * OPEN, RELEASE) and holds READ, FLUSH and IOCTL forever. Killing the
 * server process ends the connection, which fails every held request.
 */
#ifndef IOMMUFDD_SECURITY_SEC_FUSE_H
#define IOMMUFDD_SECURITY_SEC_FUSE_H

#include <stdint.h>
#include <sys/types.h>

struct sec_fuse {
	pid_t server; /* the server process */
	char path[512]; /* the one file */
};

/*
 * In a process that is root of its own user and mount namespace
 * (sec_enter_userns()): mount the file system on directory @dir through
 * @fuse_dev (a /dev/fuse node) and fork its server. The file is @size
 * bytes. For each request it holds, the server writes one byte to
 * @notify_fd (-1: none): 'R' READ, 'F' FLUSH, 'I' IOCTL. 0 or -errno.
 */
int sec_fuse_mount(struct sec_fuse *f, const char *fuse_dev, const char *dir,
		   uint64_t size, int notify_fd);

#endif
