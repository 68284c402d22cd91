// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine at run time, values (iommufd-script(5)): what
 * expressions evaluate to once variables and regions exist, fields read
 * from and written to an argument buffer, comparisons of what came back
 * with what was expected, and how values are printed in the step log.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_private.h"

__attribute__((format(printf, 2, 3))) void sb_printf(struct sbuf *b,
						     const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = 2 * (b->len + (size_t)n + 64);
		b->p = script_xrealloc(b->p, b->cap);
	}
}

void sb_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

uint64_t script_field_mask(unsigned int size)
{
	return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

uint64_t script_get_field(const uint8_t *buf, const struct field *f)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (f->size) {
	case 1:
		memcpy(&v8, buf + f->offset, 1);
		return v8;
	case 2:
		memcpy(&v16, buf + f->offset, 2);
		return v16;
	case 4:
		memcpy(&v32, buf + f->offset, 4);
		return v32;
	default:
		memcpy(&v64, buf + f->offset, 8);
		return v64;
	}
}

void script_put_field(uint8_t *buf, const struct field *f, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (f->size) {
	case 1:
		memcpy(buf + f->offset, &v8, 1);
		break;
	case 2:
		memcpy(buf + f->offset, &v16, 2);
		break;
	case 4:
		memcpy(buf + f->offset, &v32, 4);
		break;
	default:
		memcpy(buf + f->offset, &v, 8);
		break;
	}
}

/* Whether v fits size bytes, as an unsigned or a negative signed value. */
bool script_fits(uint64_t v, unsigned int size)
{
	uint64_t m = script_field_mask(size);

	return size >= 8 || v <= m ||
	       ((int64_t)v < 0 && (int64_t)v >= -(int64_t)(m / 2 + 1));
}

/*
 * Evaluate at run time. False when a variable is not set: its step failed
 * (the run stops) or was skipped (so is this step); r says which.
 */
bool script_eval(struct run *r, const struct expr *e, uint64_t *out)
{
	uint64_t acc = 0, v = 0;
	unsigned int i;

	for (i = 0; i < e->n; i++) {
		const struct term *t = &e->t[i];

		switch (t->kind) {
		case T_NUM:
			v = t->num;
			break;
		case T_VAR:
			if (r->state[t->idx] != VAR_SET) {
				r->unset_var = r->s->vars.v[t->idx];
				r->skip_from_var = r->state[t->idx] ==
						   VAR_SKIPPED;
				return false;
			}
			v = r->vals[t->idx];
			break;
		case T_REGION:
			v = (uintptr_t)r->s->regions[t->idx].mem;
			break;
		case T_FD:
			v = (uint64_t)(int64_t)r->s->regions[t->idx].fd;
			break;
		case T_DEVFD:
			v = (uint64_t)(int64_t)r->fds[t->idx];
			break;
		}
		if (t->op == '+')
			acc += v;
		else if (t->op == '-')
			acc -= v;
		else
			acc |= v;
	}
	*out = acc;
	return true;
}

void script_fmt_num(struct sbuf *b, uint64_t v)
{
	if (v < 4096)
		sb_printf(b, "%" PRIu64, v);
	else
		sb_printf(b, "0x%" PRIx64, v);
}

/* "value", or "text(=value)" when the expression was more than a number */
void script_fmt_expr(struct sbuf *b, const struct expr *e, uint64_t v)
{
	if (e->text && e->text[strspn(e->text, "0123456789abcdefABCDEFxX")]) {
		sb_printf(b, "%s(=", e->text);
		script_fmt_num(b, v);
		sb_printf(b, ")");
	} else {
		script_fmt_num(b, v);
	}
}

/* The region that holds [addr, addr + len), or -1. */
int script_region_at(struct run *r, uint64_t addr, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		const struct region *rg = &r->s->regions[i];
		uint64_t start = (uintptr_t)rg->mem;

		if (addr >= start && len <= rg->size &&
		    addr - start <= rg->size - len)
			return (int)i;
	}
	return -1;
}

__attribute__((format(printf, 2, 3))) enum result
script_malformed(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return R_MALFORMED;
}

/* Turn an unset variable into the step's result. */
enum result script_unset(struct run *r)
{
	if (r->skip_from_var) {
		snprintf(r->why, sizeof(r->why),
			 "$%s comes from a skipped step", r->unset_var);
		return R_SKIP;
	}
	snprintf(r->why, sizeof(r->why),
		 "$%s is not set: the step that saves it did not pass",
		 r->unset_var);
	return R_ABORT;
}

bool script_cmp_holds(struct run *r, const struct cmp *c, uint64_t got,
		      unsigned int size, struct sbuf *want, bool *ok)
{
	uint64_t a = 0, b = 0, m = script_field_mask(size);

	if ((c->has_a && !script_eval(r, &c->a, &a)) ||
	    (c->has_b && !script_eval(r, &c->b, &b)))
		return false;
	switch (c->kind) {
	case CMP_EQ:
		*ok = got == (a & m);
		script_fmt_expr(want, &c->a, a);
		break;
	case CMP_NE:
		*ok = got != (a & m);
		sb_printf(want, "not ");
		script_fmt_expr(want, &c->a, a);
		break;
	case CMP_RANGE:
		*ok = (!c->has_a || got >= a) && (!c->has_b || got <= b);
		if (c->has_a) {
			sb_printf(want, ">= ");
			script_fmt_expr(want, &c->a, a);
		}
		if (c->has_b) {
			sb_printf(want, "%s<= ", c->has_a ? " and " : "");
			script_fmt_expr(want, &c->b, b);
		}
		break;
	case CMP_MASK:
		*ok = (got & a) == (b & m);
		sb_printf(want, "0x%" PRIx64 " under mask 0x%" PRIx64, b, a);
		break;
	}
	return true;
}

void script_hexdump(struct sbuf *b, const char *what, const uint8_t *p,
		    size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 32 == 0)
			sb_printf(b, "#   %s+0x%02zx:", what, i);
		sb_printf(b, " %02x", p[i]);
		if (i % 32 == 31 || i + 1 == len)
			sb_printf(b, "\n");
	}
}

uint8_t script_pattern_byte(uint64_t off)
{
	/* Differs from page to page, so a misplaced page shows. */
	return (uint8_t)(off + (off >> 12));
}
