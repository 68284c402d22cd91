// SPDX-License-Identifier: MIT
/*
 * The region planner (ioctl_regions.c) and the uaccess window it feeds:
 * which bytes each command names from crafted structs, the transfer limit,
 * and the retry protocol played end to end against the real core with this
 * test standing in for the kernel (it copies the named regions from its own
 * memory, runs the handler on the copies and writes the reply data back).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>
#include <iommufd/vfio_compat.h>

#include "core.h"
#include "ioctl_regions.h"
#include "uaccess.h"

/* What one CUSE retry round carries on 4 KiB pages. */
#define LIMIT (32 * 4096)

#define IN IOCTL_REGION_IN
#define OUT IOCTL_REGION_OUT
#define TOO_BIG IOCTL_REGION_TOO_BIG

static uint64_t u(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void assert_region(const struct ioctl_plan *plan, unsigned int i,
			  const void *uptr, uint64_t len, unsigned int flags)
{
	assert_true(i < plan->nr);
	assert_true(plan->regions[i].uptr == u(uptr));
	assert_int_equal(plan->regions[i].len, len);
	assert_int_equal(plan->regions[i].flags, flags);
}

/* The plan once the kernel has sent everything: the struct is at @arg. */
static void plan_full(unsigned int cmd, const void *arg, size_t len,
		      struct ioctl_plan *plan)
{
	ioctl_plan(cmd, u(arg), arg, len, LIMIT, plan);
}

/* ---- the planner --------------------------------------------------------- */

static void test_plan_rounds(void **state)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	struct ioctl_plan plan;

	(void)state;
	/* nothing yet: the size */
	ioctl_plan(IOMMU_IOAS_ALLOC, u(&cmd), NULL, 0, LIMIT, &plan);
	assert_int_equal(plan.nr, 1);
	assert_region(&plan, 0, &cmd, 4, IN);
	assert_int_equal(plan.in_len, 4);
	assert_int_equal(plan.out_len, 0);
	assert_false(ioctl_plan_complete(&plan, 0, 0));

	/* the size: the whole struct, written back */
	ioctl_plan(IOMMU_IOAS_ALLOC, u(&cmd), &cmd, 4, LIMIT, &plan);
	assert_int_equal(plan.nr, 1);
	assert_region(&plan, 0, &cmd, sizeof(cmd), IN | OUT);
	assert_false(ioctl_plan_complete(&plan, 4, 0));

	/* the struct, and it names nothing else: complete */
	plan_full(IOMMU_IOAS_ALLOC, &cmd, sizeof(cmd), &plan);
	assert_true(ioctl_plan_complete(&plan, sizeof(cmd), sizeof(cmd)));
	/* ... but only if the out region was declared the round before */
	assert_false(ioctl_plan_complete(&plan, sizeof(cmd), 0));
}

static void test_plan_size_rules(void **state)
{
	struct {
		struct iommu_ioas_allow_iovas cmd;
		uint8_t tail[8];
	} big = { .cmd = { .size = sizeof(big), .num_iovas = 2 } };
	struct iommu_iova_range ranges[2];
	struct ioctl_plan plan;
	uint32_t tiny = 2;

	(void)state;
	big.cmd.allowed_iovas = u(ranges);

	/* a size below 4 still fetches the size field itself */
	ioctl_plan(IOMMU_DESTROY, u(&tiny), &tiny, 4, LIMIT, &plan);
	assert_int_equal(plan.nr, 1);
	assert_region(&plan, 0, &tiny, 4, IN | OUT);
	assert_true(ioctl_plan_complete(&plan, 4, 4));

	/* a longer struct with a zero tail: all of it, and the buffer */
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &big, sizeof(big), &plan);
	assert_int_equal(plan.nr, 2);
	assert_region(&plan, 0, &big, sizeof(big), IN | OUT);
	assert_region(&plan, 1, ranges, sizeof(ranges), IN);

	/* a non-zero tail is E2BIG: the handler reads nothing more */
	big.tail[3] = 1;
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &big, sizeof(big), &plan);
	assert_int_equal(plan.nr, 1);
	assert_true(ioctl_plan_complete(&plan, sizeof(big), sizeof(big)));

	/* a short struct leaves the pointer out: it is zero for the handler */
	big.cmd.size = offsetof(struct iommu_ioas_allow_iovas, allowed_iovas);
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &big, big.cmd.size, &plan);
	assert_int_equal(plan.nr, 1);
	assert_region(&plan, 0, &big, big.cmd.size, IN | OUT);
}

static void test_plan_pointers(void **state)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.num_iovas = 1,
	};
	struct ioctl_plan plan;

	(void)state;
	/* a NULL argument: the handler faults on its own */
	ioctl_plan(IOMMU_IOAS_ALLOC, 0, NULL, 0, LIMIT, &plan);
	assert_int_equal(plan.nr, 0);
	assert_true(ioctl_plan_complete(&plan, 0, 0));

	/* a NULL buffer, or an empty one: nothing to fetch */
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.nr, 1);
	cmd.allowed_iovas = u(&cmd);
	cmd.num_iovas = 0;
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.nr, 1);

	/* a buffer that wraps around the address space */
	cmd.allowed_iovas = UINT64_MAX - 15;
	cmd.num_iovas = 2;
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.nr, 1);
}

static void test_plan_iommufd_buffers(void **state)
{
	uint8_t buf[4096];
	struct ioctl_plan plan;

	(void)state;
	{
		struct iommu_ioas_iova_ranges cmd = {
			.size = sizeof(cmd),
			.num_iovas = 3,
			.allowed_iovas = u(buf),
		};

		plan_full(IOMMU_IOAS_IOVA_RANGES, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 2);
		assert_region(&plan, 1, buf, 3 * 16, IN | OUT);
		assert_int_equal(plan.in_len, sizeof(cmd) + 48);
		assert_int_equal(plan.out_len, sizeof(cmd) + 48);
	}
	{
		struct iommu_hwpt_alloc cmd = {
			.size = sizeof(cmd),
			.data_type = IOMMU_HWPT_DATA_NONE,
			.data_len = 4,
			.data_uptr = u(buf),
		};

		/* no type: the handler refuses data without reading it */
		plan_full(IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 1);
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		plan_full(IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 2);
		assert_region(&plan, 1, buf, 4, IN);
		/* the 6.6 size, without the data fields */
		cmd.size = offsetof(struct iommu_hwpt_alloc, data_type);
		plan_full(IOMMU_HWPT_ALLOC, &cmd, cmd.size, &plan);
		assert_int_equal(plan.nr, 1);
	}
	{
		struct iommu_hw_info cmd = {
			.size = sizeof(cmd),
			.data_len = 100,
			.data_uptr = u(buf),
		};

		plan_full(IOMMU_GET_HW_INFO, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 2);
		assert_region(&plan, 1, buf, 100, IN | OUT);
	}
	{
		struct iommu_hwpt_get_dirty_bitmap cmd = {
			.size = sizeof(cmd),
			.length = 9 * 4096,
			.page_size = 4096,
			.data = u(buf),
		};

		/* 9 bits take 2 bytes */
		plan_full(IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd, sizeof(cmd),
			  &plan);
		assert_int_equal(plan.nr, 2);
		assert_region(&plan, 1, buf, 2, IN | OUT);
		/* 128 MiB at 4 KiB: 32768 bits, 4 KiB of bitmap */
		cmd.length = 128ULL << 20;
		plan_full(IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd, sizeof(cmd),
			  &plan);
		assert_region(&plan, 1, buf, 4096, IN | OUT);
		/* no page size: the handler stops first */
		cmd.page_size = 0;
		plan_full(IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd, sizeof(cmd),
			  &plan);
		assert_int_equal(plan.nr, 1);
	}
	{
		struct iommu_hwpt_invalidate cmd = {
			.size = sizeof(cmd),
			.data_uptr = u(buf),
			.entry_len = 8,
			.entry_num = 5,
		};

		plan_full(IOMMU_HWPT_INVALIDATE, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 2);
		assert_region(&plan, 1, buf, 40, IN);
	}
	{
		struct iommu_viommu_alloc cmd = {
			.size = sizeof(cmd),
			.type = IOMMU_VIOMMU_TYPE_SELFTEST,
			.data_uptr = u(buf),
		};

		/* no data: nothing but the struct */
		plan_full(IOMMU_VIOMMU_ALLOC, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 1);
		/* the driver reads its data and writes its answer over it */
		cmd.data_len = 24;
		plan_full(IOMMU_VIOMMU_ALLOC, &cmd, sizeof(cmd), &plan);
		assert_int_equal(plan.nr, 2);
		assert_region(&plan, 1, buf, 24, IN | OUT);
		/* the 24-byte (minimum) size has no data fields */
		cmd.size = offsetof(struct iommu_viommu_alloc, data_len);
		plan_full(IOMMU_VIOMMU_ALLOC, &cmd, cmd.size, &plan);
		assert_int_equal(plan.nr, 1);
	}
}

static void test_plan_struct_only(void **state)
{
	static const struct {
		unsigned int cmd;
		size_t size;
	} cmds[] = {
		{ IOMMU_DESTROY, sizeof(struct iommu_destroy) },
		{ IOMMU_IOAS_ALLOC, sizeof(struct iommu_ioas_alloc) },
		{ IOMMU_IOAS_COPY, sizeof(struct iommu_ioas_copy) },
		{ IOMMU_IOAS_MAP, sizeof(struct iommu_ioas_map) },
		{ IOMMU_IOAS_MAP_FILE, sizeof(struct iommu_ioas_map_file) },
		{ IOMMU_IOAS_UNMAP, sizeof(struct iommu_ioas_unmap) },
		{ IOMMU_OPTION, sizeof(struct iommu_option) },
		{ IOMMU_VFIO_IOAS, sizeof(struct iommu_vfio_ioas) },
		{ IOMMU_HWPT_SET_DIRTY_TRACKING,
		  sizeof(struct iommu_hwpt_set_dirty_tracking) },
		{ IOMMU_FAULT_QUEUE_ALLOC, sizeof(struct iommu_fault_alloc) },
	};
	/* Non-zero everywhere: nothing in these structs names a buffer. */
	uint8_t s[64];
	struct ioctl_plan plan;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		uint32_t size = cmds[i].size;

		memset(s, 0x5a, sizeof(s));
		memcpy(s, &size, sizeof(size));
		plan_full(cmds[i].cmd, s, size, &plan);
		assert_int_equal(plan.nr, 1);
		assert_region(&plan, 0, s, size, IN | OUT);
		assert_true(ioctl_plan_complete(&plan, size, size));
	}
}

static void test_plan_test_cmd(void **state)
{
	uint8_t buf[64];
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DIRTY,
		.dirty = { .length = 20 * 4096,
			   .page_size = 4096,
			   .uptr = u(buf) },
	};
	struct iommufdd_test_dma dma = { .length = 16, .uptr = u(buf) };
	struct ioctl_plan plan;

	(void)state;
	plan_full(IOMMU_TEST_CMD, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.nr, 2);
	assert_region(&plan, 1, buf, 3, IN);

	memset(&cmd.add_reserved, 0, 48);
	cmd.op = IOMMU_TEST_OP_ACCESS_RW;
	cmd.access_rw.uptr = u(buf);
	cmd.access_rw.length = 10;
	plan_full(IOMMU_TEST_CMD, &cmd, sizeof(cmd), &plan);
	assert_region(&plan, 1, buf, 10, IN | OUT);
	cmd.access_rw.flags = MOCK_ACCESS_RW_WRITE;
	plan_full(IOMMU_TEST_CMD, &cmd, sizeof(cmd), &plan);
	assert_region(&plan, 1, buf, 10, IN);

	memset(&cmd.add_reserved, 0, 48);
	cmd.op = IOMMUFDD_TEST_OP_DEV_DMA;
	memcpy(&cmd.add_reserved, &dma, sizeof(dma));
	plan_full(IOMMU_TEST_CMD, &cmd, sizeof(cmd), &plan);
	assert_region(&plan, 1, buf, 16, IN | OUT);

	/* the page-table checks name memory no copy can stand in for */
	memset(&cmd.add_reserved, 0, 48);
	cmd.op = IOMMU_TEST_OP_MD_CHECK_MAP;
	cmd.check_map.uptr = u(buf);
	cmd.check_map.length = 4096;
	plan_full(IOMMU_TEST_CMD, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.nr, 1);
}

static void test_plan_vfio_and_unknown(void **state)
{
	struct vfio_iommu_type1_info info = { .argsz = 8 };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	uint32_t size = 16;
	struct ioctl_plan plan;

	(void)state;
	/* the argument is a value: run at once */
	ioctl_plan(VFIO_CHECK_EXTENSION, 3, NULL, 0, LIMIT, &plan);
	assert_int_equal(plan.nr, 0);
	ioctl_plan(VFIO_GET_API_VERSION, 0, NULL, 0, LIMIT, &plan);
	assert_int_equal(plan.nr, 0);

	/* GET_INFO reads its fixed part even below argsz, writes argsz */
	ioctl_plan(VFIO_IOMMU_GET_INFO, u(&info), NULL, 0, LIMIT, &plan);
	assert_region(&plan, 0, &info, 4, IN);
	plan_full(VFIO_IOMMU_GET_INFO, &info, 4, &plan);
	assert_region(&plan, 0, &info, 16, IN | OUT);
	info.argsz = 100;
	plan_full(VFIO_IOMMU_GET_INFO, &info, 4, &plan);
	assert_region(&plan, 0, &info, 100, IN | OUT);

	/* fixed structs come in one round */
	ioctl_plan(VFIO_IOMMU_MAP_DMA, u(&map), NULL, 0, LIMIT, &plan);
	assert_region(&plan, 0, &map, sizeof(map), IN);
	ioctl_plan(VFIO_IOMMU_UNMAP_DMA, u(&unmap), NULL, 0, LIMIT, &plan);
	assert_region(&plan, 0, &unmap, sizeof(unmap), IN | OUT);

	/* a free number in iommufd's range reads the size, then ENOTTY */
	ioctl_plan(_IO(IOMMUFD_TYPE, 0x9f), u(&size), &size, 4, LIMIT, &plan);
	assert_int_equal(plan.nr, 1);
	assert_region(&plan, 0, &size, 4, IN);
	/* anything else reads nothing */
	ioctl_plan(_IO('T', 1), u(&size), NULL, 0, LIMIT, &plan);
	assert_int_equal(plan.nr, 0);
}

static void test_plan_limit(void **state)
{
	struct iommu_ioas_allow_iovas cmd = { .size = sizeof(cmd) };
	struct ioctl_plan plan;
	uint32_t huge = 1U << 20;

	(void)state;
	cmd.allowed_iovas = 0x10000;
	/* as many entries as one round carries */
	cmd.num_iovas = (LIMIT - sizeof(cmd)) / 16;
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.regions[1].flags, IN);
	assert_int_equal(plan.in_len, sizeof(cmd) + cmd.num_iovas * 16);

	/* one more entry does not: named, not fetched */
	cmd.num_iovas++;
	plan_full(IOMMU_IOAS_ALLOW_IOVAS, &cmd, sizeof(cmd), &plan);
	assert_int_equal(plan.nr, 2);
	assert_int_equal(plan.regions[1].flags, IN | TOO_BIG);
	assert_int_equal(plan.in_len, sizeof(cmd));
	assert_true(ioctl_plan_complete(&plan, sizeof(cmd), sizeof(cmd)));

	/* a struct over the limit: its size stays fetched, the rest not */
	ioctl_plan(IOMMU_IOAS_ALLOC, u(&huge), &huge, 4, LIMIT, &plan);
	assert_int_equal(plan.nr, 2);
	assert_region(&plan, 0, &huge, 4, IN);
	assert_region(&plan, 1, &huge, huge, IN | OUT | TOO_BIG);
	assert_true(ioctl_plan_complete(&plan, 4, 0));
}

/* ---- the window ------------------------------------------------------- */

static void test_window_access(void **state)
{
	uint8_t a[16], b[8], copies[24], got[16];
	struct ioctl_plan plan = {
		.nr = 2,
		.regions = { { u(a), 16, IN | OUT }, { u(b), 8, IN } },
		.in_len = 24,
		.out_len = 16,
	};
	struct uwindow w;
	struct ucaller c = { .window = &w };
	struct iovec iov[IOCTL_REGIONS_MAX];

	(void)state;
	for (int i = 0; i < 24; i++)
		copies[i] = (uint8_t)i;
	uwindow_init(&w, &plan, copies, "testing");

	assert_int_equal(copy_from_user(&c, got, u(a) + 2, 4), 0);
	assert_int_equal(got[0], 2);
	assert_int_equal(copy_from_user(&c, got, u(b), 8), 0);
	assert_int_equal(got[7], 23);
	/* past a region's end, or outside all of them */
	assert_int_equal(copy_from_user(&c, got, u(b) + 4, 8), -EFAULT);
	assert_int_equal(copy_from_user(&c, got, u(got), 1), -EFAULT);
	assert_int_equal(w.misses, 2);
	assert_false(w.too_big);
	/* a partial read stops at the region's end */
	assert_int_equal(copy_from_user_partial(&c, got, u(a) + 10, 16), 6);

	/* nothing written: no reply data */
	assert_int_equal(uwindow_out_iov(&w, iov), 0);
	/* an IN-only region cannot be written */
	assert_int_equal(copy_to_user(&c, u(b), "x", 1), -EFAULT);
	assert_int_equal(copy_to_user(&c, u(a) + 4, "xy", 2), 0);
	assert_int_equal(copies[4], 'x');
	assert_int_equal(uwindow_out_iov(&w, iov), 1);
	assert_ptr_equal(iov[0].iov_base, copies);
	assert_int_equal(iov[0].iov_len, 6);
	assert_int_equal(clear_user(&c, u(a) + 12, 4), 0);
	assert_int_equal(uwindow_out_iov(&w, iov), 1);
	assert_int_equal(iov[0].iov_len, 16);

	/* zero checks: a set byte wins over a fault after it */
	assert_int_equal(check_zeroed_user(&c, u(a) + 12, 4), 0);
	assert_int_equal(check_zeroed_user(&c, u(a) + 11, 4), -E2BIG);
	assert_int_equal(check_zeroed_user(&c, u(a) + 12, 8), -EFAULT);

	/* what needs the caller itself is refused behind a window */
	assert_int_equal(caller_require_direct(&c, "testing"), -EPERM);
	c.window = NULL;
	assert_int_equal(caller_require_direct(&c, "testing"), 0);
}

static void test_window_overlap_and_order(void **state)
{
	uint8_t mem[32];
	/* Two OUT regions the caller made overlap, and a TOO_BIG one. */
	struct ioctl_plan plan = {
		.nr = 2,
		.regions = { { u(mem), 16, IN | OUT },
			     { u(mem) + 8, 16, IN | OUT } },
		.in_len = 32,
		.out_len = 32,
	};
	uint8_t copies[32] = { 0 };
	struct uwindow w;
	struct ucaller c = { .window = &w };
	struct iovec iov[IOCTL_REGIONS_MAX];
	uint8_t got;

	(void)state;
	uwindow_init(&w, &plan, copies, NULL);
	/* a write in the overlap lands in both copies */
	assert_int_equal(copy_to_user(&c, u(mem) + 10, "z", 1), 0);
	assert_int_equal(copies[10], 'z');
	assert_int_equal(copies[16 + 2], 'z');
	/* the first region goes back whole, the second up to the write */
	assert_int_equal(uwindow_out_iov(&w, iov), 2);
	assert_int_equal(iov[0].iov_len, 16);
	assert_int_equal(iov[1].iov_len, 3);

	plan.regions[1].flags |= TOO_BIG;
	plan.in_len = plan.out_len = 16;
	uwindow_init(&w, &plan, copies, NULL);
	assert_int_equal(copy_from_user(&c, &got, u(mem) + 20, 1), -EFAULT);
	assert_true(w.too_big);
	assert_int_equal(w.misses, 0);
}

/* ---- the retry protocol against the core --------------------------------- */

static struct iommufd_ctx *ctx;
static const struct ucaller self = { .pid = 0 };
static uint64_t limit = LIMIT;

struct sim {
	unsigned int rounds;
	bool too_big;
	unsigned int misses;
};

/*
 * Play the kernel: send the ioctl with what the previous round asked for
 * until the plan is complete, run the handler once on the copies, then
 * write the reply data over the OUT regions, as fuse_do_ioctl() does.
 */
static long sim_ioctl(unsigned int cmd, void *argp, struct sim *sim)
{
	uint64_t arg = u(argp);
	struct iovec iov[IOCTL_REGIONS_MAX];
	unsigned char *in = NULL;
	size_t in_len = 0, out_len = 0;
	struct ioctl_plan plan;
	struct ucaller caller = self;
	struct uwindow w;
	unsigned int n, j = 0;
	long ret;

	memset(sim, 0, sizeof(*sim));
	for (;;) {
		unsigned char *p;

		sim->rounds++;
		assert_true(sim->rounds <= 4);
		ioctl_plan(cmd, arg, in, in_len, limit, &plan);
		if (ioctl_plan_complete(&plan, in_len, out_len))
			break;
		free(in);
		in = p = malloc(plan.in_len ? plan.in_len : 1);
		for (unsigned int i = 0; i < plan.nr; i++) {
			const struct ioctl_region *r = &plan.regions[i];

			if (r->flags & TOO_BIG)
				continue;
			memcpy(p, (void *)(uintptr_t)r->uptr, r->len);
			p += r->len;
		}
		in_len = plan.in_len;
		out_len = plan.out_len;
	}

	uwindow_init(&w, &plan, in, "simulated");
	caller.window = &w;
	ret = iommufd_ctx_ioctl(ctx, &caller, cmd, arg);
	if (w.too_big)
		ret = -ENOMEM;
	sim->too_big = w.too_big;
	sim->misses = w.misses;

	n = uwindow_out_iov(&w, iov);
	for (unsigned int i = 0; i < plan.nr && j < n; i++) {
		const struct ioctl_region *r = &plan.regions[i];

		if ((r->flags & TOO_BIG) || !(r->flags & OUT))
			continue;
		memcpy((void *)(uintptr_t)r->uptr, iov[j].iov_base,
		       iov[j].iov_len);
		j++;
	}
	free(in);
	return ret;
}

/* Every test below runs through the retry protocol and must not stray. */
static long sioc(unsigned int cmd, void *arg)
{
	struct sim sim;
	long ret = sim_ioctl(cmd, arg, &sim);

	assert_int_equal(sim.misses, 0);
	return ret;
}

static int setup(void **state)
{
	(void)state;
	/* The mock backend, which alone has the selftest interface. */
	if (iommufd_core_init("mock"))
		return -1;
	ctx = iommufd_ctx_open(&self);
	limit = LIMIT;
	return ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	iommufd_ctx_release(ctx);
	return 0;
}

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	assert_int_equal(sioc(IOMMU_IOAS_ALLOC, &cmd), 0);
	return cmd.out_ioas_id;
}

static void test_sim_basic(void **state)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct {
		struct iommu_ioas_alloc cmd;
		uint8_t tail[8];
	} big = { .cmd = { .size = sizeof(big) } };
	struct iommu_option opt = {
		.size = sizeof(opt),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
		.val64 = 77,
	};
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct sim sim;

	(void)state;
	/* size, struct, run: three rounds */
	assert_int_equal(sim_ioctl(IOMMU_IOAS_ALLOC, &alloc, &sim), 0);
	assert_int_equal(sim.rounds, 3);
	assert_int_equal(alloc.out_ioas_id, 1);
	/* the size rules hold on copies */
	assert_int_equal(sioc(IOMMU_IOAS_ALLOC, &big), 0);
	assert_int_equal(big.cmd.out_ioas_id, 2);
	big.tail[0] = 1;
	assert_int_equal(sioc(IOMMU_IOAS_ALLOC, &big), -E2BIG);
	alloc.size = 11;
	assert_int_equal(sioc(IOMMU_IOAS_ALLOC, &alloc), -EINVAL);
	assert_int_equal(sioc(_IO(IOMMUFD_TYPE, 0x9f), &alloc), -ENOTTY);
	assert_int_equal(sioc(IOMMU_DESTROY, NULL), -EFAULT);

	/* only val64 goes back */
	opt.object_id = 1;
	assert_int_equal(sioc(IOMMU_OPTION, &opt), 0);
	assert_int_equal(opt.val64, 1);
	assert_int_equal(opt.option_id, IOMMU_OPTION_HUGE_PAGES);

	destroy.id = 2;
	assert_int_equal(sioc(IOMMU_DESTROY, &destroy), 0);
	assert_int_equal(sioc(IOMMU_DESTROY, &destroy), -ENOENT);
}

static void test_sim_iova_ranges(void **state)
{
	struct iommu_iova_range allow[2] = {
		{ .start = 0x40000, .last = 0x4ffff },
		{ .start = 0x60000, .last = 0x6ffff },
	};
	struct iommu_test_cmd reserve = {
		.size = sizeof(reserve),
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.add_reserved = { .start = 0x10000, .length = 0x10000 },
	};
	struct iommu_iova_range ranges[4];
	struct iommu_ioas_allow_iovas set = {
		.size = sizeof(set),
		.num_iovas = 2,
		.allowed_iovas = u(allow),
	};
	struct iommu_ioas_iova_ranges get = {
		.size = sizeof(get),
		.num_iovas = 1,
		.allowed_iovas = u(ranges),
	};
	struct sim sim;

	(void)state;
	set.ioas_id = get.ioas_id = reserve.id = ioas_alloc();
	/* struct, then struct and array: four rounds */
	assert_int_equal(sim_ioctl(IOMMU_IOAS_ALLOW_IOVAS, &set, &sim), 0);
	assert_int_equal(sim.rounds, 4);
	/* a reserved range in the middle leaves two usable ones */
	assert_int_equal(sioc(IOMMU_TEST_CMD, &reserve), 0);

	/* too small: EMSGSIZE with the count and the first range */
	memset(ranges, 0xff, sizeof(ranges));
	assert_int_equal(sioc(IOMMU_IOAS_IOVA_RANGES, &get), -EMSGSIZE);
	assert_int_equal(get.num_iovas, 2);
	assert_true(ranges[0].start == 0 && ranges[0].last == 0xffff);
	/* untouched entries are left as they were */
	assert_true(ranges[1].start == UINT64_MAX);

	get.num_iovas = 4;
	assert_int_equal(sioc(IOMMU_IOAS_IOVA_RANGES, &get), 0);
	assert_int_equal(get.num_iovas, 2);
	assert_true(ranges[1].start == 0x20000 && ranges[1].last == UINT64_MAX);
	assert_true(ranges[2].start == UINT64_MAX);

	/* a buffer no round can carry: ENOMEM, and the count not touched */
	limit = sizeof(get) + 3 * sizeof(ranges[0]);
	get.num_iovas = 4;
	assert_int_equal(sim_ioctl(IOMMU_IOAS_IOVA_RANGES, &get, &sim),
			 -ENOMEM);
	assert_true(sim.too_big);
	assert_int_equal(get.num_iovas, 4);
}

static void test_sim_hwpt(void **state)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_invalidate_selftest inv[3] = {
		{ .iotlb_id = 0 },
		{ .iotlb_id = 1 },
		{ .iotlb_id = 1000 }, /* out of range: EINVAL here */
	};
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc parent = {
		.size = sizeof(parent),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct iommu_hwpt_alloc nested = {
		.size = sizeof(nested),
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = u(&data),
	};
	struct iommu_hwpt_invalidate hi = {
		.size = sizeof(hi),
		.data_uptr = u(inv),
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(inv[0]),
		.entry_num = 3,
	};
	struct iommu_test_hw_info info;
	struct iommu_hw_info hw = {
		.size = sizeof(hw),
		.data_len = sizeof(info) + 8,
	};
	uint8_t info_buf[sizeof(info) + 8];

	(void)state;
	md.id = ioas_alloc();
	assert_int_equal(sioc(IOMMU_TEST_CMD, &md), 0);

	/* the driver data is written, the rest of the buffer zeroed */
	memset(info_buf, 0xee, sizeof(info_buf));
	hw.dev_id = md.mock_domain.out_idev_id;
	hw.data_uptr = u(info_buf);
	assert_int_equal(sioc(IOMMU_GET_HW_INFO, &hw), 0);
	memcpy(&info, info_buf, sizeof(info));
	assert_int_equal(info.test_reg, IOMMU_HW_INFO_SELFTEST_REGVAL);
	assert_int_equal(info_buf[sizeof(info) + 7], 0);
	assert_int_equal(hw.out_data_type, IOMMU_HW_INFO_TYPE_SELFTEST);

	parent.dev_id = nested.dev_id = md.mock_domain.out_idev_id;
	parent.pt_id = md.id;
	assert_int_equal(sioc(IOMMU_HWPT_ALLOC, &parent), 0);
	nested.pt_id = parent.out_hwpt_id;
	assert_int_equal(sioc(IOMMU_HWPT_ALLOC, &nested), 0);

	/* an error travels with the count of handled entries */
	hi.hwpt_id = nested.out_hwpt_id;
	assert_int_equal(sioc(IOMMU_HWPT_INVALIDATE, &hi), -EINVAL);
	assert_int_equal(hi.entry_num, 2);
	hi.entry_num = 2;
	assert_int_equal(sioc(IOMMU_HWPT_INVALIDATE, &hi), 0);
	assert_int_equal(hi.entry_num, 2);
}

static void test_sim_needs_caller(void **state)
{
	static uint8_t buf[8192] __attribute__((aligned(4096)));
	/* Inside the mock's aperture, so a device may attach later. */
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA,
		.user_va = u(buf),
		.length = 4096,
		.iova = 1ULL << 24,
	};
	struct vfio_iommu_type1_info vinfo = { .argsz = sizeof(vinfo) };
	struct iommu_vfio_ioas set = { .size = sizeof(set),
				       .op = IOMMU_VFIO_IOAS_SET };
	struct iommu_test_cmd check = { .size = sizeof(check),
					.op = IOMMU_TEST_OP_MD_CHECK_REFS };
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };

	(void)state;
	map.ioas_id = 99;
	assert_int_equal(sioc(IOMMU_IOAS_MAP, &map), -ENOENT);
	/* without a domain nothing is pinned, so the mapping is made */
	map.ioas_id = ioas_alloc();
	assert_int_equal(sioc(IOMMU_IOAS_MAP, &map), 0);
	/* a domain pins it, and that needs the caller itself */
	md.id = map.ioas_id;
	assert_int_equal(sioc(IOMMU_TEST_CMD, &md), -EPERM);
	md.id = ioas_alloc();
	assert_int_equal(sioc(IOMMU_TEST_CMD, &md), 0);
	map.ioas_id = md.id;
	assert_int_equal(sioc(IOMMU_IOAS_MAP, &map), -EPERM);

	/* the page-table checks too, but "no pins at all" needs no tables */
	check.check_refs.uptr = u(buf);
	check.check_refs.length = sizeof(buf);
	assert_int_equal(sioc(IOMMU_TEST_CMD, &check), 0);
	check.check_refs.refs = 1;
	assert_int_equal(sioc(IOMMU_TEST_CMD, &check), -EPERM);

	/* VFIO: values run at once, structs through copies */
	set.ioas_id = map.ioas_id;
	assert_int_equal(sioc(IOMMU_VFIO_IOAS, &set), 0);
	assert_int_equal(sioc(VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION);
	assert_int_equal(sioc(VFIO_IOMMU_GET_INFO, &vinfo), 0);
	assert_true(vinfo.argsz > sizeof(vinfo));
	assert_true(vinfo.flags & VFIO_IOMMU_INFO_PGSIZES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_rounds),
		cmocka_unit_test(test_plan_size_rules),
		cmocka_unit_test(test_plan_pointers),
		cmocka_unit_test(test_plan_iommufd_buffers),
		cmocka_unit_test(test_plan_struct_only),
		cmocka_unit_test(test_plan_test_cmd),
		cmocka_unit_test(test_plan_vfio_and_unknown),
		cmocka_unit_test(test_plan_limit),
		cmocka_unit_test(test_window_access),
		cmocka_unit_test(test_window_overlap_and_order),
		cmocka_unit_test_setup_teardown(test_sim_basic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sim_iova_ranges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sim_hwpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_needs_caller, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
