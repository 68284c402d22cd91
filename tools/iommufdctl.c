// SPDX-License-Identifier: MIT
/*
 * iommufdctl: inspect a running iommufdd through its control socket, draw
 * its object graph, and run ioctl scripts against any /dev/iommu.
 *
 * Exit status: 0 success; 1 the daemon answered with an error (or a script
 * failed); 2 usage; 3 the daemon is not running; 4 permission denied.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "script.h"

#define DEFAULT_RUN_DIR "/run/iommufdd"

enum {
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,
	EXIT_DENIED = 4,
};

static const char *prog = "iommufdctl";
static const char *run_dir = DEFAULT_RUN_DIR;
static bool json_output;
static long client_pid;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--run-dir DIR] [--json] COMMAND [ARGS]\n"
		"\n"
		"  status               daemon summary\n"
		"  clients              processes with /dev/iommu open\n"
		"  objects [--client PID]\n"
		"                       objects per client, with their links\n"
		"  ioas ID [--client PID]\n"
		"                       the mappings of one IOAS\n"
		"  pages                page storage, its sharing, pinned bytes\n"
		"  stats                ioctl counts, errors, latency histogram\n"
		"  events               follow object events (Ctrl-C to stop)\n"
		"  graph [--client PID] the object graph in Graphviz DOT\n"
		"  run SCRIPT [DEVICE]  run an ioctl script (iommufd-script(5))\n"
		"                       against DEVICE (default /dev/iommu)\n"
		"\n"
		"  --run-dir DIR        iommufdd's run directory (default %s)\n"
		"  --json               print the daemon's JSON as it is\n",
		prog, DEFAULT_RUN_DIR);
}

/* ---- talking to the daemon ------------------------------------------- */

static FILE *connect_daemon(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/control", run_dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		exit(EXIT_ERROR);
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (errno == EACCES || errno == EPERM) {
			fprintf(stderr,
				"%s: permission denied on %s: members of the "
				"iommufd group and root may inspect iommufdd\n",
				prog, addr.sun_path);
			exit(EXIT_DENIED);
		}
		fprintf(stderr, "%s: iommufdd is not running (%s: %s)\n", prog,
			addr.sun_path, strerror(errno));
		exit(EXIT_NOT_RUNNING);
	}
	return fdopen(fd, "r+");
}

static json_object *read_message(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	json_object *msg;

	if (getline(&line, &cap, f) < 0) {
		free(line);
		return NULL;
	}
	msg = json_tokener_parse(line);
	free(line);
	return msg;
}

/* Send one request and return its result, or exit with a message. */
static json_object *request(FILE *f, const char *command, json_object *args)
{
	json_object *req = json_object_new_object(), *reply, *v, *result;

	json_object_object_add(req, "version", json_object_new_int(1));
	json_object_object_add(req, "id", json_object_new_int(1));
	json_object_object_add(req, "command", json_object_new_string(command));
	if (args)
		json_object_object_add(req, "args", args);
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	fflush(f);
	json_object_put(req);

	reply = read_message(f);
	if (!reply) {
		fprintf(stderr, "%s: no answer from iommufdd\n", prog);
		exit(EXIT_ERROR);
	}
	if (!json_object_object_get_ex(reply, "ok", &v) ||
	    !json_object_get_boolean(v)) {
		json_object *e = json_object_object_get(reply, "error");

		fprintf(stderr, "%s: %s: %s (%s)\n", prog, command,
			json_object_get_string(
				json_object_object_get(e, "message")),
			json_object_get_string(
				json_object_object_get(e, "errno")));
		exit(EXIT_ERROR);
	}
	result = json_object_get(json_object_object_get(reply, "result"));
	json_object_put(reply);
	return result;
}

/*
 * A command whose answer comes in pages (the daemon says "next" where the
 * following one starts): ask for every page, and join their @list arrays.
 */
static json_object *request_all(FILE *f, const char *command, json_object *args,
				const char *list)
{
	json_object *all = NULL, *next = NULL;

	do {
		json_object *a = json_object_new_object(), *page, *items;

		if (args) {
			json_object_object_foreach(args, key, val)
				json_object_object_add(a, key,
						       json_object_get(val));
		}
		if (next)
			json_object_object_add(a, "from",
					       json_object_get(next));
		page = request(f, command, a);
		json_object_put(next);
		next = json_object_get(json_object_object_get(page, "next"));
		if (!all) {
			all = page;
			continue;
		}
		items = json_object_object_get(page, list);
		for (size_t i = 0; i < json_object_array_length(items); i++)
			json_object_array_add(
				json_object_object_get(all, list),
				json_object_get(
					json_object_array_get_idx(items, i)));
		json_object_put(page);
	} while (next);
	json_object_object_del(all, "next");
	json_object_put(args);
	return all;
}

static json_object *pid_args(void)
{
	json_object *args = json_object_new_object();

	if (client_pid)
		json_object_object_add(args, "pid",
				       json_object_new_int64(client_pid));
	return args;
}

/* ---- tables -------------------------------------------------------------- */

#define TABLE_MAX_COLS 10

struct table {
	unsigned int ncols;
	const char *head[TABLE_MAX_COLS];
	char **cells; /* rows x ncols */
	size_t nrows;
};

/*
 * Some strings come from the clients (a process names itself): control
 * characters in them must not reach the terminal, nor quotes a DOT label.
 */
static char *sanitize(char *s, bool dot)
{
	char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    (dot && (*p == '"' || *p == '\\')))
			*p = '?';
	return s;
}

static const char *clean(const char *s, bool dot)
{
	static char buf[4][64];
	static unsigned int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s", s ? s : "(null)");
	return sanitize(b, dot);
}

static void table_row(struct table *t, ...)
{
	va_list ap;
	unsigned int i;

	t->cells =
		realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] =
			sanitize(strdup(va_arg(ap, char *)), false);
	va_end(ap);
	t->nrows++;
}

/* Columns padded to their widest cell, numbers right-aligned. */
static void table_print(struct table *t)
{
	size_t width[TABLE_MAX_COLS], r;
	unsigned int c;

	for (c = 0; c < t->ncols; c++)
		width[c] = strlen(t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if (strlen(t->cells[r * t->ncols + c]) > width[c])
				width[c] = strlen(t->cells[r * t->ncols + c]);
	for (c = 0; c < t->ncols; c++)
		printf("%-*s%s", (int)width[c], t->head[c],
		       c + 1 < t->ncols ? "  " : "\n");
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			bool num = *s && strspn(s, "0123456789") == strlen(s);

			printf(num ? "%*s%s" : "%-*s%s", (int)width[c], s,
			       c + 1 < t->ncols ? "  " : "\n");
			free(t->cells[r * t->ncols + c]);
		}
	}
	free(t->cells);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);

	return v ? json_object_get_string(v) : "-";
}

static const char *hex(json_object *o, const char *key)
{
	static char buf[4][24];
	static unsigned int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "0x%llx",
		 (unsigned long long)json_object_get_int64(
			 json_object_object_get(o, key)));
	return b;
}

/* ---- commands ------------------------------------------------------------ */

static void show_status(json_object *r)
{
	printf("backend:       %s\n", str(r, "backend"));
	printf("clients:       %s\n", str(r, "clients"));
	printf("objects:       %s\n", str(r, "objects"));
	printf("pinned pages:  %s\n", str(r, "pinned_pages"));
	printf("uptime:        %s s\n", str(r, "uptime_s"));
}

static void show_clients(json_object *r)
{
	struct table t = {
		6, { "CLIENT", "PID", "UID", "COMMAND", "OBJECTS", "OPENED" }
	};
	size_t i;

	for (i = 0; i < json_object_array_length(r); i++) {
		json_object *c = json_object_array_get_idx(r, i);
		time_t opened = json_object_get_int64(
			json_object_object_get(c, "opened"));
		char when[32];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
			 localtime(&opened));
		table_row(&t, str(c, "client"), str(c, "pid"), str(c, "uid"),
			  str(c, "command"), str(c, "objects"), when);
	}
	table_print(&t);
}

static void links_string(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *links = json_object_object_get(o, key);
	size_t used = 0;

	buf[0] = '\0';
	/* An IOAS can be used by many: stop at the end of buf, "..." shows it. */
	if (json_object_is_type(links, json_type_array)) {
		size_t i;

		for (i = 0; i < json_object_array_length(links) && used < len;
		     i++)
			used += snprintf(
				buf + used, len - used, "%s%s", i ? "," : "",
				json_object_get_string(
					json_object_array_get_idx(links, i)));
	} else if (links) {
		json_object_object_foreach(links, kind, id)
		{
			if (used >= len)
				break;
			used += snprintf(buf + used, len - used, "%s%s=%s",
					 used ? "," : "", kind,
					 json_object_get_string(id));
		}
	}
	if (used >= len && len > 4)
		strcpy(buf + len - 4, "...");
	if (!buf[0])
		snprintf(buf, len, "-");
}

/*
 * A device object's backend, name, group and IOMMU unit, as the daemon
 * reports them ("vfio 0000:00:01.0 group 1 dmar0"); "-" for others.
 */
static void device_string(json_object *o, char *buf, size_t len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "backend", &v)) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "device", &v))
		snprintf(buf + strlen(buf), len - strlen(buf), " %s",
			 json_object_get_string(v));
	if (json_object_object_get_ex(o, "group", &v))
		snprintf(buf + strlen(buf), len - strlen(buf), " group %s",
			 json_object_get_string(v));
	if (json_object_object_get_ex(o, "iommu", &v))
		snprintf(buf + strlen(buf), len - strlen(buf), " %s",
			 json_object_get_string(v));
}

static void show_objects(json_object *r)
{
	struct table t = { 8,
			   { "CLIENT", "PID", "ID", "TYPE", "USERS", "USES",
			     "USED BY", "DEVICE" } };
	size_t i, j;

	for (i = 0; i < json_object_array_length(r); i++) {
		json_object *c = json_object_array_get_idx(r, i);
		json_object *objs = json_object_object_get(c, "objects");

		for (j = 0; j < json_object_array_length(objs); j++) {
			json_object *o = json_object_array_get_idx(objs, j);
			char uses[128], used_by[128], device[128];

			links_string(o, "uses", uses, sizeof(uses));
			links_string(o, "used_by", used_by, sizeof(used_by));
			device_string(o, device, sizeof(device));
			table_row(&t, str(c, "client"), str(c, "pid"),
				  str(o, "id"), str(o, "type"), str(o, "users"),
				  uses, used_by, device);
		}
	}
	table_print(&t);
}

static void show_ioas(json_object *r)
{
	struct table t = { 7,
			   { "IOVA", "LAST", "LENGTH", "WRITABLE", "ACCESSES",
			     "OWNER", "FILE" } };
	json_object *areas = json_object_object_get(r, "areas");
	size_t i;

	printf("IOAS %s of pid %s (%s): alignment %s, %s domain(s)\n",
	       str(r, "ioas"), str(r, "pid"), clean(str(r, "command"), false),
	       str(r, "iova_alignment"), str(r, "domains"));
	for (i = 0; i < json_object_array_length(areas); i++) {
		json_object *a = json_object_array_get_idx(areas, i);

		table_row(&t, hex(a, "iova"), hex(a, "last"), str(a, "length"),
			  str(a, "writable"), str(a, "accesses"),
			  str(a, "owner"), str(a, "file"));
	}
	table_print(&t);
}

static void show_pages(json_object *r)
{
	struct table t = { 7,
			   { "STORAGE", "TYPE", "PID", "BASE", "INODE",
			     "PINNED BYTES", "AREAS" } };
	json_object *list = json_object_object_get(r, "storages");
	json_object *acct = json_object_object_get(r, "accounting");
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *p = json_object_array_get_idx(list, i);
		table_row(&t, hex(p, "storage"), str(p, "type"), str(p, "pid"),
			  hex(p, "base"), str(p, "inode"),
			  str(p, "pinned_bytes"), str(p, "nr_areas"));
	}
	table_print(&t);
	printf("\npinned pages: %s\n", str(r, "pinned_pages"));
	for (i = 0; i < json_object_array_length(acct); i++) {
		json_object *a = json_object_array_get_idx(acct, i);
		json_object *v;

		if (json_object_object_get_ex(a, "uid", &v))
			printf("charged to uid %s: %s pages\n",
			       json_object_get_string(v),
			       str(a, "pinned_pages"));
		else
			printf("charged to pid %s: %s pages\n", str(a, "pid"),
			       str(a, "pinned_pages"));
	}
}

static void show_stats(json_object *r)
{
	struct table calls = { 2, { "IOCTL", "CALLS" } };
	struct table errs = { 2, { "ERRNO", "COUNT" } };
	struct table lat = { 2, { "LATENCY", "CALLS" } };
	json_object *latency = json_object_object_get(r, "latency");
	size_t i;

	json_object_object_foreach(json_object_object_get(r, "ioctls"), name, n)
		table_row(&calls, name, json_object_get_string(n));
	table_print(&calls);
	printf("\n");
	json_object_object_foreach(json_object_object_get(r, "errors"), err, n2)
		table_row(&errs, err, json_object_get_string(n2));
	table_print(&errs);
	printf("\n");
	for (i = 0; i < json_object_array_length(latency); i++) {
		json_object *b = json_object_array_get_idx(latency, i);
		char label[32];

		if (!json_object_get_int64(json_object_object_get(b, "count")))
			continue;
		snprintf(label, sizeof(label), "< %s us", str(b, "lt_us"));
		table_row(&lat, label, str(b, "count"));
	}
	table_print(&lat);
}

/* Shapes follow the roles in the kernel's iommufd object diagrams. */
static const char *graph_style(const char *type)
{
	if (!strcmp(type, "ioas"))
		return "shape=folder,style=filled,fillcolor=\"#dbe9f6\"";
	if (!strcmp(type, "hwpt_paging"))
		return "shape=box,style=filled,fillcolor=\"#fde9c8\"";
	if (!strcmp(type, "hwpt_nested"))
		return "shape=box,style=\"filled,dashed\",fillcolor=\"#fff4e0\"";
	if (!strcmp(type, "device"))
		return "shape=component,style=filled,fillcolor=\"#e2f0d9\"";
	if (!strcmp(type, "fault"))
		return "shape=note";
	return "shape=ellipse";
}

static void show_graph(json_object *r)
{
	size_t i, j;

	printf("digraph iommufd {\n\trankdir=LR;\n\tnode [fontname=\"sans\"];\n");
	for (i = 0; i < json_object_array_length(r); i++) {
		json_object *c = json_object_array_get_idx(r, i);
		json_object *objs = json_object_object_get(c, "objects");
		const char *cl = str(c, "client");

		printf("\tsubgraph cluster_%s {\n\t\tlabel=\"%s (pid %s)\";\n",
		       cl, clean(str(c, "command"), true), str(c, "pid"));
		for (j = 0; j < json_object_array_length(objs); j++) {
			json_object *o = json_object_array_get_idx(objs, j);
			const char *type = str(o, "type");
			const char *dev = str(o, "device");

			/* A device's PCI name and group on a second line. */
			if (strcmp(dev, "-"))
				printf("\t\tc%s_%s [label=\"%s %s\\n%s group %s\",%s];\n",
				       cl, str(o, "id"), type, str(o, "id"),
				       clean(dev, true), str(o, "group"),
				       graph_style(type));
			else
				printf("\t\tc%s_%s [label=\"%s %s\",%s];\n", cl,
				       str(o, "id"), type, str(o, "id"),
				       graph_style(type));
		}
		for (j = 0; j < json_object_array_length(objs); j++) {
			json_object *o = json_object_array_get_idx(objs, j);

			json_object_object_foreach(
				json_object_object_get(o, "uses"), kind, target)
				printf("\t\tc%s_%s -> c%s_%s [label=\"%s\"];\n",
				       cl, str(o, "id"), cl,
				       json_object_get_string(target), kind);
		}
		printf("\t}\n");
	}
	printf("}\n");
}

static int follow_events(FILE *f)
{
	json_object *ok = request(f, "events", NULL), *msg;

	json_object_put(ok);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((msg = read_message(f))) {
		json_object *e = json_object_object_get(msg, "event");

		if (json_output)
			printf("%s\n", json_object_to_json_string_ext(
					       e, JSON_C_TO_STRING_PLAIN));
		else if (json_object_object_get(e, "id"))
			printf("%-15s client %s (pid %s %s): %s %s\n",
			       str(e, "event"), str(e, "client"), str(e, "pid"),
			       clean(str(e, "command"), false), str(e, "type"),
			       str(e, "id"));
		else
			printf("%-15s client %s (pid %s %s)\n", str(e, "event"),
			       str(e, "client"), str(e, "pid"),
			       clean(str(e, "command"), false));
		json_object_put(msg);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "client", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		void (*show)(json_object *r);
		const char *request;
	} commands[] = {
		{ "status", show_status, "status" },
		{ "clients", show_clients, "clients" },
		{ "objects", show_objects, "objects" },
		{ "pages", show_pages, "pages" },
		{ "stats", show_stats, "stats" },
		{ "graph", show_graph, "objects" },
	};
	const char *cmd;
	json_object *args = NULL, *result;
	unsigned int i;
	int opt;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "r:jc:h", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			run_dir = optarg;
			break;
		case 'j':
			json_output = true;
			break;
		case 'c':
			client_pid = strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];

	if (!strcmp(cmd, "run")) {
		if (optind >= argc || argc - optind > 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return iommufd_script_run(argv[optind],
					  optind + 1 < argc ? argv[optind + 1] :
							      "/dev/iommu",
					  stdout);
	}

	/* A command line that cannot work is a usage error, daemon or not. */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			break;
	if ((i == sizeof(commands) / sizeof(commands[0]) &&
	     strcmp(cmd, "events") && strcmp(cmd, "ioas")) ||
	    (!strcmp(cmd, "ioas") && optind >= argc)) {
		fprintf(stderr, "%s: %s\n", prog,
			strcmp(cmd, "ioas") ? "unknown command" :
					      "ioas needs an IOAS id");
		usage(stderr);
		return EXIT_USAGE;
	}

	f = connect_daemon();
	if (!strcmp(cmd, "events"))
		return follow_events(f);
	if (!strcmp(cmd, "ioas")) {
		args = pid_args();
		json_object_object_add(
			args, "id",
			json_object_new_int64(strtol(argv[optind], NULL, 0)));
		result = request_all(f, "ioas", args, "areas");
		if (json_output)
			printf("%s\n",
			       json_object_to_json_string_ext(
				       result, JSON_C_TO_STRING_PRETTY));
		else
			show_ioas(result);
		json_object_put(result);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		if (!strcmp(commands[i].request, "objects"))
			args = pid_args();
		if (!strcmp(commands[i].request, "pages"))
			result = request_all(f, "pages", args, "storages");
		else
			result = request(f, commands[i].request, args);
		if (json_output && strcmp(cmd, "graph"))
			printf("%s\n",
			       json_object_to_json_string_ext(
				       result, JSON_C_TO_STRING_PRETTY));
		else
			commands[i].show(result);
		json_object_put(result);
		fclose(f);
		return 0;
	}
	return EXIT_USAGE; /* not reached: checked above */
}
