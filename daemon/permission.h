/* SPDX-License-Identifier: MIT */
/*
 * Who may use the daemon: the owner (root), group and mode of /dev/iommu,
 * as the kernel's device node has them (0660 root:iommufd by default,
 * --mode and --group). The same owner, group and mode go to the object-file
 * directory and the iommufd-run launcher socket, so a user who may not open
 * /dev/iommu cannot use them either.
 *
 * The kernel checks the node's mode on open (the FUSE file is mounted with
 * default_permissions; the CUSE node is a real device node); the daemon
 * checks the opener's credentials again itself, so a node whose mode was
 * changed behind its back does not open the door.
 */
#ifndef IOMMUFDD_PERMISSION_H
#define IOMMUFDD_PERMISSION_H

#include <stdbool.h>
#include <sys/types.h>

#define PERMISSION_DEFAULT_MODE 0660
#define PERMISSION_DEFAULT_GROUP "iommufd"

struct permission {
	mode_t mode; /* permission bits */
	gid_t gid;
};

/* What the daemon was told (main.c sets it before anything starts). */
extern struct permission daemon_permission;

/*
 * @group: a group name or a number. 0, or -ENOENT for an unknown name.
 */
int permission_parse_group(const char *group, gid_t *gid);

/*
 * May a caller with these credentials open for @accmode (O_RDONLY,
 * O_WRONLY, O_RDWR)? The owner is root. @groups lists the supplementary
 * groups (the primary one is @gid).
 */
bool permission_allows(uid_t uid, gid_t gid, const gid_t *groups,
		       unsigned int ngroups, int accmode);

/* Give @path root:group and the mode (x added where r is, for dirs). */
int permission_apply(const char *path, bool directory);

/* The mode bits for a directory: search wherever reading is allowed. */
mode_t permission_dir_mode(void);

#endif
