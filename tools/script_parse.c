// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine, first stage (iommufd-script(5)): a script's
 * JSON text becomes a document, and the values in it are compiled: every
 * expression, field, comparison, requirement and name is resolved here,
 * so a typo is reported (naming step and field) before anything runs.
 * Whatever a compiled script owns is allocated through it and freed at
 * once by script_free.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "script_private.h"

void *script_xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		fprintf(stderr, "iommufd-script: out of memory\n");
		abort();
	}
	return p;
}

/* Everything a compiled script owns goes through here, freed at once. */
void *script_alloc(struct script *s, size_t size)
{
	void *p = script_xrealloc(NULL, size);

	memset(p, 0, size ? size : 1);
	if (s->nallocs == s->allocs_cap) {
		s->allocs_cap = s->allocs_cap ? 2 * s->allocs_cap : 64;
		s->allocs = script_xrealloc(s->allocs,
					    s->allocs_cap * sizeof(*s->allocs));
	}
	s->allocs[s->nallocs++] = p;
	return p;
}

char *script_strdup(struct script *s, const char *str)
{
	size_t n = strlen(str) + 1;

	return memcpy(script_alloc(s, n), str, n);
}

int script_names_find(const struct names *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return (int)i;
	return -1;
}

unsigned int script_names_add(struct script *s, struct names *l,
			      const char *name)
{
	int i = script_names_find(l, name);

	if (i >= 0)
		return (unsigned int)i;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = script_xrealloc(l->v, l->cap * sizeof(*l->v));
		if (l == &s->fds)
			s->fd_open = script_xrealloc(
				s->fd_open, l->cap * sizeof(*s->fd_open));
		else
			s->var_defined = script_xrealloc(
				s->var_defined,
				l->cap * sizeof(*s->var_defined));
	}
	l->v[l->n] = script_strdup(s, name);
	if (l == &s->fds)
		s->fd_open[l->n] = false;
	else
		s->var_defined[l->n] = false;
	return l->n++;
}

void script_free(struct script *s)
{
	unsigned int i;

	for (i = 0; i < s->nallocs; i++)
		free(s->allocs[i]);
	free(s->allocs);
	free(s->vars.v);
	free(s->fds.v);
	free(s->fd_open);
	free(s->var_defined);
	if (s->root)
		json_object_put(s->root);
}

/* Record a compile error, prefixed with the step being compiled. */
__attribute__((format(printf, 2, 3))) int script_bad(struct script *s,
						     const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (s->ctx[0])
		n = (size_t)snprintf(s->err, sizeof(s->err), "%s: ", s->ctx);
	if (n >= sizeof(s->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_ident(int c)
{
	return isalnum(c) || c == '_';
}

bool script_valid_name(const char *name)
{
	if (!is_ident_start((unsigned char)*name))
		return false;
	while (*++name)
		if (!is_ident((unsigned char)*name))
			return false;
	return true;
}

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!is_ident_start((unsigned char)p[0]))
		return 0;
	while (is_ident((unsigned char)p[n]))
		n++;
	return n;
}

int script_find_region(const struct script *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nregions; i++)
		if (!strcmp(s->regions[i].name, name))
			return (int)i;
	return -1;
}

/* A name after "$", "region:" or "fd:" resolved to its term. */
static int parse_named_term(struct script *s, const char *kind,
			    const char *name, struct term *t, const char *what)
{
	int i;

	if (*kind == '$') {
		i = script_names_find(&s->vars, name);
		if (i < 0 || !s->var_defined[i])
			return script_bad(
				s, "%s: $%s is not saved by an earlier step",
				what, name);
		t->kind = T_VAR;
	} else if (*kind == 'r') {
		i = script_find_region(s, name);
		if (i < 0)
			return script_bad(s, "%s: no region \"%s\"", what,
					  name);
		t->kind = T_REGION;
	} else if ((i = script_find_region(s, name)) >= 0) {
		if (s->regions[i].type != REGION_MEMFD)
			return script_bad(
				s, "%s: fd:%s: region \"%s\" is not a memfd",
				what, name, name);
		t->kind = T_FD;
	} else {
		i = script_names_find(&s->fds, name);
		if (i < 0)
			return script_bad(
				s,
				"%s: fd:%s names neither a memfd region nor an opened file",
				what, name);
		t->kind = T_DEVFD;
	}
	t->idx = (unsigned int)i;
	return 0;
}

/*
 * One term at *pp (blanks skipped), which then points past it: a number
 * (decimal or 0x hex), $var, region:NAME, fd:NAME or a constant.
 */
static int parse_term(struct script *s, const char *text, const char **pp,
		      struct term *t, const char *what)
{
	const char *p = *pp;
	char name[128];
	size_t len;

	while (isspace((unsigned char)*p))
		p++;
	if (isdigit((unsigned char)*p)) {
		bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
		char *end;

		errno = 0;
		t->kind = T_NUM;
		t->num = strtoull(p, &end, hex ? 16 : 10);
		if (errno || end == p + (hex ? 2 : 0) ||
		    is_ident((unsigned char)*end))
			return script_bad(s, "%s: bad number in \"%s\"", what,
					  text);
		*pp = end;
		return 0;
	}
	if (*p == '$' || !strncmp(p, "region:", 7) || !strncmp(p, "fd:", 3)) {
		const char *kind = *p == '$' ? "$" :
				   *p == 'r' ? "region:" :
					       "fd:";

		p += strlen(kind);
		len = ident_len(p);
		if (!len || len >= sizeof(name))
			return script_bad(
				s, "%s: a name must follow '%s' in \"%s\"",
				what, kind, text);
		memcpy(name, p, len);
		name[len] = 0;
		*pp = p + len;
		return parse_named_term(s, kind, name, t, what);
	}
	len = ident_len(p);
	if (!len)
		return script_bad(
			s,
			"%s: expected a number, $var, region:NAME, fd:NAME or a constant at \"%s\"",
			what, p);
	if (len >= sizeof(name))
		return script_bad(s, "%s: name too long in \"%s\"", what, text);
	memcpy(name, p, len);
	name[len] = 0;
	*pp = p + len;
	t->kind = T_NUM;
	if (!script_find_constant(name, &t->num))
		return script_bad(
			s,
			"%s: unknown constant \"%s\" (variables are written $name, regions region:NAME)",
			what, name);
	return 0;
}

/*
 * An expression: terms joined by '+', '-' or '|', evaluated left to right
 * (no precedence: these are addresses and flag sets, not arithmetic). A
 * term is a number (decimal or 0x hex), $var, region:NAME, fd:NAME or a
 * constant from the uAPI headers.
 */
int script_parse_expr_text(struct script *s, const char *text, struct expr *e,
			   const char *what)
{
	const char *p = text;
	unsigned int cap = 1;
	char op = '+';
	const char *q;

	for (q = text; *q; q++)
		cap += (*q == '+' || *q == '-' || *q == '|');
	e->t = script_alloc(s, cap * sizeof(*e->t));
	e->n = 0;
	e->text = script_strdup(s, text);

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-') {
		op = '-';
		p++;
	}
	for (;;) {
		struct term *t = &e->t[e->n];

		t->op = op;
		if (parse_term(s, text, &p, t, what))
			return -1;
		e->n++;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		if (*p != '+' && *p != '-' && *p != '|')
			return script_bad(s, "%s: unexpected \"%c\" in \"%s\"",
					  what, *p, text);
		op = *p++;
	}
}

bool script_json_u64(json_object *j, uint64_t *v)
{
	int64_t i;

	if (!json_object_is_type(j, json_type_int))
		return false;
	/*
	 * json-c keeps integers above INT64_MAX as unsigned; the signed
	 * getter saturates those, the unsigned one zeroes negatives.
	 */
	i = json_object_get_int64(j);
	*v = i < 0 ? (uint64_t)i : json_object_get_uint64(j);
	return true;
}

int script_parse_expr(struct script *s, json_object *j, struct expr *e,
		      const char *what)
{
	uint64_t v;

	if (script_json_u64(j, &v)) {
		e->t = script_alloc(s, sizeof(*e->t));
		e->t->kind = T_NUM;
		e->t->op = '+';
		e->t->num = v;
		e->n = 1;
		e->text = NULL;
		return 0;
	}
	if (json_object_is_type(j, json_type_string))
		return script_parse_expr_text(s, json_object_get_string(j), e,
					      what);
	return script_bad(s, "%s: must be an integer or a string expression",
			  what);
}

/* A value fixed when the script is compiled: numbers and constants only. */
int script_parse_const(struct script *s, json_object *j, uint64_t *v,
		       const char *what)
{
	struct expr e;
	unsigned int i;

	if (script_parse_expr(s, j, &e, what))
		return -1;
	*v = 0;
	for (i = 0; i < e.n; i++) {
		if (e.t[i].kind != T_NUM)
			return script_bad(s, "%s: must be a constant", what);
		if (e.t[i].op == '+')
			*v += e.t[i].num;
		else if (e.t[i].op == '-')
			*v -= e.t[i].num;
		else
			*v |= e.t[i].num;
	}
	return 0;
}

bool script_expr_has(const struct expr *e, enum term_kind kind)
{
	unsigned int i;

	for (i = 0; i < e->n; i++)
		if (e->t[i].kind == kind)
			return true;
	return false;
}

int script_parse_errno(struct script *s, json_object *j, int *e)
{
	uint64_t v;

	if (script_json_u64(j, &v) && v < 4096) {
		*e = (int)v;
		return 0;
	}
	if (json_object_is_type(j, json_type_string)) {
		const char *name = json_object_get_string(j);

		if (script_find_errno(name, e))
			return 0;
		return script_bad(s, "expect.errno: unknown errno \"%s\"",
				  name);
	}
	return script_bad(
		s, "expect.errno: must be 0, an errno name or a list of them");
}

/* A field by name, or "@OFFSET:u8|u16|u32|u64" for raw bytes of the arg. */
int script_parse_field(struct script *s, const struct cmd *c, const char *name,
		       struct field *f, const char *what)
{
	unsigned int i;

	if (name[0] == '@') {
		char *end;
		unsigned long off;

		errno = 0;
		off = strtoul(name + 1, &end, 0);
		if (errno || end == name + 1 || off >= MAX_ARG_BUFFER ||
		    *end != ':')
			return script_bad(
				s,
				"%s: \"%s\": expected @OFFSET:u8|u16|u32|u64",
				what, name);
		f->name = script_strdup(s, name);
		f->offset = (unsigned int)off;
		if (!strcmp(end, ":u8"))
			f->size = 1;
		else if (!strcmp(end, ":u16"))
			f->size = 2;
		else if (!strcmp(end, ":u32"))
			f->size = 4;
		else if (!strcmp(end, ":u64"))
			f->size = 8;
		else
			return script_bad(
				s,
				"%s: \"%s\": the width must be u8, u16, u32 or u64",
				what, name);
		return 0;
	}
	for (i = 0; i < c->nfields; i++) {
		if (!strcmp(c->fields[i].name, name)) {
			*f = c->fields[i];
			return 0;
		}
	}
	{
		char list[1024];
		size_t n = 0;

		list[0] = 0;
		for (i = 0; i < c->nfields && n < sizeof(list) - 1; i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n,
					      "%s%s", i ? ", " : "",
					      c->fields[i].name);
		if (!c->nfields)
			return script_bad(
				s, "%s: %s takes no struct, so no field \"%s\"",
				what, c->name, name);
		return script_bad(
			s,
			"%s: %s has no field \"%s\" (fields: %s; raw bytes: @OFFSET:u32)",
			what, c->name, name, list);
	}
}

int script_check_keys(struct script *s, json_object *obj, const char *what,
		      const char *const *allowed)
{
	json_object_object_foreach(obj, key, val)
	{
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a) {
			char list[256];
			size_t n = 0;

			list[0] = 0;
			for (a = allowed; *a && n < sizeof(list) - 1; a++)
				n += (size_t)snprintf(list + n,
						      sizeof(list) - n, "%s%s",
						      a == allowed ? "" : ", ",
						      *a);
			return script_bad(
				s, "%s: unknown key \"%s\" (expected: %s)",
				what, key, list);
		}
	}
	return 0;
}

json_object *script_get(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

int script_parse_reqs(struct script *s, json_object *j, struct reqs *r,
		      const char *what)
{
	size_t i, n;

	if (!json_object_is_type(j, json_type_array))
		return script_bad(s, "%s: must be a list of names", what);
	n = json_object_array_length(j);
	r->id = script_alloc(s, n * sizeof(*r->id));
	r->n = 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(j, i);
		const char *name;
		const struct cmd *c;

		if (!json_object_is_type(e, json_type_string))
			return script_bad(s, "%s: must be a list of names",
					  what);
		name = json_object_get_string(e);
		if (!strcmp(name, "mock")) {
			r->id[r->n++] = REQ_MOCK;
			continue;
		}
		if (!strcmp(name, "dev_dma")) {
			r->id[r->n++] = REQ_DEV_DMA;
			continue;
		}
		c = script_find_cmd(name);
		if (!c || c->kind != CMD_IOMMUFD)
			return script_bad(
				s,
				"%s: \"%s\": expected \"mock\", \"dev_dma\" or an iommufd command name such as \"IOAS_MAP_FILE\"",
				what, name);
		r->id[r->n++] = REQ_CMD0 + (unsigned int)(c - script_cmds);
	}
	return 0;
}

int script_parse_cmp(struct script *s, json_object *j, struct cmp *c,
		     const char *what)
{
	static const char *const keys[] = { "ne",   "min",   "max",
					    "mask", "value", NULL };
	char sub[160];
	json_object *v;

	if (!json_object_is_type(j, json_type_object)) {
		c->kind = CMP_EQ;
		c->has_a = true;
		return script_parse_expr(s, j, &c->a, what);
	}
	if (script_check_keys(s, j, what, keys))
		return -1;
	if ((v = script_get(j, "ne"))) {
		if (json_object_object_length(j) != 1)
			return script_bad(s, "%s: \"ne\" stands alone", what);
		c->kind = CMP_NE;
		c->has_a = true;
		snprintf(sub, sizeof(sub), "%s.ne", what);
		return script_parse_expr(s, v, &c->a, sub);
	}
	if (script_get(j, "mask") || script_get(j, "value")) {
		if (!script_get(j, "mask") || !script_get(j, "value") ||
		    json_object_object_length(j) != 2)
			return script_bad(
				s, "%s: \"mask\" goes with \"value\" only",
				what);
		c->kind = CMP_MASK;
		c->has_a = c->has_b = true;
		snprintf(sub, sizeof(sub), "%s.mask", what);
		if (script_parse_expr(s, script_get(j, "mask"), &c->a, sub))
			return -1;
		snprintf(sub, sizeof(sub), "%s.value", what);
		return script_parse_expr(s, script_get(j, "value"), &c->b, sub);
	}
	if (!script_get(j, "min") && !script_get(j, "max"))
		return script_bad(
			s,
			"%s: expected a value or {\"ne\"}, {\"min\", \"max\"}, {\"mask\", \"value\"}",
			what);
	c->kind = CMP_RANGE;
	if ((v = script_get(j, "min"))) {
		c->has_a = true;
		snprintf(sub, sizeof(sub), "%s.min", what);
		if (script_parse_expr(s, v, &c->a, sub))
			return -1;
	}
	if ((v = script_get(j, "max"))) {
		c->has_b = true;
		snprintf(sub, sizeof(sub), "%s.max", what);
		if (script_parse_expr(s, v, &c->b, sub))
			return -1;
	}
	return 0;
}

int script_parse_fd_name(struct script *s, json_object *j, unsigned int *fd,
			 const char *what)
{
	const char *name;
	int i;

	if (!json_object_is_type(j, json_type_string) ||
	    !script_valid_name(json_object_get_string(j)))
		return script_bad(
			s, "%s: must be a name ([A-Za-z_][A-Za-z0-9_]*)", what);
	name = json_object_get_string(j);
	i = script_names_find(&s->fds, name);
	if (i < 0 || !s->fd_open[i])
		return script_bad(
			s,
			"%s: \"%s\" is not open here (open it with {\"open\": \"%s\"})",
			what, name, name);
	*fd = (unsigned int)i;
	return 0;
}

/* Line and column (1-based) of offset off in text. */
static void text_position(const char *text, size_t len, size_t off,
			  size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int script_parse_json(struct script *s, const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	size_t line, col;

	if (!tok)
		return script_bad(s, "out of memory");
	/* Strict: a script must stay valid JSON for jq, python and the like */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	s->root = json_tokener_parse_ex(tok, text, (int)len);
	if (!s->root || tok->char_offset < (int)len) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		size_t off = (size_t)tok->char_offset;

		/* A value followed by more than blanks is not one document. */
		while (s->root && off < len &&
		       isspace((unsigned char)text[off]))
			off++;
		if (!s->root || off < len) {
			text_position(text, len, off, &line, &col);
			script_bad(
				s, "invalid JSON at line %zu, column %zu: %s",
				line, col,
				s->root ? "text after the end of the document" :
				jerr == json_tokener_continue ?
					  "unexpected end of file" :
					  json_tokener_error_desc(jerr));
			json_tokener_free(tok);
			return -1;
		}
	}
	json_tokener_free(tok);
	return 0;
}
