/* SPDX-License-Identifier: MIT */
/*
 * The edu device's DMA engine over a mapped BAR0 (see edu.h for the
 * device facts this relies on).
 */
#define _GNU_SOURCE
#include "edu.h"

#include <errno.h>
#include <time.h>

static uint32_t rd32(struct edu *edu, uint32_t off)
{
	return *(volatile uint32_t *)(edu->bar0 + off);
}

static void wr32(struct edu *edu, uint32_t off, uint32_t val)
{
	*(volatile uint32_t *)(edu->bar0 + off) = val;
}

static uint64_t rd64(struct edu *edu, uint32_t off)
{
	return *(volatile uint64_t *)(edu->bar0 + off);
}

static void wr64(struct edu *edu, uint32_t off, uint64_t val)
{
	*(volatile uint64_t *)(edu->bar0 + off) = val;
}

int edu_probe(struct edu *edu)
{
	if (edu->len < EDU_REG_DMA_CMD + 8)
		return -ENODEV;
	if (rd32(edu, EDU_REG_ID) != EDU_ID_VALUE)
		return -ENODEV;
	wr32(edu, EDU_REG_LIVENESS, 0x12345678);
	if (rd32(edu, EDU_REG_LIVENESS) != (uint32_t)~0x12345678u)
		return -EIO;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int edu_dma(struct edu *edu, enum edu_dir dir, uint64_t iova, uint32_t buf_off,
	    uint32_t len, unsigned int timeout_ms)
{
	/* Sleeping lets the guest idle, so QEMU's virtual clock runs. */
	const struct timespec tick = { .tv_nsec = 1000 * 1000 };
	uint64_t buf = EDU_BUF_ADDR + buf_off, deadline;
	uint64_t cmd = EDU_DMA_CMD_RUN;

	if (!len || dir > EDU_DEV_TO_RAM)
		return -EINVAL;
	/* Strictly inside the buffer: leaving it stops the whole machine. */
	if (buf_off >= EDU_BUF_SIZE || len >= EDU_BUF_SIZE - buf_off)
		return -ERANGE;
	if (iova > EDU_DMA_MASK || len - 1 > EDU_DMA_MASK - iova)
		return -ERANGE;
	if (rd64(edu, EDU_REG_DMA_CMD) & EDU_DMA_CMD_RUN)
		return -EBUSY;

	if (dir == EDU_RAM_TO_DEV) {
		wr64(edu, EDU_REG_DMA_SRC, iova);
		wr64(edu, EDU_REG_DMA_DST, buf);
	} else {
		wr64(edu, EDU_REG_DMA_SRC, buf);
		wr64(edu, EDU_REG_DMA_DST, iova);
		cmd |= EDU_DMA_CMD_TO_RAM;
	}
	wr64(edu, EDU_REG_DMA_COUNT, len);
	wr64(edu, EDU_REG_DMA_CMD, cmd);

	deadline = now_ms() + timeout_ms;
	while (rd64(edu, EDU_REG_DMA_CMD) & EDU_DMA_CMD_RUN) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	return 0;
}
