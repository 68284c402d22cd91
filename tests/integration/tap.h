/* SPDX-License-Identifier: MIT */
/* The TAP reporting and ioctl helpers the integration programs share. */
#ifndef IOMMUFDD_TESTS_TAP_H
#define IOMMUFDD_TESTS_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>

static unsigned int ntests, nfailed;

/* One TAP line: "ok N - what" or "not ok N - what". */
static inline void __attribute__((format(printf, 2, 3)))
check(int ok, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	printf("%s %u - ", ok ? "ok" : "not ok", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		nfailed++;
}

/*
 * A known failure, named with its reason: "not ok N - what # TODO why"
 * is reported but does not fail the run; a pass is reported as
 * "ok N - what # TODO why", which the runners count as a failure until
 * the TODO goes.
 */
static inline void __attribute__((format(printf, 3, 4)))
check_todo(int ok, const char *why, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	printf("%s %u - ", ok ? "ok" : "not ok", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # TODO %s\n", why);
}

/* -errno of an ioctl, or 0. */
static inline long ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

#endif
