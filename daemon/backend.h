/* SPDX-License-Identifier: MIT */
/*
 * The hardware side: a backend programs IOMMU domains and owns devices. The
 * core calls it only through a const ops table, so a software IOMMU (mock)
 * and the kernel's VFIO (vfio) are interchangeable.
 *
 * Addresses handed to map() are "physical addresses" as pages.h defines
 * them: daemon addresses of pinned memory.
 */
#ifndef IOMMUFDD_BACKEND_H
#define IOMMUFDD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

#define IOMMU_READ (1 << 0)
#define IOMMU_WRITE (1 << 1)
#define IOMMU_CACHE (1 << 2)

struct iommu_backend_ops;
struct iommufd_viommu;
struct iommufd_hw_queue;

enum iommu_domain_type {
	IOMMU_DOMAIN_PAGING,
	IOMMU_DOMAIN_NESTED,
};

struct iommu_domain {
	const struct iommu_backend_ops *ops;
	enum iommu_domain_type type;
	uint64_t pgsize_bitmap;
	uint64_t aperture_start, aperture_end;
	bool dirty_tracking; /* the domain can track dirty IOVA */
	struct iommu_domain *parent; /* NESTED: the stage-2 domain */
	/* NESTED allocated on a vIOMMU: that vIOMMU (it outlives us). */
	struct iommufd_viommu *viommu;
};

struct iommu_device {
	const struct iommu_backend_ops *ops;
	struct iommu_domain *domain; /* attached, or NULL (blocked) */
};

/* A caller-provided driver payload (HWPT data, invalidation array). */
struct iommu_user_data {
	const struct ucaller *caller;
	uint32_t type;
	uint32_t len;
	uint64_t uptr;
};

struct iommu_user_data_array {
	const struct ucaller *caller;
	uint32_t type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint64_t uptr;
};

/*
 * Copy a driver struct from the caller with the kernel's rules: the user
 * length must be within [min_len, klen] (EINVAL), the type must match
 * (EINVAL), and a short struct is zero-extended.
 */
int iommu_copy_struct_from_user(const struct iommu_user_data *data, void *dst,
				uint32_t type, size_t min_len, size_t klen);
int iommu_copy_struct_from_user_array(const struct iommu_user_data_array *a,
				      void *dst, uint32_t type, size_t min_len,
				      size_t klen, uint32_t index);

struct iommu_resv_region {
	uint64_t start, last;
};

/* What inspection shows of a device (iommufdctl). */
struct iommu_dev_desc {
	char name[256]; /* e.g. the PCI address, or "" */
	char iommu[32]; /* the IOMMU unit, e.g. "dmar0", or "" */
	int group; /* the IOMMU group, or -1 */
};

struct iommu_backend_ops {
	const char *name;
	/* Optional: can the host serve this backend? 0 or -errno, at start. */
	int (*init)(void);

	struct iommu_domain *(*domain_alloc_paging)(struct iommu_device *dev,
						    uint32_t flags, int *err);
	/*
	 * A paging domain shaped by driver data (7.2's mock); NULL: any data
	 * for a paging HWPT is EOPNOTSUPP.
	 */
	struct iommu_domain *(*domain_alloc_paging_data)(
		struct iommu_device *dev, uint32_t flags,
		const struct iommu_user_data *data, int *err);
	struct iommu_domain *(*domain_alloc_nested)(
		struct iommu_device *dev, struct iommu_domain *parent,
		uint32_t flags, const struct iommu_user_data *data, int *err);
	void (*domain_free)(struct iommu_domain *domain);

	/* Map [iova, iova + len) to [paddr, paddr + len). 0 or -errno. */
	int (*map)(struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
		   uint64_t len, int prot);
	/* Returns the number of bytes unmapped. */
	uint64_t (*unmap)(struct iommu_domain *domain, uint64_t iova,
			  uint64_t len);

	/* Attach @dev to @domain, or block its DMA when @domain is NULL. */
	int (*attach_dev)(struct iommu_domain *domain,
			  struct iommu_device *dev);

	/*
	 * Point @pasid of @dev at @domain (@old: what it had, or NULL), or
	 * take it off when @domain is NULL. NULL op: no PASID support.
	 */
	int (*set_dev_pasid)(struct iommu_domain *domain,
			     struct iommu_device *dev, uint32_t pasid,
			     struct iommu_domain *old);

	int (*cache_invalidate_user)(struct iommu_domain *domain,
				     struct iommu_user_data_array *array);

	int (*set_dirty_tracking)(struct iommu_domain *domain, bool enable);
	/*
	 * Report the dirty IOPTEs in [iova, iova + len) to @fn and clear them
	 * unless @keep. @fn NULL only clears, which a domain whose tracking
	 * is off accepts; reading such a domain is EINVAL.
	 */
	int (*read_and_clear_dirty)(struct iommu_domain *domain, uint64_t iova,
				    uint64_t len, bool keep,
				    void (*fn)(void *arg, uint64_t iova,
					       uint64_t size),
				    void *arg);

	/*
	 * Driver data for IOMMU_GET_HW_INFO. *type is the requested type on
	 * entry (0 = the driver's default) and the returned type on exit.
	 * Returns the data length or -errno; @buf holds at least 64 bytes.
	 */
	int (*hw_info)(struct iommu_device *dev, uint32_t *type, void *buf);
	uint64_t (*capabilities)(struct iommu_device *dev);
	uint8_t (*max_pasid_log2)(struct iommu_device *dev);
	/* Reserved IOVA regions of the device; returns how many. */
	unsigned int (*resv_regions)(struct iommu_device *dev,
				     struct iommu_resv_region *regions,
				     unsigned int max);
	/*
	 * Can the device's IOMMU make DMA cache coherent whatever the device
	 * asks (IOMMU_CAP_ENFORCE_CACHE_COHERENCY)? Only then is a domain
	 * allocated for it asked to enforce that (enforce_cache_coherency),
	 * and only such domains make VFIO_DMA_CC_IOMMU true.
	 */
	bool (*dev_enforces_cache_coherency)(struct iommu_device *dev);
	bool (*enforce_cache_coherency)(struct iommu_domain *domain);
	/* Optional: fill in what is known besides the backend's name. */
	void (*describe)(struct iommu_device *dev, struct iommu_dev_desc *desc);

	/*
	 * vIOMMUs (NULL: the backend has none, EOPNOTSUPP). The core asks
	 * for the type first (an unknown one is EOPNOTSUPP before the HWPT
	 * is looked up); viommu_init gets the caller's data (in and out)
	 * only when there is some (@data->len != 0).
	 */
	bool (*viommu_type_supported)(uint32_t type);
	int (*viommu_init)(struct iommufd_viommu *viommu, uint32_t type,
			   const struct iommu_user_data *data);
	void (*viommu_destroy)(struct iommufd_viommu *viommu);
	/* Like cache_invalidate_user, for caches the vIOMMU owns. */
	int (*viommu_cache_invalidate)(struct iommufd_viommu *viommu,
				       struct iommu_user_data_array *array);
	/*
	 * HW queues (NULL: none, EOPNOTSUPP). hw_queue_init gets the queue
	 * with its memory pinned and the physical address of its start.
	 */
	bool (*hw_queue_type_supported)(uint32_t type);
	int (*hw_queue_init)(struct iommufd_viommu *viommu,
			     struct iommufd_hw_queue *queue, uint64_t paddr);
};

/*
 * What the core offers backends about vIOMMUs (viommu.c, the kernel's
 * driver.c): the driver's state, the device behind a virtual ID, the
 * virtual ID of a device, an mmap region and reporting an event.
 */
void *iommufd_viommu_priv(struct iommufd_viommu *viommu);
void iommufd_viommu_set_priv(struct iommufd_viommu *viommu, void *priv);
struct iommu_device *iommufd_viommu_find_dev(struct iommufd_viommu *viommu,
					     uint64_t virt_id);
int iommufd_viommu_get_vdev_id(struct iommufd_viommu *viommu,
			       struct iommu_device *dev, uint64_t *virt_id);
/*
 * Register a zeroed region of @length bytes (whole pages) that the caller
 * may mmap() through its iommufd at *@offset: 0 or -errno. One per vIOMMU;
 * it goes with the vIOMMU. mmap_write fills it (the kernel's driver writes
 * its own pages).
 */
int iommufd_viommu_alloc_mmap(struct iommufd_viommu *viommu, uint64_t length,
			      uint64_t *offset);
int iommufd_viommu_mmap_write(struct iommufd_viommu *viommu, uint64_t at,
			      const void *data, size_t len);
/* The vIOMMU's nesting parent domain. */
struct iommu_domain *
iommufd_viommu_parent_domain(struct iommufd_viommu *viommu);
/* Its HW queue of @type and @index, or NULL. */
struct iommufd_hw_queue *
iommufd_viommu_find_hw_queue(struct iommufd_viommu *viommu, uint32_t type,
			     uint32_t index);
/* @queue cannot be destroyed before @dependant is (EBUSY). */
void iommufd_hw_queue_depend(struct iommufd_hw_queue *dependant,
			     struct iommufd_hw_queue *queue);
/* 0, or -EOPNOTSUPP when the vIOMMU has no vEVENTQ of @type. */
int iommufd_viommu_report_event(struct iommufd_viommu *viommu, uint32_t type,
				const void *data, size_t len);

const struct iommu_backend_ops *iommu_backend_find(const char *name);
/* The backend the daemon serves. */
const struct iommu_backend_ops *iommu_backend_current(void);
extern const struct iommu_backend_ops mock_backend_ops;
extern const struct iommu_backend_ops vfio_backend_ops;

#endif
