/* SPDX-License-Identifier: MIT */
/*
 * The daemon's control socket ($IOMMUFDD_RUN_DIR/control, what iommufdctl
 * reads), for tests that check what iommufdd reports about itself.
 */
#ifndef IOMMUFDD_TESTS_DAEMON_CTL_H
#define IOMMUFDD_TESTS_DAEMON_CTL_H

#include <stdint.h>

/*
 * Send @command (e.g. "objects", "status") and return the one-line JSON
 * reply, malloc()ed, with every space removed so that callers can look
 * for "key":value without caring how json-c spaced it; NULL on failure
 * (no IOMMUFDD_RUN_DIR, no socket, no complete line).
 */
char *daemon_ctl(const char *command);

/* The number after the first "key": in @reply, or -1. */
int64_t daemon_ctl_number(const char *reply, const char *key);

#endif
