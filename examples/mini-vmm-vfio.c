// SPDX-License-Identifier: MIT
/*
 * The real-device half of mini-vmm (mini-vmm-vfio.h).
 */
#define _GNU_SOURCE
#include "mini-vmm-vfio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/vfio/edu.h"

#define DMA_TIMEOUT_MS 10000u

int vmm_vfio_bind(struct iommufd *h, uint32_t ioas_id, const char *spec,
		  struct vmm_vfio *v, uint32_t *hwpt_id)
{
	const char *colon = strchr(spec, ':');
	char *end;
	long group;
	int ret;

	memset(v, 0, sizeof(*v));
	v->edu.group_fd = v->edu.device_fd = -1;
	errno = 0;
	group = strtol(spec, &end, 10);
	if (!colon || end != colon || errno || group < 0 ||
	    strlen(colon + 1) >= sizeof(v->edu.name) || !colon[1])
		return -EINVAL;
	v->edu.group = (int)group;
	snprintf(v->edu.name, sizeof(v->edu.name), "%s", colon + 1);
	/* The group is opened by the VMM: the permission check is ours. */
	ret = edu_vfio_open_group(&v->edu);
	if (ret)
		return ret;
	ret = iommufd_vfio_device_bind(h, v->edu.group_fd, v->edu.name,
				       &v->dev_id);
	if (ret)
		return ret;
	return iommufd_device_attach(h, v->dev_id, ioas_id, hwpt_id);
}

int vmm_vfio_open_device(struct vmm_vfio *v)
{
	/* Bus mastering, BAR0, and the edu's ID and liveness registers. */
	return edu_vfio_open_device(&v->edu);
}

int vmm_vfio_copy(struct vmm_vfio *v, uint64_t src, uint64_t dst, size_t len)
{
	int ret;

	if (len >= EDU_BUF_SIZE)
		return -EINVAL;
	ret = edu_dma(&v->edu.edu, EDU_RAM_TO_DEV, src, 0, (uint32_t)len,
		      DMA_TIMEOUT_MS);
	if (!ret)
		ret = edu_dma(&v->edu.edu, EDU_DEV_TO_RAM, dst, 0,
			      (uint32_t)len, DMA_TIMEOUT_MS);
	return ret;
}

int vmm_vfio_close(struct iommufd *h, struct vmm_vfio *v)
{
	int ret = 0;

	edu_vfio_close_device(&v->edu);
	if (v->dev_id)
		ret = iommufd_destroy(h, v->dev_id);
	v->dev_id = 0;
	edu_vfio_close(&v->edu);
	return ret;
}
