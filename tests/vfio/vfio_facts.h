/* SPDX-License-Identifier: MIT */
/*
 * What the vfio_facts sections share (vfio_facts.c runs them): the two edu
 * devices and a few helpers. Each section prints "fact:" lines.
 */
#ifndef IOMMUFDD_TESTS_VFIO_FACTS_H
#define IOMMUFDD_TESTS_VFIO_FACTS_H

#include <stdint.h>

#include "edu_vfio.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define TMO 10000u /* ms for one edu transfer */

extern struct edu_vfio dev[2];

/* "ok" for 0, else strerror(-ret) */
const char *err(int ret);

/* A new container holding the group of d (opened if need be), type1v2. */
int container_with(struct edu_vfio *d);

/* Put both devices back to "group closed, no container". */
void reset_all(void);

/* vfio_facts_dma.c */
void sec_groups(void);
void sec_lifetime(void);
void sec_fault(void);
void sec_pidfd(void);
void sec_full_buffer(void);

/* vfio_facts_mem.c */
void sec_memlock(void);
void sec_timing(void);

#endif
