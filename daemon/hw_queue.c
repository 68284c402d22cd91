// SPDX-License-Identifier: MIT
/*
 * HW queue objects (docs/newest-uapi.md §3.6): a queue the IOMMU reads from
 * guest memory, given by its IOVA in the vIOMMU's nesting parent. While the
 * queue lives its memory stays pinned by an internal ACCESS object on the
 * parent's IOAS that cannot let go, so unmapping it is EBUSY; that access
 * takes the id after the queue's, as in the kernel, and DESTROY of it is
 * EBUSY. The checks run in the kernel's order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "iommufd_private.h"
#include "log.h"
#include "util.h"

/* Nothing may take the pins away: the queue must be destroyed first. */
static const struct iommufd_access_ops hw_queue_access_ops = { 0 };

struct iommu_domain *iommufd_viommu_parent_domain(struct iommufd_viommu *viommu)
{
	return viommu->hwpt->common.domain;
}

struct iommufd_hw_queue *
iommufd_viommu_find_hw_queue(struct iommufd_viommu *viommu, uint32_t type,
			     uint32_t index)
{
	struct iommufd_hw_queue *q;

	list_for_each_entry(q, &viommu->hw_queues, item) {
		if (q->type == type && q->index == index)
			return q;
	}
	return NULL;
}

void iommufd_hw_queue_depend(struct iommufd_hw_queue *dependant,
			     struct iommufd_hw_queue *queue)
{
	iommufd_object_get(&queue->obj);
	dependant->depend = queue;
}

void iommufd_hw_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_queue *q =
		container_of(obj, struct iommufd_hw_queue, obj);

	if (q->access) {
		iommufd_access_unpin_pages(q->access, q->pin_iova,
					   q->pin_length);
		iommufd_access_destroy(q->access);
	}
	if (q->depend)
		iommufd_object_put(&q->depend->obj);
	if (q->viommu) {
		list_del(&q->item);
		iommufd_object_put(&q->viommu->obj);
	}
}

/*
 * Pin the queue's pages through a new internal access on the parent's
 * IOAS: ENOENT if any of it is not mapped, EFAULT if the pages are not
 * physically contiguous. The physical address of q->iova in *paddr.
 */
static int hw_queue_pin(struct iommufd_ctx *ictx, struct iommufd_hw_queue *q,
			struct iommufd_viommu *viommu, uint64_t *paddr)
{
	uint64_t offset = q->iova % PAGE_SIZE, npages, *paddrs, i;
	int ret;

	if (check_add_overflow_u64(offset, q->length, &npages) ||
	    check_add_overflow_u64(npages, PAGE_SIZE - 1, &npages))
		return -ERANGE;
	npages /= PAGE_SIZE;
	q->pin_iova = q->iova - offset;
	q->pin_length = npages * PAGE_SIZE;
	paddrs = calloc(npages, sizeof(*paddrs));
	if (!paddrs)
		return -ENOMEM;
	q->access =
		iommufd_access_create_internal(ictx, &hw_queue_access_ops, q);
	if (!q->access) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = iommufd_access_attach(q->access, viommu->hwpt->ioas->obj.id);
	if (!ret)
		ret = iommufd_access_pin_pages(q->access, q->pin_iova,
					       q->pin_length, paddrs, 0);
	if (ret)
		goto out_destroy;
	for (i = 1; i < npages; i++) {
		if (paddrs[i] != paddrs[0] + i * PAGE_SIZE) {
			iommufd_access_unpin_pages(q->access, q->pin_iova,
						   q->pin_length);
			ret = -EFAULT;
			goto out_destroy;
		}
	}
	*paddr = paddrs[0] + offset;
	free(paddrs);
	return 0;

out_destroy:
	iommufd_access_destroy(q->access);
	q->access = NULL;
out_free:
	free(paddrs);
	return ret;
}

/* §3.6 steps 1-5; the vIOMMU, its lookup reference held, on success. */
static int hw_queue_check(struct iommufd_ucmd *ucmd,
			  const struct iommu_hw_queue_alloc *cmd,
			  struct iommufd_viommu **viommu)
{
	struct iommufd_object *obj;
	uint64_t last;

	if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (check_add_overflow_u64(cmd->nesting_parent_iova, cmd->length - 1,
				   &last))
		return -EOVERFLOW;
	obj = iommufd_get_object(ucmd->ictx, cmd->viommu_id,
				 IOMMUFD_OBJ_VIOMMU);
	if (!obj)
		return -ENOENT;
	*viommu = container_of(obj, struct iommufd_viommu, obj);
	if (!(*viommu)->ops->hw_queue_init ||
	    !(*viommu)->ops->hw_queue_type_supported(cmd->type)) {
		iommufd_put_object(ucmd->ictx, obj);
		return -EOPNOTSUPP;
	}
	return 0;
}

int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_queue_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	struct iommufd_hw_queue *q;
	uint64_t paddr = 0;
	int ret;

	ret = hw_queue_check(ucmd, cmd, &viommu);
	if (ret)
		return ret;
	q = iommufd_object_alloc_type(ucmd->ictx, q, IOMMUFD_OBJ_HW_QUEUE);
	if (!q) {
		ret = -ENOMEM;
		goto out_put;
	}
	q->type = cmd->type;
	q->index = cmd->index;
	q->iova = cmd->nesting_parent_iova;
	q->length = cmd->length;
	ret = hw_queue_pin(ucmd->ictx, q, viommu, &paddr);
	if (ret)
		goto out_abort;
	/* The driver looks for the other queues: this one is not among them. */
	ret = viommu->ops->hw_queue_init(viommu, q, paddr);
	if (ret)
		goto out_abort;
	q->viommu = viommu;
	iommufd_object_get(&viommu->obj);
	list_add_tail(&q->item, &viommu->hw_queues);

	cmd->out_hw_queue_id = q->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &q->obj);
	goto out_put;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &q->obj);
out_put:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return ret;
}
