// SPDX-License-Identifier: MIT
/*
 * The calling process through /proc (caller.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "caller.h"
#include "log.h"
#include "util.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* PROCMAP_QUERY (include/uapi/linux/fs.h, Linux 6.11), for older headers. */
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_SHARED 0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10

struct procmap_query_v1 {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};

#define PROCMAP_QUERY_IOCTL _IOWR('f', 17, struct procmap_query_v1)

/* Cleared the first time the kernel says it has no PROCMAP_QUERY. */
static atomic_bool have_procmap_query = true;

static bool caller_is_held(const struct ucaller *caller)
{
	return caller->pid > 0 && !caller->window;
}

int caller_proc_open(const struct ucaller *caller, const char *name, int flags)
{
	char path[64];
	int fd;

	if (!caller_is_held(caller))
		return -EPERM;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)caller->pid, name);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0 && errno_is_fd_shortage(errno)) {
		log_warn("cannot open %s", path);
		return -ENOMEM;
	}
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return fd;
}

/* The daemon's own user namespace: where "initial" capabilities live. */
static bool same_userns_as_daemon(const struct ucaller *caller)
{
	static ino_t daemon_ns;
	struct stat st;
	char path[64];

	if (!daemon_ns) {
		if (stat("/proc/self/ns/user", &st))
			return false;
		daemon_ns = st.st_ino;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)caller->pid);
	return !stat(path, &st) && st.st_ino == daemon_ns;
}

/* SIGKILL, as the SigPnd and ShdPnd masks of /proc/TID/status show it. */
#define SIGKILL_MASK (1ULL << (SIGKILL - 1))

/*
 * Read all of @fd (a small /proc file) into @buf, NUL-terminated; a
 * bigger one (a long Groups line) into *heap, which the caller frees.
 */
static const char *read_all(int fd, char *buf, size_t len, char **heap)
{
	size_t have = 0;
	ssize_t n;

	*heap = NULL;
	for (;;) {
		char *bigger;

		n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		/* A /proc file of one record comes whole: short means done. */
		if (have < len - 1)
			break;
		/* Full: go on in a buffer twice the size. */
		bigger = realloc(*heap, 2 * len);
		if (!bigger)
			break;
		if (!*heap)
			memcpy(bigger, buf, have);
		*heap = buf = bigger;
		len *= 2;
	}
	buf[have] = '\0';
	return n < 0 ? NULL : buf;
}

/* The value after "@key:" at the start of a line of @text, or NULL. */
static const char *status_field(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (!strncmp(line, key, klen) && line[klen] == ':')
			return line + klen + 1;
	}
	return NULL;
}

static unsigned long long status_number(const char *text, const char *key,
					int base)
{
	const char *v = status_field(text, key);

	return v ? strtoull(v, NULL, base) : 0;
}

int caller_read_status(const struct ucaller *caller, struct caller_status *st)
{
	char buf[4096], *heap;
	const char *text;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = caller_proc_open(caller, "status", O_RDONLY);
	if (fd < 0)
		return fd;
	text = read_all(fd, buf, sizeof(buf), &heap);
	close(fd);
	if (!text) {
		free(heap);
		return -ESRCH;
	}
	st->tgid = (pid_t)status_number(text, "Tgid", 10);
	st->ruid = (uid_t)status_number(text, "Uid", 10);
	st->cap_effective = status_number(text, "CapEff", 16);
	/* A fatal signal is queued on every thread of the group. */
	st->sigkill_pending = (status_number(text, "SigPnd", 16) |
			       status_number(text, "ShdPnd", 16)) &
			      SIGKILL_MASK;
	free(heap);
	if (!st->tgid)
		return -ESRCH;
	/* Where it holds no capability, its user namespace does not matter. */
	st->in_daemon_userns = st->cap_effective &&
			       same_userns_as_daemon(caller);
	return 0;
}

bool caller_is_dying(const struct ucaller *caller)
{
	struct caller_status st;

	return !caller_read_status(caller, &st) && st.sigkill_pending;
}

int caller_getfd(const struct ucaller *caller, int fd)
{
	int pidfd, dup;

	if (!caller_is_held(caller))
		return -EPERM;
	/* The caller is a thread; a thread pidfd reaches its fd table. */
	pidfd = syscall(SYS_pidfd_open, caller->pid, PIDFD_THREAD);
	if (pidfd < 0)
		pidfd = syscall(SYS_pidfd_open, caller->pid, 0);
	if (pidfd < 0)
		return -EBADF;
	dup = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return dup < 0 ? -EBADF : dup;
}

/* The mnt_id line of an fdinfo file. */
static int fdinfo_mnt_id(int fdinfo, int *mnt_id)
{
	char buf[512];
	ssize_t n = read(fdinfo, buf, sizeof(buf) - 1);
	const char *p;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "mnt_id:");
	return p && sscanf(p, "mnt_id: %d", mnt_id) == 1 ? 0 : -EIO;
}

int caller_fd_fstype(const struct ucaller *caller, int fd, char *fstype,
		     size_t len)
{
	char name[32], *line = NULL;
	size_t cap = 0;
	int fdinfo, mnt_id, ret;
	FILE *f;

	if (fd < 0)
		return -EBADF;
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	fdinfo = caller_proc_open(caller, name, O_RDONLY);
	if (fdinfo < 0)
		return fdinfo == -ESRCH ? -EBADF : fdinfo;
	ret = fdinfo_mnt_id(fdinfo, &mnt_id);
	close(fdinfo);
	if (ret)
		return ret;
	ret = caller_proc_open(caller, "mountinfo", O_RDONLY);
	if (ret < 0)
		return ret;
	f = fdopen(ret, "r");
	if (!f) {
		close(ret);
		return -ENOMEM;
	}
	ret = -ENOENT;
	/* "ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - FSTYPE ..." */
	while (getline(&line, &cap, f) > 0) {
		const char *sep;
		int id;

		if (sscanf(line, "%d", &id) != 1 || id != mnt_id)
			continue;
		sep = strstr(line, " - ");
		if (sep && sscanf(sep + 3, "%31s", name) == 1 &&
		    strlen(name) < len) {
			strcpy(fstype, name);
			ret = 0;
		}
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

static int vma_query_ioctl(int maps_fd, uint64_t addr, bool or_next,
			   struct vma_info *vma)
{
	struct procmap_query_v1 q = {
		.size = sizeof(q),
		.query_flags = or_next ? PROCMAP_QUERY_COVERING_OR_NEXT_VMA : 0,
		.query_addr = addr,
	};

	if (ioctl(maps_fd, PROCMAP_QUERY_IOCTL, &q) < 0)
		return -errno;
	vma->start = q.vma_start;
	vma->end = q.vma_end;
	vma->offset = q.vma_offset;
	vma->inode = q.inode;
	vma->dev = makedev(q.dev_major, q.dev_minor);
	vma->read = q.vma_flags & PROCMAP_QUERY_VMA_READABLE;
	vma->write = q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE;
	vma->shared = q.vma_flags & PROCMAP_QUERY_VMA_SHARED;
	vma->file = q.inode != 0;
	return 0;
}

/* One line of /proc/PID/maps: "start-end perms offset maj:min inode ...". */
static bool parse_maps_line(const char *line, struct vma_info *vma)
{
	unsigned long long start, end, offset, inode;
	unsigned int maj, min;
	char perms[8];

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms,
		   &offset, &maj, &min, &inode) != 7)
		return false;
	vma->start = start;
	vma->end = end;
	vma->offset = offset;
	vma->inode = inode;
	vma->dev = makedev(maj, min);
	vma->read = perms[0] == 'r';
	vma->write = perms[1] == 'w';
	vma->shared = perms[3] == 's';
	vma->file = inode != 0;
	return true;
}

/* Without PROCMAP_QUERY: read the text from the start and find the line. */
static int vma_query_text(int maps_fd, uint64_t addr, bool or_next,
			  struct vma_info *vma)
{
	char buf[8192];
	size_t have = 0;
	off_t pos = 0;
	bool any = false;

	for (;;) {
		ssize_t n =
			pread(maps_fd, buf + have, sizeof(buf) - 1 - have, pos);
		char *line, *nl;

		if (n < 0)
			return -errno;
		if (n == 0)
			return any ? -ENOENT : -ESRCH;
		any = true;
		pos += n;
		have += (size_t)n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			/* The lines come in address order. */
			if (parse_maps_line(line, vma) && addr < vma->end &&
			    (or_next || addr >= vma->start))
				return 0;
			line = nl + 1;
		}
		/* Keep a partial last line for the next read. */
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line this long is not a VMA line */
	}
}

static int query(int maps_fd, uint64_t addr, bool or_next, struct vma_info *vma)
{
	int ret;

	if (atomic_load_explicit(&have_procmap_query, memory_order_relaxed)) {
		ret = vma_query_ioctl(maps_fd, addr, or_next, vma);
		if (ret != -ENOTTY && ret != -EINVAL)
			return ret;
		/* EINVAL is also what an unknown size would get: fall back. */
		if (ret == -ENOTTY) {
			atomic_store(&have_procmap_query, false);
			log_info(
				"no PROCMAP_QUERY in this kernel; parsing /proc/PID/maps instead (slower)");
		}
	}
	return vma_query_text(maps_fd, addr, or_next, vma);
}

int vma_query(int maps_fd, uint64_t addr, struct vma_info *vma)
{
	return query(maps_fd, addr, false, vma);
}

int vma_query_or_next(int maps_fd, uint64_t addr, struct vma_info *vma)
{
	return query(maps_fd, addr, true, vma);
}
