// SPDX-License-Identifier: MIT
/*
 * vIOMMU and vDEVICE objects (docs/newest-uapi.md §2, §3.1, §3.2): a vIOMMU
 * is the guest's view of one physical IOMMU, built on a nesting-parent
 * HWPT_PAGING it holds; a vDEVICE gives a device its virtual ID in one
 * vIOMMU. Checks run in the kernel's order, so the first failing one
 * decides the errno, and ids are reserved where the kernel reserves them.
 * Also the helpers the core offers backends (the kernel's driver.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "iommufd_private.h"
#include "log.h"

void *iommufd_viommu_priv(struct iommufd_viommu *viommu)
{
	return viommu->priv;
}

void iommufd_viommu_set_priv(struct iommufd_viommu *viommu, void *priv)
{
	viommu->priv = priv;
}

struct iommu_device *iommufd_viommu_find_dev(struct iommufd_viommu *viommu,
					     uint64_t virt_id)
{
	struct iommufd_vdevice *vdev;

	list_for_each_entry(vdev, &viommu->vdevices, item) {
		if (vdev->virt_id == virt_id)
			return vdev->idev->dev;
	}
	return NULL;
}

int iommufd_viommu_get_vdev_id(struct iommufd_viommu *viommu,
			       struct iommu_device *dev, uint64_t *virt_id)
{
	struct iommufd_vdevice *vdev;

	list_for_each_entry(vdev, &viommu->vdevices, item) {
		if (vdev->idev->dev == dev) {
			*virt_id = vdev->virt_id;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The kernel's iommufd_viommu_alloc_mmap(): a zeroed region of @length
 * bytes the caller may mmap() at *@offset through its iommufd (under
 * iommufd-run, mmap_region.c). The vIOMMU cannot be destroyed while it is
 * mapped; it has one region at most.
 */
int iommufd_viommu_alloc_mmap(struct iommufd_viommu *viommu, uint64_t length,
			      uint64_t *offset)
{
	int ret;

	if (viommu->mmap)
		return -EEXIST;
	ret = iommufd_mmap_region_alloc(viommu->ictx, &viommu->obj, length,
					&viommu->mmap);
	if (!ret)
		*offset = mmap_region_offset(viommu->mmap);
	return ret;
}

int iommufd_viommu_mmap_write(struct iommufd_viommu *viommu, uint64_t at,
			      const void *data, size_t len)
{
	return viommu->mmap ? mmap_region_write(viommu->mmap, at, data, len) :
			      -EINVAL;
}

void iommufd_viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu =
		container_of(obj, struct iommufd_viommu, obj);

	if (viommu->ops->viommu_destroy)
		viommu->ops->viommu_destroy(viommu);
	if (viommu->mmap)
		iommufd_mmap_region_destroy(viommu->ictx, viommu->mmap);
	if (viommu->hwpt)
		iommufd_object_put(&viommu->hwpt->common.obj);
}

/* §3.1 steps 2-5: the device and the nesting parent. */
static int viommu_lookup(struct iommufd_ucmd *ucmd,
			 const struct iommu_viommu_alloc *cmd,
			 struct iommufd_device **idev,
			 struct iommufd_hwpt_paging **parent)
{
	struct iommufd_object *obj;
	const struct iommu_backend_ops *ops;

	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	*idev = container_of(obj, struct iommufd_device, obj);
	ops = (*idev)->dev->ops;
	if (!ops->viommu_init || !ops->viommu_type_supported(cmd->type)) {
		iommufd_put_object(ucmd->ictx, obj);
		return -EOPNOTSUPP;
	}
	*parent = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (!*parent) {
		iommufd_put_object(ucmd->ictx, obj);
		return -ENOENT;
	}
	if (!(*parent)->nest_parent) {
		iommufd_put_object(ucmd->ictx, &(*parent)->common.obj);
		iommufd_put_object(ucmd->ictx, obj);
		return -EINVAL;
	}
	return 0;
}

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	const struct iommu_user_data data = {
		.caller = ucmd->caller,
		.type = cmd->type,
		.len = cmd->data_len,
		.uptr = cmd->data_uptr,
	};
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	int ret;

	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	ret = viommu_lookup(ucmd, cmd, &idev, &parent);
	if (ret)
		return ret;

	viommu = iommufd_object_alloc_type(ucmd->ictx, viommu,
					   IOMMUFD_OBJ_VIOMMU);
	if (!viommu) {
		ret = -ENOMEM;
		goto out_put;
	}
	viommu->ictx = ucmd->ictx;
	list_init(&viommu->vdevices);
	list_init(&viommu->veventqs);
	list_init(&viommu->hw_queues);
	viommu->type = cmd->type;
	/* The lookup's reference on the parent becomes the vIOMMU's. */
	viommu->hwpt = parent;
	parent = NULL;
	viommu->ops = idev->dev->ops;
	/* No data: the driver is told the type alone, as in the kernel. */
	{
		const struct iommu_user_data none = { .caller = ucmd->caller,
						      .type = cmd->type };

		ret = viommu->ops->viommu_init(viommu, cmd->type,
					       cmd->data_len ? &data : &none);
	}
	if (ret)
		goto out_abort;

	cmd->out_viommu_id = viommu->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &viommu->obj);
	goto out_put;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &viommu->obj);
out_put:
	if (parent)
		iommufd_put_object(ucmd->ictx, &parent->common.obj);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return ret;
}

void iommufd_vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev =
		container_of(obj, struct iommufd_vdevice, obj);

	if (!vdev->viommu)
		return; /* aborted before it was linked */
	list_del(&vdev->item);
	if (vdev->idev && vdev->idev->vdev == vdev)
		vdev->idev->vdev = NULL;
	iommufd_object_put(&vdev->viommu->obj);
}

void iommufd_device_tombstone_vdevice(struct iommufd_device *idev)
{
	idev->destroying = true;
	if (idev->vdev)
		iommufd_object_tombstone(idev->ictx, &idev->vdev->obj);
}

/* §3.2 steps 2-6: the vIOMMU and a device that may get a vDEVICE. */
static int vdevice_lookup(struct iommufd_ucmd *ucmd,
			  const struct iommu_vdevice_alloc *cmd,
			  struct iommufd_viommu **viommu,
			  struct iommufd_device **idev)
{
	struct iommufd_object *vobj, *dobj;
	int ret = 0;

	vobj = iommufd_get_object(ucmd->ictx, cmd->viommu_id,
				  IOMMUFD_OBJ_VIOMMU);
	if (!vobj)
		return -ENOENT;
	dobj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!dobj) {
		iommufd_put_object(ucmd->ictx, vobj);
		return -ENOENT;
	}
	*viommu = container_of(vobj, struct iommufd_viommu, obj);
	*idev = container_of(dobj, struct iommufd_device, obj);
	/* One physical IOMMU per backend: only another backend differs. */
	if ((*idev)->dev->ops != (*viommu)->ops)
		ret = -EINVAL;
	else if ((*idev)->destroying)
		ret = -ENOENT;
	else if ((*idev)->vdev)
		ret = -EEXIST;
	if (ret) {
		iommufd_put_object(ucmd->ictx, dobj);
		iommufd_put_object(ucmd->ictx, vobj);
	}
	return ret;
}

int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_vdevice *vdev;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	int ret;

	ret = vdevice_lookup(ucmd, cmd, &viommu, &idev);
	if (ret)
		return ret;
	vdev = iommufd_object_alloc_type(ucmd->ictx, vdev, IOMMUFD_OBJ_VDEVICE);
	if (!vdev) {
		ret = -ENOMEM;
		goto out_put;
	}
	/* The id is reserved before the virtual ID is checked (§3.2). */
	if (iommufd_viommu_find_dev(viommu, cmd->virt_id)) {
		iommufd_object_abort(ucmd->ictx, &vdev->obj);
		ret = -EEXIST;
		goto out_put;
	}
	vdev->virt_id = cmd->virt_id;
	vdev->idev = idev;
	vdev->viommu = viommu;
	iommufd_object_get(&viommu->obj);
	list_add_tail(&vdev->item, &viommu->vdevices);
	idev->vdev = vdev;

	cmd->out_vdevice_id = vdev->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &vdev->obj);
		goto out_put;
	}
	iommufd_object_finalize(ucmd->ictx, &vdev->obj);
out_put:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return ret;
}
