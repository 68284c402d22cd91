/* SPDX-License-Identifier: MIT */
/*
 * libiommufd internals: the handle, the one ioctl entry every wrapper goes
 * through, error and options-struct helpers. Nothing here is exported;
 * internal names start with libiommufd_ so they can never be mistaken for
 * API (every exported name is iommufd_*).
 */
#ifndef LIBIOMMUFD_PRIVATE_H
#define LIBIOMMUFD_PRIVATE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libiommufd.h>

/*
 * The library is built with -fvisibility=hidden; only definitions marked
 * here are exported, and the version script then names each of them.
 */
#define IOMMUFD_EXPORT __attribute__((visibility("default")))

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

struct iommufd {
	int fd;
	bool owns_fd;
	iommufd_log_fn log_fn;
	void *log_userdata;
};

void libiommufd_log(const struct iommufd *h, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log that @name failed with -errno @err, if a log function is set. */
void libiommufd_log_errno(const struct iommufd *h, const char *name, int err);

/*
 * The only place the library calls ioctl(2). Returns the ioctl's
 * non-negative result or -errno, and -EINVAL for a NULL handle, so wrappers
 * need no handle check of their own. Failures are logged with @name; a
 * caller expecting some errno passes NULL and logs for itself.
 */
int libiommufd_ioctl(struct iommufd *h, unsigned long cmd, void *arg,
		     const char *name);

#define LIBIOMMUFD_IOCTL(h, cmd, arg) libiommufd_ioctl(h, cmd, arg, #cmd)

/* Every exported int function returns through this: -errno and errno. */
static inline int libiommufd_err(int ret)
{
	if (ret < 0)
		errno = -ret;
	return ret;
}

/* A caller pointer as the __aligned_u64 the uAPI carries it in. */
static inline uint64_t libiommufd_uptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/*
 * Options structs, libbpf style. Each struct's last field is named by a
 * <type>__last_field macro next to a check that nothing (padding included)
 * follows it, so appending a field without moving the macro fails to build.
 */
#define iommufd_hwpt_alloc_opts__last_field fault_id
#define iommufd_hw_info_opts__last_field out_max_pasid_log2
#define iommufd_viommu_alloc_opts__last_field flags

#define LIBIOMMUFD_OPTS_KNOWN(type) offsetofend(struct type, type##__last_field)
#define LIBIOMMUFD_OPTS_LAST_IS_LAST(type)                                 \
	_Static_assert(sizeof(struct type) == LIBIOMMUFD_OPTS_KNOWN(type), \
		       #type "__last_field is not the last field")

LIBIOMMUFD_OPTS_LAST_IS_LAST(iommufd_hwpt_alloc_opts);
LIBIOMMUFD_OPTS_LAST_IS_LAST(iommufd_hw_info_opts);
LIBIOMMUFD_OPTS_LAST_IS_LAST(iommufd_viommu_alloc_opts);

/*
 * NULL is valid (all defaults). sz must cover at least the sz field, and
 * bytes past what this library knows must be zero: a newer caller asking
 * for something this version cannot do must hear so, not be ignored.
 */
static inline int libiommufd_opts_check(const void *opts, size_t known)
{
	const unsigned char *p = opts;
	size_t sz, i;

	if (!opts)
		return 0;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (i = known; i < sz; i++)
		if (p[i])
			return -E2BIG;
	return 0;
}

#define LIBIOMMUFD_OPTS_CHECK(opts, type) \
	libiommufd_opts_check(opts, LIBIOMMUFD_OPTS_KNOWN(type))

/* Did a caller built against an older header include @field at all? */
#define LIBIOMMUFD_OPTS_HAS(opts, type, field) \
	((opts) && (opts)->sz >= offsetofend(struct type, field))

#define LIBIOMMUFD_OPTS_GET(opts, type, field, def) \
	(LIBIOMMUFD_OPTS_HAS(opts, type, field) ? (opts)->field : (def))

#define LIBIOMMUFD_OPTS_SET(opts, type, field, val)         \
	do {                                                \
		if (LIBIOMMUFD_OPTS_HAS(opts, type, field)) \
			(opts)->field = (val);              \
	} while (0)

#endif /* LIBIOMMUFD_PRIVATE_H */
