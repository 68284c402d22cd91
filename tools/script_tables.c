// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's view of the uAPI (iommufd-script(5)): the
 * fields of each struct, the commands, the named constants and the errno
 * names a script may use.
 *
 * Struct layouts come from the uAPI headers themselves (offsetof/sizeof):
 * the engine must describe exactly the ABI the daemon implements, so no
 * offset is ever typed by hand here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

#include "script_private.h"

/* ------------------------------------------------------------------------ */
/* Struct field tables                                                        */

#define FIELD(type, member)                                               \
	{                                                                 \
		.name = #member, .offset = offsetof(struct type, member), \
		.size = sizeof(((struct type *)0)->member),               \
	}
/* T names the struct of the table being written. */
#define F(member) FIELD(T, member)

#define T iommu_destroy
static const struct field iommu_destroy_fields[] = { F(size), F(id) };
#undef T
#define T iommu_ioas_alloc
static const struct field iommu_ioas_alloc_fields[] = {
	F(size),
	F(flags),
	F(out_ioas_id),
};
#undef T
#define T iommu_ioas_allow_iovas
static const struct field iommu_ioas_allow_iovas_fields[] = {
	F(size), F(ioas_id), F(num_iovas), F(__reserved), F(allowed_iovas),
};
#undef T
#define T iommu_ioas_copy
static const struct field iommu_ioas_copy_fields[] = {
	F(size),   F(flags),	F(dst_ioas_id), F(src_ioas_id),
	F(length), F(dst_iova), F(src_iova),
};
#undef T
#define T iommu_ioas_iova_ranges
static const struct field iommu_ioas_iova_ranges_fields[] = {
	F(size),       F(ioas_id),	 F(num_iovas),
	F(__reserved), F(allowed_iovas), F(out_iova_alignment),
};
#undef T
#define T iommu_ioas_map
static const struct field iommu_ioas_map_fields[] = {
	F(size),    F(flags),  F(ioas_id), F(__reserved),
	F(user_va), F(length), F(iova),
};
#undef T
#define T iommu_ioas_map_file
static const struct field iommu_ioas_map_file_fields[] = {
	F(size), F(flags), F(ioas_id), F(fd), F(start), F(length), F(iova),
};
#undef T
#define T iommu_ioas_unmap
static const struct field iommu_ioas_unmap_fields[] = {
	F(size),
	F(ioas_id),
	F(iova),
	F(length),
};
#undef T
#define T iommu_option
static const struct field iommu_option_fields[] = {
	F(size), F(option_id), F(op), F(__reserved), F(object_id), F(val64),
};
#undef T
#define T iommu_vfio_ioas
static const struct field iommu_vfio_ioas_fields[] = {
	F(size),
	F(ioas_id),
	F(op),
	F(__reserved),
};
#undef T
#define T iommufdd_vfio_device_bind
static const struct field iommufdd_vfio_device_bind_fields[] = {
	F(size),      F(flags),	     F(group_fd),   F(name_len),
	F(name_uptr), F(out_dev_id), F(__reserved),
};
#undef T
#define T iommufdd_device_attach
static const struct field iommufdd_device_attach_fields[] = {
	F(size),
	F(flags),
	F(dev_id),
	F(pt_id),
};
#undef T
#define T iommufdd_ioas_batch
static const struct field iommufdd_ioas_batch_fields[] = {
	F(size),     F(flags),	    F(ioas_id),	    F(num_ops),
	F(ops_uptr), F(__reserved), F(__reserved2),
};
#undef T
#define T iommufdd_mmap_region
static const struct field iommufdd_mmap_region_fields[] = {
	F(size), F(flags),     F(offset), F(length),
	F(prot), F(map_flags), F(out_fd), F(__reserved),
};
#undef T
#define T iommufdd_device_detach
static const struct field iommufdd_device_detach_fields[] = {
	F(size),
	F(flags),
	F(dev_id),
	F(__reserved),
};
#undef T
#define T iommu_hwpt_alloc
static const struct field iommu_hwpt_alloc_fields[] = {
	F(size),	F(flags),      F(dev_id),      F(pt_id),
	F(out_hwpt_id), F(__reserved), F(data_type),   F(data_len),
	F(data_uptr),	F(fault_id),   F(__reserved2),
};
#undef T
#define T iommu_hw_info
static const struct field iommu_hw_info_fields[] = {
	F(size),	  F(flags),
	F(dev_id),	  F(data_len),
	F(data_uptr),	  F(in_data_type),
	F(out_data_type), F(out_max_pasid_log2),
	F(__reserved[0]), F(__reserved[1]),
	F(__reserved[2]), F(out_capabilities),
};
#undef T
#define T iommu_hwpt_set_dirty_tracking
static const struct field iommu_hwpt_set_dirty_tracking_fields[] = {
	F(size),
	F(flags),
	F(hwpt_id),
	F(__reserved),
};
#undef T
#define T iommu_hwpt_get_dirty_bitmap
static const struct field iommu_hwpt_get_dirty_bitmap_fields[] = {
	F(size), F(hwpt_id), F(flags),	   F(__reserved),
	F(iova), F(length),  F(page_size), F(data),
};
#undef T
#define T iommu_hwpt_invalidate
static const struct field iommu_hwpt_invalidate_fields[] = {
	F(size),      F(hwpt_id),   F(data_uptr),  F(data_type),
	F(entry_len), F(entry_num), F(__reserved),
};
#undef T
#define T iommu_fault_alloc
static const struct field iommu_fault_alloc_fields[] = {
	F(size),
	F(flags),
	F(out_fault_id),
	F(out_fault_fd),
};
#undef T
#define T iommu_viommu_alloc
static const struct field iommu_viommu_alloc_fields[] = {
	F(size),	  F(flags),    F(type),	      F(dev_id),    F(hwpt_id),
	F(out_viommu_id), F(data_len), F(__reserved), F(data_uptr),
};
#undef T
#define T iommu_vdevice_alloc
static const struct field iommu_vdevice_alloc_fields[] = {
	F(size), F(viommu_id), F(dev_id), F(out_vdevice_id), F(virt_id),
};
#undef T
#define T iommu_ioas_change_process
static const struct field iommu_ioas_change_process_fields[] = {
	F(size),
	F(__reserved),
};
#undef T
#define T iommu_veventq_alloc
static const struct field iommu_veventq_alloc_fields[] = {
	F(size),	  F(flags),	     F(viommu_id),	F(type),
	F(veventq_depth), F(out_veventq_id), F(out_veventq_fd), F(__reserved),
};
#undef T
#define T iommu_hw_queue_alloc
static const struct field iommu_hw_queue_alloc_fields[] = {
	F(size),  F(flags),	      F(viommu_id),	      F(type),
	F(index), F(out_hw_queue_id), F(nesting_parent_iova), F(length),
};
#undef T

/*
 * Our DEV_DMA payload sits in the test command's union; describe it as if
 * it were one more union member so scripts name it like the others.
 */
#define DMA_FIELD(member)                                                 \
	{                                                                 \
		.name = "dev_dma." #member,                               \
		.offset = offsetof(struct iommu_test_cmd, add_reserved) + \
			  offsetof(struct iommufdd_test_dma, member),     \
		.size = sizeof(((struct iommufdd_test_dma *)0)->member),  \
	}
_Static_assert(offsetof(struct iommu_test_cmd, add_reserved) +
			       sizeof(struct iommufdd_test_dma) <=
		       offsetof(struct iommu_test_cmd, last),
	       "DEV_DMA payload must fit the test command's union");

#define T iommu_test_cmd
static const struct field iommu_test_cmd_fields[] = {
	F(size),
	F(op),
	F(id),
	F(__reserved),
	F(add_reserved.start),
	F(add_reserved.length),
	F(mock_domain.out_stdev_id),
	F(mock_domain.out_hwpt_id),
	F(mock_domain.out_idev_id),
	F(mock_domain_flags.out_stdev_id),
	F(mock_domain_flags.out_hwpt_id),
	F(mock_domain_flags.out_idev_id),
	F(mock_domain_flags.dev_flags),
	F(mock_domain_replace.pt_id),
	F(check_map.iova),
	F(check_map.length),
	F(check_map.uptr),
	F(check_refs.length),
	F(check_refs.uptr),
	F(check_refs.refs),
	F(create_access.out_access_fd),
	F(create_access.flags),
	F(destroy_access_pages.access_pages_id),
	F(access_pages.flags),
	F(access_pages.out_access_pages_id),
	F(access_pages.iova),
	F(access_pages.length),
	F(access_pages.uptr),
	F(access_rw.iova),
	F(access_rw.length),
	F(access_rw.uptr),
	F(access_rw.flags),
	F(memory_limit.limit),
	F(access_replace_ioas.ioas_id),
	F(dirty.flags),
	F(dirty.iova),
	F(dirty.length),
	F(dirty.page_size),
	F(dirty.uptr),
	F(dirty.out_nr_dirty),
	F(check_iotlb.id),
	F(check_iotlb.iotlb),
	F(trigger_iopf.dev_id),
	F(trigger_iopf.pasid),
	F(trigger_iopf.grpid),
	F(trigger_iopf.perm),
	F(trigger_iopf.addr),
	F(check_dev_cache.id),
	F(check_dev_cache.cache),
	F(trigger_vevent.dev_id),
	F(pasid_attach.pasid),
	F(pasid_attach.pt_id),
	F(pasid_replace.pasid),
	F(pasid_replace.pt_id),
	F(pasid_detach.pasid),
	F(pasid_check.pasid),
	F(pasid_check.hwpt_id),
	F(dmabuf_get.length),
	F(dmabuf_get.open_flags),
	F(dmabuf_revoke.dmabuf_fd),
	F(dmabuf_revoke.revoked),
	DMA_FIELD(iova),
	DMA_FIELD(length),
	DMA_FIELD(uptr),
	DMA_FIELD(flags),
	DMA_FIELD(__reserved),
	F(last),
};
#undef T

#define T vfio_iommu_type1_info
static const struct field vfio_iommu_type1_info_fields[] = {
	F(argsz), F(flags), F(iova_pgsizes), F(cap_offset), F(pad),
};
#undef T
#define T vfio_iommu_type1_dma_map
static const struct field vfio_iommu_type1_dma_map_fields[] = {
	F(argsz), F(flags), F(vaddr), F(iova), F(size),
};
#undef T
#define T vfio_iommu_type1_dma_unmap
static const struct field vfio_iommu_type1_dma_unmap_fields[] = {
	F(argsz),
	F(flags),
	F(iova),
	F(size),
};
#undef T
#undef F

/* A command given by number has no layout; "size" is the usual first u32. */
const struct field script_raw_fields[] = { { "size", 0, 4 } };
const unsigned int script_nraw_fields = ARRAY_SIZE(script_raw_fields);

/* ------------------------------------------------------------------------ */
/* Commands                                                                   */

#define IOMMUFD_CMD(cmd, type)                                              \
	{                                                                   \
		.name = #cmd, .nr = IOMMU_##cmd, .kind = CMD_IOMMUFD,       \
		.size = sizeof(struct type), .fields = type##_fields,       \
		.nfields = ARRAY_SIZE(type##_fields), .size_field = "size", \
	}
#define TEST_CMD(opname, opval)                                          \
	{                                                                \
		.name = "TEST." #opname, .nr = IOMMU_TEST_CMD,           \
		.kind = CMD_TEST, .size = sizeof(struct iommu_test_cmd), \
		.fields = iommu_test_cmd_fields,                         \
		.nfields = ARRAY_SIZE(iommu_test_cmd_fields),            \
		.size_field = "size", .op = opval, .has_op = true,       \
	}
#define VFIO_CMD(cmd, type)                                                  \
	{                                                                    \
		.name = #cmd, .nr = cmd, .kind = CMD_STRUCT,                 \
		.size = sizeof(struct type), .fields = type##_fields,        \
		.nfields = ARRAY_SIZE(type##_fields), .size_field = "argsz", \
	}
/* iommufdd's own ioctls (iommufdd_ext.h), by their full name */
#define EXT_CMD(cmd, type)                                                  \
	{                                                                   \
		.name = #cmd, .nr = cmd, .kind = CMD_IOMMUFD,               \
		.size = sizeof(struct type), .fields = type##_fields,       \
		.nfields = ARRAY_SIZE(type##_fields), .size_field = "size", \
	}
#define VALUE_CMD(cmd)                                      \
	{                                                   \
		.name = #cmd, .nr = cmd, .kind = CMD_VALUE, \
	}

const struct cmd script_cmds[] = {
	IOMMUFD_CMD(DESTROY, iommu_destroy),
	IOMMUFD_CMD(IOAS_ALLOC, iommu_ioas_alloc),
	IOMMUFD_CMD(IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas),
	IOMMUFD_CMD(IOAS_COPY, iommu_ioas_copy),
	IOMMUFD_CMD(IOAS_IOVA_RANGES, iommu_ioas_iova_ranges),
	IOMMUFD_CMD(IOAS_MAP, iommu_ioas_map),
	IOMMUFD_CMD(IOAS_UNMAP, iommu_ioas_unmap),
	IOMMUFD_CMD(OPTION, iommu_option),
	IOMMUFD_CMD(VFIO_IOAS, iommu_vfio_ioas),
	IOMMUFD_CMD(HWPT_ALLOC, iommu_hwpt_alloc),
	IOMMUFD_CMD(GET_HW_INFO, iommu_hw_info),
	IOMMUFD_CMD(HWPT_SET_DIRTY_TRACKING, iommu_hwpt_set_dirty_tracking),
	IOMMUFD_CMD(HWPT_GET_DIRTY_BITMAP, iommu_hwpt_get_dirty_bitmap),
	IOMMUFD_CMD(HWPT_INVALIDATE, iommu_hwpt_invalidate),
	IOMMUFD_CMD(FAULT_QUEUE_ALLOC, iommu_fault_alloc),
	IOMMUFD_CMD(IOAS_MAP_FILE, iommu_ioas_map_file),
	IOMMUFD_CMD(VIOMMU_ALLOC, iommu_viommu_alloc),
	IOMMUFD_CMD(VDEVICE_ALLOC, iommu_vdevice_alloc),
	IOMMUFD_CMD(IOAS_CHANGE_PROCESS, iommu_ioas_change_process),
	IOMMUFD_CMD(VEVENTQ_ALLOC, iommu_veventq_alloc),
	IOMMUFD_CMD(HW_QUEUE_ALLOC, iommu_hw_queue_alloc),
	EXT_CMD(IOMMUFDD_VFIO_DEVICE_BIND, iommufdd_vfio_device_bind),
	EXT_CMD(IOMMUFDD_DEVICE_ATTACH, iommufdd_device_attach),
	EXT_CMD(IOMMUFDD_DEVICE_DETACH, iommufdd_device_detach),
	EXT_CMD(IOMMUFDD_IOAS_BATCH, iommufdd_ioas_batch),
	EXT_CMD(IOMMUFDD_MMAP_REGION, iommufdd_mmap_region),
	/* "TEST" alone: the op comes from "in" */
	{
		.name = "TEST",
		.nr = IOMMU_TEST_CMD,
		.kind = CMD_TEST,
		.size = sizeof(struct iommu_test_cmd),
		.fields = iommu_test_cmd_fields,
		.nfields = ARRAY_SIZE(iommu_test_cmd_fields),
		.size_field = "size",
	},
	TEST_CMD(ADD_RESERVED, IOMMU_TEST_OP_ADD_RESERVED),
	TEST_CMD(MOCK_DOMAIN, IOMMU_TEST_OP_MOCK_DOMAIN),
	TEST_CMD(CHECK_MAP, IOMMU_TEST_OP_MD_CHECK_MAP),
	TEST_CMD(CHECK_REFS, IOMMU_TEST_OP_MD_CHECK_REFS),
	TEST_CMD(CREATE_ACCESS, IOMMU_TEST_OP_CREATE_ACCESS),
	TEST_CMD(DESTROY_ACCESS_PAGES, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES),
	TEST_CMD(ACCESS_PAGES, IOMMU_TEST_OP_ACCESS_PAGES),
	TEST_CMD(ACCESS_RW, IOMMU_TEST_OP_ACCESS_RW),
	TEST_CMD(SET_TEMP_MEMORY_LIMIT, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT),
	TEST_CMD(MOCK_DOMAIN_REPLACE, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE),
	TEST_CMD(ACCESS_REPLACE_IOAS, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS),
	TEST_CMD(MOCK_DOMAIN_FLAGS, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS),
	TEST_CMD(DIRTY, IOMMU_TEST_OP_DIRTY),
	TEST_CMD(CHECK_IOTLB, IOMMU_TEST_OP_MD_CHECK_IOTLB),
	TEST_CMD(TRIGGER_IOPF, IOMMU_TEST_OP_TRIGGER_IOPF),
	TEST_CMD(DEV_CHECK_CACHE, IOMMU_TEST_OP_DEV_CHECK_CACHE),
	TEST_CMD(TRIGGER_VEVENT, IOMMU_TEST_OP_TRIGGER_VEVENT),
	TEST_CMD(PASID_ATTACH, IOMMU_TEST_OP_PASID_ATTACH),
	TEST_CMD(PASID_REPLACE, IOMMU_TEST_OP_PASID_REPLACE),
	TEST_CMD(PASID_DETACH, IOMMU_TEST_OP_PASID_DETACH),
	TEST_CMD(PASID_CHECK_HWPT, IOMMU_TEST_OP_PASID_CHECK_HWPT),
	TEST_CMD(DMABUF_GET, IOMMU_TEST_OP_DMABUF_GET),
	TEST_CMD(DMABUF_REVOKE, IOMMU_TEST_OP_DMABUF_REVOKE),
	TEST_CMD(DEV_DMA, IOMMUFDD_TEST_OP_DEV_DMA),
	VALUE_CMD(VFIO_GET_API_VERSION),
	VALUE_CMD(VFIO_CHECK_EXTENSION),
	VALUE_CMD(VFIO_SET_IOMMU),
	VFIO_CMD(VFIO_IOMMU_GET_INFO, vfio_iommu_type1_info),
	VFIO_CMD(VFIO_IOMMU_MAP_DMA, vfio_iommu_type1_dma_map),
	VFIO_CMD(VFIO_IOMMU_UNMAP_DMA, vfio_iommu_type1_dma_unmap),
	VALUE_CMD(VFIO_IOMMU_ENABLE),
	VALUE_CMD(VFIO_IOMMU_DISABLE),
	VALUE_CMD(VFIO_IOMMU_DIRTY_PAGES),
};

const unsigned int script_ncmds = ARRAY_SIZE(script_cmds);

const struct cmd *script_find_cmd(const char *name)
{
	char alt[64];
	size_t i;

	/* Accept the kernel's spelling too: IOMMU_IOAS_MAP, TEST.MD_CHECK_MAP */
	if (!strncmp(name, "IOMMU_", 6))
		name += 6;
	if (!strncmp(name, "TEST.MD_", 8)) {
		snprintf(alt, sizeof(alt), "TEST.%s", name + 8);
		name = alt;
	}
	for (i = 0; i < ARRAY_SIZE(script_cmds); i++)
		if (!strcmp(script_cmds[i].name, name))
			return &script_cmds[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Named constants and errnos                                                 */

struct constant {
	const char *name;
	uint64_t value;
};

#define C(x)                                        \
	{                                           \
		.name = #x, .value = (uint64_t)(x), \
	}
static const struct constant constants[] = {
	C(IOMMU_IOAS_MAP_FIXED_IOVA),
	C(IOMMU_IOAS_MAP_WRITEABLE),
	C(IOMMU_IOAS_MAP_READABLE),
	C(IOMMU_OPTION_RLIMIT_MODE),
	C(IOMMU_OPTION_HUGE_PAGES),
	C(IOMMU_OPTION_OP_SET),
	C(IOMMU_OPTION_OP_GET),
	C(IOMMU_VFIO_IOAS_GET),
	C(IOMMU_VFIO_IOAS_SET),
	C(IOMMU_VFIO_IOAS_CLEAR),
	C(IOMMU_HWPT_ALLOC_NEST_PARENT),
	C(IOMMU_HWPT_ALLOC_DIRTY_TRACKING),
	C(IOMMU_HWPT_FAULT_ID_VALID),
	C(IOMMU_HWPT_ALLOC_PASID),
	C(IOMMU_HWPT_DATA_NONE),
	C(IOMMU_HWPT_DATA_VTD_S1),
	C(IOMMU_HWPT_DATA_ARM_SMMUV3),
	C(IOMMU_HWPT_DATA_AMD_GUEST),
	C(IOMMU_HWPT_DATA_SELFTEST),
	C(IOMMU_HW_INFO_TYPE_NONE),
	C(IOMMU_HW_INFO_TYPE_DEFAULT),
	C(IOMMU_HW_INFO_TYPE_INTEL_VTD),
	C(IOMMU_HW_INFO_TYPE_ARM_SMMUV3),
	C(IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV),
	C(IOMMU_HW_INFO_TYPE_AMD),
	C(IOMMU_HW_INFO_TYPE_SELFTEST),
	C(IOMMU_HW_INFO_SELFTEST_REGVAL),
	C(IOMMU_HW_INFO_FLAG_INPUT_TYPE),
	C(IOMMU_HW_CAP_DIRTY_TRACKING),
	C(IOMMU_HW_CAP_PCI_PASID_EXEC),
	C(IOMMU_HW_CAP_PCI_PASID_PRIV),
	C(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED),
	C(IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
	C(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
	C(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1),
	C(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3),
	C(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST),
	C(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID),
	C(IOMMU_TEST_INVALIDATE_FLAG_ALL),
	C(IOMMU_TEST_IOTLB_DEFAULT),
	C(IOMMU_TEST_DEV_CACHE_DEFAULT),
	C(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST),
	C(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID),
	C(IOMMU_PGFAULT_FLAGS_PASID_VALID),
	C(IOMMU_PGFAULT_FLAGS_LAST_PAGE),
	C(IOMMU_PGFAULT_PERM_READ),
	C(IOMMU_PGFAULT_PERM_WRITE),
	C(IOMMU_PGFAULT_PERM_EXEC),
	C(IOMMU_PGFAULT_PERM_PRIV),
	C(IOMMUFD_PAGE_RESP_SUCCESS),
	C(IOMMUFD_PAGE_RESP_INVALID),
	C(IOMMU_VEVENTQ_FLAG_LOST_EVENTS),
	C(IOMMU_VIOMMU_TYPE_DEFAULT),
	C(IOMMU_VIOMMU_TYPE_ARM_SMMUV3),
	C(IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV),
	C(IOMMU_VIOMMU_TYPE_AMD),
	C(IOMMU_VIOMMU_TYPE_SELFTEST),
	C(IOMMU_VEVENTQ_TYPE_DEFAULT),
	C(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3),
	C(IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV),
	C(IOMMU_VEVENTQ_TYPE_SELFTEST),
	C(IOMMU_HW_QUEUE_TYPE_DEFAULT),
	C(IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV),
	C(IOMMU_HW_QUEUE_TYPE_SELFTEST),
	C(IOMMU_TEST_OP_ADD_RESERVED),
	C(IOMMU_TEST_OP_MOCK_DOMAIN),
	C(IOMMU_TEST_OP_MD_CHECK_MAP),
	C(IOMMU_TEST_OP_MD_CHECK_REFS),
	C(IOMMU_TEST_OP_CREATE_ACCESS),
	C(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES),
	C(IOMMU_TEST_OP_ACCESS_PAGES),
	C(IOMMU_TEST_OP_ACCESS_RW),
	C(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT),
	C(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE),
	C(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS),
	C(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS),
	C(IOMMU_TEST_OP_DIRTY),
	C(IOMMU_TEST_OP_MD_CHECK_IOTLB),
	C(IOMMU_TEST_OP_TRIGGER_IOPF),
	C(IOMMU_TEST_OP_DEV_CHECK_CACHE),
	C(IOMMU_TEST_OP_TRIGGER_VEVENT),
	C(IOMMU_TEST_OP_PASID_ATTACH),
	C(IOMMU_TEST_OP_PASID_REPLACE),
	C(IOMMU_TEST_OP_PASID_DETACH),
	C(IOMMU_TEST_OP_PASID_CHECK_HWPT),
	C(IOMMU_TEST_OP_DMABUF_GET),
	C(IOMMU_TEST_OP_DMABUF_REVOKE),
	C(IOMMUFDD_TEST_OP_DEV_DMA),
	C(IOMMUFDD_TEST_DMA_WRITE),
	C(IOMMUFDD_BATCH_MAP),
	C(IOMMUFDD_BATCH_UNMAP),
	C(IOMMUFDD_BATCH_MAX_OPS),
	C(MOCK_APERTURE_START),
	C(MOCK_APERTURE_LAST),
	C(MOCK_FLAGS_ACCESS_WRITE),
	C(MOCK_ACCESS_RW_WRITE),
	C(MOCK_ACCESS_RW_SLOW_PATH),
	C(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES),
	C(MOCK_FLAGS_DEVICE_NO_DIRTY),
	C(MOCK_FLAGS_DEVICE_HUGE_IOVA),
	C(MOCK_FLAGS_DEVICE_PASID),
	C(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX),
	C(MOCK_NESTED_DOMAIN_IOTLB_NUM),
	C(MOCK_DEV_CACHE_ID_MAX),
	C(MOCK_DEV_CACHE_NUM),
	C(MOCK_PASID_WIDTH),
	C(IOMMU_TEST_PASID_RESERVED),
	C(IOMMU_TEST_HW_QUEUE_MAX),
	C(MOCK_IOMMUPT_DEFAULT),
	C(MOCK_IOMMUPT_HUGE),
	C(VFIO_API_VERSION),
	C(VFIO_TYPE1_IOMMU),
	C(VFIO_SPAPR_TCE_IOMMU),
	C(VFIO_TYPE1v2_IOMMU),
	C(VFIO_DMA_CC_IOMMU),
	C(VFIO_EEH),
	C(VFIO_TYPE1_NESTING_IOMMU),
	C(VFIO_SPAPR_TCE_v2_IOMMU),
	C(VFIO_NOIOMMU_IOMMU),
	C(VFIO_UNMAP_ALL),
	C(VFIO_UPDATE_VADDR),
	C(VFIO_IOMMU_INFO_PGSIZES),
	C(VFIO_IOMMU_INFO_CAPS),
	C(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE),
	C(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL),
	C(VFIO_DMA_MAP_FLAG_READ),
	C(VFIO_DMA_MAP_FLAG_WRITE),
	C(VFIO_DMA_MAP_FLAG_VADDR),
	C(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP),
	C(VFIO_DMA_UNMAP_FLAG_ALL),
	C(VFIO_DMA_UNMAP_FLAG_VADDR),
	/* the uAPI's target: PAGE_SIZE is 4096 (uapi.md, conventions) */
	{ "PAGE_SIZE", 4096 },
	{ "U8_MAX", UINT8_MAX },
	{ "U16_MAX", UINT16_MAX },
	{ "U32_MAX", UINT32_MAX },
	{ "U64_MAX", UINT64_MAX },
	{ "INT_MAX", INT_MAX },
};
#undef C

struct errno_name {
	const char *name;
	int value;
};

#define E(x)                            \
	{                               \
		.name = #x, .value = x, \
	}
static const struct errno_name errno_names[] = {
	E(EPERM),      E(ENOENT),    E(ESRCH),	    E(EINTR),	 E(EIO),
	E(ENXIO),      E(E2BIG),     E(EBADF),	    E(ECHILD),	 E(EAGAIN),
	E(ENOMEM),     E(EACCES),    E(EFAULT),	    E(EBUSY),	 E(EEXIST),
	E(EXDEV),      E(ENODEV),    E(ENOTDIR),    E(EISDIR),	 E(EINVAL),
	E(ENFILE),     E(EMFILE),    E(ENOTTY),	    E(EFBIG),	 E(ENOSPC),
	E(ESPIPE),     E(EROFS),     E(ERANGE),	    E(EDEADLK),	 E(EDEADLOCK),
	E(ENOSYS),     E(EMSGSIZE),  E(EOPNOTSUPP), E(ENOTSUP),	 E(EOVERFLOW),
	E(EADDRINUSE), E(ETIMEDOUT), E(ECANCELED),  E(ENOTCONN), E(EBADFD),
	E(EBADE),      E(ETXTBSY),
};
#undef E

bool script_find_constant(const char *name, uint64_t *value)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(constants); i++) {
		if (!strcmp(constants[i].name, name)) {
			*value = constants[i].value;
			return true;
		}
	}
	return false;
}

bool script_find_errno(const char *name, int *value)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errno_names); i++) {
		if (!strcmp(errno_names[i].name, name)) {
			*value = errno_names[i].value;
			return true;
		}
	}
	if (!strcmp(name, "ok")) {
		*value = 0;
		return true;
	}
	return false;
}

const char *script_errno_str(int e)
{
	static char buf[16];
	size_t i;

	if (!e)
		return "ok";
	for (i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].value == e)
			return errno_names[i].name;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}
