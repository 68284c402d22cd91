// SPDX-License-Identifier: MIT
/*
 * Finding 11: an fd-returning ioctl whose struct cannot be written back
 * fails with EFAULT, as the kernel's copy_to_user makes it fail; it must
 * never return 0 without having told the caller its descriptor. Under
 * iommufd-run the attacker issues IOMMU_FAULT_QUEUE_ALLOC with its struct
 * on a read-only page (EFAULT), then again and again while another thread
 * makes the page read-only the moment the daemon's first write to the
 * struct shows, i.e. before the descriptor number is written: every
 * return of 0 must come with a valid descriptor in the struct.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define ROUNDS 2000
#define SENTINEL 0x5a5a5a5aU

struct result {
	bool done;
	int readonly_err; /* the struct on a read-only page from the start */
	unsigned int rounds, efault, ok_with_fd, other_err;
	unsigned int flipped; /* read-only while the ioctl was in flight */
	unsigned int
		zero_without_fd; /* returned 0, no descriptor in the struct */
	uint32_t bad_fd_value;
	int last_other_err;
};

/* FLIPPED: while the ioctl was still in flight; LATE: after it returned. */
enum { IDLE, ARMED, FLIPPED, LATE, MISSED };

struct flipper {
	char *page;
	volatile struct iommu_fault_alloc *cmd;
	atomic_int state;
	atomic_bool cancel, quit;
};

/* Once armed: make the page read-only as soon as the daemon wrote to it. */
static void *flip(void *arg)
{
	struct flipper *f = arg;

	while (!atomic_load(&f->quit)) {
		if (atomic_load(&f->state) != ARMED)
			continue;
		while (f->cmd->out_fault_fd == SENTINEL &&
		       !atomic_load(&f->cancel))
			;
		if (f->cmd->out_fault_fd != SENTINEL) {
			bool in_flight = !atomic_load(&f->cancel);

			mprotect(f->page, SEC_PAGE, PROT_READ);
			atomic_store(&f->state, in_flight ? FLIPPED : LATE);
		} else {
			atomic_store(&f->state, MISSED);
		}
	}
	return NULL;
}

static void one_round(int fd, struct flipper *f, struct result *r)
{
	struct iommu_fault_alloc *cmd = (void *)f->page;
	int ret;

	mprotect(f->page, SEC_PAGE, PROT_READ | PROT_WRITE);
	*cmd = (struct iommu_fault_alloc){ .size = sizeof(*cmd),
					   .out_fault_fd = SENTINEL };
	atomic_store(&f->cancel, false);
	atomic_store(&f->state, ARMED);
	ret = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, cmd) ? errno : 0;
	atomic_store(&f->cancel, true);
	while (atomic_load(&f->state) == ARMED)
		;
	r->flipped += atomic_load(&f->state) == FLIPPED;
	atomic_store(&f->state, IDLE);
	mprotect(f->page, SEC_PAGE, PROT_READ | PROT_WRITE);
	r->rounds++;
	if (ret == EFAULT) {
		r->efault++;
	} else if (ret) {
		r->other_err++;
		r->last_other_err = ret;
	} else if (cmd->out_fault_fd != SENTINEL &&
		   fcntl((int)cmd->out_fault_fd, F_GETFD) >= 0 &&
		   (int)cmd->out_fault_fd != fd) {
		r->ok_with_fd++;
		close((int)cmd->out_fault_fd);
		sec_destroy(fd, cmd->out_fault_id);
	} else {
		r->zero_without_fd++;
		r->bad_fd_value = cmd->out_fault_fd;
	}
}

static int role_attacker(void)
{
	struct result r = { .readonly_err = -1 };
	struct flipper f = { 0 };
	pthread_t thread;
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC);

	f.page = mmap(NULL, SEC_PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || f.page == MAP_FAILED)
		return 1;
	f.cmd = (void *)f.page;
	*(struct iommu_fault_alloc *)f.page =
		(struct iommu_fault_alloc){ .size = sizeof(*f.cmd) };
	mprotect(f.page, SEC_PAGE, PROT_READ);
	r.readonly_err = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, f.page) ? errno : 0;
	if (pthread_create(&thread, NULL, flip, &f))
		return 1;
	for (int i = 0; i < ROUNDS && !r.zero_without_fd; i++)
		one_round(fd, &f, &r);
	atomic_store(&f.quit, true);
	pthread_join(thread, NULL);
	r.done = true;
	sec_role_reply(&r, sizeof(r));
	return 0;
}

int main(int argc, char **argv)
{
	const char *role = sec_role(argc, argv);
	struct result r;
	int rfd, st;
	pid_t pid;

	if (role)
		return role_attacker();
	sec_init(argc, argv);
	pid = sec_role_start(&sec_attacker, true, "attacker", -1, &rfd);
	st = sec_role_finish(pid, rfd, &r, sizeof(r), 120);
	check(st == 0 && r.done, "the attack ran (exit status %d)", st);
	check(r.done && r.readonly_err == EFAULT,
	      "FAULT_QUEUE_ALLOC with its struct on a read-only page is "
	      "EFAULT (%s)",
	      !r.done || r.readonly_err < 0 ? "not run" :
	      r.readonly_err		    ? strerror(r.readonly_err) :
					      "it returned 0");
	sec_note("%u rounds: page made read-only after the daemon's first "
		 "write while the ioctl was in flight in %u; EFAULT %u, 0 "
		 "with a descriptor %u, other errors %u (last %s)",
		 r.rounds, r.flipped, r.efault, r.ok_with_fd, r.other_err,
		 strerror(r.last_other_err));
	check(r.done && r.zero_without_fd == 0,
	      "no round returned 0 without a descriptor in the struct (%u "
	      "did%s)",
	      r.zero_without_fd,
	      r.zero_without_fd ? "; out_fault_fd read back" : "");
	if (r.zero_without_fd)
		sec_note("out_fault_fd after a 0 return: %#x", r.bad_fd_value);
	check(r.flipped > 0 || r.zero_without_fd,
	      "the race was live: the page went read-only between the "
	      "daemon's writes");
	sec_check_serving("the read-only copy-back");
	return sec_done();
}
