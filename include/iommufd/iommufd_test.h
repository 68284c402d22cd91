/* SPDX-License-Identifier: MIT */
/*
 * IOMMU_TEST_CMD and the mock IOMMU driver's data formats.
 *
 * Test kernels (CONFIG_IOMMUFD_TEST) expose this extra command; the kernel's
 * iommufd selftests create every device, domain and in-kernel access through
 * it. It is not a stable ABI: this is the newest numbering, written from
 * docs/conformance.md §4 and docs/uapi.md §7, so the daemon can run those
 * selftests unchanged.
 */
#ifndef IOMMUFDD_IOMMUFD_TEST_H
#define IOMMUFDD_IOMMUFD_TEST_H

#include <linux/types.h>

#include "iommufd.h"

/* Values of iommu_test_cmd.op; an unknown op gives EOPNOTSUPP. */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	IOMMU_TEST_OP_ACCESS_PAGES = 7,
	IOMMU_TEST_OP_ACCESS_RW = 8,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	IOMMU_TEST_OP_DIRTY = 13,
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,
	IOMMU_TEST_OP_DEV_CHECK_CACHE = 16,
	IOMMU_TEST_OP_TRIGGER_VEVENT = 17,
	IOMMU_TEST_OP_PASID_ATTACH = 18,
	IOMMU_TEST_OP_PASID_REPLACE = 19,
	IOMMU_TEST_OP_PASID_DETACH = 20,
	IOMMU_TEST_OP_PASID_CHECK_HWPT = 21,
	/* After 6.18: a test dma-buf, returned as the ioctl's result */
	IOMMU_TEST_OP_DMABUF_GET = 22,
	IOMMU_TEST_OP_DMABUF_REVOKE = 23,
};

/*
 * After 6.18 the mock paging domain is a real (AMD v1 format) page table
 * and its format is chosen per HWPT: iommu_hwpt_selftest.pagetable_type,
 * given as IOMMU_HWPT_DATA_SELFTEST data to a paging HWPT_ALLOC, replaces
 * the device flag MOCK_FLAGS_DEVICE_HUGE_IOVA. That grows
 * struct iommu_hwpt_selftest to 8 bytes; this header keeps the 4-byte
 * (6.18) layout, which the 6.12 suite and iommufdd's mock use, and names
 * only the values here (docs/newest-uapi.md, "after 6.18").
 */
enum {
	MOCK_IOMMUPT_DEFAULT = 0,
	MOCK_IOMMUPT_HUGE = 1,
};

/* Mock domain aperture; everything outside it becomes reserved IOVA. */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
};

/* access_pages.flags */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	/* syzkaller only: iova is (nth area, offset), never set by the tests */
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
};

/* access_rw.flags; SLOW_PATH is a hint an emulation may ignore */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/* create_access.flags */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/* mock_domain_flags.dev_flags; any other bit gives EINVAL */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
	MOCK_FLAGS_DEVICE_PASID = 1 << 2,
};

/* A mock nested domain's iotlb[] entries, as addressed by check_iotlb.id */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

/* A mock device's cache[] entries, as addressed by check_dev_cache.id */
enum {
	MOCK_DEV_CACHE_ID_MAX = 3,
	MOCK_DEV_CACHE_NUM = 4,
};

/* PASID_REPLACE on this PASID fails with ENOMEM on purpose. */
#define IOMMU_TEST_PASID_RESERVED 1024

/**
 * struct iommu_test_cmd - IOMMU_TEST_CMD argument
 * @size: sizeof(struct iommu_test_cmd); at least offsetofend(last)
 * @op: IOMMU_TEST_OP_*
 * @id: object the op works on (IOAS, HWPT, stdev, idev, or an access fd)
 * @__reserved: 0
 * @add_reserved: reserve [start, start + length - 1] in IOAS @id
 * @mock_domain: new mock device attached to @id; returns the selftest object,
 *               its HWPT and its device (idev) IDs, allocated in that order
 * @mock_domain_flags: as @mock_domain, with MOCK_FLAGS_DEVICE_* flags
 * @mock_domain_replace: move stdev @id to @pt_id; returns the HWPT ID there
 * @check_map: check that mock HWPT @id maps iova..+length to the caller's
 *             memory at uptr
 * @check_refs: check the pin count of every page at uptr
 * @create_access: new in-kernel access on IOAS @id, returned as an fd
 * @destroy_access_pages: unpin one ACCESS_PAGES item of access fd @id
 * @access_pages: pin a range through access fd @id; returns the item ID
 * @access_rw: copy between the IOAS and the caller's buffer via access @id
 * @memory_limit: global temporary batch size in pages, at least 12
 * @access_replace_ioas: move access fd @id to another IOAS
 * @dirty: mark IOVAs of mock HWPT @id dirty from a user bitmap
 * @check_iotlb: compare one iotlb[] entry of mock nested HWPT @id
 * @trigger_iopf: raise a page request on a mock device
 * @check_dev_cache: compare one cache[] entry of idev @id
 * @trigger_vevent: raise a selftest vEVENT for a device's vDEVICE
 * @pasid_attach: attach HWPT @pt_id to @pasid of stdev @id
 * @pasid_replace: replace the HWPT on @pasid of stdev @id
 * @pasid_detach: detach @pasid of stdev @id
 * @pasid_check: expect @hwpt_id (0 for none) on @pasid of stdev @id
 * @dmabuf_get: new test dma-buf of @length bytes; its fd, opened with
 *              @open_flags, is the ioctl's return value
 * @dmabuf_revoke: revoke (1) or restore (0) the test dma-buf @dmabuf_fd
 * @last: marks the end of the mandatory part, for min_size
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	__extension__ union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		struct {
			__u32 id;
			__u32 iotlb;
		} check_iotlb;
		struct {
			__u32 dev_id;
			__u32 pasid;
			__u32 grpid;
			__u32 perm;
			__u64 addr;
		} trigger_iopf;
		struct {
			__u32 id;
			__u32 cache;
		} check_dev_cache;
		struct {
			__u32 dev_id;
		} trigger_vevent;
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_attach;
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_replace;
		struct {
			__u32 pasid;
		} pasid_detach;
		struct {
			__u32 pasid;
			__u32 hwpt_id;
		} pasid_check;
		struct {
			__u32 length;
			__u32 open_flags;
		} dmabuf_get;
		struct {
			__s32 dmabuf_fd;
			__u32 revoked;
		} dmabuf_revoke;
	};
	__u32 last;
};
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* out_max_pasid_log2 of a MOCK_FLAGS_DEVICE_PASID device */
#define MOCK_PASID_WIDTH 20

/* IOMMU_GET_HW_INFO of a mock device */
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

/**
 * struct iommu_test_hw_info - IOMMU_HW_INFO_TYPE_SELFTEST data
 * @flags: 0
 * @test_reg: IOMMU_HW_INFO_SELFTEST_REGVAL
 */
struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

/*
 * Test-only type numbers sit far from the real enums so they can never
 * collide with a driver type added later.
 */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddad

/**
 * struct iommu_hwpt_selftest - IOMMU_HWPT_DATA_SELFTEST payload
 * @iotlb: initial value of every iotlb[] entry of the nested domain
 */
struct iommu_hwpt_selftest {
	__u32 iotlb;
};

#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
/* A type the mock must refuse; the tests use it for the EINVAL path. */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* Invalidate every entry and ignore the index. */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1 << 0)

/**
 * struct iommu_hwpt_invalidate_selftest - mock nested HWPT invalidation
 * @flags: IOMMU_TEST_INVALIDATE_FLAG_ALL or 0
 * @iotlb_id: entry to reset, at most MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;
	__u32 iotlb_id;
};

#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef

/**
 * struct iommu_viommu_selftest - IOMMU_VIOMMU_TYPE_SELFTEST data
 * @in_data: any value
 * @out_data: @in_data echoed back
 * @out_mmap_offset: mmap offset of a page whose first __u32 is @in_data
 * @out_mmap_length: mmap length of that page
 */
struct iommu_viommu_selftest {
	__u32 in_data;
	__u32 out_data;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_length;
};

#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/**
 * struct iommu_viommu_invalidate_selftest - mock vIOMMU invalidation
 * @flags: IOMMU_TEST_INVALIDATE_FLAG_ALL or 0
 * @vdev_id: virtual ID of the device whose cache[] is reset
 * @cache_id: entry to reset, at most MOCK_DEV_CACHE_ID_MAX
 */
struct iommu_viommu_invalidate_selftest {
	__u32 flags;
	__u32 vdev_id;
	__u32 cache_id;
};

#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef

/**
 * struct iommu_viommu_event_selftest - IOMMU_VEVENTQ_TYPE_SELFTEST record
 * @virt_id: virtual ID of the device the event is about
 */
struct iommu_viommu_event_selftest {
	__u32 virt_id;
};

#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef
/* Queues per mock vIOMMU; index 0 must exist before index 1. */
#define IOMMU_TEST_HW_QUEUE_MAX 2

#endif /* IOMMUFDD_IOMMUFD_TEST_H */
