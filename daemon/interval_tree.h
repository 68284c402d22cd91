/* SPDX-License-Identifier: MIT */
/*
 * Intrusive interval tree over inclusive uint64_t ranges.
 *
 * The io page table keeps IOVA areas, allowed ranges and reserved ranges in
 * these trees, and page storage keeps index ranges in them. Ranges may
 * overlap (reserved ranges from different sources do), so a tree is a
 * multiset ordered by start; nodes with equal starts keep insertion order.
 *
 * It is a red-black tree where every node also summarises its subtree: the
 * highest last (to prune intersection searches) and enough about the holes
 * in the subtree's union to find the first hole after a point in O(log n).
 * The latter is what lets the span iterator step over a run of a million
 * adjacent IOVA areas in one O(log n) step instead of visiting each.
 *
 * The tree does no locking and no allocation; the caller owns both.
 */
#ifndef IOMMUFDD_INTERVAL_TREE_H
#define IOMMUFDD_INTERVAL_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct itree_node {
	uint64_t start;
	uint64_t last; /* inclusive; start <= last */

	/* private: owned by interval_tree.c, do not touch */
	uintptr_t parent_colour; /* parent pointer, low bit set when red */
	struct itree_node *left;
	struct itree_node *right;
	uint64_t subtree_start; /* lowest start in this subtree */
	uint64_t subtree_last; /* highest last in this subtree */
	/*
	 * Looking only at this subtree's nodes, the highest hole in their
	 * union lies just below this value (it is the start of the node that
	 * ends that hole). 0 when the union is one unbroken run: no node
	 * that ends a hole can start at 0.
	 */
	uint64_t subtree_hole_end;
};

struct itree {
	struct itree_node *root;
	size_t count;
};

#define ITREE_INIT \
	{          \
		0  \
	}

/* @n->start and @n->last must be set; @n may overlap nodes already present. */
void itree_insert(struct itree *t, struct itree_node *n);

/* @n must be in @t. Its start and last are left as they were. */
void itree_remove(struct itree *t, struct itree_node *n);

/*
 * The node with the lowest start that intersects [start, last], or NULL.
 * An empty query (start > last) matches nothing.
 */
struct itree_node *itree_iter_first(const struct itree *t, uint64_t start,
				    uint64_t last);

/* The next node after @n in start order that intersects [start, last]. */
struct itree_node *itree_iter_next(const struct itree_node *n, uint64_t start,
				   uint64_t last);

/* The node with the lowest start, or NULL if @t is empty. */
struct itree_node *itree_first(const struct itree *t);

/* In-order successor of @n, or NULL. */
struct itree_node *itree_next(const struct itree_node *n);

/* @ptr must not be NULL. */
#define itree_entry(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* Do not remove @node inside the loop; restart or collect first. */
#define itree_for_each(node, tree, s, l)                \
	for (node = itree_iter_first(tree, s, l); node; \
	     node = itree_iter_next(node, s, l))

/*
 * Walks [start, last] as alternating used and hole spans over the union of
 * one or two trees:
 *
 *	struct itree_span span;
 *
 *	for (itree_span_first(&span, &reserved, &areas, lo, hi);
 *	     !itree_span_done(&span); itree_span_next(&span))
 *		if (span.is_hole) ...
 *
 * Spans are maximal (touching or overlapping nodes give one used span) and
 * together cover [start, last] exactly; used spans are clipped to it. An
 * empty query (start > last) yields no spans. Each step costs O(log n),
 * however many nodes a used span merges, times the number of times a used
 * span alternates between runs of the two trees.
 *
 * The trees must not change while a walk is in progress.
 */
struct itree_span {
	/* in */
	const struct itree *trees[2];
	unsigned int ntrees;
	uint64_t start;
	uint64_t last;

	/* out */
	bool is_hole;
	uint64_t span_start;
	uint64_t span_last;

	/* private: cursor */
	uint64_t next_start; /* where the span after this one begins */
	bool next_is_hole; /* known because spans are maximal */
	bool reached_last; /* the current span ends at @last */
	bool done; /* no current span */
};

/* @a and @b may each be NULL, which means an empty tree. */
void itree_span_first(struct itree_span *s, const struct itree *a,
		      const struct itree *b, uint64_t start, uint64_t last);
bool itree_span_done(const struct itree_span *s);
void itree_span_next(struct itree_span *s);

/*
 * Debug validator for tests: red-black shape, parent links, start order,
 * count and every subtree summary. O(n log n). True when consistent.
 */
bool itree_check(const struct itree *t);

#endif
