// SPDX-License-Identifier: MIT
/*
 * The core half of returning file descriptors (launcher.h): the private
 * PREPARE / COMMIT / ABORT ioctls the supervisor thread issues on a
 * duplicate of the caller's /dev/iommu file. They run on the main loop, in
 * order with the caller's other requests, on the caller's own context.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommufd_private.h"
#include "launcher.h"
#include "log.h"
#include "objfile.h"
#include "uaccess.h"

int iommufd_fd_needs_launcher(struct iommufd_ucmd *ucmd)
{
	log_info("pid %d: %s returns a file descriptor, which needs the "
		 "program to run under iommufd-run",
		 (int)ucmd->caller->pid, ucmd->name);
	return -EOPNOTSUPP;
}

/* Private ioctls come only from the daemon's own supervisor thread. */
static bool caller_is_daemon(const struct ucaller *caller)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)caller->pid);
	return caller->pid > 0 && stat(path, &st) == 0;
}

static struct iommufd_fd_install *find_install(struct iommufd_ctx *ictx,
					       uint64_t token)
{
	struct iommufd_fd_install *install;

	list_for_each_entry(install, &ictx->pending_installs, item)
		if (install->token == token)
			return install;
	return NULL;
}

/*
 * The caller of the fd-returning ioctl, reached through the supervisor's
 * handles on its memory (the caller is not held in a request of ours).
 */
static struct ucaller target_of(const struct iommufdd_priv_fd *req,
				struct caller_handles *h)
{
	*h = (struct caller_handles){ req->mem_fd, req->maps_fd };
	return (struct ucaller){ .pid = 0, .handles = h };
}

static int fd_prepare(struct iommufd_ctx *ictx, struct iommufdd_priv_fd *req)
{
	struct caller_handles h;
	struct ucaller target = target_of(req, &h);
	struct iommufd_fd_install *install = calloc(1, sizeof(*install));
	long ret;

	if (!install)
		return -ENOMEM;
	install->ubuffer = req->arg;
	install->reopen_fd = -1;
	ret = iommufd_ctx_ioctl_install(ictx, &target, req->cmd, req->arg,
					install);
	if (ret < 0 || (!install->file && install->reopen_fd < 0)) {
		/* Failed, or the command made no file: its result is final. */
		if (install->reopen_fd >= 0)
			close(install->reopen_fd);
		free(install);
		req->token = 0;
		req->path[0] = '\0';
		return ret;
	}
	install->token = ++ictx->next_install_token;
	list_add_tail(&install->item, &ictx->pending_installs);
	req->token = install->token;
	if (install->file)
		snprintf(req->path, sizeof(req->path), "%s",
			 objfile_path(install->file));
	else
		snprintf(req->path, sizeof(req->path), "/proc/self/fd/%d",
			 install->reopen_fd);
	return 0;
}

static int fd_commit(struct iommufd_ctx *ictx, struct iommufdd_priv_fd *req)
{
	struct iommufd_fd_install *install = find_install(ictx, req->token);
	struct caller_handles h;
	struct ucaller target = target_of(req, &h);
	uint32_t fd = req->fd;
	int ret;

	if (!install)
		return -ENOENT;
	list_del(&install->item);
	ret = copy_to_user(&target, install->ubuffer + install->fd_offset, &fd,
			   sizeof(fd));
	/* The installed file (or the caller's mapping of it) holds it now. */
	if (install->obj)
		iommufd_object_put(install->obj);
	if (install->reopen_fd >= 0)
		close(install->reopen_fd);
	free(install);
	return ret;
}

static void install_abort(struct iommufd_ctx *ictx,
			  struct iommufd_fd_install *install)
{
	list_del(&install->item);
	/* Dropped first: the undo may destroy the object. */
	if (install->obj)
		iommufd_object_put(install->obj);
	if (install->abort)
		install->abort(ictx, install->priv);
	if (install->reopen_fd >= 0)
		close(install->reopen_fd);
	free(install);
}

static int fd_abort(struct iommufd_ctx *ictx, struct iommufdd_priv_fd *req)
{
	struct iommufd_fd_install *install = find_install(ictx, req->token);

	if (!install)
		return -ENOENT;
	install_abort(ictx, install);
	return 0;
}

/* The supervisor went away between PREPARE and COMMIT: undo the rest. */
void iommufd_fd_abort_pending(struct iommufd_ctx *ictx)
{
	while (!list_empty(&ictx->pending_installs))
		install_abort(ictx, list_first_entry(&ictx->pending_installs,
						     struct iommufd_fd_install,
						     item));
}

long iommufd_priv_ioctl(struct iommufd_ctx *ictx, const struct ucaller *caller,
			unsigned int cmd, uint64_t arg)
{
	struct iommufdd_priv_fd req;
	int ret;

	if (!caller_is_daemon(caller)) {
		log_warnx("pid %d: private ioctl 0x%x refused",
			  (int)caller->pid, cmd);
		return -ENOTTY;
	}
	if (copy_from_user(caller, &req, arg, sizeof(req)) ||
	    req.size != sizeof(req) || req.mem_fd < 0 || req.maps_fd < 0)
		return -EINVAL;

	switch (cmd) {
	case IOMMUFDD_PRIV_FD_PREPARE:
		ret = fd_prepare(ictx, &req);
		break;
	case IOMMUFDD_PRIV_FD_COMMIT:
		ret = fd_commit(ictx, &req);
		break;
	case IOMMUFDD_PRIV_FD_ABORT:
		ret = fd_abort(ictx, &req);
		break;
	default:
		return -ENOTTY;
	}
	if (ret >= 0 && copy_to_user(caller, arg, &req, sizeof(req)))
		return -EFAULT;
	return ret;
}
