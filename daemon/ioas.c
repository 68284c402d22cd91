// SPDX-License-Identifier: MIT
/*
 * The IOAS object and its ioctls. Each handler checks its fields in the
 * kernel's order (uapi.md §3), because the first failing check decides the
 * errno a caller sees; the mapping work itself is io_pagetable.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iommufd/iommufdd_ext.h>

#include "account.h"
#include "backend.h"
#include "iommufd_private.h"
#include "log.h"
#include "memfs.h"
#include "pages.h"
#include "uaccess.h"

#define CAP_SYS_RESOURCE_BIT 24
#define MAP_FLAGS_VALID                                         \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
	 IOMMU_IOAS_MAP_READABLE)

static void ioas_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
			      uint64_t length)
{
	iommufd_access_notify_unmap(iopt, iova, length);
}

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas =
		iommufd_object_alloc_type(ictx, ioas, IOMMUFD_OBJ_IOAS);

	if (!ioas)
		return NULL;
	iopt_init(&ioas->iopt, &ictx->budget);
	ioas->iopt.notify_unmap = ioas_notify_unmap;
	list_init(&ioas->hwpt_list);
	return ioas;
}

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);

	iopt_destroy(&ioas->iopt);
}

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, unsigned int id)
{
	struct iommufd_object *obj =
		iommufd_get_object(ictx, id, IOMMUFD_OBJ_IOAS);

	return obj ? container_of(obj, struct iommufd_ioas, obj) : NULL;
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = iommufd_ioas_alloc(ucmd->ictx);
	if (!ioas)
		return -ENOMEM;
	cmd->out_ioas_id = ioas->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &ioas->obj);
		return ret;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	struct itree_span span;
	uint32_t max = cmd->num_iovas;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;

	cmd->num_iovas = 0;
	for (itree_span_first(&span, &ioas->iopt.reserved_itree, NULL, 0,
			      UINT64_MAX);
	     !itree_span_done(&span); itree_span_next(&span)) {
		struct iommu_iova_range range = {
			.start = span.span_start,
			.last = span.span_last,
		};

		if (!span.is_hole)
			continue;
		if (cmd->num_iovas < max &&
		    copy_to_user(ucmd->caller,
				 cmd->allowed_iovas + (uint64_t)cmd->num_iovas *
							      sizeof(range),
				 &range, sizeof(range))) {
			ret = -EFAULT;
			goto out_put;
		}
		cmd->num_iovas++;
	}
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!ret && cmd->num_iovas > max)
		ret = -EMSGSIZE;
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

/*
 * Read ranges [done, done + n) of ALLOW_IOVAS in one go when all are
 * readable, else one by one up to the first that is not: the kernel reads
 * and checks them one at a time, so an earlier bad range is EINVAL even if
 * a later one would fault.
 */
static int read_ranges(struct iommufd_ucmd *ucmd, uint64_t uptr,
		       struct iommu_iova_range *ranges, uint32_t n,
		       uint32_t *got)
{
	const size_t sz = sizeof(*ranges);

	*got = n;
	if (!copy_from_user(ucmd->caller, ranges, uptr, (size_t)n * sz))
		return 0;
	for (*got = 0; *got < n; (*got)++)
		if (copy_from_user(ucmd->caller, &ranges[*got],
				   uptr + (uint64_t)*got * sz, sz))
			return -EFAULT;
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct iommu_iova_range ranges[256];
	struct iopt_allowed_set set;
	struct iommufd_ioas *ioas;
	uint32_t done = 0;
	int ret = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;

	/* Each range is checked as it arrives; a huge count costs no memory. */
	iopt_allowed_begin(&set, &ioas->iopt);
	while (!ret && done < cmd->num_iovas) {
		uint32_t n = cmd->num_iovas - done, got, i;
		int fault;

		if (n > ARRAY_SIZE(ranges))
			n = ARRAY_SIZE(ranges);
		fault = read_ranges(ucmd,
				    cmd->allowed_iovas +
					    (uint64_t)done * sizeof(ranges[0]),
				    ranges, n, &got);
		for (i = 0; i < got && !ret; i++)
			ret = iopt_allowed_add(&set, ranges[i].start,
					       ranges[i].last);
		if (!ret)
			ret = fault;
		done += n;
	}
	if (ret)
		iopt_allowed_abort(&set);
	else
		ret = iopt_allowed_commit(&set);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

/* The checks MAP and MAP_FILE share, in the kernel's order. */
static int check_map_args(uint32_t flags, uint64_t iova, uint64_t length)
{
	if (flags & ~MAP_FLAGS_VALID)
		return -EOPNOTSUPP;
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	return 0;
}

static int map_flags_to_prot(uint32_t flags)
{
	int prot = IOMMU_CACHE;

	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	return prot;
}

static enum pages_account ctx_account_mode(const struct iommufd_ctx *ictx)
{
	return ictx->account_mm ? PAGES_ACCOUNT_MM : PAGES_ACCOUNT_USER;
}

/* Map what was bound into @slice (taking its references) and reply. */
static int map_slice(struct iommufd_ioas *ioas, struct iopt_pages_slice *slice,
		     uint64_t *iova, int iommu_prot, unsigned int flags)
{
	int ret;

	slice->origin = iopt_new_origin();
	ret = iopt_map_pages(&ioas->iopt, slice, 1, iova, iommu_prot, flags);
	iopt_pages_put(slice->pages);
	mapper_put(slice->mapper);
	return ret;
}

int iommufd_ioas_map_user(struct iommufd_ioas *ioas,
			  const struct ucaller *caller, bool account_mm,
			  uint64_t user_va, uint64_t length, uint64_t *iova,
			  int iommu_prot, unsigned int flags)
{
	struct iopt_pages_slice slice = {
		.length = length,
		.uaddr = user_va,
		.flags = IOPT_AREA_USER,
	};
	uint64_t end;
	int ret;

	if (!length || length > SIZE_MAX - PAGE_SIZE)
		return -EINVAL;
	if (check_add_overflow_u64(user_va, length, &end))
		return -EOVERFLOW;
	if (iommu_prot & IOMMU_WRITE)
		slice.flags |= IOPT_AREA_PAGES_WRITABLE;
	/*
	 * What the range holds is bound now, while the caller waits here.
	 * A caller we can only reach through the kernel's copies cannot be
	 * bound; its mapping is made all the same and pinning it fails.
	 */
	if (caller->window) {
		slice.pages = &iopt_pages_unreachable;
		slice.start_byte = user_va;
		return map_slice(ioas, &slice, iova, iommu_prot, flags);
	}
	slice.mapper = mapper_of_caller(
		caller, account_mm ? PAGES_ACCOUNT_MM : PAGES_ACCOUNT_USER,
		&ret);
	if (!slice.mapper)
		return ret == -ESRCH ? -EFAULT : ret;
	ret = iopt_pages_from_user(caller, user_va, length,
				   iommu_prot & IOMMU_WRITE, &slice.pages,
				   &slice.start_byte);
	if (ret) {
		mapper_put(slice.mapper);
		return ret == -ESRCH ? -EFAULT : ret;
	}
	return map_slice(ioas, &slice, iova, iommu_prot, flags);
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ret = check_map_args(cmd->flags, cmd->iova, cmd->length);
	if (ret)
		return ret;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;

	ret = iommufd_ioas_map_user(ioas, ucmd->caller, ucmd->ictx->account_mm,
				    cmd->user_va, cmd->length, &iova,
				    map_flags_to_prot(cmd->flags),
				    cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA ?
					    IOPT_MAP_FIXED_IOVA :
					    0);
	if (!ret) {
		cmd->iova = iova;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	struct iopt_pages_slice slice = {
		.length = cmd->length,
		.uaddr = cmd->start,
		.flags = IOPT_AREA_FILE,
	};
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova, last;
	bool writable = cmd->flags & IOMMU_IOAS_MAP_WRITEABLE;
	int ret;

	ret = check_map_args(cmd->flags, cmd->iova, cmd->length);
	if (ret)
		return ret;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;

	ret = caller_require_direct(ucmd->caller,
				    "taking the caller's file (pidfd_getfd)");
	if (ret)
		goto out_put;
	/* fget() comes first in the kernel: a bad descriptor wins. */
	ret = memfs_caller_fd_is_memory(ucmd->caller, cmd->fd);
	if (ret < 0)
		goto out_put;
	if (!cmd->length) {
		ret = -EINVAL;
		goto out_put;
	}
	if (check_add_overflow_u64(cmd->start, cmd->length - 1, &last)) {
		ret = -EOVERFLOW;
		goto out_put;
	}
	if (writable)
		slice.flags |= IOPT_AREA_PAGES_WRITABLE;
	slice.mapper = mapper_of_caller(ucmd->caller,
					ctx_account_mode(ucmd->ictx), &ret);
	if (!slice.mapper)
		goto out_put;
	ret = iopt_pages_from_file(ucmd->caller, cmd->fd, cmd->start,
				   cmd->length, writable, &slice.pages,
				   &slice.start_byte);
	if (ret) {
		mapper_put(slice.mapper);
		goto out_put;
	}
	ret = map_slice(ioas, &slice, &iova, map_flags_to_prot(cmd->flags),
			cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA ?
				IOPT_MAP_FIXED_IOVA :
				0);
	if (!ret) {
		cmd->iova = iova;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iopt_pages_slice *slices;
	struct iommufd_ioas *src, *dst;
	uint64_t iova = cmd->dst_iova;
	unsigned int nslices;
	int ret;

	if (cmd->flags & ~MAP_FLAGS_VALID)
		return -EOPNOTSUPP;
	if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX ||
	    cmd->dst_iova >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;

	src = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (!src)
		return -ENOENT;
	ret = iopt_get_pages(&src->iopt, cmd->src_iova, cmd->length, &slices,
			     &nslices);
	iommufd_put_object(ucmd->ictx, &src->obj);
	if (ret)
		return ret;

	dst = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (!dst) {
		ret = -ENOENT;
		goto out_slices;
	}
	ret = iopt_map_pages(&dst->iopt, slices, nslices, &iova,
			     map_flags_to_prot(cmd->flags),
			     cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA ?
				     IOPT_MAP_FIXED_IOVA :
				     0);
	if (!ret) {
		cmd->dst_iova = iova;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &dst->obj);
out_slices:
	iopt_put_slices(slices, nslices);
	return ret;
}

/* UNMAP's work on a looked-up IOAS: 0 and what went, or -errno. */
static int ioas_unmap_range(struct iommufd_ioas *ioas, uint64_t iova,
			    uint64_t length, uint64_t *unmapped)
{
	int ret;

	*unmapped = 0;
	if (iova == 0 && length == UINT64_MAX)
		return iopt_unmap_all(&ioas->iopt, unmapped);
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return -EOVERFLOW;
	ret = iopt_unmap_iova(&ioas->iopt, iova, length, unmapped);
	if (!ret && !*unmapped)
		ret = -ENOENT;
	return ret;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t unmapped;
	int ret;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	ret = ioas_unmap_range(ioas, cmd->iova, cmd->length, &unmapped);
	if (!ret) {
		cmd->length = unmapped;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

/* One operation of a batch, as its own MAP or UNMAP would do it. */
static int batch_op(struct iommufd_ucmd *ucmd, struct iommufd_ioas *ioas,
		    struct iommufdd_ioas_batch_op *op)
{
	uint64_t iova = op->iova, unmapped;
	int ret;

	if (op->__reserved)
		return -EOPNOTSUPP;
	switch (op->op) {
	case IOMMUFDD_BATCH_MAP:
		ret = check_map_args(op->flags, op->iova, op->length);
		if (ret)
			return ret;
		ret = iommufd_ioas_map_user(
			ioas, ucmd->caller, ucmd->ictx->account_mm, op->user_va,
			op->length, &iova, map_flags_to_prot(op->flags),
			op->flags & IOMMU_IOAS_MAP_FIXED_IOVA ?
				IOPT_MAP_FIXED_IOVA :
				0);
		if (!ret)
			op->iova = iova;
		return ret;
	case IOMMUFDD_BATCH_UNMAP:
		if (op->flags || op->user_va)
			return -EOPNOTSUPP;
		ret = ioas_unmap_range(ioas, op->iova, op->length, &unmapped);
		if (!ret)
			op->length = unmapped;
		return ret;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * IOMMUFDD_IOAS_BATCH: MAPs and UNMAPs of one IOAS in one round trip, in
 * order, each with its own result; a failed one does not stop the rest,
 * just as separate ioctls would not.
 */
int iommufd_ioas_batch(struct iommufd_ucmd *ucmd)
{
	struct iommufdd_ioas_batch *cmd = ucmd->cmd;
	struct iommufdd_ioas_batch_op *ops;
	struct iommufd_ioas *ioas;
	size_t len;
	int ret;

	if (cmd->flags || cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	if (!cmd->num_ops || cmd->num_ops > IOMMUFDD_BATCH_MAX_OPS)
		return -EINVAL;
	len = (size_t)cmd->num_ops * sizeof(*ops);
	ops = malloc(len);
	if (!ops)
		return -ENOMEM;
	if (copy_from_user(ucmd->caller, ops, cmd->ops_uptr, len)) {
		ret = -EFAULT;
		goto out_free;
	}
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas) {
		ret = -ENOENT;
		goto out_free;
	}
	for (uint32_t i = 0; i < cmd->num_ops; i++)
		ops[i].out_result = batch_op(ucmd, ioas, &ops[i]);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	ret = copy_to_user(ucmd->caller, cmd->ops_uptr, ops, len) ? -EFAULT : 0;
out_free:
	free(ops);
	return ret;
}

int iommufd_option_rlimit_mode(struct iommu_option *cmd,
			       struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;

	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = ictx->account_mm;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	/* capable(): in the initial user namespace, not in the caller's. */
	if (!caller_capable(ucmd->caller, CAP_SYS_RESOURCE_BIT))
		return -EPERM;
	if (ictx->nr_objects)
		return -EBUSY;
	if (cmd->val64 > 1)
		return -EINVAL;
	ictx->account_mm = cmd->val64;
	return 0;
}

static int iommufd_ioas_option_huge_pages(struct iommu_option *cmd,
					  struct iommufd_ioas *ioas)
{
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (cmd->val64 == 0)
		return iopt_disable_large_pages(&ioas->iopt);
	if (cmd->val64 == 1) {
		iopt_enable_large_pages(&ioas->iopt);
		return 0;
	}
	return -EINVAL;
}

int iommufd_ioas_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int ret;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id);
	if (!ioas)
		return -ENOENT;
	ret = iommufd_ioas_option_huge_pages(cmd, ioas);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		ret = iommufd_option_rlimit_mode(cmd, ucmd);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		ret = iommufd_ioas_option(ucmd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;
	/* Only val64 goes back, never the rest of the struct. */
	if (copy_to_user(ucmd->caller,
			 ucmd->ubuffer + offsetof(struct iommu_option, val64),
			 &cmd->val64, sizeof(cmd->val64)))
		return -EFAULT;
	return 0;
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		if (!ucmd->ictx->vfio_ioas)
			return -ENODEV;
		cmd->ioas_id = ucmd->ictx->vfio_ioas->obj.id;
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
		if (!ioas)
			return -ENOENT;
		ucmd->ictx->vfio_ioas = ioas;
		iommufd_put_object(ucmd->ictx, &ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		ucmd->ictx->vfio_ioas = NULL;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
