/* SPDX-License-Identifier: MIT */
/*
 * A fake /dev/iommu for libiommufd's unit test: the daemon core, driven
 * in-process with the calling thread as the ioctl caller.
 *
 * The core lives in its own shared object (libiommufd-fake) that exports
 * only these functions. Its ioctl handlers are named like the kernel's
 * (iommufd_ioas_map, iommufd_hwpt_alloc, ...), and so are libiommufd's
 * public functions, so the two cannot share one link: the version script
 * makes every core symbol local to the shim, where nothing in the test
 * executable can preempt it.
 */
#ifndef IOMMUFDD_TESTS_FAKE_IOMMU_H
#define IOMMUFDD_TESTS_FAKE_IOMMU_H

struct fake_iommu;

/* Select the mock backend, once per process. Returns 0 or -errno. */
int fake_iommu_init(void);

/* Answer as kernel @level ("6.12", "7.2"), as --kernel-abi does. */
int fake_iommu_set_abi(const char *level);

/* A new context, as an open() of /dev/iommu by the calling thread. */
struct fake_iommu *fake_iommu_open(void);

/* One ioctl from the calling thread. Returns its result or -errno. */
long fake_iommu_ioctl(struct fake_iommu *f, unsigned long cmd, void *arg);

/* The last close: destroys every object of the context. */
void fake_iommu_close(struct fake_iommu *f);

#endif
