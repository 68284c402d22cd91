// SPDX-License-Identifier: MIT
/*
 * difftest's device side: selftest mock devices (IOMMU_TEST_CMD), HWPT
 * allocation and dirty tracking, and the VFIO container ioctls iommufd
 * answers on its own fd (CONFIG_IOMMUFD_VFIO_CONTAINER). Also the table of
 * known version differences the generator leaves out.
 */
#include <stddef.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/vfio_compat.h>

#include "difftest.h"

#define TC struct iommu_test_cmd

static void gen_test_head(struct dt_gen *g, struct dt_step *s, uint32_t op,
			  uint32_t id)
{
	TC *a = ARG(TC, s);

	dt_gen_size(g, s, sizeof(*a));
	a->op = op;
	a->id = id;
	a->__reserved = dt_gen_rsvd(g);
}

#define TEST_HEAD                                                        \
	FLD(TC, size, DT_NUM), FLD(TC, op, DT_NUM), FLD(TC, id, DT_NUM), \
		FLD(TC, __reserved, DT_NUM)

/* --- mock devices ------------------------------------------------------ */

static const struct dt_field f_mock[] = {
	TEST_HEAD,
	FLD(TC, mock_domain_flags.out_stdev_id, DT_NUM),
	FLD(TC, mock_domain_flags.out_hwpt_id, DT_NUM),
	FLD(TC, mock_domain_flags.out_idev_id, DT_NUM),
	FLD(TC, mock_domain_flags.dev_flags, DT_NUM),
};

static uint32_t gen_pt(struct dt_gen *g)
{
	return dt_pct(g, 75) ? dt_pick_id(g, DT_IOAS) : dt_pick_id(g, DT_HWPT);
}

static void gen_mock(struct dt_gen *g, struct dt_step *s)
{
	gen_test_head(g, s, IOMMU_TEST_OP_MOCK_DOMAIN, gen_pt(g));
}

static void gen_mock_flags(struct dt_gen *g, struct dt_step *s)
{
	gen_test_head(g, s, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, gen_pt(g));
	ARG(TC, s)->mock_domain_flags.dev_flags = dt_pct(g, 90) ? dt_rnd(g, 4) :
								  dt_rnd(g, 16);
}

static bool has_id(const struct dt_gen *g, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < g->nids; i++)
		if (g->ids[i].id == id)
			return true;
	return false;
}

static void learn_mock(struct dt_gen *g, const struct dt_step *s,
		       const unsigned char *out)
{
	const TC *a = (const void *)out;

	(void)s;
	dt_add_id(g, a->mock_domain_flags.out_stdev_id, DT_STDEV);
	if (!has_id(g, a->mock_domain_flags.out_hwpt_id))
		dt_add_hwpt(g, a->mock_domain_flags.out_hwpt_id, DT_HWPT,
			    a->id);
	dt_add_id(g, a->mock_domain_flags.out_idev_id, DT_IDEV);
}

static const struct dt_field f_replace[] = {
	TEST_HEAD,
	FLD(TC, mock_domain_replace.pt_id, DT_NUM),
};

static void gen_replace(struct dt_gen *g, struct dt_step *s)
{
	gen_test_head(g, s, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		      dt_pick_id(g, DT_STDEV));
	ARG(TC, s)->mock_domain_replace.pt_id =
		dt_pct(g, 60) ? dt_pick_id(g, DT_HWPT) : gen_pt(g);
}

static void learn_replace(struct dt_gen *g, const struct dt_step *s,
			  const unsigned char *out)
{
	uint32_t id = ((const TC *)out)->mock_domain_replace.pt_id;

	(void)s;
	if (!has_id(g, id))
		dt_add_id(g, id, DT_HWPT);
}

static const struct dt_field f_check_map[] = {
	TEST_HEAD,
	FLD(TC, check_map.iova, DT_NUM),
	FLD(TC, check_map.length, DT_NUM),
	FLD(TC, check_map.uptr, DT_UVA),
};

/* Mostly a range that was mapped, with the memory behind it. */
static void gen_check_map(struct dt_gen *g, struct dt_step *s)
{
	const struct dt_map *m = dt_pick_map(g);
	TC *a = ARG(TC, s);

	gen_test_head(g, s, IOMMU_TEST_OP_MD_CHECK_MAP, dt_pick_id(g, DT_HWPT));
	if (m && dt_pct(g, 85)) {
		uint64_t pages = m->length / DT_PG, off = 0;

		if (pages > 1 && pages < (1 << 20))
			off = dt_rnd(g, pages) * DT_PG;
		a->check_map.iova = m->iova + off;
		a->check_map.length = m->length - off;
		if (a->check_map.length > 16 * DT_PG || dt_pct(g, 30))
			a->check_map.length = DT_PG;
		a->check_map.uptr = m->uva + off;
		if (dt_pct(g, 15))
			a->check_map.uptr += DT_PG;
	} else {
		a->check_map.iova = dt_gen_iova(g);
		a->check_map.length = dt_gen_len(g);
		a->check_map.uptr = dt_gen_uva(g);
	}
}

static const struct dt_field f_dirty[] = {
	TEST_HEAD,
	FLD(TC, dirty.flags, DT_NUM),
	FLD(TC, dirty.iova, DT_NUM),
	FLD(TC, dirty.length, DT_NUM),
	FLD(TC, dirty.page_size, DT_NUM),
	FLD(TC, dirty.uptr, DT_BUF),
	FLD(TC, dirty.out_nr_dirty, DT_NUM),
};

/* A mapped range (a known mapping, or its start), else any. */
static void gen_mapped_range(struct dt_gen *g, uint32_t hwpt, __u64 *iova,
			     __u64 *length)
{
	uint32_t ioas = dt_hwpt_ioas(g, hwpt);
	const struct dt_map *m = dt_pick_map(g);
	unsigned int i;

	/* preferably a mapping of the HWPT's own IOAS */
	for (i = 0; m && ioas && m->ioas != ioas && i < 8; i++)
		m = dt_pick_map(g);

	if (m && m->length <= 64 * DT_PG && dt_pct(g, 75)) {
		*iova = m->iova;
		*length = dt_pct(g, 80) ? m->length : DT_PG;
	} else if (dt_pct(g, 80)) {
		*iova = MOCK_APERTURE_START + dt_rnd(g, 32) * DT_PG;
		*length = (1 + dt_rnd(g, 64)) * DT_PG;
	} else {
		*iova = dt_gen_iova(g);
		*length = dt_gen_len(g);
	}
}

/* Mostly the HWPT whose dirty tracking was last turned on. */
static uint32_t pick_tracking(struct dt_gen *g)
{
	if (g->tracking && dt_pct(g, 75))
		return g->tracking;
	return dt_pick_id(g, DT_HWPT_DIRTY);
}

/* Mark random pages of a few mapped pages dirty in the mock domain. */
static void gen_dirty(struct dt_gen *g, struct dt_step *s)
{
	TC *a = ARG(TC, s);
	unsigned int i;

	gen_test_head(g, s, IOMMU_TEST_OP_DIRTY, dt_pick_id(g, DT_HWPT_DIRTY));
	a->dirty.flags = dt_pct(g, 95) ? 0 : 1;
	gen_mapped_range(g, a->id, &a->dirty.iova, &a->dirty.length);
	a->dirty.page_size = dt_pct(g, 85) ? DT_PG : 2048;
	if (dt_pct(g, 5))
		a->dirty.length = DT_PICK(g, dt_edge_u64);
	if (dt_pct(g, 5))
		a->dirty.page_size = DT_PICK(g, dt_edge_u64);
	for (i = 0; i < 32; i++)
		s->ibuf[i] = dt_pct(g, 30) ? dt_rand(g) : 0;
	s->buf_field = 8;
	s->buf_dir = DT_BUF_IN;
	s->buf_len = 32;
}

/* --- HWPTs and dirty tracking ----------------------------------------- */

static const struct dt_field f_hwpt_alloc[] = {
	FLD(struct iommu_hwpt_alloc, size, DT_NUM),
	FLD(struct iommu_hwpt_alloc, flags, DT_NUM),
	FLD(struct iommu_hwpt_alloc, dev_id, DT_NUM),
	FLD(struct iommu_hwpt_alloc, pt_id, DT_NUM),
	FLD(struct iommu_hwpt_alloc, out_hwpt_id, DT_NUM),
	FLD(struct iommu_hwpt_alloc, __reserved, DT_NUM),
	FLD(struct iommu_hwpt_alloc, data_type, DT_NUM),
	FLD(struct iommu_hwpt_alloc, data_len, DT_NUM),
	FLD(struct iommu_hwpt_alloc, data_uptr, DT_BUF),
	FLD(struct iommu_hwpt_alloc, fault_id, DT_NUM),
	FLD(struct iommu_hwpt_alloc, __reserved2, DT_NUM),
};

static void gen_hwpt_alloc(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_hwpt_alloc *a = ARG(struct iommu_hwpt_alloc, s);
	unsigned int r = dt_rnd(g, 100);

	dt_gen_size(g, s, sizeof(*a));
	a->dev_id = dt_pick_id(g, DT_IDEV);
	a->pt_id = dt_pick_id(g, DT_IOAS);
	a->__reserved = dt_gen_rsvd(g);
	if (r < 35)
		a->flags = 0;
	else if (r < 70)
		a->flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	else if (r < 80)
		a->flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	else if (r < 90)
		a->flags = dt_rnd(g, 16);
	if (dt_pct(g, 10)) {
		struct iommu_hwpt_selftest data = { IOMMU_TEST_IOTLB_DEFAULT };

		/* a nested mock HWPT on a parent */
		a->pt_id = dt_pick_id(g, DT_HWPT);
		a->data_type = IOMMU_HWPT_DATA_SELFTEST;
		a->data_len = dt_pct(g, 90) ? sizeof(data) : dt_rnd(g, 16);
		memcpy(s->ibuf, &data, sizeof(data));
		s->buf_field = 8;
		s->buf_dir = DT_BUF_IN;
		s->buf_len = a->data_len < DT_IBUF_MAX ? a->data_len : 0;
	}
	if (dt_pct(g, 3))
		a->fault_id = dt_pick_id(g, DT_IOAS);
}

static void learn_hwpt_alloc(struct dt_gen *g, const struct dt_step *s,
			     const unsigned char *out)
{
	const struct iommu_hwpt_alloc *a = (const void *)out;

	(void)s;
	dt_add_hwpt(g, a->out_hwpt_id,
		    a->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING ? DT_HWPT_DIRTY :
								 DT_HWPT,
		    a->pt_id);
}

static const struct dt_field f_set_dirty[] = {
	FLD(struct iommu_hwpt_set_dirty_tracking, size, DT_NUM),
	FLD(struct iommu_hwpt_set_dirty_tracking, flags, DT_NUM),
	FLD(struct iommu_hwpt_set_dirty_tracking, hwpt_id, DT_NUM),
	FLD(struct iommu_hwpt_set_dirty_tracking, __reserved, DT_NUM),
};

static void gen_set_dirty(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_hwpt_set_dirty_tracking *a = (void *)s->arg;

	dt_gen_size(g, s, sizeof(*a));
	a->flags = dt_pct(g, 92) ? (dt_pct(g, 75) ? 1 : 0) : dt_rnd(g, 8);
	a->hwpt_id = dt_pick_id(g, DT_HWPT_DIRTY);
	a->__reserved = dt_gen_rsvd(g);
}

static void learn_set_dirty(struct dt_gen *g, const struct dt_step *s,
			    const unsigned char *out)
{
	const struct iommu_hwpt_set_dirty_tracking *a = (const void *)out;

	(void)s;
	if (a->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		g->tracking = a->hwpt_id;
	else if (g->tracking == a->hwpt_id)
		g->tracking = 0;
}

static const struct dt_field f_get_dirty[] = {
	FLD(struct iommu_hwpt_get_dirty_bitmap, size, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, hwpt_id, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, flags, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, __reserved, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, iova, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, length, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, page_size, DT_NUM),
	FLD(struct iommu_hwpt_get_dirty_bitmap, data, DT_BUF),
};

static void gen_get_dirty(struct dt_gen *g, struct dt_step *s)
{
	static const uint64_t sizes[] = { 2048,	      8192,	65536, 0,
					  1,	      3,	0x7d1, 0x1800,
					  1ULL << 40, DT_U64MAX };
	struct iommu_hwpt_get_dirty_bitmap *a = (void *)s->arg;
	uint64_t granule, bits;

	dt_gen_size(g, s, sizeof(*a));
	a->hwpt_id = pick_tracking(g);
	a->flags = dt_pct(g, 90) ? dt_rnd(g, 2) : dt_rnd(g, 8);
	a->__reserved = dt_gen_rsvd(g);
	/* The range must be mapped throughout: mostly a known mapping. */
	gen_mapped_range(g, a->hwpt_id, &a->iova, &a->length);
	a->page_size = dt_pct(g, 75) ? DT_PG : DT_PICK(g, sizes);
	/* Bitmap bits count granules of the page size's lowest set bit. */
	granule = a->page_size & -a->page_size;
	bits = granule ? a->length / granule : 0;
	s->buf_len = bits / 8 + 8 < DT_OBUF_SIZE ? (bits + 63) / 64 * 8 :
						   DT_OBUF_SIZE;
	s->buf_field = 7;
	s->buf_dir = DT_BUF_OUT;
	s->fill = 0;
	if (dt_pct(g, 8)) {
		const struct dt_mem *m = g->mem;
		const uint64_t bad[] = { 0, (uintptr_t)m->ro,
					 (uintptr_t)m->guard, 1 };

		s->buf_field = -1;
		a->data = DT_PICK(g, bad);
	}
}

/* --- VFIO container compatibility -------------------------------------- */

static const struct dt_field f_vfio_ioas[] = {
	FLD(struct iommu_vfio_ioas, size, DT_NUM),
	FLD(struct iommu_vfio_ioas, ioas_id, DT_NUM),
	FLD(struct iommu_vfio_ioas, op, DT_NUM),
	FLD(struct iommu_vfio_ioas, __reserved, DT_NUM),
};

static void gen_vfio_ioas(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_vfio_ioas *a = ARG(struct iommu_vfio_ioas, s);
	unsigned int r = dt_rnd(g, 100);

	dt_gen_size(g, s, sizeof(*a));
	a->op = r < 45 ? IOMMU_VFIO_IOAS_GET :
		r < 85 ? IOMMU_VFIO_IOAS_SET :
		r < 95 ? IOMMU_VFIO_IOAS_CLEAR :
			 dt_rnd(g, 8);
	a->ioas_id = a->op == IOMMU_VFIO_IOAS_SET || dt_pct(g, 10) ?
			     dt_pick_id(g, DT_IOAS) :
			     0;
	a->__reserved = dt_gen_rsvd(g);
}

static const struct dt_field f_byval[] = {
	{ "arg", 0, 0, DT_NUM },
};

static void gen_api_version(struct dt_gen *g, struct dt_step *s)
{
	(void)g;
	(void)s;
}

static void gen_check_ext(struct dt_gen *g, struct dt_step *s)
{
	s->byval = dt_pct(g, 95) ? dt_rnd(g, 11) : DT_PICK(g, dt_edge_u32);
}

static void gen_set_iommu(struct dt_gen *g, struct dt_step *s)
{
	static const unsigned long types[] = { VFIO_TYPE1_IOMMU,
					       VFIO_TYPE1v2_IOMMU };

	s->byval = dt_pct(g, 75) ? DT_PICK(g, types) : dt_rnd(g, 12);
}

static const struct dt_field f_info[] = {
	FLD(struct vfio_iommu_type1_info, argsz, DT_NUM),
	FLD(struct vfio_iommu_type1_info, flags, DT_NUM),
	FLD(struct vfio_iommu_type1_info, iova_pgsizes, DT_NUM),
	FLD(struct vfio_iommu_type1_info, cap_offset, DT_NUM),
	FLD(struct vfio_iommu_type1_info, pad, DT_NUM),
	{ "caps", sizeof(struct vfio_iommu_type1_info), 0, DT_BYTES },
};

static void gen_info(struct dt_gen *g, struct dt_step *s)
{
	struct vfio_iommu_type1_info *a = (void *)s->arg;
	unsigned int r = dt_rnd(g, 100);

	a->argsz = r < 70 ? 512 : r < 85 ? sizeof(*a) : dt_rnd(g, 64);
	s->arg_len = a->argsz < sizeof(*a) ? sizeof(*a) : a->argsz;
	a->flags = dt_pct(g, 95) ? 0 : dt_rnd(g, 4);
}

static const struct dt_field f_map_dma[] = {
	FLD(struct vfio_iommu_type1_dma_map, argsz, DT_NUM),
	FLD(struct vfio_iommu_type1_dma_map, flags, DT_NUM),
	FLD(struct vfio_iommu_type1_dma_map, vaddr, DT_UVA),
	FLD(struct vfio_iommu_type1_dma_map, iova, DT_NUM),
	FLD(struct vfio_iommu_type1_dma_map, size, DT_NUM),
};

static void gen_map_dma(struct dt_gen *g, struct dt_step *s)
{
	struct vfio_iommu_type1_dma_map *a = (void *)s->arg;

	dt_gen_size(g, s, sizeof(*a));
	a->flags = dt_pct(g, 85) ?
			   VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE :
			   dt_rnd(g, 8);
	a->vaddr = dt_gen_uva(g);
	a->iova = dt_gen_iova(g);
	a->size = dt_gen_len(g);
}

static void learn_map_dma(struct dt_gen *g, const struct dt_step *s,
			  const unsigned char *out)
{
	const struct vfio_iommu_type1_dma_map *a = (const void *)out;

	(void)s;
	/* the compat IOAS: its ID is not in the answer */
	dt_add_map(g, 0, a->iova, a->size, a->vaddr);
}

static const struct dt_field f_unmap_dma[] = {
	FLD(struct vfio_iommu_type1_dma_unmap, argsz, DT_NUM),
	FLD(struct vfio_iommu_type1_dma_unmap, flags, DT_NUM),
	FLD(struct vfio_iommu_type1_dma_unmap, iova, DT_NUM),
	FLD(struct vfio_iommu_type1_dma_unmap, size, DT_NUM),
};

static void gen_unmap_dma(struct dt_gen *g, struct dt_step *s)
{
	struct vfio_iommu_type1_dma_unmap *a = (void *)s->arg;
	const struct dt_map *m = dt_pick_map(g);
	unsigned int r = dt_rnd(g, 100);

	dt_gen_size(g, s, sizeof(*a));
	if (r < 12) {
		a->flags = VFIO_DMA_UNMAP_FLAG_ALL;
	} else if (m && r < 70) {
		a->iova = m->iova;
		a->size = dt_pct(g, 80) ? m->length : DT_PG;
	} else {
		a->iova = dt_gen_iova(g);
		a->size = dt_gen_len(g);
		a->flags = dt_pct(g, 85) ? 0 : dt_rnd(g, 8);
	}
}

/* --- the table --------------------------------------------------------- */

const struct dt_op dt_dev_ops[] = {
	{ "TEST.MOCK_DOMAIN", IOMMU_TEST_CMD, DT_ARG_PTR, f_mock, 7, 6,
	  gen_mock, learn_mock },
	{ "TEST.MOCK_DOMAIN_FLAGS", IOMMU_TEST_CMD, DT_ARG_PTR, f_mock,
	  ARRAY_SIZE(f_mock), 2, gen_mock_flags, learn_mock },
	{ "TEST.MOCK_DOMAIN_REPLACE", IOMMU_TEST_CMD, DT_ARG_PTR, f_replace,
	  ARRAY_SIZE(f_replace), 4, gen_replace, learn_replace },
	{ "TEST.MD_CHECK_MAP", IOMMU_TEST_CMD, DT_ARG_PTR, f_check_map,
	  ARRAY_SIZE(f_check_map), 4, gen_check_map, NULL },
	{ "TEST.DIRTY", IOMMU_TEST_CMD, DT_ARG_PTR, f_dirty,
	  ARRAY_SIZE(f_dirty), 3, gen_dirty, NULL },
	{ "HWPT_ALLOC", IOMMU_HWPT_ALLOC, DT_ARG_PTR, f_hwpt_alloc,
	  ARRAY_SIZE(f_hwpt_alloc), 5, gen_hwpt_alloc, learn_hwpt_alloc },
	{ "HWPT_SET_DIRTY_TRACKING", IOMMU_HWPT_SET_DIRTY_TRACKING, DT_ARG_PTR,
	  f_set_dirty, ARRAY_SIZE(f_set_dirty), 3, gen_set_dirty,
	  learn_set_dirty },
	{ "HWPT_GET_DIRTY_BITMAP", IOMMU_HWPT_GET_DIRTY_BITMAP, DT_ARG_PTR,
	  f_get_dirty, ARRAY_SIZE(f_get_dirty), 4, gen_get_dirty, NULL },
	{ "VFIO_IOAS", IOMMU_VFIO_IOAS, DT_ARG_PTR, f_vfio_ioas,
	  ARRAY_SIZE(f_vfio_ioas), 3, gen_vfio_ioas, NULL },
	{ "VFIO_GET_API_VERSION", VFIO_GET_API_VERSION, DT_ARG_NONE, NULL, 0, 1,
	  gen_api_version, NULL },
	{ "VFIO_CHECK_EXTENSION", VFIO_CHECK_EXTENSION, DT_ARG_VAL, f_byval, 1,
	  2, gen_check_ext, NULL },
	{ "VFIO_SET_IOMMU", VFIO_SET_IOMMU, DT_ARG_VAL, f_byval, 1, 2,
	  gen_set_iommu, NULL },
	{ "VFIO_IOMMU_GET_INFO", VFIO_IOMMU_GET_INFO, DT_ARG_PTR, f_info,
	  ARRAY_SIZE(f_info), 2, gen_info, NULL },
	{ "VFIO_IOMMU_MAP_DMA", VFIO_IOMMU_MAP_DMA, DT_ARG_PTR, f_map_dma,
	  ARRAY_SIZE(f_map_dma), 3, gen_map_dma, learn_map_dma },
	{ "VFIO_IOMMU_UNMAP_DMA", VFIO_IOMMU_UNMAP_DMA, DT_ARG_PTR, f_unmap_dma,
	  ARRAY_SIZE(f_unmap_dma), 2, gen_unmap_dma, NULL },
};
const unsigned int dt_n_dev_ops = ARRAY_SIZE(dt_dev_ops);

/* --- known version differences ----------------------------------------- */

static bool pasid_device(const struct dt_step *s)
{
	return ARG(TC, s)->mock_domain_flags.dev_flags &
	       MOCK_FLAGS_DEVICE_PASID;
}

static bool pasid_hwpt(const struct dt_step *s)
{
	return ARG(struct iommu_hwpt_alloc, s)->flags & IOMMU_HWPT_ALLOC_PASID;
}

/*
 * What a 6.12 kernel refuses and iommufdd (at a newer uAPI) accepts. The
 * generator does not produce these unless --include-known is given; the
 * table is printed at the start of every run.
 */
const struct dt_known dt_known[] = {
	{ "TEST.MOCK_DOMAIN_FLAGS", "dev_flags with MOCK_FLAGS_DEVICE_PASID",
	  "a mock PASID device is newer than 6.12 (6.12 answers EINVAL)",
	  pasid_device },
	{ "HWPT_ALLOC", "flags with IOMMU_HWPT_ALLOC_PASID",
	  "the flag is newer than 6.12 (6.12 answers EOPNOTSUPP)", pasid_hwpt },
};
const unsigned int dt_nknown = ARRAY_SIZE(dt_known);
