// SPDX-License-Identifier: MIT
/*
 * DEVICE objects: a backend device bound to a context, and its attachment
 * to a HWPT. Attaching to an IOAS picks a compatible automatic domain or
 * makes a new one; replace allocates the new domain before it lets go of
 * the old one, which is the id order the kernel shows.
 */
#include <errno.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufdd_ext.h>

#include "backend.h"
#include "iommufd_private.h"
#include "log.h"
#include "uaccess.h"

#define MAX_RESV_REGIONS 16

struct iommufd_device *iommufd_device_alloc(struct iommufd_ctx *ictx,
					    struct iommu_device *dev)
{
	struct iommufd_device *idev =
		iommufd_object_alloc_type(ictx, idev, IOMMUFD_OBJ_DEVICE);

	if (!idev)
		return NULL;
	idev->ictx = ictx;
	idev->dev = dev;
	list_init(&idev->pasids);
	return idev;
}

struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct iommu_device *dev)
{
	struct iommufd_device *idev = iommufd_device_alloc(ictx, dev);

	if (!idev)
		return NULL;
	/* The binding driver holds the device until it unbinds. */
	iommufd_object_get(&idev->obj);
	iommufd_object_finalize(ictx, &idev->obj);
	return idev;
}

void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_object_put(&idev->obj);
	iommufd_object_remove(idev->ictx, idev->obj.id, false);
}

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		container_of(obj, struct iommufd_device, obj);

	/*
	 * Whoever destroys it (a driver's unbind, DESTROY of a device the
	 * object owns, the context's release): its PASIDs let go of their
	 * HWPTs, and its vDEVICE goes, leaving its id a tombstone (§2.4).
	 */
	iommufd_device_pasid_detach_all(idev);
	iommufd_device_tombstone_vdevice(idev);
	/* Only a detached device is destroyed; the object owns its binding. */
	if (idev->unbind)
		idev->unbind(idev->dev);
}

/*
 * Closing a VFIO device fd detaches it before it unbinds; DESTROY of a
 * device the object owns does the same, unless something besides its
 * attachment and the table still holds it (then DESTROY is EBUSY and
 * nothing changed).
 */
void iommufd_device_prepare_destroy(struct iommufd_ctx *ictx, unsigned int id)
{
	struct iommufd_object *obj =
		iommufd_get_object(ictx, id, IOMMUFD_OBJ_DEVICE);
	struct iommufd_device *idev;

	if (!obj)
		return;
	idev = container_of(obj, struct iommufd_device, obj);
	/* The table, the attachment and our lookup. */
	if (idev->unbind && idev->hwpt && obj->users == 3)
		iommufd_device_detach(idev);
	iommufd_put_object(ictx, obj);
}

/* Context teardown: detach owned devices, so they become leaves. */
void iommufd_device_detach_owned(struct iommufd_ctx *ictx)
{
	for (unsigned int id = 1; id < ictx->nr_slots; id++) {
		struct iommufd_object *obj = ictx->objects[id];
		struct iommufd_device *idev;

		if (!obj || obj->type != IOMMUFD_OBJ_DEVICE)
			continue;
		idev = container_of(obj, struct iommufd_device, obj);
		if (idev->unbind)
			iommufd_device_detach(idev);
	}
}

static struct io_pagetable *hwpt_iopt(struct iommufd_hw_pagetable *hwpt)
{
	if (!hwpt_is_paging(hwpt))
		hwpt = &to_hwpt_nested(hwpt)->parent->common;
	return &to_hwpt_paging(hwpt)->ioas->iopt;
}

/* The device's reserved regions become reserved IOVA of the IOAS. */
static int device_reserve_regions(struct iommufd_device *idev,
				  struct io_pagetable *iopt)
{
	struct iommu_resv_region regions[MAX_RESV_REGIONS];
	unsigned int n, i;
	int ret;

	n = idev->dev->ops->resv_regions(idev->dev, regions, MAX_RESV_REGIONS);
	for (i = 0; i < n; i++) {
		ret = iopt_reserve_iova(iopt, regions[i].start, regions[i].last,
					idev);
		if (ret) {
			iopt_remove_reserved_iova(iopt, idev);
			return ret;
		}
	}
	return 0;
}

static void hwpt_put(struct iommufd_ctx *ictx,
		     struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt_is_paging(hwpt) && to_hwpt_paging(hwpt)->auto_domain)
		iommufd_object_put_and_try_destroy(ictx, &hwpt->obj);
	else
		iommufd_object_put(&hwpt->obj);
}

/*
 * Point the device at @hwpt. For a fresh attach and for a replace alike the
 * backend switches the device in one step, so DMA is never left blocked.
 */
static int device_do_attach(struct iommufd_device *idev,
			    struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_hw_pagetable *old = idev->hwpt;
	struct io_pagetable *iopt = hwpt_iopt(hwpt);
	bool new_iopt = !old || hwpt_iopt(old) != iopt;
	int ret;

	if (new_iopt) {
		ret = device_reserve_regions(idev, iopt);
		if (ret)
			return ret;
	}
	ret = idev->dev->ops->attach_dev(hwpt->domain, idev->dev);
	if (ret) {
		if (new_iopt)
			iopt_remove_reserved_iova(iopt, idev);
		return ret;
	}
	iommufd_object_get(&hwpt->obj);
	idev->hwpt = hwpt;
	if (old) {
		if (new_iopt)
			iopt_remove_reserved_iova(hwpt_iopt(old), idev);
		hwpt_put(idev->ictx, old);
	} else {
		iommufd_object_get(&idev->obj);
	}
	return 0;
}

int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev)
{
	return device_do_attach(idev, hwpt);
}

/* Use an automatic domain of @ioas that takes the device, or make one. */
static int device_auto_attach(struct iommufd_device *idev,
			      struct iommufd_ioas *ioas, uint32_t *pt_id)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	int ret;

	list_for_each_entry(hwpt_paging, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt_paging->auto_domain)
			continue;
		if (idev->hwpt == &hwpt_paging->common) {
			*pt_id = hwpt_paging->common.obj.id;
			return 0;
		}
		ret = device_do_attach(idev, &hwpt_paging->common);
		/* EINVAL means "not compatible": try the next one. */
		if (ret == -EINVAL)
			continue;
		if (!ret)
			*pt_id = hwpt_paging->common.obj.id;
		return ret;
	}

	hwpt_paging = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0,
						!idev->hwpt, &ret);
	if (!hwpt_paging)
		return ret;
	hwpt_paging->auto_domain = true;
	if (idev->hwpt) {
		ret = device_do_attach(idev, &hwpt_paging->common);
		if (ret) {
			iommufd_object_abort_and_destroy(
				idev->ictx, &hwpt_paging->common.obj);
			return ret;
		}
	}
	*pt_id = hwpt_paging->common.obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt_paging->common.obj);
	return 0;
}

static int device_attach_or_replace(struct iommufd_device *idev,
				    uint32_t *pt_id)
{
	struct iommufd_object *pt_obj;
	int ret;

	pt_obj = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj)
		return -ENOENT;

	switch (pt_obj->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
	case IOMMUFD_OBJ_HWPT_NESTED: {
		struct iommufd_hw_pagetable *hwpt =
			container_of(pt_obj, struct iommufd_hw_pagetable, obj);

		ret = iommufd_device_pasid_rid_compat(idev, hwpt);
		if (!ret && idev->hwpt != hwpt)
			ret = device_do_attach(idev, hwpt);
		break;
	}
	case IOMMUFD_OBJ_IOAS:
		/* Automatic domains never serve PASIDs (§4.1). */
		ret = iommufd_device_pasid_rid_compat(idev, NULL);
		if (ret)
			break;
		ret = device_auto_attach(
			idev, container_of(pt_obj, struct iommufd_ioas, obj),
			pt_id);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	iommufd_put_object(idev->ictx, pt_obj);
	return ret;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id)
{
	if (idev->hwpt)
		return -EINVAL;
	return device_attach_or_replace(idev, pt_id);
}

int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id)
{
	if (!idev->hwpt)
		return -EINVAL;
	return device_attach_or_replace(idev, pt_id);
}

void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hw_pagetable *hwpt = idev->hwpt;

	if (!hwpt)
		return;
	idev->dev->ops->attach_dev(NULL, idev->dev);
	iopt_remove_reserved_iova(hwpt_iopt(hwpt), idev);
	idev->hwpt = NULL;
	iommufd_object_put(&idev->obj);
	hwpt_put(idev->ictx, hwpt);
}

/* IOMMUFDD_DEVICE_ATTACH: VFIO_DEVICE_ATTACH_IOMMUFD_PT on our fd. */
int iommufd_device_attach_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommufdd_device_attach *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	uint32_t pt_id = cmd->pt_id;
	bool replace;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = container_of(obj, struct iommufd_device, obj);
	replace = idev->hwpt;
	ret = replace ? iommufd_device_replace(idev, &pt_id) :
			iommufd_device_attach(idev, &pt_id);
	if (!ret) {
		cmd->pt_id = pt_id;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		/* As VFIO does: an attach whose answer is lost is undone. */
		if (ret && !replace)
			iommufd_device_detach(idev);
	}
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

/* IOMMUFDD_DEVICE_DETACH: VFIO_DEVICE_DETACH_IOMMUFD_PT on our fd. */
int iommufd_device_detach_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommufdd_device_detach *cmd = ucmd->cmd;
	struct iommufd_object *obj;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	iommufd_device_detach(container_of(obj, struct iommufd_device, obj));
	iommufd_put_object(ucmd->ictx, obj);
	return 0;
}

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	uint8_t data[64];
	uint32_t type, copy;
	int len, ret;

	if (cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	type = cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE ?
		       cmd->in_data_type :
		       IOMMU_HW_INFO_TYPE_DEFAULT;

	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = container_of(obj, struct iommufd_device, obj);

	len = idev->dev->ops->hw_info(idev->dev, &type, data);
	if (len < 0) {
		ret = len;
		goto out_put;
	}
	/* Copy what fits, zero the rest of the caller's buffer. */
	copy = cmd->data_len < (uint32_t)len ? cmd->data_len : (uint32_t)len;
	if (copy_to_user(ucmd->caller, cmd->data_uptr, data, copy) ||
	    clear_user(ucmd->caller, cmd->data_uptr + copy,
		       cmd->data_len - copy)) {
		ret = -EFAULT;
		goto out_put;
	}
	cmd->data_len = len;
	cmd->out_data_type = type;
	cmd->out_capabilities = idev->dev->ops->capabilities(idev->dev);
	cmd->out_max_pasid_log2 = idev->dev->ops->max_pasid_log2(idev->dev);
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}
