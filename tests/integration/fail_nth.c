// SPDX-License-Identifier: MIT
/*
 * The daemon's own error paths, exercised the way the kernel's
 * iommufd_fail_nth exercises the kernel's: each sequence below runs with
 * failure point 1, 2, 3, ... of the daemon armed to fail
 * (IOMMUFDD_TEST_OP_FAIL_NTH; the daemon runs with --fault-injection)
 * until it runs through without reaching the armed point. After each
 * injected failure:
 *
 *   - the sequence failed with ENOMEM, the kernel's errno for a failed
 *     allocation or charge (or absorbed the failure and succeeded);
 *   - on the same file, with injection off, every object can be destroyed
 *     and the next IOAS_ALLOC gets id 1 again: no object or id leaked;
 *   - after the file is closed, no page of the sequence's buffer is still
 *     pinned (MD_CHECK_REFS 0 from a new file), the daemon holds as many
 *     file descriptors as before, and it still serves.
 *
 * The sequences follow the kernel's fail_nth scenarios (basic, map_domain,
 * map_two_domains, access_rw, access_pin, access_pin_domain, device), plus
 * a memfd-backed one for the daemon's shared page storage and one where
 * a process of another user takes charged file mappings over
 * (IOMMU_IOAS_CHANGE_PROCESS, which must move all of the charge or none). Access objects
 * come back as file descriptors, so the program runs itself again under
 * iommufd-run ($IOMMUFD_RUN, $IOMMUFDD_RUN_DIR); $IOMMUFDD_PID names the
 * daemon.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "tap.h"

#define BUF_SIZE (1024 * 1024)
#define MAP_SIZE (256 * 1024)
/* A sequence that passes more points than this is looping. */
#define MAX_POINTS 2000
#define MAX_IDS 64

static const char *path = "/dev/iommu";
static uint8_t *buf; /* private, as the kernel's scenarios map */
static uint8_t *memfd_buf; /* shared page storage */
static int memfd = -1; /* its file */
static int daemon_pid;

/* What a sequence made that only closing can undo. */
struct held {
	int access_fd[4];
	unsigned int naccess;
};

/* ---- ioctls ----------------------------------------------------------- */

static long test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioc(fd, IOMMU_TEST_CMD, cmd);
}

static long ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	long ret = ioc(fd, IOMMU_IOAS_ALLOC, &cmd);

	*id = cmd.out_ioas_id;
	return ret;
}

static long ioas_map(int fd, uint32_t ioas, void *va, uint64_t len,
		     uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	long ret = ioc(fd, IOMMU_IOAS_MAP, &cmd);

	*iova = cmd.iova;
	return ret;
}

static long ioas_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	return ioc(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static long ioas_map_file(int fd, uint32_t ioas, uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = memfd,
		.length = len,
	};
	long ret = ioc(fd, IOMMU_IOAS_MAP_FILE, &cmd);

	*iova = cmd.iova;
	return ret;
}

/* CHANGE_PROCESS from a forked process of user @uid: 0 or -errno. */
static long change_process_as(int fd, uid_t uid)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (setresuid(uid, uid, uid))
			_exit(EPERM);
		_exit(ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd) ? errno : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

/* Whether this process's mappings are charged: without CAP_IPC_LOCK. */
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

static long destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioc(fd, IOMMU_DESTROY, &cmd);
}

static long mock_domain(int fd, uint32_t pt, uint32_t *stdev, uint32_t *hwpt,
			uint32_t *idev)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MOCK_DOMAIN,
				      .id = pt };
	long ret = test_cmd(fd, &cmd);

	*stdev = cmd.mock_domain.out_stdev_id;
	if (hwpt)
		*hwpt = cmd.mock_domain.out_hwpt_id;
	if (idev)
		*idev = cmd.mock_domain.out_idev_id;
	return ret;
}

static long memory_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
				      .memory_limit.limit = limit };

	return test_cmd(fd, &cmd);
}

static long create_access(int fd, uint32_t ioas, uint32_t flags, struct held *h)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_CREATE_ACCESS,
				      .id = ioas,
				      .create_access.flags = flags };
	long ret = test_cmd(fd, &cmd);

	if (!ret)
		h->access_fd[h->naccess++] =
			(int)cmd.create_access.out_access_fd;
	return ret;
}

static long access_rw(int fd, int access_fd, uint64_t iova, void *data,
		      uint64_t len, uint32_t flags)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_ACCESS_RW,
				      .id = (uint32_t)access_fd,
				      .access_rw = { .iova = iova,
						     .length = len,
						     .uptr = (uintptr_t)data,
						     .flags = flags } };

	return test_cmd(fd, &cmd);
}

static long access_pages(int fd, int access_fd, uint64_t iova, uint64_t len,
			 uint32_t *pages_id)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_ACCESS_PAGES,
				      .id = (uint32_t)access_fd,
				      .access_pages = {
					      .flags = MOCK_FLAGS_ACCESS_WRITE,
					      .iova = iova,
					      .length = len,
					      .uptr = (uintptr_t)buf } };
	long ret = test_cmd(fd, &cmd);

	*pages_id = cmd.access_pages.out_access_pages_id;
	return ret;
}

static long destroy_access_pages(int fd, int access_fd, uint32_t pages_id)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
				      .id = (uint32_t)access_fd,
				      .destroy_access_pages.access_pages_id =
					      pages_id };

	return test_cmd(fd, &cmd);
}

/* Arm point @nth (0: disarm); @out gets what the previous arming did. */
static long fail_nth(int fd, uint32_t nth, struct iommufdd_test_fail_nth *out)
{
	struct iommu_test_cmd cmd = { .op = IOMMUFDD_TEST_OP_FAIL_NTH };
	struct iommufdd_test_fail_nth arg = { .nth = nth };
	long ret;

	memcpy(&cmd.add_reserved, &arg, sizeof(arg));
	ret = test_cmd(fd, &cmd);
	if (out)
		memcpy(out, &cmd.add_reserved, sizeof(*out));
	return ret;
}

/* Make the daemon let go of what it keeps for reuse, from a new file. */
static void drop_kept(void)
{
	struct iommu_test_cmd cmd = { .op = IOMMUFDD_TEST_OP_FAIL_NTH };
	struct iommufdd_test_fail_nth arg = {
		.flags = IOMMUFDD_FAIL_NTH_DROP_KEPT,
	};
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	memcpy(&cmd.add_reserved, &arg, sizeof(arg));
	test_cmd(fd, &cmd);
	close(fd);
}

/* ---- the sequences: 0, or the first failing step's -errno ------------ */

#define STEP(x)                          \
	do {                             \
		long step_ret = (x);     \
		if (step_ret)            \
			return step_ret; \
	} while (0)

static long seq_basic(int fd, struct held *h)
{
	struct iommu_iova_range range = { .start = 1ULL << 20,
					  .last = (1ULL << 32) - 1 };
	struct iommu_ioas_allow_iovas allow = { .size = sizeof(allow),
						.num_iovas = 1,
						.allowed_iovas =
							(uintptr_t)&range };
	uint64_t iova = 0;
	uint32_t ioas;

	(void)h;
	STEP(ioas_alloc(fd, &ioas));
	allow.ioas_id = ioas;
	STEP(ioc(fd, IOMMU_IOAS_ALLOW_IOVAS, &allow));
	STEP(ioas_map(fd, ioas, buf, BUF_SIZE, &iova, 0));
	{
		struct iommu_ioas_copy copy = {
			.size = sizeof(copy),
			.flags = IOMMU_IOAS_MAP_WRITEABLE |
				 IOMMU_IOAS_MAP_READABLE,
			.dst_ioas_id = ioas,
			.src_ioas_id = ioas,
			.src_iova = iova,
			.length = MAP_SIZE,
		};

		STEP(ioc(fd, IOMMU_IOAS_COPY, &copy));
	}
	STEP(ioas_unmap(fd, ioas, iova, BUF_SIZE));
	return 0;
}

static long seq_map_domain(int fd, struct held *h)
{
	uint32_t ioas, stdev, hwpt;
	uint64_t iova = 0;

	(void)h;
	STEP(ioas_alloc(fd, &ioas));
	STEP(memory_limit(fd, 32));
	STEP(mock_domain(fd, ioas, &stdev, &hwpt, NULL));
	STEP(ioas_map(fd, ioas, buf, MAP_SIZE, &iova, 0));
	STEP(destroy(fd, stdev));
	STEP(mock_domain(fd, ioas, &stdev, &hwpt, NULL));
	return 0;
}

static long seq_map_two_domains(int fd, struct held *h)
{
	uint32_t ioas, stdev, stdev2, hwpt;
	uint64_t iova = 0;

	(void)h;
	STEP(ioas_alloc(fd, &ioas));
	STEP(memory_limit(fd, 32));
	STEP(mock_domain(fd, ioas, &stdev, &hwpt, NULL));
	STEP(mock_domain(fd, ioas, &stdev2, &hwpt, NULL));
	STEP(ioas_map(fd, ioas, buf, MAP_SIZE, &iova, 0));
	STEP(destroy(fd, stdev));
	STEP(destroy(fd, stdev2));
	STEP(mock_domain(fd, ioas, &stdev, &hwpt, NULL));
	STEP(mock_domain(fd, ioas, &stdev2, &hwpt, NULL));
	return 0;
}

static long seq_access_rw(int fd, struct held *h)
{
	uint8_t tmp[8192];
	uint64_t iova = 0;
	uint32_t ioas;
	int afd;

	STEP(ioas_alloc(fd, &ioas));
	STEP(memory_limit(fd, 32));
	STEP(ioas_map(fd, ioas, buf, MAP_SIZE, &iova, 0));
	STEP(create_access(fd, ioas, 0, h));
	afd = h->access_fd[h->naccess - 1];
	STEP(access_rw(fd, afd, iova, tmp, 1, 0));
	STEP(access_rw(fd, afd, iova, tmp, 1, MOCK_ACCESS_RW_WRITE));
	STEP(access_rw(fd, afd, iova, tmp, sizeof(tmp), 0));
	STEP(access_rw(fd, afd, iova, tmp, sizeof(tmp),
		       MOCK_ACCESS_RW_SLOW_PATH));
	STEP(access_rw(fd, afd, iova, tmp, sizeof(tmp),
		       MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH));
	return 0;
}

static long seq_access_pin(int fd, struct held *h, bool domain)
{
	uint32_t ioas, stdev = 0, pages;
	uint64_t iova = 0;
	int afd;

	STEP(ioas_alloc(fd, &ioas));
	STEP(memory_limit(fd, 32));
	if (domain)
		STEP(mock_domain(fd, ioas, &stdev, NULL, NULL));
	STEP(ioas_map(fd, ioas, buf, BUF_SIZE, &iova, 0));
	STEP(create_access(fd, ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
			   h));
	afd = h->access_fd[h->naccess - 1];
	STEP(access_pages(fd, afd, iova, BUF_SIZE, &pages));
	STEP(destroy_access_pages(fd, afd, pages));
	if (domain)
		STEP(destroy(fd, stdev));
	return 0;
}

static long seq_access_pin_ioas(int fd, struct held *h)
{
	return seq_access_pin(fd, h, false);
}

static long seq_access_pin_domain(int fd, struct held *h)
{
	return seq_access_pin(fd, h, true);
}

static long seq_device(int fd, struct held *h)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info hw = { .size = sizeof(hw),
				    .data_len = sizeof(info),
				    .data_uptr = (uintptr_t)&info };
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd replace = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE
	};
	uint64_t iova = MOCK_APERTURE_START, iova2 = MOCK_APERTURE_START;
	uint32_t ioas, ioas2, stdev, idev;

	(void)h;
	STEP(ioas_alloc(fd, &ioas));
	STEP(ioas_alloc(fd, &ioas2));
	/* Inside the mock's aperture, or attaching fails (EADDRINUSE). */
	STEP(ioas_map(fd, ioas, buf, 4096, &iova, IOMMU_IOAS_MAP_FIXED_IOVA));
	STEP(ioas_map(fd, ioas2, buf, 4096, &iova2, IOMMU_IOAS_MAP_FIXED_IOVA));
	STEP(mock_domain(fd, ioas, &stdev, NULL, &idev));
	hw.dev_id = idev;
	STEP(ioc(fd, IOMMU_GET_HW_INFO, &hw));
	alloc.dev_id = idev;
	alloc.pt_id = ioas;
	STEP(ioc(fd, IOMMU_HWPT_ALLOC, &alloc));
	replace.id = stdev;
	replace.mock_domain_replace.pt_id = ioas2;
	STEP(test_cmd(fd, &replace));
	replace.mock_domain_replace.pt_id = alloc.out_hwpt_id;
	STEP(test_cmd(fd, &replace));
	return 0;
}

/* Shared page storage: one memfd mapped twice, pinned once. */
static long seq_memfd(int fd, struct held *h)
{
	uint32_t ioas, ioas2, stdev;
	uint64_t iova = 0, iova2 = 0;

	(void)h;
	STEP(ioas_alloc(fd, &ioas));
	STEP(ioas_alloc(fd, &ioas2));
	STEP(mock_domain(fd, ioas, &stdev, NULL, NULL));
	STEP(ioas_map(fd, ioas, memfd_buf, BUF_SIZE, &iova, 0));
	STEP(ioas_map(fd, ioas2, memfd_buf, MAP_SIZE, &iova2, 0));
	STEP(ioas_unmap(fd, ioas, iova, BUF_SIZE));
	STEP(destroy(fd, stdev));
	return 0;
}

/*
 * Live update: charged file mappings in two IOASes with domains, taken
 * over by a process of another user, so every pin moves bucket.
 */
static long seq_change_process_charged(int fd)
{
	uint32_t ioas, ioas2, stdev, stdev2;
	uint64_t iova, iova2;

	STEP(ioas_alloc(fd, &ioas));
	STEP(ioas_alloc(fd, &ioas2));
	STEP(mock_domain(fd, ioas, &stdev, NULL, NULL));
	STEP(mock_domain(fd, ioas2, &stdev2, NULL, NULL));
	STEP(ioas_map_file(fd, ioas, MAP_SIZE, &iova));
	STEP(ioas_map_file(fd, ioas2, BUF_SIZE, &iova2));
	STEP(change_process_as(fd, 65534));
	STEP(ioas_unmap(fd, ioas, iova, MAP_SIZE));
	STEP(destroy(fd, stdev));
	return 0;
}

static long seq_change_process(int fd, struct held *h)
{
	long ret;

	(void)h;
	ret = set_cap_ipc_lock(false);
	if (ret)
		return ret;
	ret = seq_change_process_charged(fd);
	set_cap_ipc_lock(true);
	return ret;
}

/* ---- the checks -------------------------------------------------------- */

/* Destroy every id until none goes; then a new IOAS must get id 1. */
static bool all_ids_free(int fd, uint32_t *first_new)
{
	bool progress = true;
	uint32_t ioas = 0;

	while (progress) {
		progress = false;
		for (uint32_t id = 1; id < MAX_IDS; id++)
			if (!destroy(fd, id))
				progress = true;
	}
	if (ioas_alloc(fd, &ioas))
		return false;
	*first_new = ioas;
	return ioas == 1;
}

static int daemon_fds(void)
{
	char dir_path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", daemon_pid);
	dir = opendir(dir_path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* What the daemon's descriptors are, as TAP comments, for a failure. */
static void show_daemon_fds(void)
{
	char dir_path[64], link_path[320], target[256];
	struct dirent *d;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", daemon_pid);
	dir = opendir(dir_path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link_path, sizeof(link_path), "%s/%s", dir_path,
			 d->d_name);
		n = readlink(link_path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		printf("# daemon fd %s -> %s\n", d->d_name, target);
	}
	closedir(dir);
}

static long check_no_pins(const void *mem, uint64_t len)
{
	struct iommu_test_cmd cmd = { .op = IOMMU_TEST_OP_MD_CHECK_REFS,
				      .check_refs = { .length = len,
						      .uptr = (uintptr_t)mem,
						      .refs = 0 } };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	long ret;

	if (fd < 0)
		return -errno;
	ret = test_cmd(fd, &cmd);
	close(fd);
	return ret;
}

struct sequence {
	const char *name;
	long (*run)(int fd, struct held *h);
};

/* One injected failure at point @nth; false when the run went through. */
static bool run_failing(const struct sequence *s, uint32_t nth, bool *bad,
			uint32_t *npoints)
{
	struct iommufdd_test_fail_nth state;
	struct held h = { .naccess = 0 };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint32_t first_new = 0;
	long ret, pins;
	int fds_before = daemon_fds();

	if (fd < 0 || fail_nth(fd, nth, NULL)) {
		check(0, "%s: arming point %u (%s)", s->name, nth,
		      strerror(errno));
		*bad = true;
		return false;
	}
	ret = s->run(fd, &h);
	fail_nth(fd, 0, &state);
	*npoints = state.out_calls;
	if (!state.out_failed) {
		close(fd);
		if (ret)
			check(0, "%s: fails without an injected failure (%s)",
			      s->name, strerror((int)-ret));
		*bad = *bad || ret;
		return false;
	}
	if (ret && ret != -ENOMEM) {
		check(0, "%s: failing point %u gives %s, not ENOMEM", s->name,
		      nth, strerror((int)-ret));
		*bad = true;
	}
	for (unsigned int i = 0; i < h.naccess; i++)
		close(h.access_fd[i]);
	if (!all_ids_free(fd, &first_new)) {
		check(0,
		      "%s: after failing point %u, objects stay (a new IOAS is id %u)",
		      s->name, nth, first_new);
		*bad = true;
	}
	close(fd);
	pins = check_no_pins(buf, BUF_SIZE) ?:
					      check_no_pins(memfd_buf, BUF_SIZE);
	if (pins) {
		check(0,
		      "%s: after failing point %u and close, pages stay pinned (%s)",
		      s->name, nth, strerror((int)-pins));
		*bad = true;
	}
	if (fds_before >= 0 && daemon_fds() > fds_before) {
		/*
		 * Releases run after close() returns; give them a moment. The
		 * daemon also keeps, for a while, memory files and mappers
		 * that no mapping uses any more: a file of the sequence, a
		 * process that has exited. Those are not leaks; drop them.
		 */
		usleep(100 * 1000);
		drop_kept();
		if (daemon_fds() > fds_before) {
			check(0,
			      "%s: after failing point %u the daemon holds %d fds, %d before",
			      s->name, nth, daemon_fds(), fds_before);
			show_daemon_fds();
			*bad = true;
		}
	}
	return true;
}

static void run_sequence(const struct sequence *s)
{
	uint32_t nth, npoints = 0;
	struct held h = { .naccess = 0 };
	bool bad = false;
	long ret;
	int fd;

	/*
	 * Once without injection first: it must pass, and what the daemon
	 * keeps for a calling process (its memory handles) is then in the
	 * descriptor count that each failing run is compared with.
	 */
	fd = open(path, O_RDWR | O_CLOEXEC);
	ret = fd < 0 ? -errno : s->run(fd, &h);
	for (unsigned int i = 0; i < h.naccess; i++)
		close(h.access_fd[i]);
	if (fd >= 0)
		close(fd);
	if (ret) {
		check(0, "%s: runs through without injection (%s)", s->name,
		      strerror((int)-ret));
		return;
	}
	for (nth = 1; nth <= MAX_POINTS && !bad; nth++)
		if (!run_failing(s, nth, &bad, &npoints))
			break;
	if (bad)
		return;
	check(nth <= MAX_POINTS && npoints == nth - 1,
	      "%s: failing each of its %u failure points in turn gives ENOMEM "
	      "or success, leaks no object, id, pin or fd, and then it runs "
	      "through",
	      s->name, npoints);
}

static const struct sequence sequences[] = {
	{ "basic", seq_basic },
	{ "map_domain", seq_map_domain },
	{ "map_two_domains", seq_map_two_domains },
	{ "access_rw", seq_access_rw },
	{ "access_pin", seq_access_pin_ioas },
	{ "access_pin_domain", seq_access_pin_domain },
	{ "device", seq_device },
	{ "memfd", seq_memfd },
	{ "change_process", seq_change_process },
};

int main(int argc, char **argv)
{
	const char *run = getenv("IOMMUFD_RUN");
	const char *run_dir = getenv("IOMMUFDD_RUN_DIR");
	const char *pid = getenv("IOMMUFDD_PID");
	int fd;

	if (argc > 1)
		path = argv[1];
	if (!getenv("FAIL_NTH_LAUNCHED")) {
		if (!run || !run_dir) {
			printf("Bail out! IOMMUFD_RUN and IOMMUFDD_RUN_DIR must be set\n");
			return 1;
		}
		setenv("FAIL_NTH_LAUNCHED", "1", 1);
		execl(run, run, "--run-dir", run_dir, "--", argv[0], path,
		      (char *)NULL);
		printf("Bail out! cannot run %s: %s\n", run, strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	daemon_pid = pid ? atoi(pid) : -1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fail_nth(fd, 0, NULL)) {
		printf("Bail out! %s: no fault injection (%s); start the daemon with --fault-injection\n",
		       path, strerror(errno));
		return 1;
	}
	close(fd);
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memfd = memfd_create("fail_nth", 0);
	if (buf == MAP_FAILED || memfd < 0 || ftruncate(memfd, BUF_SIZE)) {
		printf("Bail out! buffers: %s\n", strerror(errno));
		return 1;
	}
	memfd_buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 memfd, 0);
	if (memfd_buf == MAP_FAILED) {
		printf("Bail out! memfd mapping: %s\n", strerror(errno));
		return 1;
	}
	memset(buf, 0x5a, BUF_SIZE);
	memset(memfd_buf, 0xa5, BUF_SIZE);
	/* The daemon opens what MD_CHECK_REFS reads once, on first use. */
	check(!check_no_pins(buf, BUF_SIZE) &&
		      !check_no_pins(memfd_buf, BUF_SIZE),
	      "nothing of the buffers is pinned to begin with");
	check(daemon_pid > 0 && daemon_fds() > 0,
	      "the daemon's descriptors can be counted (pid %d)", daemon_pid);
	for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++)
		run_sequence(&sequences[i]);
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
