/* SPDX-License-Identifier: MIT */
/*
 * mini-vmm --vfio GROUP:DEVICE: a real device behind iommufdd's vfio
 * backend instead of the mock. The VMM's side of issue 8's design: open
 * the group ourselves, bind the device on /dev/iommu, attach it, take the
 * device fd from our own group fd. The DMA engine driven is QEMU's edu
 * (1234:11e8, tests/vfio/edu.h); other devices are refused.
 */
#ifndef MINI_VMM_VFIO_H
#define MINI_VMM_VFIO_H

#include <stddef.h>
#include <stdint.h>

#include <libiommufd.h>

#include "../tests/vfio/edu_vfio.h"

struct vmm_vfio {
	struct edu_vfio edu; /* group number and fd, name, device fd, BAR0 */
	uint32_t dev_id;
};

/*
 * Parse GROUP:DEVICE ("1:0000:00:01.0"), open /dev/vfio/GROUP, bind the
 * device and attach it to @ioas_id (*@hwpt_id gets the HWPT). 0 or -errno.
 */
int vmm_vfio_bind(struct iommufd *h, uint32_t ioas_id, const char *spec,
		  struct vmm_vfio *v, uint32_t *hwpt_id);

/* Take the device fd from our group fd, map BAR0, check it is an edu. */
int vmm_vfio_open_device(struct vmm_vfio *v);

/*
 * The device copies @len bytes from IOVA @src to IOVA @dst through its
 * buffer (two DMAs, each through the IOMMU). 0 or -errno.
 */
int vmm_vfio_copy(struct vmm_vfio *v, uint64_t src, uint64_t dst, size_t len);

/* Close the device fd and BAR0, unbind (DESTROY), close the group. */
int vmm_vfio_close(struct iommufd *h, struct vmm_vfio *v);

#endif
