// SPDX-License-Identifier: MIT
/*
 * Page storage and pinning. See pages.h for the model.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "interval_tree.h"
#include "log.h"
#include "pages.h"
#include "util.h"

#define CAP_IPC_LOCK_BIT 14

/* ---- source processes ------------------------------------------------- */

/*
 * A process whose memory backs USER mappings. The pidfd makes "is it still
 * the same process" answerable long after the MAP ioctl returned, so a pin
 * made later never reads a recycled pid.
 */
struct mm_source {
	struct list_head item;
	unsigned int refs;
	pid_t tgid;
	pid_t last_tid;	/* the thread that last resolved to this process */
	int pidfd;
	uid_t uid;
	bool cap_ipc_lock;
};

static struct list_head mm_sources = { &mm_sources, &mm_sources };

static bool mm_source_alive(const struct mm_source *src)
{
	struct pollfd pfd = { .fd = src->pidfd, .events = POLLIN };

	/* A pidfd polls readable once the process has exited. */
	return poll(&pfd, 1, 0) == 0;
}

static int read_status(pid_t pid, pid_t *tgid, uid_t *uid, uint64_t *capeff)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int a;
		unsigned long long c;

		if (sscanf(line, "Tgid: %u", &a) == 1)
			*tgid = a;
		else if (sscanf(line, "Uid: %u", &a) == 1)
			*uid = a;
		else if (sscanf(line, "CapEff: %llx", &c) == 1)
			*capeff = c;
	}
	fclose(f);
	return 0;
}

struct mm_source *mm_source_get(pid_t tid)
{
	struct mm_source *src;
	pid_t tgid = 0;
	uid_t uid = 0;
	uint64_t capeff = 0;
	int pidfd;

	if (tid <= 0)
		return NULL;

	/*
	 * A thread seen before: confirm it still belongs to that process with
	 * one stat instead of parsing its status. The caller is blocked in
	 * its ioctl, so the answer cannot change under us.
	 */
	list_for_each_entry(src, &mm_sources, item) {
		char path[64];
		struct stat st;

		if (src->last_tid != tid || !mm_source_alive(src))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)src->tgid,
			 (int)tid);
		if (stat(path, &st) == 0) {
			src->refs++;
			return src;
		}
	}

	if (read_status(tid, &tgid, &uid, &capeff) || !tgid)
		return NULL;

	list_for_each_entry(src, &mm_sources, item) {
		if (src->tgid == tgid && mm_source_alive(src)) {
			src->refs++;
			src->last_tid = tid;
			return src;
		}
	}

	pidfd = syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return NULL;
	src = xcalloc(1, sizeof(*src));
	src->refs = 1;
	src->tgid = tgid;
	src->last_tid = tid;
	src->pidfd = pidfd;
	src->uid = uid;
	src->cap_ipc_lock = capeff & (1ULL << CAP_IPC_LOCK_BIT);
	list_add_tail(&src->item, &mm_sources);
	return src;
}

void mm_source_put(struct mm_source *src)
{
	if (!src || --src->refs)
		return;
	list_del(&src->item);
	close(src->pidfd);
	free(src);
}

/* ---- pin ledger ----------------------------------------------------- */

/*
 * How many pins the daemon holds on each physical frame. This is the single
 * truth behind IOMMU_TEST_OP_MD_CHECK_REFS: the kernel answers it from the
 * page refcount, we answer it from here. Open addressing, linear probing,
 * backward-shift deletion; key 0 is never a valid pinned frame here because
 * pfn 0 is not a RAM page a user can map.
 */
struct ledger_slot {
	uint64_t pfn;
	unsigned int count;
};

static struct ledger_slot *ledger;
static uint64_t ledger_cap, ledger_used, ledger_pins;

static uint64_t ledger_hash(uint64_t pfn)
{
	return (pfn * 0x9e3779b97f4a7c15ULL) >> 17;
}

static struct ledger_slot *ledger_find(uint64_t pfn)
{
	uint64_t i;

	if (!ledger_cap)
		return NULL;
	for (i = ledger_hash(pfn) & (ledger_cap - 1);; i = (i + 1) & (ledger_cap - 1)) {
		if (ledger[i].pfn == pfn)
			return &ledger[i];
		if (!ledger[i].pfn)
			return NULL;
	}
}

static void ledger_grow(void)
{
	struct ledger_slot *old = ledger;
	uint64_t old_cap = ledger_cap, i, j;

	ledger_cap = old_cap ? old_cap * 2 : 1024;
	ledger = xcalloc(ledger_cap, sizeof(*ledger));
	for (i = 0; i < old_cap; i++) {
		if (!old[i].pfn)
			continue;
		for (j = ledger_hash(old[i].pfn) & (ledger_cap - 1); ledger[j].pfn;
		     j = (j + 1) & (ledger_cap - 1))
			;
		ledger[j] = old[i];
	}
	free(old);
}

static void ledger_inc(uint64_t pfn)
{
	struct ledger_slot *slot = ledger_find(pfn);
	uint64_t i;

	ledger_pins++;
	if (slot) {
		slot->count++;
		return;
	}
	if ((ledger_used + 1) * 4 > ledger_cap * 3)
		ledger_grow();
	for (i = ledger_hash(pfn) & (ledger_cap - 1); ledger[i].pfn;
	     i = (i + 1) & (ledger_cap - 1))
		;
	ledger[i].pfn = pfn;
	ledger[i].count = 1;
	ledger_used++;
}

static void ledger_dec(uint64_t pfn)
{
	struct ledger_slot *slot = ledger_find(pfn);
	uint64_t hole, i, home;

	if (!slot) {
		log_warnx("pin ledger: unpin of unknown pfn 0x%" PRIx64, pfn);
		return;
	}
	ledger_pins--;
	if (--slot->count)
		return;

	hole = slot - ledger;
	ledger[hole].pfn = 0;
	ledger_used--;
	for (i = (hole + 1) & (ledger_cap - 1); ledger[i].pfn;
	     i = (i + 1) & (ledger_cap - 1)) {
		home = ledger_hash(ledger[i].pfn) & (ledger_cap - 1);
		/* Move the entry back if the hole lies on its probe path. */
		if (((i - home) & (ledger_cap - 1)) >=
		    ((i - hole) & (ledger_cap - 1))) {
			ledger[hole] = ledger[i];
			ledger[i].pfn = 0;
			hole = i;
		}
	}
}

unsigned int pin_ledger_count(uint64_t pfn)
{
	struct ledger_slot *slot = ledger_find(pfn);

	return slot ? slot->count : 0;
}

uint64_t pin_ledger_total(void)
{
	return ledger_pins;
}

/* ---- accounting ----------------------------------------------------- */

/*
 * Pinned pages charged to a user (like the kernel's user->locked_vm) or to
 * a process (mm->locked_vm). Entries stay once created: there are as many
 * as users and processes that ever pinned, which is few.
 */
struct charge {
	struct list_head item;
	enum pages_account account;
	unsigned int key; /* uid or tgid */
	uint64_t pages;
};

static struct list_head charges = { &charges, &charges };

static struct charge *charge_find(const struct mm_source *src,
				  enum pages_account account)
{
	unsigned int key = account == PAGES_ACCOUNT_USER ? (unsigned int)src->uid :
							  (unsigned int)src->tgid;
	struct charge *c;

	list_for_each_entry(c, &charges, item)
		if (c->account == account && c->key == key)
			return c;
	c = xcalloc(1, sizeof(*c));
	c->account = account;
	c->key = key;
	list_add_tail(&c->item, &charges);
	return c;
}

/*
 * The soft RLIMIT_MEMLOCK of @tgid in bytes. prlimit() needs
 * CAP_SYS_RESOURCE for another user's process; /proc/PID/limits says the
 * same to anyone who may read it. UINT64_MAX: unlimited or unknowable.
 */
static uint64_t memlock_limit(pid_t tgid)
{
	unsigned long long soft;
	struct rlimit lim;
	char path[64], line[256];
	uint64_t ret = UINT64_MAX;
	FILE *f;

	if (prlimit(tgid, RLIMIT_MEMLOCK, NULL, &lim) == 0)
		return lim.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
						       (uint64_t)lim.rlim_cur;
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)tgid);
	f = fopen(path, "re");
	if (!f) {
		log_warnx("pid %d: cannot read RLIMIT_MEMLOCK; not enforced",
			  (int)tgid);
		return UINT64_MAX;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Max locked memory %llu", &soft) == 1)
			ret = soft;
	fclose(f);
	return ret;
}

static int account_pinned(struct mm_source *src, enum pages_account account,
			  uint64_t npages)
{
	struct charge *c;
	uint64_t limit;

	if (!src || src->cap_ipc_lock || !npages)
		return 0;
	c = charge_find(src, account);
	limit = memlock_limit(src->tgid);
	if (limit != UINT64_MAX && c->pages + npages > limit / PAGE_SIZE) {
		log_info("pid %d: pinning %" PRIu64 " more pages exceeds "
			 "RLIMIT_MEMLOCK (%" PRIu64 " pages already charged "
			 "to %s %u)",
			 (int)src->tgid, npages, c->pages,
			 account == PAGES_ACCOUNT_USER ? "uid" : "pid", c->key);
		return -ENOMEM;
	}
	c->pages += npages;
	return 0;
}

static void unaccount_pinned(struct mm_source *src, enum pages_account account,
			     uint64_t npages)
{
	if (!src || src->cap_ipc_lock || !npages)
		return;
	charge_find(src, account)->pages -= npages;
}

/* ---- physical memory map ---------------------------------------------- */

/*
 * A run of pinned pages resolved in one go: either a daemon mapping of shared
 * memory (local) or a run of private pages in the source process (remote).
 * Its node in the global phys map is keyed by paddr.
 */
struct pin_chunk {
	struct itree_node phys;
	struct iopt_pages *pages;
	uint64_t first_index;
	uint64_t npages;
	uint64_t nr_pinned;
	void *map;		/* local mapping, or the paddr placeholder */
	size_t map_len;
	bool local;
	uint64_t remote_va;	/* remote: source address of first page */
	uint64_t pfns[];
};

static struct itree phys_map;

static struct pin_chunk *phys_find(uint64_t paddr)
{
	struct itree_node *node = itree_iter_first(&phys_map, paddr, paddr);

	return node ? container_of(node, struct pin_chunk, phys) : NULL;
}

/* ---- page storage --------------------------------------------------- */

enum pages_type { PAGES_USER, PAGES_FILE };

struct page_pin {
	unsigned int users;
	struct pin_chunk *chunk;
};

struct iopt_pages {
	unsigned int refs;
	enum pages_type type;
	enum pages_account account;
	bool writable;
	struct mm_source *src;	/* USER: memory; both: who is charged */
	uint64_t base;		/* USER: page-aligned VA; FILE: offset */
	int fd;			/* FILE */
	uint64_t start_byte;
	uint64_t npages;
	uint64_t npinned;
	struct page_pin *pins;	/* only while npinned != 0 */
};

static unsigned int temp_memory_limit = 65536;

void pages_set_temp_memory_limit(unsigned int limit)
{
	temp_memory_limit = limit;
}

static struct iopt_pages *pages_alloc(struct mm_source *src, uint64_t addr,
				      uint64_t length, bool writable,
				      enum pages_account account)
{
	struct iopt_pages *pages = xcalloc(1, sizeof(*pages));

	pages->refs = 1;
	pages->writable = writable;
	pages->account = account;
	pages->fd = -1;
	pages->src = src;
	if (src)
		src->refs++;
	pages->start_byte = addr % PAGE_SIZE;
	pages->base = addr - pages->start_byte;
	pages->npages = (pages->start_byte + length + PAGE_SIZE - 1) / PAGE_SIZE;
	return pages;
}

struct iopt_pages *iopt_pages_new_user(struct mm_source *src, uint64_t uptr,
				       uint64_t length, bool writable,
				       enum pages_account account)
{
	struct iopt_pages *pages =
		pages_alloc(src, uptr, length, writable, account);

	pages->type = PAGES_USER;
	return pages;
}

struct iopt_pages *iopt_pages_new_file(struct mm_source *src, int fd,
				       uint64_t start, uint64_t length,
				       bool writable,
				       enum pages_account account)
{
	struct iopt_pages *pages =
		pages_alloc(src, start, length, writable, account);

	pages->type = PAGES_FILE;
	pages->fd = fd;
	return pages;
}

void iopt_pages_get(struct iopt_pages *pages)
{
	pages->refs++;
}

void iopt_pages_put(struct iopt_pages *pages)
{
	if (--pages->refs)
		return;
	if (pages->npinned)
		log_warnx("page storage freed with %" PRIu64 " pages pinned",
			  pages->npinned);
	if (pages->fd >= 0)
		close(pages->fd);
	mm_source_put(pages->src);
	free(pages->pins);
	free(pages);
}

void iopt_pages_get_info(const struct iopt_pages *pages,
			 struct iopt_pages_info *info)
{
	info->file = pages->type == PAGES_FILE;
	info->tgid = pages->src ? pages->src->tgid : 0;
	info->base = pages->base;
	info->npages = pages->npages;
	info->npinned = pages->npinned;
	info->refs = pages->refs;
	info->writable = pages->writable;
}

void pages_for_each_charge(void (*fn)(void *arg, bool per_process,
				      unsigned int key, uint64_t pages),
			   void *arg)
{
	struct charge *c;

	list_for_each_entry(c, &charges, item)
		if (c->pages)
			fn(arg, c->account == PAGES_ACCOUNT_MM, c->key,
			   c->pages);
}

uint64_t iopt_pages_npages(const struct iopt_pages *pages)
{
	return pages->npages;
}

uint64_t iopt_pages_start_byte(const struct iopt_pages *pages)
{
	return pages->start_byte;
}

uint64_t iopt_pages_base(const struct iopt_pages *pages)
{
	return pages->base;
}

bool iopt_pages_writable(const struct iopt_pages *pages)
{
	return pages->writable;
}

/* One VMA of the source process, as /proc/PID/maps describes it. */
struct vma_info {
	uint64_t start, end, offset;
	bool read, write, shared;
	char start_end[48];
};

/* Find the VMA containing @va. 0, -EFAULT if none. */
static int find_vma(pid_t tgid, uint64_t va, struct vma_info *vma)
{
	char path[64], line[512];
	FILE *f;
	int ret = -EFAULT;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tgid);
	f = fopen(path, "re");
	if (!f)
		return -EFAULT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, off;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx", &s, &e, perms, &off) != 4)
			continue;
		if (va < s || va >= e)
			continue;
		vma->start = s;
		vma->end = e;
		vma->offset = off;
		vma->read = perms[0] == 'r';
		vma->write = perms[1] == 'w';
		vma->shared = perms[3] == 's';
		snprintf(vma->start_end, sizeof(vma->start_end), "%llx-%llx", s, e);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static int read_pfns(const char *pagemap, uint64_t va, uint64_t n,
		     uint64_t *pfns)
{
	int fd = open(pagemap, O_RDONLY | O_CLOEXEC);
	uint64_t i;
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = pread(fd, pfns, n * 8, (off_t)(va / PAGE_SIZE * 8));
	close(fd);
	if (len != (ssize_t)(n * 8))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		/* bit 63: present; bits 0-54: frame (0 without CAP_SYS_ADMIN) */
		if (!(pfns[i] & (1ULL << 63)))
			return -EFAULT;
		pfns[i] &= (1ULL << 55) - 1;
	}
	return 0;
}

static struct pin_chunk *chunk_alloc(struct iopt_pages *pages, uint64_t first,
				     uint64_t n)
{
	struct pin_chunk *chunk = xcalloc(1, sizeof(*chunk) + n * 8);

	chunk->pages = pages;
	chunk->first_index = first;
	chunk->npages = n;
	return chunk;
}

static void chunk_free(struct pin_chunk *chunk)
{
	if (chunk->phys.last)
		itree_remove(&phys_map, &chunk->phys);
	if (chunk->map)
		munmap(chunk->map, chunk->map_len);
	free(chunk);
}

/*
 * Map @n pages of @fd at @offset into the daemon and lock them. The daemon
 * address keeps the source's offset modulo 2 MiB, so memory that is huge-page
 * aligned in the caller can be mapped with large IOPTEs.
 */
static int chunk_map_local(struct pin_chunk *chunk, int fd, uint64_t offset,
			   uint64_t align_va, bool writable)
{
	uint64_t len = chunk->npages * PAGE_SIZE, blk, map_off, map_len;
	uint64_t reserve_len, target;
	struct stat st;
	char *reserve, *map;
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);

	/* hugetlbfs needs offsets and lengths in whole huge pages */
	blk = fstat(fd, &st) == 0 && st.st_blksize > (blksize_t)PAGE_SIZE ?
		      (uint64_t)st.st_blksize : PAGE_SIZE;
	map_off = ALIGN_DOWN_U64(offset, blk);
	map_len = ALIGN_UP_U64(offset - map_off + len, blk);

	reserve_len = map_len + HPAGE_SIZE;
	reserve = mmap(NULL, reserve_len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserve == MAP_FAILED)
		return -ENOMEM;
	target = ALIGN_UP_U64((uint64_t)(uintptr_t)reserve, HPAGE_SIZE) +
		 ((align_va - (offset - map_off)) % HPAGE_SIZE);
	if (target >= (uint64_t)(uintptr_t)reserve + HPAGE_SIZE)
		target -= HPAGE_SIZE;
	map = mmap((void *)(uintptr_t)target, map_len, prot,
		   MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, (off_t)map_off);
	if (map == MAP_FAILED) {
		int err = errno;

		munmap(reserve, reserve_len);
		log_debug("mmap of pinned memory failed: %s", strerror(err));
		return -EFAULT;
	}
	/* Trim the reservation around the real mapping. */
	if (target > (uint64_t)(uintptr_t)reserve)
		munmap(reserve, target - (uint64_t)(uintptr_t)reserve);
	if ((uint64_t)(uintptr_t)reserve + reserve_len > target + map_len)
		munmap((void *)(uintptr_t)(target + map_len),
		       (uint64_t)(uintptr_t)reserve + reserve_len - target -
			       map_len);
	chunk->map = map;
	chunk->map_len = map_len;
	chunk->local = true;
	if (mlock(map + (offset - map_off), len))
		log_debug("mlock of pinned memory failed: %s", strerror(errno));
	chunk->phys.start = (uint64_t)(uintptr_t)map + (offset - map_off);
	return read_pfns("/proc/self/pagemap", chunk->phys.start, chunk->npages,
			 chunk->pfns);
}

/*
 * Pin private memory in the source process. Writing each page back through
 * /proc/PID/mem breaks copy-on-write the way the kernel's pin unshares it, so
 * the frame we record is the one the process will keep writing to.
 */
static int chunk_pin_remote(struct pin_chunk *chunk, struct mm_source *src,
			    uint64_t va)
{
	uint64_t len = chunk->npages * PAGE_SIZE, i;
	char path[64], page[PAGE_SIZE];
	int memfd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)src->tgid);
	memfd = open(path, O_RDWR | O_CLOEXEC);
	if (memfd < 0)
		return -EFAULT;
	for (i = 0; i < chunk->npages && !ret; i++) {
		off_t at = (off_t)(va + i * PAGE_SIZE);

		if (pread(memfd, page, PAGE_SIZE, at) != (ssize_t)PAGE_SIZE ||
		    pwrite(memfd, page, PAGE_SIZE, at) != (ssize_t)PAGE_SIZE)
			ret = -EFAULT;
	}
	close(memfd);
	if (ret)
		return ret;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)src->tgid);
	ret = read_pfns(path, va, chunk->npages, chunk->pfns);
	if (ret)
		return ret;

	/* A placeholder range gives the private pages unique paddrs. */
	chunk->map = mmap(NULL, len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (chunk->map == MAP_FAILED) {
		chunk->map = NULL;
		return -ENOMEM;
	}
	chunk->map_len = len;
	chunk->remote_va = va;
	chunk->phys.start = (uint64_t)(uintptr_t)chunk->map;
	return 0;
}

static void log_private_once(const struct mm_source *src)
{
	static pid_t logged;

	if (logged == src->tgid)
		return;
	logged = src->tgid;
	log_info("pid %d maps private memory: it stays reachable only while "
		 "the process lives; use shared memory (memfd, MAP_SHARED) "
		 "for durable DMA", (int)src->tgid);
}

/* Resolve pages [first, first + n) into one chunk, or fewer pages. */
static int pages_resolve(struct iopt_pages *pages, uint64_t first, uint64_t n,
			 struct pin_chunk **out)
{
	struct pin_chunk *chunk;
	struct vma_info vma;
	uint64_t va, avail;
	char path[96];
	int fd, ret;

	if (n > temp_memory_limit)
		n = temp_memory_limit;

	if (pages->type == PAGES_FILE) {
		chunk = chunk_alloc(pages, first, n);
		ret = chunk_map_local(chunk, pages->fd,
				      pages->base + first * PAGE_SIZE,
				      pages->base + first * PAGE_SIZE,
				      pages->writable);
		goto out;
	}

	if (!pages->src) {
		log_info("cannot pin 0x%" PRIx64 " bytes at 0x%" PRIx64 ": they were mapped by a caller out of the daemon's reach (another pid namespace, or no ptrace access)",
			 (uint64_t)(n * PAGE_SIZE),
			 (uint64_t)(pages->base + first * PAGE_SIZE));
		return -EPERM;
	}
	if (!mm_source_alive(pages->src))
		return -EFAULT;
	va = pages->base + first * PAGE_SIZE;
	ret = find_vma(pages->src->tgid, va, &vma);
	if (ret)
		return ret;
	if (!vma.read || (pages->writable && !vma.write))
		return -EFAULT;
	avail = (vma.end - va) / PAGE_SIZE;
	if (n > avail)
		n = avail;

	chunk = chunk_alloc(pages, first, n);
	if (vma.shared) {
		snprintf(path, sizeof(path), "/proc/%d/map_files/%s",
			 (int)pages->src->tgid, vma.start_end);
		fd = open(path, (pages->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			log_warn("cannot open %s", path);
			ret = -EFAULT;
			goto out;
		}
		ret = chunk_map_local(chunk, fd, vma.offset + (va - vma.start),
				      va, pages->writable);
		close(fd);
	} else {
		log_private_once(pages->src);
		ret = chunk_pin_remote(chunk, pages->src, va);
	}
out:
	if (ret) {
		chunk_free(chunk);
		return ret;
	}
	chunk->phys.last = chunk->phys.start + chunk->npages * PAGE_SIZE - 1;
	itree_insert(&phys_map, &chunk->phys);
	*out = chunk;
	return 0;
}

static void page_unpin_one(struct iopt_pages *pages, uint64_t index)
{
	struct page_pin *pin = &pages->pins[index];
	struct pin_chunk *chunk = pin->chunk;

	if (--pin->users)
		return;
	ledger_dec(chunk->pfns[index - chunk->first_index]);
	pin->chunk = NULL;
	pages->npinned--;
	if (!--chunk->nr_pinned)
		chunk_free(chunk);
}

void iopt_pages_unpin(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	uint64_t before = pages->npinned, i;

	for (i = first; i <= last; i++)
		page_unpin_one(pages, i);
	unaccount_pinned(pages->src, pages->account, before - pages->npinned);
	if (!pages->npinned) {
		free(pages->pins);
		pages->pins = NULL;
	}
}

int iopt_pages_pin(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	uint64_t i = first, j, before = pages->npinned;
	int ret = 0;

	if (!pages->pins)
		pages->pins = xcalloc(pages->npages, sizeof(*pages->pins));

	while (i <= last) {
		struct pin_chunk *chunk;
		uint64_t run;

		if (pages->pins[i].users) {
			pages->pins[i++].users++;
			continue;
		}
		for (run = 1; i + run <= last && !pages->pins[i + run].users;
		     run++)
			;
		ret = pages_resolve(pages, i, run, &chunk);
		if (ret)
			break;
		for (j = 0; j < chunk->npages; j++) {
			pages->pins[i + j].users = 1;
			pages->pins[i + j].chunk = chunk;
			ledger_inc(chunk->pfns[j]);
		}
		chunk->nr_pinned = chunk->npages;
		pages->npinned += chunk->npages;
		i += chunk->npages;
	}

	if (!ret) {
		ret = account_pinned(pages->src, pages->account,
				     pages->npinned - before);
		if (!ret)
			return 0;
	}
	/* Undo exactly what this call did: pages [first, i) got one user. */
	for (j = first; j < i; j++)
		page_unpin_one(pages, j);
	if (!pages->npinned) {
		free(pages->pins);
		pages->pins = NULL;
	}
	return ret;
}

uint64_t iopt_pages_paddr(const struct iopt_pages *pages, uint64_t index)
{
	const struct pin_chunk *chunk = pages->pins[index].chunk;

	return chunk->phys.start + (index - chunk->first_index) * PAGE_SIZE;
}

uint64_t iopt_pages_contig(const struct iopt_pages *pages, uint64_t index,
			   uint64_t max)
{
	const struct pin_chunk *chunk = pages->pins[index].chunk;
	uint64_t n = chunk->first_index + chunk->npages - index;

	return n < max ? n : max;
}

static int source_rw(struct iopt_pages *pages, uint64_t offset, void *buf,
		     uint64_t length, bool write)
{
	struct iovec local = { buf, length };
	struct iovec remote = { (void *)(uintptr_t)(pages->base + offset),
				length };
	ssize_t done;

	if (pages->type == PAGES_FILE) {
		done = write ? pwrite(pages->fd, buf, length,
				      (off_t)(pages->base + offset)) :
			       pread(pages->fd, buf, length,
				     (off_t)(pages->base + offset));
		return done == (ssize_t)length ? 0 : -EFAULT;
	}
	if (write && !pages->writable)
		return -EPERM;
	if (!pages->src || !mm_source_alive(pages->src))
		return -EFAULT;
	done = write ? process_vm_writev(pages->src->tgid, &local, 1, &remote,
					 1, 0) :
		       process_vm_readv(pages->src->tgid, &local, 1, &remote, 1,
					0);
	return done == (ssize_t)length ? 0 : -EFAULT;
}

int iopt_pages_rw(struct iopt_pages *pages, uint64_t offset, void *buf,
		  uint64_t length, bool write)
{
	while (length) {
		uint64_t index = offset / PAGE_SIZE;
		uint64_t n = PAGE_SIZE - offset % PAGE_SIZE;
		int ret;

		if (n > length)
			n = length;
		if (pages->pins && pages->pins[index].users)
			ret = phys_rw(iopt_pages_paddr(pages, index) +
					      offset % PAGE_SIZE,
				      buf, n, write);
		else
			ret = source_rw(pages, offset, buf, n, write);
		if (ret)
			return ret;
		offset += n;
		buf = (char *)buf + n;
		length -= n;
	}
	return 0;
}

int phys_rw(uint64_t paddr, void *buf, uint64_t length, bool write)
{
	while (length) {
		struct pin_chunk *chunk = phys_find(paddr);
		uint64_t n;

		if (!chunk)
			return -EFAULT;
		n = chunk->phys.last - paddr + 1;
		if (n > length)
			n = length;
		if (chunk->local) {
			if (write)
				memcpy((void *)(uintptr_t)paddr, buf, n);
			else
				memcpy(buf, (void *)(uintptr_t)paddr, n);
		} else {
			struct mm_source *src = chunk->pages->src;
			struct iovec local = { buf, n };
			struct iovec remote = {
				(void *)(uintptr_t)(chunk->remote_va + paddr -
						    chunk->phys.start),
				n
			};
			ssize_t done;

			if (!mm_source_alive(src))
				return -EFAULT;
			done = write ? process_vm_writev(src->tgid, &local, 1,
							 &remote, 1, 0) :
				       process_vm_readv(src->tgid, &local, 1,
							&remote, 1, 0);
			if (done != (ssize_t)n)
				return -EFAULT;
		}
		paddr += n;
		buf = (char *)buf + n;
		length -= n;
	}
	return 0;
}

int phys_to_pfn(uint64_t paddr, uint64_t *pfn)
{
	struct pin_chunk *chunk = phys_find(paddr);

	if (!chunk)
		return -ENOENT;
	*pfn = chunk->pfns[(paddr - chunk->phys.start) / PAGE_SIZE];
	return 0;
}

#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_THP 22

int proc_va_to_pfn(pid_t pid, uint64_t va, uint64_t *pfn, bool *compound)
{
	char path[64];
	uint64_t entry, flags;
	int fd, tries;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	for (tries = 0; tries < 2; tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (pread(fd, &entry, 8, (off_t)(va / PAGE_SIZE * 8)) != 8) {
			close(fd);
			return -EFAULT;
		}
		close(fd);
		if (entry & (1ULL << 63))
			break;
		/* Not present: fault it in, as get_user_pages would. */
		{
			char byte;
			struct iovec local = { &byte, 1 };
			struct iovec remote = { (void *)(uintptr_t)va, 1 };

			if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != 1)
				return -EFAULT;
		}
	}
	if (!(entry & (1ULL << 63)))
		return -EFAULT;
	*pfn = entry & ((1ULL << 55) - 1);

	*compound = false;
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &flags, 8, (off_t)(*pfn * 8)) == 8)
			*compound = flags & ((1ULL << KPF_COMPOUND_HEAD) |
					     (1ULL << KPF_COMPOUND_TAIL) |
					     (1ULL << KPF_HUGE) |
					     (1ULL << KPF_THP));
		close(fd);
	}
	return 0;
}
