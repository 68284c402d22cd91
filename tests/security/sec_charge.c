// SPDX-License-Identifier: MIT
/*
 * Finding 5: memory is charged against RLIMIT_MEMLOCK before it is touched,
 * and CAP_IPC_LOCK counts only in the initial user namespace. With a
 * 1 MiB limit, mapping a sparse 1 GiB memfd into an IOAS with a mock
 * domain attached must fail with ENOMEM and leave the memfd (almost)
 * unpopulated; the same from a user namespace of one's own ("unshare -r",
 * where the process holds every capability of that namespace) must be
 * limited just the same, as the kernel's capable() sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define MEMLOCK_LIMIT (1ULL << 20)
#define MEMFD_SIZE (1ULL << 30)
/* What the kernel may populate before its charge fails: a batch or two. */
#define POPULATED_MAX (8ULL << 20)

struct result {
	int step, err;
	int map_err;
	uint64_t populated; /* bytes of the memfd with memory behind them */
};

static int attacker(void *arg)
{
	struct rlimit lim = { MEMLOCK_LIMIT, MEMLOCK_LIMIT };
	struct result *r = arg;
	uint64_t iova = 0;
	uint32_t ioas;
	struct stat st;
	void *mem;
	int fd, memfd;
	bool in_userns = r->step;

	r->step = 1;
	if (setrlimit(RLIMIT_MEMLOCK, &lim))
		return r->err = errno, 1;
	if (in_userns) {
		r->step = 2;
		if ((r->err = -sec_enter_userns()))
			return 1;
	}
	r->step = 3;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return r->err = errno, 1;
	r->step = 4;
	if ((r->err = (int)-sec_ioas_alloc(fd, &ioas)) ||
	    (r->err = (int)-sec_mock_domain(fd, ioas, NULL)))
		return 1;
	r->step = 5;
	memfd = memfd_create("sparse", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEMFD_SIZE))
		return r->err = errno, 1;
	mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		   0);
	if (mem == MAP_FAILED)
		return r->err = errno, 1;
	r->step = 6;
	r->map_err = (int)-sec_map(fd, ioas, mem, MEMFD_SIZE, &iova, 0);
	if (fstat(memfd, &st))
		return r->err = errno, 1;
	r->populated = (uint64_t)st.st_blocks * 512;
	r->step = 7;
	return 0;
}

static void run(bool in_userns, const char *who)
{
	struct result *r = sec_shared(sizeof(*r));
	int status;

	r->step = in_userns;
	status = sec_run_as(&sec_attacker, attacker, r, 120);
	if (status != 0) {
		check(0, "%s: the attack ran (exit status %d, step %d: %s)",
		      who, status, r->step, strerror(r->err));
		return;
	}
	check(r->map_err == ENOMEM,
	      "%s: MAP of a 1 GiB memfd under RLIMIT_MEMLOCK 1 MiB with a "
	      "domain attached is ENOMEM (%s)",
	      who, r->map_err ? strerror(r->map_err) : "it succeeded");
	check(r->populated <= POPULATED_MAX,
	      "%s: the memfd stays unpopulated (%llu KiB populated, at most "
	      "%llu allowed)",
	      who, (unsigned long long)(r->populated >> 10),
	      (unsigned long long)(POPULATED_MAX >> 10));
	munmap(r, sizeof(*r));
}

int main(int argc, char **argv)
{
	const char *no_userns;

	sec_init(argc, argv);
	run(false, "a user");
	sec_check_serving("the over-limit MAP");
	no_userns = sec_userns_unavailable();
	if (no_userns) {
		sec_skip(
			no_userns,
			"root of a user namespace (unshare -r) is charged too");
		return sec_done();
	}
	run(true, "root of a user namespace (unshare -r)");
	sec_check_serving("the over-limit MAP from a user namespace");
	return sec_done();
}
