// SPDX-License-Identifier: MIT
/*
 * Who may use the daemon (permission.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "permission.h"

struct permission daemon_permission = {
	.mode = PERMISSION_DEFAULT_MODE,
	.gid = 0,
};

int permission_parse_group(const char *group, gid_t *gid)
{
	struct group *gr;
	char *end;
	unsigned long n;

	n = strtoul(group, &end, 10);
	if (*group && !*end) {
		*gid = (gid_t)n;
		return 0;
	}
	gr = getgrnam(group);
	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

static bool in_group(gid_t want, gid_t gid, const gid_t *groups,
		     unsigned int ngroups)
{
	if (gid == want)
		return true;
	for (unsigned int i = 0; i < ngroups; i++)
		if (groups[i] == want)
			return true;
	return false;
}

bool permission_allows(uid_t uid, gid_t gid, const gid_t *groups,
		       unsigned int ngroups, int accmode)
{
	mode_t need = 0, have;

	if (uid == 0)
		return true;
	if (accmode == O_RDONLY || accmode == O_RDWR)
		need |= 4;
	if (accmode == O_WRONLY || accmode == O_RDWR)
		need |= 2;
	/* The owner is root; the group's bits or the others', as the VFS. */
	if (in_group(daemon_permission.gid, gid, groups, ngroups))
		have = (daemon_permission.mode >> 3) & 7;
	else
		have = daemon_permission.mode & 7;
	return (have & need) == need;
}

mode_t permission_dir_mode(void)
{
	mode_t m = daemon_permission.mode & 0777;

	return m | ((m & 0444) >> 2);
}

int permission_apply(const char *path, bool directory)
{
	mode_t mode = directory ? permission_dir_mode() :
				  daemon_permission.mode & 07777;

	if (chown(path, 0, daemon_permission.gid)) {
		int err = errno;

		log_warn("cannot give %s the group %u", path,
			 (unsigned int)daemon_permission.gid);
		return -err;
	}
	if (chmod(path, mode)) {
		int err = errno;

		log_warn("cannot give %s the mode %04o", path,
			 (unsigned int)mode);
		return -err;
	}
	return 0;
}
