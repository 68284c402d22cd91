/* SPDX-License-Identifier: MIT */
/*
 * The ioctl-script engine's insides (iommufd-script(5); the public API is
 * script.h). A script goes through these stages, one file each:
 *
 *   script_tables.c   the uAPI as the engine knows it: struct field
 *                     tables, commands, named constants, errno names
 *   script_parse.c    JSON text to a document; values: expressions,
 *                     fields, comparisons, requirements, names
 *   script_compile.c  the document to a compiled script: regions and steps
 *   script_eval.c     values at run time: variables, fields in a buffer,
 *                     comparisons, formatting
 *   script_run.c      running steps: regions, requirements, ioctls, bytes
 *   script_tap.c      the TAP stream: running a script or a directory of
 *                     them, reporting each step; the public API
 *   script_trace.c    the trace ($IOMMUFD_SCRIPT_TRACE): one line per
 *                     step with what it gave, to compare two devices
 *
 * A script is compiled completely before anything runs, so a typo is
 * reported (MALFORMED, naming step and field) instead of turning into a
 * half-run script against a live device.
 */
#ifndef IOMMUFD_SCRIPT_PRIVATE_H
#define IOMMUFD_SCRIPT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "script.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The argument buffer follows a "size" field up to this much, so the
 * kernel's zero-tail scan finds zeroes; larger sizes are for fault tests,
 * which place the struct in a region in front of a guard page instead.
 */
#define MAX_ARG_BUFFER (1U << 20)
/* Buffer for a command given by number: room for any struct. */
#define RAW_ARG_SIZE 256
#define MAX_ERRNOS 8

/* ------------------------------------------------------------------------ */
/* The uAPI tables (script_tables.c)                                         */

struct field {
	const char *name;
	unsigned int offset;
	unsigned int size; /* 1, 2, 4 or 8 */
};

enum cmd_kind {
	CMD_IOMMUFD, /* an iommufd command: can be probed with size 0 */
	CMD_TEST, /* IOMMU_TEST_CMD; op filled in unless given */
	CMD_STRUCT, /* a VFIO struct command */
	CMD_VALUE, /* the argument is passed by value, no struct */
	CMD_RAW, /* given by number */
};

struct cmd {
	const char *name;
	unsigned long nr;
	enum cmd_kind kind;
	size_t size; /* sizeof the struct, 0 for CMD_VALUE */
	const struct field *fields;
	unsigned int nfields;
	const char *size_field; /* filled with sizeof unless given */
	uint32_t op; /* CMD_TEST with has_op */
	bool has_op;
};

/* Every named command, in a fixed order (requirements index it). */
extern const struct cmd script_cmds[];
extern const unsigned int script_ncmds;
/* The one field of a command given by number: "size", the usual u32. */
extern const struct field script_raw_fields[];
extern const unsigned int script_nraw_fields;

/* A command by name; the kernel's spellings (IOMMU_..., TEST.MD_...) too. */
const struct cmd *script_find_cmd(const char *name);
/* A named constant of the uAPI headers; false if there is none. */
bool script_find_constant(const char *name, uint64_t *value);
/* An errno by name (EINVAL...), "ok" for 0; false if unknown. */
bool script_find_errno(const char *name, int *value);
/* "ok", the errno's name, or "errno N" (in a static buffer). */
const char *script_errno_str(int e);

/* ------------------------------------------------------------------------ */
/* The compiled script (script_parse.c, script_compile.c)                     */

enum term_kind { T_NUM, T_VAR, T_REGION, T_FD, T_DEVFD };

struct term {
	enum term_kind kind;
	char op; /* '+', '-' or '|', applied to what precedes */
	uint64_t num;
	unsigned int idx; /* variable, region or fd name */
};

struct expr {
	struct term *t;
	unsigned int n;
	const char *text; /* as written; NULL for a JSON integer */
};

enum region_type { REGION_MEMFD, REGION_SHARED, REGION_PRIVATE };

/* A region is reserved, not touched: 1 TiB costs address space only. */
#define REGION_MAX_SIZE (1ULL << 40)
#define REGION_MAX_FILLED (1ULL << 32)

struct region {
	const char *name;
	enum region_type type;
	uint64_t size;
	uint64_t align;
	int fill; /* a byte, or -1 for "pattern" */
	bool guard, readonly;
	/* while running */
	uint8_t *mem;
	void *map;
	size_t maplen;
	int fd;
};

/* What a requirement names: the mock, our DMA extension, or a command. */
enum { REQ_MOCK, REQ_DEV_DMA, REQ_CMD0 };

struct reqs {
	unsigned int *id;
	unsigned int n;
};

enum step_kind { STEP_IOCTL, STEP_WRITE, STEP_CHECK, STEP_OPEN, STEP_CLOSE };

struct setting {
	struct field f;
	struct expr val;
};

enum cmp_kind { CMP_EQ, CMP_NE, CMP_RANGE, CMP_MASK };

struct cmp {
	struct field f; /* ignored for the return value */
	enum cmp_kind kind;
	struct expr a, b; /* EQ/NE: a; RANGE: a=min, b=max; MASK: a=mask, b */
	bool has_a, has_b;
};

struct save {
	struct field f;
	unsigned int var;
};

enum bytes_kind {
	B_DATA,
	B_FILL,
	B_PATTERN,
	B_U8,
	B_U16,
	B_U32,
	B_U64,
	B_SAME
};

struct bytes {
	enum bytes_kind kind;
	uint8_t *data; /* B_DATA */
	size_t len;
	uint8_t fill;
	struct expr length; /* B_FILL, B_PATTERN, B_SAME */
	bool has_length;
	struct expr *words; /* B_U8 .. B_U64 */
	unsigned int nwords;
	struct expr same; /* B_SAME */
};

enum arg_kind { ARG_BUFFER, ARG_REGION, ARG_VALUE };

struct step {
	enum step_kind kind;
	unsigned int index; /* 1-based, as in messages */
	const char *label;
	const char *name;
	struct reqs reqs;
	unsigned int fd; /* fd name of an ioctl, open or close */
	/* ioctl */
	const struct cmd *cmd;
	struct cmd raw; /* for a command given by number */
	struct setting *in;
	unsigned int nin;
	bool size_given;
	enum arg_kind arg_kind;
	struct expr arg;
	bool has_arg;
	bool checked; /* has "expect" */
	int errnos[MAX_ERRNOS];
	unsigned int nerrnos;
	struct cmp *out;
	unsigned int nout;
	struct cmp ret;
	bool has_ret;
	struct save *saves;
	unsigned int nsaves;
	/* write, check */
	unsigned int region;
	struct expr offset;
	struct bytes bytes;
};

struct names {
	char **v;
	unsigned int n, cap;
};

struct script {
	const char *path;
	const char *description;
	json_object *root;
	struct region *regions;
	unsigned int nregions;
	struct names vars, fds;
	bool *fd_open; /* while compiling: which fd names are open */
	bool *var_defined;
	struct reqs reqs;
	struct step *steps;
	unsigned int nsteps;
	void **allocs;
	unsigned int nallocs, allocs_cap;
	char ctx[192]; /* "step 3 (IOAS_MAP)" while compiling a step: room for
			* a 160-byte label */
	char err[1024];
};

/* realloc that aborts when memory runs out */
void *script_xrealloc(void *p, size_t size);
/* Zeroed memory the script owns: freed by script_free, all at once. */
void *script_alloc(struct script *s, size_t size);
char *script_strdup(struct script *s, const char *str);
/* Index of a name in a list, or -1. */
int script_names_find(const struct names *l, const char *name);
/* Index of a name, added (not yet defined or open) if new. */
unsigned int script_names_add(struct script *s, struct names *l,
			      const char *name);
void script_free(struct script *s);
/* Record a compile error, prefixed with s->ctx; returns -1. */
__attribute__((format(printf, 2, 3))) int script_bad(struct script *s,
						     const char *fmt, ...);

/* [A-Za-z_][A-Za-z0-9_]* */
bool script_valid_name(const char *name);
/* A region by name, or -1. */
int script_find_region(const struct script *s, const char *name);
/* A member of a JSON object, or NULL. */
json_object *script_get(json_object *obj, const char *key);
/* A JSON integer as u64 (negative ones wrap); false if not an integer. */
bool script_json_u64(json_object *j, uint64_t *v);
/* Every key of obj is in the NULL-terminated allowed list. */
int script_check_keys(struct script *s, json_object *obj, const char *what,
		      const char *const *allowed);

/*
 * Values. "what" names the value in error messages ("in.iova"). An
 * expression is terms joined by '+', '-' or '|', left to right: numbers,
 * $var (saved by an earlier step), region:NAME, fd:NAME, constants.
 */
int script_parse_expr_text(struct script *s, const char *text, struct expr *e,
			   const char *what);
int script_parse_expr(struct script *s, json_object *j, struct expr *e,
		      const char *what);
/* A value fixed at compile time: numbers and constants only. */
int script_parse_const(struct script *s, json_object *j, uint64_t *v,
		       const char *what);
bool script_expr_has(const struct expr *e, enum term_kind kind);
int script_parse_errno(struct script *s, json_object *j, int *e);
/* A field of c by name, or "@OFFSET:u8|u16|u32|u64". */
int script_parse_field(struct script *s, const struct cmd *c, const char *name,
		       struct field *f, const char *what);
int script_parse_cmp(struct script *s, json_object *j, struct cmp *c,
		     const char *what);
int script_parse_reqs(struct script *s, json_object *j, struct reqs *r,
		      const char *what);
/* The name of an fd open at this point of the script. */
int script_parse_fd_name(struct script *s, json_object *j, unsigned int *fd,
			 const char *what);
/* Strict JSON text to s->root; errors give line and column. */
int script_parse_json(struct script *s, const char *text, size_t len);

/* Load and compile a file, or text (path names it in messages). */
int script_load(struct script *s, const char *path);
int script_load_text(struct script *s, const char *path, const char *text);
/* Compile s->root (script_compile.c). */
int script_compile(struct script *s);

/* ------------------------------------------------------------------------ */
/* Running (script_eval.c, script_run.c, script_tap.c, script_trace.c)       */

struct sbuf {
	char *p;
	size_t len, cap;
};

struct tap {
	FILE *out;
	unsigned int n, failed;
	const char *prefix; /* the script's name when several share a stream */
	bool planned; /* a skipped script printed "1..0" itself */
	FILE *trace; /* $IOMMUFD_SCRIPT_TRACE, or NULL */
};

enum var_state { VAR_UNSET, VAR_SET, VAR_SKIPPED };

enum result { R_PASS, R_FAIL, R_ABORT, R_MALFORMED, R_SKIP };

struct run {
	struct script *s;
	const char *dev;
	int *fds;
	uint64_t *vals;
	enum var_state *state;
	int probe_fd;
	signed char *req_known; /* per requirement: 0 unknown, 1 met, -1 not */
	char **req_why;
	long page_size;
	/* per step */
	struct sbuf log, diag;
	struct sbuf trace; /* what the step gave, for the trace */
	bool skip_from_var;
	const char *unset_var;
	char why[512]; /* malformed-at-run-time or skip reason */
};

__attribute__((format(printf, 2, 3))) void sb_printf(struct sbuf *b,
						     const char *fmt, ...);
void sb_reset(struct sbuf *b);

uint64_t script_field_mask(unsigned int size);
uint64_t script_get_field(const uint8_t *buf, const struct field *f);
void script_put_field(uint8_t *buf, const struct field *f, uint64_t v);
/* Whether v fits size bytes, as an unsigned or a negative signed value. */
bool script_fits(uint64_t v, unsigned int size);
/*
 * Evaluate at run time. False when a variable is not set: its step failed
 * (the run stops) or was skipped (so is this step); r says which.
 */
bool script_eval(struct run *r, const struct expr *e, uint64_t *out);
void script_fmt_num(struct sbuf *b, uint64_t v);
/* "value", or "text(=value)" when the expression was more than a number */
void script_fmt_expr(struct sbuf *b, const struct expr *e, uint64_t v);
/* The region that holds [addr, addr + len), or -1. */
int script_region_at(struct run *r, uint64_t addr, uint64_t len);
/* Set r->why; R_MALFORMED. */
__attribute__((format(printf, 2, 3))) enum result
script_malformed(struct run *r, const char *fmt, ...);
/* Turn an unset variable into the step's result: R_SKIP or R_ABORT. */
enum result script_unset(struct run *r);
/*
 * Whether got (a field of size bytes) meets c; what was wanted goes to
 * want. False when a variable in c is not set.
 */
bool script_cmp_holds(struct run *r, const struct cmp *c, uint64_t got,
		      unsigned int size, struct sbuf *want, bool *ok);
void script_hexdump(struct sbuf *b, const char *what, const uint8_t *p,
		    size_t len);
/* The byte at offset off of a "pattern" fill. */
uint8_t script_pattern_byte(uint64_t off);

/* A run of s against dev; script_run_fini closes and frees what it has. */
void script_run_init(struct run *r, struct script *s, const char *dev);
void script_run_fini(struct run *r);
enum result script_map_regions(struct run *r);
void script_unmap_regions(struct run *r);
const char *script_req_name(unsigned int id);
/* The first requirement of q the device does not meet (r->req_why says
 * why), or -1. */
int script_reqs_unmet(struct run *r, const struct reqs *q);
/* Mark a skipped step's variables, so steps that use them skip too. */
void script_skip_saves(struct run *r, const struct step *st);
/* Run one step: r->log says what it did, r->diag why it failed. */
enum result script_run_step(struct run *r, struct step *st);

__attribute__((format(printf, 4, 5))) void
script_tap_result(struct tap *t, bool ok, const char *skip, const char *fmt,
		  ...);
/* Run a compiled script; results go to tap. PASSED, FAILED or MALFORMED. */
int script_run_compiled(struct script *s, const char *dev, struct tap *tap);

/*
 * The trace (script_trace.c): $IOMMUFD_SCRIPT_TRACE opened for appending
 * (NULL when unset, or on errors, which are reported), one line per step.
 */
FILE *script_trace_open(void);
void script_trace_close(struct tap *tap);
uint64_t script_trace_hash(const uint8_t *p, size_t len);
/* An argument after the call, to r->trace, region addresses by name. */
void script_trace_arg(struct run *r, const uint8_t *buf, size_t len);
/* "SCRIPT INDEX LABEL OUTCOME", tab-separated, if tap has a trace. */
void script_trace_line(struct tap *tap, const char *path, unsigned int index,
		       const char *label, const char *outcome);
/* The step's line, from r->trace and how it ended. */
void script_trace_step(struct run *r, struct tap *tap, const struct step *st,
		       enum result res);

#endif /* IOMMUFD_SCRIPT_PRIVATE_H */
