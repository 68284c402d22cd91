// SPDX-License-Identifier: MIT
/*
 * ioctl scripts: a JSON file describes a sequence of iommufd ioctls and
 * what each must return; this engine runs it against any /dev/iommu, the
 * kernel's or iommufdd's, so one file reproduces a bug on both. The format
 * is documented in iommufd-script(5).
 *
 * A script is compiled completely before anything runs: every command,
 * field, constant, region and variable name is resolved up front, so a
 * typo is reported (MALFORMED, naming step and field) instead of turning
 * into a half-run script against a live device. Only what depends on the
 * run (variables, addresses) is evaluated as the steps execute.
 *
 * Struct layouts come from the uAPI headers themselves (offsetof/sizeof):
 * the engine must describe exactly the ABI the daemon implements, so no
 * offset is ever typed by hand here.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

#include "script.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The argument buffer follows a "size" field up to this much, so the
 * kernel's zero-tail scan finds zeroes; larger sizes are for fault tests,
 * which place the struct in a region in front of a guard page instead.
 */
#define MAX_ARG_BUFFER (1U << 20)
/* Buffer for a command given by number: room for any struct. */
#define RAW_ARG_SIZE 256
#define MAX_ERRNOS 8

/* ------------------------------------------------------------------------ */
/* Struct field tables                                                        */

struct field {
	const char *name;
	unsigned int offset;
	unsigned int size; /* 1, 2, 4 or 8 */
};

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
static const struct field raw_fields[] = { { "size", 0, 4 } };

/* ------------------------------------------------------------------------ */
/* Commands                                                                   */

enum cmd_kind {
	CMD_IOMMUFD, /* an iommufd command: can be probed with size 0 */
	CMD_TEST, /* IOMMU_TEST_CMD; op filled in unless given */
	CMD_STRUCT, /* a VFIO struct command */
	CMD_VALUE, /* the argument is passed by value, no struct */
	CMD_RAW, /* given by number */
};

struct cmd {
	const char *name;
	unsigned long nr;
	enum cmd_kind kind;
	size_t size; /* sizeof the struct, 0 for CMD_VALUE */
	const struct field *fields;
	unsigned int nfields;
	const char *size_field; /* filled with sizeof unless given */
	uint32_t op; /* CMD_TEST with has_op */
	bool has_op;
};

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
#define VALUE_CMD(cmd)                                      \
	{                                                   \
		.name = #cmd, .nr = cmd, .kind = CMD_VALUE, \
	}

static const struct cmd cmds[] = {
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

static const struct cmd *find_cmd(const char *name)
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
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
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

static const char *errno_str(int e)
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

/* ------------------------------------------------------------------------ */
/* The compiled script                                                        */

enum term_kind { T_NUM, T_VAR, T_REGION, T_FD, T_DEVFD };

struct term {
	enum term_kind kind;
	char op; /* '+', '-' or '|', applied to what precedes */
	uint64_t num;
	unsigned int idx; /* variable, region or fd name */
};

struct expr {
	struct term *t;
	unsigned int n;
	const char *text; /* as written; NULL for a JSON integer */
};

enum region_type { REGION_MEMFD, REGION_SHARED, REGION_PRIVATE };

/* A region is reserved, not touched: 1 TiB costs address space only. */
#define REGION_MAX_SIZE (1ULL << 40)
#define REGION_MAX_FILLED (1ULL << 32)

struct region {
	const char *name;
	enum region_type type;
	uint64_t size;
	uint64_t align;
	int fill; /* a byte, or -1 for "pattern" */
	bool guard, readonly;
	/* while running */
	uint8_t *mem;
	void *map;
	size_t maplen;
	int fd;
};

/* What a requirement names: the mock, our DMA extension, or a command. */
enum { REQ_MOCK, REQ_DEV_DMA, REQ_CMD0 };

struct reqs {
	unsigned int *id;
	unsigned int n;
};

enum step_kind { STEP_IOCTL, STEP_WRITE, STEP_CHECK, STEP_OPEN, STEP_CLOSE };

struct setting {
	struct field f;
	struct expr val;
};

enum cmp_kind { CMP_EQ, CMP_NE, CMP_RANGE, CMP_MASK };

struct cmp {
	struct field f; /* ignored for the return value */
	enum cmp_kind kind;
	struct expr a, b; /* EQ/NE: a; RANGE: a=min, b=max; MASK: a=mask, b */
	bool has_a, has_b;
};

struct save {
	struct field f;
	unsigned int var;
};

enum bytes_kind {
	B_DATA,
	B_FILL,
	B_PATTERN,
	B_U8,
	B_U16,
	B_U32,
	B_U64,
	B_SAME
};

struct bytes {
	enum bytes_kind kind;
	uint8_t *data; /* B_DATA */
	size_t len;
	uint8_t fill;
	struct expr length; /* B_FILL, B_PATTERN, B_SAME */
	bool has_length;
	struct expr *words; /* B_U8 .. B_U64 */
	unsigned int nwords;
	struct expr same; /* B_SAME */
};

enum arg_kind { ARG_BUFFER, ARG_REGION, ARG_VALUE };

struct step {
	enum step_kind kind;
	unsigned int index; /* 1-based, as in messages */
	const char *label;
	const char *name;
	struct reqs reqs;
	unsigned int fd; /* fd name of an ioctl, open or close */
	/* ioctl */
	const struct cmd *cmd;
	struct cmd raw; /* for a command given by number */
	struct setting *in;
	unsigned int nin;
	bool size_given;
	enum arg_kind arg_kind;
	struct expr arg;
	bool has_arg;
	bool checked; /* has "expect" */
	int errnos[MAX_ERRNOS];
	unsigned int nerrnos;
	struct cmp *out;
	unsigned int nout;
	struct cmp ret;
	bool has_ret;
	struct save *saves;
	unsigned int nsaves;
	/* write, check */
	unsigned int region;
	struct expr offset;
	struct bytes bytes;
};

struct names {
	char **v;
	unsigned int n, cap;
};

struct script {
	const char *path;
	const char *description;
	json_object *root;
	struct region *regions;
	unsigned int nregions;
	struct names vars, fds;
	bool *fd_open; /* while compiling: which fd names are open */
	bool *var_defined;
	struct reqs reqs;
	struct step *steps;
	unsigned int nsteps;
	void **allocs;
	unsigned int nallocs, allocs_cap;
	char ctx[160]; /* "step 3 (IOAS_MAP)" while compiling a step */
	char err[1024];
};

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		fprintf(stderr, "iommufd-script: out of memory\n");
		abort();
	}
	return p;
}

/* Everything a compiled script owns goes through here, freed at once. */
static void *salloc(struct script *s, size_t size)
{
	void *p = xrealloc(NULL, size);

	memset(p, 0, size ? size : 1);
	if (s->nallocs == s->allocs_cap) {
		s->allocs_cap = s->allocs_cap ? 2 * s->allocs_cap : 64;
		s->allocs =
			xrealloc(s->allocs, s->allocs_cap * sizeof(*s->allocs));
	}
	s->allocs[s->nallocs++] = p;
	return p;
}

static char *sdup(struct script *s, const char *str)
{
	size_t n = strlen(str) + 1;

	return memcpy(salloc(s, n), str, n);
}

static int names_find(const struct names *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return (int)i;
	return -1;
}

static unsigned int names_add(struct script *s, struct names *l,
			      const char *name)
{
	int i = names_find(l, name);

	if (i >= 0)
		return (unsigned int)i;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		if (l == &s->fds)
			s->fd_open = xrealloc(s->fd_open,
					      l->cap * sizeof(*s->fd_open));
		else
			s->var_defined =
				xrealloc(s->var_defined,
					 l->cap * sizeof(*s->var_defined));
	}
	l->v[l->n] = sdup(s, name);
	if (l == &s->fds)
		s->fd_open[l->n] = false;
	else
		s->var_defined[l->n] = false;
	return l->n++;
}

static void script_free(struct script *s)
{
	unsigned int i;

	for (i = 0; i < s->nallocs; i++)
		free(s->allocs[i]);
	free(s->allocs);
	free(s->vars.v);
	free(s->fds.v);
	free(s->fd_open);
	free(s->var_defined);
	if (s->root)
		json_object_put(s->root);
}

/* Record a compile error, prefixed with the step being compiled. */
__attribute__((format(printf, 2, 3))) static int bad(struct script *s,
						     const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (s->ctx[0])
		n = (size_t)snprintf(s->err, sizeof(s->err), "%s: ", s->ctx);
	if (n >= sizeof(s->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Compiling values                                                           */

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_ident(int c)
{
	return isalnum(c) || c == '_';
}

static bool valid_name(const char *name)
{
	if (!is_ident_start((unsigned char)*name))
		return false;
	while (*++name)
		if (!is_ident((unsigned char)*name))
			return false;
	return true;
}

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!is_ident_start((unsigned char)p[0]))
		return 0;
	while (is_ident((unsigned char)p[n]))
		n++;
	return n;
}

static int find_region(const struct script *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nregions; i++)
		if (!strcmp(s->regions[i].name, name))
			return (int)i;
	return -1;
}

/*
 * An expression: terms joined by '+', '-' or '|', evaluated left to right
 * (no precedence: these are addresses and flag sets, not arithmetic). A
 * term is a number (decimal or 0x hex), $var, region:NAME, fd:NAME or a
 * constant from the uAPI headers.
 */
static int parse_expr_text(struct script *s, const char *text, struct expr *e,
			   const char *what)
{
	const char *p = text;
	unsigned int cap = 1;
	char op = '+';
	const char *q;

	for (q = text; *q; q++)
		cap += (*q == '+' || *q == '-' || *q == '|');
	e->t = salloc(s, cap * sizeof(*e->t));
	e->n = 0;
	e->text = sdup(s, text);

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-') {
		op = '-';
		p++;
	}
	for (;;) {
		struct term *t = &e->t[e->n];
		char name[128];
		size_t len;

		while (isspace((unsigned char)*p))
			p++;
		t->op = op;
		if (isdigit((unsigned char)*p)) {
			bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
			char *end;

			errno = 0;
			t->kind = T_NUM;
			t->num = strtoull(p, &end, hex ? 16 : 10);
			if (errno || end == p + (hex ? 2 : 0) ||
			    is_ident((unsigned char)*end))
				return bad(s, "%s: bad number in \"%s\"", what,
					   text);
			p = end;
		} else if (*p == '$' || !strncmp(p, "region:", 7) ||
			   !strncmp(p, "fd:", 3)) {
			const char *kind = *p == '$' ? "$" :
					   *p == 'r' ? "region:" :
						       "fd:";
			int i;

			p += strlen(kind);
			len = ident_len(p);
			if (!len || len >= sizeof(name))
				return bad(
					s,
					"%s: a name must follow '%s' in \"%s\"",
					what, kind, text);
			memcpy(name, p, len);
			name[len] = 0;
			p += len;
			if (*kind == '$') {
				i = names_find(&s->vars, name);
				if (i < 0 || !s->var_defined[i])
					return bad(
						s,
						"%s: $%s is not saved by an earlier step",
						what, name);
				t->kind = T_VAR;
			} else if (*kind == 'r') {
				i = find_region(s, name);
				if (i < 0)
					return bad(s, "%s: no region \"%s\"",
						   what, name);
				t->kind = T_REGION;
			} else if ((i = find_region(s, name)) >= 0) {
				if (s->regions[i].type != REGION_MEMFD)
					return bad(
						s,
						"%s: fd:%s: region \"%s\" is not a memfd",
						what, name, name);
				t->kind = T_FD;
			} else {
				i = names_find(&s->fds, name);
				if (i < 0)
					return bad(
						s,
						"%s: fd:%s names neither a memfd region nor an opened file",
						what, name);
				t->kind = T_DEVFD;
			}
			t->idx = (unsigned int)i;
		} else if ((len = ident_len(p))) {
			size_t i;

			if (len >= sizeof(name))
				return bad(s, "%s: name too long in \"%s\"",
					   what, text);
			memcpy(name, p, len);
			name[len] = 0;
			p += len;
			for (i = 0; i < ARRAY_SIZE(constants); i++)
				if (!strcmp(constants[i].name, name))
					break;
			if (i == ARRAY_SIZE(constants))
				return bad(
					s,
					"%s: unknown constant \"%s\" (variables are written $name, regions region:NAME)",
					what, name);
			t->kind = T_NUM;
			t->num = constants[i].value;
		} else {
			return bad(
				s,
				"%s: expected a number, $var, region:NAME, fd:NAME or a constant at \"%s\"",
				what, p);
		}
		e->n++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		if (*p != '+' && *p != '-' && *p != '|')
			return bad(s, "%s: unexpected \"%c\" in \"%s\"", what,
				   *p, text);
		op = *p++;
	}
}

static bool json_u64(json_object *j, uint64_t *v)
{
	int64_t i;

	if (!json_object_is_type(j, json_type_int))
		return false;
	/*
	 * json-c keeps integers above INT64_MAX as unsigned; the signed
	 * getter saturates those, the unsigned one zeroes negatives.
	 */
	i = json_object_get_int64(j);
	*v = i < 0 ? (uint64_t)i : json_object_get_uint64(j);
	return true;
}

static int parse_expr(struct script *s, json_object *j, struct expr *e,
		      const char *what)
{
	uint64_t v;

	if (json_u64(j, &v)) {
		e->t = salloc(s, sizeof(*e->t));
		e->t->kind = T_NUM;
		e->t->op = '+';
		e->t->num = v;
		e->n = 1;
		e->text = NULL;
		return 0;
	}
	if (json_object_is_type(j, json_type_string))
		return parse_expr_text(s, json_object_get_string(j), e, what);
	return bad(s, "%s: must be an integer or a string expression", what);
}

/* A value fixed when the script is compiled: numbers and constants only. */
static int parse_const(struct script *s, json_object *j, uint64_t *v,
		       const char *what)
{
	struct expr e;
	unsigned int i;

	if (parse_expr(s, j, &e, what))
		return -1;
	*v = 0;
	for (i = 0; i < e.n; i++) {
		if (e.t[i].kind != T_NUM)
			return bad(s, "%s: must be a constant", what);
		if (e.t[i].op == '+')
			*v += e.t[i].num;
		else if (e.t[i].op == '-')
			*v -= e.t[i].num;
		else
			*v |= e.t[i].num;
	}
	return 0;
}

static bool expr_has(const struct expr *e, enum term_kind kind)
{
	unsigned int i;

	for (i = 0; i < e->n; i++)
		if (e->t[i].kind == kind)
			return true;
	return false;
}

static int parse_errno(struct script *s, json_object *j, int *e)
{
	uint64_t v;
	size_t i;

	if (json_u64(j, &v) && v < 4096) {
		*e = (int)v;
		return 0;
	}
	if (json_object_is_type(j, json_type_string)) {
		const char *name = json_object_get_string(j);

		for (i = 0; i < ARRAY_SIZE(errno_names); i++)
			if (!strcmp(errno_names[i].name, name)) {
				*e = errno_names[i].value;
				return 0;
			}
		if (!strcmp(name, "ok")) {
			*e = 0;
			return 0;
		}
		return bad(s, "expect.errno: unknown errno \"%s\"", name);
	}
	return bad(s,
		   "expect.errno: must be 0, an errno name or a list of them");
}

/* A field by name, or "@OFFSET:u8|u16|u32|u64" for raw bytes of the arg. */
static int parse_field(struct script *s, const struct cmd *c, const char *name,
		       struct field *f, const char *what)
{
	unsigned int i;

	if (name[0] == '@') {
		char *end;
		unsigned long off;

		errno = 0;
		off = strtoul(name + 1, &end, 0);
		if (errno || end == name + 1 || off >= MAX_ARG_BUFFER ||
		    *end != ':')
			return bad(
				s,
				"%s: \"%s\": expected @OFFSET:u8|u16|u32|u64",
				what, name);
		f->name = sdup(s, name);
		f->offset = (unsigned int)off;
		if (!strcmp(end, ":u8"))
			f->size = 1;
		else if (!strcmp(end, ":u16"))
			f->size = 2;
		else if (!strcmp(end, ":u32"))
			f->size = 4;
		else if (!strcmp(end, ":u64"))
			f->size = 8;
		else
			return bad(
				s,
				"%s: \"%s\": the width must be u8, u16, u32 or u64",
				what, name);
		return 0;
	}
	for (i = 0; i < c->nfields; i++) {
		if (!strcmp(c->fields[i].name, name)) {
			*f = c->fields[i];
			return 0;
		}
	}
	{
		char list[1024];
		size_t n = 0;

		list[0] = 0;
		for (i = 0; i < c->nfields && n < sizeof(list) - 1; i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n,
					      "%s%s", i ? ", " : "",
					      c->fields[i].name);
		if (!c->nfields)
			return bad(s,
				   "%s: %s takes no struct, so no field \"%s\"",
				   what, c->name, name);
		return bad(
			s,
			"%s: %s has no field \"%s\" (fields: %s; raw bytes: @OFFSET:u32)",
			what, c->name, name, list);
	}
}

static int check_keys(struct script *s, json_object *obj, const char *what,
		      const char *const *allowed)
{
	json_object_object_foreach(obj, key, val)
	{
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a) {
			char list[256];
			size_t n = 0;

			list[0] = 0;
			for (a = allowed; *a && n < sizeof(list) - 1; a++)
				n += (size_t)snprintf(list + n,
						      sizeof(list) - n, "%s%s",
						      a == allowed ? "" : ", ",
						      *a);
			return bad(s, "%s: unknown key \"%s\" (expected: %s)",
				   what, key, list);
		}
	}
	return 0;
}

static json_object *get(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* ------------------------------------------------------------------------ */
/* Compiling steps                                                            */

static int parse_reqs(struct script *s, json_object *j, struct reqs *r,
		      const char *what)
{
	size_t i, n;

	if (!json_object_is_type(j, json_type_array))
		return bad(s, "%s: must be a list of names", what);
	n = json_object_array_length(j);
	r->id = salloc(s, n * sizeof(*r->id));
	r->n = 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(j, i);
		const char *name;
		const struct cmd *c;

		if (!json_object_is_type(e, json_type_string))
			return bad(s, "%s: must be a list of names", what);
		name = json_object_get_string(e);
		if (!strcmp(name, "mock")) {
			r->id[r->n++] = REQ_MOCK;
			continue;
		}
		if (!strcmp(name, "dev_dma")) {
			r->id[r->n++] = REQ_DEV_DMA;
			continue;
		}
		c = find_cmd(name);
		if (!c || c->kind != CMD_IOMMUFD)
			return bad(
				s,
				"%s: \"%s\": expected \"mock\", \"dev_dma\" or an iommufd command name such as \"IOAS_MAP_FILE\"",
				what, name);
		r->id[r->n++] = REQ_CMD0 + (unsigned int)(c - cmds);
	}
	return 0;
}

static int parse_cmp(struct script *s, json_object *j, struct cmp *c,
		     const char *what)
{
	static const char *const keys[] = { "ne",   "min",   "max",
					    "mask", "value", NULL };
	char sub[160];
	json_object *v;

	if (!json_object_is_type(j, json_type_object)) {
		c->kind = CMP_EQ;
		c->has_a = true;
		return parse_expr(s, j, &c->a, what);
	}
	if (check_keys(s, j, what, keys))
		return -1;
	if ((v = get(j, "ne"))) {
		if (json_object_object_length(j) != 1)
			return bad(s, "%s: \"ne\" stands alone", what);
		c->kind = CMP_NE;
		c->has_a = true;
		snprintf(sub, sizeof(sub), "%s.ne", what);
		return parse_expr(s, v, &c->a, sub);
	}
	if (get(j, "mask") || get(j, "value")) {
		if (!get(j, "mask") || !get(j, "value") ||
		    json_object_object_length(j) != 2)
			return bad(s, "%s: \"mask\" goes with \"value\" only",
				   what);
		c->kind = CMP_MASK;
		c->has_a = c->has_b = true;
		snprintf(sub, sizeof(sub), "%s.mask", what);
		if (parse_expr(s, get(j, "mask"), &c->a, sub))
			return -1;
		snprintf(sub, sizeof(sub), "%s.value", what);
		return parse_expr(s, get(j, "value"), &c->b, sub);
	}
	if (!get(j, "min") && !get(j, "max"))
		return bad(
			s,
			"%s: expected a value or {\"ne\"}, {\"min\", \"max\"}, {\"mask\", \"value\"}",
			what);
	c->kind = CMP_RANGE;
	if ((v = get(j, "min"))) {
		c->has_a = true;
		snprintf(sub, sizeof(sub), "%s.min", what);
		if (parse_expr(s, v, &c->a, sub))
			return -1;
	}
	if ((v = get(j, "max"))) {
		c->has_b = true;
		snprintf(sub, sizeof(sub), "%s.max", what);
		if (parse_expr(s, v, &c->b, sub))
			return -1;
	}
	return 0;
}

static int parse_fd_name(struct script *s, json_object *j, unsigned int *fd,
			 const char *what)
{
	const char *name;
	int i;

	if (!json_object_is_type(j, json_type_string) ||
	    !valid_name(json_object_get_string(j)))
		return bad(s, "%s: must be a name ([A-Za-z_][A-Za-z0-9_]*)",
			   what);
	name = json_object_get_string(j);
	i = names_find(&s->fds, name);
	if (i < 0 || !s->fd_open[i])
		return bad(
			s,
			"%s: \"%s\" is not open here (open it with {\"open\": \"%s\"})",
			what, name, name);
	*fd = (unsigned int)i;
	return 0;
}

static int parse_ioctl(struct script *s, struct step *st, json_object *obj)
{
	static const char *const keys[] = { "ioctl",	"name",	  "comment",
					    "requires", "fd",	  "in",
					    "arg",	"expect", "save",
					    NULL };
	static const char *const expect_keys[] = { "errno", "out", "ret",
						   NULL };
	json_object *j = get(obj, "ioctl"), *in, *expect, *save, *v;
	const struct cmd *c;
	unsigned int i;
	char what[200];

	if (json_object_is_type(j, json_type_string) &&
	    (c = find_cmd(json_object_get_string(j)))) {
		st->cmd = c;
	} else {
		uint64_t nr;

		if (!json_object_is_type(j, json_type_int) &&
		    !(json_object_is_type(j, json_type_string) &&
		      isdigit((unsigned char)json_object_get_string(j)[0])))
			return bad(
				s,
				"ioctl: unknown command \"%s\" (names are the uAPI's without IOMMU_, e.g. IOAS_MAP, TEST.MOCK_DOMAIN, VFIO_IOMMU_MAP_DMA; or a number)",
				json_object_get_string(j));
		if (parse_const(s, j, &nr, "ioctl") || nr > UINT32_MAX)
			return bad(s, "ioctl: bad command number");
		st->raw = (struct cmd){ .kind = CMD_RAW,
					.nr = (unsigned long)nr,
					.size = RAW_ARG_SIZE,
					.fields = raw_fields,
					.nfields = ARRAY_SIZE(raw_fields),
					.size_field = "size" };
		snprintf(what, sizeof(what), "0x%" PRIx64, nr);
		st->raw.name = sdup(s, what);
		st->cmd = &st->raw;
	}
	c = st->cmd;
	st->label = c->name;
	snprintf(s->ctx, sizeof(s->ctx), "step %u (%s)", st->index, c->name);
	if (check_keys(s, obj, "step", keys))
		return -1;

	st->fd = 0;
	if ((v = get(obj, "fd"))) {
		if (parse_fd_name(s, v, &st->fd, "fd"))
			return -1;
	} else if (!s->fd_open[0]) {
		return bad(
			s,
			"\"main\" is closed here; reopen it or name another \"fd\"");
	}

	/* Where the argument comes from. */
	st->arg_kind = c->kind == CMD_VALUE ? ARG_VALUE : ARG_BUFFER;
	if ((v = get(obj, "arg"))) {
		if (parse_expr(s, v, &st->arg, "arg"))
			return -1;
		st->has_arg = true;
		if (c->kind != CMD_VALUE)
			st->arg_kind = expr_has(&st->arg, T_REGION) ?
					       ARG_REGION :
					       ARG_VALUE;
	}

	if ((in = get(obj, "in"))) {
		if (!json_object_is_type(in, json_type_object))
			return bad(s, "in: must be an object of fields");
		if (st->arg_kind == ARG_VALUE)
			return bad(
				s,
				c->kind == CMD_VALUE ?
					"in: %s takes its argument by value; use \"arg\"" :
					"in: \"arg\" without a region passes a raw pointer (%s), so there is no struct to fill",
				c->name);
		st->in = salloc(s, (size_t)json_object_object_length(in) *
					   sizeof(*st->in));
		json_object_object_foreach(in, key, val)
		{
			struct setting *set = &st->in[st->nin++];

			snprintf(what, sizeof(what), "in.%s", key);
			if (parse_field(s, c, key, &set->f, what) ||
			    parse_expr(s, val, &set->val, what))
				return -1;
			if (c->size_field && !strcmp(key, c->size_field))
				st->size_given = true;
		}
	}

	if ((expect = get(obj, "expect"))) {
		json_object *out;

		st->checked = true;
		if (!json_object_is_type(expect, json_type_object))
			return bad(s, "expect: must be an object");
		if (check_keys(s, expect, "expect", expect_keys))
			return -1;
		v = get(expect, "errno");
		if (v && json_object_is_type(v, json_type_array)) {
			size_t n = json_object_array_length(v);

			if (!n || n > MAX_ERRNOS)
				return bad(s,
					   "expect.errno: list 1 to %d errnos",
					   MAX_ERRNOS);
			for (i = 0; i < n; i++)
				if (parse_errno(s,
						json_object_array_get_idx(v, i),
						&st->errnos[st->nerrnos++]))
					return -1;
		} else if (v) {
			if (parse_errno(s, v, &st->errnos[st->nerrnos++]))
				return -1;
		} else {
			st->errnos[st->nerrnos++] = 0;
		}
		if ((out = get(expect, "out"))) {
			if (!json_object_is_type(out, json_type_object))
				return bad(
					s,
					"expect.out: must be an object of fields");
			if (st->arg_kind == ARG_VALUE)
				return bad(
					s,
					"expect.out: %s has no struct to read back",
					c->name);
			st->out = salloc(
				s, (size_t)json_object_object_length(out) *
					   sizeof(*st->out));
			json_object_object_foreach(out, key, val)
			{
				struct cmp *cmp = &st->out[st->nout++];

				snprintf(what, sizeof(what), "expect.out.%s",
					 key);
				if (parse_field(s, c, key, &cmp->f, what) ||
				    parse_cmp(s, val, cmp, what))
					return -1;
			}
		}
		if ((v = get(expect, "ret"))) {
			st->has_ret = true;
			if (parse_cmp(s, v, &st->ret, "expect.ret"))
				return -1;
		}
	}

	/* Last: a step cannot use what it saves itself. */
	if ((save = get(obj, "save"))) {
		if (!json_object_is_type(save, json_type_object))
			return bad(s,
				   "save: must map variable names to fields");
		if (st->arg_kind == ARG_VALUE)
			return bad(s, "save: %s has no struct to read back",
				   c->name);
		st->saves = salloc(s, (size_t)json_object_object_length(save) *
					      sizeof(*st->saves));
		json_object_object_foreach(save, key, val)
		{
			struct save *sv = &st->saves[st->nsaves++];

			snprintf(what, sizeof(what), "save.%s", key);
			if (!valid_name(key))
				return bad(
					s,
					"%s: a variable name is [A-Za-z_][A-Za-z0-9_]*",
					what);
			if (!json_object_is_type(val, json_type_string))
				return bad(s, "%s: must name a field", what);
			if (parse_field(s, c, json_object_get_string(val),
					&sv->f, what))
				return -1;
			sv->var = names_add(s, &s->vars, key);
		}
		for (i = 0; i < st->nsaves; i++)
			s->var_defined[st->saves[i].var] = true;
	}
	return 0;
}

static int parse_words(struct script *s, struct bytes *b, json_object *j,
		       const char *what)
{
	size_t i, n = 1;
	char sub[160];

	if (json_object_is_type(j, json_type_array)) {
		n = json_object_array_length(j);
		if (!n)
			return bad(s, "%s: empty list", what);
	}
	b->words = salloc(s, n * sizeof(*b->words));
	b->nwords = (unsigned int)n;
	if (!json_object_is_type(j, json_type_array))
		return parse_expr(s, j, &b->words[0], what);
	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", what, i);
		if (parse_expr(s, json_object_array_get_idx(j, i), &b->words[i],
			       sub))
			return -1;
	}
	return 0;
}

static int parse_hex(struct script *s, const char *str, struct bytes *b)
{
	size_t digits = 0, i;
	const char *p;

	for (p = str; *p; p++) {
		if (isxdigit((unsigned char)*p))
			digits++;
		else if (!isspace((unsigned char)*p))
			return bad(
				s,
				"data: \"%s\": bytes in hex, e.g. \"de ad be ef\" (no 0x)",
				str);
	}
	if (!digits || digits % 2)
		return bad(
			s,
			"data: \"%s\": an even, non-zero number of hex digits",
			str);
	b->len = digits / 2;
	b->data = salloc(s, b->len);
	for (p = str, i = 0; *p; p++) {
		int v;

		if (isspace((unsigned char)*p))
			continue;
		v = isdigit((unsigned char)*p) ?
			    *p - '0' :
			    tolower((unsigned char)*p) - 'a' + 10;
		b->data[i / 2] = (uint8_t)(b->data[i / 2] << 4 | v);
		i++;
	}
	return 0;
}

/* write / check: a region, an offset and what the bytes are. */
static int parse_bytes_step(struct script *s, struct step *st, json_object *obj,
			    bool check)
{
	static const char *const wkeys[] = { "write",	 "name",   "comment",
					     "requires", "offset", "data",
					     "fill",	 "length", "u8",
					     "u16",	 "u32",	   "u64",
					     NULL };
	static const char *const ckeys[] = { "check",	 "name",   "comment",
					     "requires", "offset", "data",
					     "fill",	 "length", "u8",
					     "u16",	 "u32",	   "u64",
					     "same_as",	 NULL };
	static const char *const forms[] = { "data", "fill", "u8",     "u16",
					     "u32",  "u64",  "same_as" };
	json_object *j = get(obj, check ? "check" : "write"), *v;
	struct bytes *b = &st->bytes;
	const char *form = NULL;
	char label[160];
	size_t i;
	int r;

	if (!json_object_is_type(j, json_type_string))
		return bad(s, "%s: must name a region",
			   check ? "check" : "write");
	r = find_region(s, json_object_get_string(j));
	snprintf(label, sizeof(label), "%s %s", check ? "check" : "write",
		 json_object_get_string(j));
	st->label = sdup(s, label);
	snprintf(s->ctx, sizeof(s->ctx), "step %u (%s)", st->index, label);
	if (check_keys(s, obj, "step", check ? ckeys : wkeys))
		return -1;
	if (r < 0)
		return bad(s, "no region \"%s\"", json_object_get_string(j));
	st->region = (unsigned int)r;
	if (!check && s->regions[r].readonly)
		return bad(s, "region \"%s\" is read-only", s->regions[r].name);

	if ((v = get(obj, "offset"))) {
		if (parse_expr(s, v, &st->offset, "offset"))
			return -1;
	} else if (parse_expr_text(s, "0", &st->offset, "offset")) {
		return -1;
	}

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		if (!get(obj, forms[i]))
			continue;
		if (form)
			return bad(
				s,
				"give one of data, fill, u8, u16, u32, u64%s, not both \"%s\" and \"%s\"",
				check ? ", same_as" : "", form, forms[i]);
		form = forms[i];
	}
	if (!form)
		return bad(
			s,
			"say what the bytes are: data, fill, u8, u16, u32, u64%s",
			check ? " or same_as" : "");
	v = get(obj, form);
	if (!strcmp(form, "data")) {
		b->kind = B_DATA;
		if (!json_object_is_type(v, json_type_string))
			return bad(s, "data: must be a hex string");
		if (parse_hex(s, json_object_get_string(v), b))
			return -1;
	} else if (!strcmp(form, "fill")) {
		uint64_t fill;

		if (json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), "pattern")) {
			b->kind = B_PATTERN;
		} else {
			if (parse_const(s, v, &fill, "fill"))
				return -1;
			if (fill > 0xff)
				return bad(
					s,
					"fill: a byte (0-255) or \"pattern\"");
			b->kind = B_FILL;
			b->fill = (uint8_t)fill;
		}
	} else if (!strcmp(form, "same_as")) {
		b->kind = B_SAME;
		if (parse_expr(s, v, &b->same, "same_as"))
			return -1;
		if (!expr_has(&b->same, T_REGION))
			return bad(
				s,
				"same_as: must point into a region (\"region:NAME+OFFSET\")");
		if (!get(obj, "length"))
			return bad(s, "same_as: needs a \"length\"");
	} else {
		b->kind = form[1] == '8' ? B_U8 :
			  form[1] == '1' ? B_U16 :
			  form[1] == '3' ? B_U32 :
					   B_U64;
		if (parse_words(s, b, v, form))
			return -1;
	}
	if ((v = get(obj, "length"))) {
		if (b->kind != B_FILL && b->kind != B_PATTERN &&
		    b->kind != B_SAME)
			return bad(
				s,
				"length: only with fill or same_as (the other forms have their own length)");
		if (parse_expr(s, v, &b->length, "length"))
			return -1;
		b->has_length = true;
	}
	return 0;
}

static int parse_open_close(struct script *s, struct step *st, json_object *obj,
			    bool open)
{
	static const char *const okeys[] = { "open", "name", "comment",
					     "requires", NULL };
	static const char *const ckeys[] = { "close", "name", "comment",
					     "requires", NULL };
	json_object *j = get(obj, open ? "open" : "close");
	char label[160];
	const char *name;
	int i;

	if (!json_object_is_type(j, json_type_string) ||
	    !valid_name(json_object_get_string(j)))
		return bad(s, "%s: must be a name ([A-Za-z_][A-Za-z0-9_]*)",
			   open ? "open" : "close");
	name = json_object_get_string(j);
	snprintf(label, sizeof(label), "%s %s", open ? "open" : "close", name);
	st->label = sdup(s, label);
	snprintf(s->ctx, sizeof(s->ctx), "step %u (%s)", st->index, label);
	if (check_keys(s, obj, "step", open ? okeys : ckeys))
		return -1;
	if (find_region(s, name) >= 0)
		return bad(s, "\"%s\" is already a region's name", name);
	i = names_find(&s->fds, name);
	if (open) {
		if (i >= 0 && s->fd_open[i])
			return bad(s, "\"%s\" is already open", name);
		i = (int)names_add(s, &s->fds, name);
		s->fd_open[i] = true;
	} else {
		if (i < 0 || !s->fd_open[i])
			return bad(s, "\"%s\" is not open", name);
		s->fd_open[i] = false;
	}
	st->fd = (unsigned int)i;
	return 0;
}

static int parse_step(struct script *s, struct step *st, json_object *obj)
{
	static const char *const kinds[] = { "ioctl", "write", "check", "open",
					     "close" };
	json_object *v;
	unsigned int i, found = 0;
	int ret;

	snprintf(s->ctx, sizeof(s->ctx), "step %u", st->index);
	if (!json_object_is_type(obj, json_type_object))
		return bad(s, "must be an object");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (get(obj, kinds[i])) {
			st->kind = (enum step_kind)i;
			found++;
		}
	}
	if (found != 1)
		return bad(
			s,
			"a step has exactly one of \"ioctl\", \"write\", \"check\", \"open\", \"close\"");
	switch (st->kind) {
	case STEP_IOCTL:
		ret = parse_ioctl(s, st, obj);
		break;
	case STEP_WRITE:
	case STEP_CHECK:
		ret = parse_bytes_step(s, st, obj, st->kind == STEP_CHECK);
		break;
	default:
		ret = parse_open_close(s, st, obj, st->kind == STEP_OPEN);
		break;
	}
	if (ret)
		return ret;
	if ((v = get(obj, "name"))) {
		if (!json_object_is_type(v, json_type_string))
			return bad(s, "name: must be a string");
		st->name = json_object_get_string(v);
	}
	if ((v = get(obj, "requires")) &&
	    parse_reqs(s, v, &st->reqs, "requires"))
		return -1;
	return 0;
}

static int parse_region(struct script *s, struct region *r, const char *name,
			json_object *obj)
{
	static const char *const keys[] = { "type",    "size",	   "fill",
					    "guard",   "readonly", "align",
					    "comment", NULL };
	json_object *v;
	const char *type;

	snprintf(s->ctx, sizeof(s->ctx), "region \"%s\"", name);
	if (!valid_name(name))
		return bad(s, "a region name is [A-Za-z_][A-Za-z0-9_]*");
	if (!strcmp(name, "main"))
		return bad(s, "\"main\" names the first open file");
	if (!json_object_is_type(obj, json_type_object))
		return bad(s, "must be an object");
	if (check_keys(s, obj, "region", keys))
		return -1;
	r->name = name;
	r->fd = -1;
	v = get(obj, "type");
	type = v && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       "";
	if (!strcmp(type, "memfd"))
		r->type = REGION_MEMFD;
	else if (!strcmp(type, "shared"))
		r->type = REGION_SHARED;
	else if (!strcmp(type, "private"))
		r->type = REGION_PRIVATE;
	else
		return bad(s, "type: \"memfd\", \"shared\" or \"private\"");
	if (!(v = get(obj, "size")))
		return bad(s, "size: missing");
	if (parse_const(s, v, &r->size, "size"))
		return -1;
	if (!r->size || r->size > REGION_MAX_SIZE)
		return bad(s, "size: 1 byte to 1 TiB");
	if ((v = get(obj, "fill"))) {
		uint64_t fill;

		if (json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), "pattern")) {
			r->fill = -1;
		} else {
			if (parse_const(s, v, &fill, "fill"))
				return -1;
			if (fill > 0xff)
				return bad(
					s,
					"fill: a byte (0-255) or \"pattern\"");
			r->fill = (int)fill;
		}
		if (r->fill && r->size > REGION_MAX_FILLED)
			return bad(s, "fill: only regions up to 4 GiB are "
				      "filled; larger ones stay sparse");
	}
	if ((v = get(obj, "align"))) {
		if (parse_const(s, v, &r->align, "align"))
			return -1;
		if (!r->align || (r->align & (r->align - 1)) ||
		    r->align > (1ULL << 30))
			return bad(s, "align: a power of two up to 1 GiB");
	}
	if ((v = get(obj, "guard"))) {
		if (!json_object_is_type(v, json_type_boolean))
			return bad(s, "guard: true or false");
		r->guard = json_object_get_boolean(v);
	}
	if ((v = get(obj, "readonly"))) {
		if (!json_object_is_type(v, json_type_boolean))
			return bad(s, "readonly: true or false");
		r->readonly = json_object_get_boolean(v);
	}
	return 0;
}

static int parse_script(struct script *s)
{
	static const char *const keys[] = { "version", "description",
					    "comment", "requires",
					    "regions", "steps",
					    NULL };
	json_object *root = s->root, *v;
	uint64_t version;
	size_t i, n;

	if (!json_object_is_type(root, json_type_object))
		return bad(s, "the top level must be an object");
	if (check_keys(s, root, "top level", keys))
		return -1;
	if (!(v = get(root, "version")) || !json_u64(v, &version) ||
	    version != 1)
		return bad(s, "\"version\": 1 is required (the only version)");
	if ((v = get(root, "description"))) {
		if (!json_object_is_type(v, json_type_string))
			return bad(s, "description: must be a string");
		s->description = json_object_get_string(v);
	}
	if ((v = get(root, "requires")) &&
	    parse_reqs(s, v, &s->reqs, "requires"))
		return -1;

	names_add(s, &s->fds, "main");
	s->fd_open[0] = true;

	if ((v = get(root, "regions"))) {
		if (!json_object_is_type(v, json_type_object))
			return bad(s, "regions: must map names to regions");
		s->regions = salloc(s, (size_t)json_object_object_length(v) *
					       sizeof(*s->regions));
		json_object_object_foreach(v, key, val)
		{
			if (parse_region(s, &s->regions[s->nregions++], key,
					 val))
				return -1;
		}
		s->ctx[0] = 0;
	}

	v = get(root, "steps");
	if (!v || !json_object_is_type(v, json_type_array) ||
	    !json_object_array_length(v))
		return bad(s, "steps: a non-empty list is required");
	n = json_object_array_length(v);
	s->steps = salloc(s, n * sizeof(*s->steps));
	for (i = 0; i < n; i++) {
		struct step *st = &s->steps[s->nsteps++];

		st->index = (unsigned int)i + 1;
		if (parse_step(s, st, json_object_array_get_idx(v, i)))
			return -1;
	}
	s->ctx[0] = 0;
	return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	do {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 16384;
			buf = xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Parse and compile; on failure s->err says why. */
static int script_load(struct script *s, const char *path)
{
	struct json_tokener *tok;
	size_t len, i, line = 1, col = 1;
	char *text;

	memset(s, 0, sizeof(*s));
	s->path = path;
	text = read_file(path, &len, s->err, sizeof(s->err));
	if (!text)
		return -1;
	tok = json_tokener_new();
	if (!tok) {
		free(text);
		return bad(s, "out of memory");
	}
	/* Strict: a script must stay valid JSON for jq, python and the like */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	s->root = json_tokener_parse_ex(tok, text, (int)len);
	if (!s->root || tok->char_offset < (int)len) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		size_t off = (size_t)tok->char_offset;

		/* A value followed by more than blanks is not one document. */
		while (s->root && off < len &&
		       isspace((unsigned char)text[off]))
			off++;
		if (!s->root || off < len) {
			for (i = 0; i < off && i < len; i++) {
				if (text[i] == '\n') {
					line++;
					col = 1;
				} else {
					col++;
				}
			}
			bad(s, "invalid JSON at line %zu, column %zu: %s", line,
			    col,
			    s->root ? "text after the end of the document" :
			    jerr == json_tokener_continue ?
				      "unexpected end of file" :
				      json_tokener_error_desc(jerr));
			json_tokener_free(tok);
			free(text);
			return -1;
		}
	}
	json_tokener_free(tok);
	free(text);
	return parse_script(s);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                    */

struct tap {
	FILE *out;
	unsigned int n, failed;
	const char *prefix; /* the script's name when several share a stream */
	bool planned; /* a skipped script printed "1..0" itself */
};

struct sbuf {
	char *p;
	size_t len, cap;
};

enum var_state { VAR_UNSET, VAR_SET, VAR_SKIPPED };

enum result { R_PASS, R_FAIL, R_ABORT, R_MALFORMED, R_SKIP };

struct run {
	struct script *s;
	const char *dev;
	struct tap *tap;
	FILE *out;
	int *fds;
	uint64_t *vals;
	enum var_state *state;
	int probe_fd;
	signed char *req_known; /* per requirement: 0 unknown, 1 met, -1 not */
	char **req_why;
	long page_size;
	/* per step */
	struct sbuf log, diag;
	bool skip_from_var;
	const char *unset_var;
	char why[512]; /* malformed-at-run-time or skip reason */
};

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = 2 * (b->len + (size_t)n + 64);
		b->p = xrealloc(b->p, b->cap);
	}
}

static void sb_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

__attribute__((format(printf, 4, 5))) static void
tap_result(struct tap *t, bool ok, const char *skip, const char *fmt, ...)
{
	char desc[512];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	/* '#' would start a TAP directive, a newline a new TAP line */
	for (p = desc; *p; p++)
		if (*p == '#' || *p == '\n')
			*p = ' ';
	t->n++;
	if (!ok)
		t->failed++;
	fprintf(t->out, "%s %u - %s%s%s%s%s\n", ok ? "ok" : "not ok", t->n,
		t->prefix ? t->prefix : "", t->prefix ? ": " : "", desc,
		skip ? " # SKIP " : "", skip ? skip : "");
	fflush(t->out);
}

static uint64_t field_mask(unsigned int size)
{
	return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

static uint64_t get_field(const uint8_t *buf, const struct field *f)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (f->size) {
	case 1:
		memcpy(&v8, buf + f->offset, 1);
		return v8;
	case 2:
		memcpy(&v16, buf + f->offset, 2);
		return v16;
	case 4:
		memcpy(&v32, buf + f->offset, 4);
		return v32;
	default:
		memcpy(&v64, buf + f->offset, 8);
		return v64;
	}
}

static void put_field(uint8_t *buf, const struct field *f, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (f->size) {
	case 1:
		memcpy(buf + f->offset, &v8, 1);
		break;
	case 2:
		memcpy(buf + f->offset, &v16, 2);
		break;
	case 4:
		memcpy(buf + f->offset, &v32, 4);
		break;
	default:
		memcpy(buf + f->offset, &v, 8);
		break;
	}
}

/* Whether v fits size bytes, as an unsigned or a negative signed value. */
static bool fits(uint64_t v, unsigned int size)
{
	uint64_t m = field_mask(size);

	return size >= 8 || v <= m ||
	       ((int64_t)v < 0 && (int64_t)v >= -(int64_t)(m / 2 + 1));
}

/*
 * Evaluate at run time. False when a variable is not set: its step failed
 * (the run stops) or was skipped (so is this step); r says which.
 */
static bool eval(struct run *r, const struct expr *e, uint64_t *out)
{
	uint64_t acc = 0, v = 0;
	unsigned int i;

	for (i = 0; i < e->n; i++) {
		const struct term *t = &e->t[i];

		switch (t->kind) {
		case T_NUM:
			v = t->num;
			break;
		case T_VAR:
			if (r->state[t->idx] != VAR_SET) {
				r->unset_var = r->s->vars.v[t->idx];
				r->skip_from_var = r->state[t->idx] ==
						   VAR_SKIPPED;
				return false;
			}
			v = r->vals[t->idx];
			break;
		case T_REGION:
			v = (uintptr_t)r->s->regions[t->idx].mem;
			break;
		case T_FD:
			v = (uint64_t)(int64_t)r->s->regions[t->idx].fd;
			break;
		case T_DEVFD:
			v = (uint64_t)(int64_t)r->fds[t->idx];
			break;
		}
		if (t->op == '+')
			acc += v;
		else if (t->op == '-')
			acc -= v;
		else
			acc |= v;
	}
	*out = acc;
	return true;
}

static void fmt_num(struct sbuf *b, uint64_t v)
{
	if (v < 4096)
		sb_printf(b, "%" PRIu64, v);
	else
		sb_printf(b, "0x%" PRIx64, v);
}

/* "value", or "text(=value)" when the expression was more than a number */
static void fmt_expr(struct sbuf *b, const struct expr *e, uint64_t v)
{
	if (e->text && e->text[strspn(e->text, "0123456789abcdefABCDEFxX")]) {
		sb_printf(b, "%s(=", e->text);
		fmt_num(b, v);
		sb_printf(b, ")");
	} else {
		fmt_num(b, v);
	}
}

/* The region that holds [addr, addr + len), or -1. */
static int region_at(struct run *r, uint64_t addr, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		const struct region *rg = &r->s->regions[i];
		uint64_t start = (uintptr_t)rg->mem;

		if (addr >= start && len <= rg->size &&
		    addr - start <= rg->size - len)
			return (int)i;
	}
	return -1;
}

__attribute__((format(printf, 2, 3))) static enum result
malformed(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return R_MALFORMED;
}

/* Turn an unset variable into the step's result. */
static enum result unset(struct run *r)
{
	if (r->skip_from_var) {
		snprintf(r->why, sizeof(r->why),
			 "$%s comes from a skipped step", r->unset_var);
		return R_SKIP;
	}
	snprintf(r->why, sizeof(r->why),
		 "$%s is not set: the step that saves it did not pass",
		 r->unset_var);
	return R_ABORT;
}

static bool cmp_holds(struct run *r, const struct cmp *c, uint64_t got,
		      unsigned int size, struct sbuf *want, bool *ok)
{
	uint64_t a = 0, b = 0, m = field_mask(size);

	if ((c->has_a && !eval(r, &c->a, &a)) ||
	    (c->has_b && !eval(r, &c->b, &b)))
		return false;
	switch (c->kind) {
	case CMP_EQ:
		*ok = got == (a & m);
		fmt_expr(want, &c->a, a);
		break;
	case CMP_NE:
		*ok = got != (a & m);
		sb_printf(want, "not ");
		fmt_expr(want, &c->a, a);
		break;
	case CMP_RANGE:
		*ok = (!c->has_a || got >= a) && (!c->has_b || got <= b);
		if (c->has_a) {
			sb_printf(want, ">= ");
			fmt_expr(want, &c->a, a);
		}
		if (c->has_b) {
			sb_printf(want, "%s<= ", c->has_a ? " and " : "");
			fmt_expr(want, &c->b, b);
		}
		break;
	case CMP_MASK:
		*ok = (got & a) == (b & m);
		sb_printf(want, "0x%" PRIx64 " under mask 0x%" PRIx64, b, a);
		break;
	}
	return true;
}

static void hexdump(struct sbuf *b, const char *what, const uint8_t *p,
		    size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 32 == 0)
			sb_printf(b, "#   %s+0x%02zx:", what, i);
		sb_printf(b, " %02x", p[i]);
		if (i % 32 == 31 || i + 1 == len)
			sb_printf(b, "\n");
	}
}

/*
 * Put the struct in its region. A read-only region is only read-only for
 * the ioctl: the struct goes in with the protection lifted for the copy.
 */
static int region_poke(struct run *r, struct region *rg, uint8_t *at,
		       const uint8_t *src, size_t len)
{
	size_t page = (size_t)r->page_size;
	size_t len_pages = (rg->size + page - 1) & ~(page - 1);

	if (!rg->readonly) {
		memcpy(at, src, len);
		return 0;
	}
	if (mprotect(rg->mem, len_pages, PROT_READ | PROT_WRITE))
		return -1;
	memcpy(at, src, len);
	return mprotect(rg->mem, len_pages, PROT_READ);
}

static enum result run_ioctl(struct run *r, struct step *st)
{
	const struct cmd *c = st->cmd;
	uint64_t *vals = NULL, argv = 0, size = 0;
	size_t buflen = 0, inlen = 0, i;
	uint8_t *buf = NULL, *place = NULL;
	enum result res = R_PASS;
	bool errno_ok = false;
	int fd = r->fds[st->fd], ret, err;

	sb_printf(&r->log, "%s", c->name);
	if (st->fd)
		sb_printf(&r->log, " [%s]", r->s->fds.v[st->fd]);

	if (st->has_arg && !eval(r, &st->arg, &argv))
		return unset(r);

	if (st->arg_kind != ARG_VALUE) {
		vals = xrealloc(NULL, (st->nin ? st->nin : 1) * sizeof(*vals));
		buflen = c->size;
		for (i = 0; i < st->nin; i++) {
			const struct setting *set = &st->in[i];

			if (!eval(r, &set->val, &vals[i])) {
				free(vals);
				return unset(r);
			}
			if (!fits(vals[i], set->f.size)) {
				uint64_t v = vals[i];

				free(vals);
				return malformed(r,
						 "in.%s: 0x%" PRIx64
						 " does not fit its %u bytes",
						 set->f.name, v, set->f.size);
			}
			if (set->f.offset + set->f.size > buflen)
				buflen = set->f.offset + set->f.size;
			if (c->size_field &&
			    !strcmp(set->f.name, c->size_field))
				size = vals[i];
		}
		/*
		 * Fields read back may lie past what goes in (@OFFSET): the
		 * buffer covers them, but a region keeps its bytes there.
		 */
		inlen = buflen;
		for (i = 0; i < st->nout; i++)
			if (st->out[i].f.offset + st->out[i].f.size > buflen)
				buflen = st->out[i].f.offset + st->out[i].f.size;
		for (i = 0; i < st->nsaves; i++)
			if (st->saves[i].f.offset + st->saves[i].f.size > buflen)
				buflen = st->saves[i].f.offset +
					 st->saves[i].f.size;
		/* Zeroes up to "size", so only deliberate tails are non-zero */
		if (st->arg_kind == ARG_BUFFER && size > buflen &&
		    size <= MAX_ARG_BUFFER)
			buflen = (size_t)size;
		buf = xrealloc(NULL, buflen + 8);
		memset(buf, 0, buflen + 8);
		/* A command given by number has no size to fill in */
		if (c->size_field && !st->size_given && c->kind != CMD_RAW) {
			const struct field *sf = NULL;

			for (i = 0; i < c->nfields; i++)
				if (!strcmp(c->fields[i].name, c->size_field))
					sf = &c->fields[i];
			if (sf)
				put_field(buf, sf, c->size);
		}
		if (c->has_op)
			put_field(buf,
				  &(struct field){
					  "op",
					  offsetof(struct iommu_test_cmd, op),
					  4 },
				  c->op);
		for (i = 0; i < st->nin; i++) {
			put_field(buf, &st->in[i].f, vals[i]);
			sb_printf(&r->log, " %s=", st->in[i].f.name);
			fmt_expr(&r->log, &st->in[i].val, vals[i]);
		}
		free(vals);
		if (st->arg_kind == ARG_REGION) {
			int rgi = region_at(r, argv, buflen);

			if (rgi < 0) {
				free(buf);
				return malformed(
					r,
					"arg: %zu bytes at %s do not fit in a region",
					buflen, st->arg.text);
			}
			place = (uint8_t *)(uintptr_t)argv;
			if (region_poke(r, &r->s->regions[rgi], place, buf,
					inlen)) {
				free(buf);
				return malformed(r, "arg: cannot write %s: %s",
						 st->arg.text, strerror(errno));
			}
			sb_printf(&r->log, " (arg at %s)", st->arg.text);
		} else {
			argv = (uintptr_t)buf;
		}
	} else if (st->has_arg) {
		sb_printf(&r->log, " arg=");
		fmt_expr(&r->log, &st->arg, argv);
	}

	errno = 0;
	ret = ioctl(fd, c->nr, (unsigned long)argv);
	err = ret < 0 ? errno : 0;
	if (place)
		memcpy(buf, place, buflen);

	sb_printf(&r->log, " -> %s", errno_str(err));
	if (!err && ret)
		sb_printf(&r->log, " (returned %d)", ret);

	if (!st->checked) {
		errno_ok = !err;
		if (err)
			sb_printf(
				&r->diag,
				"#   a step without \"expect\" must succeed; the script stops here\n");
	} else {
		for (i = 0; i < st->nerrnos; i++)
			errno_ok |= st->errnos[i] == err;
		if (!errno_ok) {
			sb_printf(&r->diag, "#   expected ");
			for (i = 0; i < st->nerrnos; i++)
				sb_printf(&r->diag, "%s%s", i ? " or " : "",
					  errno_str(st->errnos[i]));
			sb_printf(&r->diag, ", got %s\n", errno_str(err));
		}
	}
	if (!errno_ok)
		res = st->checked ? R_FAIL : R_ABORT;

	/* Outputs are compared even on errors: EMSGSIZE and INVALIDATE copy back */
	for (i = 0; i < st->nout + st->has_ret; i++) {
		const struct cmp *cmp = i < st->nout ? &st->out[i] : &st->ret;
		const char *name = i < st->nout ? cmp->f.name : "ret";
		uint64_t got = i < st->nout ? get_field(buf, &cmp->f) :
					      (uint64_t)(int64_t)ret;
		struct sbuf want = { 0 };
		bool ok = false;

		if (!cmp_holds(r, cmp, got, i < st->nout ? cmp->f.size : 8,
			       &want, &ok)) {
			free(want.p);
			free(buf);
			return unset(r);
		}
		sb_printf(&r->log, ", %s=", name);
		fmt_num(&r->log, got);
		if (!ok) {
			sb_printf(&r->diag, "#   %s: got ", name);
			fmt_num(&r->diag, got);
			sb_printf(&r->diag, ", expected %s\n", want.p);
			if (res == R_PASS)
				res = R_FAIL;
		}
		free(want.p);
	}

	if (res == R_PASS) {
		for (i = 0; i < st->nsaves; i++) {
			const struct save *sv = &st->saves[i];

			r->vals[sv->var] = get_field(buf, &sv->f);
			r->state[sv->var] = VAR_SET;
			sb_printf(&r->log, ", $%s=", r->s->vars.v[sv->var]);
			fmt_num(&r->log, r->vals[sv->var]);
		}
	} else if (buf) {
		hexdump(&r->diag, "arg", buf, buflen < 128 ? buflen : 128);
	}
	free(buf);
	return res;
}

static uint8_t pattern_byte(uint64_t off)
{
	/* Differs from page to page, so a misplaced page shows. */
	return (uint8_t)(off + (off >> 12));
}

static enum result run_bytes(struct run *r, struct step *st)
{
	const struct bytes *b = &st->bytes;
	struct region *rg = &r->s->regions[st->region];
	bool check = st->kind == STEP_CHECK;
	uint64_t off, len = 0, width = 0, src = 0, v;
	uint8_t *want = NULL, *at;
	size_t i, bad_at = SIZE_MAX, nbad = 0;

	if (!eval(r, &st->offset, &off))
		return unset(r);
	switch (b->kind) {
	case B_DATA:
		len = b->len;
		break;
	case B_FILL:
	case B_PATTERN:
	case B_SAME:
		if (b->has_length) {
			if (!eval(r, &b->length, &len))
				return unset(r);
		} else {
			len = off < rg->size ? rg->size - off : 0;
		}
		break;
	default:
		width = b->kind == B_U8	 ? 1 :
			b->kind == B_U16 ? 2 :
			b->kind == B_U32 ? 4 :
					   8;
		len = width * b->nwords;
		break;
	}
	sb_printf(&r->log, "%s+", st->label);
	fmt_expr(&r->log, &st->offset, off);
	sb_printf(&r->log, " (%" PRIu64 " bytes)", len);
	if (off > rg->size || len > rg->size - off || !len)
		return malformed(r,
				 "offset 0x%" PRIx64 " + length 0x%" PRIx64
				 " is outside region \"%s\" (0x%" PRIx64
				 " bytes)",
				 off, len, rg->name, rg->size);
	if (b->kind == B_SAME) {
		if (!eval(r, &b->same, &src))
			return unset(r);
		if (region_at(r, src, len) < 0)
			return malformed(r,
					 "same_as: %" PRIu64
					 " bytes at %s do not fit in a region",
					 len, b->same.text);
	}

	want = xrealloc(NULL, len);
	for (i = 0; i < len; i++) {
		switch (b->kind) {
		case B_DATA:
			want[i] = b->data[i];
			break;
		case B_FILL:
			want[i] = b->fill;
			break;
		case B_PATTERN:
			want[i] = pattern_byte(off + i);
			break;
		case B_SAME:
			want[i] = ((const uint8_t *)(uintptr_t)src)[i];
			break;
		default:
			break;
		}
	}
	for (i = 0; i < b->nwords; i++) {
		if (!eval(r, &b->words[i], &v)) {
			free(want);
			return unset(r);
		}
		if (!fits(v, (unsigned int)width)) {
			free(want);
			return malformed(r,
					 "0x%" PRIx64
					 " does not fit in %" PRIu64 " bytes",
					 v, width);
		}
		put_field(want,
			  &(struct field){ "", (unsigned int)(i * width),
					   (unsigned int)width },
			  v);
	}

	at = rg->mem + off;
	if (!check) {
		memcpy(at, want, len);
		free(want);
		return R_PASS;
	}
	for (i = 0; i < len; i++) {
		if (at[i] != want[i]) {
			if (bad_at == SIZE_MAX)
				bad_at = i;
			nbad++;
		}
	}
	if (nbad) {
		size_t from = bad_at & ~(size_t)15;
		size_t n = len - from < 32 ? len - from : 32;

		sb_printf(&r->log, " -> differs");
		sb_printf(&r->diag,
			  "#   %zu of %" PRIu64
			  " bytes differ, the first at %s+0x%" PRIx64 "\n",
			  nbad, len, rg->name, off + bad_at);
		hexdump(&r->diag, "got     ", at + from, n);
		hexdump(&r->diag, "expected", want + from, n);
	} else {
		sb_printf(&r->log, " -> same");
	}
	free(want);
	return nbad ? R_FAIL : R_PASS;
}

static const char *req_name(unsigned int id)
{
	if (id == REQ_MOCK)
		return "mock";
	if (id == REQ_DEV_DMA)
		return "dev_dma";
	return cmds[id - REQ_CMD0].name;
}

/*
 * Whether the device offers a requirement, asked without side effects: a
 * command with size 0 is EINVAL when known and ENOTTY when not; the test
 * command on ID 0 is ENOENT when the mock is there. Asked on a file of
 * its own so the script's IDs are not disturbed.
 */
static bool req_met(struct run *r, unsigned int id)
{
	struct iommu_test_cmd tc = { .size = sizeof(tc) };
	uint32_t zero[2] = { 0, 0 };
	int ret, err;

	if (r->req_known[id])
		return r->req_known[id] > 0;
	if (id == REQ_DEV_DMA && !req_met(r, REQ_MOCK)) {
		r->req_known[id] = -1;
		r->req_why[id] = strdup("no IOMMU_TEST_CMD");
		return false;
	}
	if (r->probe_fd < 0)
		r->probe_fd = open(r->dev, O_RDWR | O_CLOEXEC);
	if (r->probe_fd < 0) {
		/* Not a reason to skip: opening the device fails loudly later */
		return true;
	}
	if (id == REQ_MOCK || id == REQ_DEV_DMA) {
		tc.op = id == REQ_MOCK ? IOMMU_TEST_OP_ADD_RESERVED :
					 IOMMUFDD_TEST_OP_DEV_DMA;
		ret = ioctl(r->probe_fd, IOMMU_TEST_CMD, &tc);
		err = ret < 0 ? errno : 0;
	} else {
		ret = ioctl(r->probe_fd, cmds[id - REQ_CMD0].nr, zero);
		err = ret < 0 ? errno : 0;
	}
	if (ret < 0 && (err == ENOTTY || err == EOPNOTSUPP)) {
		char why[160];

		snprintf(why, sizeof(why), "%s answers %s%s with %s", r->dev,
			 id == REQ_MOCK	   ? "IOMMU_TEST_CMD" :
			 id == REQ_DEV_DMA ? "IOMMUFDD_TEST_OP_DEV_DMA" :
					     "IOMMU_",
			 id >= REQ_CMD0 ? cmds[id - REQ_CMD0].name : "",
			 errno_str(err));
		r->req_known[id] = -1;
		r->req_why[id] = strdup(why);
		return false;
	}
	r->req_known[id] = 1;
	return true;
}

/* The first unmet requirement, or -1. */
static int reqs_unmet(struct run *r, const struct reqs *q)
{
	unsigned int i;

	for (i = 0; i < q->n; i++)
		if (!req_met(r, q->id[i]))
			return (int)q->id[i];
	return -1;
}

static void expect_str(struct sbuf *b, const struct step *st)
{
	unsigned int i;

	if (!st->checked)
		return;
	sb_printf(b, " -> ");
	for (i = 0; i < st->nerrnos; i++)
		sb_printf(b, "%s%s", i ? "|" : "", errno_str(st->errnos[i]));
}

/* Mark a skipped step's variables, so steps that use them skip too. */
static void skip_saves(struct run *r, const struct step *st)
{
	unsigned int i;

	for (i = 0; i < st->nsaves; i++)
		if (r->state[st->saves[i].var] != VAR_SET)
			r->state[st->saves[i].var] = VAR_SKIPPED;
}

static enum result map_regions(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		struct region *rg = &r->s->regions[i];
		size_t page = (size_t)r->page_size;
		size_t len = (rg->size + page - 1) & ~(page - 1);
		size_t align = rg->align > page ? (size_t)rg->align : page;
		uint8_t *base, *mem;
		size_t j;
		void *m;

		/*
		 * Reserve room for alignment and the guard page first, then
		 * put the memory itself over the reservation; the guard page
		 * stays PROT_NONE.
		 */
		rg->maplen = len + align + page;
		rg->map = mmap(NULL, rg->maplen, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);
		if (rg->map == MAP_FAILED) {
			rg->map = NULL;
			return malformed(r, "region \"%s\": mmap: %s", rg->name,
					 strerror(errno));
		}
		base = rg->map;
		mem = (uint8_t *)(((uintptr_t)base + align - 1) &
				  ~(uintptr_t)(align - 1));
		if (rg->type == REGION_MEMFD) {
			rg->fd = memfd_create(rg->name, MFD_CLOEXEC);
			if (rg->fd < 0 || ftruncate(rg->fd, (off_t)len))
				return malformed(r, "region \"%s\": memfd: %s",
						 rg->name, strerror(errno));
			m = mmap(mem, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, rg->fd, 0);
		} else {
			m = mmap(mem, len, PROT_READ | PROT_WRITE,
				 (rg->type == REGION_SHARED ? MAP_SHARED :
							      MAP_PRIVATE) |
					 MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0);
		}
		if (m == MAP_FAILED)
			return malformed(r, "region \"%s\": mmap: %s", rg->name,
					 strerror(errno));
		rg->mem = mem;
		/* Fresh memory reads as zero: fill 0 leaves a region sparse. */
		for (j = 0; rg->fill && j < rg->size; j++)
			mem[j] = rg->fill < 0 ? pattern_byte(j) :
						(uint8_t)rg->fill;
		if (rg->readonly && mprotect(mem, len, PROT_READ))
			return malformed(r, "region \"%s\": mprotect: %s",
					 rg->name, strerror(errno));
	}
	return 0;
}

static void unmap_regions(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		struct region *rg = &r->s->regions[i];

		if (rg->map)
			munmap(rg->map, rg->maplen);
		if (rg->fd >= 0)
			close(rg->fd);
		rg->map = NULL;
		rg->mem = NULL;
		rg->fd = -1;
	}
}

static void report_malformed(struct run *r, const char *path, const char *what)
{
	fprintf(stderr, "%s: malformed: %s\n", path, what);
	fprintf(r->out, "# malformed: %s\n", what);
	tap_result(r->tap, false, NULL, "malformed script: %s", what);
}

static enum result run_step(struct run *r, struct step *st)
{
	int fd;

	switch (st->kind) {
	case STEP_IOCTL:
		return run_ioctl(r, st);
	case STEP_WRITE:
	case STEP_CHECK:
		return run_bytes(r, st);
	case STEP_OPEN:
		sb_printf(&r->log, "%s", st->label);
		fd = open(r->dev, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			sb_printf(&r->log, " -> %s", errno_str(errno));
			sb_printf(&r->diag, "#   cannot open %s: %s\n", r->dev,
				  strerror(errno));
			return R_ABORT;
		}
		r->fds[st->fd] = fd;
		sb_printf(&r->log, " -> fd %d", fd);
		return R_PASS;
	case STEP_CLOSE:
		sb_printf(&r->log, "%s", st->label);
		fd = r->fds[st->fd];
		r->fds[st->fd] = -1;
		if (close(fd)) {
			sb_printf(&r->log, " -> %s", errno_str(errno));
			return R_ABORT;
		}
		sb_printf(&r->log, " -> ok");
		return R_PASS;
	}
	return R_MALFORMED;
}

/* Run a compiled script; results go to tap. PASSED, FAILED or MALFORMED. */
static int run_script(struct script *s, const char *dev, struct tap *tap)
{
	unsigned int nreq = REQ_CMD0 + ARRAY_SIZE(cmds), i, failed0;
	struct run r = {
		.s = s,
		.dev = dev,
		.tap = tap,
		.out = tap->out,
		.probe_fd = -1,
	};
	int rc = IOMMUFD_SCRIPT_PASSED, unmet;

	failed0 = tap->failed;
	r.page_size = sysconf(_SC_PAGESIZE);
	r.fds = xrealloc(NULL, s->fds.n * sizeof(*r.fds));
	for (i = 0; i < s->fds.n; i++)
		r.fds[i] = -1;
	r.vals = xrealloc(NULL, (s->vars.n + 1) * sizeof(*r.vals));
	r.state = xrealloc(NULL, (s->vars.n + 1) * sizeof(*r.state));
	for (i = 0; i < s->vars.n; i++)
		r.state[i] = VAR_UNSET;
	r.req_known = xrealloc(NULL, nreq);
	memset(r.req_known, 0, nreq);
	r.req_why = xrealloc(NULL, nreq * sizeof(*r.req_why));
	memset(r.req_why, 0, nreq * sizeof(*r.req_why));
	for (i = 0; i < s->nregions; i++)
		s->regions[i].fd = -1;

	if (s->description)
		fprintf(tap->out, "# %s: %s\n", s->path, s->description);
	else
		fprintf(tap->out, "# %s\n", s->path);

	unmet = reqs_unmet(&r, &s->reqs);
	if (unmet >= 0) {
		char why[256];

		snprintf(why, sizeof(why), "requires %s: %s", req_name(unmet),
			 r.req_why[unmet]);
		if (tap->prefix) {
			tap_result(tap, true, why, "whole script");
		} else {
			fprintf(tap->out, "1..0 # SKIP %s\n", why);
			tap->planned = true;
		}
		goto out;
	}

	r.fds[0] = open(dev, O_RDWR | O_CLOEXEC);
	if (r.fds[0] < 0) {
		tap_result(tap, false, NULL, "cannot open %s: %s", dev,
			   strerror(errno));
		rc = IOMMUFD_SCRIPT_FAILED;
		goto out;
	}
	if (map_regions(&r)) {
		report_malformed(&r, s->path, r.why);
		rc = IOMMUFD_SCRIPT_MALFORMED;
		goto out;
	}

	for (i = 0; i < s->nsteps; i++) {
		struct step *st = &s->steps[i];
		bool tapped = st->checked || st->kind == STEP_CHECK;
		struct sbuf desc = { 0 };
		enum result res;

		sb_reset(&r.log);
		sb_reset(&r.diag);
		sb_printf(&desc, "step %u %s", st->index, st->label);
		if (st->kind == STEP_IOCTL)
			expect_str(&desc, st);
		if (st->name)
			sb_printf(&desc, ": %s", st->name);

		unmet = reqs_unmet(&r, &st->reqs);
		if (unmet >= 0) {
			snprintf(r.why, sizeof(r.why), "requires %s: %s",
				 req_name(unmet), r.req_why[unmet]);
			res = R_SKIP;
		} else {
			res = run_step(&r, st);
		}

		switch (res) {
		case R_PASS:
		case R_FAIL:
			fprintf(tap->out, "# step %u: %s\n", st->index,
				r.log.p ? r.log.p : "");
			if (tapped || res == R_FAIL)
				tap_result(tap, res == R_PASS, NULL, "%s",
					   desc.p);
			if (r.diag.len)
				fputs(r.diag.p, tap->out);
			break;
		case R_SKIP:
			fprintf(tap->out, "# step %u: %s skipped: %s\n",
				st->index, st->label, r.why);
			skip_saves(&r, st);
			if (tapped)
				tap_result(tap, true, r.why, "%s", desc.p);
			break;
		case R_ABORT:
			if (r.unset_var) {
				/* the step that failed was reported already */
				fprintf(tap->out, "# step %u: %s not run: %s\n",
					st->index, st->label, r.why);
				break;
			}
			fprintf(tap->out, "# step %u: %s\n", st->index,
				r.log.p ? r.log.p : st->label);
			tap_result(tap, false, NULL, "%s", desc.p);
			if (r.diag.len)
				fputs(r.diag.p, tap->out);
			break;
		case R_MALFORMED: {
			char what[700];

			snprintf(what, sizeof(what), "step %u (%s): %s",
				 st->index, st->label, r.why);
			report_malformed(&r, s->path, what);
			rc = IOMMUFD_SCRIPT_MALFORMED;
			break;
		}
		}
		fflush(tap->out);
		free(desc.p);
		r.unset_var = NULL;
		if (res == R_ABORT || res == R_MALFORMED) {
			if (res == R_ABORT && i + 1 < s->nsteps)
				fprintf(tap->out,
					"# the remaining %u step%s not run\n",
					s->nsteps - i - 1,
					s->nsteps - i - 1 == 1 ? " is" :
								 "s are");
			break;
		}
	}

out:
	for (i = 0; i < s->fds.n; i++)
		if (r.fds[i] >= 0)
			close(r.fds[i]);
	if (r.probe_fd >= 0)
		close(r.probe_fd);
	unmap_regions(&r);
	for (i = 0; i < nreq; i++)
		free(r.req_why[i]);
	free(r.req_why);
	free(r.req_known);
	free(r.fds);
	free(r.vals);
	free(r.state);
	free(r.log.p);
	free(r.diag.p);
	if (rc == IOMMUFD_SCRIPT_PASSED && tap->failed != failed0)
		rc = IOMMUFD_SCRIPT_FAILED;
	return rc;
}

static const char *base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p ? p + 1 : path;
}

/* Load, compile and run one script into tap. */
static int run_one(const char *path, const char *dev, struct tap *tap)
{
	struct script s;
	int rc;

	if (script_load(&s, path)) {
		fprintf(stderr, "%s: malformed: %s\n", path, s.err);
		fprintf(tap->out, "# %s: malformed: %s\n", path, s.err);
		tap_result(tap, false, NULL, "malformed script: %s", s.err);
		script_free(&s);
		return IOMMUFD_SCRIPT_MALFORMED;
	}
	rc = run_script(&s, dev, tap);
	script_free(&s);
	return rc;
}

int iommufd_script_run(const char *script_path, const char *dev_path, FILE *out)
{
	struct tap tap = { .out = out };
	int rc;

	if (!dev_path)
		dev_path = "/dev/iommu";
	fprintf(out, "TAP version 13\n");
	rc = run_one(script_path, dev_path, &tap);
	if (!tap.planned)
		fprintf(out, "1..%u\n", tap.n);
	fflush(out);
	return rc;
}

static int json_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".json");
}

int iommufd_script_run_dir(const char *dir, const char *dev_path, FILE *out)
{
	struct tap tap = { .out = out };
	struct dirent **list;
	int n, i, rc = IOMMUFD_SCRIPT_PASSED;

	if (!dev_path)
		dev_path = "/dev/iommu";
	fprintf(out, "TAP version 13\n");
	n = scandir(dir, &list, json_file, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		tap_result(&tap, false, NULL, "cannot read %s: %s", dir,
			   strerror(errno));
		fprintf(out, "1..%u\n", tap.n);
		return IOMMUFD_SCRIPT_MALFORMED;
	}
	if (!n)
		tap_result(&tap, false, NULL, "no *.json in %s", dir);
	for (i = 0; i < n; i++) {
		char *path;
		int one;

		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0)
			abort();
		tap.prefix = base_name(path);
		one = run_one(path, dev_path, &tap);
		if (one > rc)
			rc = one;
		tap.prefix = NULL;
		free(path);
		free(list[i]);
	}
	free(list);
	fprintf(out, "1..%u\n", tap.n);
	fflush(out);
	if (rc == IOMMUFD_SCRIPT_PASSED && tap.failed)
		rc = IOMMUFD_SCRIPT_FAILED;
	return rc;
}

int iommufd_script_check(const char *script_path, FILE *err)
{
	struct script s;
	int rc = IOMMUFD_SCRIPT_PASSED;

	if (script_load(&s, script_path)) {
		fprintf(err, "%s: malformed: %s\n", script_path, s.err);
		rc = IOMMUFD_SCRIPT_MALFORMED;
	}
	script_free(&s);
	return rc;
}
