/* SPDX-License-Identifier: MIT */
/*
 * The mock backend's own surface: what the IOMMU_TEST_CMD interface needs
 * beyond the generic ops table (creating devices, looking inside domains,
 * making a device DMA).
 */
#ifndef IOMMUFDD_BACKEND_MOCK_H
#define IOMMUFDD_BACKEND_MOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct mock_pgtable;

struct iommu_device *mock_dev_create(uint32_t flags, int *err);
void mock_dev_destroy(struct iommu_device *dev);
bool mock_dev_is_mock(const struct iommu_device *dev);

/* The page table of a mock paging domain, or NULL for anything else. */
struct mock_pgtable *mock_domain_pgtable(struct iommu_domain *domain);
bool mock_domain_dirty_enabled(struct iommu_domain *domain);
/* -EINVAL unless @domain is a mock nested domain with iotlb[id] == value. */
int mock_domain_check_iotlb(struct iommu_domain *domain, uint32_t id,
			    uint32_t value);

/* DEV_CHECK_CACHE: -EINVAL unless cache[@index] == @value. */
int mock_dev_check_cache(struct iommu_device *dev, uint32_t index,
			 uint32_t value);
void mock_dev_clear_cache(struct iommu_device *dev, uint32_t index, bool all);
/* The vIOMMU (and virtual ID) the device's nested attach recorded. */
struct iommufd_viommu *mock_dev_viommu(struct iommu_device *dev,
				       uint64_t *virt_id);

/* backend_mock_viommu.c: the mock vIOMMU, IOMMU_VIOMMU_TYPE_SELFTEST */
bool mock_viommu_type_supported(uint32_t type);
int mock_viommu_init(struct iommufd_viommu *viommu, uint32_t type,
		     const struct iommu_user_data *data);
void mock_viommu_destroy(struct iommufd_viommu *viommu);
bool mock_hw_queue_type_supported(uint32_t type);
int mock_hw_queue_init(struct iommufd_viommu *viommu,
		       struct iommufd_hw_queue *queue, uint64_t paddr);
int mock_viommu_cache_invalidate(struct iommufd_viommu *viommu,
				 struct iommu_user_data_array *array);

/*
 * DMA by a mock device through its attached domain, as real hardware does
 * it: translate each IO page, check its permission, set its dirty bit on
 * writes while tracking is on. -EPERM when blocked or not permitted,
 * -ENOENT for an unmapped IOVA.
 */
int mock_dev_dma(struct iommu_device *dev, uint64_t iova, void *buf,
		 uint64_t len, bool write);

#endif
