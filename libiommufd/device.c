// SPDX-License-Identifier: MIT
/*
 * iommufdd's device ioctls (<iommufd/iommufdd_ext.h>): binding a device of
 * a VFIO group the caller opened, attaching and detaching it. A kernel's
 * /dev/iommu answers ENOTTY, passed on like any other errno.
 */
#include <errno.h>
#include <string.h>

#include <iommufd/iommufdd_ext.h>

#include "private.h"

IOMMUFD_EXPORT int iommufd_vfio_device_bind(struct iommufd *h, int group_fd,
					    const char *name,
					    uint32_t *out_dev_id)
{
	struct iommufdd_vfio_device_bind cmd = {
		.size = sizeof(cmd),
		.group_fd = group_fd,
	};
	int ret;

	if (!name || !out_dev_id)
		return libiommufd_err(-EINVAL);
	cmd.name_len = strlen(name);
	cmd.name_uptr = libiommufd_uptr(name);
	ret = LIBIOMMUFD_IOCTL(h, IOMMUFDD_VFIO_DEVICE_BIND, &cmd);
	if (!ret)
		*out_dev_id = cmd.out_dev_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_device_attach(struct iommufd *h, uint32_t dev_id,
					 uint32_t pt_id, uint32_t *out_hwpt_id)
{
	struct iommufdd_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int ret = LIBIOMMUFD_IOCTL(h, IOMMUFDD_DEVICE_ATTACH, &cmd);

	if (!ret && out_hwpt_id)
		*out_hwpt_id = cmd.pt_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_device_detach(struct iommufd *h, uint32_t dev_id)
{
	struct iommufdd_device_detach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};

	return libiommufd_err(
		LIBIOMMUFD_IOCTL(h, IOMMUFDD_DEVICE_DETACH, &cmd));
}
