// SPDX-License-Identifier: MIT
/*
 * iommufd-run: run a program so that iommufdd can give it the file
 * descriptors some iommufd ioctls return (access objects, fault queues,
 * vEVENTQs). A FUSE or CUSE server cannot create an fd in another process;
 * the program's fd-returning ioctls are therefore routed through a seccomp
 * user-notification filter whose listener the daemon holds, and the daemon
 * installs the fd with SECCOMP_IOCTL_NOTIF_ADDFD. Every other syscall, and
 * every other ioctl, goes straight to the kernel.
 *
 * mmap() of /dev/iommu never reaches the daemon either: the program gets
 * the preload library libiommufd-run-mmap.so (iommufd_run_mmap.c), which
 * turns it into an fd-returning ioctl and a mapping of that fd, and the
 * name of the daemon's file (IOMMUFD_RUN_DEVICE) that the daemon sent.
 *
 * usage: iommufd-run [--run-dir DIR] [--mmap-shim PATH|--no-mmap-shim]
 *                    [--] PROGRAM [ARGS...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "ioctl_table.h"
#include "launcher.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DEFAULT_RUN_DIR "/run/iommufdd"
#define MMAP_SHIM_NAME "libiommufd-run-mmap.so"
#ifndef IOMMUFD_RUN_SHIM_DIR
#define IOMMUFD_RUN_SHIM_DIR "/usr/local/lib/iommufdd"
#endif

static const char *prog = "iommufd-run";

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(127);
}

/* The commands that may return a new fd: their rows in ioctl_table.h. */
#define FD_ROW(cmd, layout, handler, buffers, fd, since) { cmd, fd },
static const struct {
	unsigned int cmd;
	int fd;
} ioctl_rows[] = { IOMMUFD_IOCTLS(FD_ROW) };

/*
 * The filter: ioctl with one of the fd-returning commands goes to the
 * listener, everything else is allowed. The ioctl number is an unsigned int,
 * so only the low 32 bits of the argument count, as in the kernel.
 */
static int install_filter(void)
{
	unsigned int cmds[ARRAY_SIZE(ioctl_rows)], ncmds = 0, n = 0, i;
	struct sock_filter code[8 + ARRAY_SIZE(ioctl_rows)];
	struct sock_fprog fprog;

	for (i = 0; i < ARRAY_SIZE(ioctl_rows); i++)
		if (ioctl_rows[i].fd != IOCTL_NO_FD)
			cmds[ncmds++] = ioctl_rows[i].cmd;
	code[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 AUDIT_ARCH_X86_64, 1, 0);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						 SECCOMP_RET_ALLOW);
	code[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 __NR_ioctl, 1, 0);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						 SECCOMP_RET_ALLOW);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data,
							  args[1]));
	/* A match jumps over the rest and the ALLOW to USER_NOTIF. */
	for (i = 0; i < ncmds; i++)
		code[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, cmds[i],
			(unsigned char)(ncmds - i), 0);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						 SECCOMP_RET_ALLOW);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						 SECCOMP_RET_USER_NOTIF);
	fprog.len = (unsigned short)n;
	fprog.filter = code;

	/* Unprivileged filters need no-new-privs; it is inherited by exec. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS");
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
}

/*
 * Hand the listener to the daemon and wait for its answer: "ok", with the
 * served file's mount ID and inode if the daemon knows them. Those go to
 * @device as "MNT:INO", or "" without them.
 */
static void register_with_daemon(const char *run_dir, int listener,
				 char *device, size_t size)
{
	unsigned long long mnt_id, ino;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)IOMMUFDD_LAUNCHER_HELLO,
			     strlen(IOMMUFDD_LAUNCHER_HELLO) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	char answer[64] = { 0 };
	int sock;

	if ((size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s",
			     run_dir, IOMMUFDD_LAUNCHER_SOCKET) >=
	    sizeof(addr.sun_path)) {
		fprintf(stderr, "%s: run directory path too long\n", prog);
		exit(127);
	}
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr,
			"%s: cannot reach iommufdd at %s: %s (is the daemon "
			"running?)\n",
			prog, addr.sun_path, strerror(errno));
		exit(127);
	}
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &listener, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		die("sending the listener to iommufdd");
	if (recv(sock, answer, sizeof(answer) - 1, 0) <= 0)
		die("waiting for iommufdd");
	device[0] = '\0';
	if (sscanf(answer, "ok %llu %llu", &mnt_id, &ino) == 2)
		snprintf(device, size, "%llu:%llu", mnt_id, ino);
	else if (strcmp(answer, "ok")) {
		fprintf(stderr, "%s: iommufdd refused: %s\n", prog, answer);
		exit(127);
	}
	close(sock);
}

/*
 * The mmap shim: @path if given, else the one next to this program (a
 * build tree), else the installed one; NULL if there is none.
 */
static const char *find_shim(const char *path, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n;

	if (path)
		return access(path, R_OK) ? NULL : path;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, size, "%s/%s", dirname(self), MMAP_SHIM_NAME);
		if (!access(buf, R_OK))
			return buf;
	}
	snprintf(buf, size, "%s/%s", IOMMUFD_RUN_SHIM_DIR, MMAP_SHIM_NAME);
	return access(buf, R_OK) ? NULL : buf;
}

/* Preload the shim (first, so it sees mmap() before other wrappers). */
static void inject_shim(const char *shim, const char *device)
{
	const char *old = getenv("LD_PRELOAD");
	char *preload;

	if (asprintf(&preload, "%s%s%s", shim, old && *old ? ":" : "",
		     old ? old : "") < 0)
		die("asprintf");
	if (setenv("LD_PRELOAD", preload, 1) ||
	    setenv(IOMMUFD_RUN_DEVICE_ENV, device, 1))
		die("setenv");
	free(preload);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--run-dir DIR] [--mmap-shim PATH|--no-mmap-shim] [--]\n"
		"       PROGRAM [ARGS...]\n"
		"Run PROGRAM so that iommufdd can hand it the file descriptors\n"
		"that fd-returning iommufd ioctls produce, and mmap() of\n"
		"/dev/iommu maps vIOMMU regions.\n"
		"  --run-dir DIR     iommufdd's run directory (default %s)\n"
		"  --mmap-shim PATH  the preload library for mmap() (default: %s\n"
		"                    next to this program, else in %s)\n"
		"  --no-mmap-shim    preload nothing: mmap() of /dev/iommu fails\n",
		prog, DEFAULT_RUN_DIR, MMAP_SHIM_NAME, IOMMUFD_RUN_SHIM_DIR);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "mmap-shim", required_argument, NULL, 's' },
		{ "no-mmap-shim", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = DEFAULT_RUN_DIR, *shim_opt = NULL, *shim;
	char device[64], shim_buf[PATH_MAX];
	bool want_shim = true;
	int opt, listener;

	while ((opt = getopt_long(argc, argv, "+r:h", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			run_dir = optarg;
			break;
		case 's':
			shim_opt = optarg;
			break;
		case 'n':
			want_shim = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}

	listener = install_filter();
	if (listener < 0)
		die("installing the seccomp filter");
	register_with_daemon(run_dir, listener, device, sizeof(device));
	close(listener);
	shim = want_shim ? find_shim(shim_opt, shim_buf, sizeof(shim_buf)) :
			   NULL;
	if (shim_opt && want_shim && !shim) {
		fprintf(stderr, "%s: cannot read %s\n", prog, shim_opt);
		return 127;
	}
	if (want_shim && !shim)
		fprintf(stderr,
			"%s: %s not found: mmap() of /dev/iommu will fail (ENODEV)\n",
			prog, shim_opt ? shim_opt : MMAP_SHIM_NAME);
	/* A daemon that does not name its file has no regions to map. */
	if (shim && device[0])
		inject_shim(shim, device);
	execvp(argv[optind], &argv[optind]);
	fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[optind],
		strerror(errno));
	return 127;
}
