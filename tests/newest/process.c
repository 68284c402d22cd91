// SPDX-License-Identifier: MIT
/*
 * change_process.basic (variants account_none, account_user, account_mm):
 * IOMMU_IOAS_CHANGE_PROCESS refuses non-file mappings and moves the pin
 * accounting of file mappings to the calling process
 * (newest-uapi.md §3.8). The variants drop CAP_IPC_LOCK, so each runs in
 * a child process; the child and its own child report their checks
 * through a pipe and the parent turns them into TAP lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "newest.h"

enum account { ACCOUNT_NONE, ACCOUNT_USER, ACCOUNT_MM };

static int report_fd = -1;

/* In a child: one check, as "<0|1> text\n" on the pipe. */
static bool report(bool ok, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%d ", ok);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(report_fd, line, (size_t)n) != n)
		_exit(3);
	return ok;
}

/* In a child: a check that cannot run here, as "2 why|text\n". */
static void report_skip(const char *why, const char *what)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "2 %s|%s\n", why, what);

	if (n < 0 || n >= (int)sizeof(line) ||
	    write(report_fd, line, (size_t)n) != n)
		_exit(3);
}

/* A "Vm...:" field of /proc/<pid>/status in kB, or -1. */
static long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen)) {
			val = strtol(line + flen, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

static bool has_cap(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	return !syscall(SYS_capget, &hdr, data) &&
	       (data[cap / 32].effective & (1U << (cap % 32)));
}

/* Without CAP_IPC_LOCK the pins are charged (uapi.md §5.4). */
static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	const unsigned int word = CAP_IPC_LOCK / 32;
	const uint32_t bit = 1U << (CAP_IPC_LOCK % 32);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

static long set_rlimit_mode(int fd, enum account mode)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = mode == ACCOUNT_MM,
	};

	return mode == ACCOUNT_NONE ? 0 : ioc(fd, IOMMU_OPTION, &cmd);
}

static long change_process(int fd, uint32_t reserved)
{
	struct iommu_ioas_change_process cmd = {
		.size = sizeof(cmd),
		.__reserved = reserved,
	};

	return ioc(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}

/* The grandchild takes the pins over from its parent. */
static void take_over(int fd, pid_t parent, enum account mode)
{
	const long kb = (long)(page_size / 1024);

	report(proc_status_kb(parent, "VmPin:") == kb,
	       "before: the mapping process has VmPin %ld kB (%ld)", kb,
	       proc_status_kb(parent, "VmPin:"));
	if (mode == ACCOUNT_MM)
		report(proc_status_kb(parent, "VmLck:") == kb,
		       "before: and VmLck %ld kB (mm mode)", kb);
	report(proc_status_kb(getpid(), "VmPin:") == 0 &&
		       proc_status_kb(getpid(), "VmLck:") == 0,
	       "before: the new process has nothing pinned or locked");
	report(change_process(fd, 0) == 0,
	       "CHANGE_PROCESS in a forked process");
	report(proc_status_kb(parent, "VmPin:") == 0 &&
		       proc_status_kb(parent, "VmLck:") == 0,
	       "after: the old process has nothing pinned or locked (%ld)",
	       proc_status_kb(parent, "VmPin:"));
	report(proc_status_kb(getpid(), "VmPin:") == kb,
	       "after: the new process has VmPin %ld kB (%ld)", kb,
	       proc_status_kb(getpid(), "VmPin:"));
	if (mode == ACCOUNT_MM)
		report(proc_status_kb(getpid(), "VmLck:") == kb,
		       "after: and VmLck %ld kB (mm mode)", kb);
}

/* The child: one fixture and the checks of change_process.basic. */
static void basic(enum account mode, void *anon, int mfd)
{
	uint32_t ioas, stdev, hwpt, idev;
	uint64_t iova;
	pid_t me = getpid(), pid;
	int fd, status;
	long ret;

	/* Setting the mode needs CAP_SYS_RESOURCE, in the kernel too. */
	if (mode != ACCOUNT_NONE && !has_cap(CAP_SYS_RESOURCE)) {
		report_skip(
			"no CAP_SYS_RESOURCE to set IOMMU_OPTION_RLIMIT_MODE",
			"the whole variant");
		return;
	}
	if (!report(drop_cap_ipc_lock() == 0, "set-up: drop CAP_IPC_LOCK"))
		return;
	fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (!report(fd >= 0, "set-up: open %s", dev_path))
		return;
	ret = set_rlimit_mode(fd, mode);
	if (!report(ret == 0, "set-up: IOMMU_OPTION_RLIMIT_MODE (%s)",
		    strerror((int)-ret)) ||
	    !report(ioas_alloc(fd, &ioas) == 0 &&
			    mock_domain(fd, ioas, 0, &stdev, &hwpt, &idev) == 0,
		    "set-up: IOAS and mock device"))
		return;
	report(change_process(fd, 1) == -EOPNOTSUPP,
	       "CHANGE_PROCESS with __reserved set is EOPNOTSUPP");
	if (report(ioas_map(fd, ioas, anon, page_size, &iova, false) == 0,
		   "IOAS_MAP of anonymous memory")) {
		report(change_process(fd, 0) == -EINVAL,
		       "CHANGE_PROCESS with a non-file mapping is EINVAL");
		ioas_unmap(fd, ioas, iova, page_size);
	}
	if (!report(ioas_map_file(fd, ioas, mfd, 0, page_size, &iova) == 0,
		    "MAP_FILE of a memfd page"))
		return;
	report(change_process(fd, 0) == 0,
	       "CHANGE_PROCESS in the mapping process itself");
	pid = fork();
	if (pid == 0) {
		take_over(fd, me, mode);
		_exit(0);
	}
	report(pid > 0 && waitpid(pid, &status, 0) == pid &&
		       WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the forked process finished");
	close(fd);
}

/* Run one variant in a child and report what it saw. */
static void variant(enum account mode, const char *name, void *anon, int mfd)
{
	char line[260];
	int pipefd[2], status;
	FILE *in;
	pid_t pid;

	note("change_process.basic (%s)", name);
	if (!setup_ok(pipe2(pipefd, O_CLOEXEC) ? -errno : 0, "pipe"))
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		report_fd = pipefd[1];
		basic(mode, anon, mfd);
		_exit(0);
	}
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '2' && strchr(line, '|')) {
			*strchr(line, '|') = '\0';
			skip(line + 2, "%s: %s", name, line + strlen(line) + 1);
			continue;
		}
		check(line[0] == '1', "%s: %s", name, line + 2);
	}
	if (in)
		fclose(in);
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "%s: the variant's process exited cleanly", name);
}

void test_change_process(void)
{
	void *anon, *page;
	int mfd;

	anon = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page = memfd_map(page_size, false, &mfd);
	if (setup_ok(anon == MAP_FAILED || page == MAP_FAILED ? -ENOMEM : 0,
		     "buffers")) {
		memset(anon, 1, page_size);
		memset(page, 2, page_size);
		variant(ACCOUNT_NONE, "account_none", anon, mfd);
		variant(ACCOUNT_USER, "account_user", anon, mfd);
		variant(ACCOUNT_MM, "account_mm", anon, mfd);
	}
	if (anon != MAP_FAILED)
		munmap(anon, page_size);
	if (page != MAP_FAILED) {
		munmap(page, page_size);
		close(mfd);
	}
}
