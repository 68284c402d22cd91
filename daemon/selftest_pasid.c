// SPDX-License-Identifier: MIT
/*
 * The IOMMU_TEST_CMD PASID ops of the newest kernels (docs/newest-uapi.md
 * §6): attach, replace and detach a HWPT on a PASID of a mock device, and
 * check which HWPT a PASID has. @id is the selftest object MOCK_DOMAIN
 * returned; any other id is ENOENT.
 */
#include <errno.h>

#include <iommufd/iommufd_test.h>

#include "iommufd_private.h"
#include "selftest.h"

SELFTEST_OP(pasid_attach)
{
	struct selftest_obj *sobj = selftest_get_obj(ucmd->ictx, cmd->id);
	uint32_t pt_id = cmd->pasid_attach.pt_id;
	int ret;

	if (!sobj)
		return -ENOENT;
	ret = iommufd_device_pasid_attach(sobj->idev, cmd->pasid_attach.pasid,
					  &pt_id);
	if (!ret) {
		cmd->pasid_attach.pt_id = pt_id;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		/* The caller never learnt of it: undo. */
		if (ret)
			iommufd_device_pasid_detach(sobj->idev,
						    cmd->pasid_attach.pasid);
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return ret;
}

SELFTEST_OP(pasid_replace)
{
	struct selftest_obj *sobj = selftest_get_obj(ucmd->ictx, cmd->id);
	uint32_t pt_id = cmd->pasid_replace.pt_id;
	int ret;

	if (!sobj)
		return -ENOENT;
	ret = iommufd_device_pasid_replace(sobj->idev, cmd->pasid_replace.pasid,
					   &pt_id);
	if (!ret) {
		/* A failed copy-back leaves the new HWPT on, as the kernel. */
		cmd->pasid_replace.pt_id = pt_id;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return ret;
}

SELFTEST_OP(pasid_detach)
{
	struct selftest_obj *sobj = selftest_get_obj(ucmd->ictx, cmd->id);

	if (!sobj)
		return -ENOENT;
	iommufd_device_pasid_detach(sobj->idev, cmd->pasid_detach.pasid);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return 0;
}

SELFTEST_OP(pasid_check_hwpt)
{
	struct selftest_obj *sobj = selftest_get_obj(ucmd->ictx, cmd->id);
	struct iommufd_hw_pagetable *attached;
	struct iommufd_object *obj;
	int ret = 0;

	if (!sobj)
		return -ENOENT;
	attached =
		iommufd_device_pasid_hwpt(sobj->idev, cmd->pasid_check.pasid);
	if (!cmd->pasid_check.hwpt_id) {
		ret = attached ? -EINVAL : 0;
		goto out_put;
	}
	obj = iommufd_get_object(ucmd->ictx, cmd->pasid_check.hwpt_id,
				 IOMMUFD_OBJ_ANY);
	if (!obj) {
		ret = -ENOENT;
		goto out_put;
	}
	if ((obj->type != IOMMUFD_OBJ_HWPT_PAGING &&
	     obj->type != IOMMUFD_OBJ_HWPT_NESTED) ||
	    !attached || &attached->obj != obj)
		ret = -EINVAL;
	iommufd_put_object(ucmd->ictx, obj);
out_put:
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return ret;
}
