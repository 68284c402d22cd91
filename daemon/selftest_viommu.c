// SPDX-License-Identifier: MIT
/*
 * The IOMMU_TEST_CMD ops of the newest kernels that look at a mock device
 * through its vIOMMU (docs/newest-uapi.md §6): its cache[] entries, which
 * only vIOMMU invalidation changes, and raising a vEVENT for it.
 */
#include <errno.h>

#include <iommufd/iommufd_test.h>

#include "backend_mock.h"
#include "iommufd_private.h"
#include "selftest.h"

/* A mock device by DEVICE id: ENOENT for other ids, EINVAL non-mock. */
static struct iommufd_device *get_mock_idev(struct iommufd_ctx *ictx,
					    uint32_t id, int *err)
{
	struct iommufd_object *obj =
		iommufd_get_object(ictx, id, IOMMUFD_OBJ_DEVICE);
	struct iommufd_device *idev;

	if (!obj) {
		*err = -ENOENT;
		return NULL;
	}
	idev = container_of(obj, struct iommufd_device, obj);
	if (!mock_dev_is_mock(idev->dev)) {
		iommufd_put_object(ictx, obj);
		*err = -EINVAL;
		return NULL;
	}
	return idev;
}

SELFTEST_OP(dev_check_cache)
{
	struct iommufd_device *idev;
	int ret;

	idev = get_mock_idev(ucmd->ictx, cmd->id, &ret);
	if (!idev)
		return ret;
	ret = mock_dev_check_cache(idev->dev, cmd->check_dev_cache.id,
				   cmd->check_dev_cache.cache);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return ret;
}

SELFTEST_OP(trigger_vevent)
{
	struct iommu_viommu_event_selftest event;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	uint64_t virt_id;
	int ret;

	idev = get_mock_idev(ucmd->ictx, cmd->trigger_vevent.dev_id, &ret);
	if (!idev)
		return ret;
	/* Only a nested attach in a vIOMMU gives the device a virtual ID. */
	viommu = mock_dev_viommu(idev->dev, &virt_id);
	if (!viommu || !virt_id) {
		ret = -ENOENT;
	} else {
		event.virt_id = (uint32_t)virt_id;
		ret = iommufd_viommu_report_event(viommu,
						  IOMMU_VEVENTQ_TYPE_SELFTEST,
						  &event, sizeof(event));
	}
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return ret;
}
