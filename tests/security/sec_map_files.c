// SPDX-License-Identifier: MIT
/*
 * Finding 3: a mapping swap must not let a user write a file they can only
 * read. One thread of the attacker keeps replacing a page of its address
 * space (MAP_FIXED) with, alternately, its own writable memfd and a
 * read-only mapping of a root-owned 0644 file; another maps that page into
 * an IOAS with a mock domain and has the device write it. Whatever the
 * daemon looked at, it may only ever write the memfd: the root-owned file
 * must end unchanged, as with the kernel, whose pin takes the page the
 * caller could write.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define TIME_BUDGET_S 15.0
#define MAX_ITERATIONS 200000
#define ROOT_TEXT "a root-owned file that its readers must not change\n"

struct state {
	int step, err;
	unsigned long iterations, maps, memfd_writes, swaps;
	unsigned long modified_at; /* iteration that changed the file, or 0 */
	int last_map_err;
};

static struct state *st;
static char root_file[512];
static char original[SEC_PAGE];

struct swapper {
	char *slot;
	int memfd, rootfd;
	atomic_bool stop;
	unsigned long swaps;
};

static void *swap_loop(void *arg)
{
	struct swapper *s = arg;

	while (!atomic_load(&s->stop)) {
		mmap(s->slot, SEC_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED,
		     s->rootfd, 0);
		mmap(s->slot, SEC_PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, s->memfd, 0);
		s->swaps++;
	}
	return NULL;
}

static bool file_changed(int fd)
{
	char now[SEC_PAGE];

	return pread(fd, now, sizeof(now), 0) != (ssize_t)sizeof(now) ||
	       memcmp(now, original, sizeof(now));
}

/* Map, let the device write, unmap, until the file changes or time is up. */
static void race(struct swapper *s, int fd, uint32_t ioas, uint32_t idev)
{
	double deadline = sec_now() + TIME_BUDGET_S;
	char pattern[SEC_PAGE], got;

	memset(pattern, 'E', sizeof(pattern));
	while (st->iterations < MAX_ITERATIONS && sec_now() < deadline) {
		uint64_t iova = 0;
		long ret;

		st->iterations++;
		ret = sec_map(fd, ioas, s->slot, SEC_PAGE, &iova, 0);
		if (ret) {
			st->last_map_err = (int)-ret;
			continue;
		}
		st->maps++;
		sec_dev_dma(fd, idev, iova, pattern, sizeof(pattern), true);
		sec_unmap(fd, ioas, iova, SEC_PAGE);
		if (pread(s->memfd, &got, 1, 0) == 1 && got == 'E') {
			st->memfd_writes++;
			got = 0;
			if (pwrite(s->memfd, &got, 1, 0) != 1)
				break;
		}
		if (file_changed(s->rootfd)) {
			st->modified_at = st->iterations;
			break;
		}
	}
}

static int attacker(void *arg)
{
	struct swapper s = { 0 };
	uint32_t ioas, idev;
	pthread_t thread;
	char *area;
	int fd;

	(void)arg;
	st->step = 1;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return st->err = errno, 1;
	st->step = 2;
	if ((st->err = (int)-sec_ioas_alloc(fd, &ioas)) ||
	    (st->err = (int)-sec_mock_domain(fd, ioas, &idev)))
		return 1;
	st->step = 3;
	s.rootfd = open(root_file, O_RDONLY | O_CLOEXEC);
	s.memfd = memfd_create("attacker", MFD_CLOEXEC);
	if (s.rootfd < 0 || s.memfd < 0 || ftruncate(s.memfd, SEC_PAGE))
		return st->err = errno, 1;
	/* A slot between two guard pages, so that nothing merges with it. */
	area = mmap(NULL, 3 * SEC_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED)
		return st->err = errno, 1;
	s.slot = area + SEC_PAGE;
	if (mmap(s.slot, SEC_PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, s.memfd, 0) == MAP_FAILED)
		return st->err = errno, 1;
	st->step = 4;
	if ((st->err = pthread_create(&thread, NULL, swap_loop, &s)))
		return 1;
	race(&s, fd, ioas, idev);
	atomic_store(&s.stop, true);
	pthread_join(thread, NULL);
	st->swaps = s.swaps;
	st->step = 5;
	return 0;
}

static void make_root_file(void)
{
	char dir[400];
	int fd;

	for (size_t i = 0; i < sizeof(original); i++)
		original[i] = ROOT_TEXT[i % (sizeof(ROOT_TEXT) - 1)];
	sec_pub_path(dir, sizeof(dir), "map-files-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755))
		sec_bail("mkdtemp: %s", strerror(errno));
	snprintf(root_file, sizeof(root_file), "%s/root-file", dir);
	fd = open(root_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 ||
	    write(fd, original, sizeof(original)) !=
		    (ssize_t)sizeof(original) ||
	    fchown(fd, 0, 0))
		sec_bail("writing %s: %s", root_file, strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	int status, fd;

	sec_init(argc, argv);
	st = sec_shared(sizeof(*st));
	make_root_file();
	status = sec_run_as(&sec_attacker, attacker, NULL, TIME_BUDGET_S + 60);
	sec_note("%lu iterations, %lu MAPs succeeded (last failure: %s), %lu "
		 "device writes reached the memfd, %lu swaps",
		 st->iterations, st->maps, strerror(st->last_map_err),
		 st->memfd_writes, st->swaps);
	check(status == 0,
	      "the attacker ran its race (exit status %d, step "
	      "%d: %s)",
	      status, st->step, strerror(st->err));
	fd = open(root_file, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && !file_changed(fd),
	      "the root-owned 0644 file is unchanged after %lu iterations%s",
	      st->iterations,
	      st->modified_at ? " (the device wrote it: the daemon mapped it "
				"writable)" :
				"");
	if (st->modified_at)
		sec_note("root file modified at iteration %lu",
			 st->modified_at);
	if (fd >= 0)
		close(fd);
	check(st->memfd_writes > 0 || st->modified_at,
	      "the race was live: device writes reached a mapped file");
	sec_check_serving("the map_files race");
	return sec_done();
}
