// SPDX-License-Identifier: MIT
/*
 * Interval tree tests. Every result is compared with a brute-force model that
 * shares no code with the tree: a flat array scanned in full for lookups, and
 * sort-and-merge for spans. Randomised runs use fixed seeds so a failure
 * reproduces.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interval_tree.h"

struct range {
	struct itree_node node;
	bool in_tree;
	size_t rank; /* position in the last full in-order walk */
};

/* splitmix64: small, fixed-seed, good enough to shake the tree. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t random_below(uint64_t *state, uint64_t bound)
{
	return next_random(state) % bound;
}

enum value_mode {
	/* Tiny universe: heavy overlap, equal starts, adjacency. */
	VALUES_SMALL,
	/* Whole 64-bit space, biased towards 0, UINT64_MAX and the middle. */
	VALUES_EDGES,
};

static uint64_t random_point(uint64_t *state, enum value_mode mode)
{
	if (mode == VALUES_SMALL)
		return random_below(state, 160);

	switch (random_below(state, 8)) {
	case 0:
		return random_below(state, 4);
	case 1:
		return UINT64_MAX - random_below(state, 4);
	case 2:
		return random_below(state, 64);
	case 3:
		return UINT64_MAX - random_below(state, 64);
	case 4:
		return (UINT64_MAX / 2) - 32 + random_below(state, 64);
	default:
		return next_random(state);
	}
}

static void random_range(uint64_t *state, enum value_mode mode, uint64_t *start,
			 uint64_t *last)
{
	uint64_t a = random_point(state, mode);
	uint64_t b;

	if (random_below(state, 3) == 0) {
		/* Short range, saturating at the top. */
		uint64_t len =
			random_below(state, mode == VALUES_SMALL ? 8 : 40);

		b = a > UINT64_MAX - len ? UINT64_MAX : a + len;
	} else {
		b = random_point(state, mode);
	}
	*start = a < b ? a : b;
	*last = a < b ? b : a;
}

static bool intersects(const struct itree_node *n, uint64_t start,
		       uint64_t last)
{
	return n->start <= last && n->last >= start;
}

/* Full walk: start order, membership, count; records each node's rank. */
static void check_walk(const struct itree *t, struct range *pool, size_t npool)
{
	const struct itree_node *n;
	uint64_t prev_start = 0;
	size_t in_tree = 0, walked = 0, i;

	for (i = 0; i < npool; i++)
		in_tree += pool[i].in_tree;

	for (n = itree_first(t); n; n = itree_next(n)) {
		struct range *r = itree_entry(n, struct range, node);

		assert_true(r >= pool && r < pool + npool);
		assert_true(r->in_tree);
		assert_true(n->start >= prev_start);
		prev_start = n->start;
		r->rank = walked++;
	}
	assert_int_equal(walked, in_tree);
	assert_int_equal(t->count, in_tree);
}

/*
 * itree_for_each over [start, last] must produce exactly the model's
 * intersecting set, lowest start first and in tree order (strictly rising
 * rank; check_walk must have run since the last change).
 */
static void check_query(const struct itree *t, struct range *pool, size_t npool,
			uint64_t start, uint64_t last)
{
	struct itree_node *n;
	size_t expected = 0, found = 0, i;
	uint64_t lowest_start = UINT64_MAX;
	size_t prev_rank = 0;

	for (i = 0; i < npool; i++) {
		if (pool[i].in_tree && intersects(&pool[i].node, start, last)) {
			expected++;
			if (pool[i].node.start < lowest_start)
				lowest_start = pool[i].node.start;
		}
	}

	n = itree_iter_first(t, start, last);
	if (!expected) {
		assert_null(n);
		return;
	}
	assert_non_null(n);
	assert_true(n->start == lowest_start);

	itree_for_each(n, t, start, last) {
		struct range *r = itree_entry(n, struct range, node);

		assert_true(r->in_tree);
		assert_true(intersects(n, start, last));
		if (found)
			assert_true(r->rank > prev_rank);
		prev_rank = r->rank;
		found++;
	}
	assert_int_equal(found, expected);
}

static void check_random_queries(const struct itree *t, struct range *pool,
				 size_t npool, uint64_t *state,
				 enum value_mode mode, unsigned int nqueries)
{
	unsigned int q;
	uint64_t start, last;

	check_walk(t, pool, npool);
	for (q = 0; q < nqueries; q++) {
		random_range(state, mode, &start, &last);
		check_query(t, pool, npool, start, last);
	}
	check_query(t, pool, npool, 0, UINT64_MAX);
	check_query(t, pool, npool, 0, 0);
	check_query(t, pool, npool, UINT64_MAX, UINT64_MAX);
}

static void toggle(struct itree *t, struct range *r, uint64_t *state,
		   enum value_mode mode)
{
	if (r->in_tree) {
		itree_remove(t, &r->node);
	} else {
		random_range(state, mode, &r->node.start, &r->node.last);
		itree_insert(t, &r->node);
	}
	r->in_tree = !r->in_tree;
}

static void test_empty_tree(void **unused)
{
	struct itree t = ITREE_INIT;
	struct itree_span s;

	(void)unused;
	assert_true(itree_check(&t));
	assert_null(itree_first(&t));
	assert_null(itree_iter_first(&t, 0, UINT64_MAX));

	itree_span_first(&s, &t, NULL, 0, UINT64_MAX);
	assert_false(itree_span_done(&s));
	assert_true(s.is_hole);
	assert_true(s.span_start == 0 && s.span_last == UINT64_MAX);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));

	itree_span_first(&s, NULL, NULL, 5, 9);
	assert_false(itree_span_done(&s));
	assert_true(s.is_hole && s.span_start == 5 && s.span_last == 9);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));
}

static void test_extreme_ranges(void **unused)
{
	struct range whole = { .node = { .start = 0, .last = UINT64_MAX } };
	struct range top = { .node = { .start = UINT64_MAX,
				       .last = UINT64_MAX } };
	struct range bottom = { .node = { .start = 0, .last = 0 } };
	struct itree t = ITREE_INIT;
	struct itree_span s;
	struct itree_node *n;

	(void)unused;
	itree_insert(&t, &top.node);
	itree_insert(&t, &bottom.node);
	assert_true(itree_check(&t));

	assert_ptr_equal(itree_iter_first(&t, UINT64_MAX, UINT64_MAX),
			 &top.node);
	assert_ptr_equal(itree_iter_first(&t, 0, UINT64_MAX), &bottom.node);
	assert_null(itree_iter_first(&t, 1, UINT64_MAX - 1));
	/* An empty query matches nothing, even a node covering both ends. */
	assert_null(itree_iter_first(&t, 1, 0));

	itree_span_first(&s, &t, NULL, 0, UINT64_MAX);
	assert_true(!s.is_hole && s.span_start == 0 && s.span_last == 0);
	itree_span_next(&s);
	assert_true(s.is_hole && s.span_start == 1 &&
		    s.span_last == UINT64_MAX - 1);
	itree_span_next(&s);
	assert_true(!s.is_hole && s.span_start == UINT64_MAX &&
		    s.span_last == UINT64_MAX);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));

	itree_insert(&t, &whole.node);
	assert_true(itree_check(&t));
	itree_span_first(&s, &t, NULL, 0, UINT64_MAX);
	assert_true(!s.is_hole && s.span_start == 0 &&
		    s.span_last == UINT64_MAX);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));

	/* Equal starts come back in insertion order. */
	n = itree_iter_first(&t, 0, 0);
	assert_ptr_equal(n, &bottom.node);
	n = itree_iter_next(n, 0, 0);
	assert_ptr_equal(n, &whole.node);
	assert_null(itree_iter_next(n, 0, 0));

	itree_remove(&t, &bottom.node);
	itree_remove(&t, &whole.node);
	itree_remove(&t, &top.node);
	assert_true(itree_check(&t));
	assert_null(t.root);
	assert_int_equal(t.count, 0);

	/* Start beyond last yields no spans at all. */
	itree_span_first(&s, &t, NULL, 10, 9);
	assert_true(itree_span_done(&s));
}

static void test_duplicates(void **unused)
{
	enum { COPIES = 200 };
	static struct range same[COPIES];
	struct itree t = ITREE_INIT;
	struct itree_node *n;
	size_t i = 0;

	(void)unused;
	for (i = 0; i < COPIES; i++) {
		same[i].node.start = 7;
		same[i].node.last = 9;
		itree_insert(&t, &same[i].node);
		same[i].in_tree = true;
	}
	assert_true(itree_check(&t));

	i = 0;
	itree_for_each(n, &t, 9, 100)
		assert_ptr_equal(n, &same[i++].node);
	assert_int_equal(i, COPIES);
	assert_null(itree_iter_first(&t, 10, 100));

	/* Removing from the middle keeps the order of the others. */
	for (i = 0; i < COPIES; i += 2) {
		itree_remove(&t, &same[i].node);
		same[i].in_tree = false;
		assert_true(itree_check(&t));
	}
	i = 1;
	itree_for_each(n, &t, 0, UINT64_MAX) {
		assert_ptr_equal(n, &same[i].node);
		i += 2;
	}
}

/* Sorted input is the classic way to unbalance a search tree. */
static void test_sorted_insertion(void **unused)
{
	enum { N = 6000 };
	struct range *pool = calloc(N, sizeof(*pool));
	struct itree t = ITREE_INIT;
	struct itree_node *n;
	size_t i;

	(void)unused;
	assert_non_null(pool);
	for (i = 0; i < N; i++) {
		/* First half ascending, second half descending below it. */
		uint64_t key = i < N / 2 ? N + i : N - i;

		pool[i].node.start = key * 2;
		pool[i].node.last = key * 2 + 1;
		pool[i].in_tree = true;
		itree_insert(&t, &pool[i].node);
		if (i % 100 == 0)
			assert_true(itree_check(&t));
	}
	assert_true(itree_check(&t));
	check_random_queries(&t, pool, N, &(uint64_t){ 5 }, VALUES_SMALL, 50);

	/* Always removing the lowest node hits the same corner repeatedly. */
	for (i = 0; (n = itree_first(&t)); i++) {
		itree_remove(&t, n);
		itree_entry(n, struct range, node)->in_tree = false;
		if (i % 100 == 0)
			assert_true(itree_check(&t));
	}
	assert_int_equal(i, N);
	assert_int_equal(t.count, 0);
	free(pool);
}

static void run_random_ops(uint64_t seed, enum value_mode mode, size_t npool,
			   unsigned int nops)
{
	struct range *pool = calloc(npool, sizeof(*pool));
	struct itree t = ITREE_INIT;
	uint64_t state = seed;
	unsigned int op;
	size_t i;

	assert_non_null(pool);
	for (op = 0; op < nops; op++) {
		toggle(&t, &pool[random_below(&state, npool)], &state, mode);
		assert_true(itree_check(&t));
		if (op % 16 == 0)
			check_random_queries(&t, pool, npool, &state, mode, 8);
	}

	/* Drain completely, checking all the way down. */
	for (i = 0; i < npool; i++) {
		if (pool[i].in_tree) {
			itree_remove(&t, &pool[i].node);
			pool[i].in_tree = false;
			assert_true(itree_check(&t));
		}
	}
	assert_null(t.root);
	assert_int_equal(t.count, 0);
	free(pool);
}

static void test_random_small_universe(void **unused)
{
	(void)unused;
	run_random_ops(1, VALUES_SMALL, 64, 4000);
	run_random_ops(2, VALUES_SMALL, 400, 12000);
}

static void test_random_edges(void **unused)
{
	(void)unused;
	run_random_ops(3, VALUES_EDGES, 64, 4000);
	run_random_ops(4, VALUES_EDGES, 400, 12000);
}

struct span {
	bool is_hole;
	uint64_t start;
	uint64_t last;
};

static int compare_by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/*
 * The spans of [start, last] over the union of the in-tree ranges of one or
 * two pools, by clipping, sorting and merging. Returns the number written.
 */
static size_t model_spans(struct range *pools[2], const size_t npool[2],
			  uint64_t start, uint64_t last, struct span *out)
{
	struct span *used = calloc(npool[0] + npool[1] + 1, sizeof(*used));
	size_t nused = 0, nout = 0, i, p;
	uint64_t pos = start;
	bool finished = false;

	assert_non_null(used);
	for (p = 0; p < 2; p++) {
		for (i = 0; i < npool[p]; i++) {
			const struct itree_node *n = &pools[p][i].node;

			if (!pools[p][i].in_tree || !intersects(n, start, last))
				continue;
			used[nused].start = n->start > start ? n->start : start;
			used[nused].last = n->last < last ? n->last : last;
			nused++;
		}
	}
	qsort(used, nused, sizeof(*used), compare_by_start);

	for (i = 0; i < nused && !finished;) {
		uint64_t run_start = used[i].start;
		uint64_t run_last = used[i].last;

		for (i++; i < nused; i++) {
			bool touches = used[i].start <= run_last ||
				       used[i].start - run_last == 1;

			if (!touches)
				break;
			if (used[i].last > run_last)
				run_last = used[i].last;
		}
		if (run_start > pos)
			out[nout++] = (struct span){ true, pos, run_start - 1 };
		out[nout++] = (struct span){ false, run_start, run_last };
		if (run_last == last)
			finished = true;
		else
			pos = run_last + 1;
	}
	if (!finished)
		out[nout++] = (struct span){ true, pos, last };
	free(used);
	return nout;
}

static void check_spans(struct itree *trees[2], struct range *pools[2],
			const size_t npool[2], uint64_t start, uint64_t last)
{
	struct span *expected =
		calloc(2 * (npool[0] + npool[1]) + 2, sizeof(*expected));
	struct itree_span s;
	size_t nexpected, i = 0;

	assert_non_null(expected);
	nexpected = model_spans(pools, npool, start, last, expected);

	for (itree_span_first(&s, trees[0], trees[1], start, last);
	     !itree_span_done(&s); itree_span_next(&s)) {
		assert_true(i < nexpected);
		assert_int_equal(s.is_hole, expected[i].is_hole);
		assert_true(s.span_start == expected[i].start);
		assert_true(s.span_last == expected[i].last);
		i++;
	}
	assert_int_equal(i, nexpected);
	free(expected);
}

static void run_random_spans(uint64_t seed, enum value_mode mode,
			     bool two_trees, size_t npool, unsigned int nops)
{
	static struct range no_ranges[1];
	struct itree tree_a = ITREE_INIT, tree_b = ITREE_INIT;
	struct itree *trees[2] = { &tree_a, two_trees ? &tree_b : NULL };
	size_t sizes[2] = { npool, two_trees ? npool : 0 };
	struct range *pools[2];
	uint64_t state = seed;
	unsigned int op, q;
	size_t i;

	pools[0] = calloc(npool, sizeof(struct range));
	pools[1] = two_trees ? calloc(npool, sizeof(struct range)) : no_ranges;
	assert_non_null(pools[0]);
	assert_non_null(pools[1]);

	for (op = 0; op < nops; op++) {
		unsigned int which = two_trees ? random_below(&state, 2) : 0;

		toggle(trees[which], &pools[which][random_below(&state, npool)],
		       &state, mode);
		if (op % 4)
			continue;
		for (q = 0; q < 4; q++) {
			uint64_t start, last;

			random_range(&state, mode, &start, &last);
			check_spans(trees, pools, sizes, start, last);
			check_spans(trees, pools, sizes, start, UINT64_MAX);
			check_spans(trees, pools, sizes, 0, last);
		}
		check_spans(trees, pools, sizes, 0, UINT64_MAX);
	}

	if (two_trees) {
		/* Either tree alone, passed in either slot. */
		struct itree *only_b[2] = { NULL, &tree_b };
		struct range *pools_b[2] = { no_ranges, pools[1] };
		size_t sizes_b[2] = { 0, npool };

		check_spans(only_b, pools_b, sizes_b, 0, UINT64_MAX);
	}

	for (i = 0; i < npool; i++)
		if (pools[0][i].in_tree)
			itree_remove(&tree_a, &pools[0][i].node);
	free(pools[0]);
	if (two_trees)
		free(pools[1]);
}

static void test_spans_one_tree(void **unused)
{
	(void)unused;
	run_random_spans(10, VALUES_SMALL, false, 40, 3000);
	run_random_spans(11, VALUES_EDGES, false, 40, 3000);
	run_random_spans(12, VALUES_SMALL, false, 300, 2000);
}

static void test_spans_two_trees(void **unused)
{
	(void)unused;
	run_random_spans(20, VALUES_SMALL, true, 30, 3000);
	run_random_spans(21, VALUES_EDGES, true, 30, 3000);
	run_random_spans(22, VALUES_SMALL, true, 200, 2000);
}

static void test_spans_merge_across_trees(void **unused)
{
	/* a: [0,9] [20,29]   b: [10,19] [31,40]   => used [0,29], hole 30 */
	struct range a[2] = { { .node = { .start = 0, .last = 9 } },
			      { .node = { .start = 20, .last = 29 } } };
	struct range b[2] = { { .node = { .start = 10, .last = 19 } },
			      { .node = { .start = 31, .last = 40 } } };
	struct itree ta = ITREE_INIT, tb = ITREE_INIT;
	struct itree_span s;

	(void)unused;
	itree_insert(&ta, &a[0].node);
	itree_insert(&ta, &a[1].node);
	itree_insert(&tb, &b[0].node);
	itree_insert(&tb, &b[1].node);

	itree_span_first(&s, &ta, &tb, 0, 50);
	assert_true(!s.is_hole && s.span_start == 0 && s.span_last == 29);
	itree_span_next(&s);
	assert_true(s.is_hole && s.span_start == 30 && s.span_last == 30);
	itree_span_next(&s);
	assert_true(!s.is_hole && s.span_start == 31 && s.span_last == 40);
	itree_span_next(&s);
	assert_true(s.is_hole && s.span_start == 41 && s.span_last == 50);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));

	/* A query starting inside a used run is clipped, not extended back. */
	itree_span_first(&s, &ta, &tb, 5, 35);
	assert_true(!s.is_hole && s.span_start == 5 && s.span_last == 29);
	itree_span_next(&s);
	assert_true(s.is_hole && s.span_start == 30 && s.span_last == 30);
	itree_span_next(&s);
	assert_true(!s.is_hole && s.span_start == 31 && s.span_last == 35);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));
}

static void test_validator_catches_damage(void **unused)
{
	enum { N = 64 };
	static struct range r[N];
	struct itree t = ITREE_INIT;
	struct itree_node *victim;
	uintptr_t saved_link;
	uint64_t saved_value;
	size_t i;

	(void)unused;
	for (i = 0; i < N; i++) {
		r[i].node.start = i * 10;
		r[i].node.last = i * 10 + (i % 3 ? 4 : 9);
		itree_insert(&t, &r[i].node);
	}
	assert_true(itree_check(&t));

	/* Flip the root's colour (it must be black). */
	t.root->parent_colour ^= 1;
	assert_false(itree_check(&t));
	t.root->parent_colour ^= 1;

	/*
	 * Recolour the lowest node: either the black heights stop matching
	 * or a red node gets a red child.
	 */
	victim = itree_first(&t);
	saved_link = victim->parent_colour;
	victim->parent_colour ^= 1;
	assert_false(itree_check(&t));
	victim->parent_colour = saved_link;
	assert_true(itree_check(&t));

	/* Stale subtree maximum, stale lowest start, stale hole summary. */
	saved_value = t.root->subtree_last;
	t.root->subtree_last--;
	assert_false(itree_check(&t));
	t.root->subtree_last = saved_value;

	saved_value = t.root->left->subtree_start;
	t.root->left->subtree_start++;
	assert_false(itree_check(&t));
	t.root->left->subtree_start = saved_value;

	saved_value = t.root->subtree_hole_end;
	t.root->subtree_hole_end = 0;
	assert_false(itree_check(&t));
	t.root->subtree_hole_end = saved_value;

	/* Wrong parent link. */
	saved_link = t.root->left->parent_colour;
	t.root->left->parent_colour = (uintptr_t)t.root->right |
				      (saved_link & 1);
	assert_false(itree_check(&t));
	t.root->left->parent_colour = saved_link;

	/* Out of order start, and a miscounted tree. */
	saved_value = t.root->start;
	t.root->start = 0;
	assert_false(itree_check(&t));
	t.root->start = saved_value;
	t.count++;
	assert_false(itree_check(&t));
	t.count--;

	assert_true(itree_check(&t));
}

static double seconds_since(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	       (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static void shuffle(struct range **order, size_t n, uint64_t *state)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = random_below(state, i);
		struct range *tmp = order[i - 1];

		order[i - 1] = order[j];
		order[j] = tmp;
	}
}

/* Average ns per operation for inserting then removing @n random ranges. */
static double insert_remove_cost(struct range *pool, struct range **order,
				 size_t n, uint64_t *state)
{
	struct itree t = ITREE_INIT;
	struct timespec begin;
	double elapsed;
	size_t i;

	for (i = 0; i < n; i++) {
		pool[i].node.start = random_below(state, 1ull << 40);
		pool[i].node.last =
			pool[i].node.start + random_below(state, 1u << 20);
		order[i] = &pool[i];
	}
	shuffle(order, n, state);

	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (i = 0; i < n; i++)
		itree_insert(&t, &pool[i].node);
	for (i = 0; i < n; i++)
		itree_remove(&t, &order[i]->node);
	elapsed = seconds_since(&begin);

	assert_null(t.root);
	return elapsed * 1e9 / (2.0 * (double)n);
}

static void test_scale_million(void **unused)
{
	enum { N = 1000000, PAGE = 4096 };
	struct range *pool = calloc(N, sizeof(*pool));
	struct range **order = calloc(N, sizeof(*order));
	struct range reserved[2] = {
		{ .node = { .start = 0, .last = 10 * PAGE - 1 } },
		{ .node = { .start = (uint64_t)N * PAGE, .last = UINT64_MAX } },
	};
	struct range *pools[2] = { pool, pool };
	const size_t npool[2] = { N, 0 };
	const size_t sizes[] = { 1000, 10000, 100000 };
	struct itree t = ITREE_INIT, reserved_tree = ITREE_INIT;
	struct itree_node *n;
	struct itree_span s;
	struct span *expected;
	struct timespec test_begin, begin;
	double insert_s, remove_s, query_s, walk_s, random_cost;
	double adjacent_insert_s, adjacent_remove_s, span_s;
	uint64_t state = 1000;
	size_t i, found, nexpected, nspans;

	(void)unused;
	assert_non_null(pool);
	assert_non_null(order);
	clock_gettime(CLOCK_MONOTONIC, &test_begin);

	/* Random overlapping ranges, removed in random order. */
	for (i = 0; i < N; i++) {
		pool[i].node.start = random_below(&state, 1ull << 40);
		pool[i].node.last =
			pool[i].node.start + random_below(&state, 1u << 20);
		pool[i].in_tree = true;
		order[i] = &pool[i];
	}
	shuffle(order, N, &state);

	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (i = 0; i < N; i++)
		itree_insert(&t, &pool[i].node);
	insert_s = seconds_since(&begin);
	assert_int_equal(t.count, N);
	assert_true(itree_check(&t));

	clock_gettime(CLOCK_MONOTONIC, &begin);
	found = 0;
	for (i = 0; i < N / 10; i++) {
		uint64_t point = random_below(&state, 1ull << 40);

		n = itree_iter_first(&t, point, point);
		found += n != NULL;
	}
	query_s = seconds_since(&begin);
	assert_true(found > 0);

	/* Every span of the whole space, against the sort-and-merge model. */
	expected = calloc(2 * N + 1, sizeof(*expected));
	assert_non_null(expected);
	nexpected = model_spans(pools, npool, 0, UINT64_MAX, expected);
	clock_gettime(CLOCK_MONOTONIC, &begin);
	nspans = 0;
	for (itree_span_first(&s, &t, NULL, 0, UINT64_MAX);
	     !itree_span_done(&s); itree_span_next(&s)) {
		assert_true(nspans < nexpected);
		assert_true(s.is_hole == expected[nspans].is_hole &&
			    s.span_start == expected[nspans].start &&
			    s.span_last == expected[nspans].last);
		nspans++;
	}
	walk_s = seconds_since(&begin);
	assert_int_equal(nspans, nexpected);
	free(expected);

	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (i = 0; i < N; i++)
		itree_remove(&t, &order[i]->node);
	remove_s = seconds_since(&begin);
	assert_null(t.root);
	assert_true(itree_check(&t));
	random_cost = (insert_s + remove_s) * 1e9 / (2.0 * N);

	/*
	 * A million adjacent areas, inserted in ascending order, between two
	 * reserved ranges: the span walk must be three steps, and each step
	 * must not visit the areas one by one.
	 */
	for (i = 0; i < N; i++) {
		pool[i].node.start = (uint64_t)i * PAGE;
		pool[i].node.last = (uint64_t)i * PAGE + PAGE - 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (i = 0; i < N; i++)
		itree_insert(&t, &pool[i].node);
	adjacent_insert_s = seconds_since(&begin);
	assert_int_equal(t.count, N);
	itree_remove(&t, &pool[N / 2].node);
	itree_insert(&reserved_tree, &reserved[0].node);
	itree_insert(&reserved_tree, &reserved[1].node);

	clock_gettime(CLOCK_MONOTONIC, &begin);
	itree_span_first(&s, &reserved_tree, &t, 0, UINT64_MAX);
	assert_true(!s.is_hole && s.span_start == 0);
	assert_true(s.span_last == (uint64_t)(N / 2) * PAGE - 1);
	itree_span_next(&s);
	assert_true(s.is_hole && s.span_last - s.span_start == PAGE - 1);
	itree_span_next(&s);
	assert_true(!s.is_hole && s.span_last == UINT64_MAX);
	itree_span_next(&s);
	assert_true(itree_span_done(&s));
	span_s = seconds_since(&begin);

	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (i = 0; i < N; i++)
		if (i != N / 2)
			itree_remove(&t, &pool[i].node);
	adjacent_remove_s = seconds_since(&begin);
	assert_null(t.root);

	print_message("# 1M random ranges: insert %.3fs, remove %.3fs; "
		      "100k point queries %.3fs; %zu spans walked in %.3fs\n",
		      insert_s, remove_s, query_s, nspans, walk_s);
	print_message("# 1M adjacent areas: insert %.3fs, remove %.3fs; "
		      "3-step span walk %.6fs\n",
		      adjacent_insert_s, adjacent_remove_s, span_s);
	print_message("# whole 1M test, with model and itree_check: %.3fs\n",
		      seconds_since(&test_begin));
	/* Loose enough for sanitizers; a linear step would take hours. */
	assert_true(insert_s + remove_s < 30.0);
	assert_true(span_s < 0.1);

	/* Growth here is cache misses, not the algorithm. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		print_message(
			"# %7zu random nodes: %.0f ns per insert/remove\n",
			sizes[i],
			insert_remove_cost(pool, order, sizes[i], &state));
	print_message("# %7d random nodes: %.0f ns per insert/remove\n", N,
		      random_cost);

	free(order);
	free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_tree),
		cmocka_unit_test(test_extreme_ranges),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_sorted_insertion),
		cmocka_unit_test(test_random_small_universe),
		cmocka_unit_test(test_random_edges),
		cmocka_unit_test(test_spans_one_tree),
		cmocka_unit_test(test_spans_two_trees),
		cmocka_unit_test(test_spans_merge_across_trees),
		cmocka_unit_test(test_validator_catches_damage),
		cmocka_unit_test(test_scale_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
