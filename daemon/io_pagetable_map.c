// SPDX-License-Identifier: MIT
/*
 * IO page table, the areas: MAP and COPY create them over page storage,
 * UNMAP removes them (asking in-daemon users to let go first), and the
 * VFIO type1 emulation cuts them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "account.h"
#include "backend.h"
#include "fail_nth.h"
#include "io_pagetable.h"
#include "io_pagetable_internal.h"
#include "log.h"
#include "pages.h"

#define UNMAP_MAX_RETRIES 100

static void area_free(struct iopt_area *area)
{
	itree_remove(&area->iopt->area_itree, &area->node);
	/* Unmap waits for accesses to let go: none are pinned any more. */
	if (area->accesses) {
		runmap_clear(&area->accesses->pins);
		free(area->accesses);
	}
	iopt_pages_put(area->pages);
	mapper_put(area->mapper);
	iopt_budget_area_free(area->iopt);
	free(area);
}

/* Undo area_new() for an area that never went into the tree. */
static void area_discard(struct iopt_area *area)
{
	iopt_pages_put(area->pages);
	mapper_put(area->mapper);
	iopt_budget_area_free(area->iopt);
	free(area);
}

/* A new area over @slice at [start, start + slice->length), or NULL. */
static struct iopt_area *area_new(struct io_pagetable *iopt,
				  const struct iopt_pages_slice *slice,
				  uint64_t start, int iommu_prot)
{
	struct iopt_area *area;

	if (iopt_budget_area(iopt))
		return NULL;
	area = fail_nth_calloc(1, sizeof(*area), "area");
	if (!area) {
		iopt_budget_area_free(iopt);
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
		ret = iopt_area_fill_domains(areas[i]);
		if (ret) {
			while (i--)
				iopt_area_unfill_domains(areas[i]);
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
		if (iopt_area_num_locks(area)) {
			ret = -EBUSY;
			break;
		}
		if (iopt_area_num_accesses(area)) {
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
		iopt_area_unfill_domains(area);
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

/* ---- cutting ------------------------------------------------------ */

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
		if (iopt_area_num_accesses(area))
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
