// SPDX-License-Identifier: MIT
/*
 * Run-length count map (runmap.h). Runs live in an interval tree; an add or
 * remove touches only the runs inside its range plus at most one neighbour
 * on each side, and walks the range run by run with O(log n) lookups, so the
 * tree may change under the walk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "log.h"
#include "runmap.h"
#include "util.h"

struct run {
	struct itree_node node; /* [start, last] of page indexes */
	uint64_t count;
};

static struct run *run_of(struct itree_node *node)
{
	return node ? container_of(node, struct run, node) : NULL;
}

/* The run holding @index, or NULL. */
static struct run *run_at(const struct runmap *m, uint64_t index)
{
	return run_of(itree_iter_first(&m->runs, index, index));
}

/* The first run intersecting [first, last], or NULL. */
static struct run *run_from(const struct runmap *m, uint64_t first,
			    uint64_t last)
{
	return run_of(itree_iter_first(&m->runs, first, last));
}

static void run_set(struct runmap *m, struct run *r, uint64_t start,
		    uint64_t last)
{
	itree_remove(&m->runs, &r->node);
	r->node.start = start;
	r->node.last = last;
	itree_insert(&m->runs, &r->node);
}

static struct run *spare_take(struct runmap *m)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(m->spare); i++) {
		struct run *r = m->spare[i];

		if (r) {
			m->spare[i] = NULL;
			return r;
		}
	}
	return NULL;
}

static void spare_put(struct runmap *m, struct run *r)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(m->spare); i++) {
		if (!m->spare[i]) {
			m->spare[i] = r;
			return;
		}
	}
	free(r);
}

/* Keep both spares; a failure only matters to a later remove. */
static void spare_refill(struct runmap *m)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(m->spare); i++)
		if (!m->spare[i])
			m->spare[i] = calloc(1, sizeof(struct run));
}

/*
 * Make @index the first index of a run if a run covers it and starts
 * before it. False when the split needed a node and none was left.
 */
static bool split_before(struct runmap *m, uint64_t index)
{
	struct run *r = run_at(m, index), *tail;

	if (!r || r->node.start == index)
		return true;
	tail = spare_take(m);
	if (!tail)
		return false;
	tail->count = r->count;
	tail->node.start = index;
	tail->node.last = r->node.last;
	run_set(m, r, r->node.start, index - 1);
	itree_insert(&m->runs, &tail->node);
	return true;
}

/* Join the run ending at @index - 1 and the one starting at @index. */
static void merge_at(struct runmap *m, uint64_t index)
{
	struct run *left, *right;

	if (index == 0)
		return;
	left = run_at(m, index - 1);
	right = run_at(m, index);
	if (!left || !right || left == right || left->count != right->count)
		return;
	itree_remove(&m->runs, &right->node);
	run_set(m, left, left->node.start, right->node.last);
	spare_put(m, right);
}

/* The holes of [first, last]: walked twice, so it must not change between. */
struct hole_walk {
	struct itree_span span;
};

static bool hole_first(struct hole_walk *w, const struct runmap *m,
		       uint64_t first, uint64_t last)
{
	itree_span_first(&w->span, &m->runs, NULL, first, last);
	while (!itree_span_done(&w->span) && !w->span.is_hole)
		itree_span_next(&w->span);
	return !itree_span_done(&w->span);
}

static bool hole_next(struct hole_walk *w)
{
	do
		itree_span_next(&w->span);
	while (!itree_span_done(&w->span) && !w->span.is_hole);
	return !itree_span_done(&w->span);
}

/* Undo the acquire callbacks made for the holes before @stop_at. */
static void undo_holes(const struct runmap *m, uint64_t first, uint64_t last,
		       uint64_t stop_at, runmap_fn undo, void *arg)
{
	struct hole_walk w;

	if (!undo)
		return;
	for (bool more = hole_first(&w, m, first, last);
	     more && w.span.span_start < stop_at; more = hole_next(&w))
		undo(arg, w.span.span_start, w.span.span_last);
}

static void free_nodes(struct run **nodes, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		free(nodes[i]);
	free(nodes);
}

int runmap_add(struct runmap *m, uint64_t first, uint64_t last,
	       runmap_fn acquire, runmap_fn undo, void *arg)
{
	uint64_t nholes = 0, used = 0, index;
	struct run **nodes;
	struct hole_walk w;
	int ret;

	if (first > last)
		return -EINVAL;
	for (bool more = hole_first(&w, m, first, last); more;
	     more = hole_next(&w))
		nholes++;

	/* Every node the add needs, before anything is done: it cannot fail later. */
	nodes = calloc(nholes ? nholes : 1, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (uint64_t i = 0; i < nholes; i++) {
		nodes[i] = calloc(1, sizeof(struct run));
		if (!nodes[i]) {
			free_nodes(nodes, i);
			return -ENOMEM;
		}
	}
	spare_refill(m);
	if (!m->spare[0] || !m->spare[1]) {
		free_nodes(nodes, nholes);
		return -ENOMEM;
	}

	if (acquire) {
		for (bool more = hole_first(&w, m, first, last); more;
		     more = hole_next(&w)) {
			ret = acquire(arg, w.span.span_start, w.span.span_last);
			if (ret) {
				undo_holes(m, first, last, w.span.span_start,
					   undo, arg);
				free_nodes(nodes, nholes);
				return ret;
			}
		}
	}

	/* Both spares are there, so the splits succeed. */
	split_before(m, first);
	if (last != UINT64_MAX)
		split_before(m, last + 1);
	for (index = first;;) {
		struct run *r = run_at(m, index);
		uint64_t end;

		if (r) {
			r->count++;
			end = r->node.last;
		} else {
			struct run *next = run_from(m, index, last);

			end = next ? next->node.start - 1 : last;
			r = nodes[used++];
			r->count = 1;
			r->node.start = index;
			r->node.last = end;
			itree_insert(&m->runs, &r->node);
			m->held += end - index + 1;
		}
		if (end >= last)
			break;
		index = end + 1;
	}
	merge_at(m, first);
	if (last != UINT64_MAX)
		merge_at(m, last + 1);
	free(nodes);
	spare_refill(m);
	return 0;
}

/* Report a released range, joining it to the pending one when adjacent. */
struct release_batch {
	runmap_fn fn;
	void *arg;
	bool pending;
	uint64_t first, last;
};

static void release_add(struct release_batch *b, uint64_t first, uint64_t last)
{
	if (b->pending && b->last + 1 == first) {
		b->last = last;
		return;
	}
	if (b->pending && b->fn)
		b->fn(b->arg, b->first, b->last);
	b->pending = true;
	b->first = first;
	b->last = last;
}

static void release_flush(struct release_batch *b)
{
	if (b->pending && b->fn)
		b->fn(b->arg, b->first, b->last);
	b->pending = false;
}

void runmap_remove(struct runmap *m, uint64_t first, uint64_t last,
		   runmap_fn release, void *arg)
{
	struct release_batch batch = { .fn = release, .arg = arg };
	uint64_t index = first;

	if (first > last)
		return;
	if (!split_before(m, first) ||
	    (last != UINT64_MAX && !split_before(m, last + 1))) {
		log_err("runmap: out of memory splitting [%" PRIu64 ", %" PRIu64
			"]; those pages stay held",
			first, last);
		return;
	}
	for (;;) {
		struct run *r = run_from(m, index, last);
		uint64_t start, end;

		if (!r)
			break;
		if (r->node.start > index)
			log_err("runmap: removing pages [%" PRIu64 ", %" PRIu64
				"] that are not held",
				index, r->node.start - 1);
		start = r->node.start;
		end = r->node.last;
		if (!--r->count) {
			itree_remove(&m->runs, &r->node);
			spare_put(m, r);
			m->held -= end - start + 1;
			release_add(&batch, start, end);
		}
		if (end >= last)
			break;
		index = end + 1;
	}
	merge_at(m, first);
	if (last != UINT64_MAX)
		merge_at(m, last + 1);
	spare_refill(m);
	release_flush(&batch);
}

uint64_t runmap_count(const struct runmap *m, uint64_t index)
{
	struct run *r = run_at(m, index);

	return r ? r->count : 0;
}

uint64_t runmap_lookup(const struct runmap *m, uint64_t index, uint64_t *last)
{
	struct run *r = run_at(m, index), *next;

	if (r) {
		*last = r->node.last;
		return r->count;
	}
	next = index == UINT64_MAX ? NULL : run_from(m, index, UINT64_MAX);
	*last = next ? next->node.start - 1 : UINT64_MAX;
	return 0;
}

void runmap_clear(struct runmap *m)
{
	struct itree_node *node;

	while ((node = itree_first(&m->runs))) {
		itree_remove(&m->runs, node);
		free(run_of(node));
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(m->spare); i++) {
		free(m->spare[i]);
		m->spare[i] = NULL;
	}
	m->held = 0;
}
