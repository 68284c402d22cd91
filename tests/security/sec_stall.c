// SPDX-License-Identifier: MIT
/*
 * Finding 7 (and the stall test): no client waits for another.
 * Two attackers make the daemon read an ioctl struct that never arrives:
 * one whose struct lies on a userfaultfd page nobody serves, one whose
 * struct lies on a mapping of a file on its own FUSE mount (mounted with
 * fusermount3, as any user can) whose server never answers. Meanwhile another user's IOAS_ALLOC/MAP/UNMAP/DESTROY
 * loop must keep its pace: its median may grow at most 10x over the
 * undisturbed median (both are printed). Killing the stalled clients and
 * the FUSE server must release everything they held: the daemon's
 * clients, objects and pinned pages (iommufdctl status) return to what
 * they were before.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sec.h"
#include "sec_fuse.h"
#include "sec_ioctl.h"
#include "sec_uffd.h"

#define LOOPS 200
#define MAX_SLOWDOWN 10.0
#define HELD_BYTES (64 * 1024) /* what each stalled client holds pinned */

struct shared {
	double loop_s[LOOPS];
	unsigned int loops_done;
	int step, err; /* of the stalled client that failed to set up */
	pid_t fuse_server;
	int returned; /* a stalled client's ioctl returned: 1 + errno */
};

static struct shared *sh;
static int to_loop[2], from_loop[2], events[2];

/* ---- the measured client ---------------------------------------------- */

static int one_round(int fd, void *page)
{
	uint64_t iova = 0;
	uint32_t ioas;

	if (sec_ioas_alloc(fd, &ioas) ||
	    sec_map(fd, ioas, page, SEC_PAGE, &iova, 0) ||
	    sec_unmap(fd, ioas, iova, SEC_PAGE) || sec_destroy(fd, ioas))
		return -1;
	return 0;
}

static int measured_client(void *arg)
{
	void *page = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC);

	(void)arg;
	if (fd < 0 || page == MAP_FAILED)
		return 1;
	for (;;) {
		int c = sec_hear(to_loop[0], 600);

		if (c != 'm')
			return 0;
		for (sh->loops_done = 0; sh->loops_done < LOOPS;
		     sh->loops_done++) {
			double t0 = sec_now();

			if (one_round(fd, page))
				return 1;
			sh->loop_s[sh->loops_done] = sec_now() - t0;
		}
		sec_tell(from_loop[1], 'd');
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Run the loop; its median in seconds, or -1 if it did not finish. */
static double measure(double timeout_s)
{
	double sorted[LOOPS];

	sec_tell(to_loop[1], 'm');
	if (sec_hear(from_loop[0], timeout_s) != 'd')
		return -1;
	memcpy(sorted, sh->loop_s, sizeof(sorted));
	qsort(sorted, LOOPS, sizeof(sorted[0]), cmp_double);
	return sorted[LOOPS / 2];
}

/* ---- the stalled clients -------------------------------------------- */

/* Something for the daemon to hold for us: an IOAS, a domain, pins. */
static int hold_resources(void)
{
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	uint64_t iova = 0;
	uint32_t ioas;
	void *mem;

	sh->step = 1;
	if (fd < 0)
		return sh->err = errno, -1;
	mem = mmap(NULL, HELD_BYTES, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh->step = 2;
	if (mem == MAP_FAILED)
		return sh->err = errno, -1;
	if ((sh->err = (int)-sec_ioas_alloc(fd, &ioas)) ||
	    (sh->err = (int)-sec_mock_domain(fd, ioas, NULL)) ||
	    (sh->err = (int)-sec_map(fd, ioas, mem, HELD_BYTES, &iova, 0)))
		return -1;
	return fd;
}

static int uffd_client(void *arg)
{
	int fd = hold_resources(), uffd;
	void *page;

	(void)arg;
	if (fd < 0)
		return 1;
	sh->step = 3;
	uffd = sec_uffd_open(getenv("SECURITY_UFFD_DEV"));
	if (uffd < 0)
		return sh->err = -uffd, 1;
	page = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return sh->err = errno, 1;
	if ((sh->err = -sec_uffd_register(uffd, page, SEC_PAGE)))
		return 1;
	if (fork() == 0) {
		/* The watcher: says when the daemon touched the page. */
		if (sec_uffd_wait_fault(uffd, 60))
			sec_tell(events[1], 'U');
		_exit(0);
	}
	close(events[1]);
	sh->returned = 1 + (ioctl(fd, IOMMU_IOAS_ALLOC, page) ? errno : 0);
	return 0;
}

/* Its struct on a file of its own FUSE mount (by fusermount3). */
static int fuse_client(void *arg)
{
	int fd = hold_resources(), file, err;
	char mnt[512];
	struct sec_fuse f;
	void *page;

	(void)arg;
	if (fd < 0)
		return 1;
	sh->step = 3;
	sec_pub_path(mnt, sizeof(mnt), "tmp/stall-XXXXXX");
	if (!mkdtemp(mnt))
		return sh->err = errno, 1;
	sh->step = 4;
	err = sec_fuse_mount_user(&f, mnt, SEC_PAGE, events[1], 0);
	if (err)
		return sh->err = -err, 1;
	sh->fuse_server = f.server;
	sh->step = 5;
	file = open(f.path, O_RDONLY | O_CLOEXEC);
	if (file < 0)
		return sh->err = errno, 1;
	page = mmap(NULL, SEC_PAGE, PROT_READ, MAP_SHARED, file, 0);
	if (page == MAP_FAILED)
		return sh->err = errno, 1;
	close(events[1]);
	sh->returned = 1 + (ioctl(fd, IOMMU_IOAS_ALLOC, page) ? errno : 0);
	return 0;
}

/* ---- the test ------------------------------------------------------- */

static bool same(const struct sec_status *a, const struct sec_status *b)
{
	return a->clients == b->clients && a->objects == b->objects &&
	       a->pinned_pages == b->pinned_pages;
}

/* Start a stalled client; true once its struct read reached the daemon. */
static bool start_stalled(int (*fn)(void *), char event, const char *what,
			  pid_t *pid)
{
	int c;

	sh->step = 0;
	sh->returned = 0;
	*pid = sec_spawn(&sec_attacker, fn, NULL);
	c = sec_hear(events[0], 10);
	if (c != event)
		sec_note("%s: no sign that the daemon reached its struct "
			 "within 10 s (setup step %d: %s; %s%s)",
			 what, sh->step, strerror(sh->err),
			 sh->returned ? "its ioctl returned " : "no return",
			 sh->returned ? strerror(sh->returned - 1) : "");
	return c == event;
}

static void release_and_check(pid_t *pids, unsigned int n,
			      const struct sec_status *base)
{
	struct sec_status now = { -1, -1, -1 };
	double t0 = sec_now(), deadline = t0 + 10;

	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	if (sh->fuse_server > 0)
		kill(sh->fuse_server, SIGKILL);
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0)
			sec_wait(pids[i], 1);
	while (sec_now() < deadline) {
		if (!sec_ctl_status(&now) && same(&now, base))
			break;
		sec_sleep(0.2);
	}
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], 0) == 0)
			sec_note("the %s client (pid %d) has not exited: its "
				 "ioctl still holds it in the kernel",
				 i ? "FUSE" : "userfaultfd", (int)pids[i]);
	check(same(&now, base),
	      "killing the stalled clients and the FUSE server releases what "
	      "they held within 10 s (clients %ld, objects %ld, pinned pages "
	      "%ld; before them %ld, %ld, %ld)",
	      now.clients, now.objects, now.pinned_pages, base->clients,
	      base->objects, base->pinned_pages);
}

int main(int argc, char **argv)
{
	const char *uffd_dev = getenv("SECURITY_UFFD_DEV");
	const char *fuse_dev = getenv("SECURITY_FUSE_DEV");
	pid_t loop, pids[2] = { 0, 0 };
	struct sec_status base;
	double m0, m1;
	bool reached;

	sec_init(argc, argv);
	sh = sec_shared(sizeof(*sh));
	if (pipe2(to_loop, O_CLOEXEC) || pipe2(from_loop, O_CLOEXEC) ||
	    pipe2(events, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	loop = sec_spawn(&sec_other, measured_client, NULL);
	m0 = measure(30);
	check(m0 > 0,
	      "undisturbed, another user's ALLOC/MAP/UNMAP/DESTROY "
	      "loop finishes %u of %d rounds, median %.0f us",
	      sh->loops_done, LOOPS, m0 > 0 ? m0 * 1e6 : 0.0);
	sec_ctl_status(&base);

	if (uffd_dev && *uffd_dev) {
		reached = start_stalled(uffd_client, 'U', "userfaultfd client",
					&pids[0]);
		check(reached, "the userfaultfd client's struct read reached "
			       "the daemon");
	} else {
		sec_skip("no userfaultfd node", "a client stalled on "
						"userfaultfd");
	}
	if (fuse_dev && *fuse_dev) {
		reached = start_stalled(fuse_client, 'R', "FUSE client",
					&pids[1]);
		check(reached, "the FUSE client's struct read reached the "
			       "daemon (its server got READ)");
	} else {
		sec_skip("no /dev/fuse node", "a client stalled on FUSE");
	}

	m1 = m0 > 0 ? measure(10) : -1;
	if (m1 < 0)
		sec_note("disturbed: %u of %d rounds done within 10 s",
			 sh->loops_done, LOOPS);
	check(m0 > 0 && m1 > 0 && m1 <= MAX_SLOWDOWN * m0,
	      "with both stalled, the loop's median stays within %.0fx of the "
	      "undisturbed one",
	      MAX_SLOWDOWN);
	if (m1 > 0)
		sec_note("medians: undisturbed %.0f us, disturbed %.0f us",
			 m0 * 1e6, m1 * 1e6);
	else
		sec_note("medians: undisturbed %.0f us, disturbed: the loop "
			 "did not finish",
			 m0 * 1e6);

	release_and_check(pids, 2, &base);
	sec_tell(to_loop[1], 'q');
	sec_wait(loop, 5);
	sec_check_serving("the stalled clients were killed");
	return sec_done();
}
