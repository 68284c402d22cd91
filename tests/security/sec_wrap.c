// SPDX-License-Identifier: MIT
/*
 * Finding 4: index arithmetic that wraps. An IOAS_MAP of user_va in
 * [2, 4095] with length SIZE_MAX - PAGE_SIZE describes more pages than a
 * 64-bit count holds; a page-aligned part of it copied into an IOAS with
 * an access that pins (MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) and then
 * pinned with ACCESS_PAGES must get an errno for whatever cannot be done
 * (nothing is mapped at those addresses), and the
 * daemon must survive without corrupting its heap (run this also against
 * the sanitizer build: variant "asan"). Needs iommufd-run for the access.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommufd/iommufd_test.h>

#include "sec.h"
#include "sec_ioctl.h"

#define WRAP_LENGTH (UINT64_MAX - SEC_PAGE)
#define COPY_LENGTH (1UL << 20)

static const uint64_t wrap_vas[] = { 2, 0x800, 4095 };
#define NR_VAS (sizeof(wrap_vas) / sizeof(wrap_vas[0]))

/* What each step answered (0 or errno), per user_va; -1: not reached. */
struct result {
	int open_err;
	int map[NR_VAS], access[NR_VAS], copy[NR_VAS], pages[NR_VAS];
	bool finished;
};

static void attack_one(int fd, unsigned int i, struct result *r)
{
	/* At its own page offset: nothing else fits such a length. */
	uint64_t iova = wrap_vas[i], dst_iova = 0;
	/* A page-aligned part, as an IOAS with a pinning access needs. */
	uint64_t part = (wrap_vas[i] + SEC_PAGE) & ~(SEC_PAGE - 1);
	uint32_t src, dst;
	int afd = -1;

	if (sec_ioas_alloc(fd, &src) || sec_ioas_alloc(fd, &dst))
		return;
	r->map[i] = (int)-sec_map_raw(fd, src, wrap_vas[i], WRAP_LENGTH, &iova,
				      SEC_MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	r->access[i] = (int)-sec_create_access(
		fd, dst, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, &afd);
	if (!r->map[i] && !r->access[i]) {
		r->copy[i] = (int)-sec_copy(fd, dst, src, part, COPY_LENGTH,
					    &dst_iova, 0);
		/* Pin a page well past the first: pins[] had one entry. */
		if (!r->copy[i])
			r->pages[i] = (int)-sec_access_pages(
				fd, afd, dst_iova + 16 * SEC_PAGE, SEC_PAGE, 0,
				NULL);
	}
	if (afd >= 0)
		close(afd);
	sec_destroy(fd, dst);
	sec_destroy(fd, src);
}

static int role_attacker(void)
{
	struct result r;
	int fd;

	memset(&r, -1, sizeof(r));
	r.finished = false;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	r.open_err = fd < 0 ? errno : 0;
	if (fd >= 0)
		for (unsigned int i = 0; i < NR_VAS; i++)
			attack_one(fd, i, &r);
	r.finished = true;
	sec_role_reply(&r, sizeof(r));
	return 0;
}

static const char *answer(int err)
{
	return err < 0 ? "not reached" : err ? strerror(err) : "0";
}

int main(int argc, char **argv)
{
	const char *role = sec_role(argc, argv);
	struct result r;
	char hit[512] = "";
	int rfd, st;
	pid_t pid;

	if (role)
		return role_attacker();
	sec_init(argc, argv);
	pid = sec_role_start(&sec_attacker, true, "attacker", -1, &rfd);
	st = sec_role_finish(pid, rfd, &r, sizeof(r), 60);
	check(st == 0 && r.finished,
	      "every step of the wrapping sequence was answered (exit status "
	      "%d)",
	      st);
	for (unsigned int i = 0; r.finished && i < NR_VAS; i++)
		sec_note("user_va %#llx length SIZE_MAX-4096: MAP %s, "
			 "CREATE_ACCESS %s, COPY %s, ACCESS_PAGES %s",
			 (unsigned long long)wrap_vas[i], answer(r.map[i]),
			 answer(r.access[i]), answer(r.copy[i]),
			 answer(r.pages[i]));
	for (unsigned int i = 0; r.finished && i < NR_VAS; i++)
		check(r.access[i] == 0,
		      "the pinning access for user_va %#llx was created (%s)",
		      (unsigned long long)wrap_vas[i], answer(r.access[i]));
	sec_check_serving("the wrapping MAP/COPY/ACCESS_PAGES");
	if (getenv("SECURITY_DAEMON_LOG")) {
		bool report = sec_daemon_log_reports(0, hit, sizeof(hit)) > 0;

		check(!report, "no sanitizer report in the daemon's log%s%s",
		      report ? ": " : "", hit);
	}
	return sec_done();
}
