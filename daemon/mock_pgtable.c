// SPDX-License-Identifier: MIT
/*
 * Sparse radix tree for the mock IOMMU page table.
 *
 * An IOVA is split into a 2 KiB page index (53 bits) and an offset. The index
 * is consumed 9 bits per level: a leaf holds 512 entries and so covers exactly
 * one 1 MiB-aligned MiB, which makes a 1 MiB IOPTE fill exactly one leaf. Five
 * inner levels above it cover the remaining 44 bits (45 available). Nodes are
 * allocated on first use and freed as soon as they become empty, so memory
 * follows what is mapped, wherever in the 64-bit space that is.
 *
 * Invariant: every node reachable from the root is non-empty. Walks rely on it
 * (a present leaf means there is something to look at) and so do the error
 * paths (undoing what a failed map wrote also frees exactly the nodes it
 * created).
 */
#include <errno.h>
#include <stdlib.h>

#include "fail_nth.h"
#include "mock_pgtable.h"

#define PT_PAGE_SHIFT 11
#define PT_BITS 9
#define PT_FANOUT (1u << PT_BITS)
#define PT_MASK ((uint64_t)PT_FANOUT - 1)
/* Inner levels are 1 .. PT_TOP; level 0 is the leaf. */
#define PT_TOP 5
#define PT_INDEX_BITS (64 - PT_PAGE_SHIFT)
/* One past the last page index: no index computation here can wrap. */
#define PT_INDEX_END (1ULL << PT_INDEX_BITS)

_Static_assert(MOCK_IO_PAGE_SIZE == 1ULL << PT_PAGE_SHIFT, "page shift");
_Static_assert(MOCK_HUGE_PAGE_SIZE == MOCK_IO_PAGE_SIZE * PT_FANOUT,
	       "a huge IOPTE must be exactly one leaf");
_Static_assert((PT_TOP + 1) * PT_BITS >= PT_INDEX_BITS,
	       "the tree must cover the whole IOVA space");

/*
 * Entry layout: physical page number (paddr / 2048, at most 53 bits) above
 * bit 8, MOCK_PT_* flags below, and a present bit so that physical address 0
 * with no permissions is still a valid mapping.
 */
#define PT_ENT_PRESENT (1u << 7)
#define PT_ENT_FLAGS_SHIFT 8
#define PT_ENT_FLAGS ((uint64_t)PT_ENT_PRESENT - 1)
#define PT_ENT_SMALL_DIRTY_MASK (PT_ENT_PRESENT | MOCK_PT_HUGE | MOCK_PT_DIRTY)
#define PT_ENT_SMALL_DIRTY (PT_ENT_PRESENT | MOCK_PT_DIRTY)

struct pt_leaf {
	uint32_t nr; /* present entries */
	uint32_t nr_huge; /* of which MOCK_PT_HUGE */
	/*
	 * Dirty bit of the 1 MiB IOPTE in this leaf. A leaf spans exactly one
	 * aligned MiB, so it holds at most one huge IOPTE, and keeping its bit
	 * here makes setting, reading and clearing it O(1) rather than 512
	 * entry updates. Only meaningful while nr_huge != 0; a new huge
	 * IOPTE needs an empty, hence freshly allocated, leaf.
	 */
	bool huge_dirty;
	uint64_t ent[PT_FANOUT];
};

struct pt_inner {
	uint32_t nr; /* non-NULL slots */
	void *slot[PT_FANOUT];
};

struct mock_pgtable {
	struct pt_inner *root; /* level PT_TOP, NULL when empty */
	uint64_t nr_entries;
	uint64_t nr_nodes;
};

/* The inner nodes visited on the way to one leaf, indexed by level. */
struct pt_path {
	struct pt_inner *inner[PT_TOP + 1];
};

static unsigned int pt_slot(uint64_t idx, unsigned int level)
{
	return (idx >> (level * PT_BITS)) & PT_MASK;
}

static uint64_t pt_ent_pfn(uint64_t ent)
{
	return ent >> PT_ENT_FLAGS_SHIFT;
}

static unsigned int pt_ent_flags(const struct pt_leaf *leaf, uint64_t ent)
{
	unsigned int flags = ent & PT_ENT_FLAGS;

	if ((ent & MOCK_PT_HUGE) && leaf->huge_dirty)
		flags |= MOCK_PT_DIRTY;
	return flags;
}

/*
 * Turn [iova, iova + len) into inclusive page indices. A range that would
 * run past 2^64 is cut at the end of the space rather than rejected: callers
 * that care about overflow check it themselves, and a walk over "everything
 * from here" is a natural thing to ask for.
 */
static bool pt_range(uint64_t iova, uint64_t len, uint64_t *first,
		     uint64_t *last)
{
	uint64_t end;

	if (!len)
		return false;
	if (len - 1 > UINT64_MAX - iova)
		end = UINT64_MAX;
	else
		end = iova + len - 1;
	*first = iova >> PT_PAGE_SHIFT;
	*last = end >> PT_PAGE_SHIFT;
	return true;
}

/* Last index of the leaf holding @idx, but not beyond @last. */
static uint64_t pt_leaf_last(uint64_t idx, uint64_t last)
{
	uint64_t leaf_last = idx | PT_MASK;

	return leaf_last < last ? leaf_last : last;
}

/*
 * Find the leaf that holds @idx, recording the inner nodes in @path. When
 * there is none, *next is the first index that might be present: the start
 * of the first subtree after the missing one, which lets walks skip a hole of
 * any size in one step.
 */
static struct pt_leaf *pt_find_leaf(const struct mock_pgtable *pt, uint64_t idx,
				    struct pt_path *path, uint64_t *next)
{
	struct pt_inner *node = pt->root;
	unsigned int level;

	if (!node) {
		*next = PT_INDEX_END;
		return NULL;
	}
	for (level = PT_TOP;; level--) {
		void *child = node->slot[pt_slot(idx, level)];

		path->inner[level] = node;
		if (!child) {
			unsigned int shift = level * PT_BITS;

			*next = ((idx >> shift) + 1) << shift;
			return NULL;
		}
		if (level == 1)
			return child;
		node = child;
	}
}

static void *pt_node_alloc(struct mock_pgtable *pt, size_t size)
{
	void *node = fail_nth_calloc(1, size, "io page table node");

	if (node)
		pt->nr_nodes++;
	return node;
}

static void pt_node_free(struct mock_pgtable *pt, void *node)
{
	free(node);
	pt->nr_nodes--;
}

/*
 * Free the inner node at @level on the path to @idx if it is empty, then its
 * parent if that became empty, and so on up to the root.
 */
static void pt_prune_inner(struct mock_pgtable *pt, struct pt_path *path,
			   uint64_t idx, unsigned int level)
{
	for (; level <= PT_TOP; level++) {
		struct pt_inner *node = path->inner[level];

		if (node->nr)
			return;
		pt_node_free(pt, node);
		if (level == PT_TOP) {
			pt->root = NULL;
		} else {
			struct pt_inner *parent = path->inner[level + 1];

			parent->slot[pt_slot(idx, level + 1)] = NULL;
			parent->nr--;
		}
	}
}

static void pt_prune_leaf(struct mock_pgtable *pt, struct pt_path *path,
			  uint64_t idx, struct pt_leaf *leaf)
{
	struct pt_inner *parent = path->inner[1];

	if (leaf->nr)
		return;
	pt_node_free(pt, leaf);
	parent->slot[pt_slot(idx, 1)] = NULL;
	parent->nr--;
	pt_prune_inner(pt, path, idx, 1);
}

/*
 * Find or create the leaf for @idx. On allocation failure the nodes created
 * on the way are freed again, so the tree keeps its no-empty-node invariant.
 */
static struct pt_leaf *pt_get_leaf(struct mock_pgtable *pt, uint64_t idx,
				   struct pt_path *path)
{
	struct pt_inner *node;
	unsigned int level;

	if (!pt->root) {
		pt->root = pt_node_alloc(pt, sizeof(struct pt_inner));
		if (!pt->root)
			return NULL;
	}
	node = pt->root;
	for (level = PT_TOP;; level--) {
		void **slot = &node->slot[pt_slot(idx, level)];

		path->inner[level] = node;
		if (!*slot) {
			size_t size = level == 1 ? sizeof(struct pt_leaf) :
						   sizeof(struct pt_inner);

			*slot = pt_node_alloc(pt, size);
			if (!*slot) {
				pt_prune_inner(pt, path, idx, level);
				return NULL;
			}
			node->nr++;
		}
		if (level == 1)
			return *slot;
		node = *slot;
	}
}

/*
 * Clear the present entries in [first, last]. With @stop_at_hole, stop at the
 * first missing entry instead of skipping it. Returns the number cleared.
 */
static uint64_t pt_clear(struct mock_pgtable *pt, uint64_t first, uint64_t last,
			 bool stop_at_hole)
{
	uint64_t idx = first, cleared = 0;
	bool hole = false;

	while (idx <= last && !hole) {
		uint64_t leaf_idx = idx, leaf_last = pt_leaf_last(idx, last);
		struct pt_path path;
		struct pt_leaf *leaf;
		uint64_t next;

		leaf = pt_find_leaf(pt, idx, &path, &next);
		if (!leaf) {
			if (stop_at_hole)
				break;
			idx = next;
			continue;
		}
		for (; idx <= leaf_last; idx++) {
			uint64_t *ent = &leaf->ent[idx & PT_MASK];

			if (!(*ent & PT_ENT_PRESENT)) {
				if (stop_at_hole) {
					hole = true;
					break;
				}
				continue;
			}
			if (*ent & MOCK_PT_HUGE)
				leaf->nr_huge--;
			*ent = 0;
			leaf->nr--;
			cleared++;
		}
		pt_prune_leaf(pt, &path, leaf_idx, leaf);
	}
	pt->nr_entries -= cleared;
	return cleared;
}

static bool pt_any_present(const struct mock_pgtable *pt, uint64_t first,
			   uint64_t last)
{
	uint64_t idx = first;

	while (idx <= last) {
		uint64_t leaf_last = pt_leaf_last(idx, last);
		struct pt_path path;
		struct pt_leaf *leaf;
		uint64_t next;

		leaf = pt_find_leaf(pt, idx, &path, &next);
		if (!leaf) {
			idx = next;
			continue;
		}
		for (; idx <= leaf_last; idx++) {
			if (leaf->ent[idx & PT_MASK] & PT_ENT_PRESENT)
				return true;
		}
	}
	return false;
}

struct mock_pgtable *mock_pgtable_new(void)
{
	return calloc(1, sizeof(struct mock_pgtable));
}

static void pt_free_subtree(struct pt_inner *node, unsigned int level)
{
	unsigned int i;

	for (i = 0; i < PT_FANOUT && node->nr; i++) {
		if (!node->slot[i])
			continue;
		if (level > 1)
			pt_free_subtree(node->slot[i], level - 1);
		else
			free(node->slot[i]);
		node->nr--;
	}
	free(node);
}

void mock_pgtable_free(struct mock_pgtable *pt)
{
	if (!pt)
		return;
	if (pt->root)
		pt_free_subtree(pt->root, PT_TOP);
	free(pt);
}

int mock_pgtable_map(struct mock_pgtable *pt, uint64_t iova, uint64_t paddr,
		     uint64_t len, uint64_t pgsize, unsigned int prot)
{
	uint64_t first, last, idx, pfn, flags;

	if (pgsize != MOCK_IO_PAGE_SIZE && pgsize != MOCK_HUGE_PAGE_SIZE)
		return -EINVAL;
	if (!len || ((iova | paddr | len) & (pgsize - 1)))
		return -EINVAL;
	if (prot & ~(MOCK_PT_READ | MOCK_PT_WRITE))
		return -EINVAL;
	if (len - 1 > UINT64_MAX - iova || len - 1 > UINT64_MAX - paddr)
		return -EOVERFLOW;

	pt_range(iova, len, &first, &last);
	/*
	 * Check everything before writing anything, so that -EEXIST leaves
	 * the table as it was without an undo pass.
	 */
	if (pt_any_present(pt, first, last))
		return -EEXIST;

	flags = PT_ENT_PRESENT | prot;
	if (pgsize == MOCK_HUGE_PAGE_SIZE)
		flags |= MOCK_PT_HUGE;
	pfn = paddr >> PT_PAGE_SHIFT;
	idx = first;
	while (idx <= last) {
		uint64_t leaf_last = pt_leaf_last(idx, last), n;
		struct pt_path path;
		struct pt_leaf *leaf;

		leaf = pt_get_leaf(pt, idx, &path);
		if (!leaf) {
			/* The range was empty, so clearing it restores it. */
			if (idx > first)
				pt_clear(pt, first, idx - 1, false);
			return -ENOMEM;
		}
		n = leaf_last - idx + 1;
		leaf->nr += (uint32_t)n;
		if (flags & MOCK_PT_HUGE)
			leaf->nr_huge += (uint32_t)n;
		pt->nr_entries += n;
		for (; idx <= leaf_last; idx++, pfn++) {
			uint64_t ent = pfn << PT_ENT_FLAGS_SHIFT | flags;

			if (idx == first)
				ent |= MOCK_PT_START;
			if (idx == last)
				ent |= MOCK_PT_LAST;
			leaf->ent[idx & PT_MASK] = ent;
		}
	}
	return 0;
}

uint64_t mock_pgtable_unmap(struct mock_pgtable *pt, uint64_t iova,
			    uint64_t len)
{
	uint64_t first, last;

	if ((iova | len) & (MOCK_IO_PAGE_SIZE - 1))
		return 0;
	if (!pt_range(iova, len, &first, &last))
		return 0;
	return pt_clear(pt, first, last, true) * MOCK_IO_PAGE_SIZE;
}

/* The leaf and slot of a present entry, or NULL. */
static uint64_t *pt_find_ent(const struct mock_pgtable *pt, uint64_t iova,
			     struct pt_leaf **leafp)
{
	uint64_t idx = iova >> PT_PAGE_SHIFT, next, *ent;
	struct pt_path path;
	struct pt_leaf *leaf;

	leaf = pt_find_leaf(pt, idx, &path, &next);
	if (!leaf)
		return NULL;
	ent = &leaf->ent[idx & PT_MASK];
	if (!(*ent & PT_ENT_PRESENT))
		return NULL;
	*leafp = leaf;
	return ent;
}

int mock_pgtable_lookup(const struct mock_pgtable *pt, uint64_t iova,
			uint64_t *paddr, unsigned int *flags)
{
	struct pt_leaf *leaf;
	uint64_t *ent;

	ent = pt_find_ent(pt, iova, &leaf);
	if (!ent)
		return -ENOENT;
	if (paddr)
		*paddr = pt_ent_pfn(*ent) << PT_PAGE_SHIFT |
			 (iova & (MOCK_IO_PAGE_SIZE - 1));
	if (flags)
		*flags = pt_ent_flags(leaf, *ent);
	return 0;
}

int mock_pgtable_set_dirty(struct mock_pgtable *pt, uint64_t iova)
{
	struct pt_leaf *leaf;
	uint64_t *ent;

	ent = pt_find_ent(pt, iova, &leaf);
	if (!ent)
		return -ENOENT;
	if (*ent & MOCK_PT_HUGE)
		leaf->huge_dirty = true;
	else
		*ent |= MOCK_PT_DIRTY;
	return 0;
}

/* Whether any entry of @leaf in [idx, last] belongs to its huge IOPTE. */
static bool pt_any_huge(const struct pt_leaf *leaf, uint64_t idx, uint64_t last)
{
	for (; idx <= last; idx++) {
		if (leaf->ent[idx & PT_MASK] & MOCK_PT_HUGE)
			return true;
	}
	return false;
}

int mock_pgtable_read_and_clear_dirty(struct mock_pgtable *pt, uint64_t iova,
				      uint64_t len, bool keep,
				      mock_pgtable_dirty_fn fn, void *arg)
{
	uint64_t first, last, idx;

	if (!pt_range(iova, len, &first, &last))
		return 0;
	idx = first;
	while (idx <= last) {
		uint64_t leaf_last = pt_leaf_last(idx, last), next;
		struct pt_path path;
		struct pt_leaf *leaf;

		leaf = pt_find_leaf(pt, idx, &path, &next);
		if (!leaf) {
			idx = next;
			continue;
		}
		/* The common all-huge leaf needs no scan at all. */
		if (leaf->nr_huge == PT_FANOUT) {
			if (leaf->huge_dirty) {
				fn(arg, (idx & ~PT_MASK) << PT_PAGE_SHIFT,
				   MOCK_HUGE_PAGE_SIZE);
				leaf->huge_dirty = keep;
			}
			idx = leaf_last + 1;
			continue;
		}
		/*
		 * A leaf can mix the remains of a partly unmapped huge IOPTE
		 * with 2 KiB IOPTEs mapped into the gap. The huge IOPTE starts
		 * at the leaf's base, so reporting it before the small ones
		 * keeps the callbacks in IOVA order.
		 */
		if (leaf->nr_huge && leaf->huge_dirty &&
		    pt_any_huge(leaf, idx, leaf_last)) {
			fn(arg, (idx & ~PT_MASK) << PT_PAGE_SHIFT,
			   MOCK_HUGE_PAGE_SIZE);
			leaf->huge_dirty = keep;
		}
		for (; idx <= leaf_last; idx++) {
			uint64_t *ent = &leaf->ent[idx & PT_MASK];

			/* Present, dirty and not part of the huge IOPTE. */
			if ((*ent & PT_ENT_SMALL_DIRTY_MASK) !=
			    PT_ENT_SMALL_DIRTY)
				continue;
			fn(arg, idx << PT_PAGE_SHIFT, MOCK_IO_PAGE_SIZE);
			if (!keep)
				*ent &= ~(uint64_t)MOCK_PT_DIRTY;
		}
	}
	return 0;
}

int mock_pgtable_for_each(const struct mock_pgtable *pt, uint64_t iova,
			  uint64_t len, mock_pgtable_entry_fn fn, void *arg)
{
	uint64_t first, last, idx;

	if (!pt_range(iova, len, &first, &last))
		return 0;
	idx = first;
	while (idx <= last) {
		uint64_t leaf_last = pt_leaf_last(idx, last), next;
		struct pt_path path;
		struct pt_leaf *leaf;

		leaf = pt_find_leaf(pt, idx, &path, &next);
		if (!leaf) {
			idx = next;
			continue;
		}
		for (; idx <= leaf_last; idx++) {
			uint64_t ent = leaf->ent[idx & PT_MASK];
			int rc;

			if (!(ent & PT_ENT_PRESENT))
				continue;
			rc = fn(arg, idx << PT_PAGE_SHIFT,
				pt_ent_pfn(ent) << PT_PAGE_SHIFT,
				pt_ent_flags(leaf, ent));
			if (rc)
				return rc;
		}
	}
	return 0;
}

uint64_t mock_pgtable_nr_entries(const struct mock_pgtable *pt)
{
	return pt->nr_entries;
}

uint64_t mock_pgtable_nr_nodes(const struct mock_pgtable *pt)
{
	return pt->nr_nodes;
}
