/* SPDX-License-Identifier: MIT */
/*
 * Private memory as page storage. Private pages cannot be shared with the
 * daemon, so they stay in their process and are reached through handles on
 * that address space (/proc/TID/mem and /proc/TID/maps) opened while the
 * MAP request held the caller: they keep naming the address space of the
 * caller at MAP time, whatever happens to its pid (exit, exec, reuse).
 *
 * DMA reads and writes the page the address space has at the mapped
 * address at the time of the DMA, after checking that a mapping there
 * still allows the access. This is where a broker in user space differs
 * from the kernel, which keeps DMA on the page it pinned: if the caller
 * unmaps or moves the memory, DMA fails (EFAULT, with one log line) rather
 * than follow it; if it maps new memory at the same address, DMA reaches
 * that, its own memory. Pinning reads the pages in (so a hole or an
 * unreadable range fails at pin time, as in the kernel) and never writes
 * them, so no store of the caller's is lost. A real IOMMU cannot use
 * private memory at all (backends say so: shared memory is the fix).
 *
 * A private storage belongs to one context (only COPY within the context
 * shares it), but DMA reaches it through the physical address registry;
 * its own mutex guards its pins.
 */
#ifndef IOMMUFDD_PRIVMEM_H
#define IOMMUFDD_PRIVMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

struct mm_handle;
struct iopt_pages;

/* In-request: handles on the caller's address space. NULL and *err. */
struct mm_handle *mm_handle_open(const struct ucaller *caller, int *err);
struct mm_handle *mm_handle_get(struct mm_handle *mm);
void mm_handle_put(struct mm_handle *mm);
/* The maps file of the handle's address space (for vma_query). */
int mm_handle_maps_fd(const struct mm_handle *mm);
pid_t mm_handle_tgid(const struct mm_handle *mm);

/* Storage for @npages pages of @mm starting at page-aligned @base_va. */
struct iopt_pages *privmem_new(struct mm_handle *mm, uint64_t base_va,
			       uint64_t npages, int *err);

/* The address space and base address of a private storage, or false. */
bool privmem_source(struct iopt_pages *p, pid_t *tgid, uint64_t *base_va);

#endif
