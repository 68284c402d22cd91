// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine at run time, steps (iommufd-script(5)): the
 * regions mapped for a run, the requirements asked of the device, and each
 * step carried out: an ioctl with its argument built, sent and checked,
 * bytes written to or checked in a region, a file opened or closed. What a
 * step did goes to the run's log, why it failed to its diagnosis; turning
 * those into TAP is script_tap.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "script_private.h"

/*
 * Put the struct in its region. A read-only region is only read-only for
 * the ioctl: the struct goes in with the protection lifted for the copy.
 */
static int region_poke(struct run *r, struct region *rg, uint8_t *at,
		       const uint8_t *src, size_t len)
{
	size_t page = (size_t)r->page_size;
	size_t len_pages = (rg->size + page - 1) & ~(page - 1);

	if (!rg->readonly) {
		memcpy(at, src, len);
		return 0;
	}
	if (mprotect(rg->mem, len_pages, PROT_READ | PROT_WRITE))
		return -1;
	memcpy(at, src, len);
	return mprotect(rg->mem, len_pages, PROT_READ);
}

/* The argument of an ioctl step while it runs. */
struct ioctl_arg {
	uint64_t argv; /* what the ioctl gets */
	uint8_t *buf; /* the struct as sent, then as it came back */
	size_t len; /* bytes of buf */
	size_t inlen; /* bytes that go in; a region keeps its own after */
	uint8_t *place; /* where in a region the struct went, or NULL */
};

/*
 * Evaluate the "in" values into vals; a->len grows to cover every field
 * set, and *size is the value given to the size field, if any.
 */
static enum result eval_inputs(struct run *r, const struct step *st,
			       uint64_t *vals, uint64_t *size,
			       struct ioctl_arg *a)
{
	const struct cmd *c = st->cmd;
	size_t i;

	for (i = 0; i < st->nin; i++) {
		const struct setting *set = &st->in[i];

		if (!script_eval(r, &set->val, &vals[i]))
			return script_unset(r);
		if (!script_fits(vals[i], set->f.size))
			return script_malformed(r,
						"in.%s: 0x%" PRIx64
						" does not fit its %u bytes",
						set->f.name, vals[i],
						set->f.size);
		if (set->f.offset + set->f.size > a->len)
			a->len = set->f.offset + set->f.size;
		if (c->size_field && !strcmp(set->f.name, c->size_field))
			*size = vals[i];
	}
	return R_PASS;
}

/*
 * Fields read back may lie past what goes in (@OFFSET): the buffer covers
 * them, but a region keeps its bytes there. A buffer also reaches "size",
 * in zeroes, so only deliberate tails are non-zero.
 */
static void readback_len(const struct step *st, uint64_t size,
			 struct ioctl_arg *a)
{
	size_t i;

	a->inlen = a->len;
	for (i = 0; i < st->nout; i++)
		if (st->out[i].f.offset + st->out[i].f.size > a->len)
			a->len = st->out[i].f.offset + st->out[i].f.size;
	for (i = 0; i < st->nsaves; i++)
		if (st->saves[i].f.offset + st->saves[i].f.size > a->len)
			a->len = st->saves[i].f.offset + st->saves[i].f.size;
	if (st->arg_kind == ARG_BUFFER && size > a->len &&
	    size <= MAX_ARG_BUFFER)
		a->len = (size_t)size;
}

/* The struct: size and op unless given, then the "in" fields, logged. */
static void fill_arg(struct run *r, const struct step *st, uint8_t *buf,
		     const uint64_t *vals)
{
	const struct cmd *c = st->cmd;
	size_t i;

	/* A command given by number has no size to fill in */
	if (c->size_field && !st->size_given && c->kind != CMD_RAW) {
		const struct field *sf = NULL;

		for (i = 0; i < c->nfields; i++)
			if (!strcmp(c->fields[i].name, c->size_field))
				sf = &c->fields[i];
		if (sf)
			script_put_field(buf, sf, c->size);
	}
	if (c->has_op)
		script_put_field(
			buf,
			&(struct field){
				"op", offsetof(struct iommu_test_cmd, op), 4 },
			c->op);
	for (i = 0; i < st->nin; i++) {
		script_put_field(buf, &st->in[i].f, vals[i]);
		sb_printf(&r->log, " %s=", st->in[i].f.name);
		script_fmt_expr(&r->log, &st->in[i].val, vals[i]);
	}
}

/* Build the struct argument: in a buffer of ours, or in a region. */
static enum result build_arg(struct run *r, const struct step *st,
			     struct ioctl_arg *a)
{
	uint64_t *vals, size = 0;
	enum result res;
	int rgi;

	vals = script_xrealloc(NULL, (st->nin ? st->nin : 1) * sizeof(*vals));
	a->len = st->cmd->size;
	res = eval_inputs(r, st, vals, &size, a);
	if (res != R_PASS) {
		free(vals);
		return res;
	}
	readback_len(st, size, a);
	a->buf = script_xrealloc(NULL, a->len + 8);
	memset(a->buf, 0, a->len + 8);
	fill_arg(r, st, a->buf, vals);
	free(vals);
	if (st->arg_kind != ARG_REGION) {
		a->argv = (uintptr_t)a->buf;
		return R_PASS;
	}
	rgi = script_region_at(r, a->argv, a->len);
	if (rgi < 0)
		return script_malformed(
			r, "arg: %zu bytes at %s do not fit in a region",
			a->len, st->arg.text);
	a->place = (uint8_t *)(uintptr_t)a->argv;
	if (region_poke(r, &r->s->regions[rgi], a->place, a->buf, a->inlen))
		return script_malformed(r, "arg: cannot write %s: %s",
					st->arg.text, strerror(errno));
	sb_printf(&r->log, " (arg at %s)", st->arg.text);
	return R_PASS;
}

/* Whether err is what the step expects; if not, the diagnosis says so. */
static bool errno_matches(struct run *r, const struct step *st, int err)
{
	bool ok = false;
	size_t i;

	if (!st->checked) {
		if (err)
			sb_printf(
				&r->diag,
				"#   a step without \"expect\" must succeed; the script stops here\n");
		return !err;
	}
	for (i = 0; i < st->nerrnos; i++)
		ok |= st->errnos[i] == err;
	if (!ok) {
		sb_printf(&r->diag, "#   expected ");
		for (i = 0; i < st->nerrnos; i++)
			sb_printf(&r->diag, "%s%s", i ? " or " : "",
				  script_errno_str(st->errnos[i]));
		sb_printf(&r->diag, ", got %s\n", script_errno_str(err));
	}
	return ok;
}

/*
 * Compare "expect.out" and "expect.ret" with what came back, even after an
 * error (EMSGSIZE and INVALIDATE copy back); a mismatch turns *res from
 * R_PASS into R_FAIL. False when a variable they use is not set.
 */
static bool compare_outputs(struct run *r, const struct step *st,
			    const uint8_t *buf, int ret, enum result *res)
{
	size_t i;

	for (i = 0; i < st->nout + st->has_ret; i++) {
		const struct cmp *cmp = i < st->nout ? &st->out[i] : &st->ret;
		const char *name = i < st->nout ? cmp->f.name : "ret";
		uint64_t got = i < st->nout ? script_get_field(buf, &cmp->f) :
					      (uint64_t)(int64_t)ret;
		struct sbuf want = { 0 };
		bool ok = false;

		if (!script_cmp_holds(r, cmp, got,
				      i < st->nout ? cmp->f.size : 8, &want,
				      &ok)) {
			free(want.p);
			return false;
		}
		sb_printf(&r->log, ", %s=", name);
		script_fmt_num(&r->log, got);
		if (!ok) {
			sb_printf(&r->diag, "#   %s: got ", name);
			script_fmt_num(&r->diag, got);
			sb_printf(&r->diag, ", expected %s\n", want.p);
			if (*res == R_PASS)
				*res = R_FAIL;
		}
		free(want.p);
	}
	return true;
}

static void save_vars(struct run *r, const struct step *st, const uint8_t *buf)
{
	size_t i;

	for (i = 0; i < st->nsaves; i++) {
		const struct save *sv = &st->saves[i];

		r->vals[sv->var] = script_get_field(buf, &sv->f);
		r->state[sv->var] = VAR_SET;
		sb_printf(&r->log, ", $%s=", r->s->vars.v[sv->var]);
		script_fmt_num(&r->log, r->vals[sv->var]);
	}
}

static enum result run_ioctl(struct run *r, struct step *st)
{
	const struct cmd *c = st->cmd;
	struct ioctl_arg a = { 0 };
	enum result res = R_PASS;
	int ret, err;

	sb_printf(&r->log, "%s", c->name);
	if (st->fd)
		sb_printf(&r->log, " [%s]", r->s->fds.v[st->fd]);
	if (st->has_arg && !script_eval(r, &st->arg, &a.argv))
		return script_unset(r);
	if (st->arg_kind != ARG_VALUE) {
		res = build_arg(r, st, &a);
		if (res != R_PASS) {
			free(a.buf);
			return res;
		}
	} else if (st->has_arg) {
		sb_printf(&r->log, " arg=");
		script_fmt_expr(&r->log, &st->arg, a.argv);
	}

	errno = 0;
	ret = ioctl(r->fds[st->fd], c->nr, (unsigned long)a.argv);
	err = ret < 0 ? errno : 0;
	if (a.place)
		memcpy(a.buf, a.place, a.len);
	sb_printf(&r->log, " -> %s", script_errno_str(err));
	if (!err && ret)
		sb_printf(&r->log, " (returned %d)", ret);
	sb_printf(&r->trace, "%s ret=%d", script_errno_str(err), ret);
	if (a.buf)
		script_trace_arg(r, a.buf, a.len);

	if (!errno_matches(r, st, err))
		res = st->checked ? R_FAIL : R_ABORT;
	if (!compare_outputs(r, st, a.buf, ret, &res)) {
		free(a.buf);
		return script_unset(r);
	}
	if (res == R_PASS)
		save_vars(r, st, a.buf);
	else if (a.buf)
		script_hexdump(&r->diag, "arg", a.buf,
			       a.len < 128 ? a.len : 128);
	free(a.buf);
	return res;
}

/* The width of a u8..u64 word list, 0 for the other forms. */
static uint64_t word_width(enum bytes_kind kind)
{
	switch (kind) {
	case B_U8:
		return 1;
	case B_U16:
		return 2;
	case B_U32:
		return 4;
	case B_U64:
		return 8;
	default:
		return 0;
	}
}

/*
 * How many bytes a write or check covers: the data's, the words', or
 * "length" (by default the rest of the region). False when a variable is
 * not set.
 */
static bool bytes_len(struct run *r, const struct step *st, uint64_t off,
		      uint64_t *len)
{
	const struct bytes *b = &st->bytes;
	const struct region *rg = &r->s->regions[st->region];

	switch (b->kind) {
	case B_DATA:
		*len = b->len;
		return true;
	case B_FILL:
	case B_PATTERN:
	case B_SAME:
		if (b->has_length)
			return script_eval(r, &b->length, len);
		*len = off < rg->size ? rg->size - off : 0;
		return true;
	default:
		*len = word_width(b->kind) * b->nwords;
		return true;
	}
}

/* The bytes a write puts or a check expects at off, into want. */
static enum result expected_bytes(struct run *r, const struct step *st,
				  uint64_t off, uint64_t len, uint64_t src,
				  uint8_t *want)
{
	const struct bytes *b = &st->bytes;
	uint64_t width = word_width(b->kind), v;
	size_t i;

	for (i = 0; i < len; i++) {
		if (b->kind == B_DATA)
			want[i] = b->data[i];
		else if (b->kind == B_FILL)
			want[i] = b->fill;
		else if (b->kind == B_PATTERN)
			want[i] = script_pattern_byte(off + i);
		else if (b->kind == B_SAME)
			want[i] = ((const uint8_t *)(uintptr_t)src)[i];
	}
	for (i = 0; i < b->nwords; i++) {
		if (!script_eval(r, &b->words[i], &v))
			return script_unset(r);
		if (!script_fits(v, (unsigned int)width))
			return script_malformed(r,
						"0x%" PRIx64
						" does not fit in %" PRIu64
						" bytes",
						v, width);
		script_put_field(want,
				 &(struct field){ "", (unsigned int)(i * width),
						  (unsigned int)width },
				 v);
	}
	return R_PASS;
}

/* A check: the region's bytes at off against want, differences shown. */
static enum result compare_bytes(struct run *r, const struct region *rg,
				 uint64_t off, uint64_t len,
				 const uint8_t *want)
{
	const uint8_t *at = rg->mem + off;
	size_t i, bad_at = SIZE_MAX, nbad = 0;
	size_t from, n;

	for (i = 0; i < len; i++) {
		if (at[i] != want[i]) {
			if (bad_at == SIZE_MAX)
				bad_at = i;
			nbad++;
		}
	}
	if (!nbad) {
		sb_printf(&r->log, " -> same");
		return R_PASS;
	}
	from = bad_at & ~(size_t)15;
	n = len - from < 32 ? len - from : 32;
	sb_printf(&r->log, " -> differs");
	sb_printf(&r->diag,
		  "#   %zu of %" PRIu64
		  " bytes differ, the first at %s+0x%" PRIx64 "\n",
		  nbad, len, rg->name, off + bad_at);
	script_hexdump(&r->diag, "got     ", at + from, n);
	script_hexdump(&r->diag, "expected", want + from, n);
	return R_FAIL;
}

static enum result run_bytes(struct run *r, struct step *st)
{
	const struct bytes *b = &st->bytes;
	struct region *rg = &r->s->regions[st->region];
	uint64_t off, len = 0, src = 0;
	enum result res;
	uint8_t *want;

	if (!script_eval(r, &st->offset, &off) || !bytes_len(r, st, off, &len))
		return script_unset(r);
	sb_printf(&r->log, "%s+", st->label);
	script_fmt_expr(&r->log, &st->offset, off);
	sb_printf(&r->log, " (%" PRIu64 " bytes)", len);
	if (off > rg->size || len > rg->size - off || !len)
		return script_malformed(
			r,
			"offset 0x%" PRIx64 " + length 0x%" PRIx64
			" is outside region \"%s\" (0x%" PRIx64 " bytes)",
			off, len, rg->name, rg->size);
	if (b->kind == B_SAME) {
		if (!script_eval(r, &b->same, &src))
			return script_unset(r);
		if (script_region_at(r, src, len) < 0)
			return script_malformed(
				r,
				"same_as: %" PRIu64
				" bytes at %s do not fit in a region",
				len, b->same.text);
	}

	want = script_xrealloc(NULL, len);
	res = expected_bytes(r, st, off, len, src, want);
	if (res == R_PASS) {
		if (st->kind == STEP_CHECK) {
			sb_printf(&r->trace, "bytes[%" PRIu64 "]=%016" PRIx64,
				  len, script_trace_hash(rg->mem + off, len));
			res = compare_bytes(r, rg, off, len, want);
		} else {
			memcpy(rg->mem + off, want, len);
			sb_printf(&r->trace, "written");
		}
	}
	free(want);
	return res;
}

const char *script_req_name(unsigned int id)
{
	if (id == REQ_MOCK)
		return "mock";
	if (id == REQ_DEV_DMA)
		return "dev_dma";
	return script_cmds[id - REQ_CMD0].name;
}

/*
 * Whether the device offers a requirement, asked without side effects: a
 * command with size 0 is EINVAL when known and ENOTTY when not; the test
 * command on ID 0 is ENOENT when the mock is there. Asked on a file of
 * its own so the script's IDs are not disturbed.
 */
static bool req_met(struct run *r, unsigned int id)
{
	struct iommu_test_cmd tc = { .size = sizeof(tc) };
	uint32_t zero[2] = { 0, 0 };
	int ret, err;

	if (r->req_known[id])
		return r->req_known[id] > 0;
	if (id == REQ_DEV_DMA && !req_met(r, REQ_MOCK)) {
		r->req_known[id] = -1;
		r->req_why[id] = strdup("no IOMMU_TEST_CMD");
		return false;
	}
	if (r->probe_fd < 0)
		r->probe_fd = open(r->dev, O_RDWR | O_CLOEXEC);
	if (r->probe_fd < 0) {
		/* Not a reason to skip: opening the device fails loudly later */
		return true;
	}
	if (id == REQ_MOCK || id == REQ_DEV_DMA) {
		tc.op = id == REQ_MOCK ? IOMMU_TEST_OP_ADD_RESERVED :
					 IOMMUFDD_TEST_OP_DEV_DMA;
		ret = ioctl(r->probe_fd, IOMMU_TEST_CMD, &tc);
		err = ret < 0 ? errno : 0;
	} else {
		ret = ioctl(r->probe_fd, script_cmds[id - REQ_CMD0].nr, zero);
		err = ret < 0 ? errno : 0;
	}
	if (ret < 0 && (err == ENOTTY || err == EOPNOTSUPP)) {
		char why[160];

		snprintf(why, sizeof(why), "%s answers %s%s with %s", r->dev,
			 id == REQ_MOCK	   ? "IOMMU_TEST_CMD" :
			 id == REQ_DEV_DMA ? "IOMMUFDD_TEST_OP_DEV_DMA" :
					     "IOMMU_",
			 id >= REQ_CMD0 ? script_cmds[id - REQ_CMD0].name : "",
			 script_errno_str(err));
		r->req_known[id] = -1;
		r->req_why[id] = strdup(why);
		return false;
	}
	r->req_known[id] = 1;
	return true;
}

/* The first unmet requirement, or -1. */
int script_reqs_unmet(struct run *r, const struct reqs *q)
{
	unsigned int i;

	for (i = 0; i < q->n; i++)
		if (!req_met(r, q->id[i]))
			return (int)q->id[i];
	return -1;
}

/* Mark a skipped step's variables, so steps that use them skip too. */
void script_skip_saves(struct run *r, const struct step *st)
{
	unsigned int i;

	for (i = 0; i < st->nsaves; i++)
		if (r->state[st->saves[i].var] != VAR_SET)
			r->state[st->saves[i].var] = VAR_SKIPPED;
}

enum result script_map_regions(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		struct region *rg = &r->s->regions[i];
		size_t page = (size_t)r->page_size;
		size_t len = (rg->size + page - 1) & ~(page - 1);
		size_t align = rg->align > page ? (size_t)rg->align : page;
		uint8_t *base, *mem;
		size_t j;
		void *m;

		/*
		 * Reserve room for alignment and the guard page first, then
		 * put the memory itself over the reservation; the guard page
		 * stays PROT_NONE.
		 */
		rg->maplen = len + align + page;
		rg->map = mmap(NULL, rg->maplen, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);
		if (rg->map == MAP_FAILED) {
			rg->map = NULL;
			return script_malformed(r, "region \"%s\": mmap: %s",
						rg->name, strerror(errno));
		}
		base = rg->map;
		mem = (uint8_t *)(((uintptr_t)base + align - 1) &
				  ~(uintptr_t)(align - 1));
		if (rg->type == REGION_MEMFD) {
			rg->fd = memfd_create(rg->name, MFD_CLOEXEC);
			if (rg->fd < 0 || ftruncate(rg->fd, (off_t)len))
				return script_malformed(
					r, "region \"%s\": memfd: %s", rg->name,
					strerror(errno));
			m = mmap(mem, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, rg->fd, 0);
		} else {
			m = mmap(mem, len, PROT_READ | PROT_WRITE,
				 (rg->type == REGION_SHARED ? MAP_SHARED :
							      MAP_PRIVATE) |
					 MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0);
		}
		if (m == MAP_FAILED)
			return script_malformed(r, "region \"%s\": mmap: %s",
						rg->name, strerror(errno));
		rg->mem = mem;
		/* Fresh memory reads as zero: fill 0 leaves a region sparse. */
		for (j = 0; rg->fill && j < rg->size; j++)
			mem[j] = rg->fill < 0 ? script_pattern_byte(j) :
						(uint8_t)rg->fill;
		if (rg->readonly && mprotect(mem, len, PROT_READ))
			return script_malformed(r,
						"region \"%s\": mprotect: %s",
						rg->name, strerror(errno));
	}
	return 0;
}

void script_unmap_regions(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		struct region *rg = &r->s->regions[i];

		if (rg->map)
			munmap(rg->map, rg->maplen);
		if (rg->fd >= 0)
			close(rg->fd);
		rg->map = NULL;
		rg->mem = NULL;
		rg->fd = -1;
	}
}

enum result script_run_step(struct run *r, struct step *st)
{
	int fd;

	switch (st->kind) {
	case STEP_IOCTL:
		return run_ioctl(r, st);
	case STEP_WRITE:
	case STEP_CHECK:
		return run_bytes(r, st);
	case STEP_OPEN:
		sb_printf(&r->log, "%s", st->label);
		fd = open(r->dev, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			sb_printf(&r->trace, "%s", script_errno_str(errno));
			sb_printf(&r->log, " -> %s", script_errno_str(errno));
			sb_printf(&r->diag, "#   cannot open %s: %s\n", r->dev,
				  strerror(errno));
			return R_ABORT;
		}
		r->fds[st->fd] = fd;
		sb_printf(&r->log, " -> fd %d", fd);
		sb_printf(&r->trace, "ok");
		return R_PASS;
	case STEP_CLOSE:
		sb_printf(&r->log, "%s", st->label);
		fd = r->fds[st->fd];
		r->fds[st->fd] = -1;
		if (close(fd)) {
			sb_printf(&r->trace, "%s", script_errno_str(errno));
			sb_printf(&r->log, " -> %s", script_errno_str(errno));
			return R_ABORT;
		}
		sb_printf(&r->log, " -> ok");
		sb_printf(&r->trace, "ok");
		return R_PASS;
	}
	return R_MALFORMED;
}

void script_run_init(struct run *r, struct script *s, const char *dev)
{
	unsigned int nreq = REQ_CMD0 + script_ncmds, i;

	memset(r, 0, sizeof(*r));
	r->s = s;
	r->dev = dev;
	r->probe_fd = -1;
	r->page_size = sysconf(_SC_PAGESIZE);
	r->fds = script_xrealloc(NULL, s->fds.n * sizeof(*r->fds));
	for (i = 0; i < s->fds.n; i++)
		r->fds[i] = -1;
	r->vals = script_xrealloc(NULL, (s->vars.n + 1) * sizeof(*r->vals));
	r->state = script_xrealloc(NULL, (s->vars.n + 1) * sizeof(*r->state));
	for (i = 0; i < s->vars.n; i++)
		r->state[i] = VAR_UNSET;
	r->req_known = script_xrealloc(NULL, nreq);
	memset(r->req_known, 0, nreq);
	r->req_why = script_xrealloc(NULL, nreq * sizeof(*r->req_why));
	memset(r->req_why, 0, nreq * sizeof(*r->req_why));
	for (i = 0; i < s->nregions; i++)
		s->regions[i].fd = -1;
}

void script_run_fini(struct run *r)
{
	unsigned int nreq = REQ_CMD0 + script_ncmds, i;

	for (i = 0; i < r->s->fds.n; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	if (r->probe_fd >= 0)
		close(r->probe_fd);
	script_unmap_regions(r);
	for (i = 0; i < nreq; i++)
		free(r->req_why[i]);
	free(r->req_why);
	free(r->req_known);
	free(r->fds);
	free(r->vals);
	free(r->state);
	free(r->log.p);
	free(r->diag.p);
	free(r->trace.p);
}
