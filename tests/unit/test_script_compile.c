// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's second stage (tools/script_compile.c): whole
 * scripts compiled from text, nothing run. What iommufd-script(5) allows
 * must compile to the steps it describes; what it forbids must be refused
 * with the step and the field named, and names must only be usable after
 * the step that defines them.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <iommufd/iommufd.h>

#include "script_private.h"

/* Compile @text; its error (or "") in @err. */
static int compile(const char *text, char *err, size_t errlen)
{
	struct script s;
	int rc = script_load_text(&s, "t.json", text);

	snprintf(err, errlen, "%s", rc ? s.err : "");
	script_free(&s);
	return rc;
}

static void expect_error(const char *text, const char *msg)
{
	char err[1024];

	if (compile(text, err, sizeof(err)) != -1)
		fail_msg("compiled, expected \"%s\": %s", msg, text);
	if (!strstr(err, msg))
		fail_msg("expected \"%s\", got \"%s\"", msg, err);
}

static void test_compiles_steps(void **state)
{
	struct script s;

	(void)state;
	assert_int_equal(
		script_load_text(
			&s, "t.json",
			"{\"version\": 1, \"description\": \"d\","
			" \"regions\": {\"buf\": {\"type\": \"memfd\", \"size\": \"PAGE_SIZE\","
			"  \"fill\": \"pattern\", \"align\": 65536, \"guard\": true}},"
			" \"steps\": ["
			" {\"ioctl\": \"IOMMU_IOAS_ALLOC\", \"save\": {\"ioas\": \"out_ioas_id\"}},"
			" {\"ioctl\": \"IOAS_MAP\", \"name\": \"map it\","
			"  \"in\": {\"ioas_id\": \"$ioas\", \"user_va\": \"region:buf\","
			"   \"length\": 4096, \"flags\": \"IOMMU_IOAS_MAP_READABLE\"},"
			"  \"expect\": {\"errno\": [\"ok\", \"ENOMEM\"], \"out\": {\"iova\": {\"ne\": 0}}}},"
			" {\"write\": \"buf\", \"offset\": 8, \"u32\": [1, 2]},"
			" {\"check\": \"buf\", \"data\": \"de ad\"},"
			" {\"open\": \"second\"},"
			" {\"ioctl\": 15232, \"fd\": \"second\", \"expect\": {\"errno\": \"ENOTTY\"}},"
			" {\"close\": \"second\"}]}"),
		0);
	assert_string_equal(s.description, "d");
	assert_int_equal(s.nregions, 1);
	assert_int_equal(s.regions[0].size, 4096);
	assert_int_equal(s.regions[0].fill, -1);
	assert_int_equal(s.nsteps, 7);
	assert_int_equal(s.steps[0].cmd->nr, IOMMU_IOAS_ALLOC);
	assert_false(s.steps[0].checked);
	assert_int_equal(s.steps[1].nin, 4);
	assert_int_equal(s.steps[1].nerrnos, 2);
	assert_string_equal(s.steps[1].name, "map it");
	assert_int_equal(s.steps[1].out[0].kind, CMP_NE);
	assert_int_equal(s.steps[2].bytes.kind, B_U32);
	assert_int_equal(s.steps[2].bytes.nwords, 2);
	assert_int_equal(s.steps[3].bytes.len, 2);
	assert_int_equal(s.steps[3].bytes.data[0], 0xde);
	assert_int_equal(s.steps[4].kind, STEP_OPEN);
	assert_int_equal(s.steps[5].cmd->kind, CMD_RAW);
	assert_string_equal(s.steps[5].label, "0x3b80");
	assert_int_equal(s.steps[5].fd, s.steps[4].fd);
	assert_string_equal(s.steps[6].label, "close second");
	script_free(&s);
}

static void test_document_errors(void **state)
{
	(void)state;
	expect_error("[]", "the top level must be an object");
	expect_error("{\"steps\": []}", "\"version\": 1 is required");
	expect_error("{\"version\": 1}", "steps: a non-empty list is required");
	expect_error("{\"version\": 1, \"step\": []}",
		     "top level: unknown key \"step\"");
	expect_error("{\"version\": 1, \"steps\": [{}]}",
		     "step 1: a step has exactly one of");
	expect_error(
		"{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_MAPP\"}]}",
		"step 1: ioctl: unknown command \"IOAS_MAPP\"");
}

static void test_region_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "\"main\": {\"type\": \"shared\", \"size\": 1}",
		  "\"main\" names the first open file" },
		{ "\"r\": {\"type\": \"heap\", \"size\": 1}",
		  "type: \"memfd\", \"shared\" or \"private\"" },
		{ "\"r\": {\"type\": \"shared\", \"size\": 0}",
		  "size: 1 byte to 1 TiB" },
		{ "\"r\": {\"type\": \"shared\", \"size\": 1099511627777}",
		  "size: 1 byte to 1 TiB" },
		{ "\"r\": {\"type\": \"memfd\", \"size\": 4294967297, "
		  "\"fill\": 1}",
		  "fill: only regions up to 4 GiB are filled; larger ones stay "
		  "sparse" },
		{ "\"r\": {\"type\": \"shared\", \"size\": 1, \"align\": 3}",
		  "align: a power of two up to 1 GiB" },
		{ "\"r\": {\"type\": \"shared\", \"size\": 1, \"fill\": 256}",
		  "fill: a byte (0-255) or \"pattern\"" },
		{ "\"r\": {\"type\": \"shared\", \"size\": 1, \"guard\": 1}",
		  "guard: true or false" },
	};
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text),
			 "{\"version\": 1, \"regions\": {%s}, \"steps\":"
			 " [{\"open\": \"x\"}]}",
			 bad[i][0]);
		expect_error(text, bad[i][1]);
	}
}

/* Variables and files exist from the step that makes them on. */
static void test_names_in_order(void **state)
{
	(void)state;
	expect_error(
		"{\"version\": 1, \"steps\": ["
		" {\"ioctl\": \"DESTROY\", \"in\": {\"id\": \"$a\"}},"
		" {\"ioctl\": \"IOAS_ALLOC\", \"save\": {\"a\": \"out_ioas_id\"}}]}",
		"step 1 (DESTROY): in.id: $a is not saved by an earlier step");
	expect_error("{\"version\": 1, \"steps\": ["
		     " {\"ioctl\": \"IOAS_ALLOC\", \"in\": {\"flags\": \"$a\"},"
		     "  \"save\": {\"a\": \"out_ioas_id\"}}]}",
		     "$a is not saved by an earlier step");
	expect_error("{\"version\": 1, \"steps\": [{\"close\": \"main\"},"
		     " {\"ioctl\": \"IOAS_ALLOC\"}]}",
		     "step 2 (IOAS_ALLOC): \"main\" is closed here");
	expect_error("{\"version\": 1, \"steps\": [{\"open\": \"f\"},"
		     " {\"open\": \"f\"}]}",
		     "step 2 (open f): \"f\" is already open");
	expect_error("{\"version\": 1, \"steps\": [{\"close\": \"g\"}]}",
		     "\"g\" is not open");
	expect_error("{\"version\": 1, \"steps\": [{\"open\": \"f\"},"
		     " {\"close\": \"f\"},"
		     " {\"ioctl\": \"IOAS_ALLOC\", \"fd\": \"f\"}]}",
		     "fd: \"f\" is not open here");
}

static void test_ioctl_step_errors(void **state)
{
	(void)state;
	expect_error(
		"{\"version\": 1, \"steps\": [{\"ioctl\": \"VFIO_CHECK_EXTENSION\","
		" \"in\": {\"size\": 1}}]}",
		"in: VFIO_CHECK_EXTENSION takes its argument by value");
	expect_error("{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		     " \"arg\": 4096, \"in\": {\"flags\": 0}}]}",
		     "passes a raw pointer");
	expect_error(
		"{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		" \"expect\": {\"errno\": [\"E2BIG\", \"E2BIG\", \"E2BIG\","
		" \"E2BIG\", \"E2BIG\", \"E2BIG\", \"E2BIG\", \"E2BIG\", \"E2BIG\"]}}]}",
		"expect.errno: list 1 to 8 errnos");
	expect_error("{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		     " \"expect\": {\"out\": {\"ioas\": 1}}}]}",
		     "expect.out.ioas: IOAS_ALLOC has no field \"ioas\"");
	expect_error("{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		     " \"save\": {\"1a\": \"out_ioas_id\"}}]}",
		     "save.1a: a variable name is");
	expect_error(
		"{\"version\": 1, \"steps\": [{\"ioctl\": \"VFIO_SET_IOMMU\","
		" \"save\": {\"a\": \"size\"}}]}",
		"save: VFIO_SET_IOMMU has no struct to read back");
}

static void test_bytes_step_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"write\": \"ro\", \"fill\": 0}",
		  "region \"ro\" is read-only" },
		{ "{\"write\": \"rw\"}", "say what the bytes are" },
		{ "{\"write\": \"rw\", \"fill\": 0, \"u8\": 1}",
		  "not both \"fill\" and \"u8\"" },
		{ "{\"write\": \"rw\", \"u8\": 1, \"length\": 2}",
		  "length: only with fill or same_as" },
		{ "{\"check\": \"rw\", \"same_as\": 4096}",
		  "same_as: must point into a region" },
		{ "{\"check\": \"rw\", \"same_as\": \"region:ro\"}",
		  "same_as: needs a \"length\"" },
		{ "{\"write\": \"rw\", \"data\": \"abc\"}",
		  "an even, non-zero number of hex digits" },
		{ "{\"write\": \"rw\", \"data\": \"0xab\"}", "bytes in hex" },
		{ "{\"write\": \"rw\", \"u16\": []}", "u16: empty list" },
		{ "{\"write\": \"nope\", \"fill\": 0}", "no region \"nope\"" },
	};
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(
			text, sizeof(text),
			"{\"version\": 1, \"regions\": {"
			"\"rw\": {\"type\": \"private\", \"size\": 64},"
			"\"ro\": {\"type\": \"private\", \"size\": 64, \"readonly\": true}},"
			" \"steps\": [%s]}",
			bad[i][0]);
		expect_error(text, bad[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiles_steps),
		cmocka_unit_test(test_document_errors),
		cmocka_unit_test(test_region_errors),
		cmocka_unit_test(test_names_in_order),
		cmocka_unit_test(test_ioctl_step_errors),
		cmocka_unit_test(test_bytes_step_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
