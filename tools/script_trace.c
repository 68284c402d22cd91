// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's trace (IOMMUFD_SCRIPT_TRACE, iommufd-script(5)
 * TRACE): one line per step saying what it gave, so that two runs of the
 * same scripts on two devices (the kernel's /dev/iommu and iommufdd's, in
 * tests/reference) can be compared line by line, every word of every
 * ioctl's argument included, not only the fields a script expects.
 * Addresses differ from run to run: a value that points into a region is
 * written as region:NAME+OFFSET, everything else as a number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_private.h"

FILE *script_trace_open(void)
{
	const char *path = getenv("IOMMUFD_SCRIPT_TRACE");
	FILE *f;

	if (!path || !*path)
		return NULL;
	f = fopen(path, "ae");
	if (!f)
		fprintf(stderr, "IOMMUFD_SCRIPT_TRACE: %s: %s\n", path,
			strerror(errno));
	return f;
}

void script_trace_close(struct tap *tap)
{
	if (tap->trace)
		fclose(tap->trace);
	tap->trace = NULL;
}

static void trace_value(struct run *r, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < r->s->nregions; i++) {
		const struct region *rg = &r->s->regions[i];
		uint64_t start = (uintptr_t)rg->mem;

		/* up to one past the end: a pointer to the end of a region */
		if (rg->mem && v >= start && v - start <= rg->size) {
			sb_printf(&r->trace, "region:%s+0x%" PRIx64, rg->name,
				  v - start);
			return;
		}
	}
	sb_printf(&r->trace, "0x%" PRIx64, v);
}

/* FNV-1a: it stands for bytes too many to write out. */
uint64_t script_trace_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * uAPI pointers are 64-bit aligned, so each is one word: "@OFFSET=VALUE"
 * for the non-zero words of the first 256 bytes, then a hash of the rest.
 */
void script_trace_arg(struct run *r, const uint8_t *buf, size_t len)
{
	size_t shown = len < 256 ? len : 256, off;

	sb_printf(&r->trace, " arg[%zu]", len);
	for (off = 0; off < shown; off += 8) {
		uint64_t w = 0;

		memcpy(&w, buf + off, shown - off < 8 ? shown - off : 8);
		if (!w)
			continue;
		sb_printf(&r->trace, " @%zu=", off);
		trace_value(r, w);
	}
	if (len > shown)
		sb_printf(&r->trace, " tail=%016" PRIx64,
			  script_trace_hash(buf + shown, len - shown));
}

static const char *base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p ? p + 1 : path;
}

void script_trace_line(struct tap *tap, const char *path, unsigned int index,
		       const char *label, const char *outcome)
{
	if (!tap->trace)
		return;
	fprintf(tap->trace, "%s\t%u\t%s\t%s\n", base_name(path), index, label,
		outcome);
	fflush(tap->trace);
}

void script_trace_step(struct run *r, struct tap *tap, const struct step *st,
		       enum result res)
{
	const char *outcome = r->trace.len ? r->trace.p : "";

	if (res == R_SKIP && !r->trace.len)
		outcome = "skipped (uses a variable of a skipped step)";
	else if (res == R_ABORT && r->unset_var)
		outcome = "not run (uses a variable of a failed step)";
	else if (res == R_ABORT && !r->trace.len)
		outcome = "aborted";
	else if (res == R_MALFORMED)
		outcome = "malformed";
	script_trace_line(tap, r->s->path, st->index, st->label, outcome);
}
