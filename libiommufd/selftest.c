// SPDX-License-Identifier: MIT
/*
 * IOMMU_TEST_CMD, for test kernels and iommufdd's mock backend only. A
 * production kernel has no such ioctl and answers ENOTTY, which these
 * wrappers pass on like any other errno.
 */
#include <errno.h>

#include <iommufd/iommufd_test.h>

#include "private.h"

static int test_cmd(struct iommufd *h, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return LIBIOMMUFD_IOCTL(h, IOMMU_TEST_CMD, cmd);
}

IOMMUFD_EXPORT int iommufd_test_mock_domain(struct iommufd *h, uint32_t pt_id,
					    uint32_t dev_flags,
					    uint32_t *out_stdev_id,
					    uint32_t *out_hwpt_id,
					    uint32_t *out_idev_id)
{
	/*
	 * Without flags use the original op, which test kernels older than
	 * MOCK_DOMAIN_FLAGS also know; both return the same three IDs.
	 */
	struct iommu_test_cmd cmd = {
		.op = dev_flags ? IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS :
				  IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pt_id,
	};
	int ret;

	cmd.mock_domain_flags.dev_flags = dev_flags;
	ret = test_cmd(h, &cmd);
	if (ret)
		return libiommufd_err(ret);
	if (out_stdev_id)
		*out_stdev_id = cmd.mock_domain.out_stdev_id;
	if (out_hwpt_id)
		*out_hwpt_id = cmd.mock_domain.out_hwpt_id;
	if (out_idev_id)
		*out_idev_id = cmd.mock_domain.out_idev_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_test_mock_domain_replace(struct iommufd *h,
						    uint32_t stdev_id,
						    uint32_t pt_id,
						    uint32_t *out_hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace = { .pt_id = pt_id },
	};
	int ret;

	ret = test_cmd(h, &cmd);
	if (!ret && out_hwpt_id)
		*out_hwpt_id = cmd.mock_domain_replace.pt_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_test_add_reserved(struct iommufd *h,
					     uint32_t ioas_id, uint64_t start,
					     uint64_t length)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas_id,
		.add_reserved = { .start = start, .length = length },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_check_map(struct iommufd *h, uint32_t hwpt_id,
					  uint64_t iova, uint64_t length,
					  const void *buf)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt_id,
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = libiommufd_uptr(buf),
		},
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_check_refs(struct iommufd *h, const void *buf,
					   uint64_t length, uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = length,
			.uptr = libiommufd_uptr(buf),
			.refs = refs,
		},
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_set_temp_memory_limit(struct iommufd *h,
						      uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_dirty(struct iommufd *h, uint32_t hwpt_id,
				      uint64_t iova, uint64_t length,
				      uint64_t page_size, const void *bitmap,
				      uint64_t *out_nr_dirty)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DIRTY,
		.id = hwpt_id,
		.dirty = {
			.iova = iova,
			.length = length,
			.page_size = page_size,
			.uptr = libiommufd_uptr(bitmap),
		},
	};
	int ret;

	ret = test_cmd(h, &cmd);
	if (!ret && out_nr_dirty)
		*out_nr_dirty = cmd.dirty.out_nr_dirty;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_test_check_iotlb(struct iommufd *h, uint32_t hwpt_id,
					    uint32_t iotlb_id,
					    uint32_t expected)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt_id,
		.check_iotlb = { .id = iotlb_id, .iotlb = expected },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_trigger_iopf(struct iommufd *h, uint32_t dev_id,
					     uint32_t pasid, uint32_t grpid,
					     uint32_t perm, uint64_t addr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = dev_id,
			.pasid = pasid,
			.grpid = grpid,
			.perm = perm,
			.addr = addr,
		},
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

/* ---- newest ops: device caches, vEVENTs, PASIDs ------------------------ */

IOMMUFD_EXPORT int iommufd_test_dev_check_cache(struct iommufd *h,
						uint32_t dev_id,
						uint32_t cache_id,
						uint32_t expected)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
		.id = dev_id,
		.check_dev_cache = { .id = cache_id, .cache = expected },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_trigger_vevent(struct iommufd *h,
					       uint32_t dev_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent = { .dev_id = dev_id },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

/*
 * PASID_ATTACH and PASID_REPLACE share a layout and both hand back the
 * HWPT the PASID ended up on (an IOAS resolves to one).
 */
static int pasid_set(struct iommufd *h, uint32_t op, uint32_t stdev_id,
		     uint32_t pasid, uint32_t pt_id, uint32_t *out_hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.id = stdev_id,
		.pasid_attach = { .pasid = pasid, .pt_id = pt_id },
	};
	int ret;

	ret = test_cmd(h, &cmd);
	if (!ret && out_hwpt_id)
		*out_hwpt_id = cmd.pasid_attach.pt_id;
	return libiommufd_err(ret);
}

IOMMUFD_EXPORT int iommufd_test_pasid_attach(struct iommufd *h,
					     uint32_t stdev_id, uint32_t pasid,
					     uint32_t pt_id,
					     uint32_t *out_hwpt_id)
{
	return pasid_set(h, IOMMU_TEST_OP_PASID_ATTACH, stdev_id, pasid, pt_id,
			 out_hwpt_id);
}

IOMMUFD_EXPORT int iommufd_test_pasid_replace(struct iommufd *h,
					      uint32_t stdev_id, uint32_t pasid,
					      uint32_t pt_id,
					      uint32_t *out_hwpt_id)
{
	return pasid_set(h, IOMMU_TEST_OP_PASID_REPLACE, stdev_id, pasid, pt_id,
			 out_hwpt_id);
}

IOMMUFD_EXPORT int iommufd_test_pasid_detach(struct iommufd *h,
					     uint32_t stdev_id, uint32_t pasid)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_DETACH,
		.id = stdev_id,
		.pasid_detach = { .pasid = pasid },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}

IOMMUFD_EXPORT int iommufd_test_pasid_check_hwpt(struct iommufd *h,
						 uint32_t stdev_id,
						 uint32_t pasid,
						 uint32_t hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = stdev_id,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt_id },
	};

	return libiommufd_err(test_cmd(h, &cmd));
}
