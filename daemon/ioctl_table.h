/* SPDX-License-Identifier: MIT */
/*
 * Every ioctl /dev/iommu answers, described once.
 *
 * One row per command says how its argument is laid out, which handler
 * runs it, which user buffers it touches besides its struct (the CUSE
 * retry planner must fetch them, ioctl_regions.h), whether it returns a
 * file descriptor and where, and the first kernel that had it. Everything
 * that used to restate these facts reads them from here: the dispatcher
 * (dispatch.c, ioctl_table.c), the retry planner, the supervisor that
 * hands out fds (launcher.c), iommufd-run's seccomp filter and the names
 * iommufdctl prints.
 *
 * The rows are a list macro, so a program that cannot link the daemon's
 * handlers (iommufd-run) expands only the columns it needs:
 *
 *   IOCTL(cmd, layout, handler, buffers, fd, since)
 *
 *   cmd      the ioctl number; its name is the row's name
 *   layout   IOCTL_SIZED(struct, last): iommufd's u32 size first; sizes
 *              below offsetofend(last) are EINVAL, bytes past the struct
 *              must be zero (E2BIG), a short struct is zero-extended
 *            IOCTL_ARGSZ(struct, last): VFIO's u32 argsz first; the
 *              handler reads up to @last whatever argsz says
 *            IOCTL_FIXED(struct), IOCTL_FIXED_OUT(struct): VFIO, a struct
 *              the handler reads (and writes back) whole
 *            IOCTL_VALUE: the argument is a number, not a pointer
 *   handler  int handler(struct iommufd_ucmd *): 0, a result, or -errno
 *   buffers  the planner of the user buffers the handler touches, or NULL
 *   fd       IOCTL_NO_FD; IOCTL_FD_AT(struct, field): a new fd is written
 *            to @field; IOCTL_FD_BY_TEST_OP: the test op's row says
 *   since    the first ABI level (abi.h) that has the command
 *
 * IOMMU_TEST_CMD's ops have rows of their own, without the layout:
 *
 *   TEST_OP(op, handler, buffers, fd, since)
 *
 * with fd also IOCTL_FD_RETURNED: the new fd is the ioctl's return value.
 */
#ifndef IOMMUFDD_IOCTL_TABLE_H
#define IOMMUFDD_IOCTL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

/*
 * The kernel levels the daemon can answer as (--kernel-abi, abi.h); a row
 * newer than the level in force does not exist for the caller.
 */
enum iommufd_abi_level {
	ABI_6_12, /* Debian's linux-source-6.12 */
	ABI_7_2, /* Debian's linux-source-7.2, the newest */
};

/* Room for the largest struct the dispatcher and the planner copy. */
#define IOCTL_STRUCT_MAX 128

#define IOCTL_NO_FD (-1)
#define IOCTL_FD_BY_TEST_OP (-2)
#define IOCTL_FD_RETURNED (-3)
#define IOCTL_FD_AT(type, field) ((int)offsetof(struct type, field))

/* clang-format off */
#define IOMMUFD_IOCTLS(IOCTL)						    \
	IOCTL(IOMMU_DESTROY, IOCTL_SIZED(iommu_destroy, id),		    \
	      iommufd_destroy, NULL, IOCTL_NO_FD, ABI_6_12)		    \
	IOCTL(IOMMU_IOAS_ALLOC, IOCTL_SIZED(iommu_ioas_alloc, out_ioas_id), \
	      iommufd_ioas_alloc_ioctl, NULL, IOCTL_NO_FD,		    \
	      ABI_6_12)							    \
	IOCTL(IOMMU_IOAS_ALLOW_IOVAS,					    \
	      IOCTL_SIZED(iommu_ioas_allow_iovas, allowed_iovas),	    \
	      iommufd_ioas_allow_iovas, ioctl_buffers_allow_iovas,	    \
	      IOCTL_NO_FD, ABI_6_12)					    \
	IOCTL(IOMMU_IOAS_COPY, IOCTL_SIZED(iommu_ioas_copy, src_iova),	    \
	      iommufd_ioas_copy, NULL, IOCTL_NO_FD, ABI_6_12)		    \
	IOCTL(IOMMU_IOAS_IOVA_RANGES,					    \
	      IOCTL_SIZED(iommu_ioas_iova_ranges, out_iova_alignment),	    \
	      iommufd_ioas_iova_ranges, ioctl_buffers_iova_ranges,	    \
	      IOCTL_NO_FD, ABI_6_12)					    \
	IOCTL(IOMMU_IOAS_MAP, IOCTL_SIZED(iommu_ioas_map, iova),	    \
	      iommufd_ioas_map, NULL, IOCTL_NO_FD, ABI_6_12)		    \
	IOCTL(IOMMU_IOAS_UNMAP, IOCTL_SIZED(iommu_ioas_unmap, length),	    \
	      iommufd_ioas_unmap, NULL, IOCTL_NO_FD, ABI_6_12)		    \
	IOCTL(IOMMU_OPTION, IOCTL_SIZED(iommu_option, val64),		    \
	      iommufd_option, NULL, IOCTL_NO_FD, ABI_6_12)		    \
	IOCTL(IOMMU_VFIO_IOAS, IOCTL_SIZED(iommu_vfio_ioas, __reserved),    \
	      iommufd_vfio_ioas, NULL, IOCTL_NO_FD, ABI_6_12)		    \
	IOCTL(IOMMU_HWPT_ALLOC, IOCTL_SIZED(iommu_hwpt_alloc, __reserved),  \
	      iommufd_hwpt_alloc, ioctl_buffers_hwpt_alloc, IOCTL_NO_FD,    \
	      ABI_6_12)							    \
	IOCTL(IOMMU_GET_HW_INFO, IOCTL_SIZED(iommu_hw_info, __reserved),    \
	      iommufd_get_hw_info, ioctl_buffers_get_hw_info, IOCTL_NO_FD,  \
	      ABI_6_12)							    \
	IOCTL(IOMMU_HWPT_SET_DIRTY_TRACKING,				    \
	      IOCTL_SIZED(iommu_hwpt_set_dirty_tracking, __reserved),	    \
	      iommufd_hwpt_set_dirty_tracking, NULL, IOCTL_NO_FD,	    \
	      ABI_6_12)							    \
	IOCTL(IOMMU_HWPT_GET_DIRTY_BITMAP,				    \
	      IOCTL_SIZED(iommu_hwpt_get_dirty_bitmap, data),		    \
	      iommufd_hwpt_get_dirty_bitmap,				    \
	      ioctl_buffers_get_dirty_bitmap, IOCTL_NO_FD,		    \
	      ABI_6_12)							    \
	IOCTL(IOMMU_HWPT_INVALIDATE,					    \
	      IOCTL_SIZED(iommu_hwpt_invalidate, __reserved),		    \
	      iommufd_hwpt_invalidate, ioctl_buffers_hwpt_invalidate,	    \
	      IOCTL_NO_FD, ABI_6_12)					    \
	IOCTL(IOMMU_FAULT_QUEUE_ALLOC,					    \
	      IOCTL_SIZED(iommu_fault_alloc, out_fault_fd),		    \
	      iommufd_fault_alloc, NULL,				    \
	      IOCTL_FD_AT(iommu_fault_alloc, out_fault_fd),		    \
	      ABI_6_12)							    \
	IOCTL(IOMMU_IOAS_MAP_FILE, IOCTL_SIZED(iommu_ioas_map_file, iova),  \
	      iommufd_ioas_map_file, NULL, IOCTL_NO_FD, ABI_7_2) /* 6.13 */ \
	IOCTL(IOMMU_VIOMMU_ALLOC,					    \
	      IOCTL_SIZED(iommu_viommu_alloc, out_viommu_id),		    \
	      iommufd_viommu_alloc_ioctl, ioctl_buffers_viommu_alloc,	    \
	      IOCTL_NO_FD, ABI_7_2)					    \
	IOCTL(IOMMU_VDEVICE_ALLOC, IOCTL_SIZED(iommu_vdevice_alloc, virt_id), \
	      iommufd_vdevice_alloc_ioctl, NULL, IOCTL_NO_FD, ABI_7_2)	    \
	IOCTL(IOMMU_IOAS_CHANGE_PROCESS,				    \
	      IOCTL_SIZED(iommu_ioas_change_process, __reserved),	    \
	      iommufd_ioas_change_process, NULL, IOCTL_NO_FD,		    \
	      ABI_7_2) /* 6.14 */					    \
	IOCTL(IOMMU_VEVENTQ_ALLOC,					    \
	      IOCTL_SIZED(iommu_veventq_alloc, out_veventq_fd),		    \
	      iommufd_veventq_alloc, NULL,				    \
	      IOCTL_FD_AT(iommu_veventq_alloc, out_veventq_fd), ABI_7_2)    \
	IOCTL(IOMMU_HW_QUEUE_ALLOC, IOCTL_SIZED(iommu_hw_queue_alloc, length), \
	      iommufd_hw_queue_alloc_ioctl, NULL, IOCTL_NO_FD, ABI_7_2)	    \
	IOCTL(IOMMU_TEST_CMD, IOCTL_SIZED(iommu_test_cmd, last),	    \
	      iommufd_test, ioctl_buffers_test_cmd, IOCTL_FD_BY_TEST_OP,    \
	      ABI_6_12)							    \
	IOCTL(IOMMUFDD_VFIO_DEVICE_BIND,				    \
	      IOCTL_SIZED(iommufdd_vfio_device_bind, __reserved),	    \
	      iommufd_vfio_device_bind, ioctl_buffers_vfio_device_bind,	    \
	      IOCTL_NO_FD, ABI_6_12)					    \
	IOCTL(IOMMUFDD_DEVICE_ATTACH,					    \
	      IOCTL_SIZED(iommufdd_device_attach, pt_id),		    \
	      iommufd_device_attach_ioctl, NULL, IOCTL_NO_FD, ABI_6_12)	    \
	IOCTL(IOMMUFDD_DEVICE_DETACH,					    \
	      IOCTL_SIZED(iommufdd_device_detach, __reserved),		    \
	      iommufd_device_detach_ioctl, NULL, IOCTL_NO_FD, ABI_6_12)	    \
	IOCTL(IOMMUFDD_IOAS_BATCH,					    \
	      IOCTL_SIZED(iommufdd_ioas_batch, __reserved2),		    \
	      iommufd_ioas_batch, ioctl_buffers_ioas_batch, IOCTL_NO_FD,    \
	      ABI_6_12)							    \
	IOCTL(IOMMUFDD_MMAP_REGION,					    \
	      IOCTL_SIZED(iommufdd_mmap_region, __reserved),		    \
	      iommufd_mmap_region_ioctl, NULL,				    \
	      IOCTL_FD_AT(iommufdd_mmap_region, out_fd), ABI_6_12)	    \
	IOCTL(VFIO_GET_API_VERSION, IOCTL_VALUE, iommufd_vfio_api_version,  \
	      NULL, IOCTL_NO_FD, ABI_6_12)				    \
	IOCTL(VFIO_CHECK_EXTENSION, IOCTL_VALUE,			    \
	      iommufd_vfio_check_extension, NULL, IOCTL_NO_FD,		    \
	      ABI_6_12)							    \
	IOCTL(VFIO_SET_IOMMU, IOCTL_VALUE, iommufd_vfio_set_iommu, NULL,    \
	      IOCTL_NO_FD, ABI_6_12)					    \
	IOCTL(VFIO_IOMMU_GET_INFO,					    \
	      IOCTL_ARGSZ(vfio_iommu_type1_info, iova_pgsizes),		    \
	      iommufd_vfio_get_info, NULL, IOCTL_NO_FD, ABI_6_12)	    \
	IOCTL(VFIO_IOMMU_MAP_DMA, IOCTL_FIXED(vfio_iommu_type1_dma_map),    \
	      iommufd_vfio_map_dma, NULL, IOCTL_NO_FD, ABI_6_12)	    \
	IOCTL(VFIO_IOMMU_UNMAP_DMA,					    \
	      IOCTL_FIXED_OUT(vfio_iommu_type1_dma_unmap),		    \
	      iommufd_vfio_unmap_dma, NULL, IOCTL_NO_FD, ABI_6_12)

#define IOMMUFD_TEST_OPS(TEST_OP)					    \
	TEST_OP(IOMMU_TEST_OP_ADD_RESERVED, selftest_add_reserved, NULL,    \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_MOCK_DOMAIN, selftest_mock_domain, NULL,	    \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_MD_CHECK_MAP, selftest_md_check_map, NULL,    \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_MD_CHECK_REFS, selftest_md_check_refs, NULL,  \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_CREATE_ACCESS, selftest_create_access, NULL,  \
		IOCTL_FD_AT(iommu_test_cmd, create_access.out_access_fd),   \
		ABI_6_12)						    \
	TEST_OP(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,			    \
		selftest_destroy_access_pages, NULL, IOCTL_NO_FD,	    \
		ABI_6_12)						    \
	TEST_OP(IOMMU_TEST_OP_ACCESS_PAGES, selftest_access_pages, NULL,    \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_ACCESS_RW, selftest_access_rw,		    \
		ioctl_buffers_test_access_rw, IOCTL_NO_FD,		    \
		ABI_6_12)						    \
	TEST_OP(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,			    \
		selftest_set_temp_memory_limit, NULL, IOCTL_NO_FD,	    \
		ABI_6_12)						    \
	TEST_OP(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, selftest_mock_domain_replace, \
		NULL, IOCTL_NO_FD, ABI_6_12)				    \
	TEST_OP(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, selftest_access_replace_ioas, \
		NULL, IOCTL_NO_FD, ABI_6_12)				    \
	TEST_OP(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, selftest_mock_domain_flags, \
		NULL, IOCTL_NO_FD, ABI_6_12)				    \
	TEST_OP(IOMMU_TEST_OP_DIRTY, selftest_dirty, ioctl_buffers_test_dirty, \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_MD_CHECK_IOTLB, selftest_md_check_iotlb, NULL, \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_TRIGGER_IOPF, selftest_trigger_iopf, NULL,    \
		IOCTL_NO_FD, ABI_6_12)					    \
	TEST_OP(IOMMU_TEST_OP_DEV_CHECK_CACHE, selftest_dev_check_cache,    \
		NULL, IOCTL_NO_FD, ABI_7_2)				    \
	TEST_OP(IOMMU_TEST_OP_TRIGGER_VEVENT, selftest_trigger_vevent,	    \
		NULL, IOCTL_NO_FD, ABI_7_2)				    \
	TEST_OP(IOMMU_TEST_OP_PASID_ATTACH, selftest_pasid_attach, NULL,    \
		IOCTL_NO_FD, ABI_7_2)					    \
	TEST_OP(IOMMU_TEST_OP_PASID_REPLACE, selftest_pasid_replace, NULL,  \
		IOCTL_NO_FD, ABI_7_2)					    \
	TEST_OP(IOMMU_TEST_OP_PASID_DETACH, selftest_pasid_detach, NULL,    \
		IOCTL_NO_FD, ABI_7_2)					    \
	TEST_OP(IOMMU_TEST_OP_PASID_CHECK_HWPT, selftest_pasid_check_hwpt,  \
		NULL, IOCTL_NO_FD, ABI_7_2)				    \
	TEST_OP(IOMMUFDD_TEST_OP_DEV_DMA, selftest_dev_dma,		    \
		ioctl_buffers_test_dev_dma, IOCTL_NO_FD, ABI_6_12)	    \
	TEST_OP(IOMMUFDD_TEST_OP_FAIL_NTH, iommufd_test_fail_nth, NULL,	    \
		IOCTL_NO_FD, ABI_6_12)
/* clang-format on */

struct iommufd_ucmd;
struct iommu_test_cmd;
struct ioctl_plan_state;

/* Name the user buffers a command's handler touches (ioctl_regions.h). */
typedef void (*ioctl_buffers_fn)(struct ioctl_plan_state *s, const void *k);

enum ioctl_arg {
	IOCTL_ARG_SIZED,
	IOCTL_ARG_ARGSZ,
	IOCTL_ARG_FIXED,
	IOCTL_ARG_FIXED_OUT,
	IOCTL_ARG_VALUE,
};

struct iommufd_ioctl {
	unsigned int cmd; /* 0: no command has this number */
	const char *name;
	enum ioctl_arg arg;
	uint32_t size; /* the struct as the daemon knows it */
	uint32_t min_size; /* SIZED: the least size; ARGSZ: always read */
	int (*execute)(struct iommufd_ucmd *ucmd);
	ioctl_buffers_fn buffers;
	int fd; /* IOCTL_NO_FD, IOCTL_FD_BY_TEST_OP or an offset */
	enum iommufd_abi_level since;
};

struct iommufd_test_op {
	uint32_t op;
	const char *name;
	int (*execute)(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd);
	ioctl_buffers_fn buffers;
	int fd; /* IOCTL_NO_FD, IOCTL_FD_RETURNED or an offset */
	enum iommufd_abi_level since;
};

/* The row of @cmd, or NULL when the daemon knows no such command. */
const struct iommufd_ioctl *iommufd_ioctl_find(unsigned int cmd);
/* The row whose number has _IOC_NR @nr, for statistics; NULL if none. */
const struct iommufd_ioctl *iommufd_ioctl_by_nr(unsigned int nr);
const struct iommufd_test_op *iommufd_test_op_find(uint32_t op);

#endif
