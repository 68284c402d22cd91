/* SPDX-License-Identifier: MIT */
/*
 * iommufdd's extensions to the iommufd uAPI, numbered so that a kernel's
 * /dev/iommu refuses them and a program can tell which one it talks to:
 *
 *  - ops of the selftest interface (IOMMU_TEST_CMD) far above the kernel's:
 *    a kernel answers EOPNOTSUPP;
 *  - ioctls of our own, _IO(IOMMUFD_TYPE, nr) with nr from
 *    IOMMUFDD_CMD_BASE (0xc0) on, far above the kernel's commands (0x80
 *    up, 0x94 in 2025) and VFIO's (0x64-0x7f on the same type): a kernel
 *    answers ENOTTY. They follow the iommufd rules (a leading size, E2BIG
 *    for non-zero bytes past the known struct, EOPNOTSUPP for unknown
 *    flags).
 */
#ifndef IOMMUFDD_EXT_H
#define IOMMUFDD_EXT_H

#include <linux/types.h>

#include "iommufd_test.h"

enum {
	/*
	 * Make a mock device DMA through the domain it is attached to, as
	 * hardware would: translate each IO page, honour its permission, set
	 * its dirty bit on writes. id: the DEVICE object; payload at offset
	 * 16 (the union): struct iommufdd_test_dma. ENOENT for an unmapped
	 * IOVA, EPERM when blocked or not permitted, EFAULT for the buffer.
	 */
	IOMMUFDD_TEST_OP_DEV_DMA = 0x10000,
	/*
	 * Fault injection for the daemon's own error paths (the kernel's
	 * fail_nth reaches only the kernel's): the Nth failure point (an
	 * allocation, mmap or pin) that this file's requests pass from now
	 * on fails once. Answers what the previous arming did. Payload at
	 * offset 16: struct iommufdd_test_fail_nth. EOPNOTSUPP unless the
	 * daemon runs with --fault-injection. With
	 * IOMMUFDD_FAIL_NTH_DROP_KEPT the daemon also lets go, now, of what
	 * it keeps for reuse (memory files and mappers no mapping uses), so
	 * that a leak check after it counts only what is held.
	 */
	IOMMUFDD_TEST_OP_FAIL_NTH = 0x10001,
};

#define IOMMUFDD_TEST_DMA_WRITE (1 << 0) /* device writes memory */

struct iommufdd_test_dma {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr; /* caller buffer: source or destination */
	__u32 flags;
	__u32 __reserved;
};

#define IOMMUFDD_FAIL_NTH_DROP_KEPT (1 << 0)

struct iommufdd_test_fail_nth {
	__u32 nth; /* fail the nth point from now on; 0: disarm */
	__u32 out_calls; /* points passed since the previous arming */
	__u32 out_failed; /* whether the previous arming failed one */
	__u32 flags; /* IOMMUFDD_FAIL_NTH_DROP_KEPT */
};

/*
 * Devices of the vfio backend (iommufdd --backend vfio, on kernels without
 * iommufd): the VMM opens /dev/vfio/GROUP itself, binds a device of it
 * here, then takes the device fd from its own group fd with
 * VFIO_GROUP_GET_DEVICE_FD for regions and interrupts. BIND, ATTACH and
 * DETACH mirror VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * and VFIO_DEVICE_DETACH_IOMMUFD_PT; IOMMU_DESTROY of the dev_id (or
 * closing /dev/iommu, or the caller's death) unbinds, detaching first.
 */
enum {
	IOMMUFDD_CMD_BASE = 0xc0,
	IOMMUFDD_CMD_VFIO_DEVICE_BIND = IOMMUFDD_CMD_BASE,
	IOMMUFDD_CMD_DEVICE_ATTACH = 0xc1,
	IOMMUFDD_CMD_DEVICE_DETACH = 0xc2,
	IOMMUFDD_CMD_IOAS_BATCH = 0xc3,
	IOMMUFDD_CMD_MMAP_REGION = 0xc4,
	IOMMUFDD_CMD_LAST = IOMMUFDD_CMD_MMAP_REGION, /* the span of ours */
};

/* The longest device name BIND takes (a sysfs file name). */
#define IOMMUFDD_VFIO_DEVICE_NAME_MAX 255

/**
 * struct iommufdd_vfio_device_bind - IOMMUFDD_VFIO_DEVICE_BIND
 * @size: sizeof(struct iommufdd_vfio_device_bind)
 * @flags: must be 0
 * @group_fd: the caller's open /dev/vfio/GROUP; the daemon takes that very
 *            file (pidfd_getfd), so the kernel's permission check on the
 *            group was the caller's own. The group must be viable and in
 *            no container yet.
 * @name_len: length of the device name, without a terminating NUL
 *            (1..IOMMUFDD_VFIO_DEVICE_NAME_MAX)
 * @name_uptr: the device's name as VFIO_GROUP_GET_DEVICE_FD takes it, e.g.
 *             "0000:00:01.0"; it must be a device of the group
 * @out_dev_id: the new DEVICE object
 * @__reserved: must be 0
 *
 * Errors besides the usual: EOPNOTSUPP when the daemon's backend is not
 * vfio; EBADF when @group_fd is not an open file of the caller's; EINVAL
 * when it is not a VFIO group, or the name is no device of it; EBUSY when
 * the group is in a container already (the caller's own, another
 * client's) or the device is bound already; EPERM when the caller cannot
 * be reached directly (another pid namespace, CUSE retry mode).
 */
struct iommufdd_vfio_device_bind {
	__u32 size;
	__u32 flags;
	__s32 group_fd;
	__u32 name_len;
	__aligned_u64 name_uptr;
	__u32 out_dev_id;
	__u32 __reserved;
};
#define IOMMUFDD_VFIO_DEVICE_BIND \
	_IO(IOMMUFD_TYPE, IOMMUFDD_CMD_VFIO_DEVICE_BIND)

/**
 * struct iommufdd_device_attach - IOMMUFDD_DEVICE_ATTACH
 * @size: sizeof(struct iommufdd_device_attach)
 * @flags: must be 0
 * @dev_id: the device
 * @pt_id: in: a HWPT or an IOAS (which picks or makes an automatic HWPT);
 *         out: the HWPT the device is attached to
 *
 * Attaches a detached device and replaces the HWPT of an attached one, as
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT does. On the vfio backend a replace is not
 * atomic: DMA to IOVAs whose translation changes is blocked in between.
 */
struct iommufdd_device_attach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
};
#define IOMMUFDD_DEVICE_ATTACH _IO(IOMMUFD_TYPE, IOMMUFDD_CMD_DEVICE_ATTACH)

/**
 * struct iommufdd_device_detach - IOMMUFDD_DEVICE_DETACH
 * @size: sizeof(struct iommufdd_device_detach)
 * @flags: must be 0
 * @dev_id: the device; its DMA is blocked afterwards
 * @__reserved: must be 0
 *
 * Detaching a device that is not attached does nothing (0), as in VFIO.
 */
struct iommufdd_device_detach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
};
#define IOMMUFDD_DEVICE_DETACH _IO(IOMMUFD_TYPE, IOMMUFDD_CMD_DEVICE_DETACH)

/*
 * Batched MAP and UNMAP: a VMM shadowing a guest's IOMMU maps and unmaps
 * a few pages at a time, and each ioctl to a daemon is a round trip.
 * IOMMUFDD_IOAS_BATCH carries up to IOMMUFDD_BATCH_MAX_OPS of them for
 * one IOAS; they run in order, each with the result and the outputs that
 * its own IOMMU_IOAS_MAP or IOMMU_IOAS_UNMAP would have had, and a failed
 * one does not stop the rest. The ioctl itself fails only when the batch
 * cannot be read or written back (EFAULT), the IOAS does not exist
 * (ENOENT) or the header is wrong (EOPNOTSUPP for flags, EINVAL for
 * num_ops 0 or over the maximum).
 */
#define IOMMUFDD_BATCH_MAX_OPS 4096

enum iommufdd_batch_op_type {
	IOMMUFDD_BATCH_MAP =
		1, /* IOMMU_IOAS_MAP: flags, user_va, length, iova */
	IOMMUFDD_BATCH_UNMAP = 2, /* IOMMU_IOAS_UNMAP: iova, length */
};

/**
 * struct iommufdd_ioas_batch_op - one operation of IOMMUFDD_IOAS_BATCH
 * @op: enum iommufdd_batch_op_type
 * @flags: MAP: the IOMMU_IOAS_MAP_* flags; UNMAP: 0
 * @user_va: MAP: the memory; UNMAP: 0
 * @length: in: the length; out (UNMAP): the bytes unmapped
 * @iova: in: the IOVA (MAP: with IOMMU_IOAS_MAP_FIXED_IOVA); out (MAP):
 *        where it was mapped
 * @out_result: 0 or the negative errno the single ioctl would have given
 * @__reserved: must be 0
 */
struct iommufdd_ioas_batch_op {
	__u32 op;
	__u32 flags;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
	__s32 out_result;
	__u32 __reserved;
};

/**
 * struct iommufdd_ioas_batch - IOMMUFDD_IOAS_BATCH
 * @size: sizeof(struct iommufdd_ioas_batch)
 * @flags: must be 0
 * @ioas_id: the IOAS all the operations work on
 * @num_ops: number of entries at @ops_uptr (1..IOMMUFDD_BATCH_MAX_OPS)
 * @ops_uptr: struct iommufdd_ioas_batch_op[num_ops], read and written back
 * @__reserved: must be 0
 */
struct iommufdd_ioas_batch {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 num_ops;
	__aligned_u64 ops_uptr;
	__u32 __reserved;
	__u32 __reserved2;
};
#define IOMMUFDD_IOAS_BATCH _IO(IOMMUFD_TYPE, IOMMUFDD_CMD_IOAS_BATCH)

/**
 * struct iommufdd_mmap_region - IOMMUFDD_MMAP_REGION
 * @size: sizeof(struct iommufdd_mmap_region)
 * @flags: must be 0
 * @offset: the offset the caller passes to mmap() on its iommufd, in bytes
 *          (e.g. a vIOMMU's out_mmap_offset)
 * @length: the length of that mmap(), rounded up to whole pages as mmap()
 *          rounds it
 * @prot: the mmap()'s PROT_* bits
 * @map_flags: its MAP_* flags; a caller whose iommufd is not open for
 *             writing passes MAP_PRIVATE for a shared mapping, as the
 *             kernel drops VM_SHARED for such a file
 * @out_fd: a new descriptor (close-on-exec, open for reading and writing)
 *          of the region's memory: map it at offset 0 with @length
 * @__reserved: must be 0
 *
 * A FUSE or CUSE server never sees an mmap() of its file, so a program
 * run under iommufd-run(1) has its mmap() of /dev/iommu turned into this
 * ioctl (by the preload library iommufd-run injects) and a mapping of
 * @out_fd. The checks are the kernel's iommufd_fops_mmap(), in its order:
 * EINVAL for @length or @offset not page-aligned or 0 length, EINVAL for
 * a mapping that is not shared, EPERM for PROT_EXEC, ENXIO unless @offset
 * is the start of a region of this file and @length its whole length.
 * While any shared mapping of the region exists, anywhere, IOMMU_DESTROY
 * of its owner is EBUSY, as in the kernel. ENODEV at --kernel-abi 6.12
 * (that kernel's /dev/iommu has no mmap); EOPNOTSUPP for a caller not run
 * under iommufd-run (the descriptor cannot be handed over).
 */
struct iommufdd_mmap_region {
	__u32 size;
	__u32 flags;
	__aligned_u64 offset;
	__aligned_u64 length;
	__u32 prot;
	__u32 map_flags;
	__s32 out_fd;
	__u32 __reserved;
};
#define IOMMUFDD_MMAP_REGION _IO(IOMMUFD_TYPE, IOMMUFDD_CMD_MMAP_REGION)

#endif
