// SPDX-License-Identifier: MIT
/*
 * The region planner: for each command the dispatcher serves, which bytes of
 * the caller's memory its handler reads and writes. It mirrors what the
 * handlers copy (dispatch.c, ioas.c, hw_pagetable.c, device.c, selftest.c,
 * vfio_bind.c, vfio_compat.c); a handler that touches a byte no plan names fails with
 * EFAULT in retry mode, so the two must change together.
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
#include "util.h"

/* Room for the zero-extended copy of the largest struct planned from. */
#define KSTRUCT_MAX 128

struct plan_state {
	uint64_t arg;
	const unsigned char *data;
	size_t len;
	uint64_t limit;
	struct ioctl_plan *plan;
};

static void plan_add(struct plan_state *s, uint64_t uptr, uint64_t len,
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
static bool plan_sized_struct(struct plan_state *s, size_t min_len, void *k,
			      size_t ksize)
{
	const struct ioctl_region *r;
	uint32_t usize;
	uint64_t len;

	if (s->len < sizeof(usize)) {
		plan_add(s, s->arg, sizeof(usize), false);
		return false;
	}
	memcpy(&usize, s->data, sizeof(usize));
	len = usize > min_len ? usize : min_len;

	/*
	 * Keep the length field fetched when the struct cannot be: the plan
	 * is computed from it, and the handler's size checks still run.
	 */
	if (len > s->limit)
		plan_add(s, s->arg, sizeof(usize), false);
	plan_add(s, s->arg, len, true);
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

static void plan_allow_iovas(struct plan_state *s, const void *k)
{
	const struct iommu_ioas_allow_iovas *cmd = k;

	plan_add(s, cmd->allowed_iovas,
		 (uint64_t)cmd->num_iovas * sizeof(struct iommu_iova_range),
		 false);
}

static void plan_iova_ranges(struct plan_state *s, const void *k)
{
	const struct iommu_ioas_iova_ranges *cmd = k;

	plan_add(s, cmd->allowed_iovas,
		 (uint64_t)cmd->num_iovas * sizeof(struct iommu_iova_range),
		 true);
}

static void plan_hwpt_alloc(struct plan_state *s, const void *k)
{
	const struct iommu_hwpt_alloc *cmd = k;

	/* Without a type the handler refuses any data before reading it. */
	if (cmd->data_type != IOMMU_HWPT_DATA_NONE)
		plan_add(s, cmd->data_uptr, cmd->data_len, false);
}

static void plan_get_hw_info(struct plan_state *s, const void *k)
{
	const struct iommu_hw_info *cmd = k;

	/* Written in full: what fits, then zeroes up to data_len. */
	plan_add(s, cmd->data_uptr, cmd->data_len, true);
}

static void plan_get_dirty_bitmap(struct plan_state *s, const void *k)
{
	const struct iommu_hwpt_get_dirty_bitmap *cmd = k;

	/* Read and written: bits the caller already set stay set. */
	plan_add(s, cmd->data, bitmap_bytes(cmd->length, cmd->page_size), true);
}

static void plan_hwpt_invalidate(struct plan_state *s, const void *k)
{
	const struct iommu_hwpt_invalidate *cmd = k;

	plan_add(s, cmd->data_uptr, (uint64_t)cmd->entry_len * cmd->entry_num,
		 false);
}

static void plan_test_cmd(struct plan_state *s, const void *k)
{
	const struct iommu_test_cmd *cmd = k;
	struct iommufdd_test_dma dma;

	/*
	 * CHECK_MAP, CHECK_REFS and ACCESS_PAGES look at the caller's page
	 * tables by pid instead: no copy can stand in for those.
	 */
	switch (cmd->op) {
	case IOMMU_TEST_OP_DIRTY:
		plan_add(s, cmd->dirty.uptr,
			 bitmap_bytes(cmd->dirty.length, cmd->dirty.page_size),
			 false);
		break;
	case IOMMU_TEST_OP_ACCESS_RW:
		/* The access copies the buffer in, or out through a bounce. */
		plan_add(s, cmd->access_rw.uptr, cmd->access_rw.length,
			 !(cmd->access_rw.flags & MOCK_ACCESS_RW_WRITE));
		break;
	case IOMMUFDD_TEST_OP_DEV_DMA:
		memcpy(&dma,
		       (const char *)cmd +
			       offsetof(struct iommu_test_cmd, add_reserved),
		       sizeof(dma));
		plan_add(s, dma.uptr, dma.length,
			 !(dma.flags & IOMMUFDD_TEST_DMA_WRITE));
		break;
	}
}

static void plan_ioas_batch(struct plan_state *s, const void *k)
{
	const struct iommufdd_ioas_batch *cmd = k;

	/* The handler refuses more operations before reading any. */
	if (cmd->num_ops <= IOMMUFDD_BATCH_MAX_OPS)
		plan_add(s, cmd->ops_uptr,
			 (uint64_t)cmd->num_ops *
				 sizeof(struct iommufdd_ioas_batch_op),
			 true);
}

static void plan_vfio_device_bind(struct plan_state *s, const void *k)
{
	const struct iommufdd_vfio_device_bind *cmd = k;

	/* The handler refuses a longer name before reading it. */
	if (cmd->name_len <= IOMMUFDD_VFIO_DEVICE_NAME_MAX)
		plan_add(s, cmd->name_uptr, cmd->name_len, false);
}

/* ---- the command table ------------------------------------------------ */

enum plan_kind {
	PLAN_NONE, /* the argument is a value, not a pointer */
	PLAN_SIZED, /* a struct that starts with its length */
	PLAN_FIXED, /* a struct of fixed size, read only */
	PLAN_FIXED_OUT, /* a struct of fixed size, read and written */
};

struct cmd_plan {
	unsigned int cmd;
	enum plan_kind kind;
	size_t min_len; /* PLAN_SIZED: bytes read even below the length */
	size_t size; /* the struct as the daemon knows it */
	void (*nested)(struct plan_state *s, const void *k);
};

/* Compile-time check that the struct fits the zero-extension buffer. */
#define KSIZE(type) \
	(sizeof(type) + 0 * sizeof(char[sizeof(type) <= KSTRUCT_MAX ? 1 : -1]))

#define IOMMUFD_PLAN(_cmd, _type, _nested)                                    \
	{                                                                     \
		.cmd = _cmd, .kind = PLAN_SIZED, .min_len = sizeof(uint32_t), \
		.size = KSIZE(_type), .nested = _nested                       \
	}

static const struct cmd_plan cmd_plans[] = {
	IOMMUFD_PLAN(IOMMU_DESTROY, struct iommu_destroy, NULL),
	IOMMUFD_PLAN(IOMMU_IOAS_ALLOC, struct iommu_ioas_alloc, NULL),
	IOMMUFD_PLAN(IOMMU_IOAS_ALLOW_IOVAS, struct iommu_ioas_allow_iovas,
		     plan_allow_iovas),
	IOMMUFD_PLAN(IOMMU_IOAS_COPY, struct iommu_ioas_copy, NULL),
	IOMMUFD_PLAN(IOMMU_IOAS_IOVA_RANGES, struct iommu_ioas_iova_ranges,
		     plan_iova_ranges),
	IOMMUFD_PLAN(IOMMU_IOAS_MAP, struct iommu_ioas_map, NULL),
	IOMMUFD_PLAN(IOMMU_IOAS_UNMAP, struct iommu_ioas_unmap, NULL),
	IOMMUFD_PLAN(IOMMU_OPTION, struct iommu_option, NULL),
	IOMMUFD_PLAN(IOMMU_VFIO_IOAS, struct iommu_vfio_ioas, NULL),
	IOMMUFD_PLAN(IOMMU_HWPT_ALLOC, struct iommu_hwpt_alloc,
		     plan_hwpt_alloc),
	IOMMUFD_PLAN(IOMMU_GET_HW_INFO, struct iommu_hw_info, plan_get_hw_info),
	IOMMUFD_PLAN(IOMMU_HWPT_SET_DIRTY_TRACKING,
		     struct iommu_hwpt_set_dirty_tracking, NULL),
	IOMMUFD_PLAN(IOMMU_HWPT_GET_DIRTY_BITMAP,
		     struct iommu_hwpt_get_dirty_bitmap, plan_get_dirty_bitmap),
	IOMMUFD_PLAN(IOMMU_HWPT_INVALIDATE, struct iommu_hwpt_invalidate,
		     plan_hwpt_invalidate),
	IOMMUFD_PLAN(IOMMU_FAULT_QUEUE_ALLOC, struct iommu_fault_alloc, NULL),
	IOMMUFD_PLAN(IOMMU_IOAS_MAP_FILE, struct iommu_ioas_map_file, NULL),
	IOMMUFD_PLAN(IOMMU_TEST_CMD, struct iommu_test_cmd, plan_test_cmd),
	IOMMUFD_PLAN(IOMMUFDD_VFIO_DEVICE_BIND,
		     struct iommufdd_vfio_device_bind, plan_vfio_device_bind),
	IOMMUFD_PLAN(IOMMUFDD_DEVICE_ATTACH, struct iommufdd_device_attach,
		     NULL),
	IOMMUFD_PLAN(IOMMUFDD_DEVICE_DETACH, struct iommufdd_device_detach,
		     NULL),
	IOMMUFD_PLAN(IOMMUFDD_IOAS_BATCH, struct iommufdd_ioas_batch,
		     plan_ioas_batch),

	{ .cmd = VFIO_GET_API_VERSION, .kind = PLAN_NONE },
	{ .cmd = VFIO_CHECK_EXTENSION, .kind = PLAN_NONE },
	{ .cmd = VFIO_SET_IOMMU, .kind = PLAN_NONE },
	/* The handler reads the fixed part even when argsz is smaller. */
	{ .cmd = VFIO_IOMMU_GET_INFO,
	  .kind = PLAN_SIZED,
	  .min_len = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes),
	  .size = KSIZE(struct vfio_iommu_type1_info) },
	/* argsz is checked, but the handlers copy their struct regardless. */
	{ .cmd = VFIO_IOMMU_MAP_DMA,
	  .kind = PLAN_FIXED,
	  .size = sizeof(struct vfio_iommu_type1_dma_map) },
	{ .cmd = VFIO_IOMMU_UNMAP_DMA,
	  .kind = PLAN_FIXED_OUT,
	  .size = sizeof(struct vfio_iommu_type1_dma_unmap) },
};

/*
 * Numbers in the dispatcher's table ranges read the size before the number
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
	struct plan_state s = {
		.arg = arg,
		.data = data,
		.len = len,
		.limit = limit,
		.plan = plan,
	};
	const struct cmd_plan *p = NULL;
	uint64_t k[KSTRUCT_MAX / sizeof(uint64_t)];

	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < ARRAY_SIZE(cmd_plans); i++) {
		if (cmd_plans[i].cmd == cmd) {
			p = &cmd_plans[i];
			break;
		}
	}
	if (!p) {
		if (in_iommufd_range(cmd))
			plan_add(&s, arg, sizeof(uint32_t), false);
		return;
	}

	switch (p->kind) {
	case PLAN_NONE:
		break;
	case PLAN_SIZED:
		if (plan_sized_struct(&s, p->min_len, k, p->size) && p->nested)
			p->nested(&s, k);
		break;
	case PLAN_FIXED:
	case PLAN_FIXED_OUT:
		plan_add(&s, arg, p->size, p->kind == PLAN_FIXED_OUT);
		break;
	}
}
