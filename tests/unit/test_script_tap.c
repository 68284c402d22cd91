// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's TAP stream (tools/script_tap.c), against
 * /dev/null: what a harness parses must be well-formed TAP whatever a
 * script's names contain, a skip must read as a skip with its reason, a
 * failure must carry its diagnosis, and a directory of scripts must number
 * its results across scripts with one plan at the end.
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
#include <sys/stat.h>
#include <unistd.h>

#include "script_private.h"

/* The stream's text, collected in memory. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
}

static void assert_has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("no \"%s\" in:\n%s", want, text);
}

/* Write @json as @dir/@name. */
static void write_script(const char *dir, const char *name, const char *json)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
}

static void test_result_lines(void **state)
{
	struct capture c;
	struct tap t = { 0 };

	(void)state;
	capture_open(&c);
	t.out = c.f;
	script_tap_result(&t, true, NULL, "a # b\nc");
	script_tap_result(&t, false, NULL, "d");
	t.prefix = "x.json";
	script_tap_result(&t, true, "no mock", "e");
	capture_close(&c);
	assert_string_equal(c.text, "ok 1 - a   b c\n"
				    "not ok 2 - d\n"
				    "ok 3 - x.json: e # SKIP no mock\n");
	assert_int_equal(t.n, 3);
	assert_int_equal(t.failed, 1);
	free(c.text);
}

static void test_one_script_stream(void **state)
{
	char dir[] = "/tmp/test_script_tap_XXXXXX";
	char path[256];
	struct capture c;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.json", dir);
	write_script(
		dir, "s.json",
		"{\"version\": 1, \"description\": \"two checks\", \"steps\": ["
		" {\"ioctl\": \"IOAS_ALLOC\", \"name\": \"no iommufd here\","
		"  \"expect\": {\"errno\": [\"ENOTTY\", \"ENODEV\"]}},"
		" {\"ioctl\": \"IOAS_ALLOC\", \"expect\": {\"errno\": \"EINVAL\"}},"
		" {\"ioctl\": \"IOAS_ALLOC\"},"
		" {\"ioctl\": \"IOAS_ALLOC\"}, {\"ioctl\": \"IOAS_ALLOC\"}]}");
	capture_open(&c);
	rc = iommufd_script_run(path, "/dev/null", c.f);
	capture_close(&c);
	assert_int_equal(rc, IOMMUFD_SCRIPT_FAILED);
	assert_has(c.text, "TAP version 13\n# /tmp/");
	assert_has(c.text, "/s.json: two checks\n");
	assert_has(
		c.text,
		"# step 1: IOAS_ALLOC -> ENOTTY\n"
		"ok 1 - step 1 IOAS_ALLOC -> ENOTTY|ENODEV: no iommufd here\n");
	assert_has(c.text, "not ok 2 - step 2 IOAS_ALLOC -> EINVAL\n"
			   "#   expected EINVAL, got ENOTTY\n");
	assert_has(c.text, "not ok 3 - step 3 IOAS_ALLOC\n"
			   "#   a step without \"expect\" must succeed");
	assert_has(c.text, "# the remaining 2 steps are not run\n1..3\n");
	free(c.text);
	unlink(path);
	rmdir(dir);
}

/* A script whose requirements the device lacks is a skip, not a pass. */
static void test_unmet_requirement_skips(void **state)
{
	char dir[] = "/tmp/test_script_tap_XXXXXX";
	char path[256];
	struct capture c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_script(dir, "mock.json",
		     "{\"version\": 1, \"requires\": [\"mock\"], \"steps\": ["
		     " {\"ioctl\": \"IOAS_ALLOC\"}]}");
	snprintf(path, sizeof(path), "%s/mock.json", dir);
	capture_open(&c);
	assert_int_equal(iommufd_script_run(path, "/dev/null", c.f),
			 IOMMUFD_SCRIPT_PASSED);
	capture_close(&c);
	assert_has(c.text, "1..0 # SKIP requires mock: /dev/null answers "
			   "IOMMU_TEST_CMD with ENOTTY\n");
	assert_null(strstr(c.text, "\n1..1"));
	free(c.text);
	unlink(path);
	rmdir(dir);
}

/* A directory: one stream, results numbered across scripts, one plan. */
static void test_directory_stream(void **state)
{
	static const char *const names[] = { "a.json", "b.json", "c.json",
					     ".hidden.json", "notes.txt" };
	char dir[] = "/tmp/test_script_tap_XXXXXX";
	char path[256];
	struct capture c;
	size_t i;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_script(dir, "a.json",
		     "{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		     " \"expect\": {\"errno\": \"ENOTTY\"}}]}");
	write_script(dir, "b.json",
		     "{\"version\": 1, \"requires\": [\"dev_dma\"],"
		     " \"steps\": [{\"ioctl\": \"IOAS_ALLOC\"}]}");
	write_script(dir, "c.json", "{\"version\": 1, \"steps\": []}");
	write_script(dir, ".hidden.json", "not json");
	write_script(dir, "notes.txt", "not a script");
	capture_open(&c);
	rc = iommufd_script_run_dir(dir, "/dev/null", c.f);
	capture_close(&c);
	assert_int_equal(rc, IOMMUFD_SCRIPT_MALFORMED);
	assert_has(c.text, "ok 1 - a.json: step 1 IOAS_ALLOC -> ENOTTY\n");
	assert_has(c.text, "ok 2 - b.json: whole script # SKIP requires "
			   "dev_dma: no IOMMU_TEST_CMD\n");
	assert_has(c.text, "not ok 3 - c.json: malformed script: steps: a "
			   "non-empty list is required\n1..3\n");
	free(c.text);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	/* an empty directory is a failure, not a silent pass */
	capture_open(&c);
	rc = iommufd_script_run_dir(dir, "/dev/null", c.f);
	capture_close(&c);
	assert_int_equal(rc, IOMMUFD_SCRIPT_FAILED);
	assert_has(c.text, "not ok 1 - no *.json in ");
	free(c.text);
	rmdir(dir);
}

static void test_check_only_compiles(void **state)
{
	char dir[] = "/tmp/test_script_tap_XXXXXX";
	char path[256];
	struct capture c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.json", dir);
	write_script(
		dir, "x.json",
		"{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\"}]}");
	capture_open(&c);
	assert_int_equal(iommufd_script_check(path, c.f),
			 IOMMUFD_SCRIPT_PASSED);
	write_script(
		dir, "x.json",
		"{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALOC\"}]}");
	assert_int_equal(iommufd_script_check(path, c.f),
			 IOMMUFD_SCRIPT_MALFORMED);
	capture_close(&c);
	assert_has(c.text, "x.json: malformed: step 1: ioctl: unknown command "
			   "\"IOAS_ALOC\"");
	free(c.text);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_lines),
		cmocka_unit_test(test_one_script_stream),
		cmocka_unit_test(test_unmet_requirement_skips),
		cmocka_unit_test(test_directory_stream),
		cmocka_unit_test(test_check_only_compiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
