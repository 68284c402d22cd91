// SPDX-License-Identifier: MIT
/*
 * Accesses: in-daemon users of an IOAS, what a mediated device driver is to
 * the kernel. An access pins IOVA ranges to get at their pages, or copies
 * bytes through the IOAS without pinning. Before an unmap removes an area an
 * access has pinned, the access is told to let go (ops->unmap) and the unmap
 * retries.
 */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "iommufd_private.h"
#include "log.h"
#include "pages.h"

struct iommufd_access {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct iommufd_ioas *ioas;
	struct list_head item; /* on ioas->iopt.access_list */
	const struct iommufd_access_ops *ops;
	void *data;
	bool needs_pin;
	bool internal; /* the daemon's own (a HW queue's): holds no context */
};

struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data,
		      bool needs_pin, unsigned int *id)
{
	struct iommufd_access *access =
		iommufd_object_alloc_type(ictx, access, IOMMUFD_OBJ_ACCESS);

	if (!access)
		return NULL;
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	access->needs_pin = needs_pin;
	list_init(&access->item);
	/* The owning driver's reference: user DESTROY cannot take it away. */
	iommufd_object_get(&access->obj);
	/* Like the kernel's, an access keeps its context alive. */
	iommufd_ctx_get(ictx);
	iommufd_object_finalize(ictx, &access->obj);
	*id = access->obj.id;
	return access;
}

/*
 * An access the context's own objects use (a HW queue's pins): it lives
 * and dies with its owner inside the context, so it does not hold it.
 */
struct iommufd_access *
iommufd_access_create_internal(struct iommufd_ctx *ictx,
			       const struct iommufd_access_ops *ops, void *data)
{
	unsigned int id;
	struct iommufd_access *access =
		iommufd_access_create(ictx, ops, data, true, &id);

	if (access) {
		access->internal = true;
		iommufd_ctx_put(ictx);
	}
	return access;
}

void iommufd_access_destroy(struct iommufd_access *access)
{
	struct iommufd_ctx *ictx = access->ictx;

	bool internal = access->internal;

	iommufd_access_detach(access);
	iommufd_object_put(&access->obj);
	iommufd_object_remove(ictx, access->obj.id, false);
	if (!internal)
		iommufd_ctx_put(ictx);
}

unsigned int iommufd_access_ioas_id(const struct iommufd_object *obj)
{
	const struct iommufd_access *access =
		container_of(obj, const struct iommufd_access, obj);

	return access->ioas ? access->ioas->obj.id : 0;
}

unsigned int iommufd_access_id(const struct iommufd_access *access)
{
	return access->obj.id;
}

bool iommufd_access_needs_pin(const struct iommufd_access *access)
{
	return access->needs_pin;
}

void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	iommufd_access_detach(container_of(obj, struct iommufd_access, obj));
}

static int access_join(struct iommufd_access *access, struct iommufd_ioas *ioas)
{
	int ret;

	if (access->needs_pin) {
		ret = iopt_add_pinning_access(&ioas->iopt);
		if (ret)
			return ret;
	}
	list_add_tail(&access->item, &ioas->iopt.access_list);
	return 0;
}

/* Let go of everything in the old IOAS, then leave it. */
static void access_leave(struct iommufd_access *access)
{
	struct iommufd_ioas *ioas = access->ioas;

	if (access->ops->unmap)
		access->ops->unmap(access->data, 0, UINT64_MAX);
	list_del(&access->item);
	if (access->needs_pin)
		iopt_remove_pinning_access(&ioas->iopt);
	access->ioas = NULL;
	iommufd_object_put(&ioas->obj);
}

int iommufd_access_attach(struct iommufd_access *access, unsigned int ioas_id)
{
	struct iommufd_ioas *ioas;
	int ret;

	if (access->ioas)
		return -EINVAL;
	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (!ioas)
		return -ENOENT;
	ret = access_join(access, ioas);
	if (ret) {
		iommufd_put_object(access->ictx, &ioas->obj);
		return ret;
	}
	/* The lookup's reference on the IOAS becomes the access's. */
	access->ioas = ioas;
	return 0;
}

int iommufd_access_replace(struct iommufd_access *access, unsigned int ioas_id)
{
	struct iommufd_ioas *ioas;
	int ret;

	if (!access->ioas)
		return -ENOENT;
	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (!ioas)
		return -ENOENT;
	if (ioas == access->ioas) {
		iommufd_put_object(access->ictx, &ioas->obj);
		return 0;
	}
	access_leave(access);
	ret = access_join(access, ioas);
	if (ret) {
		iommufd_put_object(access->ictx, &ioas->obj);
		return ret;
	}
	access->ioas = ioas;
	return 0;
}

void iommufd_access_detach(struct iommufd_access *access)
{
	if (access->ioas)
		access_leave(access);
}

void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length)
{
	struct iommufd_access *access, *next;

	list_for_each_entry_safe(access, next, &iopt->access_list, item)
		if (access->ops->unmap)
			access->ops->unmap(access->data, iova, length);
}

/* Unpin what pin_pages pinned in [iova, last], up to the area @stop. */
static void access_unpin_range(struct iommufd_access *access,
			       struct io_pagetable *iopt, uint64_t iova,
			       uint64_t last, struct iopt_area *stop)
{
	struct iopt_contig_iter it;
	struct iopt_area *area;

	for (area = iopt_contig_first(&it, iopt, iova, last);
	     area && area != stop; area = iopt_contig_next(&it)) {
		uint64_t first = iopt_area_byte(area, it.start) / PAGE_SIZE;
		uint64_t end = iopt_area_byte(area, it.last) / PAGE_SIZE;

		if (!access->ops->unmap)
			iopt_area_lock_access(area, false);
		iopt_area_unpin_access(area, first, end);
	}
}

/*
 * Pin every page behind [iova, iova + length) and return their physical
 * addresses, one per page the range touches. The range must be mapped
 * without holes.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova,
			     uint64_t length, uint64_t *paddrs,
			     unsigned int flags)
{
	struct iopt_contig_iter it;
	struct io_pagetable *iopt;
	struct iopt_area *area;
	uint64_t last;
	int ret = 0;

	if (!access->needs_pin)
		return -EINVAL;
	if (!access->ioas)
		return -ENOENT;
	ret = range_last(iova, length, &last);
	if (ret)
		return ret;
	iopt = &access->ioas->iopt;

	for (area = iopt_contig_first(&it, iopt, iova, last); area;
	     area = iopt_contig_next(&it)) {
		uint64_t first = iopt_area_byte(area, it.start) / PAGE_SIZE;
		uint64_t end = iopt_area_byte(area, it.last) / PAGE_SIZE, i;
		/* What the access does with the pages is its own business. */
		bool writable = area->iommu_prot & IOMMU_WRITE;

		if (area->prevent_access) {
			ret = -EINVAL;
			break;
		}
		if ((flags & IOMMUFD_ACCESS_RW_WRITE) &&
		    !(area->iommu_prot & IOMMU_WRITE)) {
			ret = -EPERM;
			break;
		}
		ret = iopt_area_pin_access(area, first, end, writable);
		if (ret)
			break;
		/* Nothing can ask this access to let go: unmap is EBUSY. */
		if (!access->ops->unmap)
			iopt_area_lock_access(area, true);
		for (i = first; i <= end; i++) {
			uint64_t contig;

			*paddrs++ = iopt_pages_paddr(area->pages, i, writable,
						     &contig);
		}
	}
	if (!ret && !it.covered)
		ret = -ENOENT;
	if (ret)
		access_unpin_range(access, iopt, iova, last, area);
	return ret;
}

void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova,
				uint64_t length)
{
	if (!access->ioas || !length)
		return;
	access_unpin_range(access, &access->ioas->iopt, iova, iova + length - 1,
			   NULL);
}

int iommufd_access_rw(struct iommufd_access *access, uint64_t iova, void *data,
		      uint64_t length, unsigned int flags)
{
	if (!access->ioas)
		return -ENOENT;
	return iopt_rw(&access->ioas->iopt, iova, data, length,
		       flags & IOMMUFD_ACCESS_RW_WRITE);
}
