// SPDX-License-Identifier: MIT
/*
 * Finding 8, second half: "DMA goes to the current virtual address, so
 * munmap or mremap silently retarget it". A private page is mapped into an
 * IOAS with a mock domain; its owner then unmaps it and maps a new page at
 * the same address. The kernel's pin keeps the device on the old page; the
 * issue asks that mapping swaps cannot retarget DMA, and that where a
 * broker cannot keep the old page, DMA fails with an error. So the device
 * may fail or reach the old page, but must neither read nor write the new
 * one.
 *
 * A broker in user space cannot hold a private page the way a kernel pin
 * does: iommufdd reaches whatever the caller has at that address when the
 * DMA happens. Between the munmap and the new mmap, DMA must fail; once
 * the caller has mapped new memory of its own there, iommufdd reaches it.
 * That is a known divergence (iommufdd(8), "Private memory"), reported as
 * TODO rather than hidden. The new page is the caller's own: reaching
 * another process's memory is sec_exec_dma.c's concern, and fails there.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define SWAP_TODO                                                       \
	"a broker cannot pin private memory; DMA reaches the caller's " \
	"own new page (iommufdd(8), Private memory)"

struct result {
	int step, err;
	int unmapped_read_err; /* DMA while nothing is mapped there */
	int read_err, write_err;
	bool read_new, write_new; /* the device reached the new page */
};

static struct result *res;

static bool all_bytes(const char *p, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

static int swap_under_dma(int fd, uint32_t ioas, uint32_t idev)
{
	static char got[SEC_PAGE], pattern[SEC_PAGE];
	uint64_t iova = 0;
	char *page;

	page = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return res->err = errno, 1;
	memset(page, 'A', SEC_PAGE);
	res->step = 3;
	if ((res->err = (int)-sec_map(fd, ioas, page, SEC_PAGE, &iova, 0)))
		return 1;
	/* The owner unmaps its page; a new one takes its address. */
	res->step = 4;
	if (munmap(page, SEC_PAGE))
		return res->err = errno, 1;
	res->unmapped_read_err =
		(int)-sec_dev_dma(fd, idev, iova, got, SEC_PAGE, false);
	if (mmap(page, SEC_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) != (void *)page)
		return res->err = errno, 1;
	memset(page, 'B', SEC_PAGE);
	res->read_err = (int)-sec_dev_dma(fd, idev, iova, got, SEC_PAGE, false);
	res->read_new = !res->read_err && all_bytes(got, 'B', SEC_PAGE);
	memset(pattern, 'C', SEC_PAGE);
	res->write_err =
		(int)-sec_dev_dma(fd, idev, iova, pattern, SEC_PAGE, true);
	res->write_new = !all_bytes(page, 'B', SEC_PAGE);
	sec_unmap(fd, ioas, iova, SEC_PAGE);
	res->step = 5;
	return 0;
}

static int attacker(void *arg)
{
	uint32_t ioas, idev;
	int fd;

	(void)arg;
	res->step = 1;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return res->err = errno, 1;
	res->step = 2;
	if ((res->err = (int)-sec_ioas_alloc(fd, &ioas)) ||
	    (res->err = (int)-sec_mock_domain(fd, ioas, &idev)))
		return 1;
	return swap_under_dma(fd, ioas, idev);
}

int main(int argc, char **argv)
{
	int st;

	sec_init(argc, argv);
	res = sec_shared(sizeof(*res));
	st = sec_run_as(&sec_attacker, attacker, NULL, 60);
	check(st == 0, "the attack ran (exit status %d, step %d: %s)", st,
	      res->step, strerror(res->err));
	if (st == 0) {
		check(res->unmapped_read_err != 0,
		      "after munmap of a private page a domain maps, the "
		      "device's DMA fails (%s)",
		      strerror(res->unmapped_read_err));
		check_todo(!res->read_new, SWAP_TODO,
			   "after a new mmap at the same address, the device "
			   "does not read the new page (DMA %s)",
			   res->read_err ? strerror(res->read_err) :
					   "succeeded");
		check_todo(
			!res->write_new, SWAP_TODO,
			"and its write does not change the new page (DMA %s)",
			res->write_err ? strerror(res->write_err) :
					 "succeeded");
	}
	sec_check_serving("the page swap under DMA");
	return sec_done();
}
