/* SPDX-License-Identifier: MIT */
/*
 * What the three parts of the IO page table call in each other, and nothing
 * outside them may: io_pagetable.c (trees, budgets, IOVA allocation and
 * alignment), io_pagetable_map.c (creating and removing areas) and
 * io_pagetable_domain.c (mirroring areas into domains, pinning).
 */
#ifndef IOMMUFDD_IO_PAGETABLE_INTERNAL_H
#define IOMMUFDD_IO_PAGETABLE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "io_pagetable.h"

struct iommu_domain;

/* io_pagetable.c */

/* One more area, if the context may have it: 0 or -ENOMEM. */
int iopt_budget_area(struct io_pagetable *iopt);
void iopt_budget_area_free(struct io_pagetable *iopt);

/*
 * The IOVA alignment the table needs with its domains, plus @extra (a domain
 * about to be added) and @extra_access (an access about to pin).
 */
uint64_t iopt_calc_alignment(const struct io_pagetable *iopt,
			     const struct iommu_domain *extra,
			     bool extra_access);
/* Raising the alignment is only allowed if every area already meets it. */
int iopt_check_area_alignment(struct io_pagetable *iopt, uint64_t align);

/* Find room for @length bytes of memory at user address @addr. */
int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova, uint64_t addr,
		    uint64_t length);
/* May [iova, iova + length) be mapped at exactly that IOVA? */
int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length);

/* io_pagetable_domain.c */

/* Pin a new area once and map it into every domain of its table. */
int iopt_area_fill_domains(struct iopt_area *area);
void iopt_area_unfill_domains(struct iopt_area *area);

#endif
