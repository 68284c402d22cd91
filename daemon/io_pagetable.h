/* SPDX-License-Identifier: MIT */
/*
 * The IO page table of an IOAS: which IOVA ranges are mapped to which page
 * storage, which ranges may be allocated from and which are reserved, and the
 * domains that mirror the mappings. This is mechanism only: it takes plain
 * arguments and never sees an ioctl struct.
 *
 * Invariants: areas never overlap; no reserved range intersects an area or
 * an allowed range; every area is mapped into every domain of its table, and
 * its pages are pinned exactly while the table has a domain.
 */
#ifndef IOMMUFDD_IO_PAGETABLE_H
#define IOMMUFDD_IO_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "interval_tree.h"
#include "runmap.h"
#include "util.h"

struct iommu_domain;
struct iopt_pages;
struct mapper;
struct pin_user;

#define IOPT_MAP_FIXED_IOVA (1 << 0)

/*
 * What the IOASes of one context may hold together: the context sets the
 * maxima (0: no limit) and only its jobs change the counts, so they need
 * no lock. Going over a maximum is ENOMEM, the kernel's errno for running
 * out of what a request needs.
 */
struct iopt_budget {
	struct user_budget *user; /* what all the user's files hold */
	uint64_t areas, max_areas;
	uint64_t pinned, max_pinned; /* pages pinned for areas and accesses */
	uint32_t max_ranges; /* allowed + reserved ranges per IOAS */
	bool warned; /* a limit was hit and logged */
};

struct io_pagetable {
	struct itree area_itree;
	struct itree allowed_itree;
	struct itree reserved_itree;
	struct iommu_domain **domains;
	unsigned int ndomains;
	/* in-daemon users (struct iommufd_access), for unmap notification */
	struct list_head access_list;
	unsigned int nr_pinning_accesses;
	uint64_t iova_alignment;
	struct iopt_budget *budget; /* NULL: no limits */
	bool disable_large_pages;
	void (*notify_unmap)(struct io_pagetable *iopt, uint64_t iova,
			     uint64_t length);
};

/* What a mapping of page storage carries from its MAP (struct iopt_area). */
#define IOPT_AREA_USER (1 << 0) /* user VA: needs its mapper alive */
#define IOPT_AREA_PAGES_WRITABLE (1 << 1) /* the MAP allowed writes */
/* IOAS_MAP_FILE: the kernel's file-backed pages, CHANGE_PROCESS can move */
#define IOPT_AREA_FILE (1 << 2)

/*
 * What in-daemon accesses hold through an area. Most areas never have an
 * access, so this is allocated at an area's first access pin and freed
 * when its last goes.
 */
struct iopt_area_accesses {
	/* The storage pages accesses pinned through the area, and how often. */
	struct runmap pins;
	unsigned int num; /* access pins held */
	/* Of them, pins that cannot let go (HW queues): unmap is EBUSY. */
	unsigned int num_locks;
};

/*
 * One per live mapping: its size is most of the daemon's memory per
 * mapping. 120 bytes, which malloc serves from a 128-byte chunk (at 128
 * the chunk would be 144): keep it at most 120.
 */
struct iopt_area {
	struct itree_node node; /* IOVA range */
	struct iopt_pages *pages;
	struct io_pagetable *iopt;
	struct mapper *mapper; /* owns the area: charged for its pins */
	uint64_t start_byte; /* offset of node.start inside pages */
	uint64_t uaddr; /* what the MAP named for node.start */
	struct iopt_area_accesses *accesses; /* NULL: none */
	uint32_t origin; /* the MAP this comes from (COPY keeps it) */
	uint8_t iommu_prot; /* IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE */
	uint8_t flags;
	bool prevent_access;
};
_Static_assert(sizeof(struct iopt_area) <= 120,
	       "struct iopt_area outgrew its 128-byte malloc chunk");

/*
 * One contiguous run of page storage with what its MAP said about it: a
 * MAP makes one, COPY takes them from a source IOAS.
 */
struct iopt_pages_slice {
	struct iopt_pages *pages;
	uint64_t start_byte;
	uint64_t length;
	struct mapper *mapper;
	uint64_t uaddr;
	uint32_t origin;
	uint8_t flags;
};

/* A fresh origin number for a MAP. */
uint32_t iopt_new_origin(void);

/* Charge (n > 0) or release (n < 0) pinned pages to the budget. */
int iopt_budget_pin(struct io_pagetable *iopt, int64_t n);

/* Who the area's pins are for (pages.h). */
void iopt_area_pin_user(const struct iopt_area *area, struct pin_user *u);

/*
 * An access's pin of storage pages [first, last] through @area, charged to
 * the area's owner and to the budget, for writing if @writable; and its
 * release. 0 or the -errno of the budget or the storage.
 */
int iopt_area_pin_access(struct iopt_area *area, uint64_t first, uint64_t last,
			 bool writable);
void iopt_area_unpin_access(struct iopt_area *area, uint64_t first,
			    uint64_t last);

static inline unsigned int iopt_area_num_accesses(const struct iopt_area *area)
{
	return area->accesses ? area->accesses->num : 0;
}

static inline unsigned int iopt_area_num_locks(const struct iopt_area *area)
{
	return area->accesses ? area->accesses->num_locks : 0;
}

/*
 * Mark one access pin of @area as one that cannot let go (@lock), after
 * iopt_area_pin_access, or unmark it, before iopt_area_unpin_access.
 */
static inline void iopt_area_lock_access(struct iopt_area *area, bool lock)
{
	if (lock)
		area->accesses->num_locks++;
	else
		area->accesses->num_locks--;
}

/*
 * Giving an area to a new owner (IOMMU_IOAS_CHANGE_PROCESS), in two phases
 * that every area of a context goes through together so that the whole
 * move can fail with nothing changed: first charge @to for every pin the
 * area holds (0, or -ENOMEM past @to's RLIMIT_MEMLOCK with nothing of this
 * area charged), then either release the old owner's charges and make @to
 * the owner, or undo the first phase. Where @to is charged in the same
 * bucket as the old owner (the same user, per-user accounting), nothing is
 * charged twice or released: only the owner changes.
 */
int iopt_area_charge_owner(struct iopt_area *area, struct mapper *to);
void iopt_area_uncharge_owner(struct iopt_area *area, struct mapper *to);
void iopt_area_set_owner(struct iopt_area *area, struct mapper *to);

static inline uint64_t iopt_area_iova(const struct iopt_area *area)
{
	return area->node.start;
}

static inline uint64_t iopt_area_last_iova(const struct iopt_area *area)
{
	return area->node.last;
}

static inline uint64_t iopt_area_length(const struct iopt_area *area)
{
	return area->node.last - area->node.start + 1;
}

static inline uint64_t iopt_area_first_index(const struct iopt_area *area)
{
	return area->start_byte / PAGE_SIZE;
}

static inline uint64_t iopt_area_last_index(const struct iopt_area *area)
{
	return (area->start_byte + iopt_area_length(area) - 1) / PAGE_SIZE;
}

struct iopt_area *iopt_area_first(struct io_pagetable *iopt, uint64_t start,
				  uint64_t last);

/*
 * Walk the areas that cover [iova, last] back to back, each with the part of
 * it inside the range. The walk ends at the range's end or at the first gap;
 * @covered then says which.
 */
struct iopt_contig_iter {
	struct iopt_area *area;
	uint64_t start, last; /* the part of area inside the range */
	uint64_t range_last;
	bool covered;
};

struct iopt_area *iopt_contig_first(struct iopt_contig_iter *it,
				    struct io_pagetable *iopt, uint64_t iova,
				    uint64_t last);
struct iopt_area *iopt_contig_next(struct iopt_contig_iter *it);

/* Byte offset inside the area's storage of an IOVA inside the area. */
static inline uint64_t iopt_area_byte(const struct iopt_area *area,
				      uint64_t iova)
{
	return area->start_byte + (iova - area->node.start);
}
struct iopt_area *iopt_area_next(struct iopt_area *area, uint64_t start,
				 uint64_t last);

void iopt_init(struct io_pagetable *iopt, struct iopt_budget *budget);

/*
 * Building the allowed ranges of ALLOW_IOVAS one range at a time, as they
 * are read: each is checked on arrival (EINVAL for an empty or inverted
 * range, or one overlapping an earlier one; ENOMEM past the budget), and
 * only a complete set replaces the table's.
 */
struct iopt_allowed_set {
	struct itree tree;
	struct io_pagetable *iopt;
};

void iopt_allowed_begin(struct iopt_allowed_set *set,
			struct io_pagetable *iopt);
int iopt_allowed_add(struct iopt_allowed_set *set, uint64_t start,
		     uint64_t last);
/* Replace the table's allowed ranges (EADDRINUSE if one is reserved). */
int iopt_allowed_commit(struct iopt_allowed_set *set);
void iopt_allowed_abort(struct iopt_allowed_set *set);
void iopt_destroy(struct io_pagetable *iopt);

int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_slice *slices,
		   unsigned int nslices, uint64_t *iova, int iommu_prot,
		   unsigned int flags);
int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_slice **slices, unsigned int *nslices);
void iopt_put_slices(struct iopt_pages_slice *slices, unsigned int nslices);
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last,
		      const void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner);

int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain);

int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);
int iopt_add_pinning_access(struct io_pagetable *iopt);
void iopt_remove_pinning_access(struct io_pagetable *iopt);
int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas,
		  unsigned int n);

int iopt_set_dirty_tracking(struct io_pagetable *iopt,
			    struct iommu_domain *domain, bool enable);
/*
 * Report and (unless @keep) clear the dirty IOPTEs of [iova, last], which
 * must be mapped without holes (EINVAL, after reporting what is mapped).
 */
int iopt_read_and_clear_dirty(
	struct io_pagetable *iopt, struct iommu_domain *domain, uint64_t iova,
	uint64_t last, bool keep,
	void (*fn)(void *arg, uint64_t iova, uint64_t size), void *arg);

/* Byte access through the table, for in-daemon users (accesses). */
int iopt_rw(struct io_pagetable *iopt, uint64_t iova, void *data,
	    uint64_t length, bool write);

#endif
