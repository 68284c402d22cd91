/* SPDX-License-Identifier: MIT */
/*
 * The calling process as /proc shows it, for the duration of a request.
 *
 * Why a raw thread id is safe here, and only here: once the daemon has read
 * a FUSE or CUSE request, the kernel waits for the reply uninterruptibly
 * (fs/fuse/dev.c, request_wait_answer: after FR_SENT only the reply ends
 * the wait, whatever signal arrives), so the calling thread cannot exit,
 * and an exec by another thread of its process waits for it too (de_thread
 * waits for every other thread to die). Until the reply, the tid names that
 * thread and its address space. Anything kept beyond the reply must be a
 * handle opened now (a file of the caller's, /proc/TID/mem of its mm), never
 * the number.
 *
 * Callers served from the kernel's copies (a window, see uaccess.h) or from
 * the seccomp supervisor are not held that way; these functions refuse
 * them (-EPERM) unless the ucaller carries a handle opened while the
 * caller was provably there (ucaller.mem_fd, see launcher.c).
 */
#ifndef IOMMUFDD_CALLER_H
#define IOMMUFDD_CALLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.h"

struct caller_status {
	pid_t tgid;
	uid_t ruid;
	uint64_t cap_effective;
	/* capabilities count (see caller_capable); false without any */
	bool in_daemon_userns;
	bool sigkill_pending; /* in SigPnd or ShdPnd: the caller is dying */
};

/* 0, -ESRCH (gone) or -EPERM (not a directly reachable caller). */
int caller_read_status(const struct ucaller *caller, struct caller_status *st);

/* open("/proc/TID/@name", @flags | O_CLOEXEC): an fd, or -errno. */
int caller_proc_open(const struct ucaller *caller, const char *name, int flags);

/*
 * Has the calling thread been killed (SIGKILL pending)? Then it only waits
 * for our reply to die, and the reply's content no longer matters.
 */
bool caller_is_dying(const struct ucaller *caller);

/* A duplicate of the caller's descriptor @fd (pidfd_getfd), or -EBADF. */
int caller_getfd(const struct ucaller *caller, int fd);

/*
 * The type of the file system (as the caller's mountinfo names it, e.g.
 * "devtmpfs") that the caller's descriptor @fd lives on, learnt from
 * /proc without touching the file. 0, -EBADF (no such descriptor),
 * -ENOENT (a mount the caller cannot see), -errno.
 */
int caller_fd_fstype(const struct ucaller *caller, int fd, char *fstype,
		     size_t len);

/* One VMA of an address space, as /proc/PID/maps describes it. */
struct vma_info {
	uint64_t start, end; /* [start, end) */
	uint64_t offset; /* file offset of start, in bytes */
	uint64_t inode;
	dev_t dev;
	bool read, write, shared;
	bool file; /* backed by a file (inode != 0) */
};

/*
 * The VMA covering @addr in the address space behind @maps_fd, an open
 * /proc/PID/maps (which stays bound to the mm it was opened on). 0;
 * -ENOENT when nothing is mapped there; -ESRCH when that mm is gone.
 * Uses the PROCMAP_QUERY ioctl (Linux 6.11) and falls back to parsing.
 */
int vma_query(int maps_fd, uint64_t addr, struct vma_info *vma);

/* Like vma_query, but the first VMA above @addr when none covers it. */
int vma_query_or_next(int maps_fd, uint64_t addr, struct vma_info *vma);

#endif
