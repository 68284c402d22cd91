// SPDX-License-Identifier: MIT
/*
 * Memory resolved once (issue 11): the storage of a shared file is one
 * for every client that maps it, and it is kept for the next MAP after
 * the last area goes. Reuse must never give anyone more than the kernel
 * would, nor stale pages. With mock domains attached, each client's
 * device reading and writing the first word of the mapping:
 *
 *  1. the same file range mapped by two clients of one user, or by one
 *     client with MAP and MAP_FILE, is one storage, pinned once and
 *     charged once, and both devices reach the same pages;
 *  2. unmapping either leaves the other intact (its device still reads
 *     and writes the file); the pins and the charge go with the last;
 *  3. a file truncated and grown again while its storage was kept is not
 *     reused stale: the next MAP reaches what the file holds now;
 *  4. another file mapped at the same address is not the kept one;
 *  5. a user who cannot open a victim's file reaches none of its pages,
 *     mapping its own file at the very address and offset where the
 *     victim's live storage is mapped; a user who may only read a file
 *     the daemon holds writable gets no write: a writable MAP of its
 *     read-only mapping is EFAULT, and its device cannot write through a
 *     read-only MAP;
 *  6. what is kept is bounded: at most 64 idle files, each let go of
 *     within seconds, and all of them when a client closes.
 *
 * Every client is a process of its own (two opens of /dev/iommu), driven
 * by one-byte commands over a pipe; storages and charges are read with
 * iommufdctl pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec.h"
#include "sec_ioctl.h"

#define LEN (4 * SEC_PAGE)
#define IOVA (16ULL << 20)
#define IOVA_FILE (32ULL << 20) /* where 'f' maps the file itself */
/* Where every client maps its file: one address for all of them. */
#define FIXED_VA ((void *)0x6e0000000000UL)

struct client {
	/* set before it starts */
	char path[512];
	bool readonly; /* open and map the file read-only */
	/* per command */
	uint32_t map_flags; /* 'm' */
	char path2[512]; /* 'x': the file to map at the address instead */
	uint64_t value; /* 'r': what the device read; 'w': what it writes */
	int err; /* errno of the last command, or 0 */
	int step; /* where starting failed */
	int cmd[2], ack[2];
	pid_t pid;
};

static int map_file_at(const char *path, bool readonly, bool replace)
{
	int prot = PROT_READ | (readonly ? 0 : PROT_WRITE);
	int file = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	void *mem;

	if (file < 0)
		return errno;
	mem = mmap(FIXED_VA, LEN, prot,
		   MAP_SHARED | (replace ? MAP_FIXED : MAP_FIXED_NOREPLACE),
		   file, 0);
	close(file);
	return mem == FIXED_VA ? 0 : mem == MAP_FAILED ? errno : EEXIST;
}

/* IOMMU_IOAS_MAP_FILE of the whole client file at IOVA_FILE. */
static long map_file(struct client *c, int fd, uint32_t ioas)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = SEC_MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ioas,
		.length = LEN,
		.iova = IOVA_FILE,
	};
	long ret;

	cmd.fd = open(c->path, O_RDWR | O_CLOEXEC);
	if (cmd.fd < 0)
		return -errno;
	ret = ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd) ? -errno : 0;
	close(cmd.fd);
	return ret;
}

static long command(struct client *c, int cmd, int fd, uint32_t ioas,
		    uint32_t idev)
{
	uint64_t iova = IOVA;

	switch (cmd) {
	case 'm':
		return sec_map(fd, ioas, FIXED_VA, LEN, &iova,
			       c->map_flags | IOMMU_IOAS_MAP_FIXED_IOVA);
	case 'u':
		return sec_unmap(fd, ioas, IOVA, LEN);
	case 'f':
		return map_file(c, fd, ioas);
	case 'F':
		return sec_unmap(fd, ioas, IOVA_FILE, LEN);
	case 'r':
	case 'w':
		return sec_dev_dma(fd, idev, IOVA, &c->value, sizeof(c->value),
				   cmd == 'w');
	case 'x':
		return -map_file_at(c->path2, false, true);
	}
	return -EINVAL;
}

static int client_main(void *arg)
{
	struct client *c = arg;
	uint32_t ioas, idev;
	int fd, cmd;

	c->step = 1;
	fd = open(sec_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return c->err = errno, sec_tell(c->ack[1], 'E'), 1;
	c->step = 2;
	if ((c->err = (int)-sec_ioas_alloc(fd, &ioas)) ||
	    (c->err = (int)-sec_mock_domain(fd, ioas, &idev)))
		return sec_tell(c->ack[1], 'E'), 1;
	c->step = 3;
	if ((c->err = map_file_at(c->path, c->readonly, false)))
		return sec_tell(c->ack[1], 'E'), 1;
	sec_tell(c->ack[1], 'R');
	while ((cmd = sec_hear(c->cmd[0], 60)) > 0 && cmd != 'q') {
		c->err = (int)-command(c, cmd, fd, ioas, idev);
		sec_tell(c->ack[1], 'k');
	}
	return 0;
}

static struct client *client_start(const struct sec_user *u, const char *path,
				   bool readonly)
{
	struct client *c = sec_shared(sizeof(*c));

	snprintf(c->path, sizeof(c->path), "%s", path);
	c->readonly = readonly;
	if (pipe(c->cmd) || pipe(c->ack))
		sec_bail("pipe: %s", strerror(errno));
	c->pid = sec_spawn(u, client_main, c);
	if (sec_hear(c->ack[0], 30) != 'R')
		sec_bail("a client of uid %u did not start (step %d: %s)",
			 (unsigned int)u->uid, c->step, strerror(c->err));
	return c;
}

/* Run @cmd in the client: 0 or its errno (ETIMEDOUT if it did not answer). */
static int ask(struct client *c, char cmd)
{
	if (!sec_tell(c->cmd[1], cmd) || sec_hear(c->ack[0], 30) != 'k')
		return ETIMEDOUT;
	return c->err;
}

static int map_rw(struct client *c)
{
	c->map_flags = SEC_MAP_RW;
	return ask(c, 'm');
}

/* The device's read of the first word, or ~0 if it failed. */
static uint64_t dev_read(struct client *c)
{
	c->value = 0;
	return ask(c, 'r') ? ~0ULL : c->value;
}

static int dev_write(struct client *c, uint64_t v)
{
	c->value = v;
	return ask(c, 'w');
}

static void client_stop(struct client *c)
{
	sec_tell(c->cmd[1], 'q');
	sec_wait(c->pid, 10);
	close(c->cmd[0]);
	close(c->cmd[1]);
	close(c->ack[0]);
	close(c->ack[1]);
	munmap(c, sizeof(*c));
}

/* ---- files ------------------------------------------------------------ */

/* A file of @owner in PUB, LEN bytes, its first word @v. Its inode out. */
static ino_t make_file(const char *name, const struct sec_user *owner,
		       mode_t mode, uint64_t v, char *path, size_t len)
{
	struct stat st;
	int fd;

	sec_pub_path(path, len, name);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || ftruncate(fd, LEN) ||
	    pwrite(fd, &v, sizeof(v), 0) != sizeof(v) ||
	    fchown(fd, owner->uid, owner->gid) || fchmod(fd, mode) ||
	    fstat(fd, &st))
		sec_bail("%s: %s", path, strerror(errno));
	close(fd);
	return st.st_ino;
}

static uint64_t file_word(const char *path)
{
	uint64_t v = ~0ULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && pread(fd, &v, sizeof(v), 0) != sizeof(v))
		v = ~0ULL;
	if (fd >= 0)
		close(fd);
	return v;
}

/* ---- what the daemon says --------------------------------------------- */

/* The number after "key": at or after @from, or -1. */
static long json_after(const char *from, const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	p = strstr(from, pattern);
	if (!p || !(p = strchr(p + strlen(pattern), ':')))
		return -1;
	return strtol(p + 1, NULL, 10);
}

struct storage_view {
	int storages; /* storages of the inode */
	long storage; /* the first one's id */
	long nr_areas, pinned_bytes; /* of the first */
	long charged; /* pages charged to the user, 0 if none */
	long pinned_total; /* pages pinned in the daemon */
};

static struct storage_view view(ino_t ino, const struct sec_user *u)
{
	const char *const args[] = { "pages", NULL };
	struct storage_view v = { .nr_areas = -1, .pinned_bytes = -1 };
	static char out[1 << 16];
	const char *p = out, *acct, *last_storage = out;

	if (sec_ctl(out, sizeof(out), args) != 0)
		sec_bail("iommufdctl pages failed");
	acct = strstr(out, "\"accounting\"");
	while ((p = strstr(p, "\"inode\"")) && (!acct || p < acct)) {
		/* "storage" comes first in each storage's object */
		for (const char *q = out;
		     (q = strstr(q, "\"storage\"")) && q < p; q++)
			last_storage = q;
		if (json_after(p, "inode") == (long)ino && !v.storages++) {
			v.storage = json_after(last_storage, "storage");
			v.pinned_bytes = json_after(p, "pinned_bytes");
			v.nr_areas = json_after(p, "nr_areas");
		}
		p++;
	}
	for (p = acct; p && (p = strstr(p, "\"uid\"")); p++)
		if (json_after(p, "uid") == (long)u->uid)
			v.charged = json_after(p, "pinned_pages");
	v.pinned_total = acct ? json_after(acct, "pinned_pages") : -1;
	return v;
}

/* How many memory files the daemon keeps idle for reuse. */
static long idle_files(void)
{
	const char *const args[] = { "status", NULL };
	char out[4096];

	return sec_ctl(out, sizeof(out), args) ? -1 :
						 json_after(out, "idle_files");
}

/* ---- the tests -------------------------------------------------------- */

static char path_a[512], path_b[512], path_mine[512], path_ro[512];

/* Until the daemon keeps no idle file (within its few seconds). */
static void wait_no_idle(void)
{
	double t0 = sec_now();

	while (idle_files() > 0 && sec_now() - t0 < 10)
		sec_sleep(0.1);
}

/*
 * 1 and 2: two clients of one user, one file at @path (@what: how the
 * daemon finds its storage).
 */
static void test_two_clients(const char *path, ino_t ino, const char *what)
{
	struct client *a = client_start(&sec_other, path, false);
	struct client *b = client_start(&sec_other, path, false);
	struct storage_view v;
	uint64_t got;
	long idle;
	int ret;

	sec_note("two clients, %s", what);
	ret = map_rw(a);
	check(ret == 0 && dev_write(a, 0xa1) == 0,
	      "client A maps the file and its device writes it (%s)",
	      strerror(ret));
	ret = map_rw(b);
	got = dev_read(b);
	check(ret == 0 && got == 0xa1,
	      "client B maps the same range and its device reads what A's "
	      "wrote (%s; read %#llx)",
	      strerror(ret), (unsigned long long)got);
	v = view(ino, &sec_other);
	check(v.storages == 1 && v.nr_areas == 2,
	      "one storage holds both clients' areas (%d storages of the "
	      "inode, %ld areas on it)",
	      v.storages, v.nr_areas);
	check(v.pinned_bytes == (long)LEN &&
		      v.charged == (long)(LEN / SEC_PAGE),
	      "pinned once and charged once (%ld bytes pinned, %ld pages "
	      "charged to the user; %lu mapped twice)",
	      v.pinned_bytes, v.charged, (unsigned long)LEN);

	check(ask(a, 'u') == 0, "client A unmaps");
	ret = dev_write(b, 0xb2);
	check(ret == 0 && dev_read(b) == 0xb2 && file_word(path) == 0xb2,
	      "client B's mapping is intact: its device writes the file "
	      "(%s, the file holds %#llx)",
	      strerror(ret), (unsigned long long)file_word(path));
	v = view(ino, &sec_other);
	check(v.storages == 1 && v.nr_areas == 1 &&
		      v.pinned_bytes == (long)LEN &&
		      v.charged == (long)(LEN / SEC_PAGE),
	      "B's area keeps the pins and the one charge (%d storages, %ld "
	      "areas, %ld bytes pinned, %ld pages charged)",
	      v.storages, v.nr_areas, v.pinned_bytes, v.charged);
	check(ask(b, 'u') == 0, "client B unmaps");
	v = view(ino, &sec_other);
	check(v.storages == 0 && v.charged == 0 && v.pinned_total == 0,
	      "after the last area nothing is pinned or charged (%d "
	      "storages, %ld pages charged, %ld pinned)",
	      v.storages, v.charged, v.pinned_total);
	idle = idle_files();
	check(idle == 1, "the file's storage is kept idle (%ld idle)", idle);

	/* B unmapped, then A maps again: the same storage, kept. */
	check(map_rw(b) == 0 && dev_read(b) == 0xb2 && ask(b, 'u') == 0,
	      "a MAP after the last UNMAP reaches the file again");
	client_stop(a);
	client_stop(b);
}

/* 1 again, for one client's MAP and MAP_FILE of the same file. */
static void test_map_and_map_file(ino_t ino)
{
	struct client *a = client_start(&sec_other, path_a, false);
	struct storage_view v;
	int ret;

	ret = map_rw(a);
	check(ret == 0, "a client maps the file by address (%s)",
	      strerror(ret));
	ret = ask(a, 'f');
	check(ret == 0, "and by descriptor (IOMMU_IOAS_MAP_FILE) (%s)",
	      strerror(ret));
	v = view(ino, &sec_other);
	check(v.storages == 1 && v.nr_areas == 2 &&
		      v.pinned_bytes == (long)LEN &&
		      v.charged == (long)(LEN / SEC_PAGE),
	      "both are one storage, pinned and charged once (%d storages, "
	      "%ld areas, %ld bytes pinned, %ld pages charged)",
	      v.storages, v.nr_areas, v.pinned_bytes, v.charged);
	check(ask(a, 'F') == 0 && ask(a, 'u') == 0, "it unmaps both");
	client_stop(a);
}

/* 3: truncated and grown again while the storage was kept idle. */
static void test_truncate(ino_t ino)
{
	struct client *a = client_start(&sec_other, path_a, false);
	uint64_t fresh = 0xc3, got;
	int fd, ret;

	long kept, idle;

	check(map_rw(a) == 0 && dev_write(a, 0xc2) == 0,
	      "a client maps the file and writes it");
	kept = view(ino, &sec_other).storage;
	ret = ask(a, 'u');
	idle = idle_files();
	check(ret == 0 && idle == 1,
	      "it unmaps; the storage is kept idle (%ld idle)", idle);
	fd = open(path_a, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) || ftruncate(fd, LEN) ||
	    pwrite(fd, &fresh, sizeof(fresh), 0) != sizeof(fresh))
		sec_bail("truncating %s: %s", path_a, strerror(errno));
	close(fd);
	ret = map_rw(a);
	got = dev_read(a);
	check(ret == 0 && got == 0xc3,
	      "after the file was truncated and grown again, a new MAP reads "
	      "what it holds now (%s; read %#llx, stale is 0xc2)",
	      strerror(ret), (unsigned long long)got);
	check(dev_write(a, 0xc4) == 0 && file_word(path_a) == 0xc4,
	      "and the device writes the file, not the old pages (file holds "
	      "%#llx)",
	      (unsigned long long)file_word(path_a));
	check(view(ino, &sec_other).storage == kept && idle_files() == 0,
	      "on the kept storage, reused (no idle file left)");
	ask(a, 'u');
	client_stop(a);
}

/* 4: another file at the same address. */
static void test_replace(ino_t ino_b)
{
	struct client *a = client_start(&sec_other, path_a, false);
	struct storage_view v;
	uint64_t got;
	int ret;

	check(map_rw(a) == 0 && ask(a, 'u') == 0,
	      "a client maps and unmaps file A (its storage is kept)");
	snprintf(a->path2, sizeof(a->path2), "%s", path_b);
	ret = ask(a, 'x');
	check(ret == 0, "the client maps file B where A was (%s)",
	      strerror(ret));
	ret = map_rw(a);
	got = dev_read(a);
	check(ret == 0 && got == 0xe6,
	      "a MAP of that address reaches file B (%s; read %#llx, B holds "
	      "0xe6)",
	      strerror(ret), (unsigned long long)got);
	v = view(ino_b, &sec_other);
	check(v.storages == 1 && v.nr_areas == 1,
	      "the area is on file B's storage (%d storages, %ld areas)",
	      v.storages, v.nr_areas);
	ask(a, 'u');
	client_stop(a);
}

static int try_open_victim(void *arg)
{
	(void)arg;
	return open(path_a, O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES ? 0 :
									   1;
}

/* 5a: a user who cannot open the victim's file. */
static void test_no_access(void)
{
	struct client *victim = client_start(&sec_other, path_a, false);
	struct client *x;
	uint64_t got;
	int ret;

	check(map_rw(victim) == 0 && dev_write(victim, 0xf7) == 0,
	      "the victim maps its 0600 file and its device writes it");
	check(sec_run_as(&sec_attacker, try_open_victim, NULL, 10) == 0,
	      "the attacker cannot open the victim's file (EACCES)");
	x = client_start(&sec_attacker, path_mine, false);
	ret = map_rw(x);
	got = dev_read(x);
	check(ret == 0 && got == 0x99,
	      "the attacker's MAP of its own file at the same address and "
	      "offset reaches its own file (%s; read %#llx)",
	      strerror(ret), (unsigned long long)got);
	check(dev_write(x, 0x55) == 0 && file_word(path_mine) == 0x55 &&
		      file_word(path_a) == 0xf7 && dev_read(victim) == 0xf7,
	      "its device writes its own file, never the victim's (victim's "
	      "holds %#llx)",
	      (unsigned long long)file_word(path_a));
	ask(x, 'u');
	ask(victim, 'u');
	client_stop(x);
	client_stop(victim);
}

/* 5b: a user who may read a file the daemon holds writable. */
static void test_read_only(void)
{
	struct client *owner = client_start(&sec_other, path_ro, false);
	struct client *y = client_start(&sec_attacker, path_ro, true);
	uint64_t got;
	int ret;

	check(map_rw(owner) == 0,
	      "the owner maps its 0644 file writable (the daemon holds it "
	      "open for writing)");
	ret = map_rw(y);
	check(ret == EFAULT,
	      "a reader's writable MAP of its read-only mapping is EFAULT "
	      "(%s)",
	      ret ? strerror(ret) : "it succeeded");
	y->map_flags = IOMMU_IOAS_MAP_READABLE;
	ret = ask(y, 'm');
	got = dev_read(y);
	check(ret == 0 && got == 0x77,
	      "its read-only MAP shares the file's pages (%s; read %#llx)",
	      strerror(ret), (unsigned long long)got);
	ret = dev_write(y, 0x66);
	check(ret != 0 && file_word(path_ro) == 0x77,
	      "its device cannot write through the read-only MAP (%s; the "
	      "file holds %#llx)",
	      ret ? strerror(ret) : "the write succeeded",
	      (unsigned long long)file_word(path_ro));
	ask(y, 'u');
	ask(owner, 'u');
	client_stop(y);
	client_stop(owner);
}

#define CHURN_FILES 100

struct churn {
	int err;
	double last_unmap; /* sec_now() after the last UNMAP */
	int cmd[2], ack[2];
};

/*
 * MAP and UNMAP one page of each of CHURN_FILES memfds, one after another;
 * say 'D' and keep /dev/iommu open until told 'c' (churn again) or 'q'.
 */
static int churn(void *arg)
{
	struct churn *c = arg;
	uint32_t ioas;
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC), cmd = 'c';

	if (fd < 0 || (c->err = (int)-sec_ioas_alloc(fd, &ioas)))
		return c->err = c->err ? c->err : errno, 1;
	for (; cmd == 'c'; cmd = sec_hear(c->cmd[0], 60)) {
		for (int i = 0; i < CHURN_FILES; i++) {
			void *mem = sec_memfd_page();
			uint64_t iova = 0;

			if (!mem)
				return c->err = errno, 1;
			if ((c->err = (int)-sec_map(fd, ioas, mem, SEC_PAGE,
						    &iova, 0)) ||
			    (c->err =
				     (int)-sec_unmap(fd, ioas, iova, SEC_PAGE)))
				return 1;
			munmap(mem, SEC_PAGE);
		}
		c->last_unmap = sec_now();
		sec_tell(c->ack[1], 'D');
	}
	return 0;
}

/* Until the daemon keeps no idle file, or @timeout_s: how many it keeps. */
static long idle_within(double timeout_s)
{
	double t0 = sec_now();
	long idle;

	while ((idle = idle_files()) > 0 && sec_now() - t0 < timeout_s)
		sec_sleep(0.05);
	return idle;
}

/*
 * What is kept is bounded in number and in time, and nothing a client
 * freed outlives its close: the kernel frees the pages with the last area.
 */
static void test_kept_bounds(void)
{
	struct churn *c = sec_shared(sizeof(*c));
	pid_t pid;
	long idle;

	if (pipe(c->cmd) || pipe(c->ack))
		sec_bail("pipe: %s", strerror(errno));
	pid = sec_spawn(&sec_attacker, churn, c);
	check(sec_hear(c->ack[0], 60) == 'D',
	      "a user maps and unmaps %d memfds in turn (%s)", CHURN_FILES,
	      strerror(c->err));
	idle = idle_files();
	check(idle >= 1 && idle <= 64,
	      "the daemon keeps at most 64 of them idle (%ld)", idle);
	idle = idle_within(10);
	check(idle == 0,
	      "and lets go of every kept file within seconds while the client "
	      "lives (%ld left after %.1f s)",
	      idle, sec_now() - c->last_unmap);
	sec_tell(c->cmd[1], 'c');
	check(sec_hear(c->ack[0], 60) == 'D' && idle_files() >= 1,
	      "it churns again and files are kept idle (%s)", strerror(c->err));
	sec_tell(c->cmd[1], 'q');
	check(sec_wait(pid, 30) == 0, "the client closes /dev/iommu and exits");
	/* The idle timeout is 2 s after the last UNMAP; the close is sooner. */
	idle = idle_within(10);
	check(idle == 0 && sec_now() - c->last_unmap < 2.0,
	      "its close lets go of every kept file at once (%ld left after "
	      "%.2f s)",
	      idle, sec_now() - c->last_unmap);
	munmap(c, sizeof(*c));
}

int main(int argc, char **argv)
{
	char path_memfd[64];
	uint64_t word = 0x11;
	ino_t ino_a, ino_b;
	struct stat st;
	int memfd;

	sec_init(argc, argv);
	ino_a = make_file("shared-a", &sec_other, 0600, 0x11, path_a,
			  sizeof(path_a));
	ino_b = make_file("shared-b", &sec_other, 0600, 0xe6, path_b,
			  sizeof(path_b));
	make_file("shared-mine", &sec_attacker, 0600, 0x99, path_mine,
		  sizeof(path_mine));
	make_file("shared-ro", &sec_other, 0644, 0x77, path_ro,
		  sizeof(path_ro));
	memfd = memfd_create("shared-memfd", 0); /* the clients inherit it */
	if (memfd < 0 || ftruncate(memfd, LEN) ||
	    pwrite(memfd, &word, sizeof(word), 0) != sizeof(word) ||
	    fstat(memfd, &st))
		sec_bail("memfd: %s", strerror(errno));
	snprintf(path_memfd, sizeof(path_memfd), "/proc/self/fd/%d", memfd);
	test_two_clients(path_memfd, st.st_ino,
			 "a memfd (found by its unique inode number)");
	wait_no_idle();
	test_two_clients(path_a, ino_a,
			 "a tmpfs file (numbers that may repeat: found by "
			 "its inode's watch)");
	close(memfd);
	test_map_and_map_file(ino_a);
	test_truncate(ino_a);
	test_replace(ino_b);
	test_no_access();
	test_read_only();
	test_kept_bounds();
	sec_check_serving("the shared-memory tests");
	return sec_done();
}
