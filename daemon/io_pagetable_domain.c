// SPDX-License-Identifier: MIT
/*
 * IO page table, the domains: every area is mapped into every domain of its
 * table, and its pages are pinned (and charged) once while the table has
 * any domain. Also dirty tracking, which walks the domains' IOPTEs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "io_pagetable.h"
#include "io_pagetable_internal.h"
#include "log.h"
#include "pages.h"

/* ---- one area ---------------------------------------------------- */

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
int iopt_area_fill_domains(struct iopt_area *area)
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

void iopt_area_unfill_domains(struct iopt_area *area)
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
