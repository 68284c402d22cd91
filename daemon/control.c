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
#include <pthread.h>
#include <stdatomic.h>
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
#include "workqueue.h"

#define CONTROL_VERSION 1
#define CONTROL_LINE_MAX (64 * 1024)
/*
 * Replies and events a client has not read yet: beyond this we stop reading
 * its requests, and an events follower that falls this far behind is
 * dropped, so that a client that never reads cannot make us buffer without
 * bound.
 */
#define CONTROL_OUTPUT_MAX (4 * 1024 * 1024)
/* Requests of one client queued or running at once. */
#define CONTROL_INFLIGHT_MAX 4
#define CONTROL_OPERATORS_GROUP "iommufd"

/* A reply or an event, on its way from a worker to the loop. */
struct out_msg {
	struct list_head item;
	bool reply; /* answers a request (else an event) */
	size_t len;
	char text[];
};

/*
 * One connection. The loop thread owns the socket (bev, wake, inflight);
 * its requests run as jobs on its queue and hand their replies back
 * through @out, which the loop writes when @wake fires.
 */
struct control_client {
	struct list_head item; /* on ctl.clients, under ctl.lock */
	struct bufferevent *bev;
	struct event *wake;
	struct serial_queue queue;
	atomic_uint refs; /* the connection, and each queued job */
	unsigned int inflight;
	bool follows_events; /* under ctl.lock */
	pthread_mutex_t out_lock;
	struct list_head out;
	size_t out_bytes;
	bool drop; /* under out_lock: too far behind */
};

static struct {
	pthread_mutex_t lock; /* the clients list and who follows events */
	struct evconnlistener *listener;
	char *path;
	const char *backend;
	struct list_head clients;
	unsigned int followers;
} ctl = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.clients = { &ctl.clients, &ctl.clients },
};

static void client_put(struct control_client *c)
{
	struct out_msg *m, *next;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	list_for_each_entry_safe(m, next, &c->out, item)
		free(m);
	if (c->wake)
		event_free(c->wake);
	serial_queue_destroy(&c->queue);
	pthread_mutex_destroy(&c->out_lock);
	free(c);
}

/* Any thread: queue @text for the client and wake the loop. */
static void post(struct control_client *c, const char *text, bool reply)
{
	size_t len = strlen(text);
	struct out_msg *m = malloc(sizeof(*m) + len + 1);

	pthread_mutex_lock(&c->out_lock);
	if (!m || (!reply && c->out_bytes > CONTROL_OUTPUT_MAX)) {
		/* An events follower this far behind is dropped. */
		c->drop = true;
		free(m);
		m = NULL;
	} else {
		m->reply = reply;
		m->len = len + 1;
		memcpy(m->text, text, len);
		m->text[len] = '\n';
		list_add_tail(&m->item, &c->out);
		c->out_bytes += m->len;
	}
	pthread_mutex_unlock(&c->out_lock);
	event_active(c->wake, EV_WRITE, 0);
}

static void post_json(struct control_client *c, json_object *msg, bool reply)
{
	post(c, json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN),
	     reply);
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
	post_json(c, r, true);
}

static void send_result(struct control_client *c, json_object *id,
			json_object *result)
{
	json_object *r = reply_new(id, true);

	json_object_object_add(r, "result", result);
	post_json(c, r, true);
}

/* Workers (and the loop, for opens): an object or client event. */
static void event_to_followers(const struct iommufd_event *ev)
{
	struct control_client *c;
	json_object *m = json_object_new_object();
	const char *text;

	json_object_object_add(m, "version",
			       json_object_new_int(CONTROL_VERSION));
	json_object_object_add(m, "event", introspect_event(ev));
	text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
	pthread_mutex_lock(&ctl.lock);
	list_for_each_entry(c, &ctl.clients, item)
		if (c->follows_events)
			post(c, text, false);
	pthread_mutex_unlock(&ctl.lock);
	json_object_put(m);
}

static int64_t arg_int(json_object *args, const char *name, int64_t def)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, name, &v))
		return def;
	return json_object_get_int64(v);
}

static void follow_events(struct control_client *c)
{
	pthread_mutex_lock(&ctl.lock);
	if (!c->follows_events) {
		c->follows_events = true;
		if (!ctl.followers++)
			__atomic_store_n(&iommufd_event_hook,
					 event_to_followers, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ctl.lock);
}

/* The answer to one command, or NULL and *err. */
static json_object *run_command(struct control_client *c, const char *command,
				json_object *args, int *err)
{
	if (!strcmp(command, "status"))
		return introspect_status(ctl.backend);
	if (!strcmp(command, "clients"))
		return introspect_clients();
	if (!strcmp(command, "objects"))
		return introspect_objects((pid_t)arg_int(args, "pid", 0));
	if (!strcmp(command, "ioas"))
		return introspect_ioas((pid_t)arg_int(args, "pid", 0),
				       (unsigned int)arg_int(args, "id", 0),
				       (uint64_t)arg_int(args, "from", 0),
				       arg_int(args, "limit", 0), err);
	if (!strcmp(command, "pages"))
		return introspect_pages((uint64_t)arg_int(args, "from", 0),
					arg_int(args, "limit", 0));
	if (!strcmp(command, "stats"))
		return introspect_stats();
	if (!strcmp(command, "events")) {
		follow_events(c);
		return json_object_new_object();
	}
	*err = -EOPNOTSUPP;
	return NULL;
}

static void handle_request(struct control_client *c, const char *line)
{
	enum json_tokener_error jerr;
	json_object *req = json_tokener_parse_verbose(line, &jerr);
	json_object *id = NULL, *v, *args = NULL, *result;
	int err = -ENOENT;

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
	json_object_object_get_ex(req, "args", &args);
	result = run_command(c, json_object_get_string(v), args, &err);
	if (result)
		send_result(c, id, result);
	else
		send_error(c, id, -err,
			   err == -EOPNOTSUPP ? "unknown command" :
			   err == -EBUSY ? "the client is busy in a request" :
					   "no such object");
out:
	json_object_put(req);
}

struct request_job {
	struct wq_job job;
	struct control_client *c;
	char line[];
};

static void request_run(struct wq_job *job)
{
	struct request_job *r = container_of(job, struct request_job, job);

	handle_request(r->c, r->line);
}

static void request_done(struct wq_job *job)
{
	struct request_job *r = container_of(job, struct request_job, job);

	client_put(r->c);
	free(r);
}

/* Loop thread: the connection is gone (or must go). */
static void client_close(struct control_client *c)
{
	pthread_mutex_lock(&ctl.lock);
	list_del(&c->item);
	if (c->follows_events && !--ctl.followers)
		__atomic_store_n(&iommufd_event_hook, NULL, __ATOMIC_RELEASE);
	c->follows_events = false;
	pthread_mutex_unlock(&ctl.lock);
	bufferevent_free(c->bev);
	c->bev = NULL;
	client_put(c);
}

static void client_read(struct bufferevent *bev, void *arg);

/* Loop thread: write what the workers left, and read on if we may. */
static void client_wake(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *c = arg;
	struct list_head batch;
	struct out_msg *m, *next;
	bool drop;

	(void)fd;
	(void)what;
	if (!c->bev)
		return;
	list_init(&batch);
	pthread_mutex_lock(&c->out_lock);
	list_for_each_entry_safe(m, next, &c->out, item) {
		list_del(&m->item);
		list_add_tail(&m->item, &batch);
	}
	c->out_bytes = evbuffer_get_length(bufferevent_get_output(c->bev));
	drop = c->drop;
	pthread_mutex_unlock(&c->out_lock);
	list_for_each_entry_safe(m, next, &batch, item) {
		bufferevent_write(c->bev, m->text, m->len);
		if (m->reply)
			c->inflight--;
		free(m);
	}
	if (drop) {
		log_warnx(
			"control: dropping an events follower that does not read");
		client_close(c);
		return;
	}
	client_read(c->bev, c);
}

static bool output_full(struct control_client *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) >
	       CONTROL_OUTPUT_MAX;
}

static void submit_line(struct control_client *c, const char *line, size_t len)
{
	struct request_job *r = malloc(sizeof(*r) + len + 1);

	if (!r) {
		log_warnx("control: out of memory; dropping a request");
		return;
	}
	r->job = (struct wq_job){ .run = request_run, .done = request_done };
	r->c = c;
	memcpy(r->line, line, len + 1);
	atomic_fetch_add(&c->refs, 1);
	c->inflight++;
	wq_submit(&c->queue, &r->job);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct control_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	/* Read on once replies are out and the client caught up. */
	while (c->inflight < CONTROL_INFLIGHT_MAX && !output_full(c) &&
	       (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF))) {
		submit_line(c, line, len);
		free(line);
	}
	if (c->inflight >= CONTROL_INFLIGHT_MAX || output_full(c)) {
		bufferevent_disable(bev, EV_READ);
		return;
	}
	bufferevent_enable(bev, EV_READ);
	/* A line that never ends is not a request. */
	if (evbuffer_get_length(in) > CONTROL_LINE_MAX) {
		evbuffer_drain(in, evbuffer_get_length(in));
		c->inflight++; /* the reply below counts as one */
		send_error(c, NULL, E2BIG, "request line too long");
	}
}

/* Everything written: serve what was held back. */
static void client_write(struct bufferevent *bev, void *arg)
{
	client_read(bev, arg);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		client_close(arg);
}

static void control_accept(struct evconnlistener *listener, evutil_socket_t fd,
			   struct sockaddr *addr, int socklen, void *arg)
{
	struct event_base *base = evconnlistener_get_base(listener);
	struct control_client *c = calloc(1, sizeof(*c));
	struct ucred cred = { 0 };
	socklen_t clen = sizeof(cred);

	(void)addr;
	(void)socklen;
	(void)arg;
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	atomic_init(&c->refs, 1);
	list_init(&c->out);
	pthread_mutex_init(&c->out_lock, NULL);
	serial_queue_init(&c->queue, cred.uid);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->wake = event_new(base, -1, 0, client_wake, c);
	if (!c->bev || !c->wake) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		c->bev = NULL;
		client_put(c);
		return;
	}
	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	pthread_mutex_lock(&ctl.lock);
	list_add_tail(&c->item, &ctl.clients);
	pthread_mutex_unlock(&ctl.lock);
}

int control_start(struct event_base *base, const char *rundir,
		  const char *backend)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct group *operators;

	if (asprintf(&ctl.path, "%s/control", rundir) < 0)
		return -ENOMEM;
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

/* After the pool stopped: nothing replies any more. */
void control_stop(void)
{
	for (;;) {
		struct control_client *c = NULL;

		pthread_mutex_lock(&ctl.lock);
		if (!list_empty(&ctl.clients))
			c = list_first_entry(&ctl.clients,
					     struct control_client, item);
		pthread_mutex_unlock(&ctl.lock);
		if (!c)
			break;
		client_close(c);
	}
	if (ctl.listener) {
		evconnlistener_free(ctl.listener);
		ctl.listener = NULL;
		unlink(ctl.path);
	}
	free(ctl.path);
	ctl.path = NULL;
}
