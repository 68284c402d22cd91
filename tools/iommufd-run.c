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
 * usage: iommufd-run [--run-dir DIR] [--] PROGRAM [ARGS...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
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

/* Hand the listener to the daemon and wait for its answer. */
static void register_with_daemon(const char *run_dir, int listener)
{
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
	if (strcmp(answer, "ok")) {
		fprintf(stderr, "%s: iommufdd refused: %s\n", prog, answer);
		exit(127);
	}
	close(sock);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--run-dir DIR] [--] PROGRAM [ARGS...]\n"
		"Run PROGRAM so that iommufdd can hand it the file descriptors\n"
		"that fd-returning iommufd ioctls produce.\n"
		"  --run-dir DIR  iommufdd's run directory (default %s)\n",
		prog, DEFAULT_RUN_DIR);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = DEFAULT_RUN_DIR;
	int opt, listener;

	while ((opt = getopt_long(argc, argv, "+r:h", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			run_dir = optarg;
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
	register_with_daemon(run_dir, listener);
	close(listener);
	execvp(argv[optind], &argv[optind]);
	fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[optind],
		strerror(errno));
	return 127;
}
