/* SPDX-License-Identifier: MIT */
/*
 * The threads that read a transport session's requests and, when they can,
 * serve them on the spot.
 *
 * One reader at a time holds the session: it reads a request and handles
 * it on its own thread (an ioctl runs there if its context is idle:
 * wq_submit_here). A client's request then costs the kernel's round trip
 * and the work, with no hand-off between threads, which on our machines
 * costs more than the rest of a simple ioctl.
 *
 * A request may block: its caller's memory on a userfaultfd page nobody
 * serves, or on a FUSE file whose server never answers. So a watchdog
 * looks at the reader every READER_STALL_MS; a reader that spent a whole
 * period on one request loses the session to a spare thread, which reads
 * on. The old reader finishes its request whenever it can, then parks as
 * the next spare or exits. Another client waits at most about two periods
 * for one blocked request, and a user's blocked requests hold at most
 * WQ_PER_UID_RUNNING threads: beyond that the user's requests are queued,
 * not run by the reader.
 *
 * The watchdog sleeps for good once a period passes without a request, so
 * an idle daemon has no timer.
 */
#ifndef IOMMUFDD_SESSION_READERS_H
#define IOMMUFDD_SESSION_READERS_H

#include <stdbool.h>

struct transport_session;
struct session_readers;

/* How long one request may hold the session before a spare takes over. */
#define READER_STALL_MS 5

/*
 * Start reading @ts: a reader, a spare and the watchdog. When the kernel
 * side goes away, the loop of @ts->base is told to stop. 0 or -errno.
 */
int session_readers_start(struct transport_session *ts);

/*
 * Stop reading and wait up to @timeout_ms for the readers to leave. A
 * reader stuck in a request stays; false then, and the session must not
 * be destroyed (that reader will still reply on it).
 */
bool session_readers_stop(struct transport_session *ts,
			  unsigned int timeout_ms);

#endif
