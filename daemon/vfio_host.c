// SPDX-License-Identifier: MIT
/*
 * VFIO groups and IOMMUs as /proc and /sys show them (vfio_host.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend.h"
#include "vfio_host.h"

static char host_root[PATH_MAX];

void vfio_host_set_root(const char *root)
{
	snprintf(host_root, sizeof(host_root), "%s", root ? root : "");
}

/* host_root + the formatted path; false when it does not fit. */
static bool host_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool host_path(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(host_root);
	va_list ap;
	int m;

	if (n >= len)
		return false;
	memcpy(buf, host_root, n);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return m >= 0 && (size_t)m < len - n;
}

/* A small text file, NUL-terminated; its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int vfio_host_group_major(void)
{
	char path[PATH_MAX], line[128];
	bool in_char = false;
	int major = -ENODEV;
	FILE *f;

	if (!host_path(path, sizeof(path), "/proc/devices"))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* "Character devices:" then "NNN name" lines, then "Block devices:". */
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		int m;

		if (!strncmp(line, "Character devices:", 18)) {
			in_char = true;
			continue;
		}
		if (!strncmp(line, "Block devices:", 14))
			break;
		if (in_char && sscanf(line, "%d %63s", &m, name) == 2 &&
		    !strcmp(name, "vfio")) {
			major = m;
			break;
		}
	}
	fclose(f);
	return major;
}

int vfio_host_group_of_rdev(dev_t rdev)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	char *end;
	ssize_t n;
	long group;

	/* /sys/dev/char/M:m -> .../virtual/vfio/N for group N. */
	if (!host_path(path, sizeof(path), "/sys/dev/char/%u:%u", major(rdev),
		       minor(rdev)))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!strstr(target, "/vfio/") || !isdigit((unsigned char)base[0]))
		return -ENODEV;
	errno = 0;
	group = strtol(base, &end, 10);
	if (errno || *end || group < 0 || group > INT_MAX)
		return -ENODEV;
	return (int)group;
}

bool vfio_host_valid_device_name(const char *name)
{
	size_t len = strnlen(name, NAME_MAX + 1);

	if (!len || len > NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || !isgraph((unsigned char)name[i]))
			return false;
	return true;
}

bool vfio_host_group_has_device(unsigned int group, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (!vfio_host_valid_device_name(name) ||
	    !host_path(path, sizeof(path),
		       "/sys/kernel/iommu_groups/%u/devices/%s", group, name))
		return false;
	return !lstat(path, &st) && S_ISLNK(st.st_mode);
}

int vfio_host_parse_resv_regions(const char *text,
				 struct iommu_resv_region *out,
				 unsigned int max)
{
	unsigned int n = 0;
	const char *line = text;

	while (line && *line) {
		unsigned long long start, end;
		char type[32];

		if (sscanf(line, "%llx %llx %31s", &start, &end, type) == 3 &&
		    start <= end && strcmp(type, "direct-relaxable")) {
			if (n < max) {
				out[n].start = start;
				out[n].last = end;
			}
			n++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return (int)n;
}

int vfio_host_resv_regions(unsigned int group, struct iommu_resv_region *out,
			   unsigned int max)
{
	char path[PATH_MAX], text[4096];
	ssize_t n;

	if (!host_path(path, sizeof(path),
		       "/sys/kernel/iommu_groups/%u/reserved_regions", group))
		return -ENAMETOOLONG;
	n = read_small(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	return vfio_host_parse_resv_regions(text, out, max);
}

/* A register file of intel-iommu/: hex without 0x. */
static int read_hex(const char *dir, const char *file, uint64_t *val)
{
	char path[PATH_MAX], text[64], *end;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	n = read_small(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	errno = 0;
	*val = strtoull(text, &end, 16);
	if (errno || end == text || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

int vfio_host_device_iommu(unsigned int group, const char *name,
			   struct vfio_host_iommu *out)
{
	char dev[PATH_MAX], link[PATH_MAX], regs[PATH_MAX + 32];
	const char *base;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (!vfio_host_valid_device_name(name) ||
	    !host_path(dev, sizeof(dev),
		       "/sys/kernel/iommu_groups/%u/devices/%s", group, name))
		return -EINVAL;
	/* DEV/iommu -> .../iommu/dmar0: the unit that translates for it. */
	snprintf(regs, sizeof(regs), "%s/iommu", dev);
	n = readlink(regs, link, sizeof(link) - 1);
	if (n < 0)
		return 0; /* no IOMMU named: nothing to report */
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(out->unit, sizeof(out->unit), "%.31s", base ? base + 1 : link);
	snprintf(regs, sizeof(regs), "%s/iommu/intel-iommu", dev);
	if (!read_hex(regs, "cap", &out->cap) &&
	    !read_hex(regs, "ecap", &out->ecap))
		out->vtd = true;
	return 0;
}
