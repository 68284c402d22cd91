// SPDX-License-Identifier: MIT
/*
 * Red-black interval tree, written from the textbook rules: every path from
 * a node down to a leaf passes the same number of black nodes, and a red node
 * never has a red child. That keeps the height under 2 * log2(n + 1).
 *
 * Every node carries a summary of its subtree (interval_tree.h). A summary is
 * a function of the subtree's nodes in start order only, so a rotation leaves
 * the summary at the top of the rotated subtree unchanged and only the two
 * rotated nodes need recomputing. When a node is linked or unlinked, the
 * path above it is recomputed until a summary comes out unchanged: above
 * that point nothing differs. That stop matters more than it looks, since
 * each recomputation reads the sibling off the path, a cache miss in a big
 * tree, and most changes are invisible a few levels up.
 */
#include <assert.h>

#include "interval_tree.h"

/*
 * Upper bound on tree height: 2 * log2(n + 1) with n < 2^64. Bounds the
 * explicit stack of the hole search and the validator's recursion.
 */
#define ITREE_MAX_HEIGHT 128

#define ITREE_RED ((uintptr_t)1)

static inline struct itree_node *node_parent(const struct itree_node *n)
{
	return (struct itree_node *)(n->parent_colour & ~ITREE_RED);
}

static inline void node_set_parent(struct itree_node *n, struct itree_node *p)
{
	n->parent_colour = (uintptr_t)p | (n->parent_colour & ITREE_RED);
}

/* A missing child is a black leaf. */
static inline bool node_is_red(const struct itree_node *n)
{
	return n && (n->parent_colour & ITREE_RED);
}

static inline void node_set_red(struct itree_node *n, bool red)
{
	if (red)
		n->parent_colour |= ITREE_RED;
	else
		n->parent_colour &= ~ITREE_RED;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * True when everything up to @reach is covered, the next node starts at
 * @next_start and at least one point lies between them. Written to stay
 * correct for reach == UINT64_MAX.
 */
static inline bool leaves_hole(uint64_t reach, uint64_t next_start)
{
	return next_start > reach && next_start - reach > 1;
}

/* Returns whether the summary changed. */
static bool node_update_summary(struct itree_node *n)
{
	const struct itree_node *l = n->left;
	const struct itree_node *r = n->right;
	uint64_t start = n->start;
	uint64_t reach = n->last;
	uint64_t hole_end = 0;

	if (l) {
		start = l->subtree_start;
		hole_end = l->subtree_hole_end;
		if (leaves_hole(l->subtree_last, n->start))
			hole_end = n->start;
		reach = max_u64(reach, l->subtree_last);
	}
	/*
	 * Holes inside the right subtree survive only if they reach above
	 * everything before them; any that survives is higher than the ones
	 * on the left, and the highest survives if any does.
	 */
	if (r) {
		if (leaves_hole(reach, r->subtree_hole_end))
			hole_end = r->subtree_hole_end;
		else if (leaves_hole(reach, r->subtree_start))
			hole_end = r->subtree_start;
		reach = max_u64(reach, r->subtree_last);
	}
	if (n->subtree_start == start && n->subtree_last == reach &&
	    n->subtree_hole_end == hole_end)
		return false;
	n->subtree_start = start;
	n->subtree_last = reach;
	n->subtree_hole_end = hole_end;
	return true;
}

/*
 * Recomputes summaries from @n towards the root. @relinked, if any, is a node
 * moved up into another's place: what it stores describes its old subtree, so
 * the walk must get to it whatever happens below. From its parent on, an
 * unchanged summary ends the walk.
 */
static void update_summaries_upward(struct itree_node *n,
				    const struct itree_node *relinked)
{
	bool past_relinked = !relinked;

	for (; n; n = node_parent(n)) {
		if (!node_update_summary(n) && past_relinked)
			break;
		if (n == relinked)
			past_relinked = true;
	}
}

static void replace_child(struct itree *t, struct itree_node *parent,
			  struct itree_node *old, struct itree_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/* @x's right child takes @x's place and @x becomes its left child. */
static void rotate_left(struct itree *t, struct itree_node *x)
{
	struct itree_node *y = x->right;
	struct itree_node *parent = node_parent(x);

	x->right = y->left;
	if (y->left)
		node_set_parent(y->left, x);
	y->left = x;
	node_set_parent(y, parent);
	replace_child(t, parent, x, y);
	node_set_parent(x, y);
	node_update_summary(x);
	node_update_summary(y);
}

/* Mirror of rotate_left(). */
static void rotate_right(struct itree *t, struct itree_node *x)
{
	struct itree_node *y = x->left;
	struct itree_node *parent = node_parent(x);

	x->left = y->right;
	if (y->right)
		node_set_parent(y->right, x);
	y->right = x;
	node_set_parent(y, parent);
	replace_child(t, parent, x, y);
	node_set_parent(x, y);
	node_update_summary(x);
	node_update_summary(y);
}

/* @n is red; restore "no red node has a red parent" on the way up. */
static void insert_rebalance(struct itree *t, struct itree_node *n)
{
	struct itree_node *parent;

	while ((parent = node_parent(n)) && node_is_red(parent)) {
		/* A red node is never the root, so it has a parent. */
		struct itree_node *grandparent = node_parent(parent);
		struct itree_node *uncle;

		if (parent == grandparent->left) {
			uncle = grandparent->right;
			if (node_is_red(uncle)) {
				/* Push the red up two levels and retry there. */
				node_set_red(parent, false);
				node_set_red(uncle, false);
				node_set_red(grandparent, true);
				n = grandparent;
				continue;
			}
			if (n == parent->right) {
				/* Make it an outer child so one rotation fixes it. */
				rotate_left(t, parent);
				n = parent;
				parent = node_parent(n);
			}
			node_set_red(parent, false);
			node_set_red(grandparent, true);
			rotate_right(t, grandparent);
		} else {
			uncle = grandparent->left;
			if (node_is_red(uncle)) {
				node_set_red(parent, false);
				node_set_red(uncle, false);
				node_set_red(grandparent, true);
				n = grandparent;
				continue;
			}
			if (n == parent->left) {
				rotate_right(t, parent);
				n = parent;
				parent = node_parent(n);
			}
			node_set_red(parent, false);
			node_set_red(grandparent, true);
			rotate_left(t, grandparent);
		}
	}
	node_set_red(t->root, false);
}

void itree_insert(struct itree *t, struct itree_node *n)
{
	struct itree_node **link = &t->root;
	struct itree_node *parent = NULL;

	assert(n->start <= n->last);

	/* Equal starts go right, so they come out in insertion order. */
	while (*link) {
		parent = *link;
		link = n->start < parent->start ? &parent->left :
						  &parent->right;
	}
	n->left = NULL;
	n->right = NULL;
	n->parent_colour = (uintptr_t)parent | ITREE_RED;
	*link = n;
	t->count++;

	/* A fresh leaf's summary is its own range; start from its parent. */
	n->subtree_start = n->start;
	n->subtree_last = n->last;
	n->subtree_hole_end = 0;
	update_summaries_upward(parent, NULL);
	insert_rebalance(t, n);
}

/*
 * A black node was unlinked from below @parent, leaving the subtree now at
 * @x (possibly empty) one black short. Borrow from the sibling side or pass
 * the shortage up.
 */
static void remove_rebalance(struct itree *t, struct itree_node *x,
			     struct itree_node *parent)
{
	struct itree_node *sibling;

	while (x != t->root && !node_is_red(x)) {
		/*
		 * The sibling exists: its side holds at least one more black
		 * than the side that is now short.
		 */
		if (x == parent->left) {
			sibling = parent->right;
			if (node_is_red(sibling)) {
				/* Get a black sibling to work with. */
				node_set_red(sibling, false);
				node_set_red(parent, true);
				rotate_left(t, parent);
				sibling = parent->right;
			}
			if (!node_is_red(sibling->left) &&
			    !node_is_red(sibling->right)) {
				/* Shorten the sibling's side too; go up. */
				node_set_red(sibling, true);
				x = parent;
				parent = node_parent(x);
				continue;
			}
			if (!node_is_red(sibling->right)) {
				/* Move the red nephew to the outside. */
				node_set_red(sibling->left, false);
				node_set_red(sibling, true);
				rotate_right(t, sibling);
				sibling = parent->right;
			}
			node_set_red(sibling, node_is_red(parent));
			node_set_red(parent, false);
			node_set_red(sibling->right, false);
			rotate_left(t, parent);
			x = t->root;
		} else {
			sibling = parent->left;
			if (node_is_red(sibling)) {
				node_set_red(sibling, false);
				node_set_red(parent, true);
				rotate_right(t, parent);
				sibling = parent->left;
			}
			if (!node_is_red(sibling->left) &&
			    !node_is_red(sibling->right)) {
				node_set_red(sibling, true);
				x = parent;
				parent = node_parent(x);
				continue;
			}
			if (!node_is_red(sibling->left)) {
				node_set_red(sibling->right, false);
				node_set_red(sibling, true);
				rotate_left(t, sibling);
				sibling = parent->left;
			}
			node_set_red(sibling, node_is_red(parent));
			node_set_red(parent, false);
			node_set_red(sibling->left, false);
			rotate_right(t, parent);
			x = t->root;
		}
	}
	if (x)
		node_set_red(x, false);
}

void itree_remove(struct itree *t, struct itree_node *n)
{
	struct itree_node *parent = node_parent(n);
	struct itree_node *child;
	struct itree_node *relinked = NULL;
	bool removed_red;

	if (!n->left || !n->right) {
		child = n->left ? n->left : n->right;
		removed_red = node_is_red(n);
		replace_child(t, parent, n, child);
		if (child)
			node_set_parent(child, parent);
	} else {
		/*
		 * The tree is intrusive, so rather than moving payloads the
		 * in-order successor is relinked into @n's place, taking its
		 * colour; the hole it leaves has at most a right child.
		 */
		struct itree_node *successor = n->right;

		while (successor->left)
			successor = successor->left;
		removed_red = node_is_red(successor);
		child = successor->right;
		if (node_parent(successor) == n) {
			parent = successor;
		} else {
			parent = node_parent(successor);
			parent->left = child;
			if (child)
				node_set_parent(child, parent);
			successor->right = n->right;
			node_set_parent(n->right, successor);
		}
		successor->left = n->left;
		node_set_parent(n->left, successor);
		successor->parent_colour = n->parent_colour;
		replace_child(t, node_parent(n), n, successor);
		relinked = successor;
	}
	t->count--;

	/* The path up from @parent passes through @successor's new place. */
	update_summaries_upward(parent, relinked);
	if (!removed_red)
		remove_rebalance(t, child, parent);

	n->parent_colour = 0;
	n->left = NULL;
	n->right = NULL;
}

struct itree_node *itree_first(const struct itree *t)
{
	struct itree_node *n = t->root;

	if (n)
		while (n->left)
			n = n->left;
	return n;
}

struct itree_node *itree_next(const struct itree_node *n)
{
	struct itree_node *parent;

	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct itree_node *)n;
	}
	while ((parent = node_parent(n)) && parent->right == n)
		n = parent;
	return parent;
}

/*
 * The first node in start order under @n that intersects [start, last].
 * Requires n->subtree_last >= start, so some node below ends late enough;
 * the first such node is the only candidate, since anything after it starts
 * no earlier.
 */
static struct itree_node *subtree_first_match(struct itree_node *n,
					      uint64_t start, uint64_t last)
{
	for (;;) {
		if (n->left && n->left->subtree_last >= start) {
			n = n->left;
			continue;
		}
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
		n = n->right;
	}
}

struct itree_node *itree_iter_first(const struct itree *t, uint64_t start,
				    uint64_t last)
{
	if (start > last || !t->root || t->root->subtree_last < start)
		return NULL;
	return subtree_first_match(t->root, start, last);
}

struct itree_node *itree_iter_next(const struct itree_node *n, uint64_t start,
				   uint64_t last)
{
	struct itree_node *cur = (struct itree_node *)n;
	struct itree_node *parent;

	if (start > last)
		return NULL;
	for (;;) {
		if (cur->right && cur->right->subtree_last >= start)
			return subtree_first_match(cur->right, start, last);

		/* Climb to the nearest ancestor that comes after @cur. */
		while ((parent = node_parent(cur)) && parent->right == cur)
			cur = parent;
		if (!parent)
			return NULL;
		cur = parent;
		if (cur->start > last)
			return NULL;
		if (cur->last >= start)
			return cur;
	}
}

/*
 * Finds the first hole under @n given that everything up to @reach is
 * covered by nodes before @n. The caller has established that there is one,
 * either before n->subtree_start or within the subtree.
 */
static uint64_t subtree_first_hole(const struct itree_node *n, uint64_t reach)
{
	for (;;) {
		const struct itree_node *l = n->left;

		if (l) {
			if (leaves_hole(reach, l->subtree_start))
				return reach + 1;
			if (leaves_hole(reach, l->subtree_hole_end)) {
				n = l;
				continue;
			}
			reach = max_u64(reach, l->subtree_last);
		}
		if (leaves_hole(reach, n->start))
			return reach + 1;
		reach = max_u64(reach, n->last);
		n = n->right;
		assert(n);
	}
}

/*
 * The lowest point >= @pos that no node of @t covers. False when every
 * point from @pos to UINT64_MAX is covered.
 */
static bool tree_first_hole(const struct itree *t, uint64_t pos, uint64_t *hole)
{
	/* Nodes after @pos: each one, then its right subtree, deepest first. */
	const struct itree_node *after[ITREE_MAX_HEIGHT];
	unsigned int nafter = 0;
	const struct itree_node *n;
	bool covers_pos = false;
	uint64_t reach = 0;

	for (n = t ? t->root : NULL; n;) {
		if (n->start <= pos) {
			/* @n and its left subtree all start at or before @pos. */
			reach = max_u64(reach, n->last);
			if (n->left)
				reach = max_u64(reach, n->left->subtree_last);
			covers_pos = covers_pos || reach >= pos;
			n = n->right;
		} else {
			assert(nafter < ITREE_MAX_HEIGHT);
			after[nafter++] = n;
			n = n->left;
		}
	}
	if (!covers_pos) {
		*hole = pos;
		return true;
	}

	/* Deeper entries come first in start order. */
	while (nafter) {
		n = after[--nafter];
		if (leaves_hole(reach, n->start)) {
			*hole = reach + 1;
			return true;
		}
		reach = max_u64(reach, n->last);
		if (n->right) {
			const struct itree_node *r = n->right;

			if (leaves_hole(reach, r->subtree_start) ||
			    leaves_hole(reach, r->subtree_hole_end)) {
				*hole = subtree_first_hole(r, reach);
				return true;
			}
			reach = max_u64(reach, r->subtree_last);
		}
	}
	if (reach == UINT64_MAX)
		return false;
	*hole = reach + 1;
	return true;
}

/* The node with the lowest start >= @pos in @t, or NULL. */
static const struct itree_node *tree_next_start(const struct itree *t,
						uint64_t pos)
{
	const struct itree_node *n = t ? t->root : NULL;
	const struct itree_node *best = NULL;

	while (n) {
		if (n->start >= pos) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/*
 * Fills in the span that begins at @pos. @known_hole: the span before was
 * used, and since it was maximal, nothing covers @pos.
 */
static void span_from(struct itree_span *s, uint64_t pos, bool known_hole)
{
	uint64_t end = s->last; /* last point of the span */
	uint64_t candidate = pos; /* lowest point that might end a used span */
	bool covered_to_top = false;
	bool is_hole = known_hole;
	unsigned int i, agreeing = 0;

	if (!known_hole) {
		for (i = 0; i < s->ntrees && !covered_to_top; i++) {
			uint64_t hole;

			if (tree_first_hole(s->trees[i], pos, &hole))
				candidate = hole > candidate ? hole : candidate;
			else
				covered_to_top = true;
		}
		is_hole = !covered_to_top && candidate == pos;
	}

	if (is_hole) {
		/* Nothing covers @pos, so whatever comes next starts after it. */
		for (i = 0; i < s->ntrees; i++) {
			const struct itree_node *next =
				tree_next_start(s->trees[i], pos);

			if (next && next->start - 1 < end)
				end = next->start - 1;
		}
	} else if (!covered_to_top && candidate - 1 < end) {
		/*
		 * Find a point neither tree covers: each tree in turn pushes
		 * the candidate up to its own next hole until all agree.
		 */
		for (i = 0; agreeing < s->ntrees; i = (i + 1) % s->ntrees) {
			uint64_t hole;

			if (!tree_first_hole(s->trees[i], candidate, &hole))
				break;
			if (hole != candidate) {
				candidate = hole;
				agreeing = 0;
				if (candidate - 1 >= end)
					break;
			}
			agreeing++;
		}
		if (agreeing == s->ntrees)
			end = candidate - 1;
	}

	s->is_hole = is_hole;
	s->span_start = pos;
	s->span_last = end;
	s->reached_last = end == s->last;
	if (!s->reached_last) {
		s->next_start = end + 1;
		s->next_is_hole = !is_hole;
	}
}

void itree_span_first(struct itree_span *s, const struct itree *a,
		      const struct itree *b, uint64_t start, uint64_t last)
{
	s->ntrees = 0;
	if (a)
		s->trees[s->ntrees++] = a;
	if (b)
		s->trees[s->ntrees++] = b;
	s->start = start;
	s->last = last;
	s->done = start > last;
	if (!s->done)
		span_from(s, start, false);
}

bool itree_span_done(const struct itree_span *s)
{
	return s->done;
}

void itree_span_next(struct itree_span *s)
{
	if (s->done)
		return;
	if (s->reached_last)
		s->done = true;
	else
		span_from(s, s->next_start, s->next_is_hole);
}

struct subtree_scan {
	bool seen_any;
	uint64_t first_start;
	uint64_t reach;
	uint64_t hole_end;
};

/*
 * Recomputes a subtree's summary the slow way, node by node in start order,
 * so the validator does not trust the incremental formula it is checking.
 */
static void scan_in_order(const struct itree_node *n, struct subtree_scan *scan)
{
	if (!n)
		return;
	scan_in_order(n->left, scan);
	if (!scan->seen_any) {
		scan->seen_any = true;
		scan->first_start = n->start;
		scan->reach = n->last;
	} else {
		if (leaves_hole(scan->reach, n->start))
			scan->hole_end = n->start;
		scan->reach = max_u64(scan->reach, n->last);
	}
	scan_in_order(n->right, scan);
}

/* Returns the black height of @n's subtree, or -1 if anything is wrong. */
static int check_subtree(const struct itree_node *n, unsigned int depth)
{
	struct subtree_scan scan = { 0 };
	int left_height, right_height;

	if (!n)
		return 0;
	if (depth >= ITREE_MAX_HEIGHT || n->start > n->last)
		return -1;
	if (n->left && (node_parent(n->left) != n || n->left->start > n->start))
		return -1;
	if (n->right &&
	    (node_parent(n->right) != n || n->right->start < n->start))
		return -1;
	if (node_is_red(n) && (node_is_red(n->left) || node_is_red(n->right)))
		return -1;

	left_height = check_subtree(n->left, depth + 1);
	right_height = check_subtree(n->right, depth + 1);
	if (left_height < 0 || left_height != right_height)
		return -1;

	scan_in_order(n, &scan);
	if (n->subtree_start != scan.first_start ||
	    n->subtree_last != scan.reach ||
	    n->subtree_hole_end != scan.hole_end)
		return -1;

	return left_height + !node_is_red(n);
}

bool itree_check(const struct itree *t)
{
	const struct itree_node *n, *prev = NULL;
	size_t count = 0;

	if (!t->root)
		return t->count == 0;
	if (node_parent(t->root) || node_is_red(t->root))
		return false;
	if (check_subtree(t->root, 0) < 0)
		return false;

	/* Parent-child order only looks one level down; check it globally. */
	for (n = itree_first(t); n; n = itree_next(n)) {
		if (prev && prev->start > n->start)
			return false;
		prev = n;
		count++;
	}
	return count == t->count;
}
