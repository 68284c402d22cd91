// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine running steps (tools/script_run.c), against
 * /dev/null, where every ioctl is ENOTTY. Regions are mapped as declared,
 * an ioctl's struct is built as the ABI wants it (size filled in, fields
 * in place, in a region when asked), results are judged against the
 * expectation, and what does not fit is malformed rather than sent.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script_private.h"

struct fixture {
	struct script s;
	struct run r;
	bool loaded;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->loaded) {
		script_run_fini(&f->r);
		script_free(&f->s);
	}
	free(f);
	return 0;
}

/* Compile @text and start a run on /dev/null with "main" open. */
static void start(struct fixture *f, const char *text)
{
	if (script_load_text(&f->s, "t.json", text))
		fail_msg("does not compile: %s", f->s.err);
	f->loaded = true;
	script_run_init(&f->r, &f->s, "/dev/null");
	f->r.fds[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(f->r.fds[0] >= 0);
	assert_int_equal(script_map_regions(&f->r), R_PASS);
}

/* Run step i with a fresh log and diagnosis. */
static enum result step(struct fixture *f, unsigned int i)
{
	sb_reset(&f->r.log);
	sb_reset(&f->r.diag);
	f->r.unset_var = NULL;
	return script_run_step(&f->r, &f->s.steps[i]);
}

static void test_regions_as_declared(void **state)
{
	struct fixture *f = *state;
	struct region *a, *b;

	start(f,
	      "{\"version\": 1, \"regions\": {"
	      "\"a\": {\"type\": \"private\", \"size\": 8192, \"fill\": \"pattern\","
	      " \"align\": 2097152},"
	      "\"b\": {\"type\": \"memfd\", \"size\": 100, \"fill\": 171}},"
	      " \"steps\": [{\"open\": \"x\"}]}");
	a = &f->s.regions[0];
	b = &f->s.regions[1];
	assert_int_equal((uintptr_t)a->mem % 2097152, 0);
	assert_int_equal(a->mem[1], script_pattern_byte(1));
	assert_int_equal(a->mem[4097], script_pattern_byte(4097));
	assert_true(b->fd >= 0);
	assert_int_equal(b->mem[99], 171);
	assert_int_equal(a->fd, -1);
}

static void test_write_then_check(void **state)
{
	struct fixture *f = *state;

	start(f,
	      "{\"version\": 1, \"regions\": {"
	      "\"r\": {\"type\": \"shared\", \"size\": 64, \"fill\": 0}},"
	      " \"steps\": [{\"write\": \"r\", \"offset\": 4, \"u16\": [1, 513]},"
	      " {\"check\": \"r\", \"offset\": 4, \"data\": \"01 00 01 02\"},"
	      " {\"check\": \"r\", \"offset\": 4, \"data\": \"01 00 01 03\"},"
	      " {\"check\": \"r\", \"offset\": 62, \"fill\": 0, \"length\": 4}]}");
	assert_int_equal(step(f, 0), R_PASS);
	assert_string_equal(f->r.log.p, "write r+4 (4 bytes)");
	assert_int_equal(step(f, 1), R_PASS);
	assert_string_equal(f->r.log.p, "check r+4 (4 bytes) -> same");
	assert_int_equal(step(f, 2), R_FAIL);
	assert_non_null(
		strstr(f->r.diag.p, "1 of 4 bytes differ, the first at r+0x7"));
	assert_int_equal(step(f, 3), R_MALFORMED);
	assert_non_null(strstr(f->r.why, "is outside region \"r\""));
}

static void test_ioctl_judged(void **state)
{
	struct fixture *f = *state;

	start(f,
	      "{\"version\": 1, \"steps\": ["
	      " {\"ioctl\": \"IOAS_ALLOC\", \"expect\": {\"errno\": \"ENOTTY\","
	      "  \"out\": {\"size\": 12}}, \"save\": {\"x\": \"size\"}},"
	      " {\"ioctl\": \"IOAS_ALLOC\", \"expect\": {\"errno\": \"EINVAL\"}},"
	      " {\"ioctl\": \"IOAS_ALLOC\"},"
	      " {\"ioctl\": \"DESTROY\", \"in\": {\"id\": \"$x\"},"
	      "  \"expect\": {\"errno\": \"ENOTTY\"}}]}");
	assert_int_equal(step(f, 0), R_PASS);
	assert_string_equal(f->r.log.p, "IOAS_ALLOC -> ENOTTY, size=12, $x=12");
	assert_int_equal(f->r.vals[0], 12);
	assert_int_equal(step(f, 1), R_FAIL);
	assert_non_null(strstr(f->r.diag.p, "#   expected EINVAL, got ENOTTY"));
	/* the struct as sent is shown: size 12 first */
	assert_non_null(strstr(f->r.diag.p, "#   arg+0x00: 0c 00 00 00"));
	/* no expectation: it must succeed, or the script stops */
	assert_int_equal(step(f, 2), R_ABORT);
	assert_int_equal(step(f, 3), R_PASS);
	assert_string_equal(f->r.log.p, "DESTROY id=$x(=12) -> ENOTTY");
}

/* A struct in a region goes there; what comes back is read there. */
static void test_arg_in_region(void **state)
{
	struct fixture *f = *state;
	uint8_t *mem;

	start(f,
	      "{\"version\": 1, \"regions\": {"
	      "\"r\": {\"type\": \"private\", \"size\": 4096, \"fill\": 255}},"
	      " \"steps\": [{\"ioctl\": \"IOAS_ALLOC\", \"arg\": \"region:r+8\","
	      "  \"in\": {\"flags\": 3}, \"expect\": {\"errno\": \"ENOTTY\"}},"
	      " {\"ioctl\": \"IOAS_ALLOC\", \"arg\": \"region:r+4090\","
	      "  \"expect\": {\"errno\": \"ENOTTY\"}}]}");
	mem = f->s.regions[0].mem;
	assert_int_equal(step(f, 0), R_PASS);
	assert_int_equal(mem[7], 255);
	assert_int_equal(mem[8], 12); /* size */
	assert_int_equal(mem[12], 3); /* flags */
	assert_int_equal(mem[16], 0); /* out_ioas_id, zeroed */
	assert_int_equal(mem[20], 255);
	assert_int_equal(step(f, 1), R_MALFORMED);
	assert_non_null(
		strstr(f->r.why, "12 bytes at region:r+4090 do not fit"));
}

static void test_values_that_do_not_fit(void **state)
{
	struct fixture *f = *state;

	start(f, "{\"version\": 1, \"steps\": [{\"ioctl\": \"IOAS_ALLOC\","
		 " \"in\": {\"flags\": \"0x100000000\"},"
		 " \"expect\": {\"errno\": \"ENOTTY\"}}]}");
	assert_int_equal(step(f, 0), R_MALFORMED);
	assert_string_equal(f->r.why,
			    "in.flags: 0x100000000 does not fit its 4 bytes");
}

static void test_open_close_and_requirements(void **state)
{
	struct fixture *f = *state;
	int unmet;

	start(f, "{\"version\": 1, \"requires\": [\"mock\"], \"steps\": ["
		 " {\"open\": \"x\"}, {\"close\": \"x\"}]}");
	assert_int_equal(step(f, 0), R_PASS);
	assert_true(f->r.fds[f->s.steps[0].fd] >= 0);
	assert_int_equal(step(f, 1), R_PASS);
	assert_string_equal(f->r.log.p, "close x -> ok");
	assert_int_equal(f->r.fds[f->s.steps[1].fd], -1);
	unmet = script_reqs_unmet(&f->r, &f->s.reqs);
	assert_int_equal(unmet, REQ_MOCK);
	assert_string_equal(script_req_name((unsigned int)unmet), "mock");
	assert_string_equal(f->r.req_why[unmet],
			    "/dev/null answers IOMMU_TEST_CMD with ENOTTY");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_regions_as_declared),
		T(test_write_then_check),
		T(test_ioctl_judged),
		T(test_arg_in_region),
		T(test_values_that_do_not_fit),
		T(test_open_close_and_requirements),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
