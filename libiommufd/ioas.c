// SPDX-License-Identifier: MIT
/*
 * IOAS wrappers: allocation, the IOVA range queries and the three ways of
 * putting memory into an IOAS (MAP, MAP_FILE, COPY) and taking it out.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufdd_ext.h>

#include "private.h"

/* The public range type is handed to the kernel as is. */
_Static_assert(sizeof(struct iommufd_iova_range) ==
		       sizeof(struct iommu_iova_range),
	       "iova range size");
_Static_assert(offsetof(struct iommufd_iova_range, last) ==
		       offsetof(struct iommu_iova_range, last),
	       "iova range layout");

/*
 * Most IOASes have one or two holes, so the first call usually fits. The
 * retry bound only matters if attaches keep changing the count under us.
 */
#define IOVA_RANGES_FIRST_GUESS 4
#define IOVA_RANGES_MAX_TRIES 8

IOMMUFD_EXPORT int iommufd_ioas_alloc(struct iommufd *h, uint32_t *out_ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int ret;

	if (!out_ioas_id)
		return libiommufd_err(-EINVAL);
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_ALLOC, &cmd);
	if (!ret)
		*out_ioas_id = cmd.out_ioas_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int
iommufd_ioas_allow_iovas(struct iommufd *h, uint32_t ioas_id,
			 const struct iommufd_iova_range *ranges, uint32_t num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = num,
		.allowed_iovas = libiommufd_uptr(ranges),
	};

	if (num && !ranges)
		return libiommufd_err(-EINVAL);
	return libiommufd_err(
		LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_ALLOW_IOVAS, &cmd));
}

IOMMUFD_EXPORT int
iommufd_ioas_iova_ranges(struct iommufd *h, uint32_t ioas_id,
			 struct iommufd_iova_range **out_ranges,
			 uint32_t *out_num, uint64_t *out_alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
	};
	struct iommufd_iova_range *ranges = NULL;
	uint32_t cap = IOVA_RANGES_FIRST_GUESS;
	int tries, ret;

	if (!out_ranges || !out_num)
		return libiommufd_err(-EINVAL);
	for (tries = 1;; tries++) {
		free(ranges);
		ranges = calloc(cap, sizeof(*ranges));
		if (!ranges)
			return libiommufd_err(-ENOMEM);
		cmd.num_iovas = cap;
		cmd.allowed_iovas = libiommufd_uptr(ranges);
		/* EMSGSIZE is expected here, so log below, not as a failure. */
		ret = libiommufd_ioctl(h, IOMMU_IOAS_IOVA_RANGES, &cmd, NULL);
		/*
		 * EMSGSIZE comes with the number that exists now. Another
		 * thread's attach may change it again before the next call,
		 * so keep asking, but not forever.
		 */
		if (ret != -EMSGSIZE || tries == IOVA_RANGES_MAX_TRIES ||
		    cmd.num_iovas <= cap)
			break;
		libiommufd_log(
			h, IOMMUFD_LOG_DEBUG,
			"IOMMU_IOAS_IOVA_RANGES: %u ranges, room for %u, "
			"asking again",
			cmd.num_iovas, cap);
		cap = cmd.num_iovas;
	}
	if (ret) {
		libiommufd_log_errno(h, "IOMMU_IOAS_IOVA_RANGES", ret);
		free(ranges);
		return libiommufd_err(ret);
	}
	if (!cmd.num_iovas) {
		free(ranges);
		ranges = NULL;
	}
	*out_ranges = ranges;
	*out_num = cmd.num_iovas;
	if (out_alignment)
		*out_alignment = cmd.out_iova_alignment;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_map(struct iommufd *h, uint32_t ioas_id,
				    void *va, uint64_t length, uint32_t flags,
				    uint64_t *iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = libiommufd_uptr(va),
		.length = length,
	};
	int ret;

	if (!iova)
		return libiommufd_err(-EINVAL);
	if (flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		cmd.iova = *iova;
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_MAP, &cmd);
	if (!ret)
		*iova = cmd.iova;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_ioas_map_file(struct iommufd *h, uint32_t ioas_id,
					 int fd, uint64_t start,
					 uint64_t length, uint32_t flags,
					 uint64_t *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = length,
	};
	int ret;

	if (!iova)
		return libiommufd_err(-EINVAL);
	if (flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		cmd.iova = *iova;
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_MAP_FILE, &cmd);
	if (!ret)
		*iova = cmd.iova;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_ioas_copy(struct iommufd *h, uint32_t dst_ioas_id,
				     uint32_t src_ioas_id, uint64_t src_iova,
				     uint64_t length, uint32_t flags,
				     uint64_t *dst_iova)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas_id,
		.src_ioas_id = src_ioas_id,
		.length = length,
		.src_iova = src_iova,
	};
	int ret;

	if (!dst_iova)
		return libiommufd_err(-EINVAL);
	if (flags & IOMMU_IOAS_MAP_FIXED_IOVA)
		cmd.dst_iova = *dst_iova;
	ret = LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_COPY, &cmd);
	if (!ret)
		*dst_iova = cmd.dst_iova;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_ioas_unmap(struct iommufd *h, uint32_t ioas_id,
				      uint64_t iova, uint64_t length,
				      uint64_t *out_unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int ret;

	ret = LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_UNMAP, &cmd);
	if (!ret && out_unmapped)
		*out_unmapped = cmd.length;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_ioas_change_process(struct iommufd *h)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };

	return libiommufd_err(
		LIBIOMMUFD_IOCTL(h, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
}

/* The library's struct is the ABI's, field by field. */
_Static_assert(sizeof(struct iommufd_batch_op) ==
		       sizeof(struct iommufdd_ioas_batch_op),
	       "batch op size");
_Static_assert(offsetof(struct iommufd_batch_op, result) ==
		       offsetof(struct iommufdd_ioas_batch_op, out_result),
	       "batch op layout");

IOMMUFD_EXPORT int iommufd_ioas_batch(struct iommufd *h, uint32_t ioas_id,
				      struct iommufd_batch_op *ops,
				      uint32_t num_ops)
{
	struct iommufdd_ioas_batch cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_ops = num_ops,
		.ops_uptr = (uintptr_t)ops,
	};

	if (!ops)
		return -EINVAL;
	return libiommufd_err(LIBIOMMUFD_IOCTL(h, IOMMUFDD_IOAS_BATCH, &cmd));
}
