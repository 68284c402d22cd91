// SPDX-License-Identifier: MIT
/*
 * HW page tables and what hangs off them: allocation, hardware info, dirty
 * tracking, cache invalidation and fault queues.
 *
 * Every struct goes to the kernel at its full current size with unused
 * fields zero. Older kernels accept a longer struct whose tail is zero, so
 * a caller that does not use a newer field still works on them.
 */
#include <errno.h>
#include <limits.h>

#include <iommufd/iommufd.h>

#include "private.h"

IOMMUFD_EXPORT int
iommufd_hwpt_alloc(struct iommufd *h, uint32_t dev_id, uint32_t pt_id,
		   const struct iommufd_hwpt_alloc_opts *opts,
		   uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int ret;

	if (!out_hwpt_id)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_OPTS_CHECK(opts, iommufd_hwpt_alloc_opts);
	if (ret)
		return libiommufd_err(ret);
	cmd.flags =
		LIBIOMMUFD_OPTS_GET(opts, iommufd_hwpt_alloc_opts, flags, 0);
	cmd.fault_id =
		LIBIOMMUFD_OPTS_GET(opts, iommufd_hwpt_alloc_opts, fault_id, 0);
	cmd.data_type = LIBIOMMUFD_OPTS_GET(opts, iommufd_hwpt_alloc_opts,
					    data_type, IOMMU_HWPT_DATA_NONE);
	cmd.data_len =
		LIBIOMMUFD_OPTS_GET(opts, iommufd_hwpt_alloc_opts, data_len, 0);
	cmd.data_uptr = libiommufd_uptr(
		LIBIOMMUFD_OPTS_GET(opts, iommufd_hwpt_alloc_opts, data, NULL));

	ret = LIBIOMMUFD_IOCTL(h, IOMMU_HWPT_ALLOC, &cmd);
	if (!ret)
		*out_hwpt_id = cmd.out_hwpt_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_get_hw_info(struct iommufd *h, uint32_t dev_id,
				       struct iommufd_hw_info_opts *info)
{
	struct iommu_hw_info cmd = { .size = sizeof(cmd), .dev_id = dev_id };
	uint32_t type;
	int ret;

	if (!info)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_OPTS_CHECK(info, iommufd_hw_info_opts);
	if (ret)
		return libiommufd_err(ret);
	cmd.data_uptr = libiommufd_uptr(
		LIBIOMMUFD_OPTS_GET(info, iommufd_hw_info_opts, data, NULL));
	cmd.data_len =
		LIBIOMMUFD_OPTS_GET(info, iommufd_hw_info_opts, data_len, 0);
	/*
	 * Only ask for a type when one was named: kernels older than the
	 * INPUT_TYPE flag refuse the flag but answer the default query.
	 */
	type = LIBIOMMUFD_OPTS_GET(info, iommufd_hw_info_opts, in_data_type,
				   IOMMU_HW_INFO_TYPE_DEFAULT);
	if (type != IOMMU_HW_INFO_TYPE_DEFAULT) {
		cmd.flags |= IOMMU_HW_INFO_FLAG_INPUT_TYPE;
		cmd.in_data_type = type;
	}

	ret = LIBIOMMUFD_IOCTL(h, IOMMU_GET_HW_INFO, &cmd);
	if (ret)
		return libiommufd_err(ret);
	LIBIOMMUFD_OPTS_SET(info, iommufd_hw_info_opts, data_len, cmd.data_len);
	LIBIOMMUFD_OPTS_SET(info, iommufd_hw_info_opts, out_data_type,
			    cmd.out_data_type);
	LIBIOMMUFD_OPTS_SET(info, iommufd_hw_info_opts, out_capabilities,
			    cmd.out_capabilities);
	LIBIOMMUFD_OPTS_SET(info, iommufd_hw_info_opts, out_max_pasid_log2,
			    cmd.out_max_pasid_log2);
	return 0;
}

IOMMUFD_EXPORT int iommufd_hwpt_set_dirty_tracking(struct iommufd *h,
						   uint32_t hwpt_id,
						   uint32_t flags)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.hwpt_id = hwpt_id,
	};

	return libiommufd_err(
		LIBIOMMUFD_IOCTL(h, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd));
}

IOMMUFD_EXPORT int iommufd_hwpt_get_dirty_bitmap(struct iommufd *h,
						 uint32_t hwpt_id,
						 uint64_t iova, uint64_t length,
						 uint64_t page_size,
						 void *bitmap, uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = libiommufd_uptr(bitmap),
	};

	return libiommufd_err(
		LIBIOMMUFD_IOCTL(h, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd));
}

IOMMUFD_EXPORT int
iommufd_hwpt_invalidate(struct iommufd *h, uint32_t id, uint32_t data_type,
			const void *entries, uint32_t entry_len,
			uint32_t entry_num, uint32_t *out_done)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = libiommufd_uptr(entries),
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = entry_num,
	};
	int ret;

	if (out_done)
		*out_done = 0;
	/* The count is also the return value. */
	if (entry_num > INT_MAX)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_HWPT_INVALIDATE, &cmd);
	/*
	 * The kernel writes the handled count back on success and failure
	 * alike, but a request refused before it got that far (ENOTTY, a
	 * short struct) still holds our input. A failure always stops short
	 * of the last entry, so an unchanged count there means "none".
	 */
	if (ret && cmd.entry_num >= entry_num)
		cmd.entry_num = 0;
	if (out_done)
		*out_done = cmd.entry_num;
	return libiommufd_err(ret ? ret : (int)cmd.entry_num);
}

IOMMUFD_EXPORT int iommufd_fault_queue_alloc(struct iommufd *h,
					     uint32_t *out_fault_id,
					     int *out_fault_fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int ret;

	/* Both are required: dropping either would leak the queue. */
	if (!out_fault_id || !out_fault_fd)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_FAULT_QUEUE_ALLOC, &cmd);
	if (!ret) {
		*out_fault_id = cmd.out_fault_id;
		*out_fault_fd = (int)cmd.out_fault_fd;
	}
	return libiommufd_err(ret);
}
