// SPDX-License-Identifier: MIT
/*
 * IO page table, the bookkeeping: the area, allowed and reserved interval
 * trees and their walks, the context's budgets, IOVA allocation and the
 * table's IOVA alignment. Creating and removing areas is
 * io_pagetable_map.c; mirroring them into domains is io_pagetable_domain.c.
 * See io_pagetable.h for the invariants these files keep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#include "backend.h"
#include "fail_nth.h"
#include "io_pagetable.h"
#include "io_pagetable_internal.h"
#include "log.h"
#include "pages.h"
#include "user_budget.h"

struct iopt_allowed {
	struct itree_node node;
};

struct iopt_reserved {
	struct itree_node node;
	const void *owner;
};

uint32_t iopt_new_origin(void)
{
	static atomic_uint next_origin;

	return atomic_fetch_add(&next_origin, 1) + 1;
}

struct iopt_area *iopt_area_first(struct io_pagetable *iopt, uint64_t start,
				  uint64_t last)
{
	struct itree_node *node =
		itree_iter_first(&iopt->area_itree, start, last);

	return node ? container_of(node, struct iopt_area, node) : NULL;
}

struct iopt_area *iopt_area_next(struct iopt_area *area, uint64_t start,
				 uint64_t last)
{
	struct itree_node *node = itree_iter_next(&area->node, start, last);

	return node ? container_of(node, struct iopt_area, node) : NULL;
}

static struct iopt_area *contig_set(struct iopt_contig_iter *it,
				    struct iopt_area *area, uint64_t from)
{
	it->area = area;
	if (!area || iopt_area_iova(area) > from)
		return it->area = NULL;
	it->start = from;
	it->last = iopt_area_last_iova(area) < it->range_last ?
			   iopt_area_last_iova(area) :
			   it->range_last;
	return area;
}

struct iopt_area *iopt_contig_first(struct iopt_contig_iter *it,
				    struct io_pagetable *iopt, uint64_t iova,
				    uint64_t last)
{
	it->range_last = last;
	it->covered = false;
	return contig_set(it, iopt_area_first(iopt, iova, last), iova);
}

struct iopt_area *iopt_contig_next(struct iopt_contig_iter *it)
{
	if (it->last == it->range_last) {
		it->covered = true;
		return it->area = NULL;
	}
	return contig_set(it,
			  iopt_area_next(it->area, it->start, it->range_last),
			  it->last + 1);
}

void iopt_init(struct io_pagetable *iopt, struct iopt_budget *budget)
{
	memset(iopt, 0, sizeof(*iopt));
	list_init(&iopt->access_list);
	iopt->iova_alignment = 1;
	iopt->budget = budget;
}

/* One more area, if the context may have it. */
int iopt_budget_area(struct io_pagetable *iopt)
{
	struct iopt_budget *b = iopt->budget;

	if (!b)
		return 0;
	if (b->max_areas && b->areas >= b->max_areas) {
		if (!b->warned)
			log_info(
				"a client reached its limit of %llu IOVA mappings (--max-areas)",
				(unsigned long long)b->max_areas);
		b->warned = true;
		return -ENOMEM;
	}
	if (user_budget_charge(b->user, USER_BUDGET_AREAS, 1))
		return -ENOMEM;
	b->areas++;
	return 0;
}

void iopt_budget_area_free(struct io_pagetable *iopt)
{
	struct iopt_budget *b = iopt->budget;

	if (!b)
		return;
	user_budget_uncharge(b->user, USER_BUDGET_AREAS, 1);
	b->areas--;
}

/* Pin or unpin @n pages for the context, if it may pin them. */
int iopt_budget_pin(struct io_pagetable *iopt, int64_t n)
{
	struct iopt_budget *b = iopt->budget;

	if (!b)
		return 0;
	if (n > 0 && b->max_pinned && b->pinned + (uint64_t)n > b->max_pinned) {
		if (!b->warned)
			log_info(
				"a client reached its limit of %llu pinned pages (--max-pinned)",
				(unsigned long long)b->max_pinned);
		b->warned = true;
		return -ENOMEM;
	}
	b->pinned += (uint64_t)n;
	return 0;
}

static void iopt_free_tree(struct itree *tree, size_t offset)
{
	struct itree_node *node;

	while ((node = itree_first(tree))) {
		itree_remove(tree, node);
		free((char *)node - offset);
	}
}

void iopt_destroy(struct io_pagetable *iopt)
{
	uint64_t unmapped;

	/* Domains and accesses are gone by now: their objects held the IOAS. */
	iopt_unmap_all(iopt, &unmapped);
	iopt_free_tree(&iopt->allowed_itree,
		       offsetof(struct iopt_allowed, node));
	iopt_free_tree(&iopt->reserved_itree,
		       offsetof(struct iopt_reserved, node));
	free(iopt->domains);
}

static uint64_t domain_min_page(const struct iommu_domain *domain)
{
	return domain->pgsize_bitmap & -domain->pgsize_bitmap;
}

uint64_t iopt_calc_alignment(const struct io_pagetable *iopt,
			     const struct iommu_domain *extra,
			     bool extra_access)
{
	uint64_t align = iopt->disable_large_pages ? PAGE_SIZE : 1;
	unsigned int i;

	for (i = 0; i < iopt->ndomains; i++)
		if (domain_min_page(iopt->domains[i]) > align)
			align = domain_min_page(iopt->domains[i]);
	if (extra && domain_min_page(extra) > align)
		align = domain_min_page(extra);
	if ((iopt->nr_pinning_accesses || extra_access) && align < PAGE_SIZE)
		align = PAGE_SIZE;
	return align;
}

/* Raising the alignment is only allowed if every area already meets it. */
int iopt_check_area_alignment(struct io_pagetable *iopt, uint64_t align)
{
	struct iopt_area *area;

	for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
	     area = iopt_area_next(area, 0, UINT64_MAX)) {
		if (!IS_ALIGNED_U64(iopt_area_iova(area), align) ||
		    !IS_ALIGNED_U64(iopt_area_length(area), align) ||
		    !IS_ALIGNED_U64(area->start_byte % PAGE_SIZE, align))
			return -EADDRINUSE;
	}
	return 0;
}

/* ---- IOVA allocation ----------------------------------------------- */

/*
 * The candidate start for a hole beginning at @start: aligned up, with the
 * source's offset inside its page, so the IOVA and the memory share it.
 */
static bool alloc_fits(uint64_t *start, uint64_t last, uint64_t length,
		       uint64_t align, uint64_t page_offset)
{
	uint64_t s;

	if (check_add_overflow_u64(*start, align - 1, &s))
		return false;
	s = ALIGN_DOWN_U64(s, align) | page_offset;
	if (s >= last || last - s < length - 1)
		return false;
	*start = s;
	return true;
}

/* First fit in [wstart, wlast], skipping reserved IOVA and existing areas. */
static bool alloc_in_window(struct io_pagetable *iopt, uint64_t *iova,
			    uint64_t wstart, uint64_t wlast, uint64_t length,
			    uint64_t align, uint64_t page_offset)
{
	uint64_t s = wstart;
	struct itree_span used;

	if (!alloc_fits(&s, wlast, length, align, page_offset))
		return false;
	for (itree_span_first(&used, &iopt->reserved_itree, &iopt->area_itree,
			      wstart, wlast);
	     !itree_span_done(&used); itree_span_next(&used)) {
		s = used.span_start;
		if (used.is_hole && alloc_fits(&s, used.span_last, length,
					       align, page_offset)) {
			*iova = s;
			return true;
		}
	}
	return false;
}

int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova, uint64_t addr,
		    uint64_t length)
{
	const uint64_t first = PAGE_SIZE, last = UINT64_MAX - PAGE_SIZE;
	uint64_t page_offset = addr % PAGE_SIZE, align;
	struct itree_span allowed;

	if (!length || length >= UINT64_MAX / 2)
		return -EOVERFLOW;

	align = roundup_pow_of_two_u64(length);
	if (addr && (1ULL << __builtin_ctzll(addr)) < align)
		align = 1ULL << __builtin_ctzll(addr);
	if (align >= HPAGE_SIZE)
		align = HPAGE_SIZE;
	if (align < iopt->iova_alignment)
		return -EINVAL;

	/* IOVA 0 is never handed out; nor is the last page. */
	if (!iopt->allowed_itree.count)
		return alloc_in_window(iopt, iova, first, last, length, align,
				       page_offset) ?
			       0 :
			       -ENOSPC;
	for (itree_span_first(&allowed, &iopt->allowed_itree, NULL, first,
			      last);
	     !itree_span_done(&allowed); itree_span_next(&allowed)) {
		if (!allowed.is_hole &&
		    alloc_in_window(iopt, iova, allowed.span_start,
				    allowed.span_last, length, align,
				    page_offset))
			return 0;
	}
	return -ENOSPC;
}

int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova % iopt->iova_alignment)
		return -EINVAL;
	if (check_add_overflow_u64(iova, length - 1, &last))
		return -EOVERFLOW;
	if (itree_iter_first(&iopt->reserved_itree, iova, last))
		return -EINVAL;
	if (itree_iter_first(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

/* ---- allowed and reserved IOVA ------------------------------------ */

/* The budget's ranges check for one more range in @iopt. */
static int budget_ranges(struct io_pagetable *iopt, size_t more)
{
	struct iopt_budget *b = iopt->budget;

	if (!b || !b->max_ranges ||
	    iopt->reserved_itree.count + more <= b->max_ranges)
		return 0;
	if (!b->warned)
		log_info(
			"an IOAS reached the limit of %u IOVA ranges per IOAS (--max-iova-ranges)",
			b->max_ranges);
	b->warned = true;
	return -ENOMEM;
}

void iopt_allowed_begin(struct iopt_allowed_set *set, struct io_pagetable *iopt)
{
	memset(set, 0, sizeof(*set));
	set->iopt = iopt;
}

int iopt_allowed_add(struct iopt_allowed_set *set, uint64_t start,
		     uint64_t last)
{
	struct iopt_allowed *allowed;
	int ret;

	if (start >= last || itree_iter_first(&set->tree, start, last))
		return -EINVAL;
	ret = budget_ranges(set->iopt, set->tree.count + 1);
	if (ret)
		return ret;
	allowed = fail_nth_calloc(1, sizeof(*allowed), "allowed range");
	if (!allowed)
		return -ENOMEM;
	allowed->node.start = start;
	allowed->node.last = last;
	itree_insert(&set->tree, &allowed->node);
	return 0;
}

void iopt_allowed_abort(struct iopt_allowed_set *set)
{
	iopt_free_tree(&set->tree, offsetof(struct iopt_allowed, node));
}

int iopt_allowed_commit(struct iopt_allowed_set *set)
{
	struct io_pagetable *iopt = set->iopt;
	struct itree old;
	struct itree_node *n;

	for (n = itree_first(&set->tree); n; n = itree_next(n)) {
		if (itree_iter_first(&iopt->reserved_itree, n->start,
				     n->last)) {
			iopt_allowed_abort(set);
			return -EADDRINUSE;
		}
	}
	old = iopt->allowed_itree;
	iopt->allowed_itree = set->tree;
	memset(&set->tree, 0, sizeof(set->tree));
	iopt_free_tree(&old, offsetof(struct iopt_allowed, node));
	return 0;
}

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last,
		      const void *owner)
{
	struct iopt_reserved *reserved;

	if (itree_iter_first(&iopt->area_itree, start, last) ||
	    itree_iter_first(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	if (budget_ranges(iopt, iopt->allowed_itree.count + 1))
		return -ENOMEM;
	reserved = fail_nth_calloc(1, sizeof(*reserved), "reserved range");
	if (!reserved)
		return -ENOMEM;
	reserved->node.start = start;
	reserved->node.last = last;
	reserved->owner = owner;
	itree_insert(&iopt->reserved_itree, &reserved->node);
	return 0;
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner)
{
	struct itree_node *node = itree_first(&iopt->reserved_itree), *next;

	for (; node; node = next) {
		struct iopt_reserved *reserved =
			container_of(node, struct iopt_reserved, node);

		next = itree_next(node);
		if (reserved->owner == owner) {
			itree_remove(&iopt->reserved_itree, node);
			free(reserved);
		}
	}
}

/* ---- alignment changes ------------------------------------------ */

int iopt_disable_large_pages(struct io_pagetable *iopt)
{
	uint64_t align;
	int ret;

	if (iopt->disable_large_pages)
		return 0;
	/* Existing domain mappings may already use large IOPTEs. */
	if (iopt->ndomains && iopt->area_itree.count)
		return -EINVAL;
	iopt->disable_large_pages = true;
	align = iopt_calc_alignment(iopt, NULL, false);
	if (align != iopt->iova_alignment) {
		ret = iopt_check_area_alignment(iopt, align);
		if (ret) {
			iopt->disable_large_pages = false;
			return ret;
		}
		iopt->iova_alignment = align;
	}
	return 0;
}

void iopt_enable_large_pages(struct io_pagetable *iopt)
{
	iopt->disable_large_pages = false;
	iopt->iova_alignment = iopt_calc_alignment(iopt, NULL, false);
}

int iopt_add_pinning_access(struct io_pagetable *iopt)
{
	uint64_t align = iopt_calc_alignment(iopt, NULL, true);
	int ret;

	if (align != iopt->iova_alignment) {
		ret = iopt_check_area_alignment(iopt, align);
		if (ret)
			return ret;
	}
	iopt->nr_pinning_accesses++;
	iopt->iova_alignment = align;
	return 0;
}

void iopt_remove_pinning_access(struct io_pagetable *iopt)
{
	iopt->nr_pinning_accesses--;
	iopt->iova_alignment = iopt_calc_alignment(iopt, NULL, false);
}

/* ---- byte access -------------------------------------------------- */

int iopt_rw(struct io_pagetable *iopt, uint64_t iova, void *data,
	    uint64_t length, bool write)
{
	struct iopt_contig_iter it;
	struct iopt_area *area;
	uint64_t last;
	int ret;

	ret = range_last(iova, length, &last);
	if (ret)
		return ret;

	for (area = iopt_contig_first(&it, iopt, iova, last); area;
	     area = iopt_contig_next(&it)) {
		uint64_t n = it.last - it.start + 1;

		if (area->prevent_access)
			return -EINVAL;
		if (write && !(area->iommu_prot & IOMMU_WRITE))
			return -EPERM;
		ret = iopt_pages_rw(area->pages, iopt_area_byte(area, it.start),
				    data, n, write);
		if (ret)
			return ret;
		data = (char *)data + n;
	}
	return it.covered ? 0 : -ENOENT;
}
