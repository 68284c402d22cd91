// SPDX-License-Identifier: MIT
/*
 * Private memory as page storage (privmem.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "addrmap.h"
#include "caller.h"
#include "fail_nth.h"
#include "interval_tree.h"
#include "log.h"
#include "pages.h"
#include "privmem.h"
#include "runmap.h"
#include "util.h"

/* Pinning reads pages in through a buffer this big. */
#define FAULT_IN_CHUNK (1ULL << 20)

struct mm_handle {
	atomic_uint refs;
	pid_t tgid;
	int mem_fd; /* reads and writes */
	int maps_fd; /* which mappings exist */
	int pagemap_fd; /* page frames, for the selftest checks */
};

/* A run of pages pinned together, and the physical numbers it got. */
struct pin_chunk {
	struct addr_range range;
	struct itree_node index; /* [first, last] page indexes */
	struct privmem *pm;
	uint64_t held; /* pages of the run still pinned */
};

struct privmem {
	struct iopt_pages pages;
	struct mm_handle *mm;
	uint64_t base_va;
	pthread_mutex_t lock; /* pinned, chunks */
	struct runmap pinned;
	struct itree chunks;
	atomic_bool told_gone; /* logged that the memory went away */
};

struct mm_handle *mm_handle_open(const struct ucaller *caller, int *err)
{
	struct caller_status st;
	struct mm_handle *mm;

	*err = caller_read_status(caller, &st);
	if (*err)
		return NULL;
	mm = fail_nth_calloc(1, sizeof(*mm), "private memory handle");
	if (!mm) {
		*err = -ENOMEM;
		return NULL;
	}
	atomic_init(&mm->refs, 1);
	mm->tgid = st.tgid;
	mm->mem_fd = caller_proc_open(caller, "mem", O_RDWR);
	mm->maps_fd = caller_proc_open(caller, "maps", O_RDONLY);
	mm->pagemap_fd = caller_proc_open(caller, "pagemap", O_RDONLY);
	if (mm->mem_fd < 0 || mm->maps_fd < 0 || mm->pagemap_fd < 0) {
		*err = mm->mem_fd < 0  ? mm->mem_fd :
		       mm->maps_fd < 0 ? mm->maps_fd :
					 mm->pagemap_fd;
		mm_handle_put(mm);
		return NULL;
	}
	return mm;
}

struct mm_handle *mm_handle_get(struct mm_handle *mm)
{
	atomic_fetch_add(&mm->refs, 1);
	return mm;
}

void mm_handle_put(struct mm_handle *mm)
{
	if (!mm || atomic_fetch_sub(&mm->refs, 1) != 1)
		return;
	if (mm->mem_fd >= 0)
		close(mm->mem_fd);
	if (mm->maps_fd >= 0)
		close(mm->maps_fd);
	if (mm->pagemap_fd >= 0)
		close(mm->pagemap_fd);
	free(mm);
}

int mm_handle_maps_fd(const struct mm_handle *mm)
{
	return mm->maps_fd;
}

pid_t mm_handle_tgid(const struct mm_handle *mm)
{
	return mm->tgid;
}

static struct privmem *pm_of(struct iopt_pages *p)
{
	return container_of(p, struct privmem, pages);
}

/*
 * Does a mapping in the address space allow @write access to all of
 * [va, va + len)? 0, or -EFAULT (logged once per storage when it is gone).
 */
static int check_access(struct privmem *pm, uint64_t va, uint64_t len,
			bool write)
{
	uint64_t end = va + len;

	while (va < end) {
		struct vma_info vma;
		int ret = vma_query(pm->mm->maps_fd, va, &vma);

		if (ret || !vma.read || (write && !vma.write)) {
			if (!atomic_exchange(&pm->told_gone, true))
				log_info(
					"pid %d: private memory at 0x%" PRIx64
					" that a mapping uses is %s; DMA there "
					"fails (use shared memory to keep it "
					"reachable)",
					(int)pm->mm->tgid, va,
					ret == -ESRCH ? "gone (process exited "
							"or exec'd)" :
					ret	      ? "unmapped" :
							"no longer accessible");
			return -EFAULT;
		}
		va = vma.end;
	}
	return 0;
}

static int mem_io(struct privmem *pm, uint64_t va, void *buf, uint64_t len,
		  bool write)
{
	while (len) {
		ssize_t n =
			write ? pwrite(pm->mm->mem_fd, buf, len, (off_t)va) :
				pread(pm->mm->mem_fd, buf, len, (off_t)va);

		if (n <= 0)
			return -EFAULT;
		va += (uint64_t)n;
		buf = (char *)buf + n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* DMA on the memory behind a range of pinned pages' numbers. */
static int chunk_rw(struct addr_range *r, uint64_t offset, void *buf,
		    uint64_t len, bool write)
{
	struct pin_chunk *c = container_of(r, struct pin_chunk, range);
	uint64_t va = c->pm->base_va + c->index.start * PAGE_SIZE + offset;
	int ret = check_access(c->pm, va, len, write);

	return ret ? ret : mem_io(c->pm, va, buf, len, write);
}

static int chunk_pfn(struct addr_range *r, uint64_t offset, uint64_t *pfn)
{
	struct pin_chunk *c = container_of(r, struct pin_chunk, range);
	uint64_t va = c->pm->base_va + c->index.start * PAGE_SIZE + offset;
	uint64_t entry;

	if (pread(c->pm->mm->pagemap_fd, &entry, 8,
		  (off_t)(va / PAGE_SIZE * 8)) != 8 ||
	    !(entry & (1ULL << 63)))
		return -EFAULT;
	*pfn = entry & ((1ULL << 55) - 1);
	return 0;
}

static void chunk_get(struct addr_range *r)
{
	iopt_pages_get(&container_of(r, struct pin_chunk, range)->pm->pages);
}

static void chunk_put(struct addr_range *r)
{
	iopt_pages_put(&container_of(r, struct pin_chunk, range)->pm->pages);
}

static const struct addr_owner_ops chunk_ops = {
	.rw = chunk_rw,
	.pfn = chunk_pfn,
	.get = chunk_get,
	.put = chunk_put,
};

struct pm_pin_ctx {
	struct privmem *pm;
	const struct pin_user *u;
};

/* Read [first, last] in, as the kernel's pin faults pages in. */
static int fault_in(struct privmem *pm, uint64_t first, uint64_t last)
{
	uint64_t va = pm->base_va + first * PAGE_SIZE;
	uint64_t len = (last - first + 1) * PAGE_SIZE;
	char *scratch = malloc(len < FAULT_IN_CHUNK ? len : FAULT_IN_CHUNK);
	int ret = scratch ? 0 : -ENOMEM;

	while (!ret && len) {
		uint64_t n = len < FAULT_IN_CHUNK ? len : FAULT_IN_CHUNK;

		ret = mem_io(pm, va, scratch, n, false);
		va += n;
		len -= n;
	}
	free(scratch);
	return ret;
}

static int pm_acquire(void *arg, uint64_t first, uint64_t last)
{
	struct pm_pin_ctx *pc = arg;
	struct privmem *pm = pc->pm;
	uint64_t n = last - first + 1;
	struct pin_chunk *c;
	int ret;

	ret = check_access(pm, pm->base_va + first * PAGE_SIZE, n * PAGE_SIZE,
			   pc->u->writable);
	if (ret)
		return ret;
	c = fail_nth_calloc(1, sizeof(*c), "private chunk");
	if (!c)
		return -ENOMEM;
	ret = account_charge(pc->u->mapper, n);
	if (ret)
		goto err_free;
	ret = fault_in(pm, first, last);
	if (ret)
		goto err_uncharge;
	c->pm = pm;
	c->held = n;
	c->index.start = first;
	c->index.last = last;
	c->range.ops = &chunk_ops;
	ret = addrmap_insert_private(&c->range, n * PAGE_SIZE, PAGE_SIZE);
	if (ret)
		goto err_uncharge;
	itree_insert(&pm->chunks, &c->index);
	pages_count_pinned((int64_t)n);
	return 0;

err_uncharge:
	account_uncharge(pc->u->mapper, n);
err_free:
	free(c);
	return ret;
}

/* Pages [first, last] are no longer pinned: drop them from their chunks. */
static int pm_release(void *arg, uint64_t first, uint64_t last)
{
	struct pm_pin_ctx *pc = arg;
	struct privmem *pm = pc->pm;
	struct itree_node *n, *next;

	account_uncharge(pc->u->mapper, last - first + 1);
	pages_count_pinned(-(int64_t)(last - first + 1));
	for (n = itree_iter_first(&pm->chunks, first, last); n; n = next) {
		struct pin_chunk *c = container_of(n, struct pin_chunk, index);
		uint64_t s = n->start > first ? n->start : first;
		uint64_t l = n->last < last ? n->last : last;

		next = itree_iter_next(n, first, last);
		c->held -= l - s + 1;
		if (c->held)
			continue;
		itree_remove(&pm->chunks, n);
		addrmap_remove(&c->range);
		free(c);
	}
	return 0;
}

static int pm_pin(struct iopt_pages *p, uint64_t first, uint64_t last,
		  const struct pin_user *u)
{
	struct privmem *pm = pm_of(p);
	struct pm_pin_ctx pc = { pm, u };
	int ret;

	if (last >= p->npages)
		return -EFAULT;
	pthread_mutex_lock(&pm->lock);
	ret = runmap_add(&pm->pinned, first, last, pm_acquire, pm_release, &pc);
	pthread_mutex_unlock(&pm->lock);
	return ret;
}

static void pm_unpin(struct iopt_pages *p, uint64_t first, uint64_t last,
		     const struct pin_user *u)
{
	struct privmem *pm = pm_of(p);
	struct pm_pin_ctx pc = { pm, u };

	pthread_mutex_lock(&pm->lock);
	runmap_remove(&pm->pinned, first, last, pm_release, &pc);
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t pm_paddr(struct iopt_pages *p, uint64_t index, bool writable,
			 uint64_t *contig)
{
	struct privmem *pm = pm_of(p);
	struct itree_node *n;
	uint64_t paddr = 0;

	(void)writable;
	pthread_mutex_lock(&pm->lock);
	n = itree_iter_first(&pm->chunks, index, index);
	if (n) {
		struct pin_chunk *c = container_of(n, struct pin_chunk, index);

		paddr = c->range.node.start + (index - n->start) * PAGE_SIZE;
		*contig = n->last - index + 1;
	}
	pthread_mutex_unlock(&pm->lock);
	if (!n) {
		log_err("private storage: page %" PRIu64 " is not pinned",
			index);
		*contig = 1;
	}
	return paddr;
}

static int pm_rw(struct iopt_pages *p, uint64_t offset, void *buf, uint64_t len,
		 bool write)
{
	struct privmem *pm = pm_of(p);
	uint64_t va = pm->base_va + offset;
	int ret = check_access(pm, va, len, write);

	return ret ? ret : mem_io(pm, va, buf, len, write);
}

static void pm_info(struct iopt_pages *p, struct iopt_pages_info *info)
{
	struct privmem *pm = pm_of(p);

	info->tgid = pm->mm->tgid;
	info->base = pm->base_va;
	pthread_mutex_lock(&pm->lock);
	info->npinned = pm->pinned.held;
	pthread_mutex_unlock(&pm->lock);
	info->writable = true;
}

static bool pm_holds(struct iopt_pages *p, uint64_t first, uint64_t last,
		     const struct page_key *key)
{
	struct privmem *pm = pm_of(p);
	uint64_t index = (key->va - pm->base_va) / PAGE_SIZE;

	return !key->file && key->tgid == pm->mm->tgid &&
	       key->va >= pm->base_va && index >= first && index <= last;
}

static void pm_free(struct iopt_pages *p)
{
	struct privmem *pm = pm_of(p);
	struct itree_node *n;

	if (!runmap_empty(&pm->pinned))
		log_err("private storage freed with %" PRIu64 " pages pinned",
			pm->pinned.held);
	while ((n = itree_first(&pm->chunks))) {
		struct pin_chunk *c = container_of(n, struct pin_chunk, index);

		itree_remove(&pm->chunks, n);
		addrmap_remove(&c->range);
		free(c);
	}
	runmap_clear(&pm->pinned);
	mm_handle_put(pm->mm);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static const struct iopt_pages_ops privmem_ops = {
	.kind = "private",
	.pin = pm_pin,
	.unpin = pm_unpin,
	.paddr = pm_paddr,
	.rw = pm_rw,
	.info = pm_info,
	.holds = pm_holds,
	.release = pm_free,
};

struct iopt_pages *privmem_new(struct mm_handle *mm, uint64_t base_va,
			       uint64_t npages, int *err)
{
	struct privmem *pm = fail_nth_calloc(1, sizeof(*pm), "private memory");

	if (!pm) {
		*err = -ENOMEM;
		return NULL;
	}
	pm->pages.ops = &privmem_ops;
	atomic_init(&pm->pages.refs, 1);
	pm->pages.npages = npages;
	pm->mm = mm_handle_get(mm);
	pm->base_va = base_va;
	pthread_mutex_init(&pm->lock, NULL);
	return &pm->pages;
}

bool privmem_source(struct iopt_pages *p, pid_t *tgid, uint64_t *base_va)
{
	if (p->ops != &privmem_ops)
		return false;
	*tgid = pm_of(p)->mm->tgid;
	*base_va = pm_of(p)->base_va;
	return true;
}
