// SPDX-License-Identifier: MIT
/*
 * IO page table: areas, allowed and reserved IOVA, domains. See
 * io_pagetable.h for the invariants this file keeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#include "account.h"
#include "backend.h"
#include "fail_nth.h"
#include "io_pagetable.h"
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

#define UNMAP_MAX_RETRIES 100

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
static int budget_area(struct io_pagetable *iopt)
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

static void budget_area_free(struct io_pagetable *iopt)
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

static uint64_t iopt_calc_alignment(const struct io_pagetable *iopt,
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
static int iopt_check_area_alignment(struct io_pagetable *iopt, uint64_t align)
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

/* ---- domain fill -------------------------------------------------- */

static void area_unmap_domain(struct iopt_area *area,
			      struct iommu_domain *domain, uint64_t end)
{
	if (end > iopt_area_iova(area))
		domain->ops->unmap(domain, iopt_area_iova(area),
				   end - iopt_area_iova(area));
}

/*
 * Map the area's pinned pages into @domain in physically contiguous runs, or
 * a page at a time when large pages are disabled (so areas can be cut).
 */
static int area_map_domain(struct iopt_area *area, struct iommu_domain *domain)
{
	uint64_t iova = iopt_area_iova(area), byte = area->start_byte;
	uint64_t remaining = iopt_area_length(area);

	bool writable = area->iommu_prot & IOMMU_WRITE;

	while (remaining) {
		uint64_t index = byte / PAGE_SIZE, in_page = byte % PAGE_SIZE;
		uint64_t contig, paddr, n;
		int ret;

		paddr = iopt_pages_paddr(area->pages, index, writable, &contig);
		if (area->iopt->disable_large_pages)
			contig = 1;
		n = contig * PAGE_SIZE - in_page;
		if (n > remaining)
			n = remaining;
		ret = domain->ops->map(domain, iova, paddr + in_page, n,
				       area->iommu_prot);
		if (ret) {
			area_unmap_domain(area, domain, iova);
			return ret;
		}
		iova += n;
		byte += n;
		remaining -= n;
	}
	return 0;
}

void iopt_area_pin_user(const struct iopt_area *area, struct pin_user *u)
{
	u->mapper = area->mapper;
	u->needs_live_mapper = area->flags & IOPT_AREA_USER;
	/*
	 * As the kernel's pages remember whether their MAP asked for write
	 * access: a read-only COPY of a writable MAP still pins for writing
	 * (and fails on memory that cannot be written).
	 */
	u->writable = area->flags & IOPT_AREA_PAGES_WRITABLE;
}

static uint64_t area_npages(const struct iopt_area *area)
{
	return iopt_area_last_index(area) - iopt_area_first_index(area) + 1;
}

static int area_pin(struct iopt_area *area)
{
	struct pin_user u;
	int ret;

	ret = iopt_budget_pin(area->iopt, (int64_t)area_npages(area));
	if (ret)
		return ret;
	iopt_area_pin_user(area, &u);
	ret = iopt_pages_pin(area->pages, iopt_area_first_index(area),
			     iopt_area_last_index(area), &u);
	if (ret)
		iopt_budget_pin(area->iopt, -(int64_t)area_npages(area));
	return ret;
}

static void area_unpin(struct iopt_area *area)
{
	struct pin_user u;

	iopt_area_pin_user(area, &u);
	iopt_pages_unpin(area->pages, iopt_area_first_index(area),
			 iopt_area_last_index(area), &u);
	iopt_budget_pin(area->iopt, -(int64_t)area_npages(area));
}

/* A new area goes into every domain of its table, pinning once. */
static int area_fill_domains(struct iopt_area *area)
{
	struct io_pagetable *iopt = area->iopt;
	unsigned int i;
	int ret;

	if (!iopt->ndomains)
		return 0;
	ret = area_pin(area);
	if (ret)
		return ret;
	for (i = 0; i < iopt->ndomains; i++) {
		ret = area_map_domain(area, iopt->domains[i]);
		if (ret)
			goto err_unmap;
	}
	return 0;
err_unmap:
	while (i--)
		area_unmap_domain(area, iopt->domains[i],
				  iopt_area_last_iova(area) + 1);
	area_unpin(area);
	return ret;
}

static void area_unfill_domains(struct iopt_area *area)
{
	struct io_pagetable *iopt = area->iopt;
	unsigned int i;

	if (!iopt->ndomains)
		return;
	for (i = 0; i < iopt->ndomains; i++)
		area_unmap_domain(area, iopt->domains[i],
				  iopt_area_last_iova(area) + 1);
	area_unpin(area);
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

static int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova,
			   uint64_t addr, uint64_t length)
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

static int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova,
			   uint64_t length)
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

/* ---- map / unmap ------------------------------------------------ */

static void area_free(struct iopt_area *area)
{
	itree_remove(&area->iopt->area_itree, &area->node);
	iopt_pages_put(area->pages);
	mapper_put(area->mapper);
	budget_area_free(area->iopt);
	free(area);
}

/* Undo area_new() for an area that never went into the tree. */
static void area_discard(struct iopt_area *area)
{
	iopt_pages_put(area->pages);
	mapper_put(area->mapper);
	budget_area_free(area->iopt);
	free(area);
}

/* A new area over @slice at [start, start + slice->length), or NULL. */
static struct iopt_area *area_new(struct io_pagetable *iopt,
				  const struct iopt_pages_slice *slice,
				  uint64_t start, int iommu_prot)
{
	struct iopt_area *area;

	if (budget_area(iopt))
		return NULL;
	area = fail_nth_calloc(1, sizeof(*area), "area");
	if (!area) {
		budget_area_free(iopt);
		return NULL;
	}
	area->node.start = start;
	area->node.last = start + slice->length - 1;
	area->iopt = iopt;
	area->pages = iopt_pages_get(slice->pages);
	area->mapper = mapper_get(slice->mapper);
	area->start_byte = slice->start_byte;
	area->uaddr = slice->uaddr;
	area->origin = slice->origin;
	area->flags = slice->flags;
	area->iommu_prot = iommu_prot;
	return area;
}

int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_slice *slices,
		   unsigned int nslices, uint64_t *iova, int iommu_prot,
		   unsigned int flags)
{
	struct iopt_area **areas;
	uint64_t length = 0, cur;
	unsigned int i;
	int ret;

	for (i = 0; i < nslices; i++)
		length += slices[i].length;
	if (length % iopt->iova_alignment)
		return -EINVAL;

	if (flags & IOPT_MAP_FIXED_IOVA)
		ret = iopt_check_iova(iopt, *iova, length);
	else
		ret = iopt_alloc_iova(iopt, iova, slices[0].uaddr, length);
	if (ret)
		return ret;

	areas = fail_nth_calloc(nslices, sizeof(*areas), "area list");
	if (!areas)
		return -ENOMEM;
	cur = *iova;
	for (i = 0; i < nslices; i++) {
		struct iopt_area *area;

		/* After the IOVA checks, as the kernel orders them. */
		if ((iommu_prot & IOMMU_WRITE) &&
		    !(slices[i].flags & IOPT_AREA_PAGES_WRITABLE)) {
			ret = -EPERM;
			goto err_free;
		}
		if ((slices[i].start_byte % PAGE_SIZE) % iopt->iova_alignment) {
			ret = -EINVAL;
			goto err_free;
		}
		area = area_new(iopt, &slices[i], cur, iommu_prot);
		if (!area) {
			ret = -ENOMEM;
			goto err_free;
		}
		itree_insert(&iopt->area_itree, &area->node);
		areas[i] = area;
		cur += slices[i].length;
	}
	for (i = 0; i < nslices; i++) {
		ret = area_fill_domains(areas[i]);
		if (ret) {
			while (i--)
				area_unfill_domains(areas[i]);
			i = nslices;
			goto err_free;
		}
	}
	free(areas);
	return 0;

err_free:
	while (i--)
		area_free(areas[i]);
	free(areas);
	return ret;
}

int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_slice **slices, unsigned int *nslices)
{
	struct iopt_pages_slice *out = NULL;
	struct iopt_contig_iter it;
	struct iopt_area *area;
	uint64_t last;
	unsigned int n = 0;
	int ret;

	ret = range_last(iova, length, &last);
	if (ret)
		return ret;

	for (area = iopt_contig_first(&it, iopt, iova, last); area;
	     area = iopt_contig_next(&it)) {
		struct iopt_pages_slice *grown =
			reallocarray(out, n + 1, sizeof(*out));

		if (!grown) {
			iopt_put_slices(out, n);
			return -ENOMEM;
		}
		out = grown;
		out[n] = (struct iopt_pages_slice){
			.pages = iopt_pages_get(area->pages),
			.start_byte = iopt_area_byte(area, it.start),
			.length = it.last - it.start + 1,
			.mapper = mapper_get(area->mapper),
			.uaddr =
				area->uaddr + (it.start - iopt_area_iova(area)),
			.origin = area->origin,
			.flags = area->flags,
		};
		n++;
	}
	if (!it.covered) {
		iopt_put_slices(out, n);
		return -ENOENT;
	}
	*slices = out;
	*nslices = n;
	return 0;
}

void iopt_put_slices(struct iopt_pages_slice *slices, unsigned int nslices)
{
	unsigned int i;

	for (i = 0; i < nslices; i++) {
		iopt_pages_put(slices[i].pages);
		mapper_put(slices[i].mapper);
	}
	free(slices);
}

static int iopt_unmap_range(struct io_pagetable *iopt, uint64_t start,
			    uint64_t last, uint64_t *unmapped)
{
	struct iopt_area *area, *busy = NULL;
	unsigned int tries = 0;
	uint64_t done = 0;
	int ret = 0;

	while ((area = iopt_area_first(iopt, start, last))) {
		if (iopt_area_iova(area) < start ||
		    iopt_area_last_iova(area) > last) {
			ret = -ENOENT;
			break;
		}
		if (area->num_locks) {
			ret = -EBUSY;
			break;
		}
		if (area->num_accesses) {
			/*
			 * In-daemon users must drop their pins first; they are
			 * told and must comply, so a stuck user is a bug.
			 */
			if (area != busy)
				tries = 0;
			busy = area;
			if (++tries > UNMAP_MAX_RETRIES) {
				log_warnx("access did not release pins on "
					  "unmap; giving up");
				ret = -EDEADLK;
				break;
			}
			area->prevent_access = true;
			if (iopt->notify_unmap)
				iopt->notify_unmap(iopt, iopt_area_iova(area),
						   iopt_area_length(area));
			continue;
		}
		done += iopt_area_length(area);
		area_unfill_domains(area);
		area_free(area);
	}
	*unmapped = done;
	return ret;
}

int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped)
{
	uint64_t last;
	int ret = range_last(iova, length, &last);

	if (ret)
		return ret;
	return iopt_unmap_range(iopt, iova, last, unmapped);
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	return iopt_unmap_range(iopt, 0, UINT64_MAX, unmapped);
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

/* ---- domains ---------------------------------------------------- */

int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain)
{
	uint64_t align = iopt_calc_alignment(iopt, domain, false);
	struct iopt_area *area, *failed;
	struct iommu_domain **domains;
	int ret;

	if (align > PAGE_SIZE)
		return -EINVAL;
	if (align != iopt->iova_alignment) {
		ret = iopt_check_area_alignment(iopt, align);
		if (ret)
			return ret;
	}

	/* IOVA outside the domain's aperture can never be mapped. */
	if (domain->aperture_start) {
		ret = iopt_reserve_iova(iopt, 0, domain->aperture_start - 1,
					domain);
		if (ret)
			goto err_reserved;
	}
	if (domain->aperture_end != UINT64_MAX) {
		ret = iopt_reserve_iova(iopt, domain->aperture_end + 1,
					UINT64_MAX, domain);
		if (ret)
			goto err_reserved;
	}

	/* Replay every existing mapping; the first domain pins. */
	for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
	     area = iopt_area_next(area, 0, UINT64_MAX)) {
		if (!iopt->ndomains) {
			ret = area_pin(area);
			if (ret)
				goto err_unfill;
		}
		ret = area_map_domain(area, domain);
		if (ret) {
			if (!iopt->ndomains)
				area_unpin(area);
			goto err_unfill;
		}
	}

	domains = reallocarray(iopt->domains, iopt->ndomains + 1,
			       sizeof(*iopt->domains));
	if (!domains) {
		ret = -ENOMEM;
		area = NULL;
		goto err_unfill;
	}
	iopt->domains = domains;
	iopt->domains[iopt->ndomains++] = domain;
	iopt->iova_alignment = align;
	return 0;

err_unfill:
	failed = area;
	for (area = iopt_area_first(iopt, 0, UINT64_MAX); area != failed;
	     area = iopt_area_next(area, 0, UINT64_MAX)) {
		area_unmap_domain(area, domain, iopt_area_last_iova(area) + 1);
		if (!iopt->ndomains)
			area_unpin(area);
	}
err_reserved:
	iopt_remove_reserved_iova(iopt, domain);
	return ret;
}

void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain)
{
	struct iopt_area *area;
	unsigned int i;

	for (i = 0; i < iopt->ndomains && iopt->domains[i] != domain; i++)
		;
	if (i == iopt->ndomains) {
		log_warnx("removing a domain the IOAS does not have");
		return;
	}
	iopt->domains[i] = iopt->domains[--iopt->ndomains];

	for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
	     area = iopt_area_next(area, 0, UINT64_MAX)) {
		area_unmap_domain(area, domain, iopt_area_last_iova(area) + 1);
		if (!iopt->ndomains)
			area_unpin(area);
	}
	iopt_remove_reserved_iova(iopt, domain);
	iopt->iova_alignment = iopt_calc_alignment(iopt, NULL, false);
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

/*
 * Split areas so that each cut point becomes the last IOVA of an area. Only
 * VFIO type1 emulation needs this; both halves share the page storage.
 */
int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas,
		  unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct iopt_pages_slice slice;
		struct iopt_area *area, *rhs;
		uint64_t cut = iovas[i];

		area = iopt_area_first(iopt, cut, cut);
		if (!area || cut == iopt_area_iova(area) ||
		    cut == iopt_area_last_iova(area))
			continue;
		if (area->prevent_access)
			return -EBUSY;
		if (!IS_ALIGNED_U64(cut + 1, iopt->iova_alignment) ||
		    !IS_ALIGNED_U64((area->start_byte + cut + 1 -
				     iopt_area_iova(area)) %
					    PAGE_SIZE,
				    iopt->iova_alignment))
			return -EINVAL;
		if (area->num_accesses)
			return -EINVAL;
		if (iopt->ndomains && !iopt->disable_large_pages)
			return -EINVAL;

		/*
		 * Domain mappings are per IO page here, so the domains need
		 * no change. The pins do when the cut falls inside a page:
		 * both halves then cover it and each will unpin it.
		 */
		slice = (struct iopt_pages_slice){
			.pages = area->pages,
			.start_byte =
				area->start_byte + (cut + 1 - area->node.start),
			.length = area->node.last - cut,
			.mapper = area->mapper,
			.uaddr = area->uaddr + (cut + 1 - area->node.start),
			.origin = area->origin,
			.flags = area->flags,
		};
		rhs = area_new(iopt, &slice, cut + 1, area->iommu_prot);
		if (!rhs)
			return -ENOMEM;
		if (iopt->ndomains && (slice.start_byte % PAGE_SIZE)) {
			uint64_t shared = slice.start_byte / PAGE_SIZE;
			struct pin_user u;
			int ret;

			iopt_area_pin_user(area, &u);
			ret = iopt_pages_pin(area->pages, shared, shared, &u);
			if (ret) {
				area_discard(rhs);
				return ret;
			}
		}
		itree_remove(&iopt->area_itree, &area->node);
		area->node.last = cut;
		itree_insert(&iopt->area_itree, &area->node);
		itree_insert(&iopt->area_itree, &rhs->node);
	}
	return 0;
}

/* ---- dirty tracking ---------------------------------------------- */

int iopt_set_dirty_tracking(struct io_pagetable *iopt,
			    struct iommu_domain *domain, bool enable)
{
	struct iopt_area *area;

	/* Start from a clean snapshot: forget what was dirtied before. */
	if (enable) {
		for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_next(area, 0, UINT64_MAX))
			domain->ops->read_and_clear_dirty(
				domain, iopt_area_iova(area),
				iopt_area_length(area), false, NULL, NULL);
	}
	return domain->ops->set_dirty_tracking(domain, enable);
}

int iopt_read_and_clear_dirty(
	struct io_pagetable *iopt, struct iommu_domain *domain, uint64_t iova,
	uint64_t last, bool keep,
	void (*fn)(void *arg, uint64_t iova, uint64_t size), void *arg)
{
	struct iopt_contig_iter it;
	struct iopt_area *area;
	int ret;

	/* The mapped pieces first; a hole anywhere in the range is EINVAL. */
	for (area = iopt_contig_first(&it, iopt, iova, last); area;
	     area = iopt_contig_next(&it)) {
		ret = domain->ops->read_and_clear_dirty(domain, it.start,
							it.last - it.start + 1,
							keep, fn, arg);
		if (ret)
			return ret;
	}
	return it.covered ? 0 : -EINVAL;
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
