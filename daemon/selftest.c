// SPDX-License-Identifier: MIT
/*
 * IOMMU_TEST_CMD: the kernel selftests' view into the mock backend. Checks
 * that the kernel answers from struct page (refcounts, PFNs) are answered
 * here from what the daemon really holds: the pin ledger and the frames
 * recorded when pages were pinned.
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
#include "uaccess.h"

#define MOCK_DIRTY_MAX_BITS (128ULL << 20)
#define MOCK_ACCESS_MAX_LENGTH (16ULL << 20)

/* A mock device and its binding: what MOCK_DOMAIN creates. */
struct selftest_obj {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct iommu_device *mock_dev;
	struct iommufd_device *idev;
};

unsigned int iommufd_selftest_device_id(const struct iommufd_object *obj)
{
	const struct selftest_obj *sobj =
		container_of(obj, const struct selftest_obj, obj);

	return sobj->idev ? sobj->idev->obj.id : 0;
}

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	if (sobj->idev) {
		iommufd_device_detach(sobj->idev);
		iommufd_device_unbind(sobj->idev);
	}
	if (sobj->mock_dev)
		mock_dev_destroy(sobj->mock_dev);
}

static int test_add_reserved(struct iommufd_ucmd *ucmd, uint32_t ioas_id,
			     uint64_t start, uint64_t length)
{
	struct iommufd_ioas *ioas;
	uint64_t last;
	int ret;

	ret = range_last(start, length, &last);
	if (ret)
		return ret;
	ioas = iommufd_get_ioas(ucmd->ictx, ioas_id);
	if (!ioas)
		return -ENOENT;
	ret = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

static int test_mock_domain(struct iommufd_ucmd *ucmd,
			    struct iommu_test_cmd *cmd, uint32_t dev_flags)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct selftest_obj *sobj;
	uint32_t pt_id = cmd->id;
	int ret;

	/* ids: selftest object, then device, then the automatic HWPT */
	sobj = iommufd_object_alloc_type(ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (!sobj)
		return -ENOMEM;
	sobj->ictx = ictx;
	sobj->mock_dev = mock_dev_create(dev_flags, &ret);
	if (!sobj->mock_dev)
		goto err_abort;
	sobj->idev = iommufd_device_bind(ictx, sobj->mock_dev);
	if (!sobj->idev) {
		ret = -ENOMEM;
		goto err_abort;
	}
	ret = iommufd_device_attach(sobj->idev, &pt_id);
	if (ret)
		goto err_abort;

	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_idev_id = sobj->idev->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto err_abort;
	iommufd_object_finalize(ictx, &sobj->obj);
	return 0;

err_abort:
	iommufd_object_abort_and_destroy(ictx, &sobj->obj);
	return ret;
}

static struct selftest_obj *get_selftest_obj(struct iommufd_ctx *ictx,
					     uint32_t id)
{
	struct iommufd_object *obj =
		iommufd_get_object(ictx, id, IOMMUFD_OBJ_SELFTEST);

	return obj ? container_of(obj, struct selftest_obj, obj) : NULL;
}

static int test_mock_domain_replace(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_selftest_obj(ucmd->ictx, cmd->id);
	uint32_t pt_id = cmd->mock_domain_replace.pt_id;
	int ret;

	if (!sobj)
		return -ENOENT;
	ret = iommufd_device_replace(sobj->idev, &pt_id);
	if (!ret) {
		cmd->mock_domain_replace.pt_id = pt_id;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return ret;
}

/* A mock paging domain by HWPT id: ENOENT for other ids, EINVAL non-mock. */
static struct iommufd_hwpt_paging *get_md_pagetable(struct iommufd_ctx *ictx,
						    uint32_t id,
						    struct mock_pgtable **pt,
						    int *err)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		iommufd_get_hwpt_paging(ictx, id);

	if (!hwpt_paging) {
		*err = -ENOENT;
		return NULL;
	}
	*pt = mock_domain_pgtable(hwpt_paging->common.domain);
	if (!*pt) {
		iommufd_put_object(ictx, &hwpt_paging->common.obj);
		*err = -EINVAL;
		return NULL;
	}
	return hwpt_paging;
}

/* The caller's page tables, read while it waits in its request. */
struct frame_reader {
	const struct ucaller *caller;
	int pagemap_fd;
};

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_PFN_MASK ((1ULL << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_THP 22

static int frame_reader_open(struct frame_reader *fr,
			     const struct ucaller *caller, const char *what)
{
	int ret = caller_require_direct(caller, what);

	fr->caller = caller;
	fr->pagemap_fd = -1;
	if (ret)
		return ret;
	fr->pagemap_fd = caller_proc_open(caller, "pagemap", O_RDONLY);
	return fr->pagemap_fd < 0 ? fr->pagemap_fd : 0;
}

static void frame_reader_close(struct frame_reader *fr)
{
	if (fr->pagemap_fd >= 0)
		close(fr->pagemap_fd);
}

/*
 * The frame behind the caller's @va, faulting it in as get_user_pages
 * would. -EFAULT when nothing is mapped there; -EOPNOTSUPP (logged) when
 * the kernel hides frame numbers from the daemon (no CAP_SYS_ADMIN): then
 * a comparison would compare nothing.
 */
static int caller_frame(struct frame_reader *fr, uint64_t va, uint64_t *pfn)
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
static int test_md_check_map(struct iommufd_ucmd *ucmd, uint32_t id,
			     uint64_t iova, uint64_t length, uint64_t uptr)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	struct frame_reader fr = { .pagemap_fd = -1 };
	struct mock_pgtable *pt;
	uint64_t end;
	int ret = 0;

	if (iova % MOCK_IO_PAGE_SIZE || length % MOCK_IO_PAGE_SIZE ||
	    uptr % MOCK_IO_PAGE_SIZE ||
	    check_add_overflow_u64(uptr, length, &end))
		return -EINVAL;
	hwpt_paging = get_md_pagetable(ucmd->ictx, id, &pt, &ret);
	if (!hwpt_paging)
		return ret;

	if (length)
		ret = frame_reader_open(
			&fr, ucmd->caller,
			"MD_CHECK_MAP (reading its page tables)");
	for (; length && !ret; length -= MOCK_IO_PAGE_SIZE) {
		uint64_t user_pfn, paddr, pin_pfn;
		unsigned int flags;

		ret = caller_frame(&fr, uptr, &user_pfn);
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
	return area->iopt->ndomains || area->num_accesses;
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
static int test_md_check_refs(struct iommufd_ucmd *ucmd, uint64_t uptr,
			      uint64_t length, unsigned int refs)
{
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

		ret = caller_frame(&fr, uptr, &pfn);
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

static int test_md_check_iotlb(struct iommufd_ucmd *ucmd, uint32_t id,
			       uint32_t iotlb_id, uint32_t iotlb)
{
	struct iommufd_object *obj =
		iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_HWPT_NESTED);
	int ret;

	if (!obj)
		return -ENOENT;
	ret = mock_domain_check_iotlb(
		container_of(obj, struct iommufd_hw_pagetable, obj)->domain,
		iotlb_id, iotlb);
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

/*
 * Mark IO pages dirty as if a device had written them. The mock indexes its
 * table by page_size here, not by its IO page size, and the selftests rely
 * on exactly that.
 */
static int test_dirty(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->dirty.iova, length = cmd->dirty.length;
	uint64_t page_size = cmd->dirty.page_size, nbits, i, count = 0;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct mock_pgtable *pt;
	uint8_t *bits;
	int ret = 0;

	if (!page_size || !length || iova % page_size || length % page_size ||
	    !cmd->dirty.uptr)
		return -EINVAL;
	nbits = length / page_size;
	if (nbits > MOCK_DIRTY_MAX_BITS)
		return -EOVERFLOW;
	hwpt_paging = get_md_pagetable(ucmd->ictx, cmd->id, &pt, &ret);
	if (!hwpt_paging)
		return ret;
	if (!mock_domain_dirty_enabled(hwpt_paging->common.domain)) {
		ret = -EINVAL;
		goto out_put;
	}
	bits = calloc(1, (nbits + 7) / 8);
	if (!bits) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (copy_from_user(ucmd->caller, bits, cmd->dirty.uptr,
			   (nbits + 7) / 8)) {
		ret = -EFAULT;
		goto out_free;
	}
	for (i = 0; i < nbits; i++) {
		uint64_t cur = iova + i * page_size;

		if (!(bits[i / 8] & (1 << (i % 8))))
			continue;
		if (!mock_pgtable_set_dirty(pt, cur / page_size *
							MOCK_IO_PAGE_SIZE))
			count++;
	}
	cmd->dirty.out_nr_dirty = count;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	free(bits);
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return ret;
}

static int test_trigger_iopf(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	struct iommufd_object *obj = iommufd_get_object(
		ucmd->ictx, cmd->trigger_iopf.dev_id, IOMMUFD_OBJ_DEVICE);
	struct iommufd_device *idev;
	int ret = 0;

	if (!obj)
		return -ENOENT;
	idev = container_of(obj, struct iommufd_device, obj);
	if (!mock_dev_is_mock(idev->dev)) {
		ret = -EINVAL;
	} else if (idev->hwpt && idev->hwpt->fault) {
		struct iommu_hwpt_pgfault msg = {
			.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE |
				 (cmd->trigger_iopf.pasid ?
					  IOMMU_PGFAULT_FLAGS_PASID_VALID :
					  0),
			.dev_id = idev->obj.id,
			.pasid = cmd->trigger_iopf.pasid,
			.grpid = cmd->trigger_iopf.grpid,
			.perm = cmd->trigger_iopf.perm,
			.addr = cmd->trigger_iopf.addr,
		};

		ret = iommufd_fault_report(idev->hwpt->fault, &msg);
	}
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

/*
 * A test access: what a mediated driver would do with an iommufd_access,
 * owned by the file descriptor CREATE_ACCESS returns. Closing that fd
 * destroys it; ACCESS_* ops name it by the fd number.
 */
struct selftest_access {
	struct iommufd_access *access;
	struct objfile *file;
	struct list_head items; /* pinned ranges, struct selftest_access_item */
	unsigned int next_id;
};

struct selftest_access_item {
	struct list_head item;
	uint64_t iova, length;
	unsigned int id;
};

static void staccess_unpin_item(struct selftest_access *staccess,
				struct selftest_access_item *item)
{
	list_del(&item->item);
	iommufd_access_unpin_pages(staccess->access, item->iova, item->length);
	free(item);
}

/* The IOAS is unmapping [iova, iova + length): drop what we pinned there. */
static void staccess_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct selftest_access *staccess = data;
	struct selftest_access_item *item, *next;
	uint64_t last = iova + length - 1;

	list_for_each_entry_safe(item, next, &staccess->items, item) {
		if (iova > item->iova + item->length - 1 || last < item->iova)
			continue;
		staccess_unpin_item(staccess, item);
	}
}

static const struct iommufd_access_ops staccess_ops = {
	.unmap = staccess_unmap,
};

static void staccess_destroy(struct selftest_access *staccess)
{
	staccess_unmap(staccess, 0, UINT64_MAX);
	iommufd_access_destroy(staccess->access);
	objfile_remove(staccess->file);
	free(staccess);
}

/* The last descriptor of the access file was closed. */
static void staccess_release(void *priv)
{
	staccess_destroy(priv);
}

static const struct objfile_ops staccess_file_ops = {
	.release = staccess_release,
};

/* The fd never reached the caller: once its file is closed, it goes. */
static void staccess_abort(struct iommufd_ctx *ictx, void *priv)
{
	struct selftest_access *staccess = priv;

	(void)ictx;
	if (!objfile_is_open(staccess->file))
		staccess_destroy(staccess);
}

static int test_create_access(struct iommufd_ucmd *ucmd,
			      struct iommu_test_cmd *cmd)
{
	struct selftest_access *staccess;
	unsigned int id;
	int ret;

	if (cmd->create_access.flags &
	    ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;
	if (!ucmd->install || !objfile_enabled())
		return iommufd_fd_needs_launcher(ucmd,
						 "IOMMU_TEST_OP_CREATE_ACCESS");

	staccess = calloc(1, sizeof(*staccess));
	if (!staccess)
		return -ENOMEM;
	list_init(&staccess->items);
	staccess->access = iommufd_access_create(
		ucmd->ictx, &staccess_ops, staccess,
		cmd->create_access.flags &
			MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		&id);
	if (!staccess->access) {
		free(staccess);
		return -ENOMEM;
	}
	ret = iommufd_access_attach(staccess->access, cmd->id);
	if (ret)
		goto err_destroy;
	staccess->file = objfile_create("access", &staccess_file_ops, staccess,
					&ucmd->ictx->files);
	if (!staccess->file) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	/* The supervisor writes the real number once it is installed. */
	cmd->create_access.out_access_fd = (uint32_t)-1;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto err_destroy;
	ucmd->install->file = staccess->file;
	ucmd->install->fd_offset =
		offsetof(struct iommu_test_cmd, create_access.out_access_fd);
	ucmd->install->abort = staccess_abort;
	ucmd->install->priv = staccess;
	return 0;

err_destroy:
	staccess_destroy(staccess);
	return ret;
}

/* The access behind an fd number of the caller, as the kernel's fget(). */
static struct selftest_access *get_staccess(struct iommufd_ucmd *ucmd,
					    uint32_t fd)
{
	return objfile_from_fd(ucmd->caller->pid, (int)fd, "access",
			       &ucmd->ictx->files);
}

static int test_access_pages(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->access_pages.iova, len = cmd->access_pages.length;
	uint32_t flags = cmd->access_pages.flags;
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	uint64_t npages, *paddrs, i, last;
	int ret;

	if (len > MOCK_ACCESS_MAX_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	staccess = get_staccess(ucmd, cmd->id);
	if (!staccess)
		return -EBADF;
	if (!iommufd_access_needs_pin(staccess->access))
		return -EOPNOTSUPP;

	if (!len || check_add_overflow_u64(iova, len - 1, &last))
		return len ? -EOVERFLOW : -EINVAL;
	npages = last / PAGE_SIZE - iova / PAGE_SIZE + 1;
	paddrs = calloc(npages, sizeof(*paddrs));
	if (!paddrs)
		return -ENOMEM;
	ret = iommufd_access_pin_pages(
		staccess->access, iova, len, paddrs,
		flags & MOCK_FLAGS_ACCESS_WRITE ? IOMMUFD_ACCESS_RW_WRITE : 0);
	if (ret)
		goto out_free;

	/* Each pinned page must be the caller's page at uptr. */
	if (cmd->access_pages.uptr) {
		uint64_t uptr = cmd->access_pages.uptr -
				(iova - ALIGN_DOWN_U64(iova, PAGE_SIZE));
		struct frame_reader fr;

		ret = frame_reader_open(
			&fr, ucmd->caller,
			"ACCESS_PAGES (reading its page tables)");
		for (i = 0; i < npages && !ret; i++, uptr += PAGE_SIZE) {
			uint64_t user_pfn, pin_pfn;

			ret = caller_frame(&fr, uptr, &user_pfn);
			if (!ret && (phys_to_pfn(paddrs[i], &pin_pfn) ||
				     pin_pfn != user_pfn))
				ret = -EBADE;
		}
		frame_reader_close(&fr);
		if (ret)
			goto out_unpin;
	}

	item = calloc(1, sizeof(*item));
	if (!item) {
		ret = -ENOMEM;
		goto out_unpin;
	}
	item->iova = iova;
	item->length = len;
	item->id = staccess->next_id++;
	list_add_tail(&item->item, &staccess->items);
	cmd->access_pages.out_access_pages_id = item->id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		staccess_unpin_item(staccess, item);
	goto out_free;
out_unpin:
	iommufd_access_unpin_pages(staccess->access, iova, len);
out_free:
	free(paddrs);
	return ret;
}

static int test_destroy_access_pages(struct iommufd_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	struct selftest_access *staccess = get_staccess(ucmd, cmd->id);
	struct selftest_access_item *item;

	if (!staccess)
		return -EBADF;
	list_for_each_entry(item, &staccess->items, item) {
		if (item->id == cmd->destroy_access_pages.access_pages_id) {
			staccess_unpin_item(staccess, item);
			return 0;
		}
	}
	return -ENOENT;
}

static int test_access_rw(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t len = cmd->access_rw.length;
	uint32_t flags = cmd->access_rw.flags;
	struct selftest_access *staccess;
	bool write = flags & MOCK_ACCESS_RW_WRITE;
	void *tmp;
	int ret;

	if (len > MOCK_ACCESS_MAX_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH |
		      MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	staccess = get_staccess(ucmd, cmd->id);
	if (!staccess)
		return -EBADF;

	/* Through a bounce buffer, as the kernel's test driver does it. */
	tmp = calloc(1, len ? len : 1);
	if (!tmp)
		return -ENOMEM;
	ret = write ? copy_from_user(ucmd->caller, tmp, cmd->access_rw.uptr,
				     len) :
		      0;
	if (!ret)
		ret = iommufd_access_rw(staccess->access, cmd->access_rw.iova,
					tmp, len,
					write ? IOMMUFD_ACCESS_RW_WRITE : 0);
	if (!ret && !write)
		ret = copy_to_user(ucmd->caller, cmd->access_rw.uptr, tmp, len);
	free(tmp);
	return ret;
}

static int test_access_replace_ioas(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct selftest_access *staccess = get_staccess(ucmd, cmd->id);

	if (!staccess)
		return -EBADF;
	return iommufd_access_replace(staccess->access,
				      cmd->access_replace_ioas.ioas_id);
}

/* Our extension: a mock device DMAs through its attached domain. */
static int test_dev_dma(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufdd_test_dma dma;
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	bool write;
	void *buf;
	int ret;

	memcpy(&dma,
	       (char *)cmd + offsetof(struct iommu_test_cmd, add_reserved),
	       sizeof(dma));
	write = dma.flags & IOMMUFDD_TEST_DMA_WRITE;
	if ((dma.flags & ~IOMMUFDD_TEST_DMA_WRITE) || dma.__reserved)
		return -EOPNOTSUPP;
	if (dma.length > MOCK_ACCESS_MAX_LENGTH)
		return -ENOMEM;
	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = container_of(obj, struct iommufd_device, obj);
	buf = calloc(1, dma.length ? dma.length : 1);
	if (!buf)
		ret = -ENOMEM;
	else if (!mock_dev_is_mock(idev->dev))
		ret = -EINVAL;
	else if (write)
		ret = copy_from_user(ucmd->caller, buf, dma.uptr, dma.length);
	else
		ret = 0;
	if (!ret)
		ret = mock_dev_dma(idev->dev, dma.iova, buf, dma.length, write);
	if (!ret && !write)
		ret = copy_to_user(ucmd->caller, dma.uptr, buf, dma.length);
	free(buf);
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return test_add_reserved(ucmd, cmd->id, cmd->add_reserved.start,
					 cmd->add_reserved.length);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return test_mock_domain(ucmd, cmd, 0);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return test_mock_domain(ucmd, cmd,
					cmd->mock_domain_flags.dev_flags);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return test_mock_domain_replace(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return test_md_check_map(ucmd, cmd->id, cmd->check_map.iova,
					 cmd->check_map.length,
					 cmd->check_map.uptr);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return test_md_check_refs(ucmd, cmd->check_refs.uptr,
					  cmd->check_refs.length,
					  cmd->check_refs.refs);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return test_md_check_iotlb(ucmd, cmd->id, cmd->check_iotlb.id,
					   cmd->check_iotlb.iotlb);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return test_create_access(ucmd, cmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return test_destroy_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return test_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return test_access_rw(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return test_access_replace_ioas(ucmd, cmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		if (cmd->memory_limit.limit < 12)
			return -EINVAL;
		pages_set_temp_memory_limit(cmd->memory_limit.limit);
		return 0;
	case IOMMU_TEST_OP_DIRTY:
		return test_dirty(ucmd, cmd);
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		return test_trigger_iopf(ucmd, cmd);
	case IOMMUFDD_TEST_OP_DEV_DMA:
		return test_dev_dma(ucmd, cmd);
	case IOMMUFDD_TEST_OP_FAIL_NTH:
		return iommufd_test_fail_nth(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}
