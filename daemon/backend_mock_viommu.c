// SPDX-License-Identifier: MIT
/*
 * The mock backend's vIOMMU (IOMMU_VIOMMU_TYPE_SELFTEST), with the kernel
 * selftest driver's observable behaviour (docs/newest-uapi.md §3.4, §7.1):
 * optional data echoed back with an mmap region of two pages, and cache
 * invalidation that resets the cache[] entries of its vDEVICEs' devices.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd/iommufd_test.h>

#include "backend_mock.h"
#include "iommufd_private.h"
#include "mock_pgtable.h"
#include "uaccess.h"
#include "util.h"

/* The region the mock registers for mmap when it is given data. */
#define MOCK_VIOMMU_MMAP_LENGTH (2 * PAGE_SIZE)
/* Invalidation entries per call: the kernel's bound on entry_num. */
#define MOCK_VIOMMU_INVALIDATE_MAX (1U << 19)

struct mock_viommu {
	uint32_t in_data; /* also the first word of its mmap region */
};

bool mock_viommu_type_supported(uint32_t type)
{
	return type == IOMMU_VIOMMU_TYPE_SELFTEST;
}

int mock_viommu_init(struct iommufd_viommu *viommu, uint32_t type,
		     const struct iommu_user_data *data)
{
	struct iommu_viommu_selftest cfg;
	struct mock_viommu *mv;
	uint64_t offset = 0;
	size_t out;
	int ret;

	if (type != IOMMU_VIOMMU_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	mv = calloc(1, sizeof(*mv));
	if (!mv)
		return -ENOMEM;
	if (data->len) {
		ret = iommu_copy_struct_from_user(
			data, &cfg, IOMMU_VIOMMU_TYPE_SELFTEST,
			offsetofend(struct iommu_viommu_selftest, out_data),
			sizeof(cfg));
		if (ret) {
			free(mv);
			return ret;
		}
		mv->in_data = cfg.in_data;
		cfg.out_data = cfg.in_data;
		/* Two zeroed pages whose first word is in_data (loopback). */
		ret = iommufd_viommu_alloc_mmap(viommu, MOCK_VIOMMU_MMAP_LENGTH,
						&offset);
		if (!ret)
			ret = iommufd_viommu_mmap_write(viommu, 0, &cfg.in_data,
							sizeof(cfg.in_data));
		if (ret) {
			/* The region, if any, goes with the aborted vIOMMU. */
			free(mv);
			return ret;
		}
		cfg.out_mmap_offset = offset;
		cfg.out_mmap_length = MOCK_VIOMMU_MMAP_LENGTH;
		out = data->len < sizeof(cfg) ? data->len : sizeof(cfg);
		if (copy_to_user(data->caller, data->uptr, &cfg, out)) {
			free(mv);
			return -EFAULT;
		}
	}
	iommufd_viommu_set_priv(viommu, mv);
	return 0;
}

void mock_viommu_destroy(struct iommufd_viommu *viommu)
{
	free(iommufd_viommu_priv(viommu));
}

/*
 * One entry as copy_struct_from_user() takes it: a shorter one is
 * zero-extended, a longer one must be zero past what we know (E2BIG).
 */
static int copy_invalidate_entry(const struct iommu_user_data_array *array,
				 uint32_t index,
				 struct iommu_viommu_invalidate_selftest *inv)
{
	uint64_t uptr = array->uptr + (uint64_t)index * array->entry_len;
	size_t klen = sizeof(*inv);
	int ret;

	memset(inv, 0, klen);
	if (array->entry_len > klen) {
		ret = check_zeroed_user(array->caller, uptr + klen,
					array->entry_len - klen);
		if (ret)
			return ret;
	}
	return copy_from_user(array->caller, inv, uptr,
			      array->entry_len < klen ? array->entry_len :
							klen);
}

static int apply_invalidate(struct iommufd_viommu *viommu,
			    const struct iommu_viommu_invalidate_selftest *inv)
{
	struct iommu_device *dev;

	if (inv->flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (inv->cache_id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	dev = iommufd_viommu_find_dev(viommu, inv->vdev_id);
	if (!dev)
		return -EINVAL;
	mock_dev_clear_cache(dev, inv->cache_id,
			     inv->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL);
	return 0;
}

int mock_viommu_cache_invalidate(struct iommufd_viommu *viommu,
				 struct iommu_user_data_array *array)
{
	struct iommu_viommu_invalidate_selftest *invs;
	uint32_t n = array->entry_num, i;
	int ret = 0;

	array->entry_num = 0;
	if (array->type != IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
		return -EINVAL;
	if (!n)
		return 0; /* a probe of the type */
	if (n > MOCK_VIOMMU_INVALIDATE_MAX)
		return -EINVAL;
	/* The whole array is copied before any entry is acted on. */
	invs = calloc(n, sizeof(*invs));
	if (!invs)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		ret = copy_invalidate_entry(array, i, &invs[i]);
	for (i = 0; i < n && !ret; i++) {
		ret = apply_invalidate(viommu, &invs[i]);
		if (!ret)
			array->entry_num = i + 1;
	}
	free(invs);
	return ret;
}

bool mock_hw_queue_type_supported(uint32_t type)
{
	return type == IOMMU_HW_QUEUE_TYPE_SELFTEST;
}

/*
 * The mock's queues (§3.6 step 8, §7.3): indexes 0 and 1, 0 first; the
 * queue must start where the parent domain translates its IOVA to; queue
 * 1 depends on queue 0.
 */
int mock_hw_queue_init(struct iommufd_viommu *viommu,
		       struct iommufd_hw_queue *queue, uint64_t paddr)
{
	struct mock_pgtable *pt =
		mock_domain_pgtable(iommufd_viommu_parent_domain(viommu));
	struct iommufd_hw_queue *prev = NULL;
	uint64_t translated;

	if (queue->index >= IOMMU_TEST_HW_QUEUE_MAX)
		return -EINVAL;
	if (iommufd_viommu_find_hw_queue(viommu, queue->type, queue->index))
		return -EEXIST;
	if (queue->index) {
		prev = iommufd_viommu_find_hw_queue(viommu, queue->type,
						    queue->index - 1);
		if (!prev)
			return -EIO;
	}
	if (!pt || mock_pgtable_lookup(pt, queue->iova, &translated, NULL) ||
	    translated != paddr)
		return -EFAULT;
	if (prev)
		iommufd_hw_queue_depend(queue, prev);
	return 0;
}
