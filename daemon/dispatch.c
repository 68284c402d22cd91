// SPDX-License-Identifier: MIT
/*
 * Context life cycle and the ioctl dispatcher. The rules are the kernel's
 * (uapi.md §2.1): read the leading size first (EFAULT), unknown numbers get
 * ENOTTY, sizes below the minimum EINVAL, non-zero bytes past the known
 * struct E2BIG, short structs are zero-extended, and replies copy back
 * min(user size, known size) bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd/iommufd_test.h>

#include "abi.h"
#include "account.h"
#include "backend.h"
#include "ioctl_table.h"
#include "iommufd_private.h"
#include "launcher.h"
#include "objfile.h"
#include "log.h"
#include "memfile.h"
#include "pages.h"
#include "uaccess.h"
#include "user_budget.h"

struct list_head iommufd_contexts = { &iommufd_contexts, &iommufd_contexts };

/* Generous: far beyond what a VMM needs, far below what hurts the host. */
struct iommufd_limits iommufd_default_limits = {
	.objects = 65536,
	.areas = 4 * 1024 * 1024,
	.iova_ranges = 65536,
	.pinned_pages = 0, /* RLIMIT_MEMLOCK is the limit */
};
pthread_mutex_t iommufd_contexts_lock = PTHREAD_MUTEX_INITIALIZER;
struct iommufd_stats iommufd_stats;
static const struct iommu_backend_ops *core_backend;
void (*iommufd_event_hook)(const struct iommufd_event *ev);

int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	/* A device bound by IOMMUFDD_VFIO_DEVICE_BIND detaches first. */
	iommufd_device_prepare_destroy(ucmd->ictx, cmd->id);
	return iommufd_object_remove(ucmd->ictx, cmd->id, true);
}

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t length)
{
	size_t n = ucmd->user_size < length ? ucmd->user_size : length;

	return copy_to_user(ucmd->caller, ucmd->ubuffer, ucmd->cmd, n) ?
		       -EFAULT :
		       0;
}

/* Read a caller struct with the kernel's copy_struct_from_user rules. */
static int copy_struct_from_caller(const struct ucaller *caller, void *dst,
				   size_t ksize, uint64_t uptr, uint64_t usize)
{
	int ret;

	if (usize > ksize) {
		ret = check_zeroed_user(caller, uptr + ksize, usize - ksize);
		if (ret)
			return ret;
	}
	memset(dst, 0, ksize);
	return copy_from_user(caller, dst, uptr, usize < ksize ? usize : ksize);
}

int iommu_copy_struct_from_user(const struct iommu_user_data *data, void *dst,
				uint32_t type, size_t min_len, size_t klen)
{
	if (data->type != type)
		return -EINVAL;
	if (data->len < min_len || data->len > klen)
		return -EINVAL;
	memset(dst, 0, klen);
	return copy_from_user(data->caller, dst, data->uptr, data->len);
}

int iommu_copy_struct_from_user_array(const struct iommu_user_data_array *a,
				      void *dst, uint32_t type, size_t min_len,
				      size_t klen, uint32_t index)
{
	/* The same size rules as a single driver struct (conformance §4.2). */
	const struct iommu_user_data entry = {
		.caller = a->caller,
		.type = a->type,
		.len = a->entry_len,
		.uptr = a->uptr + (uint64_t)index * a->entry_len,
	};

	return iommu_copy_struct_from_user(&entry, dst, type, min_len, klen);
}

/*
 * Copy the command struct in. One speculative read of the whole known
 * struct usually brings the size and the struct together; only a struct
 * that claims more than it has, or a non-zero-checked tail, needs more.
 */
static int copy_cmd_from_caller(const struct iommufd_ioctl *op,
				struct iommufd_ucmd *ucmd)
{
	size_t want = op ? op->size : sizeof(ucmd->user_size);
	long got;

	got = copy_from_user_partial(ucmd->caller, ucmd->cmd, ucmd->ubuffer,
				     want);
	if (got < (long)sizeof(ucmd->user_size))
		return got == -EPERM ? -EPERM : -EFAULT;
	memcpy(&ucmd->user_size, ucmd->cmd, sizeof(ucmd->user_size));

	/* The size is read before the number is checked, as the kernel does. */
	if (!op)
		return -ENOTTY;
	if (ucmd->user_size < op->min_size)
		return -EINVAL;
	if (ucmd->user_size < op->size && got >= (long)ucmd->user_size) {
		/* Bytes past the caller's struct are not theirs: zero them. */
		memset((char *)ucmd->cmd + ucmd->user_size, 0,
		       op->size - ucmd->user_size);
		return 0;
	}
	if (ucmd->user_size == op->size && got == (long)op->size)
		return 0;
	return copy_struct_from_caller(ucmd->caller, ucmd->cmd, op->size,
				       ucmd->ubuffer, ucmd->user_size);
}

const char *iommufd_ioctl_name(unsigned int nr)
{
	const struct iommufd_ioctl *row = iommufd_ioctl_by_nr(nr);

	return row ? row->name : NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void stats_account(unsigned int cmd, long ret, uint64_t ns)
{
	unsigned int bucket = fls64(ns / 1000);

	count(&iommufd_stats.calls[_IOC_NR(cmd)]);
	if (ret < 0 && -ret < IOMMUFD_STATS_ERRNO_MAX)
		count(&iommufd_stats.errors[-ret]);
	if (bucket >= IOMMUFD_STATS_LATENCY_BUCKETS)
		bucket = IOMMUFD_STATS_LATENCY_BUCKETS - 1;
	count(&iommufd_stats.latency_us[bucket]);
}

long iommufd_ctx_ioctl(struct iommufd_ctx *ictx, const struct ucaller *caller,
		       unsigned int cmd, uint64_t arg)
{
	if (_IOC_TYPE(cmd) == IOMMUFDD_PRIV_TYPE)
		return iommufd_priv_ioctl(ictx, caller, cmd, arg);
	return iommufd_ctx_ioctl_install(ictx, caller, cmd, arg, NULL);
}

static long dispatch(struct iommufd_ucmd *ucmd, unsigned int cmd);

/* Counted here, so ioctls the supervisor runs for iommufd-run count too. */
long iommufd_ctx_ioctl_install(struct iommufd_ctx *ictx,
			       const struct ucaller *caller, unsigned int cmd,
			       uint64_t arg, struct iommufd_fd_install *install)
{
	struct iommufd_ucmd ucmd = {
		.ictx = ictx,
		.caller = caller,
		.ubuffer = arg,
		.install = install,
	};
	uint64_t start = now_ns();
	long ret;

	fail_nth_enter(&ictx->fail_nth);
	ret = dispatch(&ucmd, cmd);
	fail_nth_leave();
	stats_account(cmd, ret, now_ns() - start);
	return ret;
}

/*
 * Numbers in the span of the kernel's iommufd table, and of ours
 * (iommufdd_ext.h), read the size word before the number is matched, so a
 * bad pointer is EFAULT even for a number no command has (uapi.md §2.1);
 * the others are VFIO's or unknown.
 */
static bool in_iommufd_span(unsigned int cmd)
{
	return (_IOC_NR(cmd) >= IOMMUFD_CMD_BASE &&
		_IOC_NR(cmd) <= _IOC_NR(IOMMU_TEST_CMD)) ||
	       (_IOC_NR(cmd) >= IOMMUFDD_CMD_BASE &&
		_IOC_NR(cmd) <= IOMMUFDD_CMD_LAST);
}

/* The row that serves @cmd for this daemon, or NULL: ENOTTY. */
static const struct iommufd_ioctl *dispatch_row(unsigned int cmd)
{
	const struct iommufd_ioctl *op = iommufd_ioctl_find(cmd);

	/*
	 * The selftest interface exists only with the mock, as the kernel
	 * has it only with CONFIG_IOMMUFD_TEST.
	 */
	if (op && cmd == IOMMU_TEST_CMD && core_backend != &mock_backend_ops)
		return NULL;
	/* Commands newer than the kernel ABI in force (abi-new-ioctls). */
	if (op && !abi_has(op->since))
		return NULL;
	return op;
}

static long dispatch(struct iommufd_ucmd *ucmd, unsigned int cmd)
{
	const struct iommufd_ioctl *op = dispatch_row(cmd);
	uint64_t buf[IOCTL_STRUCT_MAX / sizeof(uint64_t)];
	int ret;

	if (!in_iommufd_span(cmd)) {
		/*
		 * VFIO's container ioctls read their own arguments; a sized
		 * row out here would run on an uncopied struct.
		 */
		if (!op || op->arg == IOCTL_ARG_SIZED)
			return -ENOTTY;
		ucmd->name = op->name;
		return op->execute(ucmd);
	}
	if (op && op->arg != IOCTL_ARG_SIZED)
		op = NULL;
	ucmd->cmd = buf;
	ret = copy_cmd_from_caller(op, ucmd);
	if (ret)
		return ret;
	ucmd->name = op->name;
	if (ucmd->install && op->fd >= 0)
		ucmd->install->fd_offset = (uint32_t)op->fd;
	ret = op->execute(ucmd);
	if (ret < 0 && ret != -ENOENT && ret != -EBUSY)
		log_debug("pid %d: %s: %s", (int)ucmd->caller->pid, ucmd->name,
			  strerror(-ret));
	return ret;
}

int iommufd_core_init(const char *backend_name)
{
	int ret;

	core_backend = iommu_backend_find(backend_name);
	if (!core_backend)
		return -ENOENT;
	if (core_backend->init) {
		ret = core_backend->init();
		if (ret)
			return ret;
	}
	return pages_init();
}

const struct iommu_backend_ops *iommu_backend_current(void)
{
	return core_backend;
}

void iommufd_core_exit(void)
{
	core_backend = NULL;
}

const struct iommu_backend_ops *iommu_backend_find(const char *name)
{
	if (!strcmp(name, mock_backend_ops.name))
		return &mock_backend_ops;
	if (!strcmp(name, vfio_backend_ops.name))
		return &vfio_backend_ops;
	return NULL;
}

static void ctx_files_hold(struct objfile_owner *owner)
{
	iommufd_ctx_hold(container_of(owner, struct iommufd_ctx, files));
}

static void ctx_files_unhold(struct objfile_owner *owner)
{
	iommufd_ctx_unhold(container_of(owner, struct iommufd_ctx, files));
}

struct iommufd_ctx *iommufd_ctx_open(const struct ucaller *opener)
{
	static atomic_uint_fast64_t serial;
	struct iommufd_ctx *ictx = calloc(1, sizeof(*ictx));
	char path[64];
	FILE *f;

	if (ictx)
		ictx->budget.user = user_budget_get(opener->uid);
	if (!ictx || !ictx->budget.user) {
		free(ictx);
		errno = ENOMEM;
		return NULL;
	}
	ictx->refs = 1;
	atomic_init(&ictx->holds, 1); /* the list's */
	serial_queue_init(&ictx->queue, opener->uid);
	ictx->files = (struct objfile_owner){
		.queue = &ictx->queue,
		.hold = ctx_files_hold,
		.unhold = ctx_files_unhold,
	};
	ictx->opener = *opener;
	ictx->limits = iommufd_default_limits;
	ictx->budget.max_areas = ictx->limits.areas;
	ictx->budget.max_pinned = ictx->limits.pinned_pages;
	ictx->budget.max_ranges = ictx->limits.iova_ranges;
	ictx->lowest_free = 1;
	list_init(&ictx->pending_installs);
	list_init(&ictx->mmap_regions);
	ictx->serial = atomic_fetch_add(&serial, 1) + 1;
	clock_gettime(CLOCK_REALTIME, &ictx->opened);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)opener->pid);
	f = fopen(path, "re");
	if (!f || !fgets(ictx->comm, sizeof(ictx->comm), f))
		snprintf(ictx->comm, sizeof(ictx->comm), "?");
	ictx->comm[strcspn(ictx->comm, "\n")] = '\0';
	if (f)
		fclose(f);
	pthread_mutex_lock(&iommufd_contexts_lock);
	list_add_tail(&ictx->item, &iommufd_contexts);
	pthread_mutex_unlock(&iommufd_contexts_lock);
	iommufd_event(IOMMUFD_EVENT_CLIENT_OPEN, ictx, NULL);
	log_debug("pid %d opened a context", (int)opener->pid);
	return ictx;
}

void iommufd_ctx_hold(struct iommufd_ctx *ictx)
{
	atomic_fetch_add(&ictx->holds, 1);
}

void iommufd_ctx_unhold(struct iommufd_ctx *ictx)
{
	if (atomic_fetch_sub(&ictx->holds, 1) != 1)
		return;
	serial_queue_destroy(&ictx->queue);
	user_budget_put(ictx->budget.user);
	free(ictx);
}

struct iommufd_ctx **iommufd_ctx_list_get(unsigned int *n)
{
	struct iommufd_ctx **list = NULL, *ictx;
	unsigned int count = 0, i = 0;

	pthread_mutex_lock(&iommufd_contexts_lock);
	list_for_each_entry(ictx, &iommufd_contexts, item)
		count++;
	list = calloc(count ? count : 1, sizeof(*list));
	if (list) {
		list_for_each_entry(ictx, &iommufd_contexts, item) {
			iommufd_ctx_hold(ictx);
			list[i++] = ictx;
		}
	}
	pthread_mutex_unlock(&iommufd_contexts_lock);
	*n = i;
	return list;
}

void iommufd_ctx_list_free(struct iommufd_ctx **list, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		iommufd_ctx_unhold(list[i]);
	free(list);
}

bool iommufd_ctx_lock_timed(struct iommufd_ctx *ictx, unsigned int timeout_ms)
{
	struct timespec deadline;

	if (wq_current_is(&ictx->queue))
		return true;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	return !pthread_mutex_timedlock(&ictx->queue.exec_lock, &deadline);
}

void iommufd_ctx_unlock(struct iommufd_ctx *ictx)
{
	if (!wq_current_is(&ictx->queue))
		pthread_mutex_unlock(&ictx->queue.exec_lock);
}

void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	ictx->refs++;
}

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	/* Objects torn down below drop their references too: ignore them. */
	if (ictx->dying || --ictx->refs)
		return;
	ictx->dying = true;
	log_debug("context of pid %d released with %u objects",
		  (int)ictx->opener.pid, ictx->nr_objects);
	iommufd_fd_abort_pending(ictx);
	iommufd_device_detach_owned(ictx);
	iommufd_object_destroy_all(ictx);
	/*
	 * Nothing this client freed may outlive its close: memory files kept
	 * for reuse (memfile_cache.c) and the accounting of processes that
	 * mapped (account.c), with their pidfds.
	 */
	memfile_drop_idle();
	account_drop_idle();
	iommufd_event(IOMMUFD_EVENT_CLIENT_CLOSE, ictx, NULL);
	pthread_mutex_lock(&iommufd_contexts_lock);
	list_del(&ictx->item);
	pthread_mutex_unlock(&iommufd_contexts_lock);
	iommufd_ctx_unhold(ictx);
}

void iommufd_ctx_release(struct iommufd_ctx *ictx)
{
	iommufd_ctx_put(ictx);
}
