/* SPDX-License-Identifier: MIT */
/*
 * sysfs helpers for the VFIO guest tests (see vfio_sysfs.h).
 */
#define _GNU_SOURCE
#include "vfio_sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PCI_DEVICES "/sys/bus/pci/devices"

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	return (int)n;
}

static int write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int read_u64_file(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int ret;

	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static int pci_id_matches(const char *name, uint16_t vendor, uint16_t device)
{
	char path[PATH_MAX];
	uint64_t v, d;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", name);
	if (read_u64_file(path, &v))
		return 0;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", name);
	if (read_u64_file(path, &d))
		return 0;
	return v == vendor && d == device;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int pci_find_devices(uint16_t vendor, uint16_t device,
		     char (*names)[PCI_NAME_LEN], int max)
{
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= PCI_NAME_LEN)
			continue;
		if (!pci_id_matches(de->d_name, vendor, device))
			continue;
		if (n < max)
			memcpy(names[n], de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	closedir(dir);
	qsort(names, n < max ? n : max, PCI_NAME_LEN, name_cmp);
	return n;
}

int pci_iommu_group(const char *name)
{
	char path[PATH_MAX], target[PATH_MAX], *base, *end;
	ssize_t n;
	long group;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	group = strtol(base, &end, 10);
	if (end == base || *end || group < 0 || group > INT_MAX)
		return -EINVAL;
	return (int)group;
}

/* The name of the driver bound to the device, or "" if none. */
static int pci_driver(const char *name, char *drv, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		drv[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(drv, base, strlen(base) + 1);
	return 0;
}

/* Wait up to about two seconds for path to exist. */
static int wait_for_path(const char *path)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

int pci_bind_vfio(const char *name)
{
	char path[PATH_MAX], drv[64];
	int ret, group;

	group = pci_iommu_group(name);
	if (group < 0)
		return group; /* no IOMMU: vfio-pci would refuse the device */
	ret = pci_driver(name, drv, sizeof(drv));
	if (ret)
		return ret;
	if (strcmp(drv, "vfio-pci") != 0) {
		/* Only vfio-pci may take the device, now and on any re-probe. */
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override",
			 name);
		ret = write_text(path, "vfio-pci");
		if (ret)
			return ret;
		if (drv[0]) {
			snprintf(path, sizeof(path),
				 PCI_DEVICES "/%s/driver/unbind", name);
			ret = write_text(path, name);
			if (ret)
				return ret;
		}
		ret = write_text("/sys/bus/pci/drivers/vfio-pci/bind", name);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return wait_for_path(path);
}

int iommu_group_reserved_regions(int group, struct iommu_resv_region *out,
				 int max)
{
	char path[PATH_MAX], line[128];
	struct iommu_resv_region r;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/iommu_groups/%d/reserved_regions", group);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %23s", &r.start,
			   &r.end, r.type) != 3) {
			fclose(f);
			return -EINVAL;
		}
		if (n < max)
			out[n] = r;
		n++;
	}
	fclose(f);
	return n;
}

static int read_hex_file(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int ret;

	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 16);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int intel_iommu_regs(char *unit, size_t unit_len, uint64_t *cap, uint64_t *ecap)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = -ENODEV;
	DIR *dir;

	dir = opendir("/sys/class/iommu");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/iommu/%s/intel-iommu/cap", de->d_name);
		if (read_hex_file(path, cap))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/iommu/%s/intel-iommu/ecap", de->d_name);
		ret = read_hex_file(path, ecap);
		if (ret)
			break;
		snprintf(unit, unit_len, "%s", de->d_name);
		break;
	}
	closedir(dir);
	return ret;
}
