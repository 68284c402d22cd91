// SPDX-License-Identifier: MIT
/*
 * Finding 1: who may use the daemon at all. Like the kernel's /dev/iommu
 * (0660 root:iommufd by the distribution's rules), the FUSE file or CUSE
 * node, the launcher socket and the object-file directory belong to root
 * and the daemon's group; a user outside the group gets EACCES everywhere,
 * also as root of a user namespace of their own. The selftest interface
 * (mock devices that DMA) exists only with the mock backend: with any
 * other backend IOMMU_TEST_CMD is ENOTTY (variant "vfio").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "sec.h"
#include "sec_ioctl.h"

/* What a child saw, for the parent to judge. */
struct probe {
	int err; /* errno of the probed call, 0 if it succeeded */
	int step;
};

static char launcher_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char objects_dir[512];

static int try_open(void *arg)
{
	struct probe *p = arg;
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC);

	p->err = fd < 0 ? errno : 0;
	return 0;
}

/* As root of a user namespace of one's own, with every capability there. */
static int try_open_in_userns(void *arg)
{
	struct probe *p = arg;
	int ret = sec_enter_userns();

	if (ret) {
		p->step = 1;
		p->err = -ret;
		return 0;
	}
	p->step = 2;
	return try_open(arg);
}

static int try_connect(void *arg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct probe *p = arg;
	int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", launcher_sock);
	p->err = connect(sock, (struct sockaddr *)&addr, sizeof(addr)) ? errno :
									 0;
	close(sock);
	return 0;
}

static int try_list(void *arg)
{
	struct probe *p = arg;
	DIR *d = opendir(objects_dir);

	p->err = d ? 0 : errno;
	if (d)
		closedir(d);
	return 0;
}

/* Run @fn as @u; the errno it saw, or -1 if it did not report. */
static int probe_as(const struct sec_user *u, int (*fn)(void *))
{
	struct probe *p = sec_shared(sizeof(*p));
	int st, err;

	p->err = -1;
	st = sec_run_as(u, fn, p, 10);
	err = st == 0 ? p->err : -1;
	munmap(p, sizeof(*p));
	return err;
}

static const char *err_name(int err)
{
	return err < 0 ? "no answer" : err ? strerror(err) : "success";
}

static void check_owner(const char *what, const char *path, bool dir)
{
	struct stat st;

	if (stat(path, &st)) {
		check(0, "%s %s exists (%s)", what, path, strerror(errno));
		return;
	}
	if (dir)
		check(st.st_uid == 0 && st.st_gid == sec_group() &&
			      !(st.st_mode & 0007),
		      "%s %s is root:%u with no access for others (is %u:%u "
		      "%04o)",
		      what, path, sec_group(), st.st_uid, st.st_gid,
		      st.st_mode & 07777);
	else
		check(st.st_uid == 0 && st.st_gid == sec_group() &&
			      (st.st_mode & 0777) == 0660,
		      "%s %s is root:%u 0660 (is %u:%u %04o)", what, path,
		      sec_group(), st.st_uid, st.st_gid, st.st_mode & 07777);
}

static void test_device(void)
{
	const char *no_userns = sec_userns_unavailable();
	int err;

	check_owner("the device", sec_dev, false);
	err = probe_as(&sec_attacker, try_open);
	check(err == 0, "a user in group %u can open %s (%s)", sec_group(),
	      sec_dev, err_name(err));
	err = probe_as(&sec_outsider, try_open);
	check(err == EACCES,
	      "a user outside group %u gets EACCES opening %s "
	      "(%s)",
	      sec_group(), sec_dev, err_name(err));
	if (no_userns) {
		sec_skip(no_userns,
			 "an outsider who is root of a user namespace of "
			 "their own gets EACCES too");
		return;
	}
	err = probe_as(&sec_outsider, try_open_in_userns);
	check(err == EACCES,
	      "an outsider who is root of a user namespace of their own gets "
	      "EACCES too (%s)",
	      err_name(err));
}

static void test_launcher(void)
{
	char *const run_true[] = { (char *)sec_env("IOMMUFD_RUN"),
				   "--run-dir",
				   (char *)sec_env("IOMMUFDD_RUN_DIR"),
				   "--",
				   "/bin/true",
				   NULL };
	int err, st;

	check_owner("the launcher socket", launcher_sock, false);
	st = sec_exec_as(&sec_attacker, run_true, 20);
	check(st == 0,
	      "a user in the group can run a program under "
	      "iommufd-run (exit status %d)",
	      st);
	err = probe_as(&sec_outsider, try_connect);
	check(err == EACCES, "an outsider gets EACCES connecting to %s (%s)",
	      launcher_sock, err_name(err));
}

static void test_objects_dir(void)
{
	int err;

	check_owner("the object-file directory", objects_dir, true);
	err = probe_as(&sec_outsider, try_list);
	check(err == EACCES, "an outsider gets EACCES listing %s (%s)",
	      objects_dir, err_name(err));
}

/* IOMMU_TEST_CMD ops of a mock device, in a child as a group member. */
static int try_selftest(void *arg)
{
	struct probe *p = arg;
	char buf[8];
	uint32_t ioas;
	int fd = open(sec_dev, O_RDWR | O_CLOEXEC);

	p->step = 0;
	if (fd < 0)
		return p->err = errno, 0;
	p->step = 1;
	p->err = (int)-sec_ioas_alloc(fd, &ioas);
	if (p->err)
		return 0;
	p->step = 2;
	p->err = (int)-sec_mock_domain(fd, ioas, NULL);
	if (p->err != ENOTTY)
		return 0;
	p->step = 3;
	/* Our DMA extension is a selftest op too. */
	p->err = (int)-sec_dev_dma(fd, 1, 0, buf, sizeof(buf), false);
	return 0;
}

static void test_selftest(bool mock)
{
	struct probe *p = sec_shared(sizeof(*p));
	int st = sec_run_as(&sec_attacker, try_selftest, p, 10);

	if (mock) {
		check(st == 0 && p->step == 2 && p->err == 0,
		      "with --backend mock, IOMMU_TEST_CMD MOCK_DOMAIN works "
		      "(%s)",
		      st ? "no answer" : err_name(p->err));
	} else {
		check(st == 0 && p->step == 3 && p->err == ENOTTY,
		      "with another backend, IOMMU_TEST_CMD is ENOTTY (step "
		      "%d: %s)",
		      p->step, st ? "no answer" : err_name(p->err));
	}
	munmap(p, sizeof(*p));
}

int main(int argc, char **argv)
{
	const char *variant = getenv("SECURITY_VARIANT");
	const char *run_dir;

	sec_init(argc, argv);
	if (variant && !strcmp(variant, "vfio")) {
		test_selftest(false);
		sec_check_serving("the selftest probes");
		return sec_done();
	}
	run_dir = sec_env("IOMMUFDD_RUN_DIR");
	snprintf(launcher_sock, sizeof(launcher_sock), "%s/launcher.sock",
		 run_dir);
	snprintf(objects_dir, sizeof(objects_dir), "%s/objects", run_dir);
	test_device();
	test_launcher();
	test_objects_dir();
	test_selftest(true);
	sec_check_serving("the outsider's attempts");
	return sec_done();
}
