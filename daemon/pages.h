/* SPDX-License-Identifier: MIT */
/*
 * Page storage (iopt_pages): the memory behind one MAP or MAP_FILE, shared by
 * reference between every area that maps part of it, in any IOAS.
 *
 * A page is pinned at most once per storage, however many areas, domains and
 * accesses use it: each page index has a user count and only the 0 -> 1 and
 * 1 -> 0 transitions touch memory, the pin ledger and the accounting.
 *
 * "Pinning" means making the caller's page reachable by the daemon for as
 * long as the pin lasts, independent of the caller:
 *  - shared memory (memfd, shmem, MAP_SHARED|MAP_ANONYMOUS, hugetlbfs, files)
 *    is opened through /proc/PID/map_files and mapped and locked here, so the
 *    daemon holds the very pages the caller sees, even after it exits;
 *  - private memory cannot be shared with another process; it is reached in
 *    the source process with process_vm_readv/writev, after breaking COW so
 *    the page stays the same physical page while pinned.
 * Each pinned page gets a "physical address" (paddr): the daemon address of
 * the page, or for private memory an address in a reserved placeholder range.
 * Domains map IOVA to paddr; phys_rw() performs DMA on a paddr.
 */
#ifndef IOMMUFDD_PAGES_H
#define IOMMUFDD_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct iopt_pages;
struct mm_source;

/* The process whose memory a USER mapping refers to. */
struct mm_source *mm_source_get(pid_t tid);
void mm_source_put(struct mm_source *src);

/*
 * Who pays for pinned pages, against the source process's RLIMIT_MEMLOCK:
 * its user (all processes of a uid share one count, the default) or the
 * process itself (IOMMU_OPTION_RLIMIT_MODE = 1). A source with
 * CAP_IPC_LOCK is not charged.
 */
enum pages_account {
	PAGES_ACCOUNT_USER,
	PAGES_ACCOUNT_MM,
};

/*
 * @src NULL: the memory of a caller the daemon cannot reach (another pid
 * namespace, no ptrace access). Such storage can be mapped, but pinning it
 * fails with EPERM and reading or writing it with EFAULT.
 */
struct iopt_pages *iopt_pages_new_user(struct mm_source *src, uint64_t uptr,
				       uint64_t length, bool writable,
				       enum pages_account account);
/* Takes ownership of @fd; @src is only charged, its memory is not used. */
struct iopt_pages *iopt_pages_new_file(struct mm_source *src, int fd,
				       uint64_t start, uint64_t length,
				       bool writable,
				       enum pages_account account);
void iopt_pages_get(struct iopt_pages *pages);
void iopt_pages_put(struct iopt_pages *pages);

uint64_t iopt_pages_npages(const struct iopt_pages *pages);
/* Offset inside the first page of the storage (user_va % PAGE_SIZE). */
uint64_t iopt_pages_start_byte(const struct iopt_pages *pages);
/* Page-aligned start: user VA for USER storage, file offset for FILE. */
uint64_t iopt_pages_base(const struct iopt_pages *pages);
bool iopt_pages_writable(const struct iopt_pages *pages);

/* Pin (or add a user to) every page in [first, last]. 0 or -errno. */
int iopt_pages_pin(struct iopt_pages *pages, uint64_t first, uint64_t last);
void iopt_pages_unpin(struct iopt_pages *pages, uint64_t first, uint64_t last);
/* paddr of a pinned page index; the page must be pinned. */
uint64_t iopt_pages_paddr(const struct iopt_pages *pages, uint64_t index);
/* Number of physically contiguous pinned pages starting at @index, <= max. */
uint64_t iopt_pages_contig(const struct iopt_pages *pages, uint64_t index,
			   uint64_t max);

/* Read or write bytes of the storage, pinned or not. 0 or -EFAULT. */
int iopt_pages_rw(struct iopt_pages *pages, uint64_t offset, void *buf,
		  uint64_t length, bool write);

/* DMA on pinned memory by physical address. 0 or -EFAULT. */
int phys_rw(uint64_t paddr, void *buf, uint64_t length, bool write);
/* Page frame number recorded when the page behind @paddr was pinned. */
int phys_to_pfn(uint64_t paddr, uint64_t *pfn);

/* Pins held on a physical page frame, as counted by the pin ledger. */
unsigned int pin_ledger_count(uint64_t pfn);
uint64_t pin_ledger_total(void);

/*
 * The frame behind @va in process @pid, faulting it in as a kernel GUP would.
 * 0 and *pfn, *compound (hugetlb or THP page); -errno.
 */
int proc_va_to_pfn(pid_t pid, uint64_t va, uint64_t *pfn, bool *compound);

/* What iommufdctl shows about a page storage. */
struct iopt_pages_info {
	bool file;		/* MAP_FILE, else user memory */
	pid_t tgid;		/* the mapping process */
	uint64_t base;		/* page-aligned VA or file offset */
	uint64_t npages;
	uint64_t npinned;
	unsigned int refs;	/* areas (and copies) sharing it */
	bool writable;
};

void iopt_pages_get_info(const struct iopt_pages *pages,
			 struct iopt_pages_info *info);

/* Each non-zero charge: per user (uid) or per process (pid). */
void pages_for_each_charge(void (*fn)(void *arg, bool per_process,
				      unsigned int key, uint64_t pages),
			   void *arg);

/* Memory limit for pinned pages: 0 or -ENOMEM. */
void pages_set_temp_memory_limit(unsigned int limit);

#endif
