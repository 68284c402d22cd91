// SPDX-License-Identifier: MIT
/*
 * The never-answering file system (sec_fuse.h): a raw /dev/fuse server of
 * our own, just big enough to let one file be opened and mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec_fuse.h"

#define ROOT_INO 1
#define FILE_INO 2
#define FILE_NAME "f"
#define ATTR_TTL 3600

static void reply(int dev, const struct fuse_in_header *in, int error,
		  const void *arg, size_t len)
{
	struct fuse_out_header out = {
		.len = (uint32_t)(sizeof(out) + (error ? 0 : len)),
		.error = error,
		.unique = in->unique,
	};
	struct iovec iov[2] = { { &out, sizeof(out) },
				{ (void *)arg, error ? 0 : len } };

	/* ENOENT: the request was interrupted meanwhile; nothing to do. */
	if (writev(dev, iov, arg && !error ? 2 : 1) < 0 && errno != ENOENT)
		_exit(3);
}

static void fill_attr(struct fuse_attr *attr, uint64_t ino, uint64_t size)
{
	memset(attr, 0, sizeof(*attr));
	attr->ino = ino;
	attr->nlink = ino == ROOT_INO ? 2 : 1;
	attr->mode = ino == ROOT_INO ? S_IFDIR | 0755 : S_IFREG | 0666;
	attr->size = ino == ROOT_INO ? 0 : size;
	attr->blocks = (attr->size + 511) / 512;
	attr->blksize = 4096;
}

static void answer_init(int dev, const struct fuse_in_header *in,
			const struct fuse_init_in *init)
{
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = init->max_readahead,
		.max_background = 16,
		.congestion_threshold = 12,
		.max_write = 4096,
		.time_gran = 1,
	};

	reply(dev, in, 0, &out, sizeof(out));
}

static void answer_lookup(int dev, const struct fuse_in_header *in,
			  const char *name, uint64_t size)
{
	struct fuse_entry_out out = {
		.nodeid = FILE_INO,
		.generation = 1,
		.entry_valid = ATTR_TTL,
		.attr_valid = ATTR_TTL,
	};

	if (in->nodeid != ROOT_INO || strcmp(name, FILE_NAME)) {
		reply(dev, in, -ENOENT, NULL, 0);
		return;
	}
	fill_attr(&out.attr, FILE_INO, size);
	reply(dev, in, 0, &out, sizeof(out));
}

/* READ requests held until the server is told to let them go. */
struct held_reads {
	unsigned int flags; /* SEC_FUSE_HOLD_FLUSH */
	struct fuse_in_header in[64];
	struct fuse_read_in arg[64];
	unsigned int n;
};

static volatile sig_atomic_t release_reads;

static void on_release(int sig)
{
	(void)sig;
	release_reads = 1;
}

/* Answer a READ with zeroes, as far as the file goes. */
static void answer_read(int dev, const struct fuse_in_header *in,
			const struct fuse_read_in *arg, uint64_t size)
{
	static const char zeroes[1 << 18];
	uint64_t len = arg->offset >= size ? 0 : size - arg->offset;

	if (len > arg->size)
		len = arg->size;
	if (len > sizeof(zeroes))
		len = sizeof(zeroes);
	reply(dev, in, 0, len ? zeroes : NULL, len);
}

static void let_reads_go(int dev, struct held_reads *h, uint64_t size)
{
	for (unsigned int i = 0; i < h->n; i++)
		answer_read(dev, &h->in[i], &h->arg[i], size);
	h->n = 0;
}

/* One request; returns what it holds ('R', 'F', 'I') or 0. */
static char handle(int dev, const struct fuse_in_header *in, const void *arg,
		   uint64_t size, struct held_reads *h)
{
	switch (in->opcode) {
	case FUSE_INIT:
		answer_init(dev, in, arg);
		return 0;
	case FUSE_LOOKUP:
		answer_lookup(dev, in, arg, size);
		return 0;
	case FUSE_GETATTR: {
		struct fuse_attr_out out = { .attr_valid = ATTR_TTL };

		fill_attr(&out.attr, in->nodeid, size);
		reply(dev, in, 0, &out, sizeof(out));
		return 0;
	}
	case FUSE_OPEN: {
		struct fuse_open_out out = { .fh = 1 };

		reply(dev, in, 0, &out, sizeof(out));
		return 0;
	}
	case FUSE_RELEASE:
		reply(dev, in, 0, NULL, 0);
		return 0;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return 0; /* no reply expected */
	case FUSE_READ:
		if (release_reads || h->n == 64) {
			answer_read(dev, in, arg, size);
			return 0;
		}
		h->in[h->n] = *in;
		memcpy(&h->arg[h->n++], arg, sizeof(h->arg[0]));
		return 'R';
	case FUSE_FLUSH:
		if (h->flags & SEC_FUSE_HOLD_FLUSH)
			return 'F';
		reply(dev, in, 0, NULL, 0);
		return 0;
	case FUSE_IOCTL:
		return 'I';
	default:
		reply(dev, in, -ENOSYS, NULL, 0);
		return 0;
	}
}

/* The server's loop; never returns. */
static void __attribute__((noreturn))
serve(int dev, int notify, uint64_t size, unsigned int flags)
{
	static char buf[FUSE_MIN_READ_BUFFER + 65536];
	static struct held_reads held;
	struct sigaction sa = { .sa_handler = on_release };
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	sigset_t usr1, none;

	held.flags = flags;
	/* SIGUSR1 gets through only while we wait in ppoll(). */
	sigemptyset(&none);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	for (;;) {
		const struct fuse_in_header *in = (const void *)buf;
		ssize_t n;
		char c;

		if (release_reads)
			let_reads_go(dev, &held, size);
		if (ppoll(&pfd, 1, NULL, &none) < 0)
			continue; /* EINTR: released */
		n = read(dev, buf, sizeof(buf));
		if (n < 0 &&
		    (errno == EINTR || errno == ENOENT || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*in))
			_exit(0); /* unmounted or aborted */
		c = handle(dev, in, buf + sizeof(*in), size, &held);
		if (c && notify >= 0 && write(notify, &c, 1) != 1)
			notify = -1;
	}
}

/* Fork the server on channel @dev; only the server keeps it open. */
static int start_server(struct sec_fuse *f, int dev, const char *dir,
			uint64_t size, int notify_fd, unsigned int flags)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, FILE_NAME);
	fflush(NULL);
	f->server = fork();
	if (f->server < 0) {
		int err = -errno;

		close(dev);
		return err;
	}
	if (f->server == 0) {
		/*
		 * Hold nothing but the channel and the notification pipe, so
		 * that killing us ends the file system and nothing else.
		 */
		int d = fcntl(dev, F_DUPFD, 100);
		int n = notify_fd >= 0 ? fcntl(notify_fd, F_DUPFD, 101) : -1;

		if (d < 0 || dup2(d, 3) != 3 || (n >= 0 && dup2(n, 4) != 4))
			_exit(2);
		syscall(SYS_close_range, n >= 0 ? 5 : 4, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, 0);
		serve(3, n >= 0 ? 4 : -1, size, flags);
	}
	/* Only the server holds the channel: its death aborts the mount. */
	close(dev);
	return 0;
}

int sec_fuse_mount(struct sec_fuse *f, const char *fuse_dev, const char *dir,
		   uint64_t size, int notify_fd, unsigned int flags)
{
	char opts[128];
	int dev, err;

	dev = open(fuse_dev, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	if (mount("sec-stuck", dir, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		err = -errno;
		close(dev);
		return err;
	}
	return start_server(f, dev, dir, size, notify_fd, flags);
}

/* The channel fusermount3 sends back over @sock, or -errno. */
static int receive_channel(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -EIO;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS)
		return -EIO;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return fd;
}

int sec_fuse_mount_user(struct sec_fuse *f, const char *dir, uint64_t size,
			int notify_fd, unsigned int flags)
{
	int sv[2], dev, status;
	char commfd[16];
	pid_t pid;

	/* fusermount3's protocol: it sends the channel to _FUSE_COMMFD. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fcntl(sv[1], F_SETFD, 0);
		snprintf(commfd, sizeof(commfd), "%d", sv[1]);
		setenv("_FUSE_COMMFD", commfd, 1);
		execlp("fusermount3", "fusermount3", "--", dir, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	dev = receive_channel(sv[0]);
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		if (dev >= 0)
			close(dev);
		return WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
			       -ENOENT :
			       -EPERM;
	}
	if (dev < 0)
		return dev;
	return start_server(f, dev, dir, size, notify_fd, flags);
}
