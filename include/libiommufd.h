/* SPDX-License-Identifier: MIT */
/*
 * libiommufd - typed wrappers for the iommufd ioctl uAPI.
 *
 * The same binary works against the kernel's /dev/iommu and against
 * iommufdd: every call is one ioctl on the handle's file descriptor, built
 * exactly as the kernel documents it, so nothing here knows which of the two
 * answers.
 *
 * Conventions, for every function below unless its comment says otherwise:
 *
 * - Errors. A function returning int returns 0 (or a documented
 *   non-negative count) on success and a negative errno on failure, and also
 *   stores the positive errno in errno. The errno values are the kernel's,
 *   passed through unchanged: ENOENT for an unknown object ID or an unmapped
 *   IOVA, EBUSY for an object still in use, EINVAL for a bad value,
 *   EOPNOTSUPP for an unsupported flag or type, EOVERFLOW when a range wraps,
 *   ENOTTY when the kernel (or iommufdd) does not know the ioctl at all. The
 *   library adds only EINVAL (a NULL handle, or a NULL pointer for a required
 *   output), ENOMEM, and the options-struct errors described below.
 * - Outputs are written only on success, except where noted.
 * - Flag, type and option values are the kernel's, spelled as in
 *   <linux/iommufd.h> (or iommufdd's layout-identical <iommufd/iommufd.h>).
 *   This header deliberately includes neither, so a program can use
 *   whichever copy it already has without redefinition clashes.
 * - Object IDs are per handle: an ID means nothing on another iommufd.
 * - Options structs start with "size_t sz", which must be set to the size
 *   the caller was compiled with; IOMMUFD_OPTS() does that. A NULL options
 *   pointer means "all defaults". sz smaller than sizeof(size_t) gives
 *   EINVAL; fields beyond sz read as zero, so old binaries keep working;
 *   bytes beyond the fields this library knows must be zero, else E2BIG
 *   (the kernel's rule for its own structs).
 * - Threads. The handle holds no mutable state besides the log function,
 *   so calls on one handle may run concurrently, as ioctls on one fd may.
 *   iommufd_set_log_fn() and iommufd_close() must not race with other calls
 *   on the same handle.
 * - Logging. The library is silent unless iommufd_set_log_fn() installs a
 *   function; it then reports failed ioctls and retries at debug priority.
 */
#ifndef LIBIOMMUFD_H
#define LIBIOMMUFD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Declare and zero an options struct with its size filled in, then set
 * fields by name:
 *	IOMMUFD_OPTS(iommufd_hwpt_alloc_opts, opts,
 *		     .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
 * C++ before C++20 has no designated initialisers: value-initialise the
 * struct and set .sz = sizeof(it) by hand instead.
 */
#define IOMMUFD_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }

/* ---- handle ------------------------------------------------------------ */

/* An open iommufd. Opaque: only pointers to it are ever handed out. */
struct iommufd;

/* Log priorities, numerically the syslog(3) levels. */
enum iommufd_log_priority {
	IOMMUFD_LOG_ERR = 3,
	IOMMUFD_LOG_WARNING = 4,
	IOMMUFD_LOG_INFO = 6,
	IOMMUFD_LOG_DEBUG = 7,
};

/*
 * Receives one formatted message, without a trailing newline. @msg is only
 * valid during the call. Called from the thread that made the failing call.
 */
typedef void (*iommufd_log_fn)(void *userdata, int priority, const char *msg);

/**
 * iommufd_open() - open an iommufd device node
 * @path: node to open; NULL means "/dev/iommu"
 * @out: receives the new handle; set to NULL on failure
 *
 * Opens @path read-write with O_CLOEXEC. The handle owns the file descriptor
 * and closes it in iommufd_close().
 *
 * Return: 0, or -errno from open(2) (ENOENT when the node is missing, as on
 * a kernel without CONFIG_IOMMUFD and no iommufdd running), -ENOMEM, or
 * -EINVAL when @out is NULL.
 */
int iommufd_open(const char *path, struct iommufd **out);

/* iommufd_from_fd() flag: iommufd_close() closes the fd. */
#define IOMMUFD_FROM_FD_TAKE_OWNERSHIP (1U << 0)

/**
 * iommufd_from_fd() - wrap an iommufd file descriptor already open
 * @fd: the descriptor, e.g. received over SCM_RIGHTS from a privileged agent
 * @flags: 0 or IOMMUFD_FROM_FD_TAKE_OWNERSHIP
 * @out: receives the new handle; set to NULL on failure
 *
 * Without IOMMUFD_FROM_FD_TAKE_OWNERSHIP the caller keeps owning @fd and
 * must keep it open for the life of the handle. The fd is not probed: a
 * descriptor that is not an iommufd shows up as ENOTTY on the first call.
 * On failure the caller still owns @fd whatever @flags said.
 *
 * Return: 0, -EBADF if @fd is not an open descriptor, -EOPNOTSUPP for an
 * unknown flag, -ENOMEM, or -EINVAL when @out is NULL.
 */
int iommufd_from_fd(int fd, uint32_t flags, struct iommufd **out);

/**
 * iommufd_fd() - the handle's file descriptor
 * @h: handle
 *
 * For poll(2), mmap(2) of IOMMU_HW_QUEUE_ALLOC regions, or passing the
 * iommufd on. Ownership does not change: do not close it.
 *
 * Return: the descriptor, or -EINVAL when @h is NULL.
 */
int iommufd_fd(const struct iommufd *h);

/**
 * iommufd_close() - free a handle
 * @h: handle, or NULL (nothing happens)
 *
 * Closes the descriptor if the handle owns it, which makes the kernel
 * destroy every object created through it. errno is preserved.
 */
void iommufd_close(struct iommufd *h);

/**
 * iommufd_set_log_fn() - install or remove the handle's log function
 * @h: handle
 * @fn: function to call, or NULL to make the library silent again
 * @userdata: passed to @fn unchanged
 */
void iommufd_set_log_fn(struct iommufd *h, iommufd_log_fn fn, void *userdata);

/* ---- objects and address spaces ----------------------------------------- */

/**
 * iommufd_destroy() - IOMMU_DESTROY: destroy any object by ID
 * @h: handle
 * @id: object ID
 *
 * Return: 0, -ENOENT for an unknown ID, -EBUSY while another object (a
 * device attachment, a HWPT on an IOAS, ...) still uses it.
 */
int iommufd_destroy(struct iommufd *h, uint32_t id);

/**
 * iommufd_ioas_alloc() - IOMMU_IOAS_ALLOC: create an empty I/O address space
 * @h: handle
 * @out_ioas_id: receives the new IOAS ID (required)
 *
 * Return: 0 or -errno.
 */
int iommufd_ioas_alloc(struct iommufd *h, uint32_t *out_ioas_id);

/* One closed IOVA interval; layout-identical to struct iommu_iova_range. */
struct iommufd_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive, so a range can end at UINT64_MAX */
};

/**
 * iommufd_ioas_allow_iovas() - IOMMU_IOAS_ALLOW_IOVAS: limit usable IOVA
 * @h: handle
 * @ioas_id: IOAS to change
 * @ranges: @num ranges, read only during the call; may be NULL if @num is 0
 * @num: number of ranges; 0 clears the list
 *
 * Replaces the IOAS's allowed list. Automatic IOVA allocation stays inside
 * it, and reservations that would cut into it are refused afterwards.
 *
 * Return: 0, -EINVAL for malformed ranges, -EADDRINUSE when a range
 * overlaps an existing reservation, or another -errno.
 */
int iommufd_ioas_allow_iovas(struct iommufd *h, uint32_t ioas_id,
			     const struct iommufd_iova_range *ranges,
			     uint32_t num);

/**
 * iommufd_ioas_iova_ranges() - IOMMU_IOAS_IOVA_RANGES: list usable IOVA
 * @h: handle
 * @ioas_id: IOAS to query
 * @out_ranges: receives a malloc()ed array the caller frees with free(3);
 *              NULL when there are no ranges (required)
 * @out_num: receives the number of entries (required)
 * @out_alignment: receives the IOVA and length alignment MAP and COPY need;
 *                 may be NULL
 *
 * The kernel answers EMSGSIZE plus the real count when the buffer is too
 * small; this call grows the buffer and asks again, also when the ranges
 * change between two calls because a device attached meanwhile. The ranges
 * change on every attach and detach, so query again after those.
 *
 * Return: 0, -EMSGSIZE if the count kept changing over several retries,
 * -ENOMEM, or another -errno (ENOENT for an unknown IOAS).
 */
int iommufd_ioas_iova_ranges(struct iommufd *h, uint32_t ioas_id,
			     struct iommufd_iova_range **out_ranges,
			     uint32_t *out_num, uint64_t *out_alignment);

/**
 * iommufd_ioas_map() - IOMMU_IOAS_MAP: map process memory into an IOAS
 * @h: handle
 * @ioas_id: IOAS to map into
 * @va: start of the caller's memory
 * @length: bytes to map
 * @flags: IOMMU_IOAS_MAP_READABLE and/or _WRITEABLE (one is required),
 *         plus IOMMU_IOAS_MAP_FIXED_IOVA to use *@iova as given
 * @iova: in: the IOVA to use with FIXED_IOVA, ignored otherwise;
 *        out: the IOVA of the mapping (required)
 *
 * The memory is pinned for as long as a device's domain needs it; unmapping
 * or closing the handle releases it.
 *
 * Return: 0, -EEXIST when a fixed IOVA overlaps a mapping, -ENOSPC when no
 * free IOVA range fits, -EFAULT for memory that cannot be pinned (a PCI BAR
 * is the classic case), -ENOMEM at the RLIMIT_MEMLOCK limit, or another
 * -errno.
 */
int iommufd_ioas_map(struct iommufd *h, uint32_t ioas_id, void *va,
		     uint64_t length, uint32_t flags, uint64_t *iova);

/**
 * iommufd_ioas_map_file() - IOMMU_IOAS_MAP_FILE: map a file range
 * @h: handle
 * @ioas_id: IOAS to map into
 * @fd: memfd, hugetlbfs file or (on new kernels) dma-buf; the caller keeps
 *      owning it, the kernel takes its own reference
 * @start: byte offset into the file
 * @length: bytes to map
 * @flags: as for iommufd_ioas_map()
 * @iova: as for iommufd_ioas_map()
 *
 * The fast path for fd-backed guest RAM, and the only kind of mapping that
 * iommufd_ioas_change_process() can move to another process.
 *
 * Return: 0, -EPERM when WRITEABLE is asked of a read-only fd, -EBADF for a
 * bad @fd, or the errors of iommufd_ioas_map().
 */
int iommufd_ioas_map_file(struct iommufd *h, uint32_t ioas_id, int fd,
			  uint64_t start, uint64_t length, uint32_t flags,
			  uint64_t *iova);

/**
 * iommufd_ioas_copy() - IOMMU_IOAS_COPY: reuse a mapping in another IOAS
 * @h: handle
 * @dst_ioas_id: IOAS receiving the mapping
 * @src_ioas_id: IOAS whose pages are shared, not pinned again
 * @src_iova: start of a fully mapped range in the source
 * @length: bytes to copy
 * @flags: as for iommufd_ioas_map()
 * @dst_iova: in/out like the @iova of iommufd_ioas_map() (required)
 *
 * Return: 0, -ENOENT when the source range is not fully mapped, or the
 * errors of iommufd_ioas_map().
 */
int iommufd_ioas_copy(struct iommufd *h, uint32_t dst_ioas_id,
		      uint32_t src_ioas_id, uint64_t src_iova, uint64_t length,
		      uint32_t flags, uint64_t *dst_iova);

/**
 * iommufd_ioas_unmap() - IOMMU_IOAS_UNMAP: remove whole mappings
 * @h: handle
 * @ioas_id: IOAS to unmap from
 * @iova: start of the range
 * @length: bytes; iova 0 with length UINT64_MAX removes everything
 * @out_unmapped: receives the bytes actually unmapped; may be NULL
 *
 * Only whole mappings can be removed: a range that cuts one fails.
 *
 * Return: 0, -ENOENT when nothing was mapped in the range (callers that
 * unmap speculatively treat this as success), -EOVERFLOW, or another -errno.
 */
int iommufd_ioas_unmap(struct iommufd *h, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *out_unmapped);

/**
 * iommufd_ioas_change_process() - IOMMU_IOAS_CHANGE_PROCESS
 * @h: handle
 *
 * Charges every file-backed mapping of every IOAS on @h to the calling
 * process, for live update: the new process calls this after receiving the
 * iommufd.
 *
 * Return: 0, -EINVAL when a mapping is not file-backed, -ENOTTY on kernels
 * (and iommufdd versions) without the ioctl, or another -errno.
 */
int iommufd_ioas_change_process(struct iommufd *h);

/* ---- IOMMU_OPTION ------------------------------------------------------ */

/**
 * iommufd_option_get() - IOMMU_OPTION with IOMMU_OPTION_OP_GET
 * @h: handle
 * @option_id: enum iommufd_option value
 * @object_id: object the option belongs to; 0 for context-wide options
 * @out_val: receives the value (required)
 *
 * Return: 0, -EOPNOTSUPP for an unknown option, -ENOENT for a bad object,
 * or another -errno.
 */
int iommufd_option_get(struct iommufd *h, uint32_t option_id,
		       uint32_t object_id, uint64_t *out_val);

/**
 * iommufd_option_set() - IOMMU_OPTION with IOMMU_OPTION_OP_SET
 * @h: handle
 * @option_id: enum iommufd_option value
 * @object_id: object the option belongs to; 0 for context-wide options
 * @val: new value
 *
 * Return: as iommufd_option_get(), plus -EINVAL for an out-of-range value.
 */
int iommufd_option_set(struct iommufd *h, uint32_t option_id,
		       uint32_t object_id, uint64_t val);

/**
 * iommufd_rlimit_mode_get() - read IOMMU_OPTION_RLIMIT_MODE
 * @h: handle
 * @out_mode: receives 0 (pins charged per user) or 1 (per process)
 *
 * Return: 0 or -errno.
 */
int iommufd_rlimit_mode_get(struct iommufd *h, uint32_t *out_mode);

/**
 * iommufd_rlimit_mode_set() - set IOMMU_OPTION_RLIMIT_MODE
 * @h: handle
 * @mode: 0 to charge pins per user (the default), 1 per process
 *
 * Must happen before the first object is created, typically by the
 * privileged agent that opens /dev/iommu for an unprivileged VMM.
 *
 * Return: 0, -EPERM without CAP_SYS_RESOURCE, -EBUSY once any object
 * exists, -EINVAL for another @mode.
 */
int iommufd_rlimit_mode_set(struct iommufd *h, uint32_t mode);

/**
 * iommufd_ioas_huge_pages_get() - read IOMMU_OPTION_HUGE_PAGES of an IOAS
 * @h: handle
 * @ioas_id: IOAS
 * @out_enabled: receives 1 (large IOPTEs allowed, the default) or 0
 *
 * Return: 0, -ENOENT for an unknown IOAS, or another -errno.
 */
int iommufd_ioas_huge_pages_get(struct iommufd *h, uint32_t ioas_id,
				uint32_t *out_enabled);

/**
 * iommufd_ioas_huge_pages_set() - set IOMMU_OPTION_HUGE_PAGES of an IOAS
 * @h: handle
 * @ioas_id: IOAS
 * @enabled: 1 to allow large IOPTEs, 0 to force PAGE_SIZE mappings (which
 *           lets a type1-style caller unmap part of a mapping)
 *
 * Return: 0; -EINVAL for another value, or for turning large pages off
 * once the IOAS has both mappings and a domain (its IOPTEs may already be
 * large); -ENOENT for an unknown IOAS.
 */
int iommufd_ioas_huge_pages_set(struct iommufd *h, uint32_t ioas_id,
				uint32_t enabled);

/* ---- IOMMU_VFIO_IOAS ------------------------------------------------------ */

/**
 * iommufd_vfio_ioas_get() - IOMMU_VFIO_IOAS_GET: the VFIO-compat IOAS
 * @h: handle
 * @out_ioas_id: receives the IOAS legacy VFIO container ioctls use
 *               (required)
 *
 * Return: 0, -ENODEV when none is set, or another -errno.
 */
int iommufd_vfio_ioas_get(struct iommufd *h, uint32_t *out_ioas_id);

/**
 * iommufd_vfio_ioas_set() - IOMMU_VFIO_IOAS_SET
 * @h: handle
 * @ioas_id: IOAS to serve VFIO container ioctls on this fd
 *
 * Return: 0, -ENOENT for an unknown IOAS, or another -errno.
 */
int iommufd_vfio_ioas_set(struct iommufd *h, uint32_t ioas_id);

/**
 * iommufd_vfio_ioas_clear() - IOMMU_VFIO_IOAS_CLEAR
 * @h: handle
 *
 * Return: 0 or -errno.
 */
int iommufd_vfio_ioas_clear(struct iommufd *h);

/* ---- HW page tables -------------------------------------------------------- */

/*
 * Optional inputs of iommufd_hwpt_alloc(). All zero (or a NULL pointer)
 * asks for a plain paging HWPT.
 */
struct iommufd_hwpt_alloc_opts {
	size_t sz;
	/* driver data of a nested HWPT, read during the call; NULL for none */
	const void *data;
	uint32_t data_type; /* enum iommu_hwpt_data_type, with @data */
	uint32_t data_len; /* bytes at @data */
	uint32_t flags; /* enum iommufd_hwpt_alloc_flags */
	uint32_t fault_id; /* FAULT object, with IOMMU_HWPT_FAULT_ID_VALID */
};

/**
 * iommufd_hwpt_alloc() - IOMMU_HWPT_ALLOC: create a HW page table
 * @h: handle
 * @dev_id: device the HWPT must suit
 * @pt_id: an IOAS for a paging HWPT; a nesting-parent HWPT or a vIOMMU for
 *         a nested HWPT
 * @opts: flags and driver data, see struct iommufd_hwpt_alloc_opts; NULL
 *        for a paging HWPT without flags
 * @out_hwpt_id: receives the new HWPT ID (required)
 *
 * A paging HWPT mirrors @pt_id's mappings; with
 * IOMMU_HWPT_ALLOC_NEST_PARENT it can carry nested HWPTs, and with
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING it supports the dirty-bitmap calls. A
 * nested HWPT takes its stage-1 description from @opts->data, in the format
 * @opts->data_type names.
 *
 * Return: 0, -ENOENT for an unknown device, -EINVAL when @pt_id does not
 * suit (VMMs probe compatibility with this), -EOPNOTSUPP for flags or data
 * types the IOMMU lacks, -E2BIG/-EINVAL for a bad @opts, or another -errno.
 */
int iommufd_hwpt_alloc(struct iommufd *h, uint32_t dev_id, uint32_t pt_id,
		       const struct iommufd_hwpt_alloc_opts *opts,
		       uint32_t *out_hwpt_id);

/* In/out arguments of iommufd_get_hw_info(). */
struct iommufd_hw_info_opts {
	size_t sz;
	/* in: buffer for the driver's data, filled and zero-padded; may be NULL
	 * when @data_len is 0 */
	void *data;
	/* out: enum iommufd_hw_capabilities */
	uint64_t out_capabilities;
	/* in: bytes at @data; out: bytes of data the driver has, which may be
	 * more than fitted */
	uint32_t data_len;
	/* in: enum iommu_hw_info_type wanted; 0 takes the driver's default
	 * (any other value needs IOMMU_HW_INFO_FLAG_INPUT_TYPE support) */
	uint32_t in_data_type;
	/* out: enum iommu_hw_info_type of @data */
	uint32_t out_data_type;
	/* out: PASID width in bits, 0 without PASID support */
	uint32_t out_max_pasid_log2;
};

/**
 * iommufd_get_hw_info() - IOMMU_GET_HW_INFO: describe a device's IOMMU
 * @h: handle
 * @dev_id: bound device
 * @info: inputs and outputs (required); outputs past @info->sz are skipped
 *
 * Return: 0, -ENOENT for an unknown device, -EOPNOTSUPP for an
 * @in_data_type the driver cannot report, or another -errno.
 */
int iommufd_get_hw_info(struct iommufd *h, uint32_t dev_id,
			struct iommufd_hw_info_opts *info);

/**
 * iommufd_hwpt_set_dirty_tracking() - IOMMU_HWPT_SET_DIRTY_TRACKING
 * @h: handle
 * @hwpt_id: paging HWPT allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING
 * @flags: IOMMU_HWPT_DIRTY_TRACKING_ENABLE to start, 0 to stop
 *
 * Return: 0, -EOPNOTSUPP when the HWPT cannot track, or another -errno.
 */
int iommufd_hwpt_set_dirty_tracking(struct iommufd *h, uint32_t hwpt_id,
				    uint32_t flags);

/**
 * iommufd_hwpt_get_dirty_bitmap() - IOMMU_HWPT_GET_DIRTY_BITMAP
 * @h: handle
 * @hwpt_id: paging HWPT with dirty tracking enabled
 * @iova: IOVA of bit 0
 * @length: bytes of IOVA covered
 * @page_size: bytes per bit, typically the host page size
 * @bitmap: at least length / page_size bits, 8-byte aligned; dirty bits are
 *          ORed in, never cleared
 * @flags: 0, or IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR to leave the dirty
 *         state in place (for a read right before an unmap)
 *
 * Return: 0, -EINVAL for misaligned arguments, -EOVERFLOW, or another
 * -errno.
 */
int iommufd_hwpt_get_dirty_bitmap(struct iommufd *h, uint32_t hwpt_id,
				  uint64_t iova, uint64_t length,
				  uint64_t page_size, void *bitmap,
				  uint32_t flags);

/**
 * iommufd_hwpt_invalidate() - IOMMU_HWPT_INVALIDATE: flush nested caches
 * @h: handle
 * @id: nested HWPT, or vIOMMU for vIOMMU-scoped invalidation
 * @data_type: enum iommu_hwpt_invalidate_data_type of every entry
 * @entries: @entry_num entries of @entry_len bytes, read during the call
 * @entry_len: bytes per entry, so newer entry formats can be longer
 * @entry_num: number of entries; 0 only checks that @data_type is supported
 * @out_done: receives the number of entries handled, on failure too (the
 *            failing entry is the first one not counted); may be NULL
 *
 * Return: the number of entries handled (equal to @entry_num) on success,
 * -EINVAL for a malformed entry or an @entry_num above INT_MAX,
 * -EOPNOTSUPP for an unsupported @data_type, or another -errno.
 */
int iommufd_hwpt_invalidate(struct iommufd *h, uint32_t id, uint32_t data_type,
			    const void *entries, uint32_t entry_len,
			    uint32_t entry_num, uint32_t *out_done);

/**
 * iommufd_fault_queue_alloc() - IOMMU_FAULT_QUEUE_ALLOC: page-request queue
 * @h: handle
 * @out_fault_id: receives the FAULT object ID, for iommufd_hwpt_alloc()'s
 *                fault_id (required)
 * @out_fault_fd: receives a new descriptor the caller owns and must close;
 *                read struct iommu_hwpt_pgfault records from it and write
 *                struct iommu_hwpt_page_response answers (required)
 *
 * Return: 0 or -errno. iommufdd answers -EOPNOTSUPP unless the program runs
 * under its launcher, since a FUSE server cannot create a descriptor in the
 * caller.
 */
int iommufd_fault_queue_alloc(struct iommufd *h, uint32_t *out_fault_id,
			      int *out_fault_fd);

/* ---- vIOMMU -------------------------------------------------------------- */

/* Optional inputs of iommufd_viommu_alloc(). */
struct iommufd_viommu_alloc_opts {
	size_t sz;
	/* driver data, read and written back during the call (e.g. struct
	 * iommu_viommu_tegra241_cmdqv); NULL for none */
	void *data;
	uint32_t data_len; /* bytes at @data */
	uint32_t flags; /* must be 0 today */
};

/**
 * iommufd_viommu_alloc() - IOMMU_VIOMMU_ALLOC: create a virtual IOMMU
 * @h: handle
 * @dev_id: device whose physical IOMMU backs the vIOMMU
 * @hwpt_id: nesting-parent HWPT (the stage 2) the vIOMMU sits on
 * @type: enum iommu_viommu_type
 * @opts: driver data, see struct iommufd_viommu_alloc_opts; may be NULL
 * @out_viommu_id: receives the new vIOMMU ID (required)
 *
 * Return: 0, -EOPNOTSUPP for a @type the IOMMU lacks, -ENOTTY before Linux
 * 6.13 (and on iommufdd run with --kernel-abi 6.12), or another -errno.
 */
int iommufd_viommu_alloc(struct iommufd *h, uint32_t dev_id, uint32_t hwpt_id,
			 uint32_t type,
			 const struct iommufd_viommu_alloc_opts *opts,
			 uint32_t *out_viommu_id);

/**
 * iommufd_vdevice_alloc() - IOMMU_VDEVICE_ALLOC: a device as a vIOMMU sees it
 * @h: handle
 * @viommu_id: vIOMMU
 * @dev_id: physical device
 * @virt_id: the device's ID in the guest (vSID, vRID, ...)
 * @out_vdevice_id: receives the new vDEVICE ID (required)
 *
 * Return: 0, -EEXIST when @dev_id already has a vDEVICE, or another -errno.
 */
int iommufd_vdevice_alloc(struct iommufd *h, uint32_t viommu_id,
			  uint32_t dev_id, uint64_t virt_id,
			  uint32_t *out_vdevice_id);

/**
 * iommufd_veventq_alloc() - IOMMU_VEVENTQ_ALLOC: a vIOMMU event queue
 * @h: handle
 * @viommu_id: vIOMMU whose events to queue
 * @type: enum iommu_veventq_type; one queue per type and vIOMMU
 * @depth: events held before new ones are dropped
 * @out_veventq_id: receives the vEVENTQ object ID (required)
 * @out_veventq_fd: receives a new descriptor the caller owns and must
 *                  close; each read returns struct iommufd_vevent_header
 *                  records followed by the type's event data (required)
 *
 * Return: 0, -EEXIST when a queue of @type already exists, or another
 * -errno.
 */
int iommufd_veventq_alloc(struct iommufd *h, uint32_t viommu_id, uint32_t type,
			  uint32_t depth, uint32_t *out_veventq_id,
			  int *out_veventq_fd);

/**
 * iommufd_hw_queue_alloc() - IOMMU_HW_QUEUE_ALLOC: a hardware-accelerated
 * queue of a vIOMMU
 * @h: handle
 * @viommu_id: vIOMMU
 * @type: enum iommu_hw_queue_type
 * @index: queue number within @type
 * @nesting_parent_iova: guest physical base of the queue memory
 * @length: bytes of queue memory
 * @out_hw_queue_id: receives the new HW queue ID (required)
 *
 * Return: 0 or -errno.
 */
int iommufd_hw_queue_alloc(struct iommufd *h, uint32_t viommu_id, uint32_t type,
			   uint32_t index, uint64_t nesting_parent_iova,
			   uint64_t length, uint32_t *out_hw_queue_id);

/* One vEVENTQ record, as iommufd_vevent_next() parses it. */
struct iommufd_vevent {
	uint32_t flags; /* enum iommu_veventq_flag bits */
	uint32_t sequence; /* 0..INT_MAX, wrapping; a gap means lost events */
	const void *data; /* the event, inside the caller's buffer; NULL for
			   * a lost-events marker */
	size_t data_len; /* bytes at @data */
};

/**
 * iommufd_vevent_next() - parse the next record of a vEVENTQ read
 * @cursor: in: where the next record starts in the buffer read(2) filled;
 *          advanced past it on success
 * @left: in: bytes left from @cursor (what read(2) returned, minus what
 *        earlier calls consumed); decreased on success
 * @data_len: size of one event of the queue's type, e.g. 32 for
 *            struct iommu_vevent_arm_smmuv3; a record flagged
 *            IOMMU_VEVENTQ_FLAG_LOST_EVENTS carries no data whatever this is
 * @out: receives the record; its @data points into the buffer
 *
 * A vEVENTQ read returns whole records back to back: an 8-byte
 * struct iommufd_vevent_header, then the event unless the header is the
 * lost-events marker. Nothing is read here; the caller reads the
 * descriptor and walks the bytes with this.
 *
 * Return: 1 with @out filled, 0 when @left is 0, or -EINVAL for a NULL
 * argument or a record cut short (which the kernel never produces).
 */
int iommufd_vevent_next(const void **cursor, size_t *left, size_t data_len,
			struct iommufd_vevent *out);

/*
 * ---- iommufdd extension: devices of the vfio backend ------------------------
 *
 * iommufdd's own ioctls (<iommufd/iommufdd_ext.h>) for hosts whose kernel has
 * no iommufd: the VMM opens /dev/vfio/GROUP itself, binds a device of it,
 * attaches it like VFIO_DEVICE_ATTACH_IOMMUFD_PT would, and takes the device
 * fd from its own group fd (VFIO_GROUP_GET_DEVICE_FD) for regions and
 * interrupts. A kernel's /dev/iommu answers -ENOTTY; iommufdd with another
 * backend -EOPNOTSUPP. iommufd_destroy() of the device ID unbinds it
 * (detaching it first), as closing the handle does.
 */

/**
 * iommufd_vfio_device_bind() - bind a device of an open VFIO group
 * @h: handle
 * @group_fd: the caller's open /dev/vfio/GROUP, in no container
 * @name: the device's name in the group, e.g. "0000:00:01.0"
 * @out_dev_id: receives the device ID (required)
 *
 * Return: 0, -EBADF (@group_fd is not open), -EINVAL (not a VFIO group,
 * or @name is no device of it), -EBUSY (the group is in a container or
 * bound elsewhere, or the device is bound already), or another -errno.
 */
int iommufd_vfio_device_bind(struct iommufd *h, int group_fd, const char *name,
			     uint32_t *out_dev_id);

/**
 * iommufd_device_attach() - attach a device, or replace its page table
 * @h: handle
 * @dev_id: the device
 * @pt_id: a HWPT, or an IOAS (an automatic HWPT is picked or made)
 * @out_hwpt_id: receives the HWPT the device is attached to; may be NULL
 *
 * Return: 0 or -errno (-EINVAL when the device cannot use that HWPT).
 */
int iommufd_device_attach(struct iommufd *h, uint32_t dev_id, uint32_t pt_id,
			  uint32_t *out_hwpt_id);

/**
 * iommufd_device_detach() - detach a device: its DMA is blocked
 * @h: handle
 * @dev_id: the device; detaching one that is not attached does nothing
 *
 * Return: 0 or -errno.
 */
int iommufd_device_detach(struct iommufd *h, uint32_t dev_id);

/*
 * ---- iommufdd extension: batched MAP and UNMAP -------------------------------
 *
 * IOMMUFDD_IOAS_BATCH (<iommufd/iommufdd_ext.h>): many MAPs and UNMAPs of
 * one IOAS in one round trip to the daemon, each with its own result. A
 * kernel's /dev/iommu answers -ENOTTY; fall back to single calls there.
 */

enum iommufd_batch_op_type {
	IOMMUFD_BATCH_MAP = 1, /* as iommufd_ioas_map() */
	IOMMUFD_BATCH_UNMAP = 2, /* as iommufd_ioas_unmap() */
};

/* One operation; the layout is struct iommufdd_ioas_batch_op's. */
struct iommufd_batch_op {
	uint32_t op; /* enum iommufd_batch_op_type */
	uint32_t flags; /* MAP: IOMMU_IOAS_MAP_*; UNMAP: 0 */
	uint64_t user_va; /* MAP: the memory; UNMAP: 0 */
	uint64_t length; /* in; out for UNMAP: bytes unmapped */
	uint64_t iova; /* in (MAP with FIXED_IOVA, UNMAP); out for MAP */
	int32_t result; /* out: 0 or the single call's -errno */
	uint32_t reserved; /* 0 */
};

/**
 * iommufd_ioas_batch() - run @num_ops MAPs and UNMAPs on one IOAS, in order
 * @h: handle
 * @ioas_id: the IOAS
 * @ops: the operations; each gets its result and outputs
 * @num_ops: 1 to 4096
 *
 * A failed operation does not stop the ones after it.
 *
 * Return: 0 when the batch ran (look at each result), or -errno for the
 * batch as a whole: -ENOENT (no such IOAS), -EINVAL (@num_ops), -EFAULT,
 * -ENOTTY (not iommufdd).
 */
int iommufd_ioas_batch(struct iommufd *h, uint32_t ioas_id,
		       struct iommufd_batch_op *ops, uint32_t num_ops);

/*
 * ---- test extension: IOMMU_TEST_CMD -----------------------------------------
 *
 * For test kernels (CONFIG_IOMMUFD_TEST) and iommufdd's mock backend ONLY.
 * A production kernel answers every one of these with -ENOTTY. The command
 * is not a stable ABI; values such as MOCK_FLAGS_DEVICE_* come from the
 * selftest header (iommufdd's <iommufd/iommufd_test.h>).
 */

/**
 * iommufd_test_mock_domain() - create a mock device attached to @pt_id
 * @h: handle
 * @pt_id: IOAS (an automatic HWPT is made) or HWPT to attach to
 * @dev_flags: 0, or MOCK_FLAGS_DEVICE_* bits
 * @out_stdev_id: receives the selftest object; destroying it unbinds the
 *                device; may be NULL
 * @out_hwpt_id: receives the HWPT the device is attached to; may be NULL
 * @out_idev_id: receives the bound device's ID, as used by
 *               iommufd_hwpt_alloc() and iommufd_get_hw_info(); may be NULL
 *
 * Return: 0 or -errno.
 */
int iommufd_test_mock_domain(struct iommufd *h, uint32_t pt_id,
			     uint32_t dev_flags, uint32_t *out_stdev_id,
			     uint32_t *out_hwpt_id, uint32_t *out_idev_id);

/**
 * iommufd_test_mock_domain_replace() - move a mock device to another page
 * table, without detaching it first
 * @h: handle
 * @stdev_id: selftest object from iommufd_test_mock_domain()
 * @pt_id: IOAS or HWPT to attach to
 * @out_hwpt_id: receives the HWPT now attached; may be NULL
 *
 * Return: 0 or -errno.
 */
int iommufd_test_mock_domain_replace(struct iommufd *h, uint32_t stdev_id,
				     uint32_t pt_id, uint32_t *out_hwpt_id);

/**
 * iommufd_test_add_reserved() - reserve IOVA in an IOAS, as a device's
 * reserved region would
 * @h: handle
 * @ioas_id: IOAS
 * @start: first reserved IOVA
 * @length: bytes
 *
 * Return: 0, -EADDRINUSE over a mapping, or another -errno.
 */
int iommufd_test_add_reserved(struct iommufd *h, uint32_t ioas_id,
			      uint64_t start, uint64_t length);

/**
 * iommufd_test_check_map() - check that a mock HWPT translates
 * [@iova, @iova + @length) to the caller's memory at @buf
 * @h: handle
 * @hwpt_id: mock paging HWPT
 * @iova: first IOVA
 * @length: bytes
 * @buf: the memory that should be behind @iova
 *
 * Return: 0 when it does, -EINVAL when it does not, or another -errno.
 */
int iommufd_test_check_map(struct iommufd *h, uint32_t hwpt_id, uint64_t iova,
			   uint64_t length, const void *buf);

/**
 * iommufd_test_check_refs() - check the pin count of every page of @buf
 * @h: handle
 * @buf: page-aligned memory
 * @length: bytes, a multiple of the page size
 * @refs: expected pins per page
 *
 * Return: 0 when every page matches, -EIO when one does not, or -errno.
 */
int iommufd_test_check_refs(struct iommufd *h, const void *buf, uint64_t length,
			    uint32_t refs);

/**
 * iommufd_test_set_temp_memory_limit() - bound the pinning batch size
 * @h: handle
 * @limit: pages, at least 12; global, not per handle
 *
 * Return: 0 or -EINVAL.
 */
int iommufd_test_set_temp_memory_limit(struct iommufd *h, uint32_t limit);

/**
 * iommufd_test_dirty() - mark IOVA dirty as if a device had written it
 * @h: handle
 * @hwpt_id: mock paging HWPT with dirty tracking enabled
 * @iova: IOVA of bit 0 of @bitmap
 * @length: bytes covered
 * @page_size: bytes per bit
 * @bitmap: set bits name the pages to mark
 * @out_nr_dirty: receives how many pages became dirty; may be NULL
 *
 * Return: 0 or -errno.
 */
int iommufd_test_dirty(struct iommufd *h, uint32_t hwpt_id, uint64_t iova,
		       uint64_t length, uint64_t page_size, const void *bitmap,
		       uint64_t *out_nr_dirty);

/**
 * iommufd_test_check_iotlb() - compare one IOTLB entry of a mock nested HWPT
 * @h: handle
 * @hwpt_id: mock nested HWPT
 * @iotlb_id: entry, at most MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 * @expected: value it should hold
 *
 * Return: 0 when it matches, -EINVAL otherwise, or another -errno.
 */
int iommufd_test_check_iotlb(struct iommufd *h, uint32_t hwpt_id,
			     uint32_t iotlb_id, uint32_t expected);

/**
 * iommufd_test_trigger_iopf() - raise a page request on a mock device
 * @h: handle
 * @dev_id: bound mock device
 * @pasid: PASID, 0 for none
 * @grpid: page request group index
 * @perm: enum iommu_hwpt_pgfault_perm bits
 * @addr: faulting address
 *
 * The request reaches the FAULT queue of the HWPT the device is attached
 * to; without one it is dropped.
 *
 * Return: 0, -ENOENT for an unknown device, -EINVAL for a non-mock one.
 */
int iommufd_test_trigger_iopf(struct iommufd *h, uint32_t dev_id,
			      uint32_t pasid, uint32_t grpid, uint32_t perm,
			      uint64_t addr);

/**
 * iommufd_test_dev_check_cache() - compare one cache entry of a mock device
 * @h: handle
 * @dev_id: bound mock device
 * @cache_id: entry, at most MOCK_DEV_CACHE_ID_MAX
 * @expected: value it should hold; every entry starts as
 *            IOMMU_TEST_DEV_CACHE_DEFAULT and vIOMMU invalidation zeroes it
 *
 * Return: 0 when it matches, -EINVAL otherwise, -ENOENT for an unknown
 * device, -EOPNOTSUPP where the op is unknown (6.12 test kernels, iommufdd
 * today).
 */
int iommufd_test_dev_check_cache(struct iommufd *h, uint32_t dev_id,
				 uint32_t cache_id, uint32_t expected);

/**
 * iommufd_test_trigger_vevent() - raise one selftest vEVENT for a device
 * @h: handle
 * @dev_id: bound mock device, attached to a nested HWPT of a vIOMMU in
 *          which it has a vDEVICE
 *
 * The event, struct iommu_viommu_event_selftest holding the vDEVICE's
 * virtual ID, is queued on the vIOMMU's IOMMU_VEVENTQ_TYPE_SELFTEST queue;
 * a full queue records a loss instead, which is not an error.
 *
 * Return: 0, -ENOENT when the device has no such attachment,
 * -EOPNOTSUPP when the vIOMMU has no selftest vEVENTQ, or another -errno.
 */
int iommufd_test_trigger_vevent(struct iommufd *h, uint32_t dev_id);

/**
 * iommufd_test_pasid_attach() - attach a PASID of a mock device
 * @h: handle
 * @stdev_id: selftest object from iommufd_test_mock_domain()
 * @pasid: PASID; the device needs MOCK_FLAGS_DEVICE_PASID
 * @pt_id: HWPT allocated with IOMMU_HWPT_ALLOC_PASID
 * @out_hwpt_id: receives the HWPT attached; may be NULL
 *
 * Return: 0, -EBUSY when @pasid is already attached, -EINVAL for a HWPT
 * (or device) that cannot serve PASIDs, or another -errno.
 */
int iommufd_test_pasid_attach(struct iommufd *h, uint32_t stdev_id,
			      uint32_t pasid, uint32_t pt_id,
			      uint32_t *out_hwpt_id);

/**
 * iommufd_test_pasid_replace() - move an attached PASID to another HWPT
 * @h: handle
 * @stdev_id: selftest object
 * @pasid: attached PASID
 * @pt_id: new HWPT
 * @out_hwpt_id: receives the HWPT attached; may be NULL
 *
 * On failure the PASID stays on its old HWPT.
 *
 * Return: 0, -EINVAL when @pasid is not attached or @pt_id cannot serve
 * it, or another -errno (the mock fails the replace of PASID 1024 with
 * -ENOMEM on purpose).
 */
int iommufd_test_pasid_replace(struct iommufd *h, uint32_t stdev_id,
			       uint32_t pasid, uint32_t pt_id,
			       uint32_t *out_hwpt_id);

/**
 * iommufd_test_pasid_detach() - detach a PASID of a mock device
 * @h: handle
 * @stdev_id: selftest object
 * @pasid: PASID; detaching one that is not attached is not an error
 *
 * Return: 0, or -ENOENT for an unknown selftest object.
 */
int iommufd_test_pasid_detach(struct iommufd *h, uint32_t stdev_id,
			      uint32_t pasid);

/**
 * iommufd_test_pasid_check_hwpt() - check what a PASID is attached to
 * @h: handle
 * @stdev_id: selftest object
 * @pasid: PASID
 * @hwpt_id: expected HWPT, or 0 to expect no attachment
 *
 * Return: 0 when it matches, -EINVAL when it does not, or another -errno.
 */
int iommufd_test_pasid_check_hwpt(struct iommufd *h, uint32_t stdev_id,
				  uint32_t pasid, uint32_t hwpt_id);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUFD_H */
