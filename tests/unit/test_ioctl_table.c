// SPDX-License-Identifier: MIT
/*
 * The ioctl table (daemon/ioctl_table.h): every row is found by its own
 * number and no row hides another, the layouts agree with the structs, and
 * the fd column says what the launcher and iommufd-run route.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "iommufd_private.h"
#include "ioctl_table.h"

#define COUNT_ROW(...) +1
static const unsigned int nr_rows = 0 IOMMUFD_IOCTLS(COUNT_ROW);
static const unsigned int nr_test_rows = 0 IOMMUFD_TEST_OPS(COUNT_ROW);

static void test_rows_are_distinct(void **state)
{
	unsigned int found = 0;

	(void)state;
	/* Two rows on one _IOC_NR would leave one of them unreachable. */
	for (unsigned int nr = 0; nr < 256; nr++) {
		const struct iommufd_ioctl *row = iommufd_ioctl_by_nr(nr);

		if (!row)
			continue;
		found++;
		assert_int_equal(_IOC_NR(row->cmd), nr);
		assert_ptr_equal(iommufd_ioctl_find(row->cmd), row);
		assert_non_null(row->name);
		assert_non_null(row->execute);
	}
	assert_int_equal(found, nr_rows);

	found = 0;
	for (uint32_t op = 0; op < 0x20000; op++)
		found += iommufd_test_op_find(op) != NULL;
	assert_int_equal(found, nr_test_rows);
}

static void test_lookup(void **state)
{
	const struct iommufd_ioctl *row = iommufd_ioctl_find(IOMMU_IOAS_MAP);

	(void)state;
	assert_non_null(row);
	assert_string_equal(row->name, "IOMMU_IOAS_MAP");
	assert_int_equal(row->arg, IOCTL_ARG_SIZED);
	assert_int_equal(row->size, sizeof(struct iommu_ioas_map));
	assert_int_equal(row->min_size, sizeof(struct iommu_ioas_map));
	assert_string_equal(iommufd_ioctl_name(_IOC_NR(IOMMU_DESTROY)),
			    "IOMMU_DESTROY");
	assert_string_equal(iommufd_ioctl_name(_IOC_NR(VFIO_IOMMU_MAP_DMA)),
			    "VFIO_IOMMU_MAP_DMA");
	/* The right number with another type or direction is not the row. */
	assert_null(iommufd_ioctl_find(_IO('T', _IOC_NR(IOMMU_IOAS_MAP))));
	assert_null(iommufd_ioctl_find(
		_IOWR(IOMMUFD_TYPE, _IOC_NR(IOMMU_IOAS_MAP), int)));
	assert_null(iommufd_ioctl_find(_IO(IOMMUFD_TYPE, 0x9f)));
	assert_null(iommufd_ioctl_name(0x9f));
	assert_null(iommufd_test_op_find(0));
	assert_string_equal(iommufd_test_op_find(IOMMU_TEST_OP_DIRTY)->name,
			    "IOMMU_TEST_OP_DIRTY");
}

static void test_layouts(void **state)
{
	(void)state;
	for (unsigned int nr = 0; nr < 256; nr++) {
		const struct iommufd_ioctl *row = iommufd_ioctl_by_nr(nr);

		if (!row)
			continue;
		assert_true(row->size <= IOCTL_STRUCT_MAX);
		if (row->arg == IOCTL_ARG_SIZED) {
			/* The size word is part of every minimum. */
			assert_true(row->min_size >= sizeof(uint32_t));
			assert_true(row->min_size <= row->size);
			assert_int_equal(_IOC_TYPE(row->cmd), IOMMUFD_TYPE);
		}
	}
}

/*
 * Exactly the commands the kernel returns an fd from, and where, and our
 * IOMMUFDD_MMAP_REGION (the mmap shim's descriptor of a region).
 */
static void test_fd_column(void **state)
{
	unsigned int n = 0;

	(void)state;
	for (unsigned int nr = 0; nr < 256; nr++) {
		const struct iommufd_ioctl *row = iommufd_ioctl_by_nr(nr);

		if (row && row->fd != IOCTL_NO_FD)
			n++;
	}
	assert_int_equal(iommufd_ioctl_find(IOMMU_FAULT_QUEUE_ALLOC)->fd,
			 offsetof(struct iommu_fault_alloc, out_fault_fd));
	assert_int_equal(iommufd_ioctl_find(IOMMU_TEST_CMD)->fd,
			 IOCTL_FD_BY_TEST_OP);
	assert_int_equal(iommufd_ioctl_find(IOMMU_IOAS_MAP)->fd, IOCTL_NO_FD);
	assert_int_equal(iommufd_test_op_find(IOMMU_TEST_OP_CREATE_ACCESS)->fd,
			 offsetof(struct iommu_test_cmd,
				  create_access.out_access_fd));
	assert_int_equal(iommufd_test_op_find(IOMMU_TEST_OP_DIRTY)->fd,
			 IOCTL_NO_FD);
	assert_int_equal(iommufd_ioctl_find(IOMMU_VEVENTQ_ALLOC)->fd,
			 offsetof(struct iommu_veventq_alloc, out_veventq_fd));
	assert_int_equal(iommufd_ioctl_find(IOMMUFDD_MMAP_REGION)->fd,
			 offsetof(struct iommufdd_mmap_region, out_fd));
	assert_int_equal(n, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_distinct),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_fd_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
