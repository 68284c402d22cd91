// SPDX-License-Identifier: MIT
/*
 * The region planner: for each command the dispatcher serves, which bytes of
 * the caller's memory its handler reads and writes. The layout of each
 * command's struct and the planner of the buffers it names come from its
 * row in ioctl_table.h; the planners here mirror what the handlers copy
 * (ioas.c, hw_pagetable.c, device.c, selftest*.c, viommu.c). A handler that
 * touches a byte no plan names fails with EFAULT in retry mode, so the two
 * must change together.
 *
 * Sizes and pointers are read from a zero-extended copy of the struct, as
 * the dispatcher decodes it: a field the caller's size does not cover is 0
 * and plans nothing. Early checks of the handlers (flags, ids) are not
 * repeated here; fetching a buffer the handler then refuses to read costs a
 * copy, nothing more.
 */
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

#include "ioctl_regions.h"
#include "ioctl_table.h"
#include "util.h"

struct ioctl_plan_state {
	uint64_t arg;
	const unsigned char *data;
	size_t len;
	uint64_t limit;
	struct ioctl_plan *plan;
};

void ioctl_plan_add(struct ioctl_plan_state *s, uint64_t uptr, uint64_t len,
		    bool out)
{
	struct ioctl_plan *plan = s->plan;
	struct ioctl_region *r;
	uint64_t end;

	if (!uptr || !len || check_add_overflow_u64(uptr, len, &end) ||
	    plan->nr == IOCTL_REGIONS_MAX)
		return;
	r = &plan->regions[plan->nr++];
	r->uptr = uptr;
	r->len = len;
	r->flags = IOCTL_REGION_IN | (out ? IOCTL_REGION_OUT : 0);
	if (len > s->limit - plan->in_len) {
		r->flags |= IOCTL_REGION_TOO_BIG;
		return;
	}
	plan->in_len += len;
	if (out)
		plan->out_len += len;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * A struct that starts with its own length (iommufd's size, VFIO's argsz):
 * the length field first, then max(length, @min_len) bytes, written back
 * as a whole. True, with the zero-extended struct in @k, once all of it
 * is known and nothing past @ksize is set (that is E2BIG for iommufd, and
 * the handler stops there).
 */
static bool plan_sized_struct(struct ioctl_plan_state *s, size_t min_len,
			      void *k, size_t ksize)
{
	const struct ioctl_region *r;
	uint32_t usize;
	uint64_t len;

	if (s->len < sizeof(usize)) {
		ioctl_plan_add(s, s->arg, sizeof(usize), false);
		return false;
	}
	memcpy(&usize, s->data, sizeof(usize));
	len = usize > min_len ? usize : min_len;

	/*
	 * Keep the length field fetched when the struct cannot be: the plan
	 * is computed from it, and the handler's size checks still run.
	 */
	if (len > s->limit)
		ioctl_plan_add(s, s->arg, sizeof(usize), false);
	ioctl_plan_add(s, s->arg, len, true);
	if (!s->plan->nr)
		return false;
	r = &s->plan->regions[s->plan->nr - 1];
	if ((r->flags & IOCTL_REGION_TOO_BIG) || s->len < len)
		return false;

	memset(k, 0, ksize);
	memcpy(k, s->data, usize < ksize ? usize : ksize);
	return usize <= ksize || all_zero(s->data + ksize, usize - ksize);
}

/* Bytes of a bitmap with one bit per @page_size of @length, as handlers do. */
static uint64_t bitmap_bytes(uint64_t length, uint64_t page_size)
{
	uint64_t nbits;

	if (!page_size)
		return 0;
	nbits = length / page_size;
	return nbits / 8 + (nbits % 8 != 0);
}

/* ---- one function per command that names buffers -------------------- */

void ioctl_buffers_allow_iovas(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_ioas_allow_iovas *cmd = k;

	ioctl_plan_add(s, cmd->allowed_iovas,
		       (uint64_t)cmd->num_iovas *
			       sizeof(struct iommu_iova_range),
		       false);
}

void ioctl_buffers_iova_ranges(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_ioas_iova_ranges *cmd = k;

	ioctl_plan_add(s, cmd->allowed_iovas,
		       (uint64_t)cmd->num_iovas *
			       sizeof(struct iommu_iova_range),
		       true);
}

void ioctl_buffers_hwpt_alloc(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_hwpt_alloc *cmd = k;

	/* Without a type the handler refuses any data before reading it. */
	if (cmd->data_type != IOMMU_HWPT_DATA_NONE)
		ioctl_plan_add(s, cmd->data_uptr, cmd->data_len, false);
}

void ioctl_buffers_vfio_device_bind(struct ioctl_plan_state *s, const void *k)
{
	const struct iommufdd_vfio_device_bind *cmd = k;

	/* The handler refuses a longer name before reading it. */
	if (cmd->name_len <= IOMMUFDD_VFIO_DEVICE_NAME_MAX)
		ioctl_plan_add(s, cmd->name_uptr, cmd->name_len, false);
}

void ioctl_buffers_ioas_batch(struct ioctl_plan_state *s, const void *k)
{
	const struct iommufdd_ioas_batch *cmd = k;

	/* The handler refuses more operations before reading any. */
	if (cmd->num_ops <= IOMMUFDD_BATCH_MAX_OPS)
		ioctl_plan_add(s, cmd->ops_uptr,
			       (uint64_t)cmd->num_ops *
				       sizeof(struct iommufdd_ioas_batch_op),
			       true);
}

void ioctl_buffers_viommu_alloc(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_viommu_alloc *cmd = k;

	/* The driver reads its data and writes its answer back over it. */
	if (cmd->data_len)
		ioctl_plan_add(s, cmd->data_uptr, cmd->data_len, true);
}

void ioctl_buffers_get_hw_info(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_hw_info *cmd = k;

	/* Written in full: what fits, then zeroes up to data_len. */
	ioctl_plan_add(s, cmd->data_uptr, cmd->data_len, true);
}

void ioctl_buffers_get_dirty_bitmap(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_hwpt_get_dirty_bitmap *cmd = k;

	/* Read and written: bits the caller already set stay set. */
	ioctl_plan_add(s, cmd->data, bitmap_bytes(cmd->length, cmd->page_size),
		       true);
}

void ioctl_buffers_hwpt_invalidate(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_hwpt_invalidate *cmd = k;

	ioctl_plan_add(s, cmd->data_uptr,
		       (uint64_t)cmd->entry_len * cmd->entry_num, false);
}

void ioctl_buffers_test_cmd(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_test_cmd *cmd = k;
	const struct iommufd_test_op *op = iommufd_test_op_find(cmd->op);

	/*
	 * CHECK_MAP, CHECK_REFS and ACCESS_PAGES look at the caller's page
	 * tables by pid instead: no copy can stand in for those.
	 */
	if (op && op->buffers)
		op->buffers(s, k);
}

void ioctl_buffers_test_dirty(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_test_cmd *cmd = k;

	ioctl_plan_add(s, cmd->dirty.uptr,
		       bitmap_bytes(cmd->dirty.length, cmd->dirty.page_size),
		       false);
}

/* The access copies the buffer in, or out through a bounce. */
void ioctl_buffers_test_access_rw(struct ioctl_plan_state *s, const void *k)
{
	const struct iommu_test_cmd *cmd = k;

	ioctl_plan_add(s, cmd->access_rw.uptr, cmd->access_rw.length,
		       !(cmd->access_rw.flags & MOCK_ACCESS_RW_WRITE));
}

void ioctl_buffers_test_dev_dma(struct ioctl_plan_state *s, const void *k)
{
	struct iommufdd_test_dma dma;

	memcpy(&dma,
	       (const char *)k + offsetof(struct iommu_test_cmd, add_reserved),
	       sizeof(dma));
	ioctl_plan_add(s, dma.uptr, dma.length,
		       !(dma.flags & IOMMUFDD_TEST_DMA_WRITE));
}

/* ---- planning one request ---------------------------------------------- */

/*
 * Numbers in the dispatcher's table range read the size before the number
 * is matched (ENOTTY comes after a fault), so even an unknown one there
 * reads four bytes.
 */
static bool in_iommufd_range(unsigned int cmd)
{
	return (_IOC_NR(cmd) >= IOMMUFD_CMD_BASE &&
		_IOC_NR(cmd) <= _IOC_NR(IOMMU_TEST_CMD)) ||
	       (_IOC_NR(cmd) >= IOMMUFDD_CMD_BASE &&
		_IOC_NR(cmd) <= IOMMUFDD_CMD_DEVICE_DETACH);
}

void ioctl_plan(unsigned int cmd, uint64_t arg, const void *data, size_t len,
		uint64_t limit, struct ioctl_plan *plan)
{
	struct ioctl_plan_state s = {
		.arg = arg,
		.data = data,
		.len = len,
		.limit = limit,
		.plan = plan,
	};
	const struct iommufd_ioctl *row = iommufd_ioctl_find(cmd);
	uint64_t k[IOCTL_STRUCT_MAX / sizeof(uint64_t)];

	memset(plan, 0, sizeof(*plan));
	if (!row) {
		if (in_iommufd_range(cmd))
			ioctl_plan_add(&s, arg, sizeof(uint32_t), false);
		return;
	}

	switch (row->arg) {
	case IOCTL_ARG_VALUE:
		break;
	case IOCTL_ARG_SIZED:
		/* Read even below the size word's value: the size itself. */
		if (plan_sized_struct(&s, sizeof(uint32_t), k, row->size) &&
		    row->buffers)
			row->buffers(&s, k);
		break;
	case IOCTL_ARG_ARGSZ:
		/* The handler reads its fixed part whatever argsz says. */
		if (plan_sized_struct(&s, row->min_size, k, row->size) &&
		    row->buffers)
			row->buffers(&s, k);
		break;
	case IOCTL_ARG_FIXED:
	case IOCTL_ARG_FIXED_OUT:
		ioctl_plan_add(&s, arg, row->size,
			       row->arg == IOCTL_ARG_FIXED_OUT);
		break;
	}
}
