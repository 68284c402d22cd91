// SPDX-License-Identifier: MIT
/*
 * Handles, logging and the single ioctl entry, plus the context-wide
 * commands: IOMMU_DESTROY, IOMMU_OPTION and IOMMU_VFIO_IOAS.
 */
/* XSI strerror_r, which does not depend on the C library's extensions. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <iommufd/iommufd.h>

#include "private.h"

void libiommufd_log(const struct iommufd *h, int priority, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!h || !h->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->log_fn(h->log_userdata, priority, msg);
}

void libiommufd_log_errno(const struct iommufd *h, const char *name, int err)
{
	char msg[64];

	if (!h || !h->log_fn)
		return;
	if (strerror_r(-err, msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "errno %d", -err);
	libiommufd_log(h, IOMMUFD_LOG_DEBUG, "%s on fd %d: %s", name, h->fd,
		       msg);
}

int libiommufd_ioctl(struct iommufd *h, unsigned long cmd, void *arg,
		     const char *name)
{
	int ret;

	if (!h)
		return -EINVAL;
	/*
	 * No EINTR retry: over CUSE an interrupted request may already have
	 * run, and repeating an ALLOC or MAP is not harmless.
	 */
	ret = ioctl(h->fd, cmd, arg);
	if (ret >= 0)
		return ret;
	ret = -errno;
	if (name)
		libiommufd_log_errno(h, name, ret);
	return ret;
}

static int handle_new(int fd, bool owns_fd, struct iommufd **out)
{
	struct iommufd *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->owns_fd = owns_fd;
	*out = h;
	return 0;
}

IOMMUFD_EXPORT int iommufd_open(const char *path, struct iommufd **out)
{
	int fd, ret;

	if (!out)
		return libiommufd_err(-EINVAL);
	*out = NULL;
	fd = open(path ? path : "/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return libiommufd_err(-errno);
	ret = handle_new(fd, true, out);
	if (ret)
		close(fd);
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_from_fd(int fd, uint32_t flags, struct iommufd **out)
{
	if (!out)
		return libiommufd_err(-EINVAL);
	*out = NULL;
	if (flags & ~IOMMUFD_FROM_FD_TAKE_OWNERSHIP)
		return libiommufd_err(-EOPNOTSUPP);
	/* Refuse a dead fd now rather than on some later, unrelated call. */
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return libiommufd_err(-EBADF);
	return libiommufd_err(
		handle_new(fd, flags & IOMMUFD_FROM_FD_TAKE_OWNERSHIP, out));
}

IOMMUFD_EXPORT int iommufd_fd(const struct iommufd *h)
{
	return h ? h->fd : libiommufd_err(-EINVAL);
}

IOMMUFD_EXPORT void iommufd_close(struct iommufd *h)
{
	int saved = errno;

	if (!h)
		return;
	if (h->owns_fd)
		close(h->fd);
	free(h);
	errno = saved;
}

IOMMUFD_EXPORT void iommufd_set_log_fn(struct iommufd *h, iommufd_log_fn fn,
				       void *userdata)
{
	if (!h)
		return;
	h->log_fn = fn;
	h->log_userdata = userdata;
}

IOMMUFD_EXPORT int iommufd_destroy(struct iommufd *h, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return libiommufd_err(LIBIOMMUFD_IOCTL(h, IOMMU_DESTROY, &cmd));
}

/* ---- IOMMU_OPTION ------------------------------------------------------ */

static int option(struct iommufd *h, uint32_t option_id, uint16_t op,
		  uint32_t object_id, uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object_id,
		.val64 = *val,
	};
	int ret;

	ret = LIBIOMMUFD_IOCTL(h, IOMMU_OPTION, &cmd);
	if (!ret)
		*val = cmd.val64;
	return ret;
}

IOMMUFD_EXPORT int iommufd_option_get(struct iommufd *h, uint32_t option_id,
				      uint32_t object_id, uint64_t *out_val)
{
	uint64_t val = 0;
	int ret;

	if (!out_val)
		return libiommufd_err(-EINVAL);
	ret = option(h, option_id, IOMMU_OPTION_OP_GET, object_id, &val);
	if (!ret)
		*out_val = val;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_option_set(struct iommufd *h, uint32_t option_id,
				      uint32_t object_id, uint64_t val)
{
	return libiommufd_err(
		option(h, option_id, IOMMU_OPTION_OP_SET, object_id, &val));
}

/* Both typed options are booleans today; a wider answer is a surprise. */
static int option_get_u32(struct iommufd *h, uint32_t option_id,
			  uint32_t object_id, uint32_t *out)
{
	uint64_t val = 0;
	int ret;

	if (!out)
		return -EINVAL;
	ret = option(h, option_id, IOMMU_OPTION_OP_GET, object_id, &val);
	if (ret)
		return ret;
	if (val > UINT32_MAX)
		return -EOVERFLOW;
	*out = (uint32_t)val;
	return 0;
}

IOMMUFD_EXPORT int iommufd_rlimit_mode_get(struct iommufd *h,
					   uint32_t *out_mode)
{
	return libiommufd_err(
		option_get_u32(h, IOMMU_OPTION_RLIMIT_MODE, 0, out_mode));
}

IOMMUFD_EXPORT int iommufd_rlimit_mode_set(struct iommufd *h, uint32_t mode)
{
	uint64_t val = mode;

	return libiommufd_err(option(h, IOMMU_OPTION_RLIMIT_MODE,
				     IOMMU_OPTION_OP_SET, 0, &val));
}

IOMMUFD_EXPORT int iommufd_ioas_huge_pages_get(struct iommufd *h,
					       uint32_t ioas_id,
					       uint32_t *out_enabled)
{
	return libiommufd_err(option_get_u32(h, IOMMU_OPTION_HUGE_PAGES,
					     ioas_id, out_enabled));
}

IOMMUFD_EXPORT int iommufd_ioas_huge_pages_set(struct iommufd *h,
					       uint32_t ioas_id,
					       uint32_t enabled)
{
	uint64_t val = enabled;

	return libiommufd_err(option(h, IOMMU_OPTION_HUGE_PAGES,
				     IOMMU_OPTION_OP_SET, ioas_id, &val));
}

/* ---- IOMMU_VFIO_IOAS ----------------------------------------------------- */

IOMMUFD_EXPORT int iommufd_vfio_ioas_get(struct iommufd *h,
					 uint32_t *out_ioas_id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	int ret;

	if (!out_ioas_id)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_VFIO_IOAS, &cmd);
	if (!ret)
		*out_ioas_id = cmd.ioas_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_vfio_ioas_set(struct iommufd *h, uint32_t ioas_id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.op = IOMMU_VFIO_IOAS_SET,
	};

	return libiommufd_err(LIBIOMMUFD_IOCTL(h, IOMMU_VFIO_IOAS, &cmd));
}

IOMMUFD_EXPORT int iommufd_vfio_ioas_clear(struct iommufd *h)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_VFIO_IOAS_CLEAR,
	};

	return libiommufd_err(LIBIOMMUFD_IOCTL(h, IOMMU_VFIO_IOAS, &cmd));
}
