// SPDX-License-Identifier: MIT
/*
 * difftest's reproducers: one step per line, its arguments in struct
 * order, user addresses relative to the regions both sides share (so a
 * reader can redo them), then what each side answered.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "difftest.h"

static void print_num(FILE *out, uint64_t v)
{
	if (v < 10)
		fprintf(out, "%" PRIu64, v);
	else
		fprintf(out, "0x%" PRIx64, v);
}

static void print_uva(FILE *out, const struct dt_mem *m, uint64_t v)
{
	const struct {
		const char *name;
		const unsigned char *base;
		size_t len;
	} regions[] = {
		{ "memfd", m->memfd, 1 << 20 }, /* memfd and the hole after */
		{ "priv", m->priv, 1 << 19 }, /* private, then a hole */
		{ "ro", m->ro, 1 << 20 }, /* read-only, then a hole */
		{ "unmapped", m->guard, 1 << 20 }, /* never mapped */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(regions); i++) {
		uintptr_t b = (uintptr_t)regions[i].base;

		if (v >= b && v - b < regions[i].len) {
			fprintf(out, "%s+0x%" PRIx64, regions[i].name, v - b);
			return;
		}
	}
	print_num(out, v);
}

static void print_hex(FILE *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(out, "%s%02x", i ? " " : "", p[i]);
}

static void print_args(FILE *out, const struct dt_mem *m,
		       const struct dt_step *s)
{
	const struct dt_op *op = dt_op(s->op);
	unsigned int i;
	size_t end = 0;

	if (op->argmode == DT_ARG_VAL)
		fprintf(out, " arg=%lu", s->byval);
	if (op->argmode != DT_ARG_PTR)
		return;
	for (i = 0; i < op->nfields; i++) {
		const struct dt_field *f = &op->fields[i];
		uint64_t v = dt_field_get(s->arg, f);

		if (f->kind == DT_BYTES)
			continue;
		if (f->off + f->size > end)
			end = f->off + f->size;
		fprintf(out, " %s=", f->name);
		if ((int)i == s->buf_field && s->buf_dir == DT_BUF_IN) {
			fprintf(out, "in[");
			print_hex(out, s->ibuf,
				  s->buf_len < 64 ? s->buf_len : 64);
			fprintf(out, "]");
		} else if ((int)i == s->buf_field) {
			fprintf(out, "out[%zu bytes, 0x%02x each]", s->buf_len,
				s->fill);
		} else if (f->kind == DT_UVA || f->kind == DT_BUF) {
			print_uva(out, m, v);
		} else {
			print_num(out, v);
		}
	}
	/* bytes past the struct (a larger size): show any that are set */
	for (i = end; i < s->arg_len; i++)
		if (s->arg[i])
			fprintf(out, " byte[%u]=0x%02x", i, s->arg[i]);
}

static void print_result(FILE *out, const struct dt_result *r)
{
	if (r->ret < 0) {
		const char *name = strerrorname_np(r->err);

		if (name)
			fprintf(out, "%s", name);
		else
			fprintf(out, "errno %d", r->err);
	} else {
		fprintf(out, "%ld", r->ret);
	}
}

/* The fields a side changed, and on B those that differ from A. */
static void print_outputs(FILE *out, const struct dt_step *s,
			  const struct dt_outcome *o, int side)
{
	const struct dt_op *op = dt_op(s->op);
	unsigned int i;

	if (op->argmode != DT_ARG_PTR)
		return;
	for (i = 0; i < op->nfields; i++) {
		const struct dt_field *f = &op->fields[i];
		uint64_t v = dt_field_get(o->arg[side], f);

		if (f->kind == DT_BYTES || (int)i == s->buf_field)
			continue;
		if (v != dt_field_get(s->arg, f) ||
		    v != dt_field_get(o->arg[!side], f)) {
			fprintf(out, " %s=", f->name);
			print_num(out, v);
		}
	}
}

void dt_print_call(FILE *out, const struct dt_mem *m, unsigned int no,
		   const struct dt_step *s)
{
	fprintf(out, "#   %u. %s", no, dt_op(s->op)->name);
	print_args(out, m, s);
	fprintf(out, "\n");
}

void dt_print_answers(FILE *out, const struct dt_mem *m,
		      const struct dt_step *s, const struct dt_outcome *o)
{
	int side;

	fprintf(out, "#      =>");
	for (side = 0; side < 2; side++) {
		fprintf(out, " %s: ", side ? "  B" : "A");
		print_result(out, &o->r[side]);
		print_outputs(out, s, o, side);
		if (s->buf_field >= 0 && s->buf_dir == DT_BUF_OUT &&
		    s->buf_len) {
			fprintf(out, " buf[");
			print_hex(out, m->side_obuf[side],
				  s->buf_len < 16 ? s->buf_len : 16);
			fprintf(out, "%s]", s->buf_len > 16 ? " ..." : "");
		}
	}
	fprintf(out, "%s%s\n", o->why[0] ? "   DIFFERS: " : "", o->why);
}

void dt_print_step(FILE *out, const struct dt_mem *m, unsigned int no,
		   const struct dt_step *s, const struct dt_outcome *o)
{
	dt_print_call(out, m, no, s);
	dt_print_answers(out, m, s, o);
}
