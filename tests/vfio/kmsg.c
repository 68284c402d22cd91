/* SPDX-License-Identifier: MIT */
/*
 * /dev/kmsg reader (see kmsg.h). Each read() of /dev/kmsg returns one
 * record, "PRIO,SEQ,USEC,FLAGS;MESSAGE\n" followed by continuation lines.
 */
#define _GNU_SOURCE
#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int has_all(const char *msg, const char *const *needles)
{
	for (; *needles; needles++)
		if (!strstr(msg, *needles))
			return 0;
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kmsg_find(int fd, const char *const *needles, unsigned int wait_ms,
	      char *line, size_t len)
{
	long long deadline = now_ms() + wait_ms;
	char rec[2048], *msg, *nl;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten: go on */
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n < 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return 0;
			poll(&pfd, 1, (int)left);
			continue;
		}
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (has_all(msg, needles)) {
			snprintf(line, len, "%s", msg);
			return 1;
		}
	}
}
