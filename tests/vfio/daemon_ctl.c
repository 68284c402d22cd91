// SPDX-License-Identifier: MIT
/*
 * The daemon's control socket for the guest tests (daemon_ctl.h).
 */
#define _GNU_SOURCE
#include "daemon_ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX (1 << 20)

char *daemon_ctl(const char *command)
{
	const char *run_dir = getenv("IOMMUFDD_RUN_DIR");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char req[128], *reply, *p, *q;
	size_t len = 0;
	ssize_t n;
	int fd;

	if (!run_dir)
		return NULL;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/control", run_dir);
	n = snprintf(req, sizeof(req),
		     "{\"version\": 1, \"id\": 1, \"command\": \"%s\"}\n",
		     command);
	reply = calloc(1, REPLY_MAX);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!reply || fd < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    write(fd, req, (size_t)n) != n)
		goto fail;
	while (len < REPLY_MAX - 1 && !memchr(reply, '\n', len) &&
	       (n = read(fd, reply + len, REPLY_MAX - 1 - len)) > 0)
		len += (size_t)n;
	if (!memchr(reply, '\n', len))
		goto fail;
	close(fd);
	for (p = q = reply; *p; p++)
		if (*p != ' ')
			*q++ = *p;
	*q = '\0';
	return reply;
fail:
	if (fd >= 0)
		close(fd);
	free(reply);
	return NULL;
}

int64_t daemon_ctl_number(const char *reply, const char *key)
{
	char want[64];
	const char *p;

	snprintf(want, sizeof(want), "\"%s\":", key);
	p = reply ? strstr(reply, want) : NULL;
	if (!p)
		return -1;
	return strtoll(p + strlen(want), NULL, 10);
}
