/* SPDX-License-Identifier: MIT */
/*
 * Which files are memory: shmem (memfd, MAP_SHARED|MAP_ANONYMOUS, tmpfs)
 * and hugetlbfs, the file systems the kernel can pin pages of long-term
 * (memfd_pin_folios accepts no others) and the only ones the daemon maps
 * into itself.
 *
 * A file is classified by its superblock before the daemon opens it:
 * opening, stat-ing or closing a file of another file system could wait on
 * a server the caller controls (FUSE). Superblocks are known by device
 * number: the kernel's internal shmem and hugetlbfs mounts from files the
 * daemon creates itself, others from the caller's own mount table (its
 * mount namespace may not be ours). A device number stays valid while the
 * daemon holds a file of that superblock; one learnt from a caller is
 * trusted only for that request, or while such a file is held (memfs_hold).
 *
 * Locking: one internal mutex.
 */
#ifndef IOMMUFDD_MEMFS_H
#define IOMMUFDD_MEMFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.h"

/* Learn the internal mounts. Called once at start; 0 or -errno. */
int memfs_init(void);

/*
 * Is @dev a shmem or hugetlbfs superblock? Asks the caller's mount table
 * (in-request) when the daemon does not know the device.
 */
bool memfs_is_memory_dev(const struct ucaller *caller, dev_t dev);

/*
 * The caller's descriptor @fd: is it a file of a memory file system? Read
 * from /proc/TID/fdinfo and the caller's mount table, without touching the
 * file. 1 yes, 0 no, -EBADF (no such descriptor), -errno.
 */
int memfs_caller_fd_is_memory(const struct ucaller *caller, int fd);

/*
 * Does @dev never give one inode number to two files while the system
 * runs (the kernel's internal shmem mount: memfd, MAP_SHARED|MAP_ANONYMOUS,
 * SysV shm)? Then a device and inode number name one file.
 */
bool memfs_inode_numbers_unique(dev_t dev);

/* A file of superblock @dev is held / released: keep @dev known. */
void memfs_hold(dev_t dev);
void memfs_release(dev_t dev);

#endif
