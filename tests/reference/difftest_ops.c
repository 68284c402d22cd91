// SPDX-License-Identifier: MIT
/*
 * The ioctls difftest generates: their fields in struct order, argument
 * generators biased towards plausible values (IDs that exist, aligned IOVAs
 * inside the mock aperture, a few pages) with edge values mixed in, and
 * what a successful answer adds to the generator's state.
 *
 * Facts used (include/uapi/linux/iommufd.h, the selftest's iommufd_test.h):
 * the mock aperture is [2^24, 2^31 - 1], IOVAs and lengths are in 4 KiB
 * pages, a mock domain's HWPT tracks dirty pages only when allocated with
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING.
 */
#include <stddef.h>
#include <string.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/vfio_compat.h>

#include "difftest.h"

/* --- random values ----------------------------------------------------- */

/* splitmix64: small, and the same sequence on every machine */
uint64_t dt_rand(struct dt_gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int dt_rnd(struct dt_gen *g, unsigned int n)
{
	return n ? dt_rand(g) % n : 0;
}

bool dt_pct(struct dt_gen *g, unsigned int p)
{
	return dt_rnd(g, 100) < p;
}

const uint64_t dt_edge_u64[] = {
	0,
	1,
	DT_PG - 1,
	DT_PG + 1,
	1ULL << 31,
	1ULL << 32,
	1ULL << 40,
	1ULL << 63,
	DT_U64MAX - DT_PG + 1,
	DT_U64MAX - 1,
	DT_U64MAX,
};
const uint32_t dt_edge_u32[] = { 0, 1, 0x7fffffff, 0xffffffff };

/* An ID of the wanted type most of the time, else anything. */
uint32_t dt_pick_id(struct dt_gen *g, enum dt_obj type)
{
	uint32_t cand[DT_MAX_IDS];
	unsigned int i, n = 0;

	for (i = 0; i < g->nids; i++)
		if (g->ids[i].type == type ||
		    (type == DT_HWPT && g->ids[i].type == DT_HWPT_DIRTY))
			cand[n++] = g->ids[i].id;
	if (n && dt_pct(g, 85))
		return cand[dt_rnd(g, n)];
	if (g->nids && dt_pct(g, 60))
		return g->ids[dt_rnd(g, g->nids)].id;
	return dt_pct(g, 50) ? DT_PICK(g, dt_edge_u32) : 1 + dt_rnd(g, 16);
}

void dt_add_hwpt(struct dt_gen *g, uint32_t id, enum dt_obj type, uint32_t ioas)
{
	if (g->nids < DT_MAX_IDS) {
		g->ids[g->nids].id = id;
		g->ids[g->nids].type = type;
		g->ids[g->nids].ioas = ioas;
		g->nids++;
	}
}

void dt_add_id(struct dt_gen *g, uint32_t id, enum dt_obj type)
{
	dt_add_hwpt(g, id, type, 0);
}

uint32_t dt_hwpt_ioas(const struct dt_gen *g, uint32_t hwpt)
{
	unsigned int i;

	for (i = 0; i < g->nids; i++)
		if (g->ids[i].id == hwpt)
			return g->ids[i].ioas;
	return 0;
}

const struct dt_map *dt_pick_map(struct dt_gen *g)
{
	return g->nmaps ? &g->maps[dt_rnd(g, g->nmaps)] : NULL;
}

void dt_add_map(struct dt_gen *g, uint32_t ioas, uint64_t iova, uint64_t length,
		uint64_t uva)
{
	struct dt_map *m = &g->maps[g->map_next];

	m->ioas = ioas;
	m->iova = iova;
	m->length = length;
	m->uva = uva;
	g->map_next = (g->map_next + 1) % DT_MAX_MAPS;
	if (g->nmaps < DT_MAX_MAPS)
		g->nmaps++;
}

uint64_t dt_gen_iova(struct dt_gen *g)
{
	const struct dt_map *m = dt_pick_map(g);

	if (dt_pct(g, 65))
		return MOCK_APERTURE_START + dt_rnd(g, 128) * DT_PG;
	if (m && dt_pct(g, 50))
		return m->iova + dt_rnd(g, 4) * DT_PG;
	if (dt_pct(g, 50))
		return DT_PICK(g, dt_edge_u64);
	static const uint64_t near[] = {
		MOCK_APERTURE_START - DT_PG,
		MOCK_APERTURE_START + 0x800,
		(uint64_t)MOCK_APERTURE_LAST + 1 - DT_PG,
		(uint64_t)MOCK_APERTURE_LAST + 1,
		(uint64_t)MOCK_APERTURE_LAST + 1 - 2 * DT_PG,
	};
	return DT_PICK(g, near);
}

uint64_t dt_gen_len(struct dt_gen *g)
{
	if (dt_pct(g, 80))
		return (1 + dt_rnd(g, 16)) * DT_PG;
	return DT_PICK(g, dt_edge_u64);
}

/* Inside memfd, private or read-only memory, or an edge value. */
uint64_t dt_gen_uva(struct dt_gen *g)
{
	const struct dt_mem *m = g->mem;
	unsigned int r = dt_rnd(g, 100);

	if (r < 42)
		return (uintptr_t)m->memfd + dt_rnd(g, 48) * DT_PG;
	if (r < 84)
		return (uintptr_t)m->priv + dt_rnd(g, 48) * DT_PG;
	if (r < 90)
		return (uintptr_t)m->ro + dt_rnd(g, 4) * DT_PG;
	if (r < 94)
		return (uintptr_t)m->memfd + 1 + dt_rnd(g, DT_PG);
	if (r < 97)
		return (uintptr_t)m->guard;
	return DT_PICK(g, dt_edge_u64);
}

/* sizeof most of the time; otherwise too small, or larger with or
 * without non-zero trailing bytes. */
void dt_gen_size(struct dt_gen *g, struct dt_step *s, size_t size)
{
	uint32_t v = size;

	s->arg_len = size;
	if (dt_pct(g, 4)) {
		static const uint32_t small[] = { 0, 4, 8 };

		v = dt_pct(g, 50) ? small[dt_rnd(g, 3)] : size - 4;
	} else if (dt_pct(g, 3)) {
		v = size + 8 * (1 + dt_rnd(g, 4));
		s->arg_len = v;
		if (dt_pct(g, 50))
			s->arg[size + dt_rnd(g, v - size)] = 1 + dt_rnd(g, 255);
	}
	memcpy(s->arg, &v, sizeof(v));
}

uint32_t dt_gen_map_flags(struct dt_gen *g)
{
	const uint32_t rw = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	unsigned int r = dt_rnd(g, 100);

	if (r < 65)
		return IOMMU_IOAS_MAP_FIXED_IOVA | rw;
	if (r < 78)
		return rw;
	if (r < 88)
		return IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE;
	if (r < 93)
		return IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE;
	return dt_rnd(g, 16);
}

/* A reserved field is 0 except now and then. */
uint32_t dt_gen_rsvd(struct dt_gen *g)
{
	return dt_pct(g, 3) ? 1 + dt_rnd(g, 0xffff) : 0;
}

/* --- IOAS -------------------------------------------------------------- */

static const struct dt_field f_destroy[] = {
	FLD(struct iommu_destroy, size, DT_NUM),
	FLD(struct iommu_destroy, id, DT_NUM),
};

static void gen_destroy(struct dt_gen *g, struct dt_step *s)
{
	dt_gen_size(g, s, sizeof(struct iommu_destroy));
	ARG(struct iommu_destroy, s)->id =
		g->nids && dt_pct(g, 85) ? g->ids[dt_rnd(g, g->nids)].id :
					   dt_pick_id(g, DT_IOAS);
}

static void learn_destroy(struct dt_gen *g, const struct dt_step *s,
			  const unsigned char *out)
{
	uint32_t id = ((const struct iommu_destroy *)out)->id;
	unsigned int i;

	(void)s;
	for (i = 0; i < g->nids; i++)
		if (g->ids[i].id == id)
			g->ids[i] = g->ids[--g->nids];
}

static const struct dt_field f_ioas_alloc[] = {
	FLD(struct iommu_ioas_alloc, size, DT_NUM),
	FLD(struct iommu_ioas_alloc, flags, DT_NUM),
	FLD(struct iommu_ioas_alloc, out_ioas_id, DT_NUM),
};

static void gen_ioas_alloc(struct dt_gen *g, struct dt_step *s)
{
	dt_gen_size(g, s, sizeof(struct iommu_ioas_alloc));
	ARG(struct iommu_ioas_alloc, s)->flags = dt_pct(g, 4) ? 1 : 0;
}

static void learn_ioas_alloc(struct dt_gen *g, const struct dt_step *s,
			     const unsigned char *out)
{
	(void)s;
	dt_add_id(g, ((const struct iommu_ioas_alloc *)out)->out_ioas_id,
		  DT_IOAS);
}

static const struct dt_field f_map[] = {
	FLD(struct iommu_ioas_map, size, DT_NUM),
	FLD(struct iommu_ioas_map, flags, DT_NUM),
	FLD(struct iommu_ioas_map, ioas_id, DT_NUM),
	FLD(struct iommu_ioas_map, __reserved, DT_NUM),
	FLD(struct iommu_ioas_map, user_va, DT_UVA),
	FLD(struct iommu_ioas_map, length, DT_NUM),
	FLD(struct iommu_ioas_map, iova, DT_NUM),
};

static void gen_map(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_ioas_map *a = ARG(struct iommu_ioas_map, s);

	dt_gen_size(g, s, sizeof(*a));
	a->flags = dt_gen_map_flags(g);
	a->ioas_id = dt_pick_id(g, DT_IOAS);
	a->__reserved = dt_gen_rsvd(g);
	a->user_va = dt_gen_uva(g);
	a->length = dt_gen_len(g);
	a->iova = dt_gen_iova(g);
}

static void learn_map(struct dt_gen *g, const struct dt_step *s,
		      const unsigned char *out)
{
	const struct iommu_ioas_map *a = (const void *)out;

	(void)s;
	dt_add_map(g, a->ioas_id, a->iova, a->length, a->user_va);
}

static const struct dt_field f_unmap[] = {
	FLD(struct iommu_ioas_unmap, size, DT_NUM),
	FLD(struct iommu_ioas_unmap, ioas_id, DT_NUM),
	FLD(struct iommu_ioas_unmap, iova, DT_NUM),
	FLD(struct iommu_ioas_unmap, length, DT_NUM),
};

static void gen_unmap(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_ioas_unmap *a = ARG(struct iommu_ioas_unmap, s);
	const struct dt_map *m = dt_pick_map(g);
	unsigned int r = dt_rnd(g, 100);

	dt_gen_size(g, s, sizeof(*a));
	a->ioas_id = dt_pick_id(g, DT_IOAS);
	if (r < 20) {
		a->iova = 0;
		a->length = DT_U64MAX;
	} else if (m && r < 75) {
		a->ioas_id = dt_pct(g, 90) ? m->ioas : a->ioas_id;
		a->iova = m->iova + (dt_pct(g, 80) ? 0 : DT_PG);
		a->length = dt_pct(g, 80) ? m->length : DT_PG;
	} else {
		a->iova = dt_gen_iova(g);
		a->length = dt_gen_len(g);
	}
}

static const struct dt_field f_copy[] = {
	FLD(struct iommu_ioas_copy, size, DT_NUM),
	FLD(struct iommu_ioas_copy, flags, DT_NUM),
	FLD(struct iommu_ioas_copy, dst_ioas_id, DT_NUM),
	FLD(struct iommu_ioas_copy, src_ioas_id, DT_NUM),
	FLD(struct iommu_ioas_copy, length, DT_NUM),
	FLD(struct iommu_ioas_copy, dst_iova, DT_NUM),
	FLD(struct iommu_ioas_copy, src_iova, DT_NUM),
};

static void gen_copy(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_ioas_copy *a = ARG(struct iommu_ioas_copy, s);
	const struct dt_map *m = dt_pick_map(g);

	dt_gen_size(g, s, sizeof(*a));
	a->flags = dt_gen_map_flags(g);
	a->dst_ioas_id = dt_pick_id(g, DT_IOAS);
	if (m && dt_pct(g, 80)) {
		a->src_ioas_id = m->ioas;
		a->src_iova = m->iova + (dt_pct(g, 80) ? 0 : DT_PG);
		a->length = dt_pct(g, 70) ? m->length : dt_gen_len(g);
	} else {
		a->src_ioas_id = dt_pick_id(g, DT_IOAS);
		a->src_iova = dt_gen_iova(g);
		a->length = dt_gen_len(g);
	}
	a->dst_iova = dt_gen_iova(g);
}

static void learn_copy(struct dt_gen *g, const struct dt_step *s,
		       const unsigned char *out)
{
	const struct iommu_ioas_copy *a = (const void *)out;
	unsigned int i;

	(void)s;
	for (i = 0; i < g->nmaps; i++) {
		const struct dt_map *m = &g->maps[i];

		if (m->ioas == a->src_ioas_id && m->iova <= a->src_iova &&
		    a->src_iova - m->iova < m->length) {
			dt_add_map(g, a->dst_ioas_id, a->dst_iova, a->length,
				   m->uva + (a->src_iova - m->iova));
			return;
		}
	}
}

/* Ranges of a few pages inside the aperture, now and then odd ones. */
static unsigned int gen_ranges(struct dt_gen *g, struct dt_step *s,
			       unsigned int max)
{
	struct iommu_iova_range *r = (void *)s->ibuf;
	unsigned int i, n = dt_rnd(g, max + 1);

	for (i = 0; i < n; i++) {
		r[i].start = MOCK_APERTURE_START + dt_rnd(g, 256) * DT_PG;
		r[i].last = r[i].start + (1 + dt_rnd(g, 64)) * DT_PG - 1;
		if (dt_pct(g, 8))
			r[i].start += 1 + dt_rnd(g, DT_PG - 1);
		if (dt_pct(g, 5))
			r[i].last = DT_PICK(g, dt_edge_u64);
		if (dt_pct(g, 5))
			r[i].start = DT_PICK(g, dt_edge_u64);
	}
	return n;
}

static const struct dt_field f_allow[] = {
	FLD(struct iommu_ioas_allow_iovas, size, DT_NUM),
	FLD(struct iommu_ioas_allow_iovas, ioas_id, DT_NUM),
	FLD(struct iommu_ioas_allow_iovas, num_iovas, DT_NUM),
	FLD(struct iommu_ioas_allow_iovas, __reserved, DT_NUM),
	FLD(struct iommu_ioas_allow_iovas, allowed_iovas, DT_BUF),
};

static void gen_allow(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_ioas_allow_iovas *a =
		ARG(struct iommu_ioas_allow_iovas, s);

	dt_gen_size(g, s, sizeof(*a));
	a->ioas_id = dt_pick_id(g, DT_IOAS);
	a->num_iovas = gen_ranges(g, s, 3);
	a->__reserved = dt_gen_rsvd(g);
	s->buf_field = 4;
	s->buf_dir = DT_BUF_IN;
	s->buf_len = a->num_iovas * sizeof(struct iommu_iova_range);
	if (dt_pct(g, 4)) {
		s->buf_field = -1;
		a->allowed_iovas = dt_pct(g, 50) ? 0 : (uintptr_t)g->mem->guard;
	}
}

static const struct dt_field f_ranges[] = {
	FLD(struct iommu_ioas_iova_ranges, size, DT_NUM),
	FLD(struct iommu_ioas_iova_ranges, ioas_id, DT_NUM),
	FLD(struct iommu_ioas_iova_ranges, num_iovas, DT_NUM),
	FLD(struct iommu_ioas_iova_ranges, __reserved, DT_NUM),
	FLD(struct iommu_ioas_iova_ranges, allowed_iovas, DT_BUF),
	FLD(struct iommu_ioas_iova_ranges, out_iova_alignment, DT_NUM),
};

static void gen_ranges_query(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_ioas_iova_ranges *a =
		ARG(struct iommu_ioas_iova_ranges, s);

	dt_gen_size(g, s, sizeof(*a));
	a->ioas_id = dt_pick_id(g, DT_IOAS);
	a->num_iovas = dt_pct(g, 90) ? dt_rnd(g, 6) : DT_PICK(g, dt_edge_u32);
	a->__reserved = dt_gen_rsvd(g);
	s->buf_field = 4;
	s->buf_dir = DT_BUF_OUT;
	s->fill = 0xa5;
	s->buf_len = (a->num_iovas < 256 ? a->num_iovas : 256) *
		     sizeof(struct iommu_iova_range);
	if (dt_pct(g, 8)) {
		s->buf_field = -1;
		a->allowed_iovas = dt_pct(g, 70) ? 0 : (uintptr_t)g->mem->ro;
	}
}

static const struct dt_field f_option[] = {
	FLD(struct iommu_option, size, DT_NUM),
	FLD(struct iommu_option, option_id, DT_NUM),
	FLD(struct iommu_option, op, DT_NUM),
	FLD(struct iommu_option, __reserved, DT_NUM),
	FLD(struct iommu_option, object_id, DT_NUM),
	FLD(struct iommu_option, val64, DT_NUM),
};

static void gen_option(struct dt_gen *g, struct dt_step *s)
{
	struct iommu_option *a = ARG(struct iommu_option, s);
	unsigned int r = dt_rnd(g, 100);

	dt_gen_size(g, s, sizeof(*a));
	a->op = dt_pct(g, 50) ? IOMMU_OPTION_OP_GET : IOMMU_OPTION_OP_SET;
	a->val64 = dt_pct(g, 90) ? dt_rnd(g, 2) : DT_PICK(g, dt_edge_u64);
	a->__reserved = dt_gen_rsvd(g);
	if (r < 45) {
		a->option_id = IOMMU_OPTION_RLIMIT_MODE;
		a->object_id = dt_pct(g, 90) ? 0 : dt_pick_id(g, DT_IOAS);
	} else if (r < 90) {
		a->option_id = IOMMU_OPTION_HUGE_PAGES;
		a->object_id = dt_pick_id(g, DT_IOAS);
	} else {
		a->option_id = dt_rnd(g, 4);
		a->op = dt_rnd(g, 4);
		a->object_id = dt_pick_id(g, DT_IOAS);
	}
}

/* --- the table --------------------------------------------------------- */

const struct dt_op dt_ioas_ops[] = {
	{ "IOAS_ALLOC", IOMMU_IOAS_ALLOC, DT_ARG_PTR, f_ioas_alloc,
	  ARRAY_SIZE(f_ioas_alloc), 8, gen_ioas_alloc, learn_ioas_alloc },
	{ "DESTROY", IOMMU_DESTROY, DT_ARG_PTR, f_destroy,
	  ARRAY_SIZE(f_destroy), 3, gen_destroy, learn_destroy },
	{ "IOAS_MAP", IOMMU_IOAS_MAP, DT_ARG_PTR, f_map, ARRAY_SIZE(f_map), 14,
	  gen_map, learn_map },
	{ "IOAS_UNMAP", IOMMU_IOAS_UNMAP, DT_ARG_PTR, f_unmap,
	  ARRAY_SIZE(f_unmap), 7, gen_unmap, NULL },
	{ "IOAS_COPY", IOMMU_IOAS_COPY, DT_ARG_PTR, f_copy, ARRAY_SIZE(f_copy),
	  6, gen_copy, learn_copy },
	{ "IOAS_ALLOW_IOVAS", IOMMU_IOAS_ALLOW_IOVAS, DT_ARG_PTR, f_allow,
	  ARRAY_SIZE(f_allow), 3, gen_allow, NULL },
	{ "IOAS_IOVA_RANGES", IOMMU_IOAS_IOVA_RANGES, DT_ARG_PTR, f_ranges,
	  ARRAY_SIZE(f_ranges), 4, gen_ranges_query, NULL },
	{ "OPTION", IOMMU_OPTION, DT_ARG_PTR, f_option, ARRAY_SIZE(f_option), 4,
	  gen_option, NULL },
};
const unsigned int dt_n_ioas_ops = ARRAY_SIZE(dt_ioas_ops);

const struct dt_op *dt_op(unsigned int i)
{
	return i < dt_n_ioas_ops ? &dt_ioas_ops[i] :
				   &dt_dev_ops[i - dt_n_ioas_ops];
}

unsigned int dt_nops(void)
{
	return dt_n_ioas_ops + dt_n_dev_ops;
}

/* --- generation -------------------------------------------------------- */

static bool known_excluded(const struct dt_step *s)
{
	unsigned int i;

	for (i = 0; i < dt_nknown; i++)
		if (!strcmp(dt_known[i].op, dt_op(s->op)->name) &&
		    dt_known[i].match(s))
			return true;
	return false;
}

static bool have(const struct dt_gen *g, enum dt_obj type)
{
	unsigned int i;

	for (i = 0; i < g->nids; i++)
		if (g->ids[i].type == type)
			return true;
	return false;
}

static unsigned int op_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < dt_nops() && strcmp(dt_op(i)->name, name); i++)
		;
	return i;
}

/*
 * Most ioctls need objects made by earlier steps: until they exist, steer
 * the choice towards making them (an IOAS, a mock device, a dirty-tracking
 * HWPT), then towards using the dirty-tracking one. Else by weight.
 */
static unsigned int pick_op(struct dt_gen *g)
{
	static const char *const dirty_ops[] = { "HWPT_SET_DIRTY_TRACKING",
						 "HWPT_GET_DIRTY_BITMAP",
						 "TEST.DIRTY" };
	unsigned int i, total = 0, r;

	if (!have(g, DT_IOAS) && dt_pct(g, 40))
		return op_index("IOAS_ALLOC");
	if (!have(g, DT_IDEV) && dt_pct(g, 15))
		return op_index("TEST.MOCK_DOMAIN");
	if (have(g, DT_IDEV) && !have(g, DT_HWPT_DIRTY) && dt_pct(g, 10))
		return op_index("HWPT_ALLOC");
	if (have(g, DT_HWPT_DIRTY) && !g->tracking && dt_pct(g, 10))
		return op_index("HWPT_SET_DIRTY_TRACKING");
	if (g->tracking && dt_pct(g, 12))
		return op_index(DT_PICK(g, dirty_ops));
	for (i = 0; i < dt_nops(); i++)
		total += dt_op(i)->weight;
	r = dt_rnd(g, total);
	for (i = 0; r >= dt_op(i)->weight; i++)
		r -= dt_op(i)->weight;
	return i;
}

void dt_gen_step(struct dt_gen *g, struct dt_step *s)
{
	unsigned int i, tries;

	for (tries = 0;; tries++) {
		memset(s, 0, sizeof(*s));
		s->buf_field = -1;
		do
			i = pick_op(g);
		while (g->exclude >> i & 1);
		s->op = i;
		dt_op(i)->gen(g, s);
		/* Known version differences are not generated unless asked
		 * for (the table is printed at the start of every run). */
		if (g->include_known || !known_excluded(s) || tries > 100)
			break;
	}
}

void dt_learn(struct dt_gen *g, const struct dt_step *s,
	      const unsigned char *out, const struct dt_result *r)
{
	if (r->ret >= 0 && dt_op(s->op)->learn)
		dt_op(s->op)->learn(g, s, out);
}

uint64_t dt_field_get(const unsigned char *arg, const struct dt_field *f)
{
	uint64_t v = 0;

	memcpy(&v, arg + f->off, f->size); /* little endian */
	return v;
}

void dt_field_set(unsigned char *arg, const struct dt_field *f, uint64_t v)
{
	memcpy(arg + f->off, &v, f->size);
}
