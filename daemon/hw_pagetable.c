// SPDX-License-Identifier: MIT
/*
 * HWPT objects: a PAGING HWPT mirrors an IOAS into a backend domain; a
 * NESTED HWPT is a stage-1 domain on top of a PAGING parent. This file owns
 * their life cycle and the HWPT ioctls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "backend.h"
#include "iommufd_private.h"
#include "log.h"
#include "uaccess.h"

/* The 6.12 tree bounds invalidation arrays (uapi.md §9.1). */
#define HWPT_INVALIDATE_ENTRY_NUM_MAX (1U << 19)

static void hwpt_put_fault(struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->fault)
		iommufd_object_put(&hwpt->fault->obj);
}

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		container_of(obj, struct iommufd_hwpt_paging, common.obj);
	struct iommu_domain *domain = hwpt_paging->common.domain;

	if (!list_empty(&hwpt_paging->hwpt_item)) {
		list_del(&hwpt_paging->hwpt_item);
		iopt_table_remove_domain(&hwpt_paging->ioas->iopt, domain);
	}
	if (domain)
		domain->ops->domain_free(domain);
	hwpt_put_fault(&hwpt_paging->common);
	iommufd_object_put(&hwpt_paging->ioas->obj);
}

void iommufd_hwpt_nested_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_nested *hwpt_nested =
		container_of(obj, struct iommufd_hwpt_nested, common.obj);

	if (hwpt_nested->common.domain)
		hwpt_nested->common.domain->ops->domain_free(
			hwpt_nested->common.domain);
	hwpt_put_fault(&hwpt_nested->common);
	if (hwpt_nested->viommu)
		iommufd_object_put(&hwpt_nested->viommu->obj);
	else if (hwpt_nested->parent)
		iommufd_object_put(&hwpt_nested->parent->common.obj);
}

/*
 * Build a PAGING HWPT for @ioas with a domain suited to @idev and replay the
 * IOAS into it. With @immediate_attach the device is attached before the
 * replay, as an automatic domain needs. The object is not published.
 */
static struct iommufd_hwpt_paging *
hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
		  struct iommufd_device *idev, uint32_t flags,
		  const struct iommu_user_data *data, bool immediate_attach,
		  int *err)
{
	const struct iommu_backend_ops *ops = idev->dev->ops;
	struct iommufd_hwpt_paging *hwpt_paging;
	int ret;

	hwpt_paging = container_of_or_null(
		iommufd_object_alloc(ictx, sizeof(*hwpt_paging),
				     IOMMUFD_OBJ_HWPT_PAGING),
		struct iommufd_hwpt_paging, common.obj);
	if (!hwpt_paging) {
		*err = -ENOMEM;
		return NULL;
	}
	list_init(&hwpt_paging->hwpt_item);
	hwpt_paging->ioas = ioas;
	iommufd_object_get(&ioas->obj);
	hwpt_paging->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;

	hwpt_paging->common.domain =
		data ? ops->domain_alloc_paging_data(idev->dev, flags, data,
						     &ret) :
		       ops->domain_alloc_paging(idev->dev, flags, &ret);
	if (!hwpt_paging->common.domain)
		goto err_abort;
	/*
	 * Decided once, before anything is mapped, as the kernel does, and
	 * only for a device whose IOMMU can enforce it.
	 */
	if (ops->dev_enforces_cache_coherency &&
	    ops->dev_enforces_cache_coherency(idev->dev) &&
	    ops->enforce_cache_coherency)
		hwpt_paging->enforce_cache_coherency =
			ops->enforce_cache_coherency(
				hwpt_paging->common.domain);

	if (immediate_attach) {
		ret = iommufd_hw_pagetable_attach(&hwpt_paging->common, idev);
		if (ret)
			goto err_abort;
	}
	ret = iopt_table_add_domain(&ioas->iopt, hwpt_paging->common.domain);
	if (ret)
		goto err_detach;
	list_add_tail(&hwpt_paging->hwpt_item, &ioas->hwpt_list);
	return hwpt_paging;

err_detach:
	if (immediate_attach)
		iommufd_device_detach(idev);
err_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt_paging->common.obj);
	*err = ret;
	return NULL;
}

struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, uint32_t flags,
			  bool immediate_attach, int *err)
{
	return hwpt_paging_alloc(ictx, ioas, idev, flags, NULL,
				 immediate_attach, err);
}

static struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct iommufd_ctx *ictx,
			  struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, uint32_t flags,
			  const struct iommu_user_data *data, int *err)
{
	const struct iommu_backend_ops *ops = idev->dev->ops;
	struct iommufd_hwpt_nested *hwpt_nested;

	uint32_t valid = IOMMU_HWPT_FAULT_ID_VALID;

	if (abi_newest(ABI_HWPT_ALLOC_PASID))
		valid |= IOMMU_HWPT_ALLOC_PASID;
	if ((flags & ~valid) || !data->len || !ops->domain_alloc_nested) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (parent->auto_domain || !parent->nest_parent ||
	    parent->common.domain->ops != ops) {
		*err = -EINVAL;
		return NULL;
	}

	hwpt_nested = container_of_or_null(
		iommufd_object_alloc(ictx, sizeof(*hwpt_nested),
				     IOMMUFD_OBJ_HWPT_NESTED),
		struct iommufd_hwpt_nested, common.obj);
	if (!hwpt_nested) {
		*err = -ENOMEM;
		return NULL;
	}
	hwpt_nested->parent = parent;
	iommufd_object_get(&parent->common.obj);

	hwpt_nested->common.domain = ops->domain_alloc_nested(
		idev->dev, parent->common.domain, flags & ~valid, data, err);
	if (!hwpt_nested->common.domain) {
		iommufd_object_abort_and_destroy(ictx,
						 &hwpt_nested->common.obj);
		return NULL;
	}
	return hwpt_nested;
}

/*
 * A nested HWPT on a vIOMMU (§3.3): it holds the vIOMMU, and its parent
 * is the vIOMMU's nesting parent. The device must be behind the vIOMMU's
 * IOMMU (one per backend here).
 */
static struct iommufd_hwpt_nested *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, uint32_t flags,
				 const struct iommu_user_data *data, int *err)
{
	const struct iommu_backend_ops *ops = viommu->ops;
	struct iommufd_hwpt_nested *hwpt_nested;

	if (idev->dev->ops != ops) {
		*err = -EINVAL;
		return NULL;
	}
	if ((flags & ~(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)) ||
	    !data->len || !ops->domain_alloc_nested) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	hwpt_nested =
		container_of(iommufd_object_alloc(ictx, sizeof(*hwpt_nested),
						  IOMMUFD_OBJ_HWPT_NESTED),
			     struct iommufd_hwpt_nested, common.obj);
	if (!hwpt_nested) {
		*err = -ENOMEM;
		return NULL;
	}
	hwpt_nested->viommu = viommu;
	hwpt_nested->parent = viommu->hwpt;
	iommufd_object_get(&viommu->obj);
	hwpt_nested->common.domain = ops->domain_alloc_nested(
		idev->dev, viommu->hwpt->common.domain, 0, data, err);
	if (!hwpt_nested->common.domain) {
		iommufd_object_abort_and_destroy(ictx,
						 &hwpt_nested->common.obj);
		return NULL;
	}
	hwpt_nested->common.domain->viommu = viommu;
	return hwpt_nested;
}

/*
 * The paging flags the kernel's core accepts at the ABI level in force
 * (abi.h), and those the backend sees: ALLOC_PASID is the IOMMU's to
 * refuse (the mock takes it), a fault queue the core's alone.
 */
static int hwpt_paging_flags(uint32_t flags, uint32_t *backend_flags)
{
	uint32_t valid = IOMMU_HWPT_ALLOC_NEST_PARENT |
			 IOMMU_HWPT_ALLOC_DIRTY_TRACKING;

	if (abi_newest(ABI_HWPT_ALLOC_PASID))
		valid |= IOMMU_HWPT_ALLOC_PASID;
	if (abi_newest(ABI_HWPT_ALLOC_FAULT_PAGING) &&
	    !(flags & IOMMU_HWPT_ALLOC_NEST_PARENT))
		valid |= IOMMU_HWPT_FAULT_ID_VALID;
	if (flags & ~valid)
		return -EOPNOTSUPP;
	*backend_flags = flags & ~IOMMU_HWPT_FAULT_ID_VALID;
	return 0;
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	const struct iommu_user_data data = {
		.caller = ucmd->caller,
		.type = cmd->data_type,
		.len = cmd->data_len,
		.uptr = cmd->data_uptr,
	};
	struct iommufd_hw_pagetable *hwpt = NULL;
	struct iommufd_device *idev;
	struct iommufd_object *pt_obj, *idev_obj;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;

	idev_obj =
		iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!idev_obj)
		return -ENOENT;
	idev = container_of(idev_obj, struct iommufd_device, obj);

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj) {
		ret = -EINVAL;
		goto out_put_idev;
	}

	switch (pt_obj->type) {
	case IOMMUFD_OBJ_IOAS: {
		struct iommufd_ioas *ioas =
			container_of(pt_obj, struct iommufd_ioas, obj);
		struct iommufd_hwpt_paging *hwpt_paging;

		uint32_t flags;

		/* Driver data only for a backend that takes it (7.2's mock). */
		if (cmd->data_type != IOMMU_HWPT_DATA_NONE &&
		    !idev->dev->ops->domain_alloc_paging_data) {
			ret = -EOPNOTSUPP;
			break;
		}
		ret = hwpt_paging_flags(cmd->flags, &flags);
		if (ret)
			break;
		hwpt_paging = hwpt_paging_alloc(
			ucmd->ictx, ioas, idev, flags,
			cmd->data_type != IOMMU_HWPT_DATA_NONE ? &data : NULL,
			false, &ret);
		if (hwpt_paging)
			hwpt = &hwpt_paging->common;
		break;
	}
	case IOMMUFD_OBJ_HWPT_PAGING: {
		struct iommufd_hwpt_nested *hwpt_nested;

		hwpt_nested = iommufd_hwpt_nested_alloc(
			ucmd->ictx,
			to_hwpt_paging(container_of(
				pt_obj, struct iommufd_hw_pagetable, obj)),
			idev, cmd->flags, &data, &ret);
		if (hwpt_nested)
			hwpt = &hwpt_nested->common;
		break;
	}
	case IOMMUFD_OBJ_VIOMMU: {
		struct iommufd_hwpt_nested *hwpt_nested;

		hwpt_nested = iommufd_viommu_alloc_hwpt_nested(
			ucmd->ictx,
			container_of(pt_obj, struct iommufd_viommu, obj), idev,
			cmd->flags, &data, &ret);
		if (hwpt_nested)
			hwpt = &hwpt_nested->common;
		break;
	}
	default:
		ret = -EINVAL;
		break;
	}
	if (!hwpt)
		goto out_put_pt;

	hwpt->pasid_compat = cmd->flags & IOMMU_HWPT_ALLOC_PASID;
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_object *fault_obj = iommufd_get_object(
			ucmd->ictx, cmd->fault_id, IOMMUFD_OBJ_FAULT);

		if (!fault_obj) {
			ret = -ENOENT;
			goto out_abort;
		}
		/* The lookup's reference becomes the HWPT's. */
		hwpt->fault =
			container_of(fault_obj, struct iommufd_fault, obj);
	}

	cmd->out_hwpt_id = hwpt->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
	goto out_put_pt;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
out_put_pt:
	iommufd_put_object(ucmd->ictx, pt_obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, idev_obj);
	return ret;
}

int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct iommu_user_data_array array = {
		.caller = ucmd->caller,
		.type = cmd->data_type,
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
		.uptr = cmd->data_uptr,
	};
	struct iommufd_object *obj;
	uint32_t done = 0;
	int ret;

	if (cmd->__reserved) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)) {
		ret = -EINVAL;
		goto out;
	}
	if (cmd->entry_len > PAGE_SIZE ||
	    cmd->entry_num > HWPT_INVALIDATE_ENTRY_NUM_MAX) {
		ret = -EINVAL;
		goto out;
	}
	obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_ANY);
	if (!obj) {
		ret = -ENOENT;
		goto out;
	}
	if (obj->type == IOMMUFD_OBJ_HWPT_NESTED) {
		struct iommu_domain *domain =
			container_of(obj, struct iommufd_hw_pagetable, obj)
				->domain;

		ret = domain->ops->cache_invalidate_user(domain, &array);
		done = array.entry_num;
	} else if (obj->type == IOMMUFD_OBJ_VIOMMU &&
		   abi_newest(ABI_INVALIDATE_NON_NESTED)) {
		struct iommufd_viommu *viommu =
			container_of(obj, struct iommufd_viommu, obj);

		if (!viommu->ops->viommu_cache_invalidate) {
			ret = -EOPNOTSUPP;
		} else {
			ret = viommu->ops->viommu_cache_invalidate(viommu,
								   &array);
			done = array.entry_num;
		}
	} else {
		/* 6.12 looked up nested HWPTs only (invalidate-non-nested). */
		ret = abi_newest(ABI_INVALIDATE_NON_NESTED) ? -EINVAL : -ENOENT;
	}
	iommufd_put_object(ucmd->ictx, obj);
out:
	/* The count of handled entries goes back on every path. */
	cmd->entry_num = done;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return ret;
}

struct iommufd_hwpt_paging *iommufd_get_hwpt_paging(struct iommufd_ctx *ictx,
						    unsigned int id)
{
	struct iommufd_object *obj =
		iommufd_get_object(ictx, id, IOMMUFD_OBJ_HWPT_PAGING);

	return obj ? container_of(obj, struct iommufd_hwpt_paging, common.obj) :
		     NULL;
}

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommu_domain *domain;
	int ret;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	hwpt_paging = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (!hwpt_paging)
		return -ENOENT;
	domain = hwpt_paging->common.domain;
	if (!domain->dirty_tracking)
		ret = -EOPNOTSUPP;
	else
		ret = iopt_set_dirty_tracking(
			&hwpt_paging->ioas->iopt, domain,
			cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return ret;
}

/*
 * The dirty bits a read reports, as runs of bit numbers (bit b stands for
 * IOVA base + (b << shift)). The kernel sets them straight into the
 * caller's pages, pinning a page of the bitmap only when a bit falls in
 * it; so do we, after the walk: a bitmap nobody may write costs nothing
 * when nothing is dirty, and its bits are silently lost when something is.
 */
struct dirty_bits {
	uint64_t base, length; /* the IOVA range the bitmap covers */
	unsigned int shift; /* log2 of the granule: __ffs(page_size) */
	uint64_t (*runs)[2]; /* [first, last] bit numbers, merged */
	size_t n, cap;
	int err; /* first error recording: EPROTO, ENOMEM */
};

/* iova_bitmap_set(): a range outside the bitmap is EPROTO. */
static void dirty_record(void *arg, uint64_t iova, uint64_t size)
{
	struct dirty_bits *d = arg;
	uint64_t first, last;

	if (!size || size > d->length || iova < d->base ||
	    iova - d->base > d->length - size) {
		if (!d->err)
			d->err = -EPROTO;
		return;
	}
	first = (iova - d->base) >> d->shift;
	last = (iova - d->base + size - 1) >> d->shift;
	if (d->n && first <= d->runs[d->n - 1][1] + 1 &&
	    first >= d->runs[d->n - 1][0]) {
		if (last > d->runs[d->n - 1][1])
			d->runs[d->n - 1][1] = last;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		uint64_t(*runs)[2] = reallocarray(d->runs, cap, sizeof(*runs));

		if (!runs) {
			if (!d->err)
				d->err = -ENOMEM;
			return;
		}
		d->runs = runs;
		d->cap = cap;
	}
	d->runs[d->n][0] = first;
	d->runs[d->n][1] = last;
	d->n++;
}

/* OR the bits [first, last] into the caller's bitmap at @data. */
static void dirty_write_run(const struct ucaller *caller, uint64_t data,
			    uint64_t first, uint64_t last)
{
	uint8_t buf[4096];

	while (first <= last) {
		uint64_t byte = first / 8;
		uint64_t end_byte = last / 8 < byte + sizeof(buf) - 1 ?
					    last / 8 :
					    byte + sizeof(buf) - 1;
		size_t n = end_byte - byte + 1;
		uint64_t b;

		if (copy_from_user(caller, buf, data + byte, n))
			return; /* unwritable: the kernel's pin fails too */
		for (b = first; b <= last && b / 8 <= end_byte; b++)
			buf[b / 8 - byte] |= 1 << (b % 8);
		copy_to_user(caller, data + byte, buf, n);
		first = b;
	}
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct dirty_bits d = { 0 };
	struct io_pagetable *iopt;
	uint64_t last, align;
	int ret = 0;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt_paging = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (!hwpt_paging)
		return -ENOENT;
	iopt = &hwpt_paging->ioas->iopt;
	align = iopt->iova_alignment;

	/*
	 * The kernel's checks, in its order and with its masks: the sizes
	 * need not be powers of two, and last + 1 may wrap to 0.
	 */
	/* 6.12 (a backport) refuses length 0; the newest kernel does not. */
	if (!cmd->length && !abi_newest(ABI_DIRTY_BITMAP_ZERO_LENGTH)) {
		ret = -EINVAL;
		goto out_put;
	}
	if (check_add_overflow_u64(cmd->iova, cmd->length - 1, &last)) {
		ret = -EOVERFLOW;
		goto out_put;
	}
	if ((cmd->iova & (align - 1)) || ((last + 1) & (align - 1)) ||
	    !cmd->page_size || (cmd->iova & (cmd->page_size - 1)) ||
	    ((last + 1) & (cmd->page_size - 1))) {
		ret = -EINVAL;
		goto out_put;
	}
	if (!hwpt_paging->common.domain->dirty_tracking) {
		ret = -EOPNOTSUPP;
		goto out_put;
	}

	d.base = cmd->iova;
	d.length = cmd->length;
	d.shift = ffs64(cmd->page_size) - 1;
	ret = iopt_read_and_clear_dirty(
		iopt, hwpt_paging->common.domain, cmd->iova, last,
		cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, dirty_record,
		&d);
	/* What was found is in the bitmap whatever the answer, as in the kernel. */
	for (size_t i = 0; i < d.n; i++)
		dirty_write_run(ucmd->caller, cmd->data, d.runs[i][0],
				d.runs[i][1]);
	free(d.runs);
	if (!ret)
		ret = d.err;
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return ret;
}
