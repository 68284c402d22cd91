// SPDX-License-Identifier: MIT
/*
 * The ioctl-script engine's output (iommufd-script(5)) and its public API
 * (script.h): a script or a directory of them runs as one TAP stream. Each
 * step is logged as a comment as it runs; each step with an expectation
 * gives one TAP result, followed by the diagnosis when it fails; the plan
 * comes last. A script whose requirements the device does not meet is a
 * skip, never a pass.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_private.h"

__attribute__((format(printf, 4, 5))) void
script_tap_result(struct tap *t, bool ok, const char *skip, const char *fmt,
		  ...)
{
	char desc[512];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	/* '#' would start a TAP directive, a newline a new TAP line */
	for (p = desc; *p; p++)
		if (*p == '#' || *p == '\n')
			*p = ' ';
	t->n++;
	if (!ok)
		t->failed++;
	fprintf(t->out, "%s %u - %s%s%s%s%s\n", ok ? "ok" : "not ok", t->n,
		t->prefix ? t->prefix : "", t->prefix ? ": " : "", desc,
		skip ? " # SKIP " : "", skip ? skip : "");
	fflush(t->out);
}

static void report_malformed(struct tap *tap, const char *path,
			     const char *what)
{
	fprintf(stderr, "%s: malformed: %s\n", path, what);
	fprintf(tap->out, "# malformed: %s\n", what);
	script_tap_result(tap, false, NULL, "malformed script: %s", what);
}

/* "step N LABEL[ -> ERRNO|...][: NAME]", a step's TAP description. */
static void step_desc(struct sbuf *b, const struct step *st)
{
	unsigned int i;

	sb_printf(b, "step %u %s", st->index, st->label);
	if (st->kind == STEP_IOCTL && st->checked) {
		sb_printf(b, " -> ");
		for (i = 0; i < st->nerrnos; i++)
			sb_printf(b, "%s%s", i ? "|" : "",
				  script_errno_str(st->errnos[i]));
	}
	if (st->name)
		sb_printf(b, ": %s", st->name);
}

/*
 * A step's result on the stream: its log as a comment, a TAP result if it
 * has an expectation (or failed), then the diagnosis. A skipped step's
 * variables are marked so that steps using them skip too.
 */
static void report_step(struct run *r, struct tap *tap, const struct step *st,
			enum result res, const char *desc)
{
	bool tapped = st->checked || st->kind == STEP_CHECK;
	char what[700];

	switch (res) {
	case R_PASS:
	case R_FAIL:
		fprintf(tap->out, "# step %u: %s\n", st->index,
			r->log.p ? r->log.p : "");
		if (tapped || res == R_FAIL)
			script_tap_result(tap, res == R_PASS, NULL, "%s", desc);
		if (r->diag.len)
			fputs(r->diag.p, tap->out);
		break;
	case R_SKIP:
		fprintf(tap->out, "# step %u: %s skipped: %s\n", st->index,
			st->label, r->why);
		script_skip_saves(r, st);
		if (tapped)
			script_tap_result(tap, true, r->why, "%s", desc);
		break;
	case R_ABORT:
		if (r->unset_var) {
			/* the step that failed was reported already */
			fprintf(tap->out, "# step %u: %s not run: %s\n",
				st->index, st->label, r->why);
			break;
		}
		fprintf(tap->out, "# step %u: %s\n", st->index,
			r->log.p ? r->log.p : st->label);
		script_tap_result(tap, false, NULL, "%s", desc);
		if (r->diag.len)
			fputs(r->diag.p, tap->out);
		break;
	case R_MALFORMED:
		snprintf(what, sizeof(what), "step %u (%s): %s", st->index,
			 st->label, r->why);
		report_malformed(tap, r->s->path, what);
		break;
	}
	fflush(tap->out);
}

/* Run one step unless the device lacks what it requires (then a skip). */
static enum result run_or_skip(struct run *r, struct step *st)
{
	int unmet = script_reqs_unmet(r, &st->reqs);

	if (unmet < 0)
		return script_run_step(r, st);
	snprintf(r->why, sizeof(r->why), "requires %s: %s",
		 script_req_name((unsigned int)unmet), r->req_why[unmet]);
	sb_printf(&r->trace, "skipped requires=%s",
		  script_req_name((unsigned int)unmet));
	return R_SKIP;
}

/* The steps in order, until one aborts the script or is malformed. */
static int run_steps(struct run *r, struct tap *tap)
{
	struct script *s = r->s;
	unsigned int i, left;

	for (i = 0; i < s->nsteps; i++) {
		struct step *st = &s->steps[i];
		struct sbuf desc = { 0 };
		enum result res;

		sb_reset(&r->log);
		sb_reset(&r->diag);
		sb_reset(&r->trace);
		step_desc(&desc, st);
		res = run_or_skip(r, st);
		script_trace_step(r, tap, st, res);
		report_step(r, tap, st, res, desc.p);
		free(desc.p);
		r->unset_var = NULL;
		if (res == R_MALFORMED)
			return IOMMUFD_SCRIPT_MALFORMED;
		if (res == R_ABORT) {
			left = s->nsteps - i - 1;
			if (left)
				fprintf(tap->out,
					"# the remaining %u step%s not run\n",
					left, left == 1 ? " is" : "s are");
			break;
		}
	}
	return IOMMUFD_SCRIPT_PASSED;
}

/*
 * Whether the device lacks what the whole script requires: then the script
 * is one skipped result in a shared stream, or "1..0 # SKIP" alone.
 */
static bool script_unmet(struct run *r, struct tap *tap)
{
	int unmet = script_reqs_unmet(r, &r->s->reqs);
	char why[256];

	if (unmet < 0)
		return false;
	snprintf(why, sizeof(why), "requires %s: %s",
		 script_req_name((unsigned int)unmet), r->req_why[unmet]);
	sb_printf(&r->trace, "skipped requires=%s",
		  script_req_name((unsigned int)unmet));
	script_trace_line(tap, r->s->path, 0, "script", r->trace.p);
	if (tap->prefix) {
		script_tap_result(tap, true, why, "whole script");
	} else {
		fprintf(tap->out, "1..0 # SKIP %s\n", why);
		tap->planned = true;
	}
	return true;
}

int script_run_compiled(struct script *s, const char *dev, struct tap *tap)
{
	unsigned int failed0 = tap->failed;
	int rc = IOMMUFD_SCRIPT_PASSED;
	struct run r;

	script_run_init(&r, s, dev);
	if (s->description)
		fprintf(tap->out, "# %s: %s\n", s->path, s->description);
	else
		fprintf(tap->out, "# %s\n", s->path);
	if (script_unmet(&r, tap))
		goto out;
	r.fds[0] = open(dev, O_RDWR | O_CLOEXEC);
	if (r.fds[0] < 0) {
		int err = errno;

		sb_printf(&r.trace, "cannot open the device: %s",
			  script_errno_str(err));
		script_trace_line(tap, s->path, 0, "script", r.trace.p);
		script_tap_result(tap, false, NULL, "cannot open %s: %s", dev,
				  strerror(err));
		rc = IOMMUFD_SCRIPT_FAILED;
		goto out;
	}
	if (script_map_regions(&r)) {
		report_malformed(tap, s->path, r.why);
		rc = IOMMUFD_SCRIPT_MALFORMED;
		goto out;
	}
	rc = run_steps(&r, tap);
out:
	script_run_fini(&r);
	if (rc == IOMMUFD_SCRIPT_PASSED && tap->failed != failed0)
		rc = IOMMUFD_SCRIPT_FAILED;
	return rc;
}

static const char *base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p ? p + 1 : path;
}

/* Load, compile and run one script into tap. */
static int run_one(const char *path, const char *dev, struct tap *tap)
{
	struct script s;
	int rc;

	if (script_load(&s, path)) {
		fprintf(stderr, "%s: malformed: %s\n", path, s.err);
		fprintf(tap->out, "# %s: malformed: %s\n", path, s.err);
		script_tap_result(tap, false, NULL, "malformed script: %s",
				  s.err);
		script_trace_line(tap, path, 0, "script", "malformed");
		script_free(&s);
		return IOMMUFD_SCRIPT_MALFORMED;
	}
	rc = script_run_compiled(&s, dev, tap);
	script_free(&s);
	return rc;
}

int iommufd_script_run(const char *script_path, const char *dev_path, FILE *out)
{
	struct tap tap = { .out = out, .trace = script_trace_open() };
	int rc;

	if (!dev_path)
		dev_path = "/dev/iommu";
	fprintf(out, "TAP version 13\n");
	rc = run_one(script_path, dev_path, &tap);
	if (!tap.planned)
		fprintf(out, "1..%u\n", tap.n);
	fflush(out);
	script_trace_close(&tap);
	return rc;
}

static int json_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".json");
}

int iommufd_script_run_dir(const char *dir, const char *dev_path, FILE *out)
{
	struct tap tap = { .out = out, .trace = script_trace_open() };
	struct dirent **list;
	int n, i, rc = IOMMUFD_SCRIPT_PASSED;

	if (!dev_path)
		dev_path = "/dev/iommu";
	fprintf(out, "TAP version 13\n");
	n = scandir(dir, &list, json_file, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		script_tap_result(&tap, false, NULL, "cannot read %s: %s", dir,
				  strerror(errno));
		fprintf(out, "1..%u\n", tap.n);
		script_trace_close(&tap);
		return IOMMUFD_SCRIPT_MALFORMED;
	}
	if (!n)
		script_tap_result(&tap, false, NULL, "no *.json in %s", dir);
	for (i = 0; i < n; i++) {
		char *path;
		int one;

		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0)
			abort();
		tap.prefix = base_name(path);
		one = run_one(path, dev_path, &tap);
		if (one > rc)
			rc = one;
		tap.prefix = NULL;
		free(path);
		free(list[i]);
	}
	free(list);
	fprintf(out, "1..%u\n", tap.n);
	fflush(out);
	script_trace_close(&tap);
	if (rc == IOMMUFD_SCRIPT_PASSED && tap.failed)
		rc = IOMMUFD_SCRIPT_FAILED;
	return rc;
}

int iommufd_script_check(const char *script_path, FILE *err)
{
	struct script s;
	int rc = IOMMUFD_SCRIPT_PASSED;

	if (script_load(&s, script_path)) {
		fprintf(err, "%s: malformed: %s\n", script_path, s.err);
		rc = IOMMUFD_SCRIPT_MALFORMED;
	}
	script_free(&s);
	return rc;
}
