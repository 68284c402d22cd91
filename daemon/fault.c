// SPDX-License-Identifier: MIT
/*
 * FAULT objects: page-request queues. The kernel hands the queue to user
 * space as a new file descriptor; a FUSE or CUSE server cannot install one
 * in the caller, so allocation needs the iommufd-run launcher.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd_private.h"
#include "log.h"

struct fault_group {
	struct list_head item;
	struct iommu_hwpt_pgfault msg;
};

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;

	if (cmd->flags)
		return -EOPNOTSUPP;
	log_info("pid %d: IOMMU_FAULT_QUEUE_ALLOC returns a file descriptor, "
		 "which needs the program to run under iommufd-run",
		 (int)ucmd->caller->pid);
	return -EOPNOTSUPP;
}

void iommufd_fault_report(struct iommufd_fault *fault,
			  const struct iommu_hwpt_pgfault *msg)
{
	struct fault_group *group = xcalloc(1, sizeof(*group));

	group->msg = *msg;
	list_add_tail(&group->item, &fault->deliver);
}

void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault =
		container_of(obj, struct iommufd_fault, obj);
	struct fault_group *group, *next;

	list_for_each_entry_safe(group, next, &fault->deliver, item)
		free(group);
	list_for_each_entry_safe(group, next, &fault->response, item)
		free(group);
}
