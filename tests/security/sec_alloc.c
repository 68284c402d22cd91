// SPDX-License-Identifier: MIT
/*
 * Finding 6: what a client sizes must not size the daemon. ALLOW_IOVAS
 * with 64M or 2^32-1 ranges (over 1 GiB of readable zeroes) must fail fast
 * with an errno, without the daemon's resident memory jumping; a MAP of a
 * 1 TiB (and a 64 TiB) memfd range with a 4 KiB COPY into an IOAS with a
 * mock domain must be answered as the kernel answers it (0) and leave the
 * daemon alive; and making objects or areas without bound must end in
 * ENOMEM from a per-context limit, long before the daemon is exhausted;
 * so must mapping thousands of distinct memfds, each of which holds a
 * descriptor in the daemon, while another user's MAP still works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define RANGES_BYTES (1ULL << 30) /* readable zeroes behind the ranges */
#define FAST_S 1.0 /* "fast": well below a second */
#define RSS_JUMP_KB (256UL << 10) /* what an ALLOW_IOVAS may cost */
/* Objects or areas tried before giving up: a default limit of 2^20 passes. */
#define UNBOUNDED_MAX ((1UL << 20) + 1)
#define UNBOUNDED_RSS_KB (512UL << 10) /* daemon growth allowed before ENOMEM */
#define MIB (1ULL << 20)

struct result {
	int step, err;
	double baseline_s, elapsed_s;
	int ret; /* the answer under test, 0 or errno */
	int copy_ret;
	unsigned long made; /* objects or areas made before the error */
	long rss_growth_kb; /* daemon growth at the end of the loop */
};

static struct result *res;
static uint32_t num_iovas;
static uint64_t huge_len;

static int open_with_ioas(uint32_t *ioas)
{
	int fd;

	res->step = 1;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		res->err = errno;
		return -1;
	}
	res->step = 2;
	res->err = (int)-sec_ioas_alloc(fd, ioas);
	return res->err ? -1 : fd;
}

static int allow_iovas(void *arg)
{
	uint32_t ioas;
	double t0;
	char *ranges;
	int fd = open_with_ioas(&ioas);

	(void)arg;
	if (fd < 0)
		return 1;
	res->step = 3;
	/* Zero pages to read, then nothing: the count can claim far more. */
	ranges = mmap(NULL, RANGES_BYTES + SEC_PAGE, PROT_READ,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ranges == MAP_FAILED || munmap(ranges + RANGES_BYTES, SEC_PAGE))
		return res->err = errno, 1;
	t0 = sec_now();
	for (int i = 0; i < 10; i++)
		sec_allow_iovas(fd, ioas, 0, 0);
	res->baseline_s = (sec_now() - t0) / 10;
	t0 = sec_now();
	res->ret = (int)-sec_allow_iovas(fd, ioas, num_iovas,
					 (uint64_t)(uintptr_t)ranges);
	res->elapsed_s = sec_now() - t0;
	res->step = 4;
	return 0;
}

static void test_allow_iovas(uint32_t num)
{
	long hwm0, hwm1;
	int st;

	memset(res, 0, sizeof(*res));
	num_iovas = num;
	hwm0 = sec_daemon_peak_reset();
	st = sec_run_as(&sec_attacker, allow_iovas, NULL, 120);
	hwm1 = sec_daemon_kb("VmHWM");
	if (st != 0) {
		check(0,
		      "ALLOW_IOVAS num_iovas=%u was answered (exit status "
		      "%d, step %d: %s)",
		      num, st, res->step, strerror(res->err));
		return;
	}
	check(res->ret != 0 && res->elapsed_s < FAST_S,
	      "ALLOW_IOVAS num_iovas=%u fails fast with an errno (%s after "
	      "%.3f s; an empty ALLOW_IOVAS takes %.6f s)",
	      num, res->ret ? strerror(res->ret) : "0", res->elapsed_s,
	      res->baseline_s);
	check(hwm0 >= 0 && hwm1 - hwm0 < (long)RSS_JUMP_KB,
	      "and the daemon's peak RSS grew by %ld MiB (at most %lu)",
	      (hwm1 - hwm0) >> 10, RSS_JUMP_KB >> 10);
}

/* The issue-12 reproducer, with @huge_len in place of 1 TiB. */
static int huge_copy(void *arg)
{
	uint64_t iova = 16 * MIB, dst_iova = 16 * MIB;
	const uint32_t fixed = SEC_MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA;
	uint32_t src, dst;
	void *mem;
	int fd = open_with_ioas(&src), memfd;

	(void)arg;
	if (fd < 0)
		return 1;
	res->step = 3;
	memfd = memfd_create("huge", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)huge_len))
		return res->err = errno, 1;
	mem = mmap(NULL, huge_len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_NORESERVE, memfd, 0);
	if (mem == MAP_FAILED)
		return res->err = errno, 1;
	res->step = 4;
	if ((res->err = (int)-sec_map(fd, src, mem, huge_len, &iova, fixed)))
		return 1;
	res->step = 5;
	if ((res->err = (int)-sec_ioas_alloc(fd, &dst)) ||
	    (res->err = (int)-sec_mock_domain(fd, dst, NULL)))
		return 1;
	res->step = 6;
	res->copy_ret = (int)-sec_copy(fd, dst, src, 16 * MIB, SEC_PAGE,
				       &dst_iova, fixed);
	return 0;
}

static void test_huge_copy(uint64_t len)
{
	int st;

	memset(res, 0, sizeof(*res));
	huge_len = len;
	st = sec_run_as(&sec_attacker, huge_copy, NULL, 60);
	check(st == 0 && res->copy_ret == 0,
	      "MAP of a %llu GiB memfd range, then a 4 KiB COPY into an IOAS "
	      "with a mock domain, answers 0 as the kernel does (exit status "
	      "%d, step %d: %s; COPY: %s)",
	      (unsigned long long)(len >> 30), st, res->step,
	      strerror(res->err), strerror(res->copy_ret));
	check(sec_daemon_alive(), "the daemon survives the %llu GiB COPY",
	      (unsigned long long)(len >> 30));
}

/* Make objects (IOASes) or areas (MAPs of one page) until refused. */
static int unbounded(void *arg)
{
	bool areas = arg;
	long rss0 = sec_daemon_kb("VmRSS");
	uint32_t ioas, id;
	uint64_t iova;
	void *page;
	int fd = open_with_ioas(&ioas);

	if (fd < 0)
		return 1;
	page = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return res->err = errno, 1;
	res->step = 3;
	for (res->made = 0; res->made < UNBOUNDED_MAX; res->made++) {
		long ret;

		iova = 0;
		ret = areas ? sec_map(fd, ioas, page, SEC_PAGE, &iova, 0) :
			      sec_ioas_alloc(fd, &id);
		if (ret) {
			res->ret = (int)-ret;
			break;
		}
		if (res->made % 4096 == 0 &&
		    sec_daemon_kb("VmRSS") - rss0 > (long)UNBOUNDED_RSS_KB)
			break;
	}
	res->rss_growth_kb = sec_daemon_kb("VmRSS") - rss0;
	return 0;
}

static void test_unbounded(bool areas)
{
	const char *what = areas ? "areas (MAPs of one page)" :
				   "objects (IOAS_ALLOC)";
	double t0 = sec_now();
	int st;

	memset(res, 0, sizeof(*res));
	st = sec_run_as(&sec_attacker, unbounded, (void *)areas, 600);
	check(st == 0 && res->ret == ENOMEM &&
		      res->rss_growth_kb < (long)UNBOUNDED_RSS_KB,
	      "making %s without bound ends in ENOMEM before the daemon grows "
	      "by %lu MiB (%lu made in %.1f s, then %s; daemon grew %ld MiB; "
	      "exit status %d)",
	      what, UNBOUNDED_RSS_KB >> 10, res->made, sec_now() - t0,
	      res->ret ? strerror(res->ret) : "no error",
	      res->rss_growth_kb >> 10, st);
}

/* Memory files a user may make the daemon hold, tried up to this many. */
#define FILES_MAX (1UL << 16)

struct files_run {
	unsigned long made; /* distinct memfds mapped before the refusal */
	int ret; /* the refusal's errno, or 0 */
	int err; /* a set-up error */
	int cmd[2], ack[2];
};

/* MAP one page of a new memfd into @ioas; 0 or -errno. */
static long map_memfd(int fd, uint32_t ioas)
{
	void *mem = sec_memfd_page();
	uint64_t iova = 0;

	return mem ? sec_map(fd, ioas, mem, SEC_PAGE, &iova, 0) : -errno;
}

/* Map distinct memfds until refused; hold them until told 'q'. */
static int many_files(void *arg)
{
	struct files_run *r = arg;
	uint32_t ioas;
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	long ret = 0;

	if (fd < 0 || (r->err = (int)-sec_ioas_alloc(fd, &ioas))) {
		r->err = r->err ? r->err : errno;
		sec_tell(r->ack[1], 'E');
		return 1;
	}
	for (r->made = 0; r->made < FILES_MAX; r->made++)
		if ((ret = map_memfd(fd, ioas)))
			break;
	r->ret = (int)-ret;
	sec_tell(r->ack[1], 'D');
	sec_hear(r->cmd[0], 120);
	return 0;
}

static int one_file(void *arg)
{
	uint32_t ioas;
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC), *ret = arg;

	if (fd < 0)
		return *ret = errno, 1;
	*ret = (int)-sec_ioas_alloc(fd, &ioas);
	if (!*ret)
		*ret = (int)-map_memfd(fd, ioas);
	return 0;
}

/* The daemon's soft and hard limits of open files, from its limits. */
static void daemon_nofile(long *soft, long *hard)
{
	char path[64], line[256];
	FILE *f;

	*soft = *hard = -1;
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)sec_daemon_pid());
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Max open files %ld %ld", soft, hard) == 2)
			break;
	if (f)
		fclose(f);
}

/*
 * Each memory file a client maps holds a descriptor in the daemon: one
 * user mapping thousands of memfds must be refused by its own budget
 * (ENOMEM), not exhaust the daemon's descriptors so that another user's
 * MAP fails.
 */
static void test_many_files(void)
{
	struct files_run *r = sec_shared(sizeof(*r));
	int *victim = sec_shared(sizeof(*victim));
	long soft, hard;
	pid_t pid;
	int st;

	daemon_nofile(&soft, &hard);
	check(soft > 0 && soft == hard,
	      "the daemon runs with its hard limit of open files (soft %ld, "
	      "hard %ld)",
	      soft, hard);
	if (pipe(r->cmd) || pipe(r->ack))
		sec_bail("pipe: %s", strerror(errno));
	pid = sec_spawn(&sec_attacker, many_files, r);
	st = sec_hear(r->ack[0], 600);
	check(st == 'D' && r->ret == ENOMEM && r->made < (unsigned long)soft,
	      "mapping distinct memfds without bound ends in ENOMEM before the "
	      "daemon's descriptors run out (%lu mapped, then %s; set-up: %s)",
	      r->made, r->ret ? strerror(r->ret) : "no error",
	      strerror(r->err));
	st = sec_run_as(&sec_other, one_file, victim, 60);
	check(st == 0 && *victim == 0,
	      "meanwhile another user maps a memfd of its own (%s)",
	      strerror(*victim));
	sec_tell(r->cmd[1], 'q');
	sec_wait(pid, 60);
	munmap(victim, sizeof(*victim));
	munmap(r, sizeof(*r));
}

int main(int argc, char **argv)
{
	sec_init(argc, argv);
	res = sec_shared(sizeof(*res));
	test_allow_iovas(64U << 20);
	sec_check_serving("ALLOW_IOVAS with 64M ranges");
	test_allow_iovas(UINT32_MAX);
	sec_check_serving("ALLOW_IOVAS with 2^32-1 ranges");
	test_unbounded(false);
	sec_check_serving("unbounded objects");
	test_unbounded(true);
	sec_check_serving("unbounded areas");
	test_huge_copy(1ULL << 40);
	sec_check_serving("the 1 TiB COPY");
	test_huge_copy(1ULL << 46);
	sec_check_serving("the 64 TiB COPY");
	test_many_files();
	sec_check_serving("a user's thousands of memory files");
	return sec_done();
}
