// SPDX-License-Identifier: MIT
/*
 * Finding 2: DMA must not follow a process across exec. The attacker maps
 * a private page into an IOAS with a mock domain, forks, and execs a
 * setuid-root program that keeps a root-only secret at the same address;
 * the forked child then makes the mock device read and write that IOVA.
 * The kernel pinned the attacker's page at MAP time, so the device only
 * ever sees that old page; the daemon must fail the DMA or reach the old
 * page, never the root program's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define SECRET_LEN 64
#define TARGET_VA 0x5e0000000000ULL
#define OWN_PATTERN "the attacker's own page before the exec. "

struct state {
	int step, err; /* setup: failed step and errno */
	int pre_err; /* DMA read of the own page before exec */
	char pre[SECRET_LEN];
	int read_err; /* DMA read after the exec */
	char read[SECRET_LEN];
	int write_err; /* DMA write after the exec */
};

static struct state *st;
static char helper[512], secret_file[512];
static int to_helper[2], from_helper[2], go[2], done[2];

/* The forked child: the device's accesses once the parent has exec'd. */
static void child_dma(int fd, uint32_t idev, uint64_t iova)
{
	char pattern[SEC_PAGE];

	if (sec_hear(go[0], 60) != 'g')
		_exit(1);
	st->read_err =
		(int)-sec_dev_dma(fd, idev, iova, st->read, SECRET_LEN, false);
	memset(pattern, 'X', sizeof(pattern));
	st->write_err = (int)-sec_dev_dma(fd, idev, iova, pattern,
					  sizeof(pattern), true);
	sec_tell(done[1], 'd');
	_exit(0);
}

static int attacker(void *arg)
{
	uint64_t iova = 0;
	uint32_t ioas, idev;
	char *page;
	int fd;

	(void)arg;
	st->step = 1;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return st->err = errno, 1;
	st->step = 2;
	if ((st->err = (int)-sec_ioas_alloc(fd, &ioas)))
		return 1;
	st->step = 3;
	if ((st->err = (int)-sec_mock_domain(fd, ioas, &idev)))
		return 1;
	st->step = 4;
	page = mmap((void *)(uintptr_t)TARGET_VA, SEC_PAGE,
		    PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page == MAP_FAILED)
		return st->err = errno, 1;
	for (size_t i = 0; i < SEC_PAGE; i++)
		page[i] = OWN_PATTERN[i % (sizeof(OWN_PATTERN) - 1)];
	st->step = 5;
	if ((st->err = (int)-sec_map(fd, ioas, page, SEC_PAGE, &iova, 0)))
		return 1;
	st->pre_err =
		(int)-sec_dev_dma(fd, idev, iova, st->pre, SECRET_LEN, false);
	st->step = 6;
	if (fork() == 0)
		child_dma(fd, idev, iova);
	st->step = 7;
	if (dup2(to_helper[0], 0) != 0 || dup2(from_helper[1], 1) != 1)
		return st->err = errno, 1;
	execl(helper, helper, "0x5e0000000000", secret_file, (char *)NULL);
	return st->err = errno, 1;
}

/* A root-only secret, and the setuid-root program in a suid-able place. */
static bool setup_root_side(void)
{
	char dir[400], src[512], hex[SECRET_LEN + 1];
	unsigned char raw[SECRET_LEN / 2];
	struct statvfs vfs;
	int fd;

	sec_pub_path(dir, sizeof(dir), "exec-dma-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755))
		sec_bail("mkdtemp: %s", strerror(errno));
	if (statvfs(dir, &vfs) || (vfs.f_flag & ST_NOSUID)) {
		sec_skip("the scratch file system is nosuid",
			 "a setuid-root program can run");
		return false;
	}
	snprintf(secret_file, sizeof(secret_file), "%s/secret", dir);
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		sec_bail("getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	fd = open(secret_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, SECRET_LEN) != SECRET_LEN)
		sec_bail("writing %s: %s", secret_file, strerror(errno));
	close(fd);

	sec_pub_path(src, sizeof(src), "bin/sec_suid_secret");
	snprintf(helper, sizeof(helper), "%s/suid-secret", dir);
	{
		char *const cp[] = { "/bin/cp", src, helper, NULL };

		if (sec_exec_as(NULL, cp, 10) != 0)
			sec_bail("cannot copy %s", src);
	}
	if (chown(helper, 0, 0) || chmod(helper, 04755))
		sec_bail("cannot make %s setuid root: %s", helper,
			 strerror(errno));
	return true;
}

static bool contains_secret(const char *buf)
{
	char secret[SECRET_LEN];
	int fd = open(secret_file, O_RDONLY | O_CLOEXEC);
	bool same;

	if (fd < 0 || read(fd, secret, SECRET_LEN) != SECRET_LEN)
		sec_bail("reading back %s", secret_file);
	close(fd);
	same = !memcmp(buf, secret, SECRET_LEN);
	return same;
}

static void run_attack(void)
{
	pid_t pid;
	int c;

	if (pipe2(to_helper, O_CLOEXEC) || pipe2(from_helper, O_CLOEXEC) ||
	    pipe2(go, O_CLOEXEC) || pipe2(done, O_CLOEXEC))
		sec_bail("pipe: %s", strerror(errno));
	/* The exec'd program must keep its ends: clear close-on-exec there. */
	fcntl(to_helper[0], F_SETFD, 0);
	fcntl(from_helper[1], F_SETFD, 0);
	pid = sec_spawn(&sec_attacker, attacker, NULL);
	close(to_helper[0]);
	close(from_helper[1]);

	c = sec_hear(from_helper[0], 20);
	if (c != 'R') {
		check(0,
		      "the setuid-root program holds its secret (got '%c', "
		      "attacker setup step %d: %s)",
		      c > 0 ? c : '?', st->step, strerror(st->err));
		sec_wait(pid, 1);
		return;
	}
	check(st->pre_err == 0 && !memcmp(st->pre, OWN_PATTERN, 16),
	      "before the exec the mock device reads the attacker's page "
	      "(%s)",
	      strerror(st->pre_err));
	sec_tell(go[1], 'g');
	if (sec_hear(done[0], 30) != 'd') {
		check(0, "the child's DMA is answered within 30 s");
	} else {
		bool leaked = !st->read_err && contains_secret(st->read);

		check(!leaked,
		      "the device's read after the exec does not return the "
		      "root program's secret (DMA %s%s)",
		      st->read_err ? strerror(st->read_err) : "succeeded",
		      leaked ? " and returned the secret" : "");
		sec_note("DMA write after the exec: %s",
			 st->write_err ? strerror(st->write_err) : "succeeded");
	}
	sec_tell(to_helper[1], 'c');
	c = sec_hear(from_helper[0], 20);
	check(c == 'I',
	      "the root program's memory is intact after the "
	      "device's write (it says '%c': %s)",
	      c > 0 ? c : '?',
	      c == 'M' ? "modified" :
	      c == 'I' ? "intact" :
			 "no answer");
	sec_wait(pid, 10);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(int argc, char **argv)
{
	sec_init(argc, argv);
	st = sec_shared(sizeof(*st));
	if (setup_root_side())
		run_attack();
	sec_check_serving("DMA across an exec");
	return sec_done();
}
