// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's first stage (tools/script_parse.c): JSON text
 * and the values in it. Expressions evaluate left to right with no
 * precedence, names resolve at compile time, and every mistake is reported
 * with what the value is ("in.iova") and where the JSON went wrong, since
 * a script that half-runs against a live device is worse than none.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "script_private.h"

static struct script *new_script(void)
{
	struct script *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

static void free_script(struct script *s)
{
	script_free(s);
	free(s);
}

/* A constant expression's value, or -1 with s->err set. */
static int const_of(struct script *s, const char *text, uint64_t *v)
{
	json_object *j = json_object_new_string(text);
	int rc = script_parse_const(s, j, v, "x");

	json_object_put(j);
	return rc;
}

static void test_expressions_left_to_right(void **state)
{
	struct script *s = new_script();
	uint64_t v;

	(void)state;
	assert_int_equal(const_of(s, "1 + 0x10 | 0x100", &v), 0);
	assert_int_equal(v, 0x111);
	/* no precedence: (8 - 2) | 1 */
	assert_int_equal(const_of(s, "8 - 2 | 1", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(const_of(s, "-4 + 5", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(const_of(s, "PAGE_SIZE+1", &v), 0);
	assert_int_equal(v, 4097);
	assert_int_equal(const_of(s, "0 - 1", &v), 0);
	assert_true(v == UINT64_MAX);
	free_script(s);
}

static void test_expression_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "0x", "x: bad number in \"0x\"" },
		{ "12abc", "x: bad number in \"12abc\"" },
		{ "99999999999999999999", "x: bad number" },
		{ "NO_SUCH", "x: unknown constant \"NO_SUCH\"" },
		{ "1 * 2", "x: unexpected \"*\" in \"1 * 2\"" },
		{ "1 +", "x: expected a number, $var" },
		{ "$", "x: a name must follow '$'" },
		{ "$v", "x: $v is not saved by an earlier step" },
		{ "region:r", "x: no region \"r\"" },
		{ "fd:f",
		  "x: fd:f names neither a memfd region nor an opened file" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct script *s = new_script();
		struct expr e;

		assert_int_equal(
			script_parse_expr_text(s, bad[i].text, &e, "x"), -1);
		if (!strstr(s->err, bad[i].msg))
			fail_msg("\"%s\": got \"%s\"", bad[i].text, s->err);
		free_script(s);
	}
}

/* Names resolve to what the script defines; constants need constants. */
static void test_names_resolve(void **state)
{
	struct script *s = new_script();
	struct region r[2] = { { .name = "buf", .type = REGION_PRIVATE },
			       { .name = "mfd", .type = REGION_MEMFD } };
	struct expr e;
	uint64_t v;
	unsigned int x;

	(void)state;
	s->regions = r;
	s->nregions = 2;
	x = script_names_add(s, &s->vars, "x");
	assert_int_equal(script_names_add(s, &s->vars, "x"), x);
	s->var_defined[x] = true;
	assert_int_equal(
		script_parse_expr_text(s, "region:buf + $x + 8", &e, "x"), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.t[0].kind, T_REGION);
	assert_int_equal(e.t[1].kind, T_VAR);
	assert_int_equal(e.t[1].idx, x);
	assert_int_equal(e.t[2].op, '+');
	assert_true(script_expr_has(&e, T_REGION));
	assert_false(script_expr_has(&e, T_FD));
	assert_int_equal(script_parse_expr_text(s, "fd:mfd", &e, "x"), 0);
	assert_int_equal(e.t[0].kind, T_FD);
	assert_int_equal(script_parse_expr_text(s, "fd:buf", &e, "x"), -1);
	assert_non_null(strstr(s->err, "region \"buf\" is not a memfd"));
	assert_int_equal(const_of(s, "$x", &v), -1);
	assert_non_null(strstr(s->err, "x: must be a constant"));
	s->regions = NULL;
	free_script(s);
}

static void test_fields(void **state)
{
	const struct cmd *c = script_find_cmd("IOAS_ALLOC");
	struct script *s = new_script();
	struct field f;

	(void)state;
	assert_int_equal(script_parse_field(s, c, "@0x20:u16", &f, "in"), 0);
	assert_int_equal(f.offset, 0x20);
	assert_int_equal(f.size, 2);
	assert_int_equal(script_parse_field(s, c, "out_ioas_id", &f, "out"), 0);
	assert_int_equal(f.size, 4);
	assert_int_equal(script_parse_field(s, c, "@8:u128", &f, "in"), -1);
	assert_non_null(
		strstr(s->err, "the width must be u8, u16, u32 or u64"));
	assert_int_equal(script_parse_field(s, c, "@8", &f, "in"), -1);
	assert_non_null(strstr(s->err, "expected @OFFSET:u8|u16|u32|u64"));
	assert_int_equal(script_parse_field(s, c, "ioas", &f, "in.ioas"), -1);
	assert_string_equal(
		s->err,
		"in.ioas: IOAS_ALLOC has no field \"ioas\" (fields: size, flags, out_ioas_id; raw bytes: @OFFSET:u32)");
	free_script(s);
}

static void test_compare_forms(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"ne\": 1, \"min\": 0}", "\"ne\" stands alone" },
		{ "{\"mask\": 1}", "\"mask\" goes with \"value\" only" },
		{ "{}", "expected a value or" },
		{ "{\"max\": 1, \"lt\": 2}", "unknown key \"lt\"" },
	};
	struct script *s = new_script();
	json_object *j;
	struct cmp c;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	j = json_tokener_parse("{\"min\": 4}");
	assert_int_equal(script_parse_cmp(s, j, &c, "out.x"), 0);
	assert_int_equal(c.kind, CMP_RANGE);
	assert_true(c.has_a && !c.has_b);
	json_object_put(j);
	memset(&c, 0, sizeof(c));
	j = json_tokener_parse("{\"mask\": 3, \"value\": 1}");
	assert_int_equal(script_parse_cmp(s, j, &c, "out.x"), 0);
	assert_int_equal(c.kind, CMP_MASK);
	json_object_put(j);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&c, 0, sizeof(c));
		j = json_tokener_parse(bad[i][0]);
		assert_int_equal(script_parse_cmp(s, j, &c, "out.x"), -1);
		if (!strstr(s->err, bad[i][1]))
			fail_msg("%s: got \"%s\"", bad[i][0], s->err);
		json_object_put(j);
	}
	free_script(s);
}

static void test_errnos_and_requirements(void **state)
{
	struct script *s = new_script();
	struct reqs r;
	json_object *j;
	int e;

	(void)state;
	j = json_object_new_string("EBUSY");
	assert_int_equal(script_parse_errno(s, j, &e), 0);
	assert_int_equal(e, EBUSY);
	json_object_put(j);
	j = json_object_new_int(22);
	assert_int_equal(script_parse_errno(s, j, &e), 0);
	assert_int_equal(e, 22);
	json_object_put(j);
	j = json_object_new_string("EBUSYY");
	assert_int_equal(script_parse_errno(s, j, &e), -1);
	assert_string_equal(s->err, "expect.errno: unknown errno \"EBUSYY\"");
	json_object_put(j);

	j = json_tokener_parse("[\"mock\", \"dev_dma\", \"IOAS_MAP_FILE\"]");
	assert_int_equal(script_parse_reqs(s, j, &r, "requires"), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.id[0], REQ_MOCK);
	assert_int_equal(r.id[1], REQ_DEV_DMA);
	assert_ptr_equal(&script_cmds[r.id[2] - REQ_CMD0],
			 script_find_cmd("IOAS_MAP_FILE"));
	json_object_put(j);
	/* a test op is not something to probe for */
	j = json_tokener_parse("[\"TEST.MOCK_DOMAIN\"]");
	assert_int_equal(script_parse_reqs(s, j, &r, "requires"), -1);
	json_object_put(j);
	free_script(s);
}

static void test_keys_and_context(void **state)
{
	static const char *const keys[] = { "a", "b", NULL };
	struct script *s = new_script();
	json_object *j = json_tokener_parse("{\"a\": 1, \"c\": 2}");

	(void)state;
	strcpy(s->ctx, "step 2 (IOAS_MAP)");
	assert_int_equal(script_check_keys(s, j, "step", keys), -1);
	assert_string_equal(
		s->err,
		"step 2 (IOAS_MAP): step: unknown key \"c\" (expected: a, b)");
	json_object_put(j);
	free_script(s);
}

static void test_json_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"version\": 1,\n  \"steps\": [}",
		  "invalid JSON at line 2, column 13" },
		/* a second document after the first is refused where it starts */
		{ "{\"version\": 1}\n{}", "invalid JSON at line 2, column 1" },
		{ "{\"version\": 1", "unexpected end of file" },
		{ "{\"version\": 1,}", "invalid JSON at line 1, column 15" },
	};
	struct script *s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		s = new_script();
		assert_int_equal(
			script_parse_json(s, bad[i][0], strlen(bad[i][0])), -1);
		if (!strstr(s->err, bad[i][1]))
			fail_msg("%s: got \"%s\"", bad[i][0], s->err);
		free_script(s);
	}
	s = new_script();
	assert_int_equal(script_parse_json(s, "{\"a\": 1}\n\n  ", 12), 0);
	assert_non_null(s->root);
	free_script(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expressions_left_to_right),
		cmocka_unit_test(test_expression_errors),
		cmocka_unit_test(test_names_resolve),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_compare_forms),
		cmocka_unit_test(test_errnos_and_requirements),
		cmocka_unit_test(test_keys_and_context),
		cmocka_unit_test(test_json_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
