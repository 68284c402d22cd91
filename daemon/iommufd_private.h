/* SPDX-License-Identifier: MIT */
/*
 * Shared definitions of the iommufd core: the per-file context, the object
 * table, the ioctl command buffer and the object types. The mechanism layer
 * (io_pagetable.h, pages.h) does not include this file.
 */
#ifndef IOMMUFDD_PRIVATE_H
#define IOMMUFDD_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <iommufd/iommufd.h>

#include "core.h"
#include "fail_nth.h"
#include "io_pagetable.h"
#include "objfile.h"
#include "util.h"
#include "workqueue.h"

struct iommu_domain;
struct iommu_device;

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
	IOMMUFD_OBJ_HW_QUEUE,
	IOMMUFD_OBJ_MAX,
};

/*
 * Every object starts with this header. @users counts the table's reference
 * plus every long-lived dependency and every running lookup; DESTROY only
 * succeeds when the table's reference is the last one.
 */
struct iommufd_object {
	unsigned int id;
	enum iommufd_object_type type;
	unsigned int users;
	bool published;
};

struct iommufd_fd_install;

/*
 * What one open /dev/iommu may make the daemon hold (0: no limit). The
 * daemon's options set the defaults (iommufdd(8)); iommufdctl shows them.
 */
struct iommufd_limits {
	uint32_t objects;
	uint64_t areas; /* IOVA mappings in all its IOASes */
	uint32_t iova_ranges; /* allowed + reserved ranges, per IOAS */
	uint64_t pinned_pages; /* for its mappings and accesses */
};

extern struct iommufd_limits iommufd_default_limits;

/*
 * One open /dev/iommu. Its state is changed only by jobs on its queue, one
 * at a time (workqueue.h), so it needs no lock of its own; inspection from
 * outside the queue takes the queue's exec_lock (iommufd_ctx_lock_timed).
 */
struct iommufd_ctx {
	/*
	 * The /dev/iommu file holds one reference; so do accesses and open
	 * object files, which keep the context alive after that file closed.
	 * Only jobs of the queue touch it. At 0 every object is destroyed.
	 */
	unsigned int refs;
	/*
	 * The memory of this struct (and its queue): held by the list of
	 * contexts until teardown, by each queued job and by inspectors.
	 */
	atomic_uint holds;
	struct serial_queue queue;
	struct objfile_owner files; /* the object files' view of us */
	bool dying;
	struct iommufd_object **objects; /* indexed by id, [0] unused */
	unsigned int nr_slots;
	unsigned int nr_objects; /* reserved or published */
	unsigned int lowest_free; /* no free id below this */
	struct ucaller opener;
	struct iommufd_limits limits;
	struct iopt_budget budget; /* what its IOASes hold, against limits */
	struct fail_nth fail_nth; /* IOMMUFDD_TEST_OP_FAIL_NTH */
	bool account_mm; /* IOMMU_OPTION_RLIMIT_MODE */
	struct iommufd_ioas *vfio_ioas; /* VFIO compat IOAS, not referenced */
	struct list_head pending_installs; /* prepared, fd not yet installed */
	struct list_head mmap_regions; /* struct mmap_region, by owner */
	uint64_t next_install_token;
	/* for inspection (iommufdctl) */
	struct list_head item; /* on iommufd_contexts */
	uint64_t serial;
	char comm[16];
	struct timespec opened;
};

/* Every live context, oldest first; the lock guards the list only. */
extern struct list_head iommufd_contexts;
extern pthread_mutex_t iommufd_contexts_lock;

void iommufd_ctx_hold(struct iommufd_ctx *ictx);
void iommufd_ctx_unhold(struct iommufd_ctx *ictx);

/*
 * Every live context, each held (release with iommufd_ctx_list_free), for
 * those who look at many contexts: inspection, the selftest's pin counts.
 */
struct iommufd_ctx **iommufd_ctx_list_get(unsigned int *n);
void iommufd_ctx_list_free(struct iommufd_ctx **list, unsigned int n);

/*
 * Read @ictx's state from outside its queue: true once no job of it runs
 * (it cannot start one until the unlock), false if one ran for longer than
 * @timeout_ms (a stuck request: report the context as busy instead).
 * Calling it from the context's own job is allowed and always succeeds.
 */
bool iommufd_ctx_lock_timed(struct iommufd_ctx *ictx, unsigned int timeout_ms);
void iommufd_ctx_unlock(struct iommufd_ctx *ictx);

/* Counters for iommufdctl stats: cheap enough to keep always (atomics). */
#define IOMMUFD_STATS_ERRNO_MAX 160
#define IOMMUFD_STATS_LATENCY_BUCKETS 24
struct iommufd_stats {
	uint64_t calls[256]; /* by _IOC_NR */
	uint64_t errors[IOMMUFD_STATS_ERRNO_MAX]; /* by errno */
	/* [0]: < 1 us; [i]: [2^(i-1), 2^i) us; the last one: anything more */
	uint64_t latency_us[IOMMUFD_STATS_LATENCY_BUCKETS];
};
extern struct iommufd_stats iommufd_stats;
const char *iommufd_ioctl_name(unsigned int nr);

/* Object and client events, for iommufdctl events. */
enum iommufd_event_kind {
	IOMMUFD_EVENT_CLIENT_OPEN,
	IOMMUFD_EVENT_CLIENT_CLOSE,
	IOMMUFD_EVENT_OBJECT_CREATE,
	IOMMUFD_EVENT_OBJECT_DESTROY,
};

struct iommufd_event {
	enum iommufd_event_kind kind;
	const struct iommufd_ctx *ictx;
	const struct iommufd_object *obj; /* object events only */
};

/* Set by the control socket while someone follows events; else NULL. */
extern void (*iommufd_event_hook)(const struct iommufd_event *ev);

static inline void iommufd_event(enum iommufd_event_kind kind,
				 const struct iommufd_ctx *ictx,
				 const struct iommufd_object *obj)
{
	void (*hook)(const struct iommufd_event *ev) =
		__atomic_load_n(&iommufd_event_hook, __ATOMIC_ACQUIRE);

	if (hook) {
		struct iommufd_event ev = { kind, ictx, obj };

		hook(&ev);
	}
}

void iommufd_ctx_get(struct iommufd_ctx *ictx);
void iommufd_ctx_put(struct iommufd_ctx *ictx);

/*
 * An fd-returning command run for the supervisor (launcher.h): the handler
 * fills this in instead of creating an fd. The fd number the supervisor
 * installed later goes to @fd_offset of the caller's struct.
 */
struct objfile;
struct iommufd_fd_install {
	struct list_head item;
	uint64_t token;
	struct objfile *file;
	uint32_t fd_offset;
	uint64_t ubuffer;
	/*
	 * A users reference the handler took on its object, or NULL. The
	 * kernel's file holds one from the start; until our file is open,
	 * this keeps a DESTROY from another thread from freeing the object
	 * under the pending install (EBUSY, as in the kernel).
	 */
	struct iommufd_object *obj;
	/*
	 * Instead of an object file: a descriptor of the daemon's whose file
	 * the supervisor opens anew for the caller; -1 when none. Closed at
	 * COMMIT or ABORT.
	 */
	int reopen_fd;
	/* Undo the command when the fd could not be installed, or NULL. */
	void (*abort)(struct iommufd_ctx *ictx, void *priv);
	void *priv;
};

/*
 * The decoded ioctl: a kernel-sized copy of the caller's struct. VFIO's
 * commands get no copy (@cmd NULL): @ubuffer is their argument.
 */
struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	const struct ucaller *caller;
	const char *name; /* the command's (or test op's) name, for logs */
	uint64_t ubuffer;
	uint32_t user_size;
	void *cmd;
	struct iommufd_fd_install *install; /* NULL: fds cannot be returned */
};

long iommufd_ctx_ioctl_install(struct iommufd_ctx *ictx,
			       const struct ucaller *caller, unsigned int cmd,
			       uint64_t arg,
			       struct iommufd_fd_install *install);
long iommufd_priv_ioctl(struct iommufd_ctx *ictx, const struct ucaller *caller,
			unsigned int cmd, uint64_t arg);
void iommufd_fd_abort_pending(struct iommufd_ctx *ictx);

/* Log why an fd-returning command cannot run; the errno to return. */
int iommufd_fd_needs_launcher(struct iommufd_ucmd *ucmd);

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t length);
int iommufd_destroy(struct iommufd_ucmd *ucmd);

/* object.c */
typedef void (*iommufd_destroy_fn)(struct iommufd_object *obj);

struct iommufd_object *iommufd_object_alloc(struct iommufd_ctx *ictx,
					    size_t size,
					    enum iommufd_object_type type);
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj);
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx,
					  unsigned int id,
					  enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
int iommufd_object_remove(struct iommufd_ctx *ictx, unsigned int id,
			  bool only_if_idle);
void iommufd_object_put_and_try_destroy(struct iommufd_ctx *ictx,
					struct iommufd_object *obj);
void iommufd_object_destroy_all(struct iommufd_ctx *ictx);
void iommufd_object_tombstone(struct iommufd_ctx *ictx,
			      struct iommufd_object *obj);
const char *iommufd_object_type_name(enum iommufd_object_type type);

#define iommufd_object_alloc_type(ictx, ptr, type)                             \
	container_of_or_null(iommufd_object_alloc(ictx, sizeof(*(ptr)), type), \
			     __typeof__(*(ptr)), obj)

static inline void iommufd_object_get(struct iommufd_object *obj)
{
	obj->users++;
}

static inline void iommufd_object_put(struct iommufd_object *obj)
{
	obj->users--;
}

/* ioas.c */
struct iommufd_ioas {
	struct iommufd_object obj; /* must be first */
	struct io_pagetable iopt;
	struct list_head hwpt_list;
};

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx);
struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx,
				      unsigned int id);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_batch(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommu_option *cmd,
			       struct iommufd_ucmd *ucmd);
int iommufd_option(struct iommufd_ucmd *ucmd);
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_user(struct iommufd_ioas *ioas,
			  const struct ucaller *caller, bool account_mm,
			  uint64_t user_va, uint64_t length, uint64_t *iova,
			  int iommu_prot, unsigned int flags);

/* hw_pagetable.c */
struct iommufd_fault;

struct iommufd_hw_pagetable {
	struct iommufd_object obj; /* must be first */
	struct iommu_domain *domain;
	struct iommufd_fault *fault;
	bool pasid_compat; /* allocated with IOMMU_HWPT_ALLOC_PASID */
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	struct list_head hwpt_item; /* on ioas->hwpt_list */
	bool auto_domain;
	bool enforce_cache_coherency;
	bool nest_parent;
};

struct iommufd_viommu;

struct iommufd_hwpt_nested {
	struct iommufd_hw_pagetable common;
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu; /* held instead of parent, or NULL */
};

static inline struct iommufd_hwpt_paging *
to_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	return container_of(hwpt, struct iommufd_hwpt_paging, common);
}

static inline struct iommufd_hwpt_nested *
to_hwpt_nested(struct iommufd_hw_pagetable *hwpt)
{
	return container_of(hwpt, struct iommufd_hwpt_nested, common);
}

static inline bool hwpt_is_paging(struct iommufd_hw_pagetable *hwpt)
{
	return hwpt->obj.type == IOMMUFD_OBJ_HWPT_PAGING;
}

struct iommufd_device;

struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, uint32_t flags,
			  bool immediate_attach, int *err);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
void iommufd_hwpt_paging_abort(struct iommufd_object *obj);
void iommufd_hwpt_nested_destroy(struct iommufd_object *obj);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
struct iommufd_hwpt_paging *iommufd_get_hwpt_paging(struct iommufd_ctx *ictx,
						    unsigned int id);

/* device.c */
struct iommufd_device {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct iommu_device *dev;
	struct iommufd_hw_pagetable *hwpt; /* attached, or NULL */
	bool enforce_cache_coherency;
	/*
	 * Set when the object owns the binding (IOMMUFDD_VFIO_DEVICE_BIND):
	 * destroying the object unbinds the device. NULL when a driver holds
	 * it (the selftest's mock devices).
	 */
	void (*unbind)(struct iommu_device *dev);
	struct iommufd_vdevice *vdev; /* its vDEVICE, or NULL */
	bool destroying; /* no new vDEVICE (ENOENT) */
	struct list_head pasids; /* struct iommufd_pasid_attach */
};

/*
 * A new DEVICE object for @dev, not yet published, with what every device
 * needs set up (its PASID list); iommufd_device_bind() and the vfio
 * backend's BIND both start here.
 */
struct iommufd_device *iommufd_device_alloc(struct iommufd_ctx *ictx,
					    struct iommu_device *dev);
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct iommu_device *dev);
void iommufd_device_unbind(struct iommufd_device *idev);
void iommufd_device_destroy(struct iommufd_object *obj);
int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
void iommufd_device_prepare_destroy(struct iommufd_ctx *ictx, unsigned int id);
void iommufd_device_detach_owned(struct iommufd_ctx *ictx);
int iommufd_device_attach_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_device_detach_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);
int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev);

/* device_pasid.c: HWPTs attached to a device's PASIDs (§4) */
int iommufd_device_pasid_attach(struct iommufd_device *idev, uint32_t pasid,
				uint32_t *pt_id);
int iommufd_device_pasid_replace(struct iommufd_device *idev, uint32_t pasid,
				 uint32_t *pt_id);
void iommufd_device_pasid_detach(struct iommufd_device *idev, uint32_t pasid);
void iommufd_device_pasid_detach_all(struct iommufd_device *idev);
/* The HWPT on @pasid, or NULL. */
struct iommufd_hw_pagetable *
iommufd_device_pasid_hwpt(struct iommufd_device *idev, uint32_t pasid);
/* May the RID move to @hwpt (NULL: an automatic domain)? 0 or -EINVAL. */
int iommufd_device_pasid_rid_compat(struct iommufd_device *idev,
				    struct iommufd_hw_pagetable *hwpt);

/* fault.c */
struct iommufd_fault {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct list_head deliver; /* pending groups */
	struct list_head response; /* delivered, awaiting response */
	struct objfile *file; /* what the caller reads and writes */
	unsigned int pending; /* groups in deliver and response */
	bool aborted; /* the fd never reached the caller */
};

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
void iommufd_fault_destroy(struct iommufd_object *obj);
int iommufd_fault_report(struct iommufd_fault *fault,
			 const struct iommu_hwpt_pgfault *msg);

/* viommu.c: a guest-visible IOMMU on a nesting parent, and its devices */
struct iommufd_viommu {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct iommufd_hwpt_paging *hwpt; /* the nesting parent, held */
	const struct iommu_backend_ops *ops;
	uint32_t type;
	struct list_head vdevices;
	struct list_head veventqs;
	struct list_head hw_queues;
	struct mmap_region *mmap; /* its mmap region, or NULL */
	void *priv; /* the backend's */
};

struct iommufd_vdevice {
	struct iommufd_object obj; /* must be first */
	struct iommufd_viommu *viommu; /* held */
	struct iommufd_device *idev; /* not held: it tombstones us */
	uint64_t virt_id;
	struct list_head item; /* on viommu->vdevices */
};

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_viommu_destroy(struct iommufd_object *obj);
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
/* The device is going away: its vDEVICE goes, leaving a tombstone id. */
void iommufd_device_tombstone_vdevice(struct iommufd_device *idev);

/*
 * mmap_region.c: memory a caller maps through its iommufd, at an offset of
 * its own context (the kernel's mt_mmap; mmap_region.h). A region belongs
 * to one owner object, which IOMMU_DESTROY cannot remove while any
 * mapping of the region exists (EBUSY); an owner has at most one.
 */
struct mmap_region;
int iommufd_mmap_region_alloc(struct iommufd_ctx *ictx,
			      struct iommufd_object *owner, uint64_t length,
			      struct mmap_region **out);
uint64_t mmap_region_offset(const struct mmap_region *r);
/* Fill [at, at + len) of the region: 0 or -errno. */
int mmap_region_write(struct mmap_region *r, uint64_t at, const void *data,
		      size_t len);
void iommufd_mmap_region_destroy(struct iommufd_ctx *ictx,
				 struct mmap_region *r);
/* Before a user's DESTROY of @owner: -EBUSY while its region is mapped. */
int iommufd_mmap_region_retire(struct iommufd_ctx *ictx,
			       struct iommufd_object *owner);
int iommufd_mmap_region_ioctl(struct iommufd_ucmd *ucmd);

/* hw_queue.c: a queue in guest memory the IOMMU reads (§3.6) */
struct iommufd_access;
struct iommufd_hw_queue {
	struct iommufd_object obj; /* must be first */
	struct iommufd_viommu *viommu; /* held */
	struct iommufd_access *access; /* internal; pins the queue memory */
	struct list_head item; /* on viommu->hw_queues */
	uint32_t type, index;
	uint64_t iova, length; /* as the caller gave them */
	uint64_t pin_iova, pin_length; /* whole pages */
	struct iommufd_hw_queue *depend; /* held, or NULL */
};

int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_hw_queue_destroy(struct iommufd_object *obj);

/* veventq.c: a vIOMMU's event queue, read through a file descriptor */
int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd);
unsigned int iommufd_veventq_viommu_id(const struct iommufd_object *obj);
void iommufd_veventq_destroy(struct iommufd_object *obj);

/* access.c: an in-daemon user of an IOAS, like a mediated device driver */
struct iommufd_access;
struct iommufd_access_ops {
	/*
	 * Drop every pin in [iova, iova + length); called before an unmap.
	 * NULL: the access cannot (a HW queue), and unmap of its pins is EBUSY.
	 */
	void (*unmap)(void *data, uint64_t iova, uint64_t length);
};

struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data,
		      bool needs_pin, unsigned int *id);
struct iommufd_access *
iommufd_access_create_internal(struct iommufd_ctx *ictx,
			       const struct iommufd_access_ops *ops,
			       void *data);
void iommufd_access_destroy(struct iommufd_access *access);
bool iommufd_access_needs_pin(const struct iommufd_access *access);
unsigned int iommufd_access_ioas_id(const struct iommufd_object *obj);
unsigned int iommufd_access_id(const struct iommufd_access *access);
int iommufd_access_attach(struct iommufd_access *access, unsigned int ioas_id);
int iommufd_access_replace(struct iommufd_access *access, unsigned int ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova,
			     uint64_t length, uint64_t *paddrs,
			     unsigned int flags);
void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova,
				uint64_t length);
int iommufd_access_rw(struct iommufd_access *access, uint64_t iova, void *data,
		      uint64_t length, unsigned int flags);
void iommufd_access_destroy_object(struct iommufd_object *obj);
void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length);

#define IOMMUFD_ACCESS_RW_WRITE (1 << 0)

/* vfio_compat.c */
int iommufd_vfio_api_version(struct iommufd_ucmd *ucmd);
int iommufd_vfio_check_extension(struct iommufd_ucmd *ucmd);
int iommufd_vfio_set_iommu(struct iommufd_ucmd *ucmd);
int iommufd_vfio_get_info(struct iommufd_ucmd *ucmd);
int iommufd_vfio_map_dma(struct iommufd_ucmd *ucmd);
int iommufd_vfio_unmap_dma(struct iommufd_ucmd *ucmd);
struct iommufd_ioas *iommufd_vfio_compat_ioas_get(struct iommufd_ctx *ictx);

/* vfio_bind.c */
int iommufd_vfio_device_bind(struct iommufd_ucmd *ucmd);

/* selftest.c */
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);
unsigned int iommufd_selftest_device_id(const struct iommufd_object *obj);

#endif
