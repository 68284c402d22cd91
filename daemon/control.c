// SPDX-License-Identifier: MIT
/*
 * The control socket: read-only inspection of the daemon for iommufdctl.
 *
 * Protocol: one JSON object per line each way. A request is
 *   {"version": 1, "id": ANY, "command": NAME, "args": {...}}
 * and its reply
 *   {"version": 1, "id": ANY, "ok": true, "result": ...}  or
 *   {"version": 1, "id": ANY, "ok": false,
 *    "error": {"errno": "ENOENT", "message": "..."}}.
 * "events" answers ok and then streams {"version": 1, "event": {...}} lines
 * until the client goes away. A malformed request gets an error reply; the
 * connection and the daemon carry on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "introspect.h"
#include "iommufd_private.h"
#include "log.h"

#define CONTROL_VERSION 1
#define CONTROL_LINE_MAX (64 * 1024)
/*
 * Replies and events a client has not read yet: beyond this we stop reading
 * its requests, and an events follower that falls this far behind is
 * dropped, so that a client that never reads cannot make us buffer without
 * bound.
 */
#define CONTROL_OUTPUT_MAX (4 * 1024 * 1024)
#define CONTROL_OPERATORS_GROUP "iommufd"

struct control_client {
	struct list_head item;
	struct bufferevent *bev;
	bool follows_events;
};

static struct {
	struct evconnlistener *listener;
	char *path;
	const char *backend;
	struct list_head clients;
	unsigned int followers;
} ctl = { .clients = { &ctl.clients, &ctl.clients } };

static void send_json(struct control_client *c, json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg,
							  JSON_C_TO_STRING_PLAIN);

	bufferevent_write(c->bev, text, strlen(text));
	bufferevent_write(c->bev, "\n", 1);
	json_object_put(msg);
}

static json_object *reply_new(json_object *id, bool ok)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "version",
			       json_object_new_int(CONTROL_VERSION));
	json_object_object_add(r, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	return r;
}

static void send_error(struct control_client *c, json_object *id, int err,
		       const char *message)
{
	json_object *r = reply_new(id, false), *e = json_object_new_object();

	json_object_object_add(e, "errno",
			       json_object_new_string(strerrorname_np(err)));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(r, "error", e);
	send_json(c, r);
}

static void send_result(struct control_client *c, json_object *id,
			json_object *result)
{
	json_object *r = reply_new(id, true);

	json_object_object_add(r, "result", result);
	send_json(c, r);
}

static void client_free(struct control_client *c);

static bool output_full(struct control_client *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) >
	       CONTROL_OUTPUT_MAX;
}

static void event_to_followers(const struct iommufd_event *ev)
{
	struct control_client *c, *next;

	list_for_each_entry_safe(c, next, &ctl.clients, item) {
		json_object *m;

		if (!c->follows_events)
			continue;
		if (output_full(c)) {
			log_warnx("control: dropping an events follower that "
				  "does not read");
			client_free(c);
			continue;
		}
		m = json_object_new_object();
		json_object_object_add(m, "version",
				       json_object_new_int(CONTROL_VERSION));
		json_object_object_add(m, "event", introspect_event(ev));
		send_json(c, m);
	}
}

static int64_t arg_int(json_object *args, const char *name, int64_t def)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, name, &v))
		return def;
	return json_object_get_int64(v);
}

static void handle_request(struct control_client *c, const char *line)
{
	enum json_tokener_error jerr;
	json_object *req = json_tokener_parse_verbose(line, &jerr);
	json_object *id = NULL, *v, *args = NULL, *result = NULL;
	const char *command;
	int err = 0;

	if (!req || !json_object_is_type(req, json_type_object)) {
		send_error(c, NULL, EINVAL,
			   req ? "a request is a JSON object" :
				 json_tokener_error_desc(jerr));
		goto out;
	}
	json_object_object_get_ex(req, "id", &id);
	if (!json_object_object_get_ex(req, "version", &v) ||
	    json_object_get_int(v) != CONTROL_VERSION) {
		send_error(c, id, EPROTONOSUPPORT,
			   "unsupported protocol version (this is version 1)");
		goto out;
	}
	if (!json_object_object_get_ex(req, "command", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		send_error(c, id, EINVAL, "missing \"command\"");
		goto out;
	}
	command = json_object_get_string(v);
	json_object_object_get_ex(req, "args", &args);

	if (!strcmp(command, "status")) {
		result = introspect_status(ctl.backend);
	} else if (!strcmp(command, "clients")) {
		result = introspect_clients();
	} else if (!strcmp(command, "objects")) {
		result = introspect_objects((pid_t)arg_int(args, "pid", 0));
	} else if (!strcmp(command, "ioas")) {
		result = introspect_ioas((pid_t)arg_int(args, "pid", 0),
					 (unsigned int)arg_int(args, "id", 0),
					 &err);
	} else if (!strcmp(command, "pages")) {
		result = introspect_pages();
	} else if (!strcmp(command, "stats")) {
		result = introspect_stats();
	} else if (!strcmp(command, "events")) {
		if (!c->follows_events) {
			c->follows_events = true;
			ctl.followers++;
			iommufd_event_hook = event_to_followers;
		}
		result = json_object_new_object();
	} else {
		send_error(c, id, EOPNOTSUPP, "unknown command");
		goto out;
	}
	if (!result)
		send_error(c, id, -err, "no such object");
	else
		send_result(c, id, result);
out:
	json_object_put(req);
}

static void client_free(struct control_client *c)
{
	if (c->follows_events && !--ctl.followers)
		iommufd_event_hook = NULL;
	list_del(&c->item);
	bufferevent_free(c->bev);
	free(c);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct control_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF))) {
		handle_request(c, line);
		free(line);
		/* Read on once the client has caught up (client_write). */
		if (output_full(c)) {
			bufferevent_disable(bev, EV_READ);
			return;
		}
	}
	/* A line that never ends is not a request. */
	if (evbuffer_get_length(in) > CONTROL_LINE_MAX) {
		send_error(c, NULL, E2BIG, "request line too long");
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

/* Everything written: serve what was held back. */
static void client_write(struct bufferevent *bev, void *arg)
{
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		client_read(bev, arg);
	}
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		client_free(arg);
}

static void control_accept(struct evconnlistener *listener,
			   evutil_socket_t fd, struct sockaddr *addr,
			   int socklen, void *arg)
{
	struct event_base *base = evconnlistener_get_base(listener);
	struct control_client *c = xcalloc(1, sizeof(*c));

	(void)addr;
	(void)socklen;
	(void)arg;
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	list_add_tail(&c->item, &ctl.clients);
}

int control_start(struct event_base *base, const char *rundir,
		  const char *backend)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct group *operators;

	if (asprintf(&ctl.path, "%s/control", rundir) < 0)
		fatalx("out of memory");
	if (strlen(ctl.path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, ctl.path);
	unlink(ctl.path);
	ctl.backend = backend;
	introspect_init();
	ctl.listener = evconnlistener_new_bind(
		base, control_accept, NULL,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
		(struct sockaddr *)&addr, sizeof(addr));
	if (!ctl.listener) {
		log_warn("control: cannot listen on %s", ctl.path);
		return -EIO;
	}
	/* Root and the operators' group may look; nobody else. */
	operators = getgrnam(CONTROL_OPERATORS_GROUP);
	if (chown(ctl.path, 0, operators ? operators->gr_gid : 0) ||
	    chmod(ctl.path, 0660))
		log_warn("control: cannot set the owner of %s", ctl.path);
	log_debug("control: listening on %s", ctl.path);
	return 0;
}

void control_stop(void)
{
	while (!list_empty(&ctl.clients))
		client_free(list_first_entry(&ctl.clients,
					     struct control_client, item));
	if (ctl.listener) {
		evconnlistener_free(ctl.listener);
		ctl.listener = NULL;
		unlink(ctl.path);
	}
	free(ctl.path);
	ctl.path = NULL;
}
