// SPDX-License-Identifier: MIT
/*
 * HWPTs attached to a device's PASIDs (docs/newest-uapi.md §4): only HWPTs
 * allocated with IOMMU_HWPT_ALLOC_PASID may serve a PASID, and only while
 * the device's RID is on such a HWPT too; an attached PASID holds its HWPT
 * (DESTROY is EBUSY). Attach never overwrites (EBUSY), replace needs an
 * attachment (EINVAL) and keeps the old HWPT when it fails, detach of a
 * PASID that has nothing is not an error.
 */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "iommufd_private.h"

struct iommufd_pasid_attach {
	struct list_head item; /* on idev->pasids */
	uint32_t pasid;
	struct iommufd_hw_pagetable *hwpt; /* held */
};

static struct iommufd_pasid_attach *pasid_find(struct iommufd_device *idev,
					       uint32_t pasid)
{
	struct iommufd_pasid_attach *pa;

	list_for_each_entry(pa, &idev->pasids, item) {
		if (pa->pasid == pasid)
			return pa;
	}
	return NULL;
}

struct iommufd_hw_pagetable *
iommufd_device_pasid_hwpt(struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_pasid_attach *pa = pasid_find(idev, pasid);

	return pa ? pa->hwpt : NULL;
}

int iommufd_device_pasid_rid_compat(struct iommufd_device *idev,
				    struct iommufd_hw_pagetable *hwpt)
{
	if (list_empty(&idev->pasids))
		return 0;
	return hwpt && hwpt->pasid_compat ? 0 : -EINVAL;
}

/*
 * The HWPT @pt_id names for a PASID: an IOAS's automatic domain is never
 * PASID-compatible (EINVAL), nor is anything else not a HWPT. Holds it.
 */
static int pasid_get_hwpt(struct iommufd_device *idev, uint32_t pt_id,
			  struct iommufd_hw_pagetable **hwpt)
{
	struct iommufd_object *obj =
		iommufd_get_object(idev->ictx, pt_id, IOMMUFD_OBJ_ANY);

	if (!obj)
		return -ENOENT;
	if (obj->type != IOMMUFD_OBJ_HWPT_PAGING &&
	    obj->type != IOMMUFD_OBJ_HWPT_NESTED) {
		iommufd_put_object(idev->ictx, obj);
		return -EINVAL;
	}
	*hwpt = container_of(obj, struct iommufd_hw_pagetable, obj);
	return 0;
}

/* §4.1: may @hwpt serve @pasid of the device as it is now? */
static int pasid_check(struct iommufd_device *idev, uint32_t pasid,
		       struct iommufd_hw_pagetable *hwpt)
{
	const struct iommu_backend_ops *ops = idev->dev->ops;
	uint8_t width = ops->max_pasid_log2(idev->dev);

	if (!hwpt->pasid_compat || (idev->hwpt && !idev->hwpt->pasid_compat))
		return -EINVAL;
	if (hwpt->domain->ops != ops || !ops->set_dev_pasid)
		return -EINVAL;
	/* The iommu core: no PASIDs, or one beyond the device's width. */
	if (!width || pasid >= (1ULL << width))
		return -EINVAL;
	return 0;
}

int iommufd_device_pasid_attach(struct iommufd_device *idev, uint32_t pasid,
				uint32_t *pt_id)
{
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_pasid_attach *pa;
	int ret;

	ret = pasid_get_hwpt(idev, *pt_id, &hwpt);
	if (ret)
		return ret;
	ret = pasid_check(idev, pasid, hwpt);
	if (!ret && pasid_find(idev, pasid))
		ret = -EBUSY;
	if (ret)
		goto out_put;
	pa = calloc(1, sizeof(*pa));
	if (!pa) {
		ret = -ENOMEM;
		goto out_put;
	}
	ret = idev->dev->ops->set_dev_pasid(hwpt->domain, idev->dev, pasid,
					    NULL);
	if (ret) {
		free(pa);
		goto out_put;
	}
	/* The lookup's reference becomes the attachment's. */
	pa->pasid = pasid;
	pa->hwpt = hwpt;
	list_add_tail(&pa->item, &idev->pasids);
	*pt_id = hwpt->obj.id;
	return 0;

out_put:
	iommufd_put_object(idev->ictx, &hwpt->obj);
	return ret;
}

int iommufd_device_pasid_replace(struct iommufd_device *idev, uint32_t pasid,
				 uint32_t *pt_id)
{
	struct iommufd_pasid_attach *pa = pasid_find(idev, pasid);
	struct iommufd_hw_pagetable *hwpt;
	int ret;

	if (!pa)
		return -EINVAL;
	ret = pasid_get_hwpt(idev, *pt_id, &hwpt);
	if (ret)
		return ret;
	if (hwpt == pa->hwpt) {
		ret = 0;
		goto out_put;
	}
	ret = pasid_check(idev, pasid, hwpt);
	if (!ret)
		ret = idev->dev->ops->set_dev_pasid(hwpt->domain, idev->dev,
						    pasid, pa->hwpt->domain);
	if (ret)
		goto out_put;
	iommufd_object_put(&pa->hwpt->obj);
	pa->hwpt = hwpt;
	*pt_id = hwpt->obj.id;
	return 0;

out_put:
	iommufd_put_object(idev->ictx, &hwpt->obj);
	return ret;
}

static void pasid_release(struct iommufd_device *idev,
			  struct iommufd_pasid_attach *pa)
{
	idev->dev->ops->set_dev_pasid(NULL, idev->dev, pa->pasid,
				      pa->hwpt->domain);
	list_del(&pa->item);
	iommufd_object_put(&pa->hwpt->obj);
	free(pa);
}

void iommufd_device_pasid_detach(struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_pasid_attach *pa = pasid_find(idev, pasid);

	if (pa)
		pasid_release(idev, pa);
}

void iommufd_device_pasid_detach_all(struct iommufd_device *idev)
{
	struct iommufd_pasid_attach *pa, *next;

	list_for_each_entry_safe(pa, next, &idev->pasids, item)
		pasid_release(idev, pa);
}
