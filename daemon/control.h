/* SPDX-License-Identifier: MIT */
/* The read-only control socket, RUNDIR/control (see control.c). */
#ifndef IOMMUFDD_CONTROL_H
#define IOMMUFDD_CONTROL_H

struct event_base;

int control_start(struct event_base *base, const char *rundir,
		  const char *backend);
void control_stop(void);

#endif
