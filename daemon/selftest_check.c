// SPDX-License-Identifier: MIT
/*
 * The selftest checks the kernel answers from struct page (refcounts,
 * PFNs), answered here from what the daemon really holds: the pin ledger,
 * the frames recorded when pages were pinned, and the caller's page tables
 * read through /proc while it waits in its request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "addrmap.h"
#include "backend_mock.h"
#include "caller.h"
#include "iommufd_private.h"
#include "log.h"
#include "mock_pgtable.h"
#include "objfile.h"
#include "pages.h"
#include "selftest.h"
#include "uaccess.h"

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_PFN_MASK ((1ULL << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_THP 22

int frame_reader_open(struct frame_reader *fr, const struct ucaller *caller,
		      const char *what)
{
	int ret = caller_require_direct(caller, what);

	fr->caller = caller;
	fr->pagemap_fd = -1;
	if (ret)
		return ret;
	fr->pagemap_fd = caller_proc_open(caller, "pagemap", O_RDONLY);
	return fr->pagemap_fd < 0 ? fr->pagemap_fd : 0;
}

void frame_reader_close(struct frame_reader *fr)
{
	if (fr->pagemap_fd >= 0)
		close(fr->pagemap_fd);
}

/* Without CAP_SYS_ADMIN the frame numbers read 0: comparing them would compare nothing. */
int frame_reader_frame(struct frame_reader *fr, uint64_t va, uint64_t *pfn)
{
	uint64_t entry = 0;

	for (int tries = 0; tries < 2; tries++) {
		char byte;
		struct iovec local = { &byte, 1 };
		struct iovec remote = { (void *)(uintptr_t)va, 1 };

		if (pread(fr->pagemap_fd, &entry, 8,
			  (off_t)(va / PAGE_SIZE * 8)) != 8)
			return -EFAULT;
		if (entry & PAGEMAP_PRESENT)
			break;
		if (process_vm_readv(fr->caller->pid, &local, 1, &remote, 1,
				     0) != 1)
			return -EFAULT;
	}
	if (!(entry & PAGEMAP_PRESENT))
		return -EFAULT;
	*pfn = entry & PAGEMAP_PFN_MASK;
	if (!*pfn) {
		log_warnx(
			"selftest: the kernel shows the daemon no page frame numbers (it lacks CAP_SYS_ADMIN); refusing to compare them");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int kpageflags = -1;

static void open_kpageflags(void)
{
	kpageflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
}

/* Is the frame part of a huge or compound page? (The kernel skips those.) */
static bool frame_is_compound(uint64_t pfn)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint64_t flags;

	pthread_once(&once, open_kpageflags);
	if (kpageflags < 0 ||
	    pread(kpageflags, &flags, 8, (off_t)(pfn * 8)) != 8)
		return false;
	return flags &
	       ((1ULL << KPF_COMPOUND_HEAD) | (1ULL << KPF_COMPOUND_TAIL) |
		(1ULL << KPF_HUGE) | (1ULL << KPF_THP));
}

/*
 * Every 2 KiB of [iova, iova + length) must translate to the frame the
 * caller has at uptr right now.
 */
SELFTEST_OP(md_check_map)
{
	uint64_t iova = cmd->check_map.iova, length = cmd->check_map.length;
	uint64_t uptr = cmd->check_map.uptr;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct frame_reader fr = { .pagemap_fd = -1 };
	struct mock_pgtable *pt;
	uint64_t end;
	int ret = 0;

	if (iova % MOCK_IO_PAGE_SIZE || length % MOCK_IO_PAGE_SIZE ||
	    uptr % MOCK_IO_PAGE_SIZE ||
	    check_add_overflow_u64(uptr, length, &end))
		return -EINVAL;
	hwpt_paging = selftest_get_md_pagetable(ucmd->ictx, cmd->id, &pt, &ret);
	if (!hwpt_paging)
		return ret;

	if (length)
		ret = frame_reader_open(
			&fr, ucmd->caller,
			"MD_CHECK_MAP (reading its page tables)");
	for (; length && !ret; length -= MOCK_IO_PAGE_SIZE) {
		uint64_t user_pfn, paddr, pin_pfn;
		unsigned int flags;

		ret = frame_reader_frame(&fr, uptr, &user_pfn);
		if (ret)
			break;
		if (mock_pgtable_lookup(pt, iova, &paddr, &flags) ||
		    phys_to_pfn(paddr, &pin_pfn) ||
		    user_pfn * PAGE_SIZE + uptr % PAGE_SIZE !=
			    pin_pfn * PAGE_SIZE + paddr % PAGE_SIZE) {
			ret = -EINVAL;
			break;
		}
		iova += MOCK_IO_PAGE_SIZE;
		uptr += MOCK_IO_PAGE_SIZE;
	}
	frame_reader_close(&fr);
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return ret;
}

/* What the caller's page at @va is, as storages name pages. */
static int caller_page_key(const struct ucaller *caller, int maps_fd,
			   uint64_t va, struct page_key *key)
{
	struct vma_info vma;
	struct caller_status st;
	int ret = vma_query(maps_fd, va, &vma);

	if (ret)
		return -EFAULT;
	memset(key, 0, sizeof(*key));
	if (vma.shared && vma.file) {
		key->file = true;
		key->dev = vma.dev;
		key->ino = vma.inode;
		key->index = (vma.offset + va - vma.start) / PAGE_SIZE;
		return 0;
	}
	ret = caller_read_status(caller, &st);
	key->tgid = st.tgid;
	key->va = va;
	return ret;
}

/* An area's pages are pinned while its IOAS has a domain or an access pin. */
static bool area_pinned(const struct iopt_area *area)
{
	return area->iopt->ndomains || iopt_area_num_accesses(area);
}

/* Add the origins of @ictx's pinned areas that hold @key to @seen. */
static void collect_pin_origins(struct iommufd_ctx *ictx,
				const struct page_key *key, uint32_t *seen,
				unsigned int *n, unsigned int max)
{
	for (unsigned int id = 1; id < ictx->nr_slots; id++) {
		struct iommufd_object *obj = ictx->objects[id];
		struct io_pagetable *iopt;
		struct iopt_area *area;

		if (!obj || obj->type != IOMMUFD_OBJ_IOAS)
			continue;
		iopt = &container_of(obj, struct iommufd_ioas, obj)->iopt;
		for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_next(area, 0, UINT64_MAX)) {
			unsigned int i;

			if (!area_pinned(area) ||
			    !iopt_pages_holds(area->pages,
					      iopt_area_first_index(area),
					      iopt_area_last_index(area), key))
				continue;
			for (i = 0; i < *n && seen[i] != area->origin; i++)
				;
			if (i == *n && *n < max)
				seen[(*n)++] = area->origin;
		}
	}
}

/*
 * The kernel's answer is the page's FOLL_PIN count: one per iopt_pages
 * (per MAP, shared by its COPYs) that pins it, in any file. Count the
 * distinct MAPs (origins) whose pinned areas hold the page, in every
 * context.
 */
static int count_pins(const struct page_key *key, unsigned int *pins)
{
	struct iommufd_ctx **list;
	unsigned int nctx, i;
	uint32_t seen[64];
	int ret = 0;

	*pins = 0;
	list = iommufd_ctx_list_get(&nctx);
	if (!list)
		return -ENOMEM;
	for (i = 0; i < nctx; i++) {
		/* A context stuck in a request cannot be read: say so. */
		if (!iommufd_ctx_lock_timed(list[i], 1000)) {
			ret = -EBUSY;
			break;
		}
		collect_pin_origins(list[i], key, seen, pins, ARRAY_SIZE(seen));
		iommufd_ctx_unlock(list[i]);
	}
	iommufd_ctx_list_free(list, nctx);
	return ret;
}

/* Pins on each caller page; compound pages are skipped, as the kernel does. */
SELFTEST_OP(md_check_refs)
{
	uint64_t uptr = cmd->check_refs.uptr, length = cmd->check_refs.length;
	unsigned int refs = cmd->check_refs.refs;
	struct frame_reader fr = { .pagemap_fd = -1 };
	int maps_fd = -1, ret = 0;
	uint64_t end;

	if (length % PAGE_SIZE || uptr % PAGE_SIZE ||
	    check_add_overflow_u64(uptr, length, &end))
		return -EINVAL;
	/*
	 * Without the caller's page tables the answer is still exact when
	 * nothing is pinned at all: every page then has no pins. The
	 * selftests ask exactly that after each test.
	 */
	if (ucmd->caller->window && !refs && !pages_pinned_total())
		return 0;
	if (!length)
		return 0;
	ret = frame_reader_open(&fr, ucmd->caller,
				"MD_CHECK_REFS (reading its page tables)");
	if (!ret) {
		maps_fd = caller_proc_open(ucmd->caller, "maps", O_RDONLY);
		if (maps_fd < 0)
			ret = maps_fd;
	}
	for (; length && !ret; length -= PAGE_SIZE, uptr += PAGE_SIZE) {
		struct page_key key;
		unsigned int pins;
		uint64_t pfn;

		ret = frame_reader_frame(&fr, uptr, &pfn);
		if (!ret)
			ret = caller_page_key(ucmd->caller, maps_fd, uptr,
					      &key);
		if (ret || frame_is_compound(pfn))
			continue;
		ret = count_pins(&key, &pins);
		if (!ret && pins != refs) {
			log_debug(
				"check_refs: page at 0x%llx has %u pins, expected %u",
				(unsigned long long)uptr, pins, refs);
			ret = -EIO;
		}
	}
	if (maps_fd >= 0)
		close(maps_fd);
	frame_reader_close(&fr);
	return ret;
}
