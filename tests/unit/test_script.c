// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine (tools/script_*.c), through its public API, on
 * its own against /dev/null, where every ioctl is ENOTTY: a wrong
 * expectation must fail the script (else no script could ever catch a
 * bug), and what a script may legally ask for (fields past the struct, a
 * struct in a read-only region) must not crash the engine.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script.h"

/* Run @json as a script against /dev/null; its TAP output is dropped. */
static int run(const char *json)
{
	char path[] = "/tmp/test_script_XXXXXX.json";
	int fd = mkstemps(path, 5), rc;
	FILE *out = fopen("/dev/null", "w");

	assert_true(fd >= 0);
	assert_non_null(out);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	rc = iommufd_script_run(path, "/dev/null", out);
	fclose(out);
	unlink(path);
	return rc;
}

static void test_errno_expectation_can_fail(void **state)
{
	(void)state;
	assert_int_equal(run("{\"version\": 1, \"steps\": ["
			     "{\"ioctl\": \"IOAS_ALLOC\","
			     " \"expect\": {\"errno\": \"ENOTTY\"}}]}"),
			 IOMMUFD_SCRIPT_PASSED);
	assert_int_equal(run("{\"version\": 1, \"steps\": ["
			     "{\"ioctl\": \"IOAS_ALLOC\","
			     " \"expect\": {\"errno\": \"EINVAL\"}}]}"),
			 IOMMUFD_SCRIPT_FAILED);
	/* Without "expect" a step must succeed. */
	assert_int_equal(run("{\"version\": 1, \"steps\": ["
			     "{\"ioctl\": \"IOAS_ALLOC\"}]}"),
			 IOMMUFD_SCRIPT_FAILED);
}

static void test_out_expectation_can_fail(void **state)
{
	(void)state;
	/* size is what the engine filled in: 12 for IOAS_ALLOC */
	assert_int_equal(
		run("{\"version\": 1, \"steps\": ["
		    "{\"ioctl\": \"IOAS_ALLOC\", \"expect\": "
		    "{\"errno\": \"ENOTTY\", \"out\": {\"size\": 12}}}]}"),
		IOMMUFD_SCRIPT_PASSED);
	assert_int_equal(
		run("{\"version\": 1, \"steps\": ["
		    "{\"ioctl\": \"IOAS_ALLOC\", \"expect\": "
		    "{\"errno\": \"ENOTTY\", \"out\": {\"size\": 13}}}]}"),
		IOMMUFD_SCRIPT_FAILED);
}

static void test_check_step_can_fail(void **state)
{
	(void)state;
	assert_int_equal(run("{\"version\": 1,"
			     " \"regions\": {\"r\": {\"type\": \"private\","
			     " \"size\": 4096, \"fill\": 0}},"
			     " \"steps\": [{\"write\": \"r\", \"u32\": 7},"
			     " {\"check\": \"r\", \"u32\": 7}]}"),
			 IOMMUFD_SCRIPT_PASSED);
	assert_int_equal(run("{\"version\": 1,"
			     " \"regions\": {\"r\": {\"type\": \"private\","
			     " \"size\": 4096, \"fill\": 0}},"
			     " \"steps\": [{\"write\": \"r\", \"u32\": 7},"
			     " {\"check\": \"r\", \"u32\": 8}]}"),
			 IOMMUFD_SCRIPT_FAILED);
}

/*
 * "@OFFSET" reads back bytes past the struct: the engine's buffer must
 * reach them (it read past its heap block before).
 */
static void test_out_field_past_struct(void **state)
{
	(void)state;
	assert_int_equal(run("{\"version\": 1, \"steps\": ["
			     "{\"ioctl\": \"IOAS_ALLOC\", \"expect\": "
			     "{\"errno\": \"ENOTTY\","
			     " \"out\": {\"@1048000:u64\": 0}}}]}"),
			 IOMMUFD_SCRIPT_PASSED);
	assert_int_equal(
		run("{\"version\": 1, \"steps\": ["
		    "{\"ioctl\": \"IOAS_ALLOC\", \"expect\": "
		    "{\"errno\": \"ENOTTY\"},"
		    " \"save\": {\"x\": \"@1048000:u64\"}},"
		    "{\"ioctl\": \"DESTROY\", \"in\": {\"id\": \"$x\"},"
		    " \"expect\": {\"errno\": \"ENOTTY\"}}]}"),
		IOMMUFD_SCRIPT_PASSED);
}

/* A struct in a read-only region (for EFAULT on copy-out) is set up. */
static void test_arg_in_readonly_region(void **state)
{
	(void)state;
	assert_int_equal(
		run("{\"version\": 1,"
		    " \"regions\": {\"ro\": {\"type\": \"private\","
		    " \"size\": 4096, \"fill\": 0, \"readonly\": true}},"
		    " \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		    " \"arg\": \"region:ro\","
		    " \"expect\": {\"errno\": \"ENOTTY\","
		    " \"out\": {\"size\": 12}}},"
		    " {\"check\": \"ro\", \"u32\": 12}]}"),
		IOMMUFD_SCRIPT_PASSED);
}

/*
 * The trace (IOMMUFD_SCRIPT_TRACE) gives one line per step, with region
 * addresses written by name (they differ between runs) and skipped steps
 * marked: the reference suite compares two devices by it.
 */
static void test_trace_lines(void **state)
{
	char tpath[] = "/tmp/test_script_trace_XXXXXX";
	int tfd = mkstemp(tpath);
	char *line = NULL, buf[4][256];
	size_t cap = 0;
	unsigned int n = 0;
	FILE *f;

	(void)state;
	assert_true(tfd >= 0);
	close(tfd);
	setenv("IOMMUFD_SCRIPT_TRACE", tpath, 1);
	assert_int_equal(
		run("{\"version\": 1,"
		    " \"regions\": {\"buf\": {\"type\": \"memfd\","
		    " \"size\": 8192}},"
		    " \"steps\": [{\"ioctl\": \"IOAS_MAP\", \"in\":"
		    " {\"user_va\": \"region:buf+0x10\", \"length\": 4096},"
		    " \"expect\": {\"errno\": \"ENOTTY\"}},"
		    " {\"write\": \"buf\", \"u32\": 7},"
		    " {\"check\": \"buf\", \"u32\": 7},"
		    " {\"ioctl\": \"TEST.ADD_RESERVED\", \"requires\": [\"mock\"],"
		    " \"expect\": {\"errno\": \"ENOTTY\"}}]}"),
		IOMMUFD_SCRIPT_PASSED);
	unsetenv("IOMMUFD_SCRIPT_TRACE");
	f = fopen(tpath, "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0 && n < 4) {
		char *tab = strchr(line, '\t'); /* after the script's name */

		assert_non_null(tab);
		snprintf(buf[n++], sizeof(buf[0]), "%s", tab + 1);
	}
	free(line);
	fclose(f);
	unlink(tpath);
	assert_int_equal(n, 4);
	assert_string_equal(buf[0], "1\tIOAS_MAP\tENOTTY ret=-1 arg[40] @0=0x28"
				    " @16=region:buf+0x10 @24=0x1000\n");
	assert_string_equal(buf[1], "2\twrite buf\twritten\n");
	/* FNV-1a of 07 00 00 00 */
	assert_string_equal(buf[2],
			    "3\tcheck buf\tbytes[4]=6d3572669b2cde42\n");
	assert_string_equal(buf[3],
			    "4\tTEST.ADD_RESERVED\tskipped requires=mock\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_expectation_can_fail),
		cmocka_unit_test(test_out_expectation_can_fail),
		cmocka_unit_test(test_check_step_can_fail),
		cmocka_unit_test(test_out_field_past_struct),
		cmocka_unit_test(test_arg_in_readonly_region),
		cmocka_unit_test(test_trace_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
