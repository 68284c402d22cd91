// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's uAPI tables (tools/script_tables.c): every
 * command a script can name must describe its struct as the headers do,
 * since a wrong offset here would make every script test the wrong field;
 * and names must resolve as iommufd-script(5) says (the kernel's spellings
 * too).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/vfio_compat.h>

#include "script_private.h"

static const struct field *field_of(const struct cmd *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nfields; i++)
		if (!strcmp(c->fields[i].name, name))
			return &c->fields[i];
	return NULL;
}

static void test_find_cmd_spellings(void **state)
{
	const struct cmd *c = script_find_cmd("IOAS_MAP");

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nr, IOMMU_IOAS_MAP);
	assert_int_equal(c->kind, CMD_IOMMUFD);
	assert_ptr_equal(script_find_cmd("IOMMU_IOAS_MAP"), c);
	assert_ptr_equal(script_find_cmd("TEST.MD_CHECK_MAP"),
			 script_find_cmd("TEST.CHECK_MAP"));
	assert_int_equal(script_find_cmd("TEST.CHECK_MAP")->op,
			 IOMMU_TEST_OP_MD_CHECK_MAP);
	assert_false(script_find_cmd("TEST")->has_op);
	assert_int_equal(script_find_cmd("VFIO_CHECK_EXTENSION")->kind,
			 CMD_VALUE);
	assert_null(script_find_cmd("IOAS_MAPP"));
	assert_null(script_find_cmd(""));
}

/* Every field lies inside its struct, with a C width; names are unique. */
static void test_fields_fit_their_structs(void **state)
{
	unsigned int i, j, k;

	(void)state;
	assert_true(script_ncmds > 40);
	for (i = 0; i < script_ncmds; i++) {
		const struct cmd *c = &script_cmds[i];

		if (c->kind == CMD_VALUE) {
			assert_int_equal(c->nfields, 0);
			continue;
		}
		assert_non_null(field_of(c, c->size_field));
		for (j = 0; j < c->nfields; j++) {
			const struct field *f = &c->fields[j];

			assert_true(f->size == 1 || f->size == 2 ||
				    f->size == 4 || f->size == 8);
			assert_true(f->offset + f->size <= c->size);
			for (k = j + 1; k < c->nfields; k++)
				assert_string_not_equal(f->name,
							c->fields[k].name);
		}
	}
}

/* Spot checks against the headers, including our DEV_DMA payload. */
static void test_layouts_match_headers(void **state)
{
	const struct cmd *map = script_find_cmd("IOAS_MAP");
	const struct cmd *dma = script_find_cmd("TEST.DEV_DMA");
	const struct cmd *vmap = script_find_cmd("VFIO_IOMMU_MAP_DMA");
	const struct field *f;

	(void)state;
	assert_int_equal(map->size, sizeof(struct iommu_ioas_map));
	f = field_of(map, "iova");
	assert_int_equal(f->offset, offsetof(struct iommu_ioas_map, iova));
	assert_int_equal(f->size, 8);
	f = field_of(map, "ioas_id");
	assert_int_equal(f->offset, offsetof(struct iommu_ioas_map, ioas_id));
	assert_int_equal(f->size, 4);
	f = field_of(dma, "dev_dma.iova");
	assert_non_null(f);
	assert_true(f->offset >= offsetof(struct iommu_test_cmd, add_reserved));
	assert_string_equal(vmap->size_field, "argsz");
	assert_int_equal(vmap->nr, VFIO_IOMMU_MAP_DMA);
	assert_int_equal(script_nraw_fields, 1);
	assert_string_equal(script_raw_fields[0].name, "size");
}

static void test_constants(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_true(script_find_constant("PAGE_SIZE", &v));
	assert_int_equal(v, 4096);
	assert_true(script_find_constant("IOMMU_IOAS_MAP_FIXED_IOVA", &v));
	assert_int_equal(v, IOMMU_IOAS_MAP_FIXED_IOVA);
	assert_true(script_find_constant("U64_MAX", &v));
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_false(script_find_constant("PAGE_SIZ", &v));
	assert_int_equal(v, 7);
}

static void test_errnos(void **state)
{
	int e = -1;

	(void)state;
	assert_true(script_find_errno("EINVAL", &e));
	assert_int_equal(e, EINVAL);
	assert_true(script_find_errno("ok", &e));
	assert_int_equal(e, 0);
	assert_false(script_find_errno("EWHATEVER", &e));
	assert_string_equal(script_errno_str(0), "ok");
	assert_string_equal(script_errno_str(ENOTTY), "ENOTTY");
	assert_string_equal(script_errno_str(4000), "errno 4000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_cmd_spellings),
		cmocka_unit_test(test_fields_fit_their_structs),
		cmocka_unit_test(test_layouts_match_headers),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_errnos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
