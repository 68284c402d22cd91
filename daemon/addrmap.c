// SPDX-License-Identifier: MIT
/*
 * The physical address registry (addrmap.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addrmap.h"
#include "util.h"

/*
 * Numbers for private memory: above every user address of x86-64 (4- and
 * 5-level paging), below the sign bit, so no daemon mapping can have one.
 */
#define PRIVATE_BASE (1ULL << 57)
#define PRIVATE_LAST ((1ULL << 62) - 1)

/* process_vm_* caps one call at MAX_RW_COUNT; stay well below. */
#define SAFE_COPY_MAX (1ULL << 30)

static pthread_rwlock_t addrmap_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct itree addrmap = ITREE_INIT;

bool addrmap_is_private(uint64_t paddr)
{
	return paddr >= PRIVATE_BASE;
}

void addrmap_insert(struct addr_range *r)
{
	pthread_rwlock_wrlock(&addrmap_lock);
	itree_insert(&addrmap, &r->node);
	pthread_rwlock_unlock(&addrmap_lock);
}

void addrmap_remove(struct addr_range *r)
{
	pthread_rwlock_wrlock(&addrmap_lock);
	itree_remove(&addrmap, &r->node);
	pthread_rwlock_unlock(&addrmap_lock);
}

int addrmap_insert_private(struct addr_range *r, uint64_t len, uint64_t align)
{
	struct itree_span span;
	int ret = -ENOMEM;

	if (!len || len > PRIVATE_LAST - PRIVATE_BASE)
		return -ENOMEM;
	pthread_rwlock_wrlock(&addrmap_lock);
	for (itree_span_first(&span, &addrmap, NULL, PRIVATE_BASE,
			      PRIVATE_LAST);
	     !itree_span_done(&span); itree_span_next(&span)) {
		uint64_t start = ALIGN_UP_U64(span.span_start, align);

		if (!span.is_hole || start < span.span_start ||
		    start > span.span_last || span.span_last - start < len - 1)
			continue;
		r->node.start = start;
		r->node.last = start + len - 1;
		itree_insert(&addrmap, &r->node);
		ret = 0;
		break;
	}
	pthread_rwlock_unlock(&addrmap_lock);
	return ret;
}

/* The range holding @paddr, with a reference on its owner; or NULL. */
static struct addr_range *addrmap_get(uint64_t paddr)
{
	struct itree_node *node;
	struct addr_range *r = NULL;

	pthread_rwlock_rdlock(&addrmap_lock);
	node = itree_iter_first(&addrmap, paddr, paddr);
	if (node) {
		r = container_of(node, struct addr_range, node);
		r->ops->get(r);
	}
	pthread_rwlock_unlock(&addrmap_lock);
	return r;
}

int phys_rw(uint64_t paddr, void *buf, uint64_t length, bool write)
{
	while (length) {
		struct addr_range *r = addrmap_get(paddr);
		uint64_t n;
		int ret;

		if (!r)
			return -EFAULT;
		n = r->node.last - paddr + 1;
		if (n > length)
			n = length;
		ret = r->ops->rw(r, paddr - r->node.start, buf, n, write);
		r->ops->put(r);
		if (ret)
			return ret;
		paddr += n;
		buf = (char *)buf + n;
		length -= n;
	}
	return 0;
}

int phys_to_pfn(uint64_t paddr, uint64_t *pfn)
{
	struct addr_range *r = addrmap_get(paddr);
	int ret;

	if (!r)
		return -ENOENT;
	ret = r->ops->pfn(r, paddr - r->node.start, pfn);
	r->ops->put(r);
	return ret;
}

int safe_copy(void *dst, const void *src, uint64_t len, bool to_mapping)
{
	while (len) {
		uint64_t n = len < SAFE_COPY_MAX ? len : SAFE_COPY_MAX;
		struct iovec local, remote;
		ssize_t done;

		if (to_mapping) {
			local = (struct iovec){ (void *)src, n };
			remote = (struct iovec){ dst, n };
			done = process_vm_writev(getpid(), &local, 1, &remote,
						 1, 0);
		} else {
			local = (struct iovec){ dst, n };
			remote = (struct iovec){ (void *)src, n };
			done = process_vm_readv(getpid(), &local, 1, &remote, 1,
						0);
		}
		if (done != (ssize_t)n)
			return -EFAULT;
		dst = (char *)dst + n;
		src = (const char *)src + n;
		len -= n;
	}
	return 0;
}
