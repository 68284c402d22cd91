// SPDX-License-Identifier: MIT
/*
 * Binding what a MAP names to page storage (pages.h): the caller's address
 * range is walked VMA by VMA while the caller waits in its request, and
 * each piece goes to the storage that can hold it. Also the storages that
 * hold nothing, and the composite storage for a range that crosses several.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caller.h"
#include "fail_nth.h"
#include "log.h"
#include "memfile.h"
#include "mmap_region.h"
#include "memfs.h"
#include "pages.h"
#include "privmem.h"
#include "util.h"

/* A MAP may cross this many differently backed pieces (VMAs). */
#define MAX_SEGMENTS 4096

struct iopt_pages *iopt_pages_get(struct iopt_pages *p)
{
	/* Static storages (refs 0) are never counted or freed. */
	if (p && atomic_load_explicit(&p->refs, memory_order_relaxed))
		atomic_fetch_add(&p->refs, 1);
	return p;
}

void iopt_pages_put(struct iopt_pages *p)
{
	if (!p || !atomic_load_explicit(&p->refs, memory_order_relaxed))
		return;
	if (atomic_fetch_sub(&p->refs, 1) == 1)
		p->ops->release(p);
}

void iopt_pages_get_info(struct iopt_pages *p, struct iopt_pages_info *info)
{
	memset(info, 0, sizeof(*info));
	info->kind = p->ops->kind;
	info->refs = atomic_load(&p->refs);
	p->ops->info(p, info);
}

/* ---- storages that hold nothing ----------------------------------- */

static int fail_pin_efault(struct iopt_pages *p, uint64_t first, uint64_t last,
			   const struct pin_user *u)
{
	(void)p;
	(void)first;
	(void)last;
	(void)u;
	return -EFAULT;
}

static int fail_pin_einval(struct iopt_pages *p, uint64_t first, uint64_t last,
			   const struct pin_user *u)
{
	(void)p;
	(void)first;
	(void)last;
	(void)u;
	return -EINVAL;
}

static int fail_pin_eperm(struct iopt_pages *p, uint64_t first, uint64_t last,
			  const struct pin_user *u)
{
	(void)p;
	(void)first;
	(void)last;
	(void)u;
	log_info(
		"cannot pin memory that a caller out of the daemon's reach (another pid namespace, or no ptrace access) mapped");
	return -EPERM;
}

static void none_unpin(struct iopt_pages *p, uint64_t first, uint64_t last,
		       const struct pin_user *u)
{
	(void)p;
	(void)first;
	(void)last;
	(void)u;
	log_err("unpin of a storage that holds nothing");
}

static uint64_t none_paddr(struct iopt_pages *p, uint64_t index, bool writable,
			   uint64_t *contig)
{
	(void)p;
	(void)index;
	(void)writable;
	*contig = 1;
	return 0;
}

static int none_rw(struct iopt_pages *p, uint64_t offset, void *buf,
		   uint64_t len, bool write)
{
	(void)p;
	(void)offset;
	(void)buf;
	(void)len;
	(void)write;
	return -EFAULT;
}

static void none_info(struct iopt_pages *p, struct iopt_pages_info *info)
{
	(void)p;
	(void)info;
}

static void none_release(struct iopt_pages *p)
{
	(void)p;
}

static const struct iopt_pages_ops unmapped_ops = {
	.kind = "unmapped",
	.pin = fail_pin_efault,
	.unpin = none_unpin,
	.paddr = none_paddr,
	.rw = none_rw,
	.info = none_info,
	.release = none_release,
};

static const struct iopt_pages_ops not_memory_ops = {
	.kind = "not-memory",
	.pin = fail_pin_einval,
	.unpin = none_unpin,
	.paddr = none_paddr,
	.rw = none_rw,
	.info = none_info,
	.release = none_release,
};

static const struct iopt_pages_ops unreachable_ops = {
	.kind = "unreachable",
	.pin = fail_pin_eperm,
	.unpin = none_unpin,
	.paddr = none_paddr,
	.rw = none_rw,
	.info = none_info,
	.release = none_release,
};

struct iopt_pages iopt_pages_unreachable = {
	.ops = &unreachable_ops,
	.npages = UINT64_MAX / PAGE_SIZE,
};

struct iopt_pages iopt_pages_unmapped = {
	.ops = &unmapped_ops,
	.npages = UINT64_MAX / PAGE_SIZE,
};

struct iopt_pages iopt_pages_not_memory = {
	.ops = &not_memory_ops,
	.npages = UINT64_MAX / PAGE_SIZE,
};

/* ---- composite storage --------------------------------------------- */

struct segment {
	uint64_t first; /* first index in the composite */
	uint64_t npages;
	struct iopt_pages *sub;
	uint64_t sub_first; /* its first index in @sub */
};

struct composite {
	struct iopt_pages pages;
	unsigned int nseg;
	struct segment seg[];
};

static struct composite *comp_of(struct iopt_pages *p)
{
	return container_of(p, struct composite, pages);
}

/* The segment holding @index (segments are sorted and back to back). */
static struct segment *seg_at(struct composite *c, uint64_t index)
{
	unsigned int lo = 0, hi = c->nseg;

	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (c->seg[mid].first <= index)
			lo = mid;
		else
			hi = mid;
	}
	return &c->seg[lo];
}

/* Walk [first, last] segment by segment, each clipped to the range. */
#define for_each_seg_piece(c, s, first, last, pf, pl)    \
	for (s = seg_at(c, first), pf = first;           \
	     s < (c)->seg + (c)->nseg && pf <= (last) && \
	     ((pl = s->first + s->npages - 1 < (last) ?  \
			    s->first + s->npages - 1 :   \
			    (last)),                     \
	      true);                                     \
	     pf = pl + 1, s++)

static int comp_pin(struct iopt_pages *p, uint64_t first, uint64_t last,
		    const struct pin_user *u)
{
	struct composite *c = comp_of(p);
	struct segment *s, *failed;
	uint64_t pf, pl;
	int ret = 0;

	if (last >= p->npages)
		return -EFAULT;
	for_each_seg_piece(c, s, first, last, pf, pl)
	{
		ret = iopt_pages_pin(s->sub, s->sub_first + pf - s->first,
				     s->sub_first + pl - s->first, u);
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	failed = s;
	for_each_seg_piece(c, s, first, last, pf, pl)
	{
		if (s == failed)
			break;
		iopt_pages_unpin(s->sub, s->sub_first + pf - s->first,
				 s->sub_first + pl - s->first, u);
	}
	return ret;
}

static void comp_unpin(struct iopt_pages *p, uint64_t first, uint64_t last,
		       const struct pin_user *u)
{
	struct composite *c = comp_of(p);
	struct segment *s;
	uint64_t pf, pl;

	for_each_seg_piece(c, s, first, last, pf, pl)
		iopt_pages_unpin(s->sub, s->sub_first + pf - s->first,
				 s->sub_first + pl - s->first, u);
}

static uint64_t comp_paddr(struct iopt_pages *p, uint64_t index, bool writable,
			   uint64_t *contig)
{
	struct segment *s = seg_at(comp_of(p), index);
	uint64_t in_seg = s->first + s->npages - index;
	uint64_t paddr = iopt_pages_paddr(
		s->sub, s->sub_first + index - s->first, writable, contig);

	if (*contig > in_seg)
		*contig = in_seg;
	return paddr;
}

static int comp_rw(struct iopt_pages *p, uint64_t offset, void *buf,
		   uint64_t len, bool write)
{
	struct composite *c = comp_of(p);

	while (len) {
		struct segment *s = seg_at(c, offset / PAGE_SIZE);
		uint64_t seg_end = (s->first + s->npages) * PAGE_SIZE;
		uint64_t n = seg_end - offset < len ? seg_end - offset : len;
		int ret = iopt_pages_rw(s->sub,
					s->sub_first * PAGE_SIZE + offset -
						s->first * PAGE_SIZE,
					buf, n, write);

		if (ret)
			return ret;
		offset += n;
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

static void comp_info(struct iopt_pages *p, struct iopt_pages_info *info)
{
	struct composite *c = comp_of(p);

	info->base = c->nseg;
	for (unsigned int i = 0; i < c->nseg; i++) {
		struct iopt_pages_info sub;

		iopt_pages_get_info(c->seg[i].sub, &sub);
		info->npinned += sub.npinned;
	}
}

static bool comp_holds(struct iopt_pages *p, uint64_t first, uint64_t last,
		       const struct page_key *key)
{
	struct composite *c = comp_of(p);
	struct segment *s;
	uint64_t pf, pl;

	for_each_seg_piece(
		c, s, first, last, pf,
		pl) if (iopt_pages_holds(s->sub, s->sub_first + pf - s->first,
					 s->sub_first + pl - s->first,
					 key)) return true;
	return false;
}

static void comp_release(struct iopt_pages *p)
{
	struct composite *c = comp_of(p);

	for (unsigned int i = 0; i < c->nseg; i++)
		iopt_pages_put(c->seg[i].sub);
	free(c);
}

static const struct iopt_pages_ops composite_ops = {
	.kind = "composite",
	.pin = comp_pin,
	.unpin = comp_unpin,
	.paddr = comp_paddr,
	.rw = comp_rw,
	.info = comp_info,
	.holds = comp_holds,
	.release = comp_release,
};

/* ---- binding a caller's address range ------------------------------ */

struct binder {
	const struct ucaller *caller;
	bool writable;
	int maps_fd; /* the caller's maps, opened for this MAP */
	struct mm_handle *mm; /* opened at the first private piece */
	struct segment *seg;
	unsigned int nseg, cap;
	uint64_t npages; /* bound so far */
};

static void binder_free(struct binder *b)
{
	for (unsigned int i = 0; i < b->nseg; i++)
		iopt_pages_put(b->seg[i].sub);
	free(b->seg);
	mm_handle_put(b->mm);
	if (b->maps_fd >= 0)
		close(b->maps_fd);
}

/*
 * Append @n pages of @sub starting at @sub_first (taking the reference),
 * joined to the last segment when they continue it.
 */
static int binder_add(struct binder *b, struct iopt_pages *sub,
		      uint64_t sub_first, uint64_t n)
{
	struct segment *last = b->nseg ? &b->seg[b->nseg - 1] : NULL;

	if (last && last->sub == sub &&
	    last->sub_first + last->npages == sub_first) {
		last->npages += n;
		b->npages += n;
		iopt_pages_put(sub);
		return 0;
	}
	if (b->nseg == MAX_SEGMENTS) {
		log_info(
			"pid %d: a mapping crosses more than %d differently backed ranges; refusing it",
			(int)b->caller->pid, MAX_SEGMENTS);
		iopt_pages_put(sub);
		return -ENOMEM;
	}
	if (b->nseg == b->cap) {
		unsigned int cap = b->cap ? b->cap * 2 : 4;
		struct segment *seg = reallocarray(b->seg, cap, sizeof(*seg));

		if (!seg) {
			iopt_pages_put(sub);
			return -ENOMEM;
		}
		b->seg = seg;
		b->cap = cap;
	}
	b->seg[b->nseg++] = (struct segment){
		.first = b->npages,
		.npages = n,
		.sub = sub,
		.sub_first = sub_first,
	};
	b->npages += n;
	return 0;
}

/* Private memory at [va, va + n pages): one storage per MAP and handle. */
static int bind_private(struct binder *b, uint64_t base_va, uint64_t va,
			uint64_t n, uint64_t total)
{
	struct segment *last = b->nseg ? &b->seg[b->nseg - 1] : NULL;
	struct iopt_pages *pm;
	int err;

	/* Private pieces of one MAP share a storage indexed from its start. */
	if (last && !strcmp(last->sub->ops->kind, "private") &&
	    last->sub_first + last->npages == (va - base_va) / PAGE_SIZE) {
		last->npages += n;
		b->npages += n;
		return 0;
	}
	if (!b->mm) {
		b->mm = mm_handle_open(b->caller, &err);
		if (!b->mm)
			return err;
	}
	pm = privmem_new(b->mm, base_va, total, &err);
	if (!pm)
		return err;
	return binder_add(b, pm, (va - base_va) / PAGE_SIZE, n);
}

/* The storage for one VMA's part [va, va + n pages) of the range. */
static int bind_vma(struct binder *b, const struct vma_info *vma,
		    uint64_t base_va, uint64_t va, uint64_t n, uint64_t total)
{
	struct memfile *mf;
	int ret;

	/*
	 * A region mapped through an iommufd is MMIO or driver pages under
	 * VM_PFNMAP | VM_IO in the kernel, which no pin takes (EFAULT).
	 */
	if (vma->shared && vma->file &&
	    mmap_region_file_is_region(vma->dev, vma->inode))
		return binder_add(b, &iopt_pages_unmapped, 0, n);
	if (vma->shared && vma->file) {
		/* A write pin of a read-only mapping is EFAULT in the kernel. */
		if (b->writable && !vma->write)
			return binder_add(b, &iopt_pages_unmapped, 0, n);
		for (int tries = 0; tries < 4; tries++) {
			ret = memfile_from_vma(b->caller, b->maps_fd, vma, &mf);
			if (ret != -EAGAIN)
				break;
		}
		if (!ret)
			return binder_add(
				b, memfile_pages(mf),
				(vma->offset + va - vma->start) / PAGE_SIZE, n);
		if (ret != -EOPNOTSUPP)
			return ret == -EAGAIN ? -EFAULT : ret;
		/*
		 * Other file systems: the kernel refuses long-term writable
		 * pins of them; read-only, the pages are read in place.
		 */
		if (b->writable)
			return binder_add(b, &iopt_pages_unmapped, 0, n);
	}
	return bind_private(b, base_va, va, n, total);
}

/* Bind the pages [base_va, last_va] (page addresses, inclusive). */
static int bind_range(struct binder *b, uint64_t base_va, uint64_t last_va,
		      uint64_t total)
{
	uint64_t va = base_va;

	for (;;) {
		struct vma_info vma;
		uint64_t stop; /* last page address bound this round */
		int ret = vma_query_or_next(b->maps_fd, va, &vma);

		if (ret == -ENOENT || (!ret && vma.start > last_va)) {
			/* Nothing mapped up to the end. */
			return binder_add(b, &iopt_pages_unmapped, 0,
					  (last_va - va) / PAGE_SIZE + 1);
		}
		if (ret)
			return ret;
		if (vma.start > va) {
			ret = binder_add(b, &iopt_pages_unmapped, 0,
					 (vma.start - va) / PAGE_SIZE);
			if (ret)
				return ret;
			va = vma.start;
		}
		stop = vma.end - PAGE_SIZE < last_va ? vma.end - PAGE_SIZE :
						       last_va;
		ret = bind_vma(b, &vma, base_va, va,
			       (stop - va) / PAGE_SIZE + 1, total);
		if (ret || stop == last_va)
			return ret;
		va = stop + PAGE_SIZE;
	}
}

static struct iopt_pages *composite_new(struct binder *b)
{
	struct composite *c = fail_nth_malloc(
		sizeof(*c) + b->nseg * sizeof(c->seg[0]), "composite pages");

	if (!c)
		return NULL;
	c->pages.ops = &composite_ops;
	atomic_init(&c->pages.refs, 1);
	c->pages.npages = b->npages;
	c->nseg = b->nseg;
	memcpy(c->seg, b->seg, b->nseg * sizeof(c->seg[0]));
	b->nseg = 0; /* the composite holds the references now */
	return &c->pages;
}

int iopt_pages_from_user(const struct ucaller *caller, uint64_t uptr,
			 uint64_t length, bool writable,
			 struct iopt_pages **pages, uint64_t *start_byte)
{
	uint64_t base_va = ALIGN_DOWN_U64(uptr, PAGE_SIZE), last, total;
	struct binder b = { .caller = caller, .writable = writable };
	int ret;

	if (!length || check_add_overflow_u64(uptr, length - 1, &last))
		return -EOVERFLOW;
	total = last / PAGE_SIZE - base_va / PAGE_SIZE + 1;
	b.maps_fd = caller_proc_open(caller, "maps", O_RDONLY);
	if (b.maps_fd < 0)
		return b.maps_fd;
	ret = bind_range(&b, base_va, ALIGN_DOWN_U64(last, PAGE_SIZE), total);
	if (ret)
		goto out;
	if (b.nseg == 1) {
		*pages = b.seg[0].sub;
		*start_byte = b.seg[0].sub_first * PAGE_SIZE + uptr % PAGE_SIZE;
		b.nseg = 0;
	} else {
		*pages = composite_new(&b);
		*start_byte = uptr % PAGE_SIZE;
		if (!*pages)
			ret = -ENOMEM;
	}
out:
	binder_free(&b);
	return ret;
}

/* O_ACCMODE of the caller's descriptor @fd, from /proc/TID/fdinfo. */
static int caller_fd_mode(const struct ucaller *caller, int fd)
{
	char name[48], line[128];
	unsigned int flags = 0;
	bool found = false;
	FILE *f;
	int pfd;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	pfd = caller_proc_open(caller, name, O_RDONLY);
	if (pfd < 0)
		return pfd == -ESRCH ? -EBADF : pfd;
	f = fdopen(pfd, "r");
	if (!f) {
		close(pfd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1)
			found = true;
	fclose(f);
	return found ? (int)(flags & O_ACCMODE) : -EBADF;
}

int iopt_pages_from_file(const struct ucaller *caller, int fd, uint64_t start,
			 uint64_t length, bool writable,
			 struct iopt_pages **pages, uint64_t *start_byte)
{
	struct memfile *mf;
	bool fd_writable;
	int ret, mode;

	(void)length;
	ret = memfile_from_caller_fd(caller, fd, &mf, &fd_writable);
	if (ret == -EOPNOTSUPP) {
		/* Accepted, as the kernel does; only a pin will refuse it. */
		mode = caller_fd_mode(caller, fd);
		if (mode < 0)
			return mode;
		if (writable && mode != O_RDWR && mode != O_WRONLY)
			return -EPERM;
		*pages = &iopt_pages_not_memory;
		*start_byte = start;
		return 0;
	}
	if (ret)
		return ret;
	if (writable && !fd_writable) {
		iopt_pages_put(memfile_pages(mf));
		return -EPERM;
	}
	*pages = memfile_pages(mf);
	*start_byte = start;
	return 0;
}

static atomic_int_fast64_t pinned_total;

uint64_t pages_pinned_total(void)
{
	return (uint64_t)atomic_load(&pinned_total);
}

void pages_count_pinned(int64_t delta)
{
	atomic_fetch_add(&pinned_total, delta);
}

int pages_init(void)
{
	return memfs_init();
}
