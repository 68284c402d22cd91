// SPDX-License-Identifier: MIT
/*
 * The fake /dev/iommu behind libiommufd's unit test; see fake_iommu.h.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "abi.h"
#include "core.h"
#include "fake_iommu.h"

#define FAKE_EXPORT __attribute__((visibility("default")))

struct fake_iommu {
	struct iommufd_ctx *ctx;
	struct ucaller caller;
};

FAKE_EXPORT int fake_iommu_init(void)
{
	return iommufd_core_init("mock");
}

FAKE_EXPORT int fake_iommu_set_abi(const char *level)
{
	return abi_level_parse(level, &iommufd_abi);
}

FAKE_EXPORT struct fake_iommu *fake_iommu_open(void)
{
	struct fake_iommu *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	/* The core reaches the caller's memory and fds through this thread. */
	f->caller.pid = gettid();
	f->caller.uid = getuid();
	f->caller.gid = getgid();
	f->ctx = iommufd_ctx_open(&f->caller);
	if (!f->ctx) {
		free(f);
		return NULL;
	}
	return f;
}

FAKE_EXPORT long fake_iommu_ioctl(struct fake_iommu *f, unsigned long cmd,
				  void *arg)
{
	return iommufd_ctx_ioctl(f->ctx, &f->caller, (unsigned int)cmd,
				 (uint64_t)(uintptr_t)arg);
}

FAKE_EXPORT void fake_iommu_close(struct fake_iommu *f)
{
	if (!f)
		return;
	iommufd_ctx_release(f->ctx);
	free(f);
}
