// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine, second stage (iommufd-script(5)): a parsed
 * document becomes a compiled script, its regions and its steps (ioctl,
 * write, check, open, close), with every name resolved in order, so that a
 * step can only use variables saved and files opened by the steps before
 * it. Nothing runs here.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "script_private.h"

static int parse_words(struct script *s, struct bytes *b, json_object *j,
		       const char *what)
{
	size_t i, n = 1;
	char sub[160];

	if (json_object_is_type(j, json_type_array)) {
		n = json_object_array_length(j);
		if (!n)
			return script_bad(s, "%s: empty list", what);
	}
	b->words = script_alloc(s, n * sizeof(*b->words));
	b->nwords = (unsigned int)n;
	if (!json_object_is_type(j, json_type_array))
		return script_parse_expr(s, j, &b->words[0], what);
	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", what, i);
		if (script_parse_expr(s, json_object_array_get_idx(j, i),
				      &b->words[i], sub))
			return -1;
	}
	return 0;
}

static int parse_hex(struct script *s, const char *str, struct bytes *b)
{
	size_t digits = 0, i;
	const char *p;

	for (p = str; *p; p++) {
		if (isxdigit((unsigned char)*p))
			digits++;
		else if (!isspace((unsigned char)*p))
			return script_bad(
				s,
				"data: \"%s\": bytes in hex, e.g. \"de ad be ef\" (no 0x)",
				str);
	}
	if (!digits || digits % 2)
		return script_bad(
			s,
			"data: \"%s\": an even, non-zero number of hex digits",
			str);
	b->len = digits / 2;
	b->data = script_alloc(s, b->len);
	for (p = str, i = 0; *p; p++) {
		int v;

		if (isspace((unsigned char)*p))
			continue;
		v = isdigit((unsigned char)*p) ?
			    *p - '0' :
			    tolower((unsigned char)*p) - 'a' + 10;
		b->data[i / 2] = (uint8_t)(b->data[i / 2] << 4 | v);
		i++;
	}
	return 0;
}

/* The command of an ioctl step: a name, or a number (with no layout). */
static int parse_ioctl_cmd(struct script *s, struct step *st, json_object *j)
{
	char what[32];
	uint64_t nr;

	if (json_object_is_type(j, json_type_string) &&
	    (st->cmd = script_find_cmd(json_object_get_string(j))))
		return 0;
	if (!json_object_is_type(j, json_type_int) &&
	    !(json_object_is_type(j, json_type_string) &&
	      isdigit((unsigned char)json_object_get_string(j)[0])))
		return script_bad(
			s,
			"ioctl: unknown command \"%s\" (names are the uAPI's without IOMMU_, e.g. IOAS_MAP, TEST.MOCK_DOMAIN, VFIO_IOMMU_MAP_DMA; or a number)",
			json_object_get_string(j));
	if (script_parse_const(s, j, &nr, "ioctl") || nr > UINT32_MAX)
		return script_bad(s, "ioctl: bad command number");
	st->raw = (struct cmd){ .kind = CMD_RAW,
				.nr = (unsigned long)nr,
				.size = RAW_ARG_SIZE,
				.fields = script_raw_fields,
				.nfields = script_nraw_fields,
				.size_field = "size" };
	snprintf(what, sizeof(what), "0x%" PRIx64, nr);
	st->raw.name = script_strdup(s, what);
	st->cmd = &st->raw;
	return 0;
}

/* "fd" (default "main", which must be open) and where "arg" points. */
static int parse_ioctl_fd_arg(struct script *s, struct step *st,
			      json_object *obj)
{
	const struct cmd *c = st->cmd;
	json_object *v;

	st->fd = 0;
	if ((v = script_get(obj, "fd"))) {
		if (script_parse_fd_name(s, v, &st->fd, "fd"))
			return -1;
	} else if (!s->fd_open[0]) {
		return script_bad(
			s,
			"\"main\" is closed here; reopen it or name another \"fd\"");
	}

	/* Where the argument comes from. */
	st->arg_kind = c->kind == CMD_VALUE ? ARG_VALUE : ARG_BUFFER;
	if ((v = script_get(obj, "arg"))) {
		if (script_parse_expr(s, v, &st->arg, "arg"))
			return -1;
		st->has_arg = true;
		if (c->kind != CMD_VALUE)
			st->arg_kind = script_expr_has(&st->arg, T_REGION) ?
					       ARG_REGION :
					       ARG_VALUE;
	}
	return 0;
}

/* "in": the fields to fill in. */
static int parse_ioctl_in(struct script *s, struct step *st, json_object *in)
{
	const struct cmd *c = st->cmd;
	char what[200];

	if (!json_object_is_type(in, json_type_object))
		return script_bad(s, "in: must be an object of fields");
	if (st->arg_kind == ARG_VALUE)
		return script_bad(
			s,
			c->kind == CMD_VALUE ?
				"in: %s takes its argument by value; use \"arg\"" :
				"in: \"arg\" without a region passes a raw pointer (%s), so there is no struct to fill",
			c->name);
	st->in = script_alloc(s, (size_t)json_object_object_length(in) *
					 sizeof(*st->in));
	json_object_object_foreach(in, key, val)
	{
		struct setting *set = &st->in[st->nin++];

		snprintf(what, sizeof(what), "in.%s", key);
		if (script_parse_field(s, c, key, &set->f, what) ||
		    script_parse_expr(s, val, &set->val, what))
			return -1;
		if (c->size_field && !strcmp(key, c->size_field))
			st->size_given = true;
	}
	return 0;
}

/* "expect.errno": one errno or a list of them; none means success. */
static int parse_ioctl_errnos(struct script *s, struct step *st, json_object *v)
{
	size_t i, n;

	if (!v) {
		st->errnos[st->nerrnos++] = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return script_parse_errno(s, v, &st->errnos[st->nerrnos++]);
	n = json_object_array_length(v);
	if (!n || n > MAX_ERRNOS)
		return script_bad(s, "expect.errno: list 1 to %d errnos",
				  MAX_ERRNOS);
	for (i = 0; i < n; i++)
		if (script_parse_errno(s, json_object_array_get_idx(v, i),
				       &st->errnos[st->nerrnos++]))
			return -1;
	return 0;
}

/* "expect.out": the fields to compare after the call. */
static int parse_ioctl_out(struct script *s, struct step *st, json_object *out)
{
	const struct cmd *c = st->cmd;
	char what[200];

	if (!json_object_is_type(out, json_type_object))
		return script_bad(s, "expect.out: must be an object of fields");
	if (st->arg_kind == ARG_VALUE)
		return script_bad(s,
				  "expect.out: %s has no struct to read back",
				  c->name);
	st->out = script_alloc(s, (size_t)json_object_object_length(out) *
					  sizeof(*st->out));
	json_object_object_foreach(out, key, val)
	{
		struct cmp *cmp = &st->out[st->nout++];

		snprintf(what, sizeof(what), "expect.out.%s", key);
		if (script_parse_field(s, c, key, &cmp->f, what) ||
		    script_parse_cmp(s, val, cmp, what))
			return -1;
	}
	return 0;
}

/* "expect": errno, out, ret. */
static int parse_ioctl_expect(struct script *s, struct step *st,
			      json_object *expect)
{
	static const char *const expect_keys[] = { "errno", "out", "ret",
						   NULL };
	json_object *v;

	st->checked = true;
	if (!json_object_is_type(expect, json_type_object))
		return script_bad(s, "expect: must be an object");
	if (script_check_keys(s, expect, "expect", expect_keys))
		return -1;
	if (parse_ioctl_errnos(s, st, script_get(expect, "errno")))
		return -1;
	if ((v = script_get(expect, "out")) && parse_ioctl_out(s, st, v))
		return -1;
	if ((v = script_get(expect, "ret"))) {
		st->has_ret = true;
		if (script_parse_cmp(s, v, &st->ret, "expect.ret"))
			return -1;
	}
	return 0;
}

/* "save": variables from fields, defined for the steps after this one. */
static int parse_ioctl_save(struct script *s, struct step *st,
			    json_object *save)
{
	const struct cmd *c = st->cmd;
	char what[200];
	unsigned int i;

	if (!json_object_is_type(save, json_type_object))
		return script_bad(s, "save: must map variable names to fields");
	if (st->arg_kind == ARG_VALUE)
		return script_bad(s, "save: %s has no struct to read back",
				  c->name);
	st->saves = script_alloc(s, (size_t)json_object_object_length(save) *
					    sizeof(*st->saves));
	json_object_object_foreach(save, key, val)
	{
		struct save *sv = &st->saves[st->nsaves++];

		snprintf(what, sizeof(what), "save.%s", key);
		if (!script_valid_name(key))
			return script_bad(
				s,
				"%s: a variable name is [A-Za-z_][A-Za-z0-9_]*",
				what);
		if (!json_object_is_type(val, json_type_string))
			return script_bad(s, "%s: must name a field", what);
		if (script_parse_field(s, c, json_object_get_string(val),
				       &sv->f, what))
			return -1;
		sv->var = script_names_add(s, &s->vars, key);
	}
	for (i = 0; i < st->nsaves; i++)
		s->var_defined[st->saves[i].var] = true;
	return 0;
}

static int parse_ioctl(struct script *s, struct step *st, json_object *obj)
{
	static const char *const keys[] = { "ioctl",	"name",	  "comment",
					    "requires", "fd",	  "in",
					    "arg",	"expect", "save",
					    NULL };
	json_object *v;

	if (parse_ioctl_cmd(s, st, script_get(obj, "ioctl")))
		return -1;
	st->label = st->cmd->name;
	snprintf(s->ctx, sizeof(s->ctx), "step %u (%s)", st->index,
		 st->cmd->name);
	if (script_check_keys(s, obj, "step", keys) ||
	    parse_ioctl_fd_arg(s, st, obj))
		return -1;
	if ((v = script_get(obj, "in")) && parse_ioctl_in(s, st, v))
		return -1;
	if ((v = script_get(obj, "expect")) && parse_ioctl_expect(s, st, v))
		return -1;
	/* Last: a step cannot use what it saves itself. */
	if ((v = script_get(obj, "save")) && parse_ioctl_save(s, st, v))
		return -1;
	return 0;
}

/* Which form says what the bytes are: exactly one of them. */
static int bytes_form(struct script *s, json_object *obj, bool check,
		      const char **form)
{
	static const char *const forms[] = { "data", "fill", "u8",     "u16",
					     "u32",  "u64",  "same_as" };
	size_t i;

	*form = NULL;
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		if (!script_get(obj, forms[i]))
			continue;
		if (*form)
			return script_bad(
				s,
				"give one of data, fill, u8, u16, u32, u64%s, not both \"%s\" and \"%s\"",
				check ? ", same_as" : "", *form, forms[i]);
		*form = forms[i];
	}
	if (!*form)
		return script_bad(
			s,
			"say what the bytes are: data, fill, u8, u16, u32, u64%s",
			check ? " or same_as" : "");
	return 0;
}

/* "fill": a byte or "pattern". */
static int parse_fill(struct script *s, struct bytes *b, json_object *v)
{
	uint64_t fill;

	if (json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "pattern")) {
		b->kind = B_PATTERN;
		return 0;
	}
	if (script_parse_const(s, v, &fill, "fill"))
		return -1;
	if (fill > 0xff)
		return script_bad(s, "fill: a byte (0-255) or \"pattern\"");
	b->kind = B_FILL;
	b->fill = (uint8_t)fill;
	return 0;
}

/* The bytes in the given form, and "length" where the form takes one. */
static int parse_bytes(struct script *s, struct bytes *b, json_object *obj,
		       const char *form)
{
	json_object *v = script_get(obj, form);

	if (!strcmp(form, "data")) {
		b->kind = B_DATA;
		if (!json_object_is_type(v, json_type_string))
			return script_bad(s, "data: must be a hex string");
		if (parse_hex(s, json_object_get_string(v), b))
			return -1;
	} else if (!strcmp(form, "fill")) {
		if (parse_fill(s, b, v))
			return -1;
	} else if (!strcmp(form, "same_as")) {
		b->kind = B_SAME;
		if (script_parse_expr(s, v, &b->same, "same_as"))
			return -1;
		if (!script_expr_has(&b->same, T_REGION))
			return script_bad(
				s,
				"same_as: must point into a region (\"region:NAME+OFFSET\")");
		if (!script_get(obj, "length"))
			return script_bad(s, "same_as: needs a \"length\"");
	} else {
		b->kind = form[1] == '8' ? B_U8 :
			  form[1] == '1' ? B_U16 :
			  form[1] == '3' ? B_U32 :
					   B_U64;
		if (parse_words(s, b, v, form))
			return -1;
	}
	if ((v = script_get(obj, "length"))) {
		if (b->kind != B_FILL && b->kind != B_PATTERN &&
		    b->kind != B_SAME)
			return script_bad(
				s,
				"length: only with fill or same_as (the other forms have their own length)");
		if (script_parse_expr(s, v, &b->length, "length"))
			return -1;
		b->has_length = true;
	}
	return 0;
}

/* write / check: a region, an offset and what the bytes are. */
static int parse_bytes_step(struct script *s, struct step *st, json_object *obj,
			    bool check)
{
	static const char *const wkeys[] = { "write",	 "name",   "comment",
					     "requires", "offset", "data",
					     "fill",	 "length", "u8",
					     "u16",	 "u32",	   "u64",
					     NULL };
	static const char *const ckeys[] = { "check",	 "name",   "comment",
					     "requires", "offset", "data",
					     "fill",	 "length", "u8",
					     "u16",	 "u32",	   "u64",
					     "same_as",	 NULL };
	json_object *j = script_get(obj, check ? "check" : "write"), *v;
	const char *form;
	char label[160];
	int r;

	if (!json_object_is_type(j, json_type_string))
		return script_bad(s, "%s: must name a region",
				  check ? "check" : "write");
	r = script_find_region(s, json_object_get_string(j));
	snprintf(label, sizeof(label), "%s %s", check ? "check" : "write",
		 json_object_get_string(j));
	st->label = script_strdup(s, label);
	snprintf(s->ctx, sizeof(s->ctx), "step %u (%s)", st->index, label);
	if (script_check_keys(s, obj, "step", check ? ckeys : wkeys))
		return -1;
	if (r < 0)
		return script_bad(s, "no region \"%s\"",
				  json_object_get_string(j));
	st->region = (unsigned int)r;
	if (!check && s->regions[r].readonly)
		return script_bad(s, "region \"%s\" is read-only",
				  s->regions[r].name);

	if ((v = script_get(obj, "offset"))) {
		if (script_parse_expr(s, v, &st->offset, "offset"))
			return -1;
	} else if (script_parse_expr_text(s, "0", &st->offset, "offset")) {
		return -1;
	}
	if (bytes_form(s, obj, check, &form))
		return -1;
	return parse_bytes(s, &st->bytes, obj, form);
}

static int parse_open_close(struct script *s, struct step *st, json_object *obj,
			    bool open)
{
	static const char *const okeys[] = { "open", "name", "comment",
					     "requires", NULL };
	static const char *const ckeys[] = { "close", "name", "comment",
					     "requires", NULL };
	json_object *j = script_get(obj, open ? "open" : "close");
	char label[160];
	const char *name;
	int i;

	if (!json_object_is_type(j, json_type_string) ||
	    !script_valid_name(json_object_get_string(j)))
		return script_bad(s,
				  "%s: must be a name ([A-Za-z_][A-Za-z0-9_]*)",
				  open ? "open" : "close");
	name = json_object_get_string(j);
	snprintf(label, sizeof(label), "%s %s", open ? "open" : "close", name);
	st->label = script_strdup(s, label);
	snprintf(s->ctx, sizeof(s->ctx), "step %u (%s)", st->index, label);
	if (script_check_keys(s, obj, "step", open ? okeys : ckeys))
		return -1;
	if (script_find_region(s, name) >= 0)
		return script_bad(s, "\"%s\" is already a region's name", name);
	i = script_names_find(&s->fds, name);
	if (open) {
		if (i >= 0 && s->fd_open[i])
			return script_bad(s, "\"%s\" is already open", name);
		i = (int)script_names_add(s, &s->fds, name);
		s->fd_open[i] = true;
	} else {
		if (i < 0 || !s->fd_open[i])
			return script_bad(s, "\"%s\" is not open", name);
		s->fd_open[i] = false;
	}
	st->fd = (unsigned int)i;
	return 0;
}

static int parse_step(struct script *s, struct step *st, json_object *obj)
{
	static const char *const kinds[] = { "ioctl", "write", "check", "open",
					     "close" };
	json_object *v;
	unsigned int i, found = 0;
	int ret;

	snprintf(s->ctx, sizeof(s->ctx), "step %u", st->index);
	if (!json_object_is_type(obj, json_type_object))
		return script_bad(s, "must be an object");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (script_get(obj, kinds[i])) {
			st->kind = (enum step_kind)i;
			found++;
		}
	}
	if (found != 1)
		return script_bad(
			s,
			"a step has exactly one of \"ioctl\", \"write\", \"check\", \"open\", \"close\"");
	switch (st->kind) {
	case STEP_IOCTL:
		ret = parse_ioctl(s, st, obj);
		break;
	case STEP_WRITE:
	case STEP_CHECK:
		ret = parse_bytes_step(s, st, obj, st->kind == STEP_CHECK);
		break;
	default:
		ret = parse_open_close(s, st, obj, st->kind == STEP_OPEN);
		break;
	}
	if (ret)
		return ret;
	if ((v = script_get(obj, "name"))) {
		if (!json_object_is_type(v, json_type_string))
			return script_bad(s, "name: must be a string");
		st->name = json_object_get_string(v);
	}
	if ((v = script_get(obj, "requires")) &&
	    script_parse_reqs(s, v, &st->reqs, "requires"))
		return -1;
	return 0;
}

static int parse_region(struct script *s, struct region *r, const char *name,
			json_object *obj)
{
	static const char *const keys[] = { "type",    "size",	   "fill",
					    "guard",   "readonly", "align",
					    "comment", NULL };
	json_object *v;
	const char *type;

	snprintf(s->ctx, sizeof(s->ctx), "region \"%s\"", name);
	if (!script_valid_name(name))
		return script_bad(s, "a region name is [A-Za-z_][A-Za-z0-9_]*");
	if (!strcmp(name, "main"))
		return script_bad(s, "\"main\" names the first open file");
	if (!json_object_is_type(obj, json_type_object))
		return script_bad(s, "must be an object");
	if (script_check_keys(s, obj, "region", keys))
		return -1;
	r->name = name;
	r->fd = -1;
	v = script_get(obj, "type");
	type = v && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       "";
	if (!strcmp(type, "memfd"))
		r->type = REGION_MEMFD;
	else if (!strcmp(type, "shared"))
		r->type = REGION_SHARED;
	else if (!strcmp(type, "private"))
		r->type = REGION_PRIVATE;
	else
		return script_bad(s,
				  "type: \"memfd\", \"shared\" or \"private\"");
	if (!(v = script_get(obj, "size")))
		return script_bad(s, "size: missing");
	if (script_parse_const(s, v, &r->size, "size"))
		return -1;
	if (!r->size || r->size > REGION_MAX_SIZE)
		return script_bad(s, "size: 1 byte to 1 TiB");
	if ((v = script_get(obj, "fill"))) {
		uint64_t fill;

		if (json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), "pattern")) {
			r->fill = -1;
		} else {
			if (script_parse_const(s, v, &fill, "fill"))
				return -1;
			if (fill > 0xff)
				return script_bad(
					s,
					"fill: a byte (0-255) or \"pattern\"");
			r->fill = (int)fill;
		}
		if (r->fill && r->size > REGION_MAX_FILLED)
			return script_bad(s, "fill: only regions up to 4 GiB "
					     "are filled; larger ones stay "
					     "sparse");
	}
	if ((v = script_get(obj, "align"))) {
		if (script_parse_const(s, v, &r->align, "align"))
			return -1;
		if (!r->align || (r->align & (r->align - 1)) ||
		    r->align > (1ULL << 30))
			return script_bad(s,
					  "align: a power of two up to 1 GiB");
	}
	if ((v = script_get(obj, "guard"))) {
		if (!json_object_is_type(v, json_type_boolean))
			return script_bad(s, "guard: true or false");
		r->guard = json_object_get_boolean(v);
	}
	if ((v = script_get(obj, "readonly"))) {
		if (!json_object_is_type(v, json_type_boolean))
			return script_bad(s, "readonly: true or false");
		r->readonly = json_object_get_boolean(v);
	}
	return 0;
}

int script_compile(struct script *s)
{
	static const char *const keys[] = { "version", "description",
					    "comment", "requires",
					    "regions", "steps",
					    NULL };
	json_object *root = s->root, *v;
	uint64_t version;
	size_t i, n;

	if (!json_object_is_type(root, json_type_object))
		return script_bad(s, "the top level must be an object");
	if (script_check_keys(s, root, "top level", keys))
		return -1;
	if (!(v = script_get(root, "version")) ||
	    !script_json_u64(v, &version) || version != 1)
		return script_bad(
			s, "\"version\": 1 is required (the only version)");
	if ((v = script_get(root, "description"))) {
		if (!json_object_is_type(v, json_type_string))
			return script_bad(s, "description: must be a string");
		s->description = json_object_get_string(v);
	}
	if ((v = script_get(root, "requires")) &&
	    script_parse_reqs(s, v, &s->reqs, "requires"))
		return -1;

	script_names_add(s, &s->fds, "main");
	s->fd_open[0] = true;

	if ((v = script_get(root, "regions"))) {
		if (!json_object_is_type(v, json_type_object))
			return script_bad(s,
					  "regions: must map names to regions");
		s->regions =
			script_alloc(s, (size_t)json_object_object_length(v) *
						sizeof(*s->regions));
		json_object_object_foreach(v, key, val)
		{
			if (parse_region(s, &s->regions[s->nregions++], key,
					 val))
				return -1;
		}
		s->ctx[0] = 0;
	}

	v = script_get(root, "steps");
	if (!v || !json_object_is_type(v, json_type_array) ||
	    !json_object_array_length(v))
		return script_bad(s, "steps: a non-empty list is required");
	n = json_object_array_length(v);
	s->steps = script_alloc(s, n * sizeof(*s->steps));
	for (i = 0; i < n; i++) {
		struct step *st = &s->steps[s->nsteps++];

		st->index = (unsigned int)i + 1;
		if (parse_step(s, st, json_object_array_get_idx(v, i)))
			return -1;
	}
	s->ctx[0] = 0;
	return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	do {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 16384;
			buf = script_xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Parse and compile; on failure s->err says why. */
int script_load(struct script *s, const char *path)
{
	size_t len;
	char *text;
	int ret;

	memset(s, 0, sizeof(*s));
	s->path = path;
	text = read_file(path, &len, s->err, sizeof(s->err));
	if (!text)
		return -1;
	ret = script_parse_json(s, text, len);
	free(text);
	return ret ? ret : script_compile(s);
}

int script_load_text(struct script *s, const char *path, const char *text)
{
	memset(s, 0, sizeof(*s));
	s->path = path;
	if (script_parse_json(s, text, strlen(text)))
		return -1;
	return script_compile(s);
}
