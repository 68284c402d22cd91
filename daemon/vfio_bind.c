// SPDX-License-Identifier: MIT
/*
 * IOMMUFDD_VFIO_DEVICE_BIND: a VMM binds a device of a VFIO group it
 * opened itself (iommufdd_ext.h). This daemon is root and its callers are
 * not, so the group is taken only as the caller proved it in this very
 * request: the caller's own descriptor, duplicated with pidfd_getfd while
 * the caller is held in the request (caller.h), and checked to be a VFIO
 * group before the daemon does anything with it. A group opens only once
 * (a second open is EBUSY), so holding its descriptor means having opened
 * it, with the kernel's permission check on /dev/vfio/GROUP being the
 * caller's, or having been handed it by whoever did. Nothing is ever
 * looked up by pid later: the binding holds that file, and the context.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <iommufd/iommufdd_ext.h>

#include "backend_vfio.h"
#include "caller.h"
#include "iommufd_private.h"
#include "log.h"
#include "uaccess.h"
#include "vfio_host.h"

/*
 * Device nodes live on these: a file of theirs can be examined and closed
 * without waiting on anybody (a FUSE file's close waits on its server).
 */
static bool device_node_fstype(const char *fstype)
{
	return !strcmp(fstype, "devtmpfs") || !strcmp(fstype, "tmpfs");
}

/*
 * The caller's descriptor @fd, checked to be a VFIO group: a duplicate
 * of it, and the group number. -EBADF (no such descriptor), -EINVAL (not
 * a VFIO group), -EPERM (caller not reachable).
 */
static int take_vfio_group(const struct ucaller *caller, int fd,
			   unsigned int *number)
{
	char fstype[32];
	struct statx stx;
	int dup, major, group, ret;

	ret = caller_fd_fstype(caller, fd, fstype, sizeof(fstype));
	if (ret)
		return ret == -EBADF ? -EBADF : -EINVAL;
	if (!device_node_fstype(fstype))
		return -EINVAL;
	major = vfio_host_group_major();
	if (major < 0)
		return -EINVAL;
	dup = caller_getfd(caller, fd);
	if (dup < 0)
		return dup;
	/*
	 * The descriptor may have been replaced since fdinfo was read: look
	 * at what we hold without asking its file system anything.
	 */
	if (statx(dup, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE,
		  &stx) ||
	    !S_ISCHR(stx.stx_mode) ||
	    stx.stx_rdev_major != (unsigned int)major) {
		close(dup);
		return -EINVAL;
	}
	group = vfio_host_group_of_rdev(
		makedev(stx.stx_rdev_major, stx.stx_rdev_minor));
	if (group < 0) {
		close(dup);
		return -EINVAL;
	}
	*number = (unsigned int)group;
	return dup;
}

/* The device name: printable, one path component, no NUL inside. */
static int copy_device_name(const struct iommufd_ucmd *ucmd,
			    const struct iommufdd_vfio_device_bind *cmd,
			    char *name)
{
	if (!cmd->name_len || cmd->name_len > IOMMUFDD_VFIO_DEVICE_NAME_MAX)
		return -EINVAL;
	if (copy_from_user(ucmd->caller, name, cmd->name_uptr, cmd->name_len))
		return -EFAULT;
	name[cmd->name_len] = '\0';
	if (strlen(name) != cmd->name_len || !vfio_host_valid_device_name(name))
		return -EINVAL;
	return 0;
}

int iommufd_vfio_device_bind(struct iommufd_ucmd *ucmd)
{
	struct iommufdd_vfio_device_bind *cmd = ucmd->cmd;
	char name[IOMMUFDD_VFIO_DEVICE_NAME_MAX + 1];
	struct iommufd_device *idev;
	struct iommu_device *dev;
	struct vfio_group *g;
	unsigned int number;
	int fd, ret;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (iommu_backend_current() != &vfio_backend_ops)
		return -EOPNOTSUPP;
	ret = copy_device_name(ucmd, cmd, name);
	if (ret)
		return ret;
	ret = caller_require_direct(
		ucmd->caller, "taking the caller's VFIO group (pidfd_getfd)");
	if (ret)
		return ret;
	fd = take_vfio_group(ucmd->caller, cmd->group_fd, &number);
	if (fd < 0)
		return fd;
	if (!vfio_host_group_has_device(number, name)) {
		close(fd);
		return -EINVAL;
	}

	g = vfio_group_get(ucmd->ictx, number, fd, &ret);
	if (!g)
		return ret;
	dev = vfio_dev_bind(g, name, &ret);
	if (!dev) {
		vfio_group_put(g);
		return ret;
	}
	idev = iommufd_device_alloc(ucmd->ictx, dev);
	if (!idev) {
		vfio_dev_unbind(dev);
		return -ENOMEM;
	}
	idev->unbind = vfio_dev_unbind;
	cmd->out_dev_id = idev->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &idev->obj);
		return ret;
	}
	iommufd_object_finalize(ucmd->ictx, &idev->obj);
	log_debug("pid %d: %s of group %u bound as device %u",
		  (int)ucmd->caller->pid, name, number, idev->obj.id);
	return 0;
}
