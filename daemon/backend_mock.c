// SPDX-License-Identifier: MIT
/*
 * The mock backend: a software IOMMU with real multi-level page tables
 * (mock_pgtable.c), 2 KiB IO pages (1 MiB ones for HUGE_IOVA devices), a
 * 16 MiB - 2 GiB aperture, an IOTLB model for nested domains and dirty bits
 * set by DMA writes. Its behaviour follows the kernel's selftest driver as
 * the 6.12 selftests observe it (conformance.md §4.2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#include "abi.h"
#include "addrmap.h"
#include "backend_mock.h"
#include "fail_nth.h"
#include "mock_pgtable.h"
#include "pages.h"
#include "util.h"

#define MOCK_DEV_FLAGS_VALID                                        \
	(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA | \
	 MOCK_FLAGS_DEVICE_PASID)

struct mock_dev {
	struct iommu_device dev;
	uint32_t flags;
	uint32_t cache[MOCK_DEV_CACHE_NUM]; /* what vIOMMU invalidation resets */
	/* Set by an attach to a nested domain of a vIOMMU: where events go. */
	struct iommufd_viommu *viommu;
	uint64_t virt_id;
	/* The mock fails every second set of PASID 1024 (ENOMEM) on purpose. */
	bool pasid_1024_armed;
};

struct mock_domain {
	struct iommu_domain domain;
	struct mock_pgtable *pt; /* paging */
	bool dirty_enabled;
	uint32_t iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM]; /* nested */
};

static struct mock_dev *to_mock_dev(struct iommu_device *dev)
{
	return container_of(dev, struct mock_dev, dev);
}

static struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

struct iommu_device *mock_dev_create(uint32_t flags, int *err)
{
	struct mock_dev *mdev;

	/* 7.2's mock dropped HUGE_IOVA: an unknown flag (mock-huge-iova). */
	if ((flags & ~MOCK_DEV_FLAGS_VALID) ||
	    ((flags & MOCK_FLAGS_DEVICE_HUGE_IOVA) &&
	     abi_newest(ABI_MOCK_HUGE_IOVA))) {
		*err = -EINVAL;
		return NULL;
	}
	mdev = fail_nth_calloc(1, sizeof(*mdev), "mock device");
	if (!mdev) {
		*err = -ENOMEM;
		return NULL;
	}
	mdev->dev.ops = &mock_backend_ops;
	mdev->flags = flags;
	for (unsigned int i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		mdev->cache[i] = IOMMU_TEST_DEV_CACHE_DEFAULT;
	return &mdev->dev;
}

void mock_dev_destroy(struct iommu_device *dev)
{
	free(to_mock_dev(dev));
}

bool mock_dev_is_mock(const struct iommu_device *dev)
{
	return dev->ops == &mock_backend_ops;
}

/*
 * 7.2's struct iommu_hwpt_selftest: the 6.12 one (include/iommufd) plus the
 * paging HWPT's page table type (abi mock-hwpt-selftest-data).
 */
struct mock_hwpt_selftest_72 {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

#define MOCK_PAGETABLE_DEFAULT 0
#define MOCK_PAGETABLE_HUGE 1

static struct iommu_domain *
mock_domain_alloc(struct iommu_device *dev, uint32_t flags, bool huge, int *err)
{
	struct mock_dev *mdev = to_mock_dev(dev);
	bool dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	struct mock_domain *mock;

	if (flags &
	    ~(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
	      IOMMU_HWPT_ALLOC_PASID)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (dirty && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	mock = fail_nth_calloc(1, sizeof(*mock), "mock domain");
	if (!mock) {
		*err = -ENOMEM;
		return NULL;
	}
	mock->domain.ops = &mock_backend_ops;
	mock->domain.type = IOMMU_DOMAIN_PAGING;
	mock->domain.pgsize_bitmap = MOCK_IO_PAGE_SIZE;
	if (huge || (mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA))
		mock->domain.pgsize_bitmap |= MOCK_HUGE_PAGE_SIZE;
	mock->domain.aperture_start = MOCK_APERTURE_START;
	mock->domain.aperture_end = MOCK_APERTURE_LAST;
	mock->domain.dirty_tracking = dirty;
	mock->pt = mock_pgtable_new();
	if (!mock->pt) {
		free(mock);
		*err = -ENOMEM;
		return NULL;
	}
	return &mock->domain;
}

static struct iommu_domain *mock_domain_alloc_paging(struct iommu_device *dev,
						     uint32_t flags, int *err)
{
	return mock_domain_alloc(dev, flags, false, err);
}

/*
 * 7.2's mock takes selftest data for a paging domain: its page table type.
 * The huge type is given as the 6.12 mock's huge-IOVA domain (2 KiB and
 * 1 MiB IO pages, the same aperture), not as 7.2's generic page table with
 * 4 KiB pages and the whole IOVA space.
 */
static struct iommu_domain *
mock_domain_alloc_paging_data(struct iommu_device *dev, uint32_t flags,
			      const struct iommu_user_data *data, int *err)
{
	struct mock_hwpt_selftest_72 cfg;
	int ret;

	if (!abi_newest(ABI_MOCK_HWPT_SELFTEST_DATA) ||
	    data->type != IOMMU_HWPT_DATA_SELFTEST) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	ret = iommu_copy_struct_from_user(
		data, &cfg, IOMMU_HWPT_DATA_SELFTEST,
		offsetofend(struct mock_hwpt_selftest_72, iotlb), sizeof(cfg));
	if (ret) {
		*err = ret;
		return NULL;
	}
	if (cfg.pagetable_type != MOCK_PAGETABLE_DEFAULT &&
	    cfg.pagetable_type != MOCK_PAGETABLE_HUGE) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	return mock_domain_alloc(
		dev, flags, cfg.pagetable_type == MOCK_PAGETABLE_HUGE, err);
}

static struct iommu_domain *
mock_domain_alloc_nested(struct iommu_device *dev, struct iommu_domain *parent,
			 uint32_t flags, const struct iommu_user_data *data,
			 int *err)
{
	/* 7.2's data is 8 bytes, 6.12's 4 (mock-hwpt-selftest-data). */
	size_t klen = abi_newest(ABI_MOCK_HWPT_SELFTEST_DATA) ?
			      sizeof(struct mock_hwpt_selftest_72) :
			      sizeof(struct iommu_hwpt_selftest);
	struct mock_hwpt_selftest_72 cfg;
	struct mock_domain *mock;
	unsigned int i;
	int ret;

	(void)dev;
	if (data->type != IOMMU_HWPT_DATA_SELFTEST || flags) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (parent->ops != &mock_backend_ops ||
	    parent->type != IOMMU_DOMAIN_PAGING) {
		*err = -EINVAL;
		return NULL;
	}
	ret = iommu_copy_struct_from_user(
		data, &cfg, IOMMU_HWPT_DATA_SELFTEST,
		offsetofend(struct iommu_hwpt_selftest, iotlb), klen);
	if (ret) {
		*err = ret;
		return NULL;
	}
	mock = fail_nth_calloc(1, sizeof(*mock), "mock domain");
	if (!mock) {
		*err = -ENOMEM;
		return NULL;
	}
	mock->domain.ops = &mock_backend_ops;
	mock->domain.type = IOMMU_DOMAIN_NESTED;
	mock->domain.parent = parent;
	for (i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		mock->iotlb[i] = cfg.iotlb;
	return &mock->domain;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock_domain(domain);

	if (mock->pt)
		mock_pgtable_free(mock->pt);
	free(mock);
}

static int mock_domain_map(struct iommu_domain *domain, uint64_t iova,
			   uint64_t paddr, uint64_t len, int prot)
{
	struct mock_domain *mock = to_mock_domain(domain);
	bool huge = domain->pgsize_bitmap & MOCK_HUGE_PAGE_SIZE;
	unsigned int pt_prot = (prot & IOMMU_READ ? MOCK_PT_READ : 0) |
			       (prot & IOMMU_WRITE ? MOCK_PT_WRITE : 0);
	uint64_t done = 0;
	int ret;

	/* Use 1 MiB IOPTEs wherever IOVA and address agree on alignment. */
	while (done < len) {
		uint64_t cur_iova = iova + done, cur_pa = paddr + done;
		uint64_t left = len - done, pgsize = MOCK_IO_PAGE_SIZE, n;

		if (huge && IS_ALIGNED_U64(cur_iova, MOCK_HUGE_PAGE_SIZE) &&
		    IS_ALIGNED_U64(cur_pa, MOCK_HUGE_PAGE_SIZE) &&
		    left >= MOCK_HUGE_PAGE_SIZE) {
			pgsize = MOCK_HUGE_PAGE_SIZE;
			n = ALIGN_DOWN_U64(left, MOCK_HUGE_PAGE_SIZE);
		} else {
			n = ALIGN_UP_U64(cur_iova + 1, MOCK_HUGE_PAGE_SIZE) -
			    cur_iova;
			if (!huge || n > left)
				n = left;
		}
		ret = mock_pgtable_map(mock->pt, cur_iova, cur_pa, n, pgsize,
				       pt_prot);
		if (ret) {
			if (done)
				mock_pgtable_unmap(mock->pt, iova, done);
			return ret;
		}
		done += n;
	}
	return 0;
}

static uint64_t mock_domain_unmap(struct iommu_domain *domain, uint64_t iova,
				  uint64_t len)
{
	return mock_pgtable_unmap(to_mock_domain(domain)->pt, iova, len);
}

static int mock_attach_dev(struct iommu_domain *domain,
			   struct iommu_device *dev)
{
	struct mock_dev *mdev = to_mock_dev(dev);
	uint64_t virt_id = 0;

	if (domain && domain->dirty_tracking &&
	    (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	/*
	 * A nested domain of a vIOMMU translates for the devices the guest
	 * knows there: without a vDEVICE in it, ENOENT (§3.3).
	 */
	if (domain && domain->viommu &&
	    iommufd_viommu_get_vdev_id(domain->viommu, dev, &virt_id))
		return -ENOENT;
	mdev->viommu = domain ? domain->viommu : NULL;
	mdev->virt_id = virt_id;
	dev->domain = domain;
	return 0;
}

static int mock_set_dev_pasid(struct iommu_domain *domain,
			      struct iommu_device *dev, uint32_t pasid,
			      struct iommu_domain *old)
{
	struct mock_dev *mdev = to_mock_dev(dev);
	uint64_t virt_id;

	(void)old;
	if (!domain) {
		if (pasid == IOMMU_TEST_PASID_RESERVED)
			mdev->pasid_1024_armed = false;
		return 0;
	}
	/* As for the RID: a vIOMMU's nested domain needs a vDEVICE. */
	if (domain->viommu &&
	    iommufd_viommu_get_vdev_id(domain->viommu, dev, &virt_id))
		return -ENOENT;
	if (pasid == IOMMU_TEST_PASID_RESERVED) {
		mdev->pasid_1024_armed = !mdev->pasid_1024_armed;
		if (!mdev->pasid_1024_armed)
			return -ENOMEM;
	}
	return 0;
}

static int mock_cache_invalidate_user(struct iommu_domain *domain,
				      struct iommu_user_data_array *array)
{
	struct mock_domain *mock = to_mock_domain(domain);
	struct iommu_hwpt_invalidate_selftest inv;
	uint32_t i, j;
	int ret = 0;

	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) {
		array->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i < array->entry_num; i++) {
		ret = iommu_copy_struct_from_user_array(
			array, &inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
			offsetofend(struct iommu_hwpt_invalidate_selftest,
				    iotlb_id),
			sizeof(inv), i);
		if (ret)
			break;
		if (inv.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (inv.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
			ret = -EINVAL;
			break;
		}
		if (inv.flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			for (j = 0; j < MOCK_NESTED_DOMAIN_IOTLB_NUM; j++)
				mock->iotlb[j] = 0;
		} else {
			mock->iotlb[inv.iotlb_id] = 0;
		}
	}
	array->entry_num = i;
	return ret;
}

static int mock_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	if (enable && !domain->dirty_tracking)
		return -EINVAL;
	to_mock_domain(domain)->dirty_enabled = enable;
	return 0;
}

/* The first present entry at or above an IOVA. */
struct first_entry {
	uint64_t iova;
	unsigned int flags;
	bool found;
};

static int take_first(void *arg, uint64_t iova, uint64_t paddr,
		      unsigned int flags)
{
	struct first_entry *e = arg;

	(void)paddr;
	*e = (struct first_entry){ iova, flags, true };
	return 1;
}

static int note_dirty(void *arg, uint64_t iova, uint64_t paddr,
		      unsigned int flags)
{
	(void)iova;
	(void)paddr;
	*(bool *)arg |= flags & MOCK_PT_DIRTY;
	return 0;
}

static void discard_dirty(void *arg, uint64_t iova, uint64_t size)
{
	(void)arg;
	(void)iova;
	(void)size;
}

/*
 * The kernel's mock walks the range from @iova in steps of its IO page
 * size, 1 MiB over a huge IOPTE; at each step it tests and clears the
 * whole IOPTE the step is in, and reports the step's own IOVA with the
 * IOPTE's size. Its answers (which bits, which EPROTO) follow from that
 * walk, so it is reproduced here, holes skipped in one step.
 */
static int mock_read_and_clear_dirty(
	struct iommu_domain *domain, uint64_t iova, uint64_t len, bool keep,
	void (*fn)(void *arg, uint64_t iova, uint64_t size), void *arg)
{
	struct mock_domain *mock = to_mock_domain(domain);
	uint64_t pos = iova, last;

	/* Reading (not just clearing) needs tracking on, as in the kernel. */
	if (fn && !mock->dirty_enabled)
		return -EINVAL;
	if (!len || check_add_overflow_u64(iova, len - 1, &last))
		return 0;
	for (;;) {
		struct first_entry e = { 0 };
		uint64_t pgsize, head;
		bool dirty = false;

		mock_pgtable_for_each(mock->pt, pos, last - pos + 1, take_first,
				      &e);
		if (!e.found)
			return 0;
		pos = e.iova;
		pgsize = e.flags & MOCK_PT_HUGE ? MOCK_HUGE_PAGE_SIZE :
						  MOCK_IO_PAGE_SIZE;
		head = pos & ~(pgsize - 1);
		mock_pgtable_for_each(mock->pt, head, pgsize, note_dirty,
				      &dirty);
		if (dirty) {
			if (!keep)
				mock_pgtable_read_and_clear_dirty(
					mock->pt, head, pgsize, false,
					discard_dirty, NULL);
			if (fn)
				fn(arg, pos, pgsize);
		}
		if (last - pos < pgsize)
			return 0;
		pos += pgsize;
	}
}

static int mock_hw_info(struct iommu_device *dev, uint32_t *type, void *buf)
{
	struct iommu_test_hw_info info = {
		.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
	};

	(void)dev;
	if (*type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    *type != IOMMU_HW_INFO_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	memcpy(buf, &info, sizeof(info));
	return sizeof(info);
}

static uint64_t mock_capabilities(struct iommu_device *dev)
{
	uint64_t caps = to_mock_dev(dev)->flags & MOCK_FLAGS_DEVICE_NO_DIRTY ?
				0 :
				IOMMU_HW_CAP_DIRTY_TRACKING;

	/* 7.2 says so for every device without ATS, as no mock has it. */
	if (abi_newest(ABI_HW_INFO_ATS))
		caps |= IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
	return caps;
}

static uint8_t mock_max_pasid_log2(struct iommu_device *dev)
{
	return to_mock_dev(dev)->flags & MOCK_FLAGS_DEVICE_PASID ?
		       MOCK_PASID_WIDTH :
		       0;
}

static unsigned int mock_resv_regions(struct iommu_device *dev,
				      struct iommu_resv_region *regions,
				      unsigned int max)
{
	(void)dev;
	(void)regions;
	(void)max;
	return 0;
}

/*
 * The 6.12 mock reports IOMMU_CAP_CACHE_COHERENCY but not the enforcing
 * kind, so no mock HWPT enforces coherency and VFIO_DMA_CC_IOMMU is 0
 * once a mock domain is in the compat IOAS.
 */
static bool mock_dev_enforces_cache_coherency(struct iommu_device *dev)
{
	(void)dev;
	return false;
}

static bool mock_enforce_cache_coherency(struct iommu_domain *domain)
{
	(void)domain;
	return true;
}

struct mock_pgtable *mock_domain_pgtable(struct iommu_domain *domain)
{
	if (domain->ops != &mock_backend_ops ||
	    domain->type != IOMMU_DOMAIN_PAGING)
		return NULL;
	return to_mock_domain(domain)->pt;
}

bool mock_domain_dirty_enabled(struct iommu_domain *domain)
{
	return to_mock_domain(domain)->dirty_enabled;
}

int mock_domain_check_iotlb(struct iommu_domain *domain, uint32_t id,
			    uint32_t value)
{
	if (domain->ops != &mock_backend_ops ||
	    domain->type != IOMMU_DOMAIN_NESTED ||
	    id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX ||
	    to_mock_domain(domain)->iotlb[id] != value)
		return -EINVAL;
	return 0;
}

int mock_dev_check_cache(struct iommu_device *dev, uint32_t index,
			 uint32_t value)
{
	if (index > MOCK_DEV_CACHE_ID_MAX ||
	    to_mock_dev(dev)->cache[index] != value)
		return -EINVAL;
	return 0;
}

void mock_dev_clear_cache(struct iommu_device *dev, uint32_t index, bool all)
{
	struct mock_dev *mdev = to_mock_dev(dev);

	for (unsigned int i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		if (all || i == index)
			mdev->cache[i] = 0;
}

struct iommufd_viommu *mock_dev_viommu(struct iommu_device *dev,
				       uint64_t *virt_id)
{
	*virt_id = to_mock_dev(dev)->virt_id;
	return to_mock_dev(dev)->viommu;
}

int mock_dev_dma(struct iommu_device *dev, uint64_t iova, void *buf,
		 uint64_t len, bool write)
{
	struct iommu_domain *domain = dev->domain;
	struct mock_domain *mock;

	if (!domain)
		return -EPERM;
	/* The mock's stage 1 is an identity: translate through the parent. */
	if (domain->type == IOMMU_DOMAIN_NESTED)
		domain = domain->parent;
	mock = to_mock_domain(domain);

	while (len) {
		uint64_t paddr,
			n = MOCK_IO_PAGE_SIZE - iova % MOCK_IO_PAGE_SIZE;
		unsigned int flags;
		int ret;

		if (n > len)
			n = len;
		if (mock_pgtable_lookup(mock->pt, iova, &paddr, &flags))
			return -ENOENT;
		if (!(flags & (write ? MOCK_PT_WRITE : MOCK_PT_READ)))
			return -EPERM;
		ret = phys_rw(paddr, buf, n, write);
		if (ret)
			return ret;
		if (write && mock->dirty_enabled)
			mock_pgtable_set_dirty(mock->pt, iova);
		iova += n;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

const struct iommu_backend_ops mock_backend_ops = {
	.name = "mock",
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_paging_data = mock_domain_alloc_paging_data,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.domain_free = mock_domain_free,
	.map = mock_domain_map,
	.unmap = mock_domain_unmap,
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	.cache_invalidate_user = mock_cache_invalidate_user,
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
	.hw_info = mock_hw_info,
	.capabilities = mock_capabilities,
	.max_pasid_log2 = mock_max_pasid_log2,
	.resv_regions = mock_resv_regions,
	.dev_enforces_cache_coherency = mock_dev_enforces_cache_coherency,
	.enforce_cache_coherency = mock_enforce_cache_coherency,
	.viommu_type_supported = mock_viommu_type_supported,
	.viommu_init = mock_viommu_init,
	.viommu_destroy = mock_viommu_destroy,
	.viommu_cache_invalidate = mock_viommu_cache_invalidate,
	.hw_queue_type_supported = mock_hw_queue_type_supported,
	.hw_queue_init = mock_hw_queue_init,
};
