// SPDX-License-Identifier: MIT
/*
 * The public header on its own as C++ (-pedantic -Werror), linked against
 * the shared library: the link fails if the declarations lost extern "C".
 */
#include <libiommufd.h>

#include <cerrno>

int main()
{
	iommufd_hwpt_alloc_opts opts = iommufd_hwpt_alloc_opts();
	iommufd *h = 0;

	opts.sz = sizeof(opts);
	if (iommufd_open("/nonexistent/iommu", &h) != -ENOENT ||
	    errno != ENOENT || h)
		return 1;
	iommufd_close(h);
	return iommufd_hwpt_alloc(h, 1, 2, &opts, 0) == -EINVAL ? 0 : 1;
}
