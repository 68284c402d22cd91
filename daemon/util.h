/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the daemon: containers, arithmetic, lists. */
#ifndef IOMMUFDD_UTIL_H
#define IOMMUFDD_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

/* container_of for a pointer that may be NULL (a failed allocation). */
#define container_of_or_null(ptr, type, member)                         \
	({                                                              \
		__typeof__(ptr) ptr_ = (ptr);                           \
		ptr_ ? container_of(ptr_, type, member) : (type *)NULL; \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define HPAGE_SIZE (1ULL << 21)

#define ALIGN_DOWN_U64(x, a) ((x) & ~((uint64_t)(a)-1))
#define ALIGN_UP_U64(x, a) ALIGN_DOWN_U64((x) + (uint64_t)(a)-1, a)
#define IS_ALIGNED_U64(x, a) (((x) & ((uint64_t)(a)-1)) == 0)

static inline bool check_add_overflow_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

/*
 * The last byte of [start, start + length): the kernel's rule for a range
 * argument is EINVAL when empty and EOVERFLOW when it wraps.
 */
static inline int range_last(uint64_t start, uint64_t length, uint64_t *last)
{
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(start, length - 1, last))
		return -EOVERFLOW;
	return 0;
}

static inline unsigned int fls64(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static inline unsigned int ffs64(uint64_t x)
{
	return x ? __builtin_ctzll(x) + 1 : 0;
}

static inline uint64_t roundup_pow_of_two_u64(uint64_t x)
{
	if (x <= 1)
		return 1;
	return 1ULL << fls64(x - 1);
}

/* A circular doubly linked list, embedded in its members. */
struct list_head {
	struct list_head *next, *prev;
};

/*
 * Did an open fail for want of descriptors (the daemon's or the system's)?
 * That is the daemon's shortage, answered as the kernel answers one:
 * ENOMEM, never the caller's EFAULT or the daemon's own EMFILE.
 */
static inline bool errno_is_fd_shortage(int err)
{
	return err == EMFILE || err == ENFILE;
}

static inline void list_init(struct list_head *h)
{
	h->next = h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)

#define list_for_each_entry(pos, head, member)                         \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head);                                   \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each_entry_safe(pos, n, head, member)                  \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),  \
	    n = list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head);                                    \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

#endif
