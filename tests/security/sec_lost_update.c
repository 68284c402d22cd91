// SPDX-License-Identifier: MIT
/*
 * Finding 8 (and the lost-update test): pinning private memory
 * must never lose a write. One thread increments every word of a private
 * buffer, pass after pass, while another maps and unmaps the buffer into
 * an IOAS with a mock domain 1000 times; afterwards every word must equal
 * the number of passes. (sec_retarget.c has the finding's other half.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define BUF_PAGES 256
#define BUF_WORDS (BUF_PAGES * SEC_PAGE / sizeof(uint64_t))
#define MAP_ROUNDS 1000

struct result {
	int step, err;
	uint64_t passes, bad_words, lost;
	unsigned int map_errors;
	int last_map_err;
};

static struct result *res;

struct incrementer {
	volatile uint64_t *words;
	atomic_bool stop;
	uint64_t passes;
};

static void *increment(void *arg)
{
	struct incrementer *inc = arg;

	while (!atomic_load(&inc->stop)) {
		for (size_t i = 0; i < BUF_WORDS; i++)
			inc->words[i]++;
		inc->passes++;
	}
	return NULL;
}

static void lost_updates(int fd, uint32_t ioas)
{
	struct incrementer inc = { 0 };
	pthread_t thread;
	uint64_t *buf;

	buf = mmap(NULL, BUF_PAGES * SEC_PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		res->err = errno;
		return;
	}
	memset(buf, 0, BUF_PAGES * SEC_PAGE);
	inc.words = buf;
	if ((res->err = pthread_create(&thread, NULL, increment, &inc)))
		return;
	for (unsigned int i = 0; i < MAP_ROUNDS; i++) {
		uint64_t iova = 0;
		long ret =
			sec_map(fd, ioas, buf, BUF_PAGES * SEC_PAGE, &iova, 0);

		if (ret) {
			res->map_errors++;
			res->last_map_err = (int)-ret;
			continue;
		}
		sec_unmap(fd, ioas, iova, BUF_PAGES * SEC_PAGE);
	}
	atomic_store(&inc.stop, true);
	pthread_join(thread, NULL);
	res->passes = inc.passes;
	for (size_t i = 0; i < BUF_WORDS; i++) {
		if (buf[i] != inc.passes) {
			res->bad_words++;
			res->lost += inc.passes - buf[i];
		}
	}
}

static int attacker(void *arg)
{
	uint32_t ioas;
	int fd;

	(void)arg;
	res->step = 1;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return res->err = errno, 1;
	res->step = 2;
	if ((res->err = (int)-sec_ioas_alloc(fd, &ioas)) ||
	    (res->err = (int)-sec_mock_domain(fd, ioas, NULL)))
		return 1;
	res->step = 3;
	lost_updates(fd, ioas);
	if (res->err)
		return 1;
	res->step = 4;
	return 0;
}

int main(int argc, char **argv)
{
	int st;

	sec_init(argc, argv);
	res = sec_shared(sizeof(*res));
	st = sec_run_as(&sec_attacker, attacker, NULL, 300);
	check(st == 0, "the attack ran (exit status %d, step %d: %s)", st,
	      res->step, strerror(res->err));
	check(res->map_errors == 0,
	      "%d MAPs of a %d-page private buffer into a mock domain "
	      "succeeded (%u failed, last: %s)",
	      MAP_ROUNDS, BUF_PAGES, res->map_errors,
	      strerror(res->last_map_err));
	check(res->passes > 0 && res->bad_words == 0,
	      "no increment was lost: all %zu words equal the %llu passes "
	      "(%llu words short by %llu increments in all)",
	      BUF_WORDS, (unsigned long long)res->passes,
	      (unsigned long long)res->bad_words,
	      (unsigned long long)res->lost);
	sec_check_serving("the lost-update race");
	return sec_done();
}
