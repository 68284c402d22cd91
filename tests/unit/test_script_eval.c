// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's run-time values (tools/script_eval.c): fields
 * go into and come out of an argument buffer in the ABI's byte order and
 * width, a variable that is not set stops (or skips) the step that needs
 * it, comparisons hold exactly when iommufd-script(5) says, and the log
 * shows values the way the script wrote them.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "script_private.h"

static void test_fields_in_buffer(void **state)
{
	uint8_t buf[16] = { 0 };
	struct field f2 = { "a", 2, 2 }, f8 = { "b", 8, 8 }, f1 = { "c", 1, 1 };

	(void)state;
	script_put_field(buf, &f2, 0x12345678);
	assert_int_equal(buf[2], 0x78);
	assert_int_equal(buf[3], 0x56);
	assert_int_equal(buf[4], 0);
	assert_int_equal(script_get_field(buf, &f2), 0x5678);
	script_put_field(buf, &f8, 0x0102030405060708ULL);
	assert_int_equal(buf[8], 0x08);
	assert_true(script_get_field(buf, &f8) == 0x0102030405060708ULL);
	script_put_field(buf, &f1, 0x1ff);
	assert_int_equal(script_get_field(buf, &f1), 0xff);
	assert_int_equal(buf[0], 0);
	assert_true(script_field_mask(4) == 0xffffffffULL);
	assert_true(script_field_mask(8) == UINT64_MAX);
}

static void test_fits(void **state)
{
	(void)state;
	assert_true(script_fits(0xff, 1));
	assert_false(script_fits(0x100, 1));
	/* negative values fit as signed */
	assert_true(script_fits((uint64_t)-1, 1));
	assert_true(script_fits((uint64_t)-128, 1));
	assert_false(script_fits((uint64_t)-129, 1));
	assert_true(script_fits(0xffffffffULL, 4));
	assert_false(script_fits(0x100000000ULL, 4));
	assert_true(script_fits(UINT64_MAX, 8));
}

/* A run over a script with one variable "x" and one region "r". */
struct fixture {
	struct script s;
	struct region region;
	char *var_names[1];
	uint64_t vals[1];
	enum var_state state[1];
	uint8_t mem[64];
	struct run r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->var_names[0] = "x";
	f->s.vars.v = f->var_names;
	f->s.vars.n = 1;
	f->region = (struct region){
		.name = "r", .size = 64, .mem = f->mem, .fd = 7
	};
	f->s.regions = &f->region;
	f->s.nregions = 1;
	f->r.s = &f->s;
	f->r.vals = f->vals;
	f->r.state = f->state;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->r.log.p);
	free(f);
	return 0;
}

static void test_eval_terms(void **state)
{
	struct fixture *f = *state;
	struct term t[3] = { { T_REGION, '+', 0, 0 },
			     { T_VAR, '+', 0, 0 },
			     { T_NUM, '|', 1, 0 } };
	struct expr e = { t, 3, "region:r+$x|1" };
	uint64_t v;

	f->state[0] = VAR_SET;
	f->vals[0] = 0x10;
	assert_true(script_eval(&f->r, &e, &v));
	assert_true(v == (((uintptr_t)f->mem + 0x10) | 1));
	t[0] = (struct term){ T_FD, '+', 0, 0 };
	e.n = 1;
	assert_true(script_eval(&f->r, &e, &v));
	assert_int_equal(v, 7);
}

/* An unset variable: abort if its step failed, skip if it was skipped. */
static void test_unset_variables(void **state)
{
	struct fixture *f = *state;
	struct term t = { T_VAR, '+', 0, 0 };
	struct expr e = { &t, 1, "$x" };
	uint64_t v;

	f->state[0] = VAR_UNSET;
	assert_false(script_eval(&f->r, &e, &v));
	assert_string_equal(f->r.unset_var, "x");
	assert_int_equal(script_unset(&f->r), R_ABORT);
	assert_string_equal(
		f->r.why, "$x is not set: the step that saves it did not pass");
	f->state[0] = VAR_SKIPPED;
	assert_false(script_eval(&f->r, &e, &v));
	assert_int_equal(script_unset(&f->r), R_SKIP);
	assert_string_equal(f->r.why, "$x comes from a skipped step");
}

static void test_comparisons(void **state)
{
	struct fixture *f = *state;
	struct term a = { T_NUM, '+', 5, 0 }, b = { T_NUM, '+', 9, 0 };
	struct cmp c = { .a = { &a, 1, NULL }, .b = { &b, 1, NULL } };
	struct sbuf want = { 0 };
	bool ok;

	c.kind = CMP_EQ;
	c.has_a = true;
	assert_true(script_cmp_holds(&f->r, &c, 5, 4, &want, &ok) && ok);
	assert_true(script_cmp_holds(&f->r, &c, 6, 4, &want, &ok) && !ok);
	/* the expected value is cut to the field's width */
	a.num = 0x1005;
	assert_true(script_cmp_holds(&f->r, &c, 5, 1, &want, &ok) && ok);
	a.num = 5;
	c.kind = CMP_NE;
	assert_true(script_cmp_holds(&f->r, &c, 5, 4, &want, &ok) && !ok);
	c.kind = CMP_RANGE;
	c.has_b = true;
	assert_true(script_cmp_holds(&f->r, &c, 9, 4, &want, &ok) && ok);
	assert_true(script_cmp_holds(&f->r, &c, 10, 4, &want, &ok) && !ok);
	c.has_a = false;
	assert_true(script_cmp_holds(&f->r, &c, 0, 4, &want, &ok) && ok);
	c.kind = CMP_MASK; /* mask a = 5, value b = 1 */
	c.has_a = true;
	b.num = 1;
	assert_true(script_cmp_holds(&f->r, &c, 0xf3, 4, &want, &ok) && ok);
	assert_true(script_cmp_holds(&f->r, &c, 0xf4, 4, &want, &ok) && !ok);
	sb_reset(&want);
	c.kind = CMP_RANGE;
	b.num = 9;
	assert_true(script_cmp_holds(&f->r, &c, 1, 4, &want, &ok));
	assert_string_equal(want.p, ">= 5 and <= 9");
	free(want.p);
}

static void test_formatting(void **state)
{
	struct fixture *f = *state;
	struct sbuf *b = &f->r.log;
	struct expr plain = { NULL, 0, "0x1000" },
		    named = { NULL, 0, "PAGE_SIZE" };

	script_fmt_num(b, 4095);
	sb_printf(b, " ");
	script_fmt_num(b, 4096);
	sb_printf(b, " ");
	script_fmt_expr(b, &plain, 4096);
	sb_printf(b, " ");
	script_fmt_expr(b, &named, 4096);
	assert_string_equal(b->p, "4095 0x1000 0x1000 PAGE_SIZE(=0x1000)");
	sb_reset(b);
	assert_int_equal(b->len, 0);
	assert_string_equal(b->p, "");
	assert_int_not_equal(script_pattern_byte(0), script_pattern_byte(4096));
}

static void test_region_at(void **state)
{
	struct fixture *f = *state;
	uint64_t base = (uintptr_t)f->mem;

	assert_int_equal(script_region_at(&f->r, base, 64), 0);
	assert_int_equal(script_region_at(&f->r, base + 60, 4), 0);
	assert_int_equal(script_region_at(&f->r, base + 61, 4), -1);
	assert_int_equal(script_region_at(&f->r, base - 1, 2), -1);
	assert_int_equal(script_region_at(&f->r, base, 65), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_in_buffer),
		cmocka_unit_test(test_fits),
		cmocka_unit_test_setup_teardown(test_eval_terms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unset_variables, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_comparisons, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_formatting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_region_at, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
