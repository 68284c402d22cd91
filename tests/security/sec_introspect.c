// SPDX-License-Identifier: MIT
/*
 * Finding 12: inspecting a daemon must not run into undefined behaviour.
 * A user holds an IOAS without any mapping; the operator (root, through
 * the control socket) asks iommufdctl for that IOAS and for the page
 * storage. Against the sanitizer build of the daemon (variant "asan") the
 * daemon's log must stay free of UBSan and ASan reports, and every command
 * must be answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

struct holder {
	pid_t pid;
	uint32_t ioas;
	int err;
};

static int from_child[2], to_child[2];

static int hold_empty_ioas(void *arg)
{
	struct holder *h = arg;
	int fd;

	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		h->err = errno;
	else
		h->err = (int)-sec_ioas_alloc(fd, &h->ioas);
	h->pid = getpid();
	sec_tell(from_child[1], 'r');
	sec_hear(to_child[0], 120);
	return 0;
}

static void ask(const char *const args[], const char *what)
{
	static char out[1 << 16];
	int before = sec_daemon_log_reports(0, NULL, 0), st;
	char hit[512] = "";
	bool report;

	st = sec_ctl(out, sizeof(out), args);
	report = sec_daemon_log_reports(before, hit, sizeof(hit)) > before;
	check(st == 0, "iommufdctl %s is answered (exit status %d)", what, st);
	check(!report,
	      "no sanitizer report in the daemon's log after "
	      "iommufdctl %s%s%s",
	      what, report ? ": " : "", hit);
}

int main(int argc, char **argv)
{
	struct holder *h;
	char id[16], pid[16];
	pid_t child;

	sec_init(argc, argv);
	h = sec_shared(sizeof(*h));
	if (pipe2(from_child, O_CLOEXEC) || pipe2(to_child, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	child = sec_spawn(&sec_attacker, hold_empty_ioas, h);
	if (sec_hear(from_child[0], 10) != 'r' || h->err)
		sec_bail("the user could not make an IOAS: %s",
			 strerror(h->err));
	snprintf(id, sizeof(id), "%u", h->ioas);
	snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	{
		const char *const ioas[] = { "ioas", id, "--client", pid,
					     NULL };
		const char *const pages[] = { "pages", NULL };
		const char *const objects[] = { "objects", NULL };

		ask(ioas, "ioas on an IOAS without mappings");
		ask(pages, "pages with no mapping anywhere");
		ask(objects, "objects");
	}
	sec_tell(to_child[1], 'q');
	sec_wait(child, 10);
	sec_check_serving("the inspection");
	return sec_done();
}
