// SPDX-License-Identifier: MIT
/*
 * Fault injection (fail_nth.h) and its selftest op. The state is per
 * context and is changed only by that context's requests, which run one at
 * a time (workqueue.h); the thread running one points at it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <iommufd/iommufdd_ext.h>

#include "account.h"
#include "fail_nth.h"
#include "iommufd_private.h"
#include "log.h"
#include "memfile.h"

bool fail_nth_allowed;

static __thread struct fail_nth *current;

void fail_nth_enter(struct fail_nth *f)
{
	current = f;
}

void fail_nth_leave(void)
{
	current = NULL;
}

bool fail_nth_point(const char *site)
{
	struct fail_nth *f = current;

	if (!f || !f->nth || ++f->calls != f->nth)
		return false;
	/* One failure per arming, as the kernel's fail-nth. */
	f->nth = 0;
	f->failed = true;
	log_debug("fault injection: failing %s (point %u)", site, f->calls);
	return true;
}

/*
 * IOMMUFDD_TEST_OP_FAIL_NTH: report what the previous arming did, then arm
 * again (nth 0 disarms).
 */
int iommufd_test_fail_nth(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufdd_test_fail_nth arg;
	struct fail_nth *f = &ucmd->ictx->fail_nth;
	const size_t offset = offsetof(struct iommu_test_cmd, add_reserved);

	if (!fail_nth_allowed) {
		log_info(
			"pid %d: fault injection asked for, but the daemon runs without --fault-injection",
			(int)ucmd->caller->pid);
		return -EOPNOTSUPP;
	}
	memcpy(&arg, (char *)cmd + offset, sizeof(arg));
	if (arg.flags & ~IOMMUFDD_FAIL_NTH_DROP_KEPT)
		return -EOPNOTSUPP;
	if (arg.flags & IOMMUFDD_FAIL_NTH_DROP_KEPT) {
		memfile_drop_idle();
		account_drop_idle();
	}
	arg.out_calls = f->calls;
	arg.out_failed = f->failed;
	*f = (struct fail_nth){ .nth = arg.nth };
	memcpy((char *)cmd + offset, &arg, sizeof(arg));
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}
