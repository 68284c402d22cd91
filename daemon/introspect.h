/* SPDX-License-Identifier: MIT */
/*
 * Read-only JSON views of the core for the control socket (iommufdctl).
 * The core itself knows nothing about JSON; this file translates.
 */
#ifndef IOMMUFDD_INTROSPECT_H
#define IOMMUFDD_INTROSPECT_H

#include <stdint.h>
#include <sys/types.h>

struct json_object;
struct iommufd_event;

/* Start the clock behind the uptime in status. */
void introspect_init(void);
struct json_object *introspect_status(const char *backend);
struct json_object *introspect_clients(void);
/* Objects of every client, or of the clients of process @pid. */
struct json_object *introspect_objects(pid_t pid);
/*
 * Areas of IOAS @id of the client of @pid (0: the first client that has
 * one), from IOVA @from on, at most @limit (0: a default); "next" in the
 * result says where the next page starts.
 */
struct json_object *introspect_ioas(pid_t pid, unsigned int id, uint64_t from,
				    int64_t limit, int *err);
/* Page storages from storage @from on, at most @limit; "next" likewise. */
struct json_object *introspect_pages(uint64_t from, int64_t limit);
struct json_object *introspect_stats(void);
struct json_object *introspect_event(const struct iommufd_event *ev);

#endif
