// SPDX-License-Identifier: MIT
/*
 * IOMMU_IOAS_CHANGE_PROCESS through a live daemon, with real processes:
 * this program maps a memfd, and forked children (some of another user,
 * some with a small RLIMIT_MEMLOCK) take the mappings over. What the
 * daemon charges, and to whom, is read from its control socket (the
 * "pages" ledger and each area's owner, as iommufdctl shows them). Runs
 * in per-user accounting (the default), charged: CAP_IPC_LOCK is dropped.
 * Prints TAP.
 *
 * usage: change_process [/dev/iommu]
 * Environment: IOMMUFDD_RUN_DIR, the daemon's run directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#define NPAGES 4
#define NOBODY 65534

static const char *path = "/dev/iommu";
static const char *run_dir;
static long page_size;
static int fd = -1;

/* ---- the control socket ------------------------------------------------- */

/* The "result" of one control command, or NULL. */
static json_object *control(const char *command, const char *args)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	json_object *reply, *result = NULL, *ok;
	char req[256], buf[65536];
	size_t len = 0;
	ssize_t n;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/control", run_dir);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)))
		goto out;
	n = snprintf(req, sizeof(req),
		     "{\"version\": 1, \"id\": 1, \"command\": \"%s\", "
		     "\"args\": %s}\n",
		     command, args);
	if (write(s, req, (size_t)n) != n)
		goto out;
	while (len < sizeof(buf) - 1 &&
	       (n = read(s, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	reply = json_tokener_parse(buf);
	if (reply && json_object_object_get_ex(reply, "ok", &ok) &&
	    json_object_get_boolean(ok) &&
	    json_object_object_get_ex(reply, "result", &result))
		json_object_get(result);
	else
		result = NULL;
	json_object_put(reply);
out:
	if (s >= 0)
		close(s);
	return result;
}

static int64_t field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_int64(v) :
		       -1;
}

/* Pages the daemon charges to user @uid (0 if none). */
static int64_t charged_uid(uid_t uid)
{
	json_object *r = control("pages", "{}"), *acct;
	int64_t pages = r ? 0 : -1;

	if (r && json_object_object_get_ex(r, "accounting", &acct))
		for (size_t i = 0; i < json_object_array_length(acct); i++) {
			json_object *c = json_object_array_get_idx(acct, i);

			if (field(c, "uid") == (int64_t)uid)
				pages += field(c, "pinned_pages");
		}
	json_object_put(r);
	return pages;
}

/* The owner of the first area of IOAS @ioas (ours), or -1. */
static int64_t owner(uint32_t ioas)
{
	char args[64];
	json_object *r, *areas;
	int64_t pid = -1;

	snprintf(args, sizeof(args), "{\"pid\": %d, \"id\": %u}", (int)getpid(),
		 ioas);
	r = control("ioas", args);
	if (r && json_object_object_get_ex(r, "areas", &areas) &&
	    json_object_array_length(areas))
		pid = field(json_object_array_get_idx(areas, 0), "owner");
	json_object_put(r);
	return pid;
}

/* ---- the processes -------------------------------------------------------- */

static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/*
 * CHANGE_PROCESS from a forked child as user @uid (0: ours) with a
 * RLIMIT_MEMLOCK of @memlock_pages (0: inherited): its errno, 0, or -1
 * when the child could not be set up. *pid is the child's.
 */
static int change_in_child(uid_t uid, uint64_t memlock_pages, pid_t *pid)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };
	int status;

	fflush(stdout);
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		struct rlimit lim = { memlock_pages * page_size,
				      memlock_pages * page_size };

		if (memlock_pages && setrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(255);
		if (uid && setresuid(uid, uid, uid))
			_exit(255);
		_exit(ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd) ? errno : 0);
	}
	if (waitpid(*pid, &status, 0) != *pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}

/* ---- the test ------------------------------------------------------------- */

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	return ioc(fd, IOMMU_IOAS_ALLOC, &cmd) ? 0 : cmd.out_ioas_id;
}

static long mock_domain(uint32_t ioas)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas,
	};

	return ioc(fd, IOMMU_TEST_CMD, &cmd);
}

static long map_file(uint32_t ioas, int memfd)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = memfd,
		.length = NPAGES * page_size,
	};

	return ioc(fd, IOMMU_IOAS_MAP_FILE, &cmd);
}

static long map_user(uint32_t ioas, void *va, uint64_t *iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = page_size,
	};
	long ret = ioc(fd, IOMMU_IOAS_MAP, &cmd);

	*iova = cmd.iova;
	return ret;
}

static long unmap_all(uint32_t ioas)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.length = UINT64_MAX,
	};

	return ioc(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static void test_change_process(void)
{
	uint32_t ioas, ioas2;
	uint64_t iova;
	void *anon;
	pid_t pid;
	int memfd;

	memfd = memfd_create("change_process", MFD_CLOEXEC);
	anon = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (memfd < 0 || ftruncate(memfd, NPAGES * page_size) ||
	    anon == MAP_FAILED) {
		check(0, "set-up: a memfd and a page of shared memory");
		return;
	}
	memset(anon, 1, page_size);
	ioas = ioas_alloc();
	ioas2 = ioas_alloc();
	check(ioas && ioas2 && !mock_domain(ioas) && !map_file(ioas, memfd),
	      "set-up: MAP_FILE of %d pages into an IOAS with a domain",
	      NPAGES);
	check(charged_uid(0) == NPAGES, "the mapping user is charged %d pages",
	      NPAGES);
	check(owner(ioas) == getpid(), "the mapping process owns the area");

	check(map_user(ioas2, anon, &iova) == 0, "IOAS_MAP of shared memory");
	check(change_in_child(0, 0, &pid) == EINVAL,
	      "CHANGE_PROCESS while another IOAS maps user memory is EINVAL");
	check(owner(ioas) == getpid() && charged_uid(0) == NPAGES,
	      "and nothing moved");
	check(unmap_all(ioas2) == 0, "IOAS_UNMAP of the user memory");

	check(change_in_child(NOBODY, NPAGES - 1, &pid) == ENOMEM,
	      "CHANGE_PROCESS past the new owner's RLIMIT_MEMLOCK is ENOMEM");
	check(charged_uid(0) == NPAGES && charged_uid(NOBODY) == 0 &&
		      owner(ioas) == getpid(),
	      "and nothing moved");

	check(change_in_child(0, 0, &pid) == 0,
	      "CHANGE_PROCESS in a process of the same user");
	check(owner(ioas) == pid, "it owns the area now");
	check(charged_uid(0) == NPAGES,
	      "the user's charge neither doubled nor vanished");

	check(change_in_child(NOBODY, NPAGES, &pid) == 0,
	      "CHANGE_PROCESS in a process of another user, within its limit");
	check(owner(ioas) == pid, "it owns the area now");
	check(charged_uid(NOBODY) == NPAGES && charged_uid(0) == 0,
	      "its user is charged the %d pages, ours nothing", NPAGES);

	check(unmap_all(ioas) == 0 && charged_uid(NOBODY) == 0,
	      "unmapping releases the new owner's charge");
	munmap(anon, page_size);
	close(memfd);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		path = argv[1];
	run_dir = getenv("IOMMUFDD_RUN_DIR");
	page_size = sysconf(_SC_PAGESIZE);
	printf("TAP version 13\n");
	if (!run_dir) {
		printf("1..0 # SKIP IOMMUFDD_RUN_DIR is not set\n");
		return 0;
	}
	if (drop_cap_ipc_lock()) {
		printf("Bail out! cannot drop CAP_IPC_LOCK: %s\n",
		       strerror(errno));
		return 1;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("Bail out! cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	test_change_process();
	close(fd);
	printf("1..%u\n", ntests);
	return nfailed ? 1 : 0;
}
