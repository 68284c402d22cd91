// SPDX-License-Identifier: MIT
/*
 * One line per message on stderr, with sd-daemon priority prefixes when
 * stderr is the journal (see log.h).
 */
#define _GNU_SOURCE /* program_invocation_short_name */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* sd-daemon(3) prefixes; the numbers are syslog priorities. */
#define SD_PRIORITY_CRIT "<2>"
#define SD_PRIORITY_ERR "<3>"
#define SD_PRIORITY_WARNING "<4>"
#define SD_PRIORITY_INFO "<6>"
#define SD_PRIORITY_DEBUG "<7>"

/* Internal level for fatal()/fatalx(): always written, priority "crit". */
#define LOG_LEVEL_FATAL (-1)

/* A line longer than this is cut; the journal would split it anyway. */
#define LOG_LINE_MAX 2048

static int log_level = LOG_LEVEL_INFO;
static bool log_to_journal;

/*
 * systemd sets JOURNAL_STREAM="<dev>:<ino>" for the stream it connects to
 * stdout/stderr. The variable is inherited by children whose stderr was
 * redirected elsewhere, so it only counts if it names our actual stderr.
 */
static bool stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char *end;

	if (!stream || !*stream)
		return false;
	errno = 0;
	dev = strtoumax(stream, &end, 10);
	if (errno || end == stream || *end != ':')
		return false;
	stream = end + 1;
	ino = strtoumax(stream, &end, 10);
	if (errno || end == stream || *end)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(int level, bool foreground)
{
	/* stderr is the only sink for now, with or without -f (log.h). */
	(void)foreground;
	log_set_level(level);
	log_to_journal = stderr_is_journal();
}

void log_set_level(int level)
{
	if (level < LOG_LEVEL_ERROR)
		level = LOG_LEVEL_ERROR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

int log_level_from_name(const char *name)
{
	static const char *const names[] = {
		[LOG_LEVEL_ERROR] = "error",
		[LOG_LEVEL_WARNING] = "warning",
		[LOG_LEVEL_INFO] = "info",
		[LOG_LEVEL_DEBUG] = "debug",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

/*
 * The journal prefix carries the priority. A terminal reader gets the
 * program name and a level word only where the line would otherwise be
 * ambiguous: errors and plain information read like any tool's output.
 */
static const char *line_prefix(int level)
{
	if (log_to_journal) {
		switch (level) {
		case LOG_LEVEL_FATAL:
			return SD_PRIORITY_CRIT;
		case LOG_LEVEL_ERROR:
			return SD_PRIORITY_ERR;
		case LOG_LEVEL_WARNING:
			return SD_PRIORITY_WARNING;
		case LOG_LEVEL_INFO:
			return SD_PRIORITY_INFO;
		default:
			return SD_PRIORITY_DEBUG;
		}
	}
	switch (level) {
	case LOG_LEVEL_WARNING:
		return "warning: ";
	case LOG_LEVEL_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

/*
 * Format into one buffer and write it with a single write() so that lines
 * from different threads never interleave. Embedded newlines would start a
 * new journal entry without a priority, so they become spaces.
 */
static void log_write_line(int level, const char *errstr, const char *fmt,
			   va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len = 0;
	int n;

	if (!log_to_journal) {
		n = snprintf(line, sizeof(line),
			     "%s: ", program_invocation_short_name);
		if (n > 0)
			len = (size_t)n < sizeof(line) ? (size_t)n : 0;
	}
	n = snprintf(line + len, sizeof(line) - len, "%s", line_prefix(level));
	if (n > 0)
		len += (size_t)n;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n > 0)
		len += (size_t)n;
	if (len >= sizeof(line))
		len = sizeof(line) - 1;

	/* libfuse hands us messages that already end in a newline. */
	while (len > 0 && line[len - 1] == '\n')
		len--;
	line[len] = '\0';
	if (errstr) {
		n = snprintf(line + len, sizeof(line) - len, ": %s", errstr);
		if (n > 0)
			len += (size_t)n;
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';

	/* Nowhere to report a failed write to; a short one is just lost. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

static void log_vformat(int level, int errnum, const char *fmt, va_list ap)
{
	int saved_errno = errno;

	if (level <= log_level) {
		log_write_line(level, errnum ? strerror(errnum) : NULL, fmt,
			       ap);
	}
	errno = saved_errno;
}

void log_vmessage(int level, const char *fmt, va_list ap)
{
	log_vformat(level, 0, fmt, ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_WARNING, errnum, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_WARNING, 0, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_FATAL, errnum, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_LEVEL_FATAL, 0, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}
