/* SPDX-License-Identifier: MIT */
/*
 * iommufdd's extensions to the selftest interface (IOMMU_TEST_CMD). They
 * use op numbers far above the kernel's, so a kernel answers EOPNOTSUPP
 * and a program can tell which /dev/iommu it talks to.
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
	 * daemon runs with --fault-injection.
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

struct iommufdd_test_fail_nth {
	__u32 nth; /* fail the nth point from now on; 0: disarm */
	__u32 out_calls; /* points passed since the previous arming */
	__u32 out_failed; /* whether the previous arming failed one */
	__u32 __reserved;
};

#endif
