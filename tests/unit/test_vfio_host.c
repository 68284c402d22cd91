// SPDX-License-Identifier: MIT
/*
 * What the vfio backend reads from /proc and /sys (vfio_host.c), against
 * a made-up tree laid out as the kernel lays out the real one (the guest's
 * values from tests/vfio/FACTS.md): the vfio major in /proc/devices, the
 * group behind a character device number, a group's devices and reserved
 * regions, and the VT-d unit's cap/ecap behind a device.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend.h"
#include "vfio_host.h"

static char root[PATH_MAX];

/* root + the formatted path */
static const char *at(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *at(const char *fmt, ...)
{
	static char path[PATH_MAX];
	size_t n = (size_t)snprintf(path, sizeof(path), "%s/", root);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path + n, sizeof(path) - n, fmt, ap);
	va_end(ap);
	return path;
}

static void mkdirs(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *target, const char *path)
{
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	const char *pci = "devices/pci0000:00/0000:00:01.0";

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_vfio_host.XXXXXX");
	assert_non_null(mkdtemp(root));
	mkdirs(at("proc"));
	write_file(at("proc/devices"), "Character devices:\n"
				       "  1 mem\n"
				       "242 vfio\n"
				       "\n"
				       "Block devices:\n"
				       "243 vfio\n");
	mkdirs(at("sys/dev/char"));
	mkdirs(at("sys/devices/virtual/vfio/1"));
	link_to("../../devices/virtual/vfio/1", at("sys/dev/char/242:0"));
	link_to("../../devices/virtual/mem/null", at("sys/dev/char/1:3"));
	link_to("../../devices/virtual/vfio/vfio", at("sys/dev/char/10:196"));

	mkdirs(at("sys/%s", pci));
	mkdirs(at("sys/devices/virtual/iommu/dmar0/intel-iommu"));
	write_file(at("sys/devices/virtual/iommu/dmar0/intel-iommu/cap"),
		   "d2008c22260206\n");
	write_file(at("sys/devices/virtual/iommu/dmar0/intel-iommu/ecap"),
		   "f00f4a\n");
	link_to("../../virtual/iommu/dmar0", at("sys/%s/iommu", pci));

	mkdirs(at("sys/kernel/iommu_groups/1/devices"));
	link_to("../../../../devices/pci0000:00/0000:00:01.0",
		at("sys/kernel/iommu_groups/1/devices/0000:00:01.0"));
	write_file(at("sys/kernel/iommu_groups/1/reserved_regions"),
		   "0x00000000fee00000 0x00000000feefffff msi\n");
	/* a device whose IOMMU sysfs does not name */
	mkdirs(at("sys/kernel/iommu_groups/4/devices/0000:00:1f.0"));
	write_file(at("sys/kernel/iommu_groups/4/reserved_regions"),
		   "0x0000000000000000 0x0000000000ffffff direct-relaxable\n"
		   "0x00000000fee00000 0x00000000feefffff msi\n");
	vfio_host_set_root(root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	vfio_host_set_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_group_major_and_rdev(void **state)
{
	(void)state;
	/* The character device, not the block one of the same name. */
	assert_int_equal(vfio_host_group_major(), 242);
	assert_int_equal(vfio_host_group_of_rdev(makedev(242, 0)), 1);
	/* Not a group: another class, the container, no such device. */
	assert_int_equal(vfio_host_group_of_rdev(makedev(1, 3)), -ENODEV);
	assert_int_equal(vfio_host_group_of_rdev(makedev(10, 196)), -ENODEV);
	assert_int_equal(vfio_host_group_of_rdev(makedev(242, 9)), -ENODEV);

	write_file(at("proc/devices"), "Character devices:\n  1 mem\n");
	assert_int_equal(vfio_host_group_major(), -ENODEV);
}

static void test_device_names(void **state)
{
	char long_name[NAME_MAX + 2];

	(void)state;
	assert_true(vfio_host_valid_device_name("0000:00:01.0"));
	assert_false(vfio_host_valid_device_name(""));
	assert_false(vfio_host_valid_device_name("."));
	assert_false(vfio_host_valid_device_name(".."));
	assert_false(vfio_host_valid_device_name("../1/devices/x"));
	assert_false(vfio_host_valid_device_name("a b"));
	assert_false(vfio_host_valid_device_name("a\n"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(vfio_host_valid_device_name(long_name));

	assert_true(vfio_host_group_has_device(1, "0000:00:01.0"));
	assert_false(vfio_host_group_has_device(1, "0000:00:02.0"));
	assert_false(vfio_host_group_has_device(2, "0000:00:01.0"));
	/* A directory there is not the kernel's link to a device. */
	assert_false(vfio_host_group_has_device(4, "0000:00:1f.0"));
	assert_false(vfio_host_group_has_device(1, ".."));
}

static void test_resv_regions(void **state)
{
	struct iommu_resv_region r[2];

	(void)state;
	assert_int_equal(vfio_host_resv_regions(1, r, 2), 1);
	assert_int_equal(r[0].start, 0xfee00000);
	assert_int_equal(r[0].last, 0xfeefffff);
	/* direct-relaxable is left to the domain, as the kernel does. */
	memset(r, 0, sizeof(r));
	assert_int_equal(vfio_host_resv_regions(4, r, 2), 1);
	assert_int_equal(r[0].start, 0xfee00000);
	assert_int_equal(vfio_host_resv_regions(7, r, 2), -ENOENT);

	/* Malformed and reversed lines are skipped; the count passes max. */
	memset(r, 0, sizeof(r));
	assert_int_equal(vfio_host_parse_resv_regions("garbage\n"
						      "0x2000 0x1000 msi\n"
						      "0x1000 0x1fff reserved\n"
						      "0x3000 0x3fff direct\n"
						      "0x5000 0x5fff msi",
						      r, 1),
			 3);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[0].last, 0x1fff);
	assert_int_equal(vfio_host_parse_resv_regions("", r, 1), 0);
}

static void test_device_iommu(void **state)
{
	struct vfio_host_iommu io;

	(void)state;
	assert_int_equal(vfio_host_device_iommu(1, "0000:00:01.0", &io), 0);
	assert_string_equal(io.unit, "dmar0");
	assert_true(io.vtd);
	assert_int_equal(io.cap, 0xd2008c22260206ULL);
	assert_int_equal(io.ecap, 0xf00f4a);

	/* No IOMMU link: nothing to report, not an error. */
	assert_int_equal(vfio_host_device_iommu(4, "0000:00:1f.0", &io), 0);
	assert_string_equal(io.unit, "");
	assert_false(io.vtd);

	/* Another IOMMU driver: a unit, but no VT-d registers. */
	unlink(at("sys/devices/virtual/iommu/dmar0/intel-iommu/ecap"));
	assert_int_equal(vfio_host_device_iommu(1, "0000:00:01.0", &io), 0);
	assert_string_equal(io.unit, "dmar0");
	assert_false(io.vtd);
	write_file(at("sys/devices/virtual/iommu/dmar0/intel-iommu/ecap"),
		   "f00f4a junk\n");
	assert_int_equal(vfio_host_device_iommu(1, "0000:00:01.0", &io), 0);
	assert_false(io.vtd);

	assert_int_equal(vfio_host_device_iommu(1, "..", &io), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_major_and_rdev,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resv_regions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_iommu, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
