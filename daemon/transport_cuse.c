// SPDX-License-Identifier: MIT
/*
 * The CUSE transport: /dev/iommu as a character device that the kernel
 * creates when we answer CUSE_INIT on a /dev/cuse channel.
 *
 * CUSE offers unrestricted ioctls: the first request for an ioctl carries
 * only cmd and the raw argument, and the server may ask the kernel, as often
 * as it needs, to copy regions of the caller's memory in and to write regions
 * back with the final reply (FUSE_IOCTL_RETRY). Each such round is a full
 * round trip, so the caller is served in one of two ways:
 *
 *  - directly, when the kernel names the caller (pid != 0) and
 *    process_vm_readv may reach it: the core runs at once on the caller's
 *    memory, one round trip, as on the FUSE file;
 *  - from copies otherwise (the caller is in a pid namespace we cannot see,
 *    or ptrace access is denied): the rounds ioctl_regions.h plans fetch the
 *    struct and the buffers it names, then the handler runs once against
 *    the copies and the reply carries its result and what it wrote.
 *
 * The copying rounds keep no state: each one is planned from the bytes the
 * kernel sent with it, so a caller killed between rounds leaves nothing
 * behind. Operations that need the caller itself rather than copies
 * (pinning its memory, its page tables, its descriptors) fail with EPERM in
 * that mode and say why.
 *
 * Requests are read by the one reader on the event loop and queued on
 * their context, as on the FUSE file (transport_common.h).
 */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cuse_lowlevel.h>

#include "ioctl_regions.h"
#include "log.h"
#include "permission.h"
#include "transport.h"
#include "transport_common.h"
#include "uaccess.h"
#include "util.h"

#define CUSE_CHANNEL "/dev/cuse"

/* The kernel queues CUSE_INIT when the channel opens; it cannot take long. */
#define INIT_TIMEOUT_MS 5000

/*
 * A CUSE connection keeps the FUSE default of 32 pages per request: its
 * INIT reply has no max_pages field. So one retry round carries at most 32
 * pages in each direction, and the kernel fails the caller's ioctl with
 * ENOMEM when asked for more. We never ask: a handler that needs a region
 * over the limit fails with ENOMEM and a log line, so the caller sees the
 * same errno either way, but only once the kernel's earlier checks passed.
 */
#define CUSE_MAX_PAGES 32

struct cuse_transport {
	struct transport_session ts; /* first: the session's userdata */
	char *devname; /* the node's name under /dev */
	bool init_done;
	bool created_node; /* we made /dev/<name>, not devtmpfs */
	uint64_t retry_limit; /* bytes one round may fetch */
};

static struct cuse_transport cuse_transport;

static struct cuse_transport *cuse_transport_of(fuse_req_t req)
{
	return container_of(fuse_req_userdata(req), struct cuse_transport, ts);
}

static void cuse_dev_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	log_debug("cuse: kernel speaks protocol %u.%u", conn->proto_major,
		  conn->proto_minor);
}

/* The kernel has taken our CUSE_INIT reply: the device exists, or failed. */
static void cuse_dev_init_done(void *userdata)
{
	struct cuse_transport *t =
		container_of(userdata, struct cuse_transport, ts);

	t->init_done = true;
}

/* Ask the kernel to copy @plan's regions and send the ioctl again. */
static void reply_retry(fuse_req_t req, const struct ioctl_plan *plan)
{
	struct iovec in[IOCTL_REGIONS_MAX], out[IOCTL_REGIONS_MAX];
	size_t nin = 0, nout = 0;

	for (unsigned int i = 0; i < plan->nr; i++) {
		const struct ioctl_region *r = &plan->regions[i];
		struct iovec iov = {
			.iov_base = (void *)(uintptr_t)r->uptr,
			.iov_len = r->len,
		};

		if (r->flags & IOCTL_REGION_TOO_BIG)
			continue;
		in[nin++] = iov;
		if (r->flags & IOCTL_REGION_OUT)
			out[nout++] = iov;
	}
	fuse_reply_ioctl_retry(req, in, nin, out, nout);
}

static const char *unreachable_reason(const struct ucaller *caller)
{
	if (!caller->pid)
		return "the caller is in a pid namespace the daemon cannot see into";
	return "the daemon may not ptrace the caller (process_vm_readv was refused)";
}

/*
 * One round of an ioctl served from copies. Until the kernel has sent what
 * the plan for its data names, ask for that; then queue the handler, once.
 */
static void cuse_ioctl_copied(struct cuse_transport *t, fuse_req_t req,
			      struct fuse_file_info *fi, struct ucaller *caller,
			      unsigned int cmd, uint64_t arg,
			      const void *in_buf, size_t in_bufsz,
			      size_t out_bufsz)
{
	struct ioctl_plan plan;

	ioctl_plan(cmd, arg, in_buf, in_bufsz, t->retry_limit, &plan);
	if (!ioctl_plan_complete(&plan, in_bufsz, out_bufsz)) {
		reply_retry(req, &plan);
		return;
	}
	transport_ioctl_copied(req, fi, caller, cmd, arg, &plan, in_buf,
			       in_bufsz, unreachable_reason(caller),
			       t->retry_limit);
}

static void cuse_dev_ioctl(fuse_req_t req, int cmd, void *arg,
			   struct fuse_file_info *fi, unsigned int flags,
			   const void *in_buf, size_t in_bufsz,
			   size_t out_bufsz)
{
	struct cuse_transport *t = cuse_transport_of(req);
	struct ucaller caller;
	uint64_t uarg = (uint64_t)(uintptr_t)arg;

	/* iommufd has no compat_ioctl: 32-bit callers get ENOTTY there too. */
	if (flags & FUSE_IOCTL_COMPAT) {
		fuse_reply_err(req, ENOTTY);
		return;
	}

	caller = transport_caller(req);
	/*
	 * Only a first request comes without data. A later round exists
	 * because an earlier one chose the copies, and it stays with them.
	 */
	if (!in_bufsz && !out_bufsz) {
		if (!caller_probe(&caller, uarg)) {
			transport_ioctl_direct(req, fi, &caller,
					       (unsigned int)cmd, uarg);
			return;
		}
		log_debug(
			"cuse: pid %d: ioctl 0x%x goes through the kernel's copies: %s",
			(int)caller.pid, (unsigned int)cmd,
			unreachable_reason(&caller));
	}
	cuse_ioctl_copied(t, req, fi, &caller, (unsigned int)cmd, uarg, in_buf,
			  in_bufsz, out_bufsz);
}

static void cuse_dev_open(fuse_req_t req, struct fuse_file_info *fi)
{
	transport_open(req, fi);
}

static void cuse_dev_release(fuse_req_t req, struct fuse_file_info *fi)
{
	transport_release(req, fi);
}

/* The kernel never sends FLUSH for CUSE; answer it should that change. */
static void cuse_dev_flush(fuse_req_t req, struct fuse_file_info *fi)
{
	transport_flush(req, fi);
}

/* iommufd has no read or write; the kernel's fops return EINVAL for both. */
static void cuse_dev_read(fuse_req_t req, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EINVAL);
}

static void cuse_dev_write(fuse_req_t req, const char *buf, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EINVAL);
}

/* No poll: the kernel then reports the default mask, as iommufd has none. */
static const struct cuse_lowlevel_ops cuse_dev_ops = {
	.init = cuse_dev_init,
	.init_done = cuse_dev_init_done,
	.open = cuse_dev_open,
	.read = cuse_dev_read,
	.write = cuse_dev_write,
	.flush = cuse_dev_flush,
	.release = cuse_dev_release,
	.ioctl = cuse_dev_ioctl,
};

/* Does the kernel still have a character device with number @rdev? */
static bool chrdev_registered(dev_t rdev)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u", major(rdev),
		 minor(rdev));
	return access(path, F_OK) == 0;
}

/*
 * The kernel checks CUSE names only against other CUSE devices. A node that
 * already exists (a real iommufd, or a file) would stay where it is and
 * clients would open it instead of us, so refuse to start; unless it is a
 * node for a number nobody has any more, as one we made (check_device) and
 * a crash left behind.
 */
static int check_name_free(const struct cuse_transport *t)
{
	char sys_path[PATH_MAX];
	struct stat st;

	if (lstat(t->ts.path, &st) == 0) {
		if (S_ISCHR(st.st_mode) && !chrdev_registered(st.st_rdev) &&
		    unlink(t->ts.path) == 0) {
			log_warnx(
				"cuse: removed the stale node %s (%u:%u, a device that is gone)",
				t->ts.path, major(st.st_rdev),
				minor(st.st_rdev));
		} else {
			log_err("cuse: %s already exists (%s); not creating a device of that name",
				t->ts.path,
				S_ISCHR(st.st_mode) ? "a character device" :
						      "not a device");
			return -EEXIST;
		}
	}
	snprintf(sys_path, sizeof(sys_path), "/sys/class/cuse/%s", t->devname);
	if (lstat(sys_path, &st) == 0) {
		log_err("cuse: another CUSE server already registered %s (%s)",
			t->devname, sys_path);
		return -EBUSY;
	}
	return 0;
}

/* Answer CUSE_INIT now, so the device exists when start returns. */
static int wait_for_init(struct cuse_transport *t)
{
	struct pollfd pfd = {
		.fd = fuse_session_fd(t->ts.session),
		.events = POLLIN,
	};

	while (!t->init_done) {
		int n = poll(&pfd, 1, INIT_TIMEOUT_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			log_err("cuse: waiting for CUSE_INIT: %s",
				strerror(err));
			return -err;
		}
		if (!n) {
			log_err("cuse: no CUSE_INIT from the kernel within %d ms",
				INIT_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		n = fuse_session_receive_buf(t->ts.session, &t->ts.request_buf);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0 || fuse_session_exited(t->ts.session)) {
			log_err("cuse: the kernel closed the channel before CUSE_INIT");
			return -ENODEV;
		}
		fuse_session_process_buf(t->ts.session, &t->ts.request_buf);
	}
	return 0;
}

/*
 * The kernel registers the device while it takes our CUSE_INIT reply; if it
 * refuses (number in use, duplicate name) it aborts the connection instead.
 * Check that the node exists and is the number the kernel gave us. Where
 * /dev is not the kernel's devtmpfs (a container's tmpfs, an overlay) the
 * node does not appear there by itself: make it, as udev would.
 */
static int check_device(struct cuse_transport *t)
{
	char sys_path[PATH_MAX];
	unsigned int major, minor;
	struct stat st;
	FILE *f;
	int n;

	snprintf(sys_path, sizeof(sys_path), "/sys/class/cuse/%s/dev",
		 t->devname);
	f = fopen(sys_path, "re");
	if (!f) {
		log_err("cuse: the kernel did not register %s (number in use? see the kernel log)",
			t->devname);
		return -ENODEV;
	}
	n = fscanf(f, "%u:%u", &major, &minor);
	fclose(f);
	if (n != 2) {
		log_err("cuse: cannot read the device number from %s",
			sys_path);
		return -ENODEV;
	}
	if (stat(t->ts.path, &st) < 0 && errno == ENOENT) {
		dev_t devt = makedev(major, minor);

		if (mknod(t->ts.path, S_IFCHR | 0600, devt) < 0) {
			log_err("cuse: %s (%u:%u) is registered but %s did not appear, and creating it failed: %s",
				t->devname, major, minor, t->ts.path,
				strerror(errno));
			return -ENODEV;
		}
		t->created_node = true;
		log_info(
			"cuse: /dev is not a devtmpfs here: created %s (%u:%u)",
			t->ts.path, major, minor);
	}
	if (stat(t->ts.path, &st) < 0) {
		log_err("cuse: cannot stat %s: %s", t->ts.path,
			strerror(errno));
		return -ENODEV;
	}
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(major, minor)) {
		log_err("cuse: %s is not our device %u:%u", t->ts.path, major,
			minor);
		return -EEXIST;
	}
	log_debug("cuse: %s is character device %u:%u, mode %04o", t->ts.path,
		  major, minor, (unsigned int)(st.st_mode & 07777));
	return 0;
}

static int open_channel(struct cuse_transport *t)
{
	char fd_path[32];
	int fd;

	fd = open(CUSE_CHANNEL, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		log_err("cuse: cannot open %s: %s", CUSE_CHANNEL,
			strerror(err));
		return -err;
	}
	/* libfuse's way to take a channel it did not open: /dev/fd/N. */
	snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", fd);
	if (fuse_session_mount(t->ts.session, fd_path) != 0) {
		log_err("cuse: libfuse did not take the channel fd");
		close(fd);
		return -EIO;
	}
	return 0;
}

static void free_transport(struct cuse_transport *t)
{
	if (t->created_node && unlink(t->ts.path) < 0 && errno != ENOENT)
		log_warn("cuse: cannot remove %s", t->ts.path);
	t->created_node = false;
	free(t->devname);
	t->devname = NULL;
	free(t->ts.path);
	t->ts.path = NULL;
}

int transport_cuse_start(struct event_base *base, const char *path,
			 unsigned int major, unsigned int minor)
{
	static char arg_name[] = "iommufdd";
	char *argv[] = { arg_name, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct cuse_transport *t = &cuse_transport;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char devinfo[NAME_MAX + 16];
	const char *dev_info_argv[] = { devinfo };
	struct cuse_info ci = {
		.dev_major = major,
		.dev_minor = minor,
		.dev_info_argc = 1,
		.dev_info_argv = dev_info_argv,
		.flags = CUSE_UNRESTRICTED_IOCTL,
	};
	long page_size = sysconf(_SC_PAGESIZE);
	int ret;

	if (t->ts.session)
		return -EBUSY;
	if (!*name || strlen(name) > NAME_MAX || !strcmp(name, ".") ||
	    !strcmp(name, "..")) {
		log_err("cuse: '%s' does not end in a usable device name",
			path);
		return -EINVAL;
	}

	memset(t, 0, sizeof(*t));
	LIST_INIT(&t->ts.files);
	t->ts.name = "cuse";
	t->ts.base = base;
	t->retry_limit = (uint64_t)CUSE_MAX_PAGES *
			 (page_size > 0 ? (uint64_t)page_size : 4096);
	t->devname = strdup(name);
	pthread_mutex_init(&t->ts.files_lock, NULL);
	if (!t->devname || asprintf(&t->ts.path, "/dev/%s", name) < 0) {
		t->ts.path = NULL;
		free_transport(t);
		return -ENOMEM;
	}
	/* The kernel puts CUSE devices into devtmpfs: /dev/<DEVNAME>. */
	if (strcmp(path, t->ts.path))
		log_warnx("cuse: CUSE devices live in /dev: serving %s, not %s",
			  t->ts.path, path);

	ret = check_name_free(t);
	if (ret)
		goto err_free;

	snprintf(devinfo, sizeof(devinfo), "DEVNAME=%s", name);
	transport_log_to_daemon_log();
	t->ts.session = cuse_lowlevel_new(&args, &ci, &cuse_dev_ops, &t->ts);
	fuse_opt_free_args(&args);
	if (!t->ts.session) {
		log_err("cuse: cannot create a session");
		ret = -EINVAL;
		goto err_free;
	}

	ret = open_channel(t);
	if (ret)
		goto err_destroy;
	ret = wait_for_init(t);
	if (ret)
		goto err_destroy;
	ret = check_device(t);
	if (ret)
		goto err_destroy;
	/* devtmpfs made it 0600 root:root; it is to be like /dev/iommu. */
	if (permission_apply(t->ts.path, false))
		log_warnx("cuse: %s keeps its mode: only root can use it",
			  t->ts.path);
	ret = transport_session_watch(&t->ts);
	if (ret)
		goto err_destroy;
	return 0;

err_destroy:
	/* Closes the channel: the kernel drops a device it created. */
	free(t->ts.request_buf.mem);
	t->ts.request_buf.mem = NULL;
	fuse_session_destroy(t->ts.session);
	t->ts.session = NULL;
err_free:
	free_transport(t);
	return ret;
}

void transport_cuse_stop(void)
{
	struct cuse_transport *t = &cuse_transport;

	if (!t->ts.session)
		return;

	/*
	 * Nothing reads the channel any more, so no RELEASE will arrive. A
	 * stuck request may still reply on the session: then leave it to the
	 * process's exit, which closes the channel and removes the device.
	 */
	if (!transport_session_cleanup(&t->ts))
		return;

	/*
	 * Closing the channel makes the kernel remove the device. Files still
	 * open on it fail from now on (ENOTCONN), and requests nobody read
	 * are aborted; nothing is left that could block a client.
	 */
	fuse_session_destroy(t->ts.session);
	t->ts.session = NULL;
	log_debug("cuse: removed %s", t->ts.path);
	free_transport(t);
}
