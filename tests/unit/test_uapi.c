// SPDX-License-Identifier: MIT
/*
 * Locks our uAPI headers to the documented ABI.
 *
 * Every expected value is a literal copied from the tables in
 * docs/uapi.md (§1, §6, §7) and docs/conformance.md (§4), never computed from
 * the headers under test, so a header edit that moves a field or renumbers a
 * command fails here instead of on a caller's machine.
 *
 * Built with -DUAPI_HEADER_CHECK=<n> the file becomes a compile-only check
 * that includes nothing but our headers, one alone or all three in some order
 * (see the end of the file), to prove each is self-contained.
 */

#ifndef UAPI_HEADER_CHECK

/*
 * Deliberately not the natural order: the test header pulls in iommufd.h
 * itself, and re-including it afterwards must be harmless.
 */
#include <iommufd/iommufd_test.h>
#include <iommufd/vfio_compat.h>
#include <iommufd/iommufd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Offset and size of one field, so a type change is caught as well. */
#define FIELD(s, f, off, sz)                                        \
	do {                                                        \
		assert_int_equal(offsetof(struct s, f), (off));     \
		assert_int_equal(sizeof(((struct s *)0)->f), (sz)); \
	} while (0)

#define SIZE(s, sz) assert_int_equal(sizeof(struct s), (sz))

/* offsetofend(), i.e. the kernel's min_size for a command */
#define END(s, f) (offsetof(struct s, f) + sizeof(((struct s *)0)->f))

static void test_command_numbers(void **state)
{
	(void)state;

	assert_int_equal(IOMMUFD_TYPE, 0x3b);
	assert_int_equal(IOMMUFD_CMD_BASE, 0x80);

	assert_int_equal(IOMMUFD_CMD_DESTROY, 0x80);
	assert_int_equal(IOMMUFD_CMD_IOAS_ALLOC, 0x81);
	assert_int_equal(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, 0x82);
	assert_int_equal(IOMMUFD_CMD_IOAS_COPY, 0x83);
	assert_int_equal(IOMMUFD_CMD_IOAS_IOVA_RANGES, 0x84);
	assert_int_equal(IOMMUFD_CMD_IOAS_MAP, 0x85);
	assert_int_equal(IOMMUFD_CMD_IOAS_UNMAP, 0x86);
	assert_int_equal(IOMMUFD_CMD_OPTION, 0x87);
	assert_int_equal(IOMMUFD_CMD_VFIO_IOAS, 0x88);
	assert_int_equal(IOMMUFD_CMD_HWPT_ALLOC, 0x89);
	assert_int_equal(IOMMUFD_CMD_GET_HW_INFO, 0x8a);
	assert_int_equal(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING, 0x8b);
	assert_int_equal(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, 0x8c);
	assert_int_equal(IOMMUFD_CMD_HWPT_INVALIDATE, 0x8d);
	assert_int_equal(IOMMUFD_CMD_FAULT_QUEUE_ALLOC, 0x8e);
	assert_int_equal(IOMMUFD_CMD_IOAS_MAP_FILE, 0x8f);
	assert_int_equal(IOMMUFD_CMD_VIOMMU_ALLOC, 0x90);
	assert_int_equal(IOMMUFD_CMD_VDEVICE_ALLOC, 0x91);
	assert_int_equal(IOMMUFD_CMD_IOAS_CHANGE_PROCESS, 0x92);
	assert_int_equal(IOMMUFD_CMD_VEVENTQ_ALLOC, 0x93);
	assert_int_equal(IOMMUFD_CMD_HW_QUEUE_ALLOC, 0x94);

	assert_int_equal(IOMMU_DESTROY, 0x3b80);
	assert_int_equal(IOMMU_IOAS_ALLOC, 0x3b81);
	assert_int_equal(IOMMU_IOAS_ALLOW_IOVAS, 0x3b82);
	assert_int_equal(IOMMU_IOAS_COPY, 0x3b83);
	assert_int_equal(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
	assert_int_equal(IOMMU_IOAS_MAP, 0x3b85);
	assert_int_equal(IOMMU_IOAS_UNMAP, 0x3b86);
	assert_int_equal(IOMMU_OPTION, 0x3b87);
	assert_int_equal(IOMMU_VFIO_IOAS, 0x3b88);
	assert_int_equal(IOMMU_HWPT_ALLOC, 0x3b89);
	assert_int_equal(IOMMU_GET_HW_INFO, 0x3b8a);
	assert_int_equal(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3b8b);
	assert_int_equal(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3b8c);
	assert_int_equal(IOMMU_HWPT_INVALIDATE, 0x3b8d);
	assert_int_equal(IOMMU_FAULT_QUEUE_ALLOC, 0x3b8e);
	assert_int_equal(IOMMU_IOAS_MAP_FILE, 0x3b8f);
	assert_int_equal(IOMMU_VIOMMU_ALLOC, 0x3b90);
	assert_int_equal(IOMMU_VDEVICE_ALLOC, 0x3b91);
	assert_int_equal(IOMMU_IOAS_CHANGE_PROCESS, 0x3b92);
	assert_int_equal(IOMMU_VEVENTQ_ALLOC, 0x3b93);
	assert_int_equal(IOMMU_HW_QUEUE_ALLOC, 0x3b94);
	assert_int_equal(IOMMU_TEST_CMD, 0x3ba0);
}

static void test_ioas_structs(void **state)
{
	(void)state;

	SIZE(iommu_destroy, 8);
	FIELD(iommu_destroy, size, 0, 4);
	FIELD(iommu_destroy, id, 4, 4);

	SIZE(iommu_ioas_alloc, 12);
	FIELD(iommu_ioas_alloc, size, 0, 4);
	FIELD(iommu_ioas_alloc, flags, 4, 4);
	FIELD(iommu_ioas_alloc, out_ioas_id, 8, 4);

	SIZE(iommu_iova_range, 16);
	FIELD(iommu_iova_range, start, 0, 8);
	FIELD(iommu_iova_range, last, 8, 8);

	SIZE(iommu_ioas_iova_ranges, 32);
	FIELD(iommu_ioas_iova_ranges, size, 0, 4);
	FIELD(iommu_ioas_iova_ranges, ioas_id, 4, 4);
	FIELD(iommu_ioas_iova_ranges, num_iovas, 8, 4);
	FIELD(iommu_ioas_iova_ranges, __reserved, 12, 4);
	FIELD(iommu_ioas_iova_ranges, allowed_iovas, 16, 8);
	FIELD(iommu_ioas_iova_ranges, out_iova_alignment, 24, 8);

	SIZE(iommu_ioas_allow_iovas, 24);
	FIELD(iommu_ioas_allow_iovas, size, 0, 4);
	FIELD(iommu_ioas_allow_iovas, ioas_id, 4, 4);
	FIELD(iommu_ioas_allow_iovas, num_iovas, 8, 4);
	FIELD(iommu_ioas_allow_iovas, __reserved, 12, 4);
	FIELD(iommu_ioas_allow_iovas, allowed_iovas, 16, 8);

	SIZE(iommu_ioas_map, 40);
	FIELD(iommu_ioas_map, size, 0, 4);
	FIELD(iommu_ioas_map, flags, 4, 4);
	FIELD(iommu_ioas_map, ioas_id, 8, 4);
	FIELD(iommu_ioas_map, __reserved, 12, 4);
	FIELD(iommu_ioas_map, user_va, 16, 8);
	FIELD(iommu_ioas_map, length, 24, 8);
	FIELD(iommu_ioas_map, iova, 32, 8);

	SIZE(iommu_ioas_map_file, 40);
	FIELD(iommu_ioas_map_file, size, 0, 4);
	FIELD(iommu_ioas_map_file, flags, 4, 4);
	FIELD(iommu_ioas_map_file, ioas_id, 8, 4);
	FIELD(iommu_ioas_map_file, fd, 12, 4);
	FIELD(iommu_ioas_map_file, start, 16, 8);
	FIELD(iommu_ioas_map_file, length, 24, 8);
	FIELD(iommu_ioas_map_file, iova, 32, 8);

	SIZE(iommu_ioas_copy, 40);
	FIELD(iommu_ioas_copy, size, 0, 4);
	FIELD(iommu_ioas_copy, flags, 4, 4);
	FIELD(iommu_ioas_copy, dst_ioas_id, 8, 4);
	FIELD(iommu_ioas_copy, src_ioas_id, 12, 4);
	FIELD(iommu_ioas_copy, length, 16, 8);
	FIELD(iommu_ioas_copy, dst_iova, 24, 8);
	FIELD(iommu_ioas_copy, src_iova, 32, 8);

	SIZE(iommu_ioas_unmap, 24);
	FIELD(iommu_ioas_unmap, size, 0, 4);
	FIELD(iommu_ioas_unmap, ioas_id, 4, 4);
	FIELD(iommu_ioas_unmap, iova, 8, 8);
	FIELD(iommu_ioas_unmap, length, 16, 8);

	SIZE(iommu_ioas_change_process, 8);
	FIELD(iommu_ioas_change_process, size, 0, 4);
	FIELD(iommu_ioas_change_process, __reserved, 4, 4);
}

static void test_option_structs(void **state)
{
	(void)state;

	SIZE(iommu_option, 24);
	FIELD(iommu_option, size, 0, 4);
	FIELD(iommu_option, option_id, 4, 4);
	FIELD(iommu_option, op, 8, 2);
	FIELD(iommu_option, __reserved, 10, 2);
	FIELD(iommu_option, object_id, 12, 4);
	FIELD(iommu_option, val64, 16, 8);

	SIZE(iommu_vfio_ioas, 12);
	FIELD(iommu_vfio_ioas, size, 0, 4);
	FIELD(iommu_vfio_ioas, ioas_id, 4, 4);
	FIELD(iommu_vfio_ioas, op, 8, 2);
	FIELD(iommu_vfio_ioas, __reserved, 10, 2);
}

static void test_hwpt_structs(void **state)
{
	(void)state;

	SIZE(iommu_hwpt_alloc, 48);
	FIELD(iommu_hwpt_alloc, size, 0, 4);
	FIELD(iommu_hwpt_alloc, flags, 4, 4);
	FIELD(iommu_hwpt_alloc, dev_id, 8, 4);
	FIELD(iommu_hwpt_alloc, pt_id, 12, 4);
	FIELD(iommu_hwpt_alloc, out_hwpt_id, 16, 4);
	FIELD(iommu_hwpt_alloc, __reserved, 20, 4);
	FIELD(iommu_hwpt_alloc, data_type, 24, 4);
	FIELD(iommu_hwpt_alloc, data_len, 28, 4);
	FIELD(iommu_hwpt_alloc, data_uptr, 32, 8);
	FIELD(iommu_hwpt_alloc, fault_id, 40, 4);
	FIELD(iommu_hwpt_alloc, __reserved2, 44, 4);

	SIZE(iommu_hwpt_vtd_s1, 24);
	FIELD(iommu_hwpt_vtd_s1, flags, 0, 8);
	FIELD(iommu_hwpt_vtd_s1, pgtbl_addr, 8, 8);
	FIELD(iommu_hwpt_vtd_s1, addr_width, 16, 4);
	FIELD(iommu_hwpt_vtd_s1, __reserved, 20, 4);

	SIZE(iommu_hwpt_arm_smmuv3, 16);
	FIELD(iommu_hwpt_arm_smmuv3, ste, 0, 16);
	FIELD(iommu_hwpt_arm_smmuv3, ste[1], 8, 8);

	SIZE(iommu_hwpt_set_dirty_tracking, 16);
	FIELD(iommu_hwpt_set_dirty_tracking, size, 0, 4);
	FIELD(iommu_hwpt_set_dirty_tracking, flags, 4, 4);
	FIELD(iommu_hwpt_set_dirty_tracking, hwpt_id, 8, 4);
	FIELD(iommu_hwpt_set_dirty_tracking, __reserved, 12, 4);

	SIZE(iommu_hwpt_get_dirty_bitmap, 48);
	FIELD(iommu_hwpt_get_dirty_bitmap, size, 0, 4);
	FIELD(iommu_hwpt_get_dirty_bitmap, hwpt_id, 4, 4);
	FIELD(iommu_hwpt_get_dirty_bitmap, flags, 8, 4);
	FIELD(iommu_hwpt_get_dirty_bitmap, __reserved, 12, 4);
	FIELD(iommu_hwpt_get_dirty_bitmap, iova, 16, 8);
	FIELD(iommu_hwpt_get_dirty_bitmap, length, 24, 8);
	FIELD(iommu_hwpt_get_dirty_bitmap, page_size, 32, 8);
	FIELD(iommu_hwpt_get_dirty_bitmap, data, 40, 8);

	SIZE(iommu_hwpt_invalidate, 32);
	FIELD(iommu_hwpt_invalidate, size, 0, 4);
	FIELD(iommu_hwpt_invalidate, hwpt_id, 4, 4);
	FIELD(iommu_hwpt_invalidate, data_uptr, 8, 8);
	FIELD(iommu_hwpt_invalidate, data_type, 16, 4);
	FIELD(iommu_hwpt_invalidate, entry_len, 20, 4);
	FIELD(iommu_hwpt_invalidate, entry_num, 24, 4);
	FIELD(iommu_hwpt_invalidate, __reserved, 28, 4);

	SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
	FIELD(iommu_hwpt_vtd_s1_invalidate, addr, 0, 8);
	FIELD(iommu_hwpt_vtd_s1_invalidate, npages, 8, 8);
	FIELD(iommu_hwpt_vtd_s1_invalidate, flags, 16, 4);
	FIELD(iommu_hwpt_vtd_s1_invalidate, __reserved, 20, 4);

	SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
	FIELD(iommu_viommu_arm_smmuv3_invalidate, cmd, 0, 16);
	FIELD(iommu_viommu_arm_smmuv3_invalidate, cmd[1], 8, 8);
}

static void test_hw_info_structs(void **state)
{
	(void)state;

	SIZE(iommu_hw_info, 40);
	FIELD(iommu_hw_info, size, 0, 4);
	FIELD(iommu_hw_info, flags, 4, 4);
	FIELD(iommu_hw_info, dev_id, 8, 4);
	FIELD(iommu_hw_info, data_len, 12, 4);
	FIELD(iommu_hw_info, data_uptr, 16, 8);
	FIELD(iommu_hw_info, out_data_type, 24, 4);
	FIELD(iommu_hw_info, in_data_type, 24, 4);
	FIELD(iommu_hw_info, out_max_pasid_log2, 28, 1);
	FIELD(iommu_hw_info, __reserved, 29, 3);
	FIELD(iommu_hw_info, out_capabilities, 32, 8);

	SIZE(iommu_hw_info_vtd, 24);
	FIELD(iommu_hw_info_vtd, flags, 0, 4);
	FIELD(iommu_hw_info_vtd, __reserved, 4, 4);
	FIELD(iommu_hw_info_vtd, cap_reg, 8, 8);
	FIELD(iommu_hw_info_vtd, ecap_reg, 16, 8);

	SIZE(iommu_hw_info_arm_smmuv3, 40);
	FIELD(iommu_hw_info_arm_smmuv3, flags, 0, 4);
	FIELD(iommu_hw_info_arm_smmuv3, __reserved, 4, 4);
	FIELD(iommu_hw_info_arm_smmuv3, idr, 8, 24);
	FIELD(iommu_hw_info_arm_smmuv3, iidr, 32, 4);
	FIELD(iommu_hw_info_arm_smmuv3, aidr, 36, 4);

	SIZE(iommu_hw_info_tegra241_cmdqv, 8);
	FIELD(iommu_hw_info_tegra241_cmdqv, flags, 0, 4);
	FIELD(iommu_hw_info_tegra241_cmdqv, version, 4, 1);
	FIELD(iommu_hw_info_tegra241_cmdqv, log2vcmdqs, 5, 1);
	FIELD(iommu_hw_info_tegra241_cmdqv, log2vsids, 6, 1);
	FIELD(iommu_hw_info_tegra241_cmdqv, __reserved, 7, 1);
}

static void test_fault_structs(void **state)
{
	(void)state;

	SIZE(iommu_fault_alloc, 16);
	FIELD(iommu_fault_alloc, size, 0, 4);
	FIELD(iommu_fault_alloc, flags, 4, 4);
	FIELD(iommu_fault_alloc, out_fault_id, 8, 4);
	FIELD(iommu_fault_alloc, out_fault_fd, 12, 4);

	SIZE(iommu_hwpt_pgfault, 40);
	FIELD(iommu_hwpt_pgfault, flags, 0, 4);
	FIELD(iommu_hwpt_pgfault, dev_id, 4, 4);
	FIELD(iommu_hwpt_pgfault, pasid, 8, 4);
	FIELD(iommu_hwpt_pgfault, grpid, 12, 4);
	FIELD(iommu_hwpt_pgfault, perm, 16, 4);
	FIELD(iommu_hwpt_pgfault, __reserved, 20, 4);
	FIELD(iommu_hwpt_pgfault, addr, 24, 8);
	FIELD(iommu_hwpt_pgfault, length, 32, 4);
	FIELD(iommu_hwpt_pgfault, cookie, 36, 4);

	SIZE(iommu_hwpt_page_response, 8);
	FIELD(iommu_hwpt_page_response, cookie, 0, 4);
	FIELD(iommu_hwpt_page_response, code, 4, 4);
}

static void test_viommu_structs(void **state)
{
	(void)state;

	SIZE(iommu_viommu_alloc, 40);
	FIELD(iommu_viommu_alloc, size, 0, 4);
	FIELD(iommu_viommu_alloc, flags, 4, 4);
	FIELD(iommu_viommu_alloc, type, 8, 4);
	FIELD(iommu_viommu_alloc, dev_id, 12, 4);
	FIELD(iommu_viommu_alloc, hwpt_id, 16, 4);
	FIELD(iommu_viommu_alloc, out_viommu_id, 20, 4);
	FIELD(iommu_viommu_alloc, data_len, 24, 4);
	FIELD(iommu_viommu_alloc, __reserved, 28, 4);
	FIELD(iommu_viommu_alloc, data_uptr, 32, 8);

	SIZE(iommu_viommu_tegra241_cmdqv, 16);
	FIELD(iommu_viommu_tegra241_cmdqv, out_vintf_mmap_offset, 0, 8);
	FIELD(iommu_viommu_tegra241_cmdqv, out_vintf_mmap_length, 8, 8);

	SIZE(iommu_vdevice_alloc, 24);
	FIELD(iommu_vdevice_alloc, size, 0, 4);
	FIELD(iommu_vdevice_alloc, viommu_id, 4, 4);
	FIELD(iommu_vdevice_alloc, dev_id, 8, 4);
	FIELD(iommu_vdevice_alloc, out_vdevice_id, 12, 4);
	FIELD(iommu_vdevice_alloc, virt_id, 16, 8);

	SIZE(iommu_veventq_alloc, 32);
	FIELD(iommu_veventq_alloc, size, 0, 4);
	FIELD(iommu_veventq_alloc, flags, 4, 4);
	FIELD(iommu_veventq_alloc, viommu_id, 8, 4);
	FIELD(iommu_veventq_alloc, type, 12, 4);
	FIELD(iommu_veventq_alloc, veventq_depth, 16, 4);
	FIELD(iommu_veventq_alloc, out_veventq_id, 20, 4);
	FIELD(iommu_veventq_alloc, out_veventq_fd, 24, 4);
	FIELD(iommu_veventq_alloc, __reserved, 28, 4);

	SIZE(iommufd_vevent_header, 8);
	FIELD(iommufd_vevent_header, flags, 0, 4);
	FIELD(iommufd_vevent_header, sequence, 4, 4);

	SIZE(iommu_vevent_arm_smmuv3, 32);
	FIELD(iommu_vevent_arm_smmuv3, evt, 0, 32);
	FIELD(iommu_vevent_arm_smmuv3, evt[3], 24, 8);

	SIZE(iommu_vevent_tegra241_cmdqv, 16);
	FIELD(iommu_vevent_tegra241_cmdqv, lvcmdq_err_map, 0, 16);
	FIELD(iommu_vevent_tegra241_cmdqv, lvcmdq_err_map[1], 8, 8);

	SIZE(iommu_hw_queue_alloc, 40);
	FIELD(iommu_hw_queue_alloc, size, 0, 4);
	FIELD(iommu_hw_queue_alloc, flags, 4, 4);
	FIELD(iommu_hw_queue_alloc, viommu_id, 8, 4);
	FIELD(iommu_hw_queue_alloc, type, 12, 4);
	FIELD(iommu_hw_queue_alloc, index, 16, 4);
	FIELD(iommu_hw_queue_alloc, out_hw_queue_id, 20, 4);
	FIELD(iommu_hw_queue_alloc, nesting_parent_iova, 24, 8);
	FIELD(iommu_hw_queue_alloc, length, 32, 8);
}

/* min_size of every command: the dispatcher rejects anything shorter. */
static void test_min_sizes(void **state)
{
	(void)state;

	assert_int_equal(END(iommu_destroy, id), 8);
	assert_int_equal(END(iommu_ioas_alloc, out_ioas_id), 12);
	assert_int_equal(END(iommu_ioas_allow_iovas, allowed_iovas), 24);
	assert_int_equal(END(iommu_ioas_copy, src_iova), 40);
	assert_int_equal(END(iommu_ioas_iova_ranges, out_iova_alignment), 32);
	assert_int_equal(END(iommu_ioas_map, iova), 40);
	assert_int_equal(END(iommu_ioas_unmap, length), 24);
	assert_int_equal(END(iommu_option, val64), 24);
	assert_int_equal(END(iommu_vfio_ioas, __reserved), 12);
	assert_int_equal(END(iommu_hwpt_alloc, __reserved), 24);
	assert_int_equal(END(iommu_hw_info, __reserved), 32);
	assert_int_equal(END(iommu_hwpt_set_dirty_tracking, __reserved), 16);
	assert_int_equal(END(iommu_hwpt_get_dirty_bitmap, data), 48);
	assert_int_equal(END(iommu_hwpt_invalidate, __reserved), 32);
	assert_int_equal(END(iommu_fault_alloc, out_fault_fd), 16);
	assert_int_equal(END(iommu_ioas_map_file, iova), 40);
	assert_int_equal(END(iommu_viommu_alloc, out_viommu_id), 24);
	assert_int_equal(END(iommu_vdevice_alloc, virt_id), 24);
	assert_int_equal(END(iommu_ioas_change_process, __reserved), 8);
	assert_int_equal(END(iommu_veventq_alloc, out_veventq_fd), 28);
	assert_int_equal(END(iommu_hw_queue_alloc, length), 40);
	assert_int_equal(END(iommu_test_cmd, last), 68);
}

static void test_enum_values(void **state)
{
	(void)state;

	assert_int_equal(IOMMU_IOAS_MAP_FIXED_IOVA, 1);
	assert_int_equal(IOMMU_IOAS_MAP_WRITEABLE, 2);
	assert_int_equal(IOMMU_IOAS_MAP_READABLE, 4);

	assert_int_equal(IOMMU_OPTION_RLIMIT_MODE, 0);
	assert_int_equal(IOMMU_OPTION_HUGE_PAGES, 1);
	assert_int_equal(IOMMU_OPTION_OP_SET, 0);
	assert_int_equal(IOMMU_OPTION_OP_GET, 1);

	assert_int_equal(IOMMU_VFIO_IOAS_GET, 0);
	assert_int_equal(IOMMU_VFIO_IOAS_SET, 1);
	assert_int_equal(IOMMU_VFIO_IOAS_CLEAR, 2);

	assert_int_equal(IOMMU_HWPT_ALLOC_NEST_PARENT, 1);
	assert_int_equal(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2);
	assert_int_equal(IOMMU_HWPT_FAULT_ID_VALID, 4);
	assert_int_equal(IOMMU_HWPT_ALLOC_PASID, 8);

	assert_int_equal(IOMMU_HWPT_DATA_NONE, 0);
	assert_int_equal(IOMMU_HWPT_DATA_VTD_S1, 1);
	assert_int_equal(IOMMU_HWPT_DATA_ARM_SMMUV3, 2);

	assert_int_equal(IOMMU_VTD_S1_SRE, 1);
	assert_int_equal(IOMMU_VTD_S1_EAFE, 2);
	assert_int_equal(IOMMU_VTD_S1_WPE, 4);

	assert_int_equal(IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, 1);

	assert_int_equal(IOMMU_HW_INFO_TYPE_NONE, 0);
	assert_int_equal(IOMMU_HW_INFO_TYPE_DEFAULT, 0);
	assert_int_equal(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
	assert_int_equal(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2);
	assert_int_equal(IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, 3);

	assert_int_equal(IOMMU_HW_CAP_DIRTY_TRACKING, 1);
	assert_int_equal(IOMMU_HW_CAP_PCI_PASID_EXEC, 2);
	assert_int_equal(IOMMU_HW_CAP_PCI_PASID_PRIV, 4);
	assert_int_equal(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 1);

	assert_int_equal(IOMMU_HWPT_DIRTY_TRACKING_ENABLE, 1);
	assert_int_equal(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 1);

	assert_int_equal(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
	assert_int_equal(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1);
	assert_int_equal(IOMMU_VTD_INV_FLAGS_LEAF, 1);

	assert_int_equal(IOMMU_PGFAULT_FLAGS_PASID_VALID, 1);
	assert_int_equal(IOMMU_PGFAULT_FLAGS_LAST_PAGE, 2);
	assert_int_equal(IOMMU_PGFAULT_PERM_READ, 1);
	assert_int_equal(IOMMU_PGFAULT_PERM_WRITE, 2);
	assert_int_equal(IOMMU_PGFAULT_PERM_EXEC, 4);
	assert_int_equal(IOMMU_PGFAULT_PERM_PRIV, 8);
	assert_int_equal(IOMMUFD_PAGE_RESP_SUCCESS, 0);
	assert_int_equal(IOMMUFD_PAGE_RESP_INVALID, 1);

	assert_int_equal(IOMMU_VIOMMU_TYPE_DEFAULT, 0);
	assert_int_equal(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1);
	assert_int_equal(IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 2);

	assert_int_equal(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1);
	assert_int_equal(IOMMU_VEVENTQ_TYPE_DEFAULT, 0);
	assert_int_equal(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1);
	assert_int_equal(IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 2);

	assert_int_equal(IOMMU_HW_QUEUE_TYPE_DEFAULT, 0);
	assert_int_equal(IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 1);
}

static void test_selftest_cmd(void **state)
{
	(void)state;

	SIZE(iommu_test_cmd, 72);
	FIELD(iommu_test_cmd, size, 0, 4);
	FIELD(iommu_test_cmd, op, 4, 4);
	FIELD(iommu_test_cmd, id, 8, 4);
	FIELD(iommu_test_cmd, __reserved, 12, 4);
	FIELD(iommu_test_cmd, last, 64, 4);

	FIELD(iommu_test_cmd, add_reserved.start, 16, 8);
	FIELD(iommu_test_cmd, add_reserved.length, 24, 8);

	FIELD(iommu_test_cmd, mock_domain.out_stdev_id, 16, 4);
	FIELD(iommu_test_cmd, mock_domain.out_hwpt_id, 20, 4);
	FIELD(iommu_test_cmd, mock_domain.out_idev_id, 24, 4);

	FIELD(iommu_test_cmd, mock_domain_flags.out_stdev_id, 16, 4);
	FIELD(iommu_test_cmd, mock_domain_flags.out_hwpt_id, 20, 4);
	FIELD(iommu_test_cmd, mock_domain_flags.out_idev_id, 24, 4);
	FIELD(iommu_test_cmd, mock_domain_flags.dev_flags, 28, 4);

	FIELD(iommu_test_cmd, mock_domain_replace.pt_id, 16, 4);

	FIELD(iommu_test_cmd, check_map.iova, 16, 8);
	FIELD(iommu_test_cmd, check_map.length, 24, 8);
	FIELD(iommu_test_cmd, check_map.uptr, 32, 8);

	FIELD(iommu_test_cmd, check_refs.length, 16, 8);
	FIELD(iommu_test_cmd, check_refs.uptr, 24, 8);
	FIELD(iommu_test_cmd, check_refs.refs, 32, 4);

	FIELD(iommu_test_cmd, create_access.out_access_fd, 16, 4);
	FIELD(iommu_test_cmd, create_access.flags, 20, 4);

	FIELD(iommu_test_cmd, destroy_access_pages.access_pages_id, 16, 4);

	FIELD(iommu_test_cmd, access_pages.flags, 16, 4);
	FIELD(iommu_test_cmd, access_pages.out_access_pages_id, 20, 4);
	FIELD(iommu_test_cmd, access_pages.iova, 24, 8);
	FIELD(iommu_test_cmd, access_pages.length, 32, 8);
	FIELD(iommu_test_cmd, access_pages.uptr, 40, 8);

	FIELD(iommu_test_cmd, access_rw.iova, 16, 8);
	FIELD(iommu_test_cmd, access_rw.length, 24, 8);
	FIELD(iommu_test_cmd, access_rw.uptr, 32, 8);
	FIELD(iommu_test_cmd, access_rw.flags, 40, 4);

	FIELD(iommu_test_cmd, memory_limit.limit, 16, 4);

	FIELD(iommu_test_cmd, access_replace_ioas.ioas_id, 16, 4);

	FIELD(iommu_test_cmd, dirty.flags, 16, 4);
	FIELD(iommu_test_cmd, dirty.iova, 24, 8);
	FIELD(iommu_test_cmd, dirty.length, 32, 8);
	FIELD(iommu_test_cmd, dirty.page_size, 40, 8);
	FIELD(iommu_test_cmd, dirty.uptr, 48, 8);
	FIELD(iommu_test_cmd, dirty.out_nr_dirty, 56, 8);

	FIELD(iommu_test_cmd, check_iotlb.id, 16, 4);
	FIELD(iommu_test_cmd, check_iotlb.iotlb, 20, 4);

	FIELD(iommu_test_cmd, trigger_iopf.dev_id, 16, 4);
	FIELD(iommu_test_cmd, trigger_iopf.pasid, 20, 4);
	FIELD(iommu_test_cmd, trigger_iopf.grpid, 24, 4);
	FIELD(iommu_test_cmd, trigger_iopf.perm, 28, 4);
	FIELD(iommu_test_cmd, trigger_iopf.addr, 32, 8);

	FIELD(iommu_test_cmd, check_dev_cache.id, 16, 4);
	FIELD(iommu_test_cmd, check_dev_cache.cache, 20, 4);

	FIELD(iommu_test_cmd, trigger_vevent.dev_id, 16, 4);

	FIELD(iommu_test_cmd, pasid_attach.pasid, 16, 4);
	FIELD(iommu_test_cmd, pasid_attach.pt_id, 20, 4);
	FIELD(iommu_test_cmd, pasid_replace.pasid, 16, 4);
	FIELD(iommu_test_cmd, pasid_replace.pt_id, 20, 4);
	FIELD(iommu_test_cmd, pasid_detach.pasid, 16, 4);
	FIELD(iommu_test_cmd, pasid_check.pasid, 16, 4);
	FIELD(iommu_test_cmd, pasid_check.hwpt_id, 20, 4);
}

static void test_selftest_constants(void **state)
{
	(void)state;

	assert_int_equal(IOMMU_TEST_OP_ADD_RESERVED, 1);
	assert_int_equal(IOMMU_TEST_OP_MOCK_DOMAIN, 2);
	assert_int_equal(IOMMU_TEST_OP_MD_CHECK_MAP, 3);
	assert_int_equal(IOMMU_TEST_OP_MD_CHECK_REFS, 4);
	assert_int_equal(IOMMU_TEST_OP_CREATE_ACCESS, 5);
	assert_int_equal(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 6);
	assert_int_equal(IOMMU_TEST_OP_ACCESS_PAGES, 7);
	assert_int_equal(IOMMU_TEST_OP_ACCESS_RW, 8);
	assert_int_equal(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 9);
	assert_int_equal(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 10);
	assert_int_equal(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, 11);
	assert_int_equal(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, 12);
	assert_int_equal(IOMMU_TEST_OP_DIRTY, 13);
	assert_int_equal(IOMMU_TEST_OP_MD_CHECK_IOTLB, 14);
	assert_int_equal(IOMMU_TEST_OP_TRIGGER_IOPF, 15);
	assert_int_equal(IOMMU_TEST_OP_DEV_CHECK_CACHE, 16);
	assert_int_equal(IOMMU_TEST_OP_TRIGGER_VEVENT, 17);
	assert_int_equal(IOMMU_TEST_OP_PASID_ATTACH, 18);
	assert_int_equal(IOMMU_TEST_OP_PASID_REPLACE, 19);
	assert_int_equal(IOMMU_TEST_OP_PASID_DETACH, 20);
	assert_int_equal(IOMMU_TEST_OP_PASID_CHECK_HWPT, 21);

	assert_int_equal(MOCK_APERTURE_START, 0x1000000);
	assert_int_equal(MOCK_APERTURE_LAST, 0x7fffffff);
	assert_int_equal(MOCK_FLAGS_ACCESS_WRITE, 1);
	assert_int_equal(MOCK_FLAGS_ACCESS_SYZ, 0x10000);
	assert_int_equal(MOCK_ACCESS_RW_WRITE, 1);
	assert_int_equal(MOCK_ACCESS_RW_SLOW_PATH, 4);
	assert_int_equal(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, 1);
	assert_int_equal(MOCK_FLAGS_DEVICE_NO_DIRTY, 1);
	assert_int_equal(MOCK_FLAGS_DEVICE_HUGE_IOVA, 2);
	assert_int_equal(MOCK_FLAGS_DEVICE_PASID, 4);
	assert_int_equal(MOCK_PASID_WIDTH, 20);
	assert_int_equal(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX, 3);
	assert_int_equal(MOCK_NESTED_DOMAIN_IOTLB_NUM, 4);
	assert_int_equal(MOCK_DEV_CACHE_ID_MAX, 3);
	assert_int_equal(MOCK_DEV_CACHE_NUM, 4);
	assert_int_equal(IOMMU_TEST_PASID_RESERVED, 1024);

	assert_int_equal(IOMMU_HW_INFO_TYPE_SELFTEST, 0xfeedbeef);
	assert_int_equal(IOMMU_HW_INFO_SELFTEST_REGVAL, 0xdeadbeef);
	assert_int_equal(IOMMU_HWPT_DATA_SELFTEST, 0xdead);
	assert_int_equal(IOMMU_TEST_IOTLB_DEFAULT, 0xbadbeef);
	assert_int_equal(IOMMU_TEST_DEV_CACHE_DEFAULT, 0xbaddad);
	assert_int_equal(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0xdeadbeef);
	assert_int_equal(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
			 0xdadbeef);
	assert_int_equal(IOMMU_TEST_INVALIDATE_FLAG_ALL, 1);
	assert_int_equal(IOMMU_VIOMMU_TYPE_SELFTEST, 0xdeadbeef);
	assert_int_equal(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0xdeadbeef);
	assert_int_equal(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
			 0xdadbeef);
	assert_int_equal(IOMMU_VEVENTQ_TYPE_SELFTEST, 0xbeefbeef);
	assert_int_equal(IOMMU_HW_QUEUE_TYPE_SELFTEST, 0xdeadbeef);
	assert_int_equal(IOMMU_TEST_HW_QUEUE_MAX, 2);

	SIZE(iommu_test_hw_info, 8);
	FIELD(iommu_test_hw_info, flags, 0, 4);
	FIELD(iommu_test_hw_info, test_reg, 4, 4);

	SIZE(iommu_hwpt_selftest, 4);
	FIELD(iommu_hwpt_selftest, iotlb, 0, 4);

	SIZE(iommu_hwpt_invalidate_selftest, 8);
	FIELD(iommu_hwpt_invalidate_selftest, flags, 0, 4);
	FIELD(iommu_hwpt_invalidate_selftest, iotlb_id, 4, 4);

	SIZE(iommu_viommu_selftest, 24);
	FIELD(iommu_viommu_selftest, in_data, 0, 4);
	FIELD(iommu_viommu_selftest, out_data, 4, 4);
	FIELD(iommu_viommu_selftest, out_mmap_offset, 8, 8);
	FIELD(iommu_viommu_selftest, out_mmap_length, 16, 8);

	SIZE(iommu_viommu_invalidate_selftest, 12);
	FIELD(iommu_viommu_invalidate_selftest, flags, 0, 4);
	FIELD(iommu_viommu_invalidate_selftest, vdev_id, 4, 4);
	FIELD(iommu_viommu_invalidate_selftest, cache_id, 8, 4);

	SIZE(iommu_viommu_event_selftest, 4);
	FIELD(iommu_viommu_event_selftest, virt_id, 0, 4);
}

/*
 * Additions after the 6.18 level (docs/newest-uapi.md §12): AMD data
 * formats, the ATS capability bit and the dma-buf selftest ops. Values
 * from the newest upstream uAPI header and iommufd_test.h.
 */
static void test_after_6_18(void **state)
{
	(void)state;

	assert_int_equal(IOMMU_HWPT_DATA_AMD_GUEST, 3);
	assert_int_equal(IOMMU_HW_INFO_TYPE_AMD, 4);
	assert_int_equal(IOMMU_VIOMMU_TYPE_AMD, 3);
	assert_int_equal(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, 8);

	SIZE(iommu_hwpt_amd_guest, 32);
	FIELD(iommu_hwpt_amd_guest, dte, 0, 32);
	FIELD(iommu_hwpt_amd_guest, dte[3], 24, 8);

	SIZE(iommu_hw_info_amd, 16);
	FIELD(iommu_hw_info_amd, efr, 0, 8);
	FIELD(iommu_hw_info_amd, efr2, 8, 8);

	assert_int_equal(IOMMU_TEST_OP_DMABUF_GET, 22);
	assert_int_equal(IOMMU_TEST_OP_DMABUF_REVOKE, 23);
	assert_int_equal(MOCK_IOMMUPT_DEFAULT, 0);
	assert_int_equal(MOCK_IOMMUPT_HUGE, 1);

	FIELD(iommu_test_cmd, dmabuf_get.length, 16, 4);
	FIELD(iommu_test_cmd, dmabuf_get.open_flags, 20, 4);
	FIELD(iommu_test_cmd, dmabuf_revoke.dmabuf_fd, 16, 4);
	FIELD(iommu_test_cmd, dmabuf_revoke.revoked, 20, 4);
	/* New union members never grow the command. */
	SIZE(iommu_test_cmd, 72);
}

static void test_vfio_compat(void **state)
{
	(void)state;

	assert_int_equal(VFIO_TYPE, 0x3b);
	assert_int_equal(VFIO_BASE, 100);
	assert_int_equal(VFIO_API_VERSION, 0);

	assert_int_equal(VFIO_TYPE1_IOMMU, 1);
	assert_int_equal(VFIO_SPAPR_TCE_IOMMU, 2);
	assert_int_equal(VFIO_TYPE1v2_IOMMU, 3);
	assert_int_equal(VFIO_DMA_CC_IOMMU, 4);
	assert_int_equal(VFIO_EEH, 5);
	assert_int_equal(VFIO_TYPE1_NESTING_IOMMU, 6);
	assert_int_equal(VFIO_SPAPR_TCE_v2_IOMMU, 7);
	assert_int_equal(VFIO_NOIOMMU_IOMMU, 8);
	assert_int_equal(VFIO_UNMAP_ALL, 9);
	assert_int_equal(VFIO_UPDATE_VADDR, 10);

	assert_int_equal(VFIO_GET_API_VERSION, 0x3b64);
	assert_int_equal(VFIO_CHECK_EXTENSION, 0x3b65);
	assert_int_equal(VFIO_SET_IOMMU, 0x3b66);
	assert_int_equal(VFIO_IOMMU_GET_INFO, 0x3b70);
	assert_int_equal(VFIO_IOMMU_MAP_DMA, 0x3b71);
	assert_int_equal(VFIO_IOMMU_UNMAP_DMA, 0x3b72);
	assert_int_equal(VFIO_IOMMU_ENABLE, 0x3b73);
	assert_int_equal(VFIO_IOMMU_DISABLE, 0x3b74);
	assert_int_equal(VFIO_IOMMU_DIRTY_PAGES, 0x3b75);

	assert_int_equal(VFIO_IOMMU_INFO_PGSIZES, 1);
	assert_int_equal(VFIO_IOMMU_INFO_CAPS, 2);
	assert_int_equal(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	assert_int_equal(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 3);
	assert_int_equal(VFIO_DMA_MAP_FLAG_READ, 1);
	assert_int_equal(VFIO_DMA_MAP_FLAG_WRITE, 2);
	assert_int_equal(VFIO_DMA_MAP_FLAG_VADDR, 4);
	assert_int_equal(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, 1);
	assert_int_equal(VFIO_DMA_UNMAP_FLAG_ALL, 2);
	assert_int_equal(VFIO_DMA_UNMAP_FLAG_VADDR, 4);

	SIZE(vfio_info_cap_header, 8);
	FIELD(vfio_info_cap_header, id, 0, 2);
	FIELD(vfio_info_cap_header, version, 2, 2);
	FIELD(vfio_info_cap_header, next, 4, 4);

	/* The cap chain starts right after this struct, at offset 24. */
	SIZE(vfio_iommu_type1_info, 24);
	FIELD(vfio_iommu_type1_info, argsz, 0, 4);
	FIELD(vfio_iommu_type1_info, flags, 4, 4);
	FIELD(vfio_iommu_type1_info, iova_pgsizes, 8, 8);
	FIELD(vfio_iommu_type1_info, cap_offset, 16, 4);

	SIZE(vfio_iova_range, 16);
	FIELD(vfio_iova_range, start, 0, 8);
	FIELD(vfio_iova_range, end, 8, 8);

	/* 16 + 16 * nr_iovas bytes in the chain */
	SIZE(vfio_iommu_type1_info_cap_iova_range, 16);
	FIELD(vfio_iommu_type1_info_cap_iova_range, header, 0, 8);
	FIELD(vfio_iommu_type1_info_cap_iova_range, nr_iovas, 8, 4);
	FIELD(vfio_iommu_type1_info_cap_iova_range, reserved, 12, 4);
	assert_int_equal(offsetof(struct vfio_iommu_type1_info_cap_iova_range,
				  iova_ranges),
			 16);

	/* 12 bytes, padded to 16 in the chain */
	SIZE(vfio_iommu_type1_info_dma_avail, 12);
	FIELD(vfio_iommu_type1_info_dma_avail, header, 0, 8);
	FIELD(vfio_iommu_type1_info_dma_avail, avail, 8, 4);

	SIZE(vfio_iommu_type1_dma_map, 32);
	FIELD(vfio_iommu_type1_dma_map, argsz, 0, 4);
	FIELD(vfio_iommu_type1_dma_map, flags, 4, 4);
	FIELD(vfio_iommu_type1_dma_map, vaddr, 8, 8);
	FIELD(vfio_iommu_type1_dma_map, iova, 16, 8);
	FIELD(vfio_iommu_type1_dma_map, size, 24, 8);

	SIZE(vfio_iommu_type1_dma_unmap, 24);
	FIELD(vfio_iommu_type1_dma_unmap, argsz, 0, 4);
	FIELD(vfio_iommu_type1_dma_unmap, flags, 4, 4);
	FIELD(vfio_iommu_type1_dma_unmap, iova, 8, 8);
	FIELD(vfio_iommu_type1_dma_unmap, size, 16, 8);
	assert_int_equal(offsetof(struct vfio_iommu_type1_dma_unmap, data), 24);

	/* Both ABIs share ';', so their number ranges must stay disjoint. */
	assert_true((VFIO_IOMMU_DIRTY_PAGES & 0xff) < IOMMUFD_CMD_BASE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_numbers),
		cmocka_unit_test(test_ioas_structs),
		cmocka_unit_test(test_option_structs),
		cmocka_unit_test(test_hwpt_structs),
		cmocka_unit_test(test_hw_info_structs),
		cmocka_unit_test(test_fault_structs),
		cmocka_unit_test(test_viommu_structs),
		cmocka_unit_test(test_min_sizes),
		cmocka_unit_test(test_enum_values),
		cmocka_unit_test(test_selftest_cmd),
		cmocka_unit_test(test_selftest_constants),
		cmocka_unit_test(test_vfio_compat),
		cmocka_unit_test(test_after_6_18),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* UAPI_HEADER_CHECK */

/*
 * Compile-only: -fsyntax-only -DUAPI_HEADER_CHECK=n, n = 1..10.
 * 1-3 include one header alone, 4-9 all six orders of the three,
 * 10 puts <linux/vfio.h> first to exercise vfio_compat.h's skip.
 */
#if UAPI_HEADER_CHECK == 1
#include <iommufd/iommufd.h>
#elif UAPI_HEADER_CHECK == 2
#include <iommufd/iommufd_test.h>
#elif UAPI_HEADER_CHECK == 3
#include <iommufd/vfio_compat.h>
#elif UAPI_HEADER_CHECK == 4
#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/vfio_compat.h>
#elif UAPI_HEADER_CHECK == 5
#include <iommufd/iommufd.h>
#include <iommufd/vfio_compat.h>
#include <iommufd/iommufd_test.h>
#elif UAPI_HEADER_CHECK == 6
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufd.h>
#include <iommufd/vfio_compat.h>
#elif UAPI_HEADER_CHECK == 7
#include <iommufd/iommufd_test.h>
#include <iommufd/vfio_compat.h>
#include <iommufd/iommufd.h>
#elif UAPI_HEADER_CHECK == 8
#include <iommufd/vfio_compat.h>
#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#elif UAPI_HEADER_CHECK == 9
#include <iommufd/vfio_compat.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufd.h>
#elif UAPI_HEADER_CHECK == 10
#include <linux/vfio.h>
#include <iommufd/vfio_compat.h>
#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#else
#error "UAPI_HEADER_CHECK must be 1..10"
#endif

/* Use something from each header that was included, so it is not vacuous. */
#ifdef IOMMUFDD_IOMMUFD_H
_Static_assert(IOMMU_HW_QUEUE_ALLOC == 0x3b94, "iommufd.h");
#endif
#ifdef IOMMUFDD_IOMMUFD_TEST_H
_Static_assert(sizeof(struct iommu_test_cmd) == 72, "iommufd_test.h");
#endif
#ifdef IOMMUFDD_VFIO_COMPAT_H
_Static_assert(VFIO_IOMMU_UNMAP_DMA == 0x3b72, "vfio_compat.h");
#endif

#endif /* UAPI_HEADER_CHECK */
