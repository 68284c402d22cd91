// SPDX-License-Identifier: MIT
/*
 * Virtual IOMMU objects: the vIOMMU itself and the vDEVICEs, event queues
 * and hardware queues that belong to it.
 */
#include <errno.h>
#include <string.h>

#include <iommufd/iommufd.h>

#include "private.h"

IOMMUFD_EXPORT int iommufd_viommu_alloc(
	struct iommufd *h, uint32_t dev_id, uint32_t hwpt_id, uint32_t type,
	const struct iommufd_viommu_alloc_opts *opts, uint32_t *out_viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
	};
	int ret;

	if (!out_viommu_id)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_OPTS_CHECK(opts, iommufd_viommu_alloc_opts);
	if (ret)
		return libiommufd_err(ret);
	cmd.flags =
		LIBIOMMUFD_OPTS_GET(opts, iommufd_viommu_alloc_opts, flags, 0);
	cmd.data_len = LIBIOMMUFD_OPTS_GET(opts, iommufd_viommu_alloc_opts,
					   data_len, 0);
	cmd.data_uptr = libiommufd_uptr(LIBIOMMUFD_OPTS_GET(
		opts, iommufd_viommu_alloc_opts, data, NULL));

	ret = LIBIOMMUFD_IOCTL(h, IOMMU_VIOMMU_ALLOC, &cmd);
	if (!ret)
		*out_viommu_id = cmd.out_viommu_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_vdevice_alloc(struct iommufd *h, uint32_t viommu_id,
					 uint32_t dev_id, uint64_t virt_id,
					 uint32_t *out_vdevice_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int ret;

	if (!out_vdevice_id)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_VDEVICE_ALLOC, &cmd);
	if (!ret)
		*out_vdevice_id = cmd.out_vdevice_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_veventq_alloc(struct iommufd *h, uint32_t viommu_id,
					 uint32_t type, uint32_t depth,
					 uint32_t *out_veventq_id,
					 int *out_veventq_fd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	int ret;

	/* Both are required: dropping either would leak the queue. */
	if (!out_veventq_id || !out_veventq_fd)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (!ret) {
		*out_veventq_id = cmd.out_veventq_id;
		*out_veventq_fd = (int)cmd.out_veventq_fd;
	}
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_hw_queue_alloc(struct iommufd *h, uint32_t viommu_id,
					  uint32_t type, uint32_t index,
					  uint64_t nesting_parent_iova,
					  uint64_t length,
					  uint32_t *out_hw_queue_id)
{
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.index = index,
		.nesting_parent_iova = nesting_parent_iova,
		.length = length,
	};
	int ret;

	if (!out_hw_queue_id)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_HW_QUEUE_ALLOC, &cmd);
	if (!ret)
		*out_hw_queue_id = cmd.out_hw_queue_id;
	return libiommufd_err(ret);
}

/*
 * vEVENTQ records: an 8-byte header, then the event data unless the header
 * is the lost-events marker. The data length depends on the queue's type,
 * which the reader knows and the stream does not say, so the caller passes
 * it; a record cut short is an error rather than something to skip, since
 * the kernel only ever delivers whole records.
 */
IOMMUFD_EXPORT int iommufd_vevent_next(const void **cursor, size_t *left,
				       size_t data_len,
				       struct iommufd_vevent *out)
{
	struct iommufd_vevent_header hdr;
	const unsigned char *p;
	size_t need;

	if (!cursor || !left || !out || (*left && !*cursor))
		return libiommufd_err(-EINVAL);
	if (!*left)
		return 0;
	if (*left < sizeof(hdr))
		return libiommufd_err(-EINVAL);
	p = *cursor;
	memcpy(&hdr, p, sizeof(hdr));
	need = sizeof(hdr);
	if (!(hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS))
		need += data_len;
	if (*left < need)
		return libiommufd_err(-EINVAL);

	out->flags = hdr.flags;
	out->sequence = hdr.sequence;
	out->data = need > sizeof(hdr) ? p + sizeof(hdr) : NULL;
	out->data_len = need - sizeof(hdr);
	*cursor = p + need;
	*left -= need;
	return 1;
}
