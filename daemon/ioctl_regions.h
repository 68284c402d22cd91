/* SPDX-License-Identifier: MIT */
/*
 * Which parts of the caller's memory an ioctl reads and writes, worked out
 * from the bytes of its argument alone.
 *
 * A CUSE server that cannot reach its caller with process_vm_* only sees the
 * memory the kernel copies for it: with FUSE_IOCTL_RETRY the server names
 * regions of the caller's memory, the kernel copies them in, re-sends the
 * whole request with the copies attached, and after the final reply writes
 * the reply's data over the regions named for output. The server keeps no
 * state between these rounds, so each plan follows from the bytes alone:
 *
 *   plan(nothing)   the 4-byte size (or a fixed-size struct)
 *   plan(size)      the whole struct, size bytes
 *   plan(struct)    the struct plus every buffer it points to
 *
 * Every plan starts at the argument pointer, so the data of a round always
 * begins with the bytes the next plan is computed from. Once the kernel has
 * sent exactly what the plan names, the plan is complete and the handler
 * runs, once, against the copies (uaccess.h, struct uwindow). A region must
 * therefore cover every byte the handler will touch.
 *
 * Regions the handler may write are fetched too: the kernel writes an output
 * region back in full up to the reply's length, and bytes the handler did
 * not touch must go back as they were.
 */
#ifndef IOMMUFDD_IOCTL_REGIONS_H
#define IOMMUFDD_IOCTL_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The struct and the one buffer it names; or, for a struct over the limit,
 * its size field and the struct itself, unfetched.
 */
#define IOCTL_REGIONS_MAX 2

enum ioctl_region_flags {
	IOCTL_REGION_IN = 1 << 0, /* fetched from the caller */
	IOCTL_REGION_OUT = 1 << 1, /* written back to the caller */
	IOCTL_REGION_TOO_BIG = 1
			       << 2, /* over the transfer limit: not fetched */
};

struct ioctl_region {
	uint64_t uptr;
	uint64_t len;
	unsigned int flags;
};

struct ioctl_plan {
	unsigned int nr;
	struct ioctl_region regions[IOCTL_REGIONS_MAX];
	/* What the kernel carries: the fetched IN and OUT regions, in order. */
	uint64_t in_len;
	uint64_t out_len;
};

/*
 * Plan @cmd on argument @arg from the first @len bytes the kernel copied
 * (the regions of the previous round, back to back; @data may be NULL when
 * @len is 0). A region that would take one round's fetched bytes past
 * @limit is marked IOCTL_REGION_TOO_BIG and left out of in_len and out_len:
 * the handler finds it missing only if it gets that far.
 *
 * A NULL or wrapping pointer and an empty buffer give no region, so the
 * handler fails on them itself, at the point of its checks where the kernel
 * would. Commands that touch no memory plan nothing.
 */
void ioctl_plan(unsigned int cmd, uint64_t arg, const void *data, size_t len,
		uint64_t limit, struct ioctl_plan *plan);

/*
 * The planners of ioctl_table.h's "buffers" column: each names the user
 * buffers its command's handler touches, from @k, the zero-extended struct,
 * with ioctl_plan_add(). IN regions are read, OUT ones also written back.
 */
struct ioctl_plan_state;
void ioctl_plan_add(struct ioctl_plan_state *s, uint64_t uptr, uint64_t len,
		    bool out);

void ioctl_buffers_allow_iovas(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_iova_ranges(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_hwpt_alloc(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_vfio_device_bind(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_ioas_batch(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_viommu_alloc(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_get_hw_info(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_get_dirty_bitmap(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_hwpt_invalidate(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_test_cmd(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_test_dirty(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_test_access_rw(struct ioctl_plan_state *s, const void *k);
void ioctl_buffers_test_dev_dma(struct ioctl_plan_state *s, const void *k);

/* The kernel sent exactly what @plan names: the handler can run. */
static inline bool ioctl_plan_complete(const struct ioctl_plan *plan,
				       uint64_t in_len, uint64_t out_len)
{
	return plan->in_len == in_len && plan->out_len == out_len;
}

#endif
