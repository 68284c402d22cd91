/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging in the OpenBSD log.h style: log_warn() appends
 * strerror(errno), log_warnx() does not; fatal() and fatalx() log and exit.
 *
 * Every message becomes exactly one line on stderr. When stderr is the
 * systemd journal the line starts with an sd-daemon "<N>" priority prefix so
 * the journal records the right priority; otherwise it starts with the
 * program name, like any command-line tool.
 */
#ifndef IOMMUFDD_LOG_H
#define IOMMUFDD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Ordered by verbosity: a message is written if its level <= the set level. */
enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_PRINTF(fmt_idx, first_arg) \
	__attribute__((format(printf, fmt_idx, first_arg)))

/*
 * @foreground is the daemon's -f: log to stderr. stderr is currently the only
 * sink, so without -f messages go there as well; the flag is kept so that a
 * syslog sink can be added without touching callers.
 */
void log_init(int level, bool foreground);
void log_set_level(int level);
int log_get_level(void);

/* "error", "warning", "info" or "debug"; -1 for anything else. */
int log_level_from_name(const char *name);

void log_vmessage(int level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);

/*
 * log_err() reports a failure that the daemon survives; it does not look at
 * errno, so say what went wrong in the message.
 */
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

/* Only for start-up: request paths must survive and return -errno instead. */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
