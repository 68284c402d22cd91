// SPDX-License-Identifier: MIT
/*
 * The public header on its own, as strict C99 (-std=c99 -pedantic -Werror),
 * linked against the shared library: every type and macro a C99 program
 * would use must compile, and the calls must resolve to real exports.
 */
#include <libiommufd.h>

#include <errno.h>

int main(void)
{
	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, hwpt, .flags = 0);
	IOMMUFD_OPTS(iommufd_hw_info_opts, info, .data_len = 0);
	IOMMUFD_OPTS(iommufd_viommu_alloc_opts, viommu, .flags = 0);
	struct iommufd_iova_range range = { 0, UINT64_MAX };
	iommufd_log_fn log_fn = NULL;
	struct iommufd *h = NULL;

	(void)log_fn;
	(void)range;
	if (hwpt.sz != sizeof(hwpt) || info.sz != sizeof(info) ||
	    viommu.sz != sizeof(viommu))
		return 1;
	/* Through the real library: -errno returned and errno set. */
	if (iommufd_open("/nonexistent/iommu", &h) != -ENOENT ||
	    errno != ENOENT || h)
		return 1;
	return 0;
}
