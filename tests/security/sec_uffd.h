/* SPDX-License-Identifier: MIT */
/*
 * Memory nobody serves: a userfaultfd that also handles faults the kernel
 * takes on behalf of others (process_vm_readv, /proc/PID/mem), registered
 * on missing pages. Any access to such a page waits until the page is
 * provided or the userfaultfd goes away.
 *
 * Handling kernel faults needs CAP_SYS_PTRACE, vm.unprivileged_userfaultfd
 * or access to /dev/userfaultfd; the runner gives the test users the last
 * (SECURITY_UFFD_DEV), modelling a host that lets users handle them.
 */
#ifndef IOMMUFDD_SECURITY_SEC_UFFD_H
#define IOMMUFDD_SECURITY_SEC_UFFD_H

#include <stddef.h>
#include <stdint.h>

/* A userfaultfd for this process through @dev, or -errno. */
int sec_uffd_open(const char *dev);
/* Register [addr, addr + len) for missing-page faults. 0 or -errno. */
int sec_uffd_register(int uffd, void *addr, size_t len);
/*
 * Wait up to @timeout_s for a page-fault event: its address, or 0 if none
 * came.
 */
uint64_t sec_uffd_wait_fault(int uffd, double timeout_s);
/* Fill the page at @addr with zeroes, waking whoever waits on it. */
int sec_uffd_zero(int uffd, uint64_t addr);

#endif
