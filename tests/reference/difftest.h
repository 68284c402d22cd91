/* SPDX-License-Identifier: MIT */
/*
 * difftest: random iommufd ioctl sequences run on two /dev/iommu's (the
 * kernel's and iommufdd's), compared step by step.
 *
 * difftest.c runs, compares, minimizes and reports; difftest_ops.c knows
 * the ioctls: their fields (in struct order, for the reproducers), how to
 * generate plausible arguments and what a successful answer teaches the
 * generator (new IDs, new mappings).
 */
#ifndef IOMMUFDD_DIFFTEST_H
#define IOMMUFDD_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Room for one ioctl argument; VFIO_IOMMU_GET_INFO's argsz stays below. */
#define DT_ARG_MAX 1024
/* Input data a step points to (IOVA ranges, dirty marks, HWPT data). */
#define DT_IBUF_MAX 256
/* Each side's output buffer (IOVA ranges, dirty bitmaps). */
#define DT_OBUF_SIZE (128 * 1024)

enum dt_field_kind {
	DT_NUM, /* a number */
	DT_UVA, /* a user address, printed relative to our regions */
	DT_BUF, /* the step's buffer (dt_step.buf) when buf_field names it */
	DT_BYTES /* anything after the struct: compared, printed in hex */
};

struct dt_field {
	const char *name;
	uint16_t off;
	uint8_t size;
	uint8_t kind;
};

enum dt_argmode { DT_ARG_PTR, DT_ARG_VAL, DT_ARG_NONE };
enum dt_bufdir { DT_BUF_NONE, DT_BUF_IN, DT_BUF_OUT };

/* One generated ioctl, with everything needed to replay it. */
struct dt_step {
	int op;
	unsigned char arg[DT_ARG_MAX];
	size_t arg_len; /* bytes given to and compared after the ioctl */
	unsigned long byval; /* the argument of DT_ARG_VAL ioctls */
	int buf_field; /* field pointing to the buffer, -1 for none */
	enum dt_bufdir buf_dir;
	size_t buf_len; /* bytes of input, or output compared */
	unsigned char fill; /* an output buffer's contents before the call */
	unsigned char ibuf[DT_IBUF_MAX];
};

struct dt_result {
	long ret;
	int err; /* errno when ret < 0, else 0 */
};

/* Both sides' answers to one step (buffer pointers zeroed), and where
 * they differ ("" when they agree). */
struct dt_outcome {
	struct dt_result r[2];
	unsigned char arg[2][DT_ARG_MAX];
	char why[256];
};

/* The user memory both sides see (the same pages) and the IDs seen. */
enum dt_obj { DT_IOAS, DT_HWPT, DT_HWPT_DIRTY, DT_STDEV, DT_IDEV };

struct dt_map {
	uint32_t ioas;
	uint64_t iova, length, uva;
};

#define DT_MAX_IDS 64
#define DT_MAX_MAPS 64

struct dt_mem {
	unsigned char *memfd, *priv, *ro, *guard, *in;
	size_t memfd_len, priv_len, ro_len;
	unsigned char *side_arg[2], *side_obuf[2];
};

struct dt_gen {
	uint64_t rng;
	const struct dt_mem *mem;
	bool include_known;
	uint64_t exclude; /* bit i: never generate dt_op(i) */
	unsigned int nids, nmaps, map_next;
	uint32_t tracking; /* a HWPT with dirty tracking on, 0 if none */
	struct {
		uint32_t id;
		enum dt_obj type;
		uint32_t ioas; /* a HWPT's IOAS, when known */
	} ids[DT_MAX_IDS];
	struct dt_map maps[DT_MAX_MAPS];
};

struct dt_op {
	const char *name;
	unsigned long req;
	enum dt_argmode argmode;
	const struct dt_field *fields;
	unsigned int nfields;
	unsigned int weight;
	void (*gen)(struct dt_gen *g, struct dt_step *s);
	/* Learn from side A's successful answer (out = its argument). */
	void (*learn)(struct dt_gen *g, const struct dt_step *s,
		      const unsigned char *out);
};

/* IOAS ioctls (difftest_ops.c); devices, HWPTs, VFIO (difftest_dev.c) */
extern const struct dt_op dt_ioas_ops[], dt_dev_ops[];
extern const unsigned int dt_n_ioas_ops, dt_n_dev_ops;
const struct dt_op *dt_op(unsigned int i);
unsigned int dt_nops(void);

/* A difference a newer kernel (or iommufdd) makes on purpose. */
struct dt_known {
	const char *op, *what, *reason;
	bool (*match)(const struct dt_step *s);
};

extern const struct dt_known dt_known[];
extern const unsigned int dt_nknown;

#define DT_PG 4096ULL
#define DT_U64MAX (~0ULL)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FLD(type, member, kind)                                               \
	{                                                                     \
#member, offsetof(type, member), sizeof(((type *)0)->member), \
			kind                                                  \
	}
#define ARG(type, s) ((type *)(s)->arg)
#define DT_PICK(g, arr) ((arr)[dt_rnd(g, ARRAY_SIZE(arr))])

/* Generator helpers (difftest_ops.c) */
extern const uint64_t dt_edge_u64[11];
extern const uint32_t dt_edge_u32[4];
uint64_t dt_rand(struct dt_gen *g);
unsigned int dt_rnd(struct dt_gen *g, unsigned int n);
bool dt_pct(struct dt_gen *g, unsigned int p);
uint32_t dt_pick_id(struct dt_gen *g, enum dt_obj type);
void dt_add_id(struct dt_gen *g, uint32_t id, enum dt_obj type);
void dt_add_hwpt(struct dt_gen *g, uint32_t id, enum dt_obj type,
		 uint32_t ioas);
uint32_t dt_hwpt_ioas(const struct dt_gen *g, uint32_t hwpt);
const struct dt_map *dt_pick_map(struct dt_gen *g);
void dt_add_map(struct dt_gen *g, uint32_t ioas, uint64_t iova, uint64_t length,
		uint64_t uva);
uint64_t dt_gen_iova(struct dt_gen *g);
uint64_t dt_gen_len(struct dt_gen *g);
uint64_t dt_gen_uva(struct dt_gen *g);
void dt_gen_size(struct dt_gen *g, struct dt_step *s, size_t size);
uint32_t dt_gen_map_flags(struct dt_gen *g);
uint32_t dt_gen_rsvd(struct dt_gen *g);

void dt_gen_step(struct dt_gen *g, struct dt_step *s);
void dt_learn(struct dt_gen *g, const struct dt_step *s,
	      const unsigned char *out, const struct dt_result *r);
uint64_t dt_field_get(const unsigned char *arg, const struct dt_field *f);
void dt_field_set(unsigned char *arg, const struct dt_field *f, uint64_t v);

struct dt_mem;
/* One step as a "# " TAP comment line: arguments, then both answers. */
void dt_print_step(FILE *out, const struct dt_mem *m, unsigned int no,
		   const struct dt_step *s, const struct dt_outcome *o);
/* The two halves: the call (printed before it runs, for -v), the answers */
void dt_print_call(FILE *out, const struct dt_mem *m, unsigned int no,
		   const struct dt_step *s);
void dt_print_answers(FILE *out, const struct dt_mem *m,
		      const struct dt_step *s, const struct dt_outcome *o);

#endif /* IOMMUFDD_DIFFTEST_H */
