// SPDX-License-Identifier: MIT
/*
 * IOMMU_IOAS_CHANGE_PROCESS through the core's real entry point, as
 * test_core.c drives it: this test's thread maps, and forked children,
 * parked in a pipe read as a caller is parked in its request, call the
 * ioctl as the new owner (the argument struct is at the same address in
 * their copy of our memory). The daemon's charge ledger
 * (account_for_each_charge, what iommufdctl pages shows) says who pays
 * for what. Needs root (map_files, other processes' memory); skips
 * otherwise.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#include "abi.h"
#include "account.h"
#include "cannot_run.h"
#include "core.h"
#include "iommufd_private.h"
#include "pages.h"

#define NPAGES 8
#define NOBODY 65534

static struct ucaller self;
static struct iommufd_ctx *ctx;
static int memfd;
/* Global, so that a forked caller finds it at the same address. */
static struct iommu_ioas_change_process change_cmd = {
	.size = sizeof(change_cmd),
};

static long ioc_as(const struct ucaller *caller, unsigned int cmd, void *arg)
{
	return iommufd_ctx_ioctl(ctx, caller, cmd, (uint64_t)(uintptr_t)arg);
}

static long ioc(unsigned int cmd, void *arg)
{
	return ioc_as(&self, cmd, arg);
}

/* ---- who pays ------------------------------------------------------------ */

struct charge_query {
	bool per_process;
	unsigned int key;
	uint64_t pages, total;
};

static void charge_seen(void *arg, bool per_process, unsigned int key,
			uint64_t pages)
{
	struct charge_query *q = arg;

	q->total += pages;
	if (per_process == q->per_process && key == q->key)
		q->pages += pages;
}

/* Pages charged to process @pid (per-process mode). */
static uint64_t charged_pid(pid_t pid)
{
	struct charge_query q = { .per_process = true, .key = (unsigned)pid };

	account_for_each_charge(charge_seen, &q);
	return q.pages;
}

static uint64_t charged_uid(uid_t uid)
{
	struct charge_query q = { .per_process = false, .key = uid };

	account_for_each_charge(charge_seen, &q);
	return q.pages;
}

static uint64_t charged_total(void)
{
	struct charge_query q = { 0 };

	account_for_each_charge(charge_seen, &q);
	return q.total;
}

/* The process that owns the mapping at @iova of IOAS @ioas_id. */
static pid_t owner_of(uint32_t ioas_id, uint64_t iova)
{
	struct iommufd_ioas *ioas = iommufd_get_ioas(ctx, ioas_id);
	struct iopt_area *area;
	pid_t pid;

	assert_non_null(ioas);
	area = iopt_area_first(&ioas->iopt, iova, iova);
	assert_non_null(area);
	assert_non_null(area->mapper);
	pid = mapper_tgid(area->mapper);
	iommufd_put_object(ctx, &ioas->obj);
	return pid;
}

/* ---- CAP_IPC_LOCK: its holder is never charged ---------------------- */

static int set_cap_ipc_lock(bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	const uint32_t bit = 1U << (CAP_IPC_LOCK % 32);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (on)
		data[CAP_IPC_LOCK / 32].effective |= bit;
	else
		data[CAP_IPC_LOCK / 32].effective &= ~bit;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* ---- another process as the caller ----------------------------------- */

struct child_opts {
	uint64_t memlock_pages; /* 0: as inherited */
	uid_t uid; /* 0: stay root */
	bool cap_ipc_lock;
};

struct child {
	struct ucaller caller;
	int go_fd; /* closing it lets the child exit */
};

/*
 * Fork a process set up as @o says, parked in a read until child_stop():
 * it is a caller that stays put, as one held in its request does.
 */
static void child_start(struct child *c, const struct child_opts *o)
{
	int ready[2], go[2];
	char byte = 0;
	pid_t pid;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit lim = { o->memlock_pages * PAGE_SIZE,
				      o->memlock_pages * PAGE_SIZE };

		close(ready[0]);
		close(go[1]);
		if (o->memlock_pages && setrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(2);
		if (set_cap_ipc_lock(o->cap_ipc_lock))
			_exit(3);
		if (o->uid && setresuid(o->uid, o->uid, o->uid))
			_exit(4);
		if (write(ready[1], &byte, 1) != 1)
			_exit(5);
		while (read(go[0], &byte, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	c->caller = (struct ucaller){ .pid = pid, .uid = o->uid };
	c->go_fd = go[1];
}

static void child_stop(struct child *c)
{
	int status;

	close(c->go_fd);
	assert_int_equal(waitpid(c->caller.pid, &status, 0), c->caller.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static long change_process_as(const struct ucaller *caller)
{
	change_cmd.__reserved = 0;
	return ioc_as(caller, IOMMU_IOAS_CHANGE_PROCESS, &change_cmd);
}

/* ---- fixtures --------------------------------------------------------- */

static int setup_ctx(bool per_process)
{
	ctx = iommufd_ctx_open(&self);
	if (!ctx)
		return -1;
	/*
	 * What IOMMU_OPTION_RLIMIT_MODE 1 sets; the option itself needs
	 * CAP_SYS_RESOURCE, which build machines may lack.
	 */
	ctx->account_mm = per_process;
	/* Charged unless a test says otherwise. */
	return set_cap_ipc_lock(false);
}

static int setup_per_user(void **state)
{
	(void)state;
	return setup_ctx(false);
}

static int setup_per_process(void **state)
{
	(void)state;
	return setup_ctx(true);
}

static int teardown(void **state)
{
	(void)state;
	iommufd_ctx_release(ctx);
	/* Whoever owned them last, the pins and their charges are gone. */
	assert_int_equal(pages_pinned_total(), 0);
	assert_int_equal(charged_total(), 0);
	return set_cap_ipc_lock(true);
}

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	assert_int_equal(ioc(IOMMU_IOAS_ALLOC, &cmd), 0);
	return cmd.out_ioas_id;
}

static uint32_t mock_domain(uint32_t ioas)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas,
	};

	assert_int_equal(ioc(IOMMU_TEST_CMD, &cmd), 0);
	return cmd.mock_domain.out_stdev_id;
}

/* MAP_FILE of pages [first, first + n) of the memfd, at a fixed IOVA. */
static uint64_t map_file(uint32_t ioas, uint64_t first, uint64_t n,
			 uint64_t iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = memfd,
		.start = first * PAGE_SIZE,
		.length = n * PAGE_SIZE,
		.iova = iova,
	};

	assert_int_equal(ioc(IOMMU_IOAS_MAP_FILE, &cmd), 0);
	return cmd.iova;
}

static long unmap_all(uint32_t ioas)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.length = UINT64_MAX,
	};

	return ioc(IOMMU_IOAS_UNMAP, &cmd);
}

static long copy(uint32_t dst, uint32_t src, uint64_t iova, uint64_t length)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = length,
		.dst_iova = iova,
		.src_iova = iova,
	};

	return ioc(IOMMU_IOAS_COPY, &cmd);
}

static const struct iommufd_access_ops pin_forever_ops = { 0 };

/* An in-daemon access (a HW queue's kind: no unmap callback) on @ioas. */
static struct iommufd_access *access_on(uint32_t ioas)
{
	unsigned int id;
	struct iommufd_access *access =
		iommufd_access_create(ctx, &pin_forever_ops, NULL, true, &id);

	assert_non_null(access);
	assert_int_equal(iommufd_access_attach(access, ioas), 0);
	return access;
}

#define IOVA MOCK_APERTURE_START

static long map_user(uint32_t ioas, void *va, uint64_t length, uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = length,
		.iova = iova,
	};

	return ioc(IOMMU_IOAS_MAP, &cmd);
}

static void pin(struct iommufd_access *access, uint64_t iova, uint64_t n)
{
	uint64_t paddrs[NPAGES];

	assert_int_equal(iommufd_access_pin_pages(access, iova, n * PAGE_SIZE,
						  paddrs, 0),
			 0);
}

/* ---- what is refused, and when ------------------------------------------ */

/* Size, tail and __reserved come first, as the kernel checks them. */
static void test_dispatcher_checks(void **state)
{
	uint32_t raw[4] = { 7, 0, 0, 0 };

	(void)state;
	assert_int_equal(ioc(IOMMU_IOAS_CHANGE_PROCESS, raw), -EINVAL);
	raw[0] = sizeof(raw);
	raw[3] = 1;
	assert_int_equal(ioc(IOMMU_IOAS_CHANGE_PROCESS, raw), -E2BIG);
	raw[3] = 0;
	/* A zero tail is what the short struct says: nothing mapped, fine. */
	assert_int_equal(ioc(IOMMU_IOAS_CHANGE_PROCESS, raw), 0);
	raw[1] = 1;
	assert_int_equal(ioc(IOMMU_IOAS_CHANGE_PROCESS, raw), -EOPNOTSUPP);

	/* IOASes without mappings: nothing to move, fine too. */
	ioas_alloc();
	mock_domain(ioas_alloc());
	assert_int_equal(change_process_as(&self), 0);
	assert_int_equal(charged_total(), 0);
}

/* 6.12 had no such command: ENOTTY, after the size word was read. */
static void test_abi_6_12_has_none(void **state)
{
	(void)state;
	iommufd_abi = ABI_6_12;
	assert_int_equal(change_process_as(&self), -ENOTTY);
	assert_int_equal(ioc(IOMMU_IOAS_CHANGE_PROCESS, NULL), -EFAULT);
	iommufd_abi = ABI_7_2;
	assert_int_equal(change_process_as(&self), 0);
}

/*
 * Any mapping of user memory, in any IOAS, refuses the whole move with
 * EINVAL: even one of the very file, mapped through its address, and even
 * a COPY of such a mapping whose source is gone. Nothing changes.
 */
static void test_user_memory_refused(void **state)
{
	uint32_t ioas = ioas_alloc(), ioas2 = ioas_alloc(),
		 ioas3 = ioas_alloc();
	void *va = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			memfd, 0);
	struct child c;

	(void)state;
	assert_true(va != MAP_FAILED);
	mock_domain(ioas);
	map_file(ioas, 0, 4, IOVA);
	assert_int_equal(map_user(ioas2, va, PAGE_SIZE, IOVA), 0);
	assert_int_equal(charged_pid(getpid()), 4);

	child_start(&c, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&c.caller), -EINVAL);
	assert_int_equal(charged_pid(getpid()), 4);
	assert_int_equal(charged_pid(c.caller.pid), 0);
	assert_int_equal(owner_of(ioas, IOVA), getpid());

	assert_int_equal(copy(ioas3, ioas2, IOVA, PAGE_SIZE), 0);
	assert_int_equal(unmap_all(ioas2), 0);
	assert_int_equal(change_process_as(&c.caller), -EINVAL);
	assert_int_equal(owner_of(ioas, IOVA), getpid());

	assert_int_equal(unmap_all(ioas3), 0);
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_pid(c.caller.pid), 4);
	assert_int_equal(charged_pid(getpid()), 0);
	child_stop(&c);
	munmap(va, PAGE_SIZE);
}

/* ---- moving the charge ------------------------------------------------- */

/*
 * Pages pinned for two IOASes (a COPY) and by an access, some twice, move
 * as one charge per page: to the caller, away from the old owner, once
 * however often they are pinned and however often the move is asked for.
 */
static void test_moves_exactly_once(void **state)
{
	uint32_t ioas = ioas_alloc(), ioas2 = ioas_alloc();
	struct iommufd_access *access;
	struct child c;

	(void)state;
	mock_domain(ioas);
	mock_domain(ioas2);
	map_file(ioas, 0, NPAGES, IOVA);
	assert_int_equal(copy(ioas2, ioas, IOVA, 4 * PAGE_SIZE), 0);
	access = access_on(ioas);
	pin(access, IOVA + 2 * PAGE_SIZE, 4);
	pin(access, IOVA + 4 * PAGE_SIZE, 4);
	assert_int_equal(charged_pid(getpid()), NPAGES);
	assert_int_equal(pages_pinned_total(), NPAGES);

	child_start(&c, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_pid(c.caller.pid), NPAGES);
	assert_int_equal(charged_pid(getpid()), 0);
	assert_int_equal(charged_total(), NPAGES);
	assert_int_equal(pages_pinned_total(), NPAGES);
	assert_int_equal(owner_of(ioas, IOVA), c.caller.pid);
	assert_int_equal(owner_of(ioas2, IOVA), c.caller.pid);

	/* Asked again: the caller owns it all already. */
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_pid(c.caller.pid), NPAGES);
	assert_int_equal(charged_total(), NPAGES);

	/* And back: once again. */
	assert_int_equal(change_process_as(&self), 0);
	assert_int_equal(charged_pid(getpid()), NPAGES);
	assert_int_equal(charged_pid(c.caller.pid), 0);
	child_stop(&c);

	/* Unpinning releases the owner's charge, nobody else's. */
	iommufd_access_unpin_pages(access, IOVA + 2 * PAGE_SIZE, 4 * PAGE_SIZE);
	iommufd_access_unpin_pages(access, IOVA + 4 * PAGE_SIZE, 4 * PAGE_SIZE);
	iommufd_access_destroy(access);
	assert_int_equal(unmap_all(ioas2), 0);
	assert_int_equal(charged_pid(getpid()), NPAGES);
	assert_int_equal(unmap_all(ioas), 0);
	assert_int_equal(charged_total(), 0);
}

/*
 * Past the caller's RLIMIT_MEMLOCK the move is ENOMEM and nothing moved,
 * though the first IOAS's pages fit: the new owner is charged first.
 */
static void test_limit_all_or_nothing(void **state)
{
	uint32_t ioas = ioas_alloc(), ioas2 = ioas_alloc();
	struct child c;

	(void)state;
	mock_domain(ioas);
	mock_domain(ioas2);
	map_file(ioas, 0, 4, IOVA);
	map_file(ioas2, 4, 4, IOVA);

	child_start(&c, &(struct child_opts){ .memlock_pages = 6 });
	assert_int_equal(change_process_as(&c.caller), -ENOMEM);
	assert_int_equal(charged_pid(c.caller.pid), 0);
	assert_int_equal(charged_pid(getpid()), NPAGES);
	assert_int_equal(owner_of(ioas, IOVA), getpid());
	assert_int_equal(owner_of(ioas2, IOVA), getpid());
	child_stop(&c);

	child_start(&c, &(struct child_opts){ .memlock_pages = NPAGES });
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_pid(c.caller.pid), NPAGES);
	assert_int_equal(charged_pid(getpid()), 0);
	child_stop(&c);
}

/* The same inside one area whose pins are an access's, some twice. */
static void test_limit_inside_one_area(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct iommufd_access *access = access_on(ioas);
	struct child c;

	(void)state;
	map_file(ioas, 0, 4, IOVA);
	pin(access, IOVA, 2);
	pin(access, IOVA, 2);
	pin(access, IOVA + 2 * PAGE_SIZE, 2);
	assert_int_equal(charged_pid(getpid()), 4);

	child_start(&c, &(struct child_opts){ .memlock_pages = 3 });
	assert_int_equal(change_process_as(&c.caller), -ENOMEM);
	assert_int_equal(charged_pid(c.caller.pid), 0);
	assert_int_equal(charged_pid(getpid()), 4);
	child_stop(&c);

	child_start(&c, &(struct child_opts){ .memlock_pages = 4 });
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_pid(c.caller.pid), 4);
	assert_int_equal(charged_pid(getpid()), 0);
	child_stop(&c);

	iommufd_access_unpin_pages(access, IOVA, 2 * PAGE_SIZE);
	iommufd_access_unpin_pages(access, IOVA, 2 * PAGE_SIZE);
	assert_int_equal(charged_total(), 2);
	iommufd_access_unpin_pages(access, IOVA + 2 * PAGE_SIZE, 2 * PAGE_SIZE);
	assert_int_equal(charged_total(), 0);
	iommufd_access_destroy(access);
}

/*
 * What the moved mappings pin later is charged to their new owner, even
 * after it exited; what the old process maps later is its own.
 */
static void test_later_pins_new_owner(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct child c;

	(void)state;
	map_file(ioas, 0, 4, IOVA);
	child_start(&c, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_total(), 0); /* nothing was pinned */
	assert_int_equal(owner_of(ioas, IOVA), c.caller.pid);
	child_stop(&c);

	mock_domain(ioas);
	assert_int_equal(charged_pid(c.caller.pid), 4);
	assert_int_equal(charged_pid(getpid()), 0);

	map_file(ioas, 4, 4, IOVA + 4 * PAGE_SIZE);
	assert_int_equal(charged_pid(getpid()), 4);
	assert_int_equal(charged_pid(c.caller.pid), 4);
}

/* Live update: each process hands over to the next, the first one gone. */
static void test_old_owner_gone(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct child first, second;

	(void)state;
	mock_domain(ioas);
	map_file(ioas, 0, NPAGES, IOVA);
	child_start(&first, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&first.caller), 0);
	child_stop(&first);
	assert_int_equal(charged_pid(first.caller.pid), NPAGES);

	child_start(&second, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&second.caller), 0);
	assert_int_equal(charged_pid(second.caller.pid), NPAGES);
	assert_int_equal(charged_pid(first.caller.pid), 0);
	assert_int_equal(charged_total(), NPAGES);
	child_stop(&second);
}

/*
 * Per-user accounting (the default): a process of the same user takes the
 * mappings over without the user's charge moving, doubling or vanishing;
 * one of another user takes the charge with them.
 */
static void test_per_user_mode(void **state)
{
	uint32_t ioas = ioas_alloc();
	struct child same, other;

	(void)state;
	mock_domain(ioas);
	map_file(ioas, 0, NPAGES, IOVA);
	assert_int_equal(charged_uid(0), NPAGES);

	child_start(&same, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&same.caller), 0);
	assert_int_equal(charged_uid(0), NPAGES);
	assert_int_equal(charged_total(), NPAGES);
	assert_int_equal(owner_of(ioas, IOVA), same.caller.pid);
	child_stop(&same);

	child_start(&other, &(struct child_opts){ .uid = NOBODY });
	assert_int_equal(change_process_as(&other.caller), 0);
	assert_int_equal(charged_uid(NOBODY), NPAGES);
	assert_int_equal(charged_uid(0), 0);
	assert_int_equal(owner_of(ioas, IOVA), other.caller.pid);
	child_stop(&other);
}

/*
 * Whether a mapping is charged is fixed when it is mapped (CAP_IPC_LOCK
 * then: never): a move keeps it so, whatever the new owner may do.
 */
static void test_uncharged_stays_so(void **state)
{
	uint32_t ioas = ioas_alloc(), ioas2 = ioas_alloc();
	struct iommufd_access *access;
	struct child c;

	(void)state;
	mock_domain(ioas);
	mock_domain(ioas2);
	assert_int_equal(set_cap_ipc_lock(true), 0);
	map_file(ioas, 0, 4, IOVA);
	assert_int_equal(set_cap_ipc_lock(false), 0);
	map_file(ioas2, 4, 4, IOVA);
	assert_int_equal(charged_pid(getpid()), 4);

	/* A new owner with CAP_IPC_LOCK is charged for what was charged. */
	child_start(&c, &(struct child_opts){ .cap_ipc_lock = true });
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(charged_pid(c.caller.pid), 4);
	assert_int_equal(charged_total(), 4);
	child_stop(&c);

	/* One without it is not charged for what was not, even later. */
	child_start(&c, &(struct child_opts){ 0 });
	assert_int_equal(change_process_as(&c.caller), 0);
	assert_int_equal(owner_of(ioas, IOVA), c.caller.pid);
	assert_int_equal(charged_pid(c.caller.pid), 4);
	access = access_on(ioas);
	pin(access, IOVA, 4);
	assert_int_equal(charged_total(), 4);
	iommufd_access_unpin_pages(access, IOVA, 4 * PAGE_SIZE);
	iommufd_access_destroy(access);
	child_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dispatcher_checks,
						setup_per_user, teardown),
		cmocka_unit_test_setup_teardown(test_abi_6_12_has_none,
						setup_per_user, teardown),
		cmocka_unit_test_setup_teardown(test_user_memory_refused,
						setup_per_process, teardown),
		cmocka_unit_test_setup_teardown(test_moves_exactly_once,
						setup_per_process, teardown),
		cmocka_unit_test_setup_teardown(test_limit_all_or_nothing,
						setup_per_process, teardown),
		cmocka_unit_test_setup_teardown(test_limit_inside_one_area,
						setup_per_process, teardown),
		cmocka_unit_test_setup_teardown(test_later_pins_new_owner,
						setup_per_process, teardown),
		cmocka_unit_test_setup_teardown(test_old_owner_gone,
						setup_per_process, teardown),
		cmocka_unit_test_setup_teardown(test_per_user_mode,
						setup_per_user, teardown),
		cmocka_unit_test_setup_teardown(test_uncharged_stays_so,
						setup_per_process, teardown),
	};
	void *page;

	if (geteuid() != 0)
		return cannot_run(
			"map_files and other processes' memory need root");
	self.pid = gettid();
	memfd = memfd_create("change_process", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, NPAGES * PAGE_SIZE))
		return 1;
	page = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, memfd, 0);
	if (page == MAP_FAILED || iommufd_core_init("mock"))
		return 1;
	memset(page, 0x5a, NPAGES * PAGE_SIZE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
