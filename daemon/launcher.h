/* SPDX-License-Identifier: MIT */
/*
 * Handing file descriptors to callers. The kernel returns a new fd from a
 * few iommufd ioctls; a FUSE or CUSE server cannot create one in another
 * process. Programs started by iommufd-run hand the daemon a seccomp
 * user-notification listener for exactly those ioctl numbers; the daemon's
 * supervisor thread then runs the ioctl on the caller's context, opens the
 * object's file (objfile.h) and installs it in the caller with
 * SECCOMP_IOCTL_NOTIF_ADDFD.
 *
 * The supervisor reaches the caller's context by issuing private ioctls on
 * a duplicate of the caller's own /dev/iommu file (pidfd_getfd), so they
 * travel through the transport like any request and run on that context's
 * queue, in order. Only the daemon itself may issue them.
 *
 * The caller is not held in a request meanwhile (it waits in seccomp and
 * may be killed), so its memory is reached through /proc/TID/mem and maps
 * opened while the notification was still valid, never by its tid.
 */
#ifndef IOMMUFDD_LAUNCHER_H
#define IOMMUFDD_LAUNCHER_H

#include <stdint.h>

#include <linux/ioctl.h>

#define IOMMUFDD_PRIV_TYPE 0xd1

/*
 * PREPARE: run the caller's fd-returning ioctl (cmd, arg) up to the point
 * where the fd number is needed, reaching the caller's memory through the
 * daemon's descriptors mem_fd and maps_fd; out: token and the object
 * file's path. COMMIT: write @fd into the caller's struct. ABORT: undo.
 * caller_tid is for log lines only.
 */
#define IOMMUFDD_PRIV_FD_PREPARE _IO(IOMMUFDD_PRIV_TYPE, 1)
#define IOMMUFDD_PRIV_FD_COMMIT _IO(IOMMUFDD_PRIV_TYPE, 2)
#define IOMMUFDD_PRIV_FD_ABORT _IO(IOMMUFDD_PRIV_TYPE, 3)

struct iommufdd_priv_fd {
	uint32_t size;
	uint32_t cmd;
	int32_t caller_tid;
	int32_t fd;
	int32_t mem_fd;
	int32_t maps_fd;
	uint64_t arg;
	uint64_t token;
	char path[192];
};

/*
 * The launcher's registration socket, relative to the run directory. The
 * launcher sends HELLO with its listener; the answer is "ok", or "ok MNT
 * INO" naming the served file (statx mount ID and inode) so that the
 * launched program's mmap shim can tell its /dev/iommu descriptors apart,
 * or why not.
 */
#define IOMMUFDD_LAUNCHER_SOCKET "launcher.sock"
#define IOMMUFDD_LAUNCHER_HELLO "iommufd-run 1"
/* The environment variable in which the launcher passes MNT:INO on. */
#define IOMMUFD_RUN_DEVICE_ENV "IOMMUFD_RUN_DEVICE"

struct event_base;

/*
 * Serve object files under RUNDIR/objects and launchers on
 * RUNDIR/launcher.sock for the /dev/iommu at @iommu_path.
 */
int launcher_start(struct event_base *base, const char *rundir,
		   const char *iommu_path);
/*
 * Stop taking launchers and wait a while for the supervisor threads; one
 * stuck in a request is left behind (the process is exiting). Never blocks
 * for long.
 */
void launcher_stop(void);

#endif
