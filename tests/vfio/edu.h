/* SPDX-License-Identifier: MIT */
/*
 * QEMU's "edu" teaching device (PCI 1234:11e8, hw/misc/edu.c) as a DMA
 * engine for the VFIO tests, programmed through its BAR0.
 *
 * What the code relies on, from QEMU's device model:
 * - BAR0 is 1 MiB of MMIO. 0x00 reads 0x010000ed (version 1.0, 0xed);
 *   0x04 reads back the bitwise inverse of what was written there.
 * - DMA registers, 8 bytes each (4- and 8-byte accesses; a 4-byte write
 *   sets the whole register): 0x80 source, 0x88 destination, 0x90 count,
 *   0x98 command. Command bit 0 starts a transfer and reads 1 until it has
 *   run; bit 1 is the direction (0: RAM to the device's buffer, 1: buffer
 *   to RAM); bit 2 raises an interrupt when done. While a transfer is
 *   pending, writes to the DMA registers are ignored.
 * - The device's buffer is 4 KiB, addressed 0x40000-0x40fff on the device
 *   side of a transfer. QEMU stops the whole machine (hw_error) when a
 *   transfer leaves it, and Debian 12's QEMU 7.2 also when one ends exactly
 *   at its end (an off-by-one later fixed upstream; FACTS.md shows the
 *   abort), so edu_dma refuses both: at most 4095 bytes from offset 0.
 * - The RAM side is a bus address (an IOVA behind an IOMMU) that the device
 *   masks with its DMA mask, 28 bits by default: higher addresses are
 *   silently folded, so edu_dma refuses them.
 * - A transfer runs 100 ms of QEMU's virtual clock after the command is
 *   written. It reports no error: an access the IOMMU refuses is dropped
 *   (the guest's VT-d driver logs a DMAR fault) and the command completes.
 */
#ifndef IOMMUFDD_TESTS_EDU_H
#define IOMMUFDD_TESTS_EDU_H

#include <stddef.h>
#include <stdint.h>

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

#define EDU_REG_ID 0x00
#define EDU_REG_LIVENESS 0x04
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98

#define EDU_ID_VALUE 0x010000edu
#define EDU_DMA_CMD_RUN 0x1
#define EDU_DMA_CMD_TO_RAM 0x2 /* buffer -> RAM; clear: RAM -> buffer */

#define EDU_BUF_ADDR 0x40000
#define EDU_BUF_SIZE 4096
#define EDU_DMA_MASK ((1ULL << 28) - 1)

struct edu {
	volatile uint8_t *bar0;
	size_t len;
};

/* Check the ID register and that the liveness register inverts. */
int edu_probe(struct edu *edu);

enum edu_dir {
	EDU_RAM_TO_DEV, /* read len bytes at iova into the buffer */
	EDU_DEV_TO_RAM, /* write len bytes of the buffer at iova */
};

/*
 * One transfer between the bus address iova and the device buffer at
 * buf_off, waited for (polling the command register) for up to timeout_ms
 * of CLOCK_MONOTONIC. Returns 0 when the device reports it done (which
 * says nothing about whether the IOMMU let it through), -EINVAL or -ERANGE
 * for a transfer the device cannot do safely, -EBUSY if a transfer is
 * already pending, -ETIMEDOUT.
 */
int edu_dma(struct edu *edu, enum edu_dir dir, uint64_t iova, uint32_t buf_off,
	    uint32_t len, unsigned int timeout_ms);

#endif
