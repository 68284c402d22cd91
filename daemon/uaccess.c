// SPDX-License-Identifier: MIT
/*
 * Caller memory access with process_vm_readv/process_vm_writev, or through
 * a window over copies the kernel made (see uaccess.h).
 *
 * The kernel checks the remote range only while copying and reports how many
 * bytes made it, so every short count is a fault somewhere in the range:
 * like copy_from_user, any partial transfer is -EFAULT.
 */
#define _GNU_SOURCE /* process_vm_readv, process_vm_writev */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "caller.h"
#include "log.h"
#include "uaccess.h"
#include "util.h"

/*
 * The kernel caps one process_vm_* call at MAX_RW_COUNT (just under 2 GiB)
 * and silently shortens longer requests, which would look like a fault.
 */
#define REMOTE_IO_MAX (1UL << 30)

/* Bounce size for clear_user and check_zeroed_user. */
#define BOUNCE_MAX (1UL << 20)

/* clear_user points every local iovec at this; it is never written. */
static char zero_block[4096];

static size_t page_size(void)
{
	return PAGE_SIZE;
}

/* A range that cannot name caller memory faults before any syscall. */
static bool user_range_ok(uint64_t uptr, uint64_t len)
{
	if (!uptr)
		return false;
	if (uptr + len < uptr)
		return false;
#if UINTPTR_MAX < UINT64_MAX
	if (uptr + len - 1 > UINTPTR_MAX)
		return false;
#endif
	return true;
}

static int remote_errno(int err)
{
	switch (err) {
	case EPERM:
	case ESRCH:
	case ENOMEM:
		return -err;
	default:
		/* EFAULT, and EINVAL for a range the kernel refuses outright. */
		return -EFAULT;
	}
}

/*
 * Writes through /proc/PID/mem ignore the protection of the mapping
 * (FOLL_FORCE); a copy_to_user must not. 0 if [va, va + len) is mapped
 * writable, -EFAULT otherwise.
 */
static int handles_writable(const struct caller_handles *h, uint64_t va,
			    uint64_t len)
{
	uint64_t end = va + len;

	while (va < end) {
		struct vma_info vma;

		if (vma_query(h->maps_fd, va, &vma) || !vma.write)
			return -EFAULT;
		va = vma.end;
	}
	return 0;
}

/* process_vm_* semantics over the handles: stops at the first fault. */
static ssize_t handles_io(const struct caller_handles *h, bool to_caller,
			  const struct iovec *local, unsigned long nr_local,
			  const struct iovec *remote, unsigned long nr_remote)
{
	unsigned long li = 0;
	size_t loff = 0;
	ssize_t total = 0;

	for (unsigned long ri = 0; ri < nr_remote; ri++) {
		uint64_t va = (uint64_t)(uintptr_t)remote[ri].iov_base;
		size_t left = remote[ri].iov_len;

		if (to_caller && left && handles_writable(h, va, left))
			return total;
		while (left && li < nr_local) {
			size_t n = local[li].iov_len - loff;
			char *buf = (char *)local[li].iov_base + loff;
			ssize_t done;

			if (n > left)
				n = left;
			done = to_caller ?
				       pwrite(h->mem_fd, buf, n, (off_t)va) :
				       pread(h->mem_fd, buf, n, (off_t)va);
			if (done <= 0)
				return total;
			total += done;
			va += (uint64_t)done;
			left -= (size_t)done;
			loff += (size_t)done;
			if (loff == local[li].iov_len) {
				li++;
				loff = 0;
			}
		}
	}
	return total;
}

/*
 * One process_vm_* call. Returns the number of bytes moved or -errno; a
 * short count is for the caller to interpret.
 */
static ssize_t remote_io(const struct ucaller *c, bool to_caller,
			 const struct iovec *local, unsigned long nr_local,
			 const struct iovec *remote, unsigned long nr_remote)
{
	ssize_t n;

	if (c->handles)
		return handles_io(c->handles, to_caller, local, nr_local,
				  remote, nr_remote);
	/* pid 0 is a caller outside our pid namespace: unreachable. */
	if (c->pid <= 0)
		return -ESRCH;
	if (to_caller)
		n = process_vm_writev(c->pid, local, nr_local, remote,
				      nr_remote, 0);
	else
		n = process_vm_readv(c->pid, local, nr_local, remote, nr_remote,
				     0);
	if (n < 0)
		return remote_errno(errno);
	return n;
}

/* ---- window mode ------------------------------------------------------ */

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

void uwindow_init(struct uwindow *w, const struct ioctl_plan *plan,
		  unsigned char *data, const char *unreachable)
{
	memset(w, 0, sizeof(*w));
	w->unreachable = unreachable;
	w->nr = plan->nr;
	for (unsigned int i = 0; i < plan->nr; i++) {
		struct uwindow_region *wr = &w->regions[i];

		wr->r = plan->regions[i];
		if (wr->r.flags & IOCTL_REGION_TOO_BIG)
			continue;
		wr->data = data;
		data += wr->r.len;
	}
}

unsigned int uwindow_out_iov(const struct uwindow *w, struct iovec *iov)
{
	unsigned int n = 0, used = 0;
	uint64_t last_end = 0;

	for (unsigned int i = 0; i < w->nr; i++) {
		const struct uwindow_region *wr = &w->regions[i];

		if (!wr->data || !(wr->r.flags & IOCTL_REGION_OUT))
			continue;
		/*
		 * The kernel fills the OUT regions one after the other, so
		 * untouched bytes before a written one must go back as they
		 * came; only the last written region can end early.
		 */
		iov[n].iov_base = wr->data;
		iov[n].iov_len = wr->r.len;
		n++;
		if (wr->written_end) {
			used = n;
			last_end = wr->written_end;
		}
	}
	if (used)
		iov[used - 1].iov_len = last_end;
	return used;
}

static bool range_overlaps(const struct ioctl_region *r, uint64_t uptr,
			   uint64_t len)
{
	return uptr < r->uptr + r->len && r->uptr < uptr + len;
}

/* The first fetched region holding all of [uptr, uptr + len). */
static struct uwindow_region *window_find(struct uwindow *w, uint64_t uptr,
					  uint64_t len, unsigned int flag)
{
	for (unsigned int i = 0; i < w->nr; i++) {
		struct uwindow_region *wr = &w->regions[i];

		if (wr->data && (wr->r.flags & flag) && uptr >= wr->r.uptr &&
		    uptr - wr->r.uptr <= wr->r.len &&
		    len <= wr->r.len - (uptr - wr->r.uptr))
			return wr;
	}
	return NULL;
}

/* The first fetched region holding the byte at @uptr. */
static struct uwindow_region *window_find_start(struct uwindow *w,
						uint64_t uptr)
{
	for (unsigned int i = 0; i < w->nr; i++) {
		struct uwindow_region *wr = &w->regions[i];

		if (wr->data && uptr >= wr->r.uptr &&
		    uptr - wr->r.uptr < wr->r.len)
			return wr;
	}
	return NULL;
}

static int window_miss(struct uwindow *w, const char *what, uint64_t uptr,
		       uint64_t len)
{
	for (unsigned int i = 0; i < w->nr; i++) {
		const struct uwindow_region *wr = &w->regions[i];

		if (!wr->data && range_overlaps(&wr->r, uptr, len)) {
			w->too_big = true;
			return -EFAULT;
		}
	}
	w->misses++;
	log_debug(
		"uaccess: %s of %llu bytes at 0x%llx is outside the memory the kernel copied",
		what, (unsigned long long)len, (unsigned long long)uptr);
	return -EFAULT;
}

static int window_read(struct uwindow *w, void *buf, uint64_t uptr, size_t len)
{
	struct uwindow_region *wr = window_find(w, uptr, len, IOCTL_REGION_IN);

	if (!wr)
		return window_miss(w, "read", uptr, len);
	memcpy(buf, wr->data + (uptr - wr->r.uptr), len);
	return 0;
}

/* @buf NULL writes zeroes. */
static int window_write(struct uwindow *w, uint64_t uptr, const void *buf,
			size_t len)
{
	if (!window_find(w, uptr, len, IOCTL_REGION_OUT))
		return window_miss(w, "write", uptr, len);

	/*
	 * Every copy of these bytes changes, not just one: a later read must
	 * see the write, and regions the caller made overlap must go back
	 * agreeing with each other.
	 */
	for (unsigned int i = 0; i < w->nr; i++) {
		struct uwindow_region *wr = &w->regions[i];
		uint64_t lo, hi;

		if (!wr->data || !range_overlaps(&wr->r, uptr, len))
			continue;
		lo = uptr > wr->r.uptr ? uptr : wr->r.uptr;
		hi = uptr + len < wr->r.uptr + wr->r.len ?
			     uptr + len :
			     wr->r.uptr + wr->r.len;
		if (buf)
			memcpy(wr->data + (lo - wr->r.uptr),
			       (const char *)buf + (lo - uptr), hi - lo);
		else
			memset(wr->data + (lo - wr->r.uptr), 0, hi - lo);
		if ((wr->r.flags & IOCTL_REGION_OUT) &&
		    hi - wr->r.uptr > wr->written_end)
			wr->written_end = hi - wr->r.uptr;
	}
	return 0;
}

static long window_read_partial(struct uwindow *w, void *buf, uint64_t uptr,
				size_t len)
{
	struct uwindow_region *wr = window_find_start(w, uptr);
	uint64_t avail;

	if (!wr)
		return window_miss(w, "read", uptr, len);
	avail = wr->r.len - (uptr - wr->r.uptr);
	if (len > avail)
		len = avail;
	memcpy(buf, wr->data + (uptr - wr->r.uptr), len);
	return (long)len;
}

static int window_check_zeroed(struct uwindow *w, uint64_t uptr, uint64_t len)
{
	struct uwindow_region *wr = window_find_start(w, uptr);
	uint64_t avail = 0;

	if (wr) {
		avail = wr->r.len - (uptr - wr->r.uptr);
		if (avail > len)
			avail = len;
		/* A non-zero byte wins over a fault after it, as in the kernel. */
		if (!all_zero(wr->data + (uptr - wr->r.uptr), avail))
			return -E2BIG;
	}
	if (avail < len)
		return window_miss(w, "read", uptr + avail, len - avail);
	return 0;
}

static int copy_user(const struct ucaller *c, bool to_caller, void *buf,
		     uint64_t uptr, size_t len)
{
	char *local = buf;

	if (!len)
		return 0;
	if (!user_range_ok(uptr, len))
		return -EFAULT;
	if (c->window)
		return to_caller ? window_write(c->window, uptr, buf, len) :
				   window_read(c->window, buf, uptr, len);

	while (len) {
		size_t chunk = len < REMOTE_IO_MAX ? len : REMOTE_IO_MAX;
		struct iovec liov = { .iov_base = local, .iov_len = chunk };
		struct iovec riov = {
			.iov_base = (void *)(uintptr_t)uptr,
			.iov_len = chunk,
		};
		ssize_t n = remote_io(c, to_caller, &liov, 1, &riov, 1);

		if (n < 0)
			return (int)n;
		if ((size_t)n != chunk)
			return -EFAULT;
		local += chunk;
		uptr += chunk;
		len -= chunk;
	}
	return 0;
}

int copy_from_user(const struct ucaller *c, void *buf, uint64_t uptr,
		   size_t len)
{
	return copy_user(c, false, buf, uptr, len);
}

long copy_from_user_partial(const struct ucaller *c, void *buf, uint64_t uptr,
			    size_t len)
{
	struct iovec liov = { .iov_base = buf, .iov_len = len };
	struct iovec riov = { .iov_base = (void *)(uintptr_t)uptr,
			      .iov_len = len };

	if (!user_range_ok(uptr, len) || len > REMOTE_IO_MAX)
		return -EFAULT;
	if (c->window)
		return window_read_partial(c->window, buf, uptr, len);
	return remote_io(c, false, &liov, 1, &riov, 1);
}

int copy_to_user(const struct ucaller *c, uint64_t uptr, const void *buf,
		 size_t len)
{
	/* process_vm_writev only reads the local side. */
	return copy_user(c, true, (void *)buf, uptr, len);
}

int clear_user(const struct ucaller *c, uint64_t uptr, size_t len)
{
	struct iovec local[BOUNCE_MAX / sizeof(zero_block)];

	if (!len)
		return 0;
	if (!user_range_ok(uptr, len))
		return -EFAULT;
	if (c->window)
		return window_write(c->window, uptr, NULL, len);

	/* Many local iovecs on one zero block stand in for a zeroed bounce. */
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		local[i].iov_base = zero_block;
		local[i].iov_len = sizeof(zero_block);
	}

	while (len) {
		size_t chunk = len < BOUNCE_MAX ? len : BOUNCE_MAX;
		size_t nr_local =
			(chunk + sizeof(zero_block) - 1) / sizeof(zero_block);
		struct iovec remote = {
			.iov_base = (void *)(uintptr_t)uptr,
			.iov_len = chunk,
		};
		ssize_t n;

		/* The last local iovec may be longer than needed: harmless. */
		n = remote_io(c, true, local, nr_local, &remote, 1);
		if (n < 0)
			return (int)n;
		if ((size_t)n != chunk)
			return -EFAULT;
		uptr += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * The remote side is split at page boundaries: process_vm_readv documents
 * partial transfers at iovec granularity, so a short count still delivers
 * every page before the first unreadable one. Those bytes are checked first,
 * so a non-zero byte wins over a fault that comes after it, as in the
 * kernel's byte-by-byte check_zeroed_user().
 */
int check_zeroed_user(const struct ucaller *c, uint64_t uptr, uint64_t len)
{
	size_t pgsz = page_size();
	size_t bounce_len;
	struct iovec *remote;
	unsigned char *bounce;
	size_t max_remote;
	int ret = 0;

	if (!len)
		return 0;
	if (!user_range_ok(uptr, len))
		return -EFAULT;
	if (c->window)
		return window_check_zeroed(c->window, uptr, len);

	bounce_len = len < BOUNCE_MAX ? (size_t)len : BOUNCE_MAX;
	/* Unaligned start: one extra page piece. */
	max_remote = bounce_len / pgsz + 2;
	if (max_remote > IOV_MAX)
		max_remote = IOV_MAX;
	bounce = malloc(bounce_len);
	remote = calloc(max_remote, sizeof(*remote));
	if (!bounce || !remote) {
		ret = -ENOMEM;
		goto out;
	}

	while (len) {
		struct iovec local = { .iov_base = bounce };
		size_t nr_remote = 0;
		size_t chunk = 0;
		ssize_t n;

		while (chunk < bounce_len && chunk < len &&
		       nr_remote < max_remote) {
			uint64_t addr = uptr + chunk;
			size_t piece = pgsz - (size_t)(addr % pgsz);

			if (piece > bounce_len - chunk)
				piece = bounce_len - chunk;
			if (piece > len - chunk)
				piece = (size_t)(len - chunk);
			remote[nr_remote].iov_base = (void *)(uintptr_t)addr;
			remote[nr_remote].iov_len = piece;
			nr_remote++;
			chunk += piece;
		}
		local.iov_len = chunk;

		n = remote_io(c, false, &local, 1, remote, nr_remote);
		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (!all_zero(bounce, (size_t)n)) {
			ret = -E2BIG;
			break;
		}
		if ((size_t)n != chunk) {
			ret = -EFAULT;
			break;
		}
		uptr += chunk;
		len -= chunk;
	}
out:
	free(remote);
	free(bounce);
	return ret;
}

int caller_probe(const struct ucaller *c, uint64_t uptr)
{
	uint32_t word;
	struct iovec liov = { .iov_base = &word, .iov_len = sizeof(word) };
	struct iovec riov = { .iov_base = (void *)(uintptr_t)uptr,
			      .iov_len = sizeof(word) };

	if (c->pid <= 0)
		return -ESRCH;
	if (process_vm_readv(c->pid, &liov, 1, &riov, 1, 0) >= 0)
		return 0;
	/* Other errors (EFAULT) come after the access check passed. */
	return errno == EPERM || errno == ESRCH ? -errno : 0;
}

int caller_require_direct(const struct ucaller *c, const char *what)
{
	if (c->handles) {
		log_info(
			"%s needs the caller held in its request, and this one came through iommufd-run's supervisor",
			what);
		return -EPERM;
	}
	if (!c->window)
		return 0;
	log_info(
		"pid %d: %s needs direct access to the caller, not copies of its memory, and %s",
		(int)c->pid, what,
		c->window->unreachable ? c->window->unreachable :
					 "the caller is out of reach");
	return -EPERM;
}
