// SPDX-License-Identifier: MIT
/*
 * Accesses: in-daemon users of an IOAS (what a mediated device driver is to
 * the kernel). Before an unmap removes an area they hold pins on, each one
 * is told to drop them.
 */
#include "iommufd_private.h"

struct iommufd_access {
	struct iommufd_object obj; /* must be first */
	struct list_head item;	   /* on ioas->iopt.access_list */
	const struct iommufd_access_ops *ops;
	void *data;
};

void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length)
{
	struct iommufd_access *access, *next;

	list_for_each_entry_safe(access, next, &iopt->access_list, item)
		access->ops->unmap(access->data, iova, length);
}

void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		container_of(obj, struct iommufd_access, obj);

	list_del(&access->item);
}
