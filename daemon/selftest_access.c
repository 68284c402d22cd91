// SPDX-License-Identifier: MIT
/*
 * Selftest accesses: CREATE_ACCESS and the ACCESS_* ops, an in-daemon user
 * of an IOAS as a mediated device driver would be.
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

SELFTEST_OP(create_access)
{
	struct selftest_access *staccess;
	unsigned int id;
	int ret;

	if (cmd->create_access.flags &
	    ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;
	if (!ucmd->install || !objfile_enabled())
		return iommufd_fd_needs_launcher(ucmd);

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

SELFTEST_OP(access_pages)
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

			ret = frame_reader_frame(&fr, uptr, &user_pfn);
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

SELFTEST_OP(destroy_access_pages)
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

SELFTEST_OP(access_rw)
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

SELFTEST_OP(access_replace_ioas)
{
	struct selftest_access *staccess = get_staccess(ucmd, cmd->id);

	if (!staccess)
		return -EBADF;
	return iommufd_access_replace(staccess->access,
				      cmd->access_replace_ioas.ioas_id);
}
