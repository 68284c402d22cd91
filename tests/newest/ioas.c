// SPDX-License-Identifier: MIT
/*
 * The newest additions to the iommufd and iommufd_ioas fixtures: the size
 * rules of the new commands (iommufd.cmd_length), DEV_CHECK_CACHE on every
 * mock device, PASID-capable mock devices in GET_HW_INFO, the newest
 * INVALIDATE errnos, IOMMU_HWPT_ALLOC_PASID and reserved_overflow.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "newest.h"

struct length_case {
	const char *name;
	unsigned long cmd;
	uint32_t size; /* sizeof the struct */
	uint32_t min_size; /* offsetofend of the last mandatory field */
	long expect; /* result of an all-zero struct (newest-uapi.md §3) */
};

/*
 * iommufd.cmd_length, per command: too short is EINVAL, a non-zero byte
 * past the struct is E2BIG, a zero one is ignored (newest-uapi.md §1.1).
 */
static void length_rules(int fd, const struct length_case *c)
{
	uint8_t buf[64];
	long full, ret;

	memset(buf, 0, sizeof(buf));
	*(uint32_t *)buf = c->min_size - 1;
	check(ioc(fd, c->cmd, buf) == -EINVAL,
	      "%s: size %u (min_size - 1) "
	      "is EINVAL",
	      c->name, c->min_size - 1);

	memset(buf, 0, sizeof(buf));
	*(uint32_t *)buf = c->size;
	full = ioc(fd, c->cmd, buf);
	check(full == c->expect, "%s: all-zero struct gives %s (got %s)",
	      c->name, strerror((int)-c->expect), strerror((int)-full));

	if (c->min_size < c->size) {
		memset(buf, 0, sizeof(buf));
		*(uint32_t *)buf = c->min_size;
		ret = ioc(fd, c->cmd, buf);
		check(ret == full,
		      "%s: size min_size %u is accepted like the "
		      "full size",
		      c->name, c->min_size);
	}

	memset(buf, 0, sizeof(buf));
	*(uint32_t *)buf = c->size + 1;
	ret = ioc(fd, c->cmd, buf);
	check(ret == full, "%s: one zero byte past the struct is ignored",
	      c->name);

	memset(buf, 0, sizeof(buf));
	*(uint32_t *)buf = c->size + 1;
	buf[c->size] = 0xaa;
	check(ioc(fd, c->cmd, buf) == -E2BIG,
	      "%s: a non-zero byte past the struct is E2BIG", c->name);
}

void test_cmd_length(void)
{
	static const struct length_case cases[] = {
		{ "IOAS_MAP_FILE", IOMMU_IOAS_MAP_FILE, 40, 40, -EINVAL },
		{ "VIOMMU_ALLOC", IOMMU_VIOMMU_ALLOC, 40, 24, -EOPNOTSUPP },
		{ "VDEVICE_ALLOC", IOMMU_VDEVICE_ALLOC, 24, 24, -ENOENT },
		{ "IOAS_CHANGE_PROCESS", IOMMU_IOAS_CHANGE_PROCESS, 8, 8, 0 },
		{ "VEVENTQ_ALLOC", IOMMU_VEVENTQ_ALLOC, 32, 28, -EOPNOTSUPP },
		{ "HW_QUEUE_ALLOC", IOMMU_HW_QUEUE_ALLOC, 40, 40, -EOPNOTSUPP },
	};
	size_t i;
	int fd = open_dev();

	if (fd < 0)
		return;
	note("iommufd.cmd_length: the new commands");
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		length_rules(fd, &cases[i]);
	close(fd);
}

static long hw_info(int fd, uint32_t idev, uint32_t flags, uint32_t type,
		    struct iommu_hw_info *out, struct iommu_test_hw_info *data)
{
	*out = (struct iommu_hw_info){
		.size = sizeof(*out),
		.flags = flags,
		.dev_id = idev,
		.data_len = sizeof(*data),
		.data_uptr = (uintptr_t)data,
		.in_data_type = type,
	};
	memset(data, 0, sizeof(*data));
	return ioc(fd, IOMMU_GET_HW_INFO, out);
}

/* newest-uapi.md §3.9: the PASID width and the input type. */
static void hw_info_newest(int fd, uint32_t idev, uint32_t pasid_idev)
{
	struct iommu_test_hw_info data;
	struct iommu_hw_info info;
	long ret;

	ret = hw_info(fd, idev, 0, 0, &info, &data);
	check(ret == 0 && info.out_max_pasid_log2 == 0 &&
		      info.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST &&
		      data.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL,
	      "GET_HW_INFO: a plain mock device has no PASID bits");
	ret = hw_info(fd, pasid_idev, 0, 0, &info, &data);
	check(ret == 0 && info.out_max_pasid_log2 == MOCK_PASID_WIDTH,
	      "GET_HW_INFO: a MOCK_FLAGS_DEVICE_PASID device has %u PASID "
	      "bits (got %u)",
	      MOCK_PASID_WIDTH, info.out_max_pasid_log2);
	ret = hw_info(fd, idev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
		      IOMMU_HW_INFO_TYPE_SELFTEST, &info, &data);
	check(ret == 0 && info.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST &&
		      info.data_len == sizeof(data),
	      "GET_HW_INFO: INPUT_TYPE with the selftest type is accepted");
	ret = hw_info(fd, idev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
		      IOMMU_HW_INFO_TYPE_INTEL_VTD, &info, &data);
	check(ret == -EOPNOTSUPP,
	      "GET_HW_INFO: INPUT_TYPE with a type the mock lacks is "
	      "EOPNOTSUPP");
	ret = hw_info(fd, idev, 1U << 1, 0, &info, &data);
	check(ret == -EOPNOTSUPP, "GET_HW_INFO: an unknown flag is EOPNOTSUPP");
}

/* newest-uapi.md §6: DEV_CHECK_CACHE and its errors. */
static void dev_cache_ops(int fd, uint32_t ioas, uint32_t idev,
			  uint32_t pasid_idev)
{
	check(dev_check_cache_all(fd, idev, IOMMU_TEST_DEV_CACHE_DEFAULT) == 0,
	      "DEV_CHECK_CACHE: a new mock device holds 0x%x in all %d "
	      "entries",
	      IOMMU_TEST_DEV_CACHE_DEFAULT, MOCK_DEV_CACHE_NUM);
	check(dev_check_cache_all(fd, pasid_idev,
				  IOMMU_TEST_DEV_CACHE_DEFAULT) == 0,
	      "DEV_CHECK_CACHE: so does a PASID-capable one");
	check(dev_check_cache(fd, idev, 0, 0) == -EINVAL,
	      "DEV_CHECK_CACHE: a wrong expected value is EINVAL");
	check(dev_check_cache(fd, idev, MOCK_DEV_CACHE_ID_MAX + 1,
			      IOMMU_TEST_DEV_CACHE_DEFAULT) == -EINVAL,
	      "DEV_CHECK_CACHE: index %d is EINVAL", MOCK_DEV_CACHE_ID_MAX + 1);
	check(dev_check_cache(fd, ioas, 0, IOMMU_TEST_DEV_CACHE_DEFAULT) ==
		      -ENOENT,
	      "DEV_CHECK_CACHE: an IOAS ID is ENOENT");
}

/* newest-uapi.md §3.4 and §4.3 (alloc_hwpt_nested). */
static void hwpt_newest(int fd, uint32_t ioas, uint32_t idev)
{
	struct iommu_hwpt_invalidate_selftest inv = { 0 };
	uint32_t parent, nested, paging, num;
	long ret;

	if (!setup_ok(hwpt_alloc(fd, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
				 0, &parent),
		      "nesting parent HWPT"))
		return;
	num = 1;
	ret = invalidate(fd, parent, &inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
			 sizeof(inv), &num);
	check(ret == -EINVAL && num == 0,
	      "HWPT_INVALIDATE on a paging HWPT is EINVAL, entry_num 0 (%s)",
	      strerror((int)-ret));
	num = 1;
	ret = invalidate(fd, ioas, &inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
			 sizeof(inv), &num);
	check(ret == -EINVAL, "HWPT_INVALIDATE on an IOAS is EINVAL (%s)",
	      strerror((int)-ret));
	num = 1;
	ret = invalidate(fd, 0xfffff, &inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
			 sizeof(inv), &num);
	check(ret == -ENOENT, "HWPT_INVALIDATE on an unused ID is ENOENT");

	ret = hwpt_alloc_nested(fd, idev, parent, IOMMU_HWPT_ALLOC_PASID, 0,
				&nested);
	if (check(ret == 0, "HWPT_ALLOC: nested with ALLOC_PASID"))
		check(destroy(fd, nested) == 0, "and it can be destroyed");
	ret = hwpt_alloc(fd, idev, ioas, IOMMU_HWPT_ALLOC_PASID, 0, &paging);
	if (check(ret == 0, "HWPT_ALLOC: paging with ALLOC_PASID"))
		destroy(fd, paging);
	ret = hwpt_alloc(fd, idev, ioas,
			 IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
			 0, &paging);
	if (check(ret == 0, "HWPT_ALLOC: ALLOC_PASID with NEST_PARENT"))
		destroy(fd, paging);
	ret = hwpt_alloc(fd, idev, ioas,
			 IOMMU_HWPT_FAULT_ID_VALID |
				 IOMMU_HWPT_ALLOC_NEST_PARENT,
			 0, &paging);
	check(ret == -EOPNOTSUPP,
	      "HWPT_ALLOC: FAULT_ID_VALID on a nesting parent is EOPNOTSUPP");
	check(destroy(fd, parent) == 0, "the parent HWPT is destroyed");
}

/*
 * iommufd_ioas.reserved_overflow: a reservation that leaves only
 * [2^64 - 0x7ff9, 2^64 - 1 page) free. The automatic IOVA of a 0x5000-byte
 * map from a well-aligned address is aligned to 0x8000 (the kernel's
 * io_pagetable.c iopt_alloc_iova() keeps min(roundup_pow_of_two(length),
 * user VA alignment)), and aligning past 2^64 must not wrap around.
 */
static void reserved_overflow(int fd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.add_reserved = { .start = 6, .length = 0xffffffffffff8001ULL },
	};
	const size_t align = 0x10000, len = 0x5000;
	uint64_t iova;
	uint32_t ioas;
	uint8_t *raw;
	long ret;

	if (page_size != 4096) {
		skip("the numbers are for 4 KiB pages",
		     "reserved_overflow: automatic IOVA is ENOSPC");
		return;
	}
	raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!setup_ok(raw == MAP_FAILED ? -errno : 0, "aligned buffer"))
		return;
	if (setup_ok(ioas_alloc(fd, &ioas), "IOAS")) {
		cmd.id = ioas;
		if (setup_ok(test_op(fd, &cmd),
			     "ADD_RESERVED [6, 2^64 - 0x7ffa)")) {
			uint8_t *buf =
				(uint8_t *)(((uintptr_t)raw + align - 1) &
					    ~(uintptr_t)(align - 1));

			ret = ioas_map(fd, ioas, buf, len, &iova, false);
			check(ret == -ENOSPC,
			      "reserved_overflow: automatic IOVA is ENOSPC (%s)",
			      ret ? strerror((int)-ret) : "mapped");
		}
		destroy(fd, ioas);
	}
	munmap(raw, len + align);
}

/* The 7.2 selftest data: iommu_hwpt_selftest grew a page table type. */
struct hwpt_selftest_72 {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

static long hwpt_alloc_72(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
			  uint32_t table, uint32_t *out)
{
	struct hwpt_selftest_72 data = { IOMMU_TEST_IOTLB_DEFAULT, table };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = idev,
		.pt_id = pt,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	long ret = ioc(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!ret)
		*out = cmd.out_hwpt_id;
	return ret;
}

/* newest-uapi.md §11 rows marked 7.2 (and §12). */
static void mock_72(int fd, uint32_t ioas, uint32_t idev)
{
	struct iommu_test_hw_info data;
	struct iommu_hw_info info;
	uint32_t huge = 0, parent = 0, nested = 0;

	check(hw_info(fd, idev, 0, 0, &info, &data) == 0 &&
		      (info.out_capabilities &
		       IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED),
	      "7.2: a mock device reports PCI_ATS_NOT_SUPPORTED");
	check(mock_domain(fd, ioas, MOCK_FLAGS_DEVICE_HUGE_IOVA, NULL, NULL,
			  NULL) == -EINVAL,
	      "7.2: MOCK_FLAGS_DEVICE_HUGE_IOVA is an unknown flag, EINVAL");
	if (check(hwpt_alloc_72(fd, idev, ioas, 0, MOCK_IOMMUPT_HUGE, &huge) ==
			  0,
		  "7.2: a paging HWPT with selftest data, huge page table"))
		destroy(fd, huge);
	if (check(hwpt_alloc_72(fd, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
				MOCK_IOMMUPT_DEFAULT, &parent) == 0,
		  "7.2: a nesting parent with selftest data")) {
		check(hwpt_alloc_72(fd, idev, parent, 0, 0, &nested) == 0 &&
			      destroy(fd, nested) == 0,
		      "7.2: 8 bytes of nested selftest data");
		destroy(fd, parent);
	}
	check(hwpt_alloc_72(fd, idev, ioas, 0, 2, &huge) == -EOPNOTSUPP,
	      "7.2: an unknown page table type is EOPNOTSUPP");
}

void test_ioas_newest(void)
{
	uint32_t ioas, stdev, hwpt, idev, pasid_idev = 0;
	size_t len = 16 * page_size;
	void *buf;
	int fd = open_dev();

	if (fd < 0)
		return;
	note("iommufd_ioas (mock_domain): the newest additions");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!setup_ok(buf == MAP_FAILED ? -errno : 0, "buffer") ||
	    !setup_ok(ioas_alloc(fd, &ioas), "IOAS") ||
	    !setup_ok(mock_domain(fd, ioas, 0, &stdev, &hwpt, &idev),
		      "mock device")) {
		close(fd);
		return;
	}
	check(mock_domain(fd, ioas, MOCK_FLAGS_DEVICE_PASID, NULL, NULL,
			  &pasid_idev) == 0,
	      "MOCK_DOMAIN_FLAGS accepts MOCK_FLAGS_DEVICE_PASID");
	check(mock_domain(fd, ioas, 1U << 5, NULL, NULL, NULL) == -EINVAL,
	      "MOCK_DOMAIN_FLAGS: an unknown device flag is EINVAL");
	dev_cache_ops(fd, ioas, idev, pasid_idev);
	hw_info_newest(fd, idev, pasid_idev);
	hwpt_newest(fd, ioas, idev);
	mock_72(fd, ioas, idev);
	reserved_overflow(fd);
	teardown(fd, buf, len, "iommufd_ioas");
	munmap(buf, len);
}
