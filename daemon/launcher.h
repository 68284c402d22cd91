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
 * travel through the transport like any request and are handled in order
 * on the main loop. Only the daemon itself may issue them.
 */
#ifndef IOMMUFDD_LAUNCHER_H
#define IOMMUFDD_LAUNCHER_H

#include <stdint.h>

#include <linux/ioctl.h>

#define IOMMUFDD_PRIV_TYPE 0xd1

/*
 * PREPARE: run the caller's fd-returning ioctl (cmd, arg, caller_tid) up to
 * the point where the fd number is needed; out: token and the object
 * file's path. COMMIT: write @fd into the caller's struct. ABORT: undo.
 */
#define IOMMUFDD_PRIV_FD_PREPARE _IO(IOMMUFDD_PRIV_TYPE, 1)
#define IOMMUFDD_PRIV_FD_COMMIT _IO(IOMMUFDD_PRIV_TYPE, 2)
#define IOMMUFDD_PRIV_FD_ABORT _IO(IOMMUFDD_PRIV_TYPE, 3)

struct iommufdd_priv_fd {
	uint32_t size;
	uint32_t cmd;
	int32_t caller_tid;
	int32_t fd;
	uint64_t arg;
	uint64_t token;
	char path[192];
};

/* The launcher's registration socket, relative to the run directory. */
#define IOMMUFDD_LAUNCHER_SOCKET "launcher.sock"
#define IOMMUFDD_LAUNCHER_HELLO "iommufd-run 1"

struct event_base;

/* Serve object files under RUNDIR/objects and launchers on RUNDIR/launcher.sock. */
int launcher_start(struct event_base *base, const char *rundir);
void launcher_stop(void);

#endif
