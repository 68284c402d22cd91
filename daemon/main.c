// SPDX-License-Identifier: MIT
/*
 * iommufdd: serve the iommufd uAPI on /dev/iommu from user space.
 *
 * The process never forks: under systemd it is a Type=notify service, by
 * hand it runs until SIGINT/SIGTERM. Everything happens on one libevent loop.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "abi.h"
#include "control.h"
#include "core.h"
#include "fail_nth.h"
#include "iommufd_private.h"
#include "launcher.h"
#include "log.h"
#include "permission.h"
#include "transport.h"
#include "user_budget.h"
#include "workqueue.h"

#ifndef IOMMUFDD_VERSION
#define IOMMUFDD_VERSION "0.0.0"
#endif

#define DEFAULT_BACKEND "mock"
#define DEFAULT_PATH "/dev/iommu"
#define DEFAULT_RUN_DIR "/run/iommufdd"

#define CUSE_CHANNEL "/dev/cuse"
#define MODPROBE "/sbin/modprobe"

/* Exit status for a command line that makes no sense. */
#define EXIT_USAGE 2

enum transport_kind {
	TRANSPORT_AUTO,
	TRANSPORT_FUSE,
	TRANSPORT_CUSE,
};

struct daemon_options {
	const char *backend;
	const char *group;
	enum transport_kind transport;
	const char *path;
	unsigned int cuse_major, cuse_minor; /* 0:0 is a dynamic number */
	const char *run_dir;
	bool foreground;
	int log_level;
};

/* The file clients open: CUSE devices live in /dev (transport.h). */
static const char *served_path(const struct daemon_options *opts,
			       enum transport_kind kind)
{
	static char path[PATH_MAX];
	const char *base = strrchr(opts->path, '/');

	if (kind != TRANSPORT_CUSE)
		return opts->path;
	snprintf(path, sizeof(path), "/dev/%s", base ? base + 1 : opts->path);
	return path;
}

/* Set by the signal callbacks; a loop that ends without it lost the kernel. */
static bool stop_requested;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTION]...\n"
		"Serve the iommufd uAPI on a file from user space.\n"
		"\n"
		"  -b, --backend NAME      IOMMU backend (default: %s)\n"
		"  -t, --transport KIND    cuse, fuse or auto (default: auto, which is\n"
		"                          cuse where the kernel has CUSE, else fuse)\n"
		"  -p, --path PATH         file to serve (default: %s); cuse serves\n"
		"                          /dev/ and the last component of PATH\n"
		"  -d, --cuse-device MAJ:MIN  number of the cuse device (default: 0:0,\n"
		"                          any free number)\n"
		"  -r, --run-dir DIR       object files and the iommufd-run socket\n"
		"                          (default: " DEFAULT_RUN_DIR
		"; \"none\" turns\n"
		"                          fd-returning ioctls off)\n"
		"  -m, --mode MODE         permissions of PATH, the launcher socket and the\n"
		"                          object files' directory (octal; default 0660)\n"
		"  -g, --group GROUP       their group, a name or a number (default\n"
		"                          iommufd; root's group if there is no such group)\n"
		"      --max-objects N     objects one open file may hold (default 65536)\n"
		"      --max-areas N       IOVA mappings of one open file (default 4194304)\n"
		"      --max-iova-ranges N allowed or reserved ranges per IOAS (default 65536)\n"
		"      --max-pinned BYTES  memory one open file may pin, with K, M, G or T\n"
		"                          (default 0: only RLIMIT_MEMLOCK limits it)\n"
		"      --max-user-objects N, --max-user-areas N\n"
		"                          objects and IOVA mappings of all the open files\n"
		"                          of one user (default 1048576 each)\n"
		"      --max-user-mmap-regions N\n"
		"                          vIOMMU mmap regions of one user (default 256)\n"
		"      --max-user-files N  memory files the daemon holds for one user\n"
		"                          (default 1024)\n"
		"      --fault-injection   let clients of the mock fail the daemon's own\n"
		"                          allocations on purpose (for tests)\n"
		"      --kernel-abi LEVEL  answer as kernel 6.12 or 7.2 (= newest, the\n"
		"                          default) where they differ\n"
		"  -f, --foreground        log to stderr (the daemon never forks)\n"
		"  -l, --log-level LEVEL   error, warning, info or debug (default: info)\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n",
		program_invocation_short_name, DEFAULT_BACKEND, DEFAULT_PATH);
}

__attribute__((format(printf, 1, 2), noreturn)) static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n",
		program_invocation_short_name);
	exit(EXIT_USAGE);
}

enum {
	OPT_MAX_OBJECTS = 0x100,
	OPT_MAX_AREAS,
	OPT_MAX_RANGES,
	OPT_MAX_PINNED,
	OPT_MAX_USER_OBJECTS,
	OPT_MAX_USER_AREAS,
	OPT_MAX_USER_MMAP_REGIONS,
	OPT_MAX_USER_FILES,
	OPT_FAULT_INJECTION,
	OPT_KERNEL_ABI,
};

static uint64_t parse_count(const char *arg, const char *what, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*arg || *end || errno || v > max || arg[0] == '-')
		usage_error("%s wants a number up to %llu, not '%s'", what,
			    (unsigned long long)max, arg);
	return v;
}

/* A byte count with an optional K, M, G or T (powers of 1024). */
static uint64_t parse_size(const char *arg, const char *what)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *unit;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*arg || errno || arg[0] == '-')
		usage_error("%s wants a size, not '%s'", what, arg);
	if (*end) {
		unit = strchr(units, *end);
		if (!unit || end[1])
			usage_error(
				"%s: unknown unit in '%s' (use K, M, G or T)",
				what, arg);
		for (const char *u = units; u <= unit; u++) {
			if (v > UINT64_MAX / 1024)
				usage_error("%s: '%s' is too big", what, arg);
			v *= 1024;
		}
	}
	return v;
}

static void parse_options(int argc, char **argv, struct daemon_options *opts)
{
	static const struct option long_options[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "transport", required_argument, NULL, 't' },
		{ "path", required_argument, NULL, 'p' },
		{ "cuse-device", required_argument, NULL, 'd' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "max-objects", required_argument, NULL, OPT_MAX_OBJECTS },
		{ "max-areas", required_argument, NULL, OPT_MAX_AREAS },
		{ "max-iova-ranges", required_argument, NULL, OPT_MAX_RANGES },
		{ "max-pinned", required_argument, NULL, OPT_MAX_PINNED },
		{ "max-user-objects", required_argument, NULL,
		  OPT_MAX_USER_OBJECTS },
		{ "max-user-areas", required_argument, NULL,
		  OPT_MAX_USER_AREAS },
		{ "max-user-mmap-regions", required_argument, NULL,
		  OPT_MAX_USER_MMAP_REGIONS },
		{ "max-user-files", required_argument, NULL,
		  OPT_MAX_USER_FILES },
		{ "fault-injection", no_argument, NULL, OPT_FAULT_INJECTION },
		{ "kernel-abi", required_argument, NULL, OPT_KERNEL_ABI },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opts = (struct daemon_options){
		.backend = DEFAULT_BACKEND,
		.group = PERMISSION_DEFAULT_GROUP,
		.transport = TRANSPORT_AUTO,
		.path = DEFAULT_PATH,
		.run_dir = DEFAULT_RUN_DIR,
		.log_level = LOG_LEVEL_INFO,
	};

	/* Leading ':' lets us word the errors ourselves. */
	while ((c = getopt_long(argc, argv, ":b:t:p:d:r:m:g:fl:hV",
				long_options, NULL)) != -1) {
		switch (c) {
		case 'm': {
			char *end;
			unsigned long mode = strtoul(optarg, &end, 8);

			if (!*optarg || *end || mode > 07777)
				usage_error(
					"--mode wants an octal mode, not '%s'",
					optarg);
			daemon_permission.mode = (mode_t)mode;
			break;
		}
		case 'g':
			if (!*optarg)
				usage_error("--group must not be empty");
			opts->group = optarg;
			break;
		case OPT_MAX_OBJECTS:
			iommufd_default_limits.objects = (uint32_t)parse_count(
				optarg, "--max-objects", UINT32_MAX);
			break;
		case OPT_MAX_AREAS:
			iommufd_default_limits.areas =
				parse_count(optarg, "--max-areas", UINT64_MAX);
			break;
		case OPT_MAX_RANGES:
			iommufd_default_limits.iova_ranges =
				(uint32_t)parse_count(optarg,
						      "--max-iova-ranges",
						      UINT32_MAX);
			break;
		case OPT_MAX_USER_OBJECTS:
			user_budget_max[USER_BUDGET_OBJECTS] = parse_count(
				optarg, "--max-user-objects", UINT64_MAX);
			break;
		case OPT_MAX_USER_AREAS:
			user_budget_max[USER_BUDGET_AREAS] = parse_count(
				optarg, "--max-user-areas", UINT64_MAX);
			break;
		case OPT_MAX_USER_MMAP_REGIONS:
			user_budget_max[USER_BUDGET_MMAP_REGIONS] = parse_count(
				optarg, "--max-user-mmap-regions", UINT64_MAX);
			break;
		case OPT_MAX_USER_FILES:
			user_budget_max[USER_BUDGET_FILES] = parse_count(
				optarg, "--max-user-files", UINT64_MAX);
			break;
		case OPT_FAULT_INJECTION:
			fail_nth_allowed = true;
			break;
		case OPT_MAX_PINNED:
			iommufd_default_limits.pinned_pages =
				parse_size(optarg, "--max-pinned") / 4096;
			break;
		case OPT_KERNEL_ABI:
			if (abi_level_parse(optarg, &iommufd_abi))
				usage_error(
					"unknown kernel ABI '%s' (use 6.12, "
					"7.2 or newest)",
					optarg);
			break;
		case 'b':
			opts->backend = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "fuse"))
				opts->transport = TRANSPORT_FUSE;
			else if (!strcmp(optarg, "auto"))
				opts->transport = TRANSPORT_AUTO;
			else if (!strcmp(optarg, "cuse"))
				opts->transport = TRANSPORT_CUSE;
			else
				usage_error(
					"unknown transport '%s' (use cuse, fuse or auto)",
					optarg);
			break;
		case 'p':
			if (!*optarg)
				usage_error("--path must not be empty");
			opts->path = optarg;
			break;
		case 'd': {
			char extra;

			if (sscanf(optarg, "%u:%u%c", &opts->cuse_major,
				   &opts->cuse_minor, &extra) != 2)
				usage_error(
					"--cuse-device wants MAJOR:MINOR, not '%s'",
					optarg);
			break;
		}
		case 'r':
			if (!*optarg)
				usage_error("--run-dir must not be empty");
			opts->run_dir = optarg;
			break;
		case 'f':
			opts->foreground = true;
			break;
		case 'l':
			opts->log_level = log_level_from_name(optarg);
			if (opts->log_level < 0)
				usage_error(
					"unknown log level '%s' (use error, warning, info or debug)",
					optarg);
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case 'V':
			printf("iommufdd %s\n", IOMMUFDD_VERSION);
			exit(EXIT_SUCCESS);
		case ':':
			usage_error("option '%s' needs an argument",
				    argv[optind - 1]);
		default:
			/* optopt names the letter inside a group like -fx. */
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Effective capability bit from capget(2); libcap is not worth a dependency. */
static bool have_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	return data[cap / 32].effective & (1U << (cap % 32));
}

/*
 * Fail early with one clear line instead of a libfuse mount error later:
 * mounting needs CAP_SYS_ADMIN and the session needs /dev/fuse.
 */
static void check_fuse_prerequisites(void)
{
	int fd;

	if (geteuid() != 0 && !have_effective_cap(CAP_SYS_ADMIN))
		fatalx("mounting a FUSE file needs root or CAP_SYS_ADMIN");

	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ENODEV || err == ENXIO)
			fatalx("cannot open /dev/fuse: %s (is the fuse module loaded? try 'modprobe fuse')",
			       strerror(err));
		fatalx("cannot open /dev/fuse: %s (need root or CAP_SYS_ADMIN)",
		       strerror(err));
	}
	close(fd);
}

/* The CUSE channel is all that transport needs; it is root's by default. */
static void check_cuse_prerequisites(void)
{
	int fd = open(CUSE_CHANNEL, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ENODEV || err == ENXIO)
			fatalx("cannot open %s: %s (is the cuse module loaded? try 'modprobe cuse')",
			       CUSE_CHANNEL, strerror(err));
		fatalx("cannot open %s: %s (need root)", CUSE_CHANNEL,
		       strerror(err));
	}
	close(fd);
}

/* Not fatal: same-uid, dumpable callers can still be reached directly. */
static void check_ptrace_capability(enum transport_kind kind)
{
	if (have_effective_cap(CAP_SYS_PTRACE))
		return;
	if (kind == TRANSPORT_CUSE)
		log_warnx(
			"no CAP_SYS_PTRACE: callers this user may not ptrace are served from copies the kernel makes (slower, and their memory cannot be mapped)");
	else
		log_warnx(
			"no CAP_SYS_PTRACE: only callers this user may ptrace can be served");
}

/*
 * Load cuse.ko. Opening /dev/cuse autoloads it only where kmod created the
 * static node beforehand. Failing is fine: the kernel may have no CUSE.
 */
static void load_cuse_module(void)
{
	char arg0[] = "modprobe", arg1[] = "-q", arg2[] = "cuse";
	char *argv[] = { arg0, arg1, arg2, NULL };
	posix_spawn_file_actions_t actions;
	int status, err;
	pid_t pid;

	if (posix_spawn_file_actions_init(&actions))
		return;
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
					 O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
					 O_WRONLY, 0);
	err = posix_spawn(&pid, MODPROBE, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err) {
		log_debug("cannot run %s: %s", MODPROBE, strerror(err));
		return;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/*
 * Resolve --transport auto: CUSE where the kernel has it, since it can
 * serve callers the daemon may not ptrace; the FUSE file otherwise. One
 * line says which and why.
 */
static enum transport_kind choose_transport(enum transport_kind requested)
{
	bool tried_modprobe = false;

	if (requested == TRANSPORT_FUSE)
		return requested;
	if (access(CUSE_CHANNEL, F_OK) < 0 && errno == ENOENT &&
	    geteuid() == 0 && access(MODPROBE, X_OK) == 0) {
		load_cuse_module();
		tried_modprobe = true;
	}
	if (requested == TRANSPORT_CUSE)
		return requested;

	if (access(CUSE_CHANNEL, F_OK) == 0) {
		log_info("transport: cuse (%s)",
			 tried_modprobe ? "loaded the cuse module" :
					  CUSE_CHANNEL " exists");
		return TRANSPORT_CUSE;
	}
	log_info("transport: fuse (no %s%s)", CUSE_CHANNEL,
		 tried_modprobe ? ", and modprobe cuse did not make one" :
		 geteuid()	? "; loading cuse.ko needs root" :
				  "; no " MODPROBE " to load cuse.ko");
	return TRANSPORT_FUSE;
}

/*
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, where a
 * leading '@' names an abstract socket. Failure is logged, never fatal.
 */
static void notify_service_manager(const char *state)
{
	const char *socket_path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t path_len;
	socklen_t addr_len;
	int fd;

	if (!socket_path || !*socket_path)
		return;
	path_len = strlen(socket_path);
	if ((socket_path[0] != '/' && socket_path[0] != '@') ||
	    path_len >= sizeof(addr.sun_path)) {
		log_warnx("ignoring unusable NOTIFY_SOCKET '%s'", socket_path);
		return;
	}
	memcpy(addr.sun_path, socket_path, path_len);
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0';
	/* Abstract names are not NUL-terminated: the length is the name. */
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			       path_len + (socket_path[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("sd_notify: socket");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&addr, addr_len) < 0)
		log_warn("sd_notify: cannot send %s to %s", state, socket_path);
	close(fd);
}

static void on_stop_signal(evutil_socket_t signo, short what, void *arg)
{
	struct event_base *base = arg;

	(void)what;
	log_info("%s received, shutting down", strsignal((int)signo));
	stop_requested = true;
	event_base_loopbreak(base);
}

/*
 * Every memory file a client maps costs the daemon a descriptor, so the
 * soft limit a service starts with (1024 under systemd) would let one
 * user's thousand memfds starve every other client's MAP. Take the hard
 * limit; what one user may hold is bounded by --max-user-files.
 */
static void raise_open_files_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < 65536)
		log_info("open files: up to %llu; clients that map many memory "
			 "files need more (LimitNOFILE=)",
			 (unsigned long long)rl.rlim_cur);
	else
		log_debug("open files: up to %llu",
			  (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
	struct event *sigterm_event, *sigint_event;
	struct daemon_options opts;
	enum transport_kind kind;
	struct event_base *base;
	int exit_status = EXIT_SUCCESS;
	int ret;

	log_init(LOG_LEVEL_INFO, true);
	parse_options(argc, argv, &opts);
	log_init(opts.log_level, opts.foreground);

	kind = choose_transport(opts.transport);
	if (kind == TRANSPORT_CUSE)
		check_cuse_prerequisites();
	else
		check_fuse_prerequisites();
	check_ptrace_capability(kind);
	raise_open_files_limit();

	/* A client closing a socket under us must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Without the group nobody but root gets in: safe, and said once.
	 * (sysusers.d creates it; see iommufdd.sysusers.)
	 */
	if (permission_parse_group(opts.group, &daemon_permission.gid)) {
		log_warnx(
			"no group '%s': only root may use %s (create the group or use --group)",
			opts.group, opts.path);
		daemon_permission.gid = 0;
	}

	ret = iommufd_core_init(opts.backend);
	if (ret == -ENOENT)
		fatalx("unknown backend '%s'", opts.backend);
	if (ret < 0)
		fatalx("cannot start the '%s' backend: %s", opts.backend,
		       strerror(-ret));

	/* Workers hand results to the loop (control.c): a locking base. */
	if (evthread_use_pthreads())
		fatalx("libevent has no thread support");
	base = event_base_new();
	if (!base)
		fatalx("cannot create the event loop");

	sigterm_event = evsignal_new(base, SIGTERM, on_stop_signal, base);
	sigint_event = evsignal_new(base, SIGINT, on_stop_signal, base);
	if (!sigterm_event || !sigint_event ||
	    evsignal_add(sigterm_event, NULL) ||
	    evsignal_add(sigint_event, NULL))
		fatalx("cannot watch SIGTERM and SIGINT");

	if (wq_start())
		fatalx("cannot start the request workers");
	/* The transport has logged why it failed. */
	if (kind == TRANSPORT_CUSE)
		ret = transport_cuse_start(base, opts.path, opts.cuse_major,
					   opts.cuse_minor);
	else
		ret = transport_fuse_start(base, opts.path);
	if (ret < 0) {
		iommufd_core_exit();
		return EXIT_FAILURE;
	}

	if (strcmp(opts.run_dir, "none")) {
		if (launcher_start(base, opts.run_dir,
				   served_path(&opts, kind)) < 0)
			log_warnx("fd-returning ioctls are off: cannot set up "
				  "%s",
				  opts.run_dir);
		if (control_start(base, opts.run_dir, opts.backend) < 0)
			log_warnx("no control socket: iommufdctl cannot "
				  "inspect this daemon");
	}

	log_info("serving %s over %s (%s backend, kernel ABI %s)", opts.path,
		 kind == TRANSPORT_CUSE ? "cuse" : "fuse", opts.backend,
		 abi_level_name(iommufd_abi));
	notify_service_manager("READY=1");

	event_base_dispatch(base);

	if (!stop_requested) {
		log_err("lost the kernel connection for %s, exiting",
			opts.path);
		exit_status = EXIT_FAILURE;
	}
	notify_service_manager("STOPPING=1");
	control_stop();
	launcher_stop();
	if (kind == TRANSPORT_CUSE)
		transport_cuse_stop();
	else
		transport_fuse_stop();
	iommufd_core_exit();

	event_free(sigint_event);
	event_free(sigterm_event);
	event_base_free(base);
	return exit_status;
}
