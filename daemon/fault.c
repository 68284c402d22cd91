// SPDX-License-Identifier: MIT
/*
 * FAULT objects: page-request queues read through a file descriptor
 * (conformance.md §6.2, uapi.md §4.1). Reads deliver whole fault groups as
 * 40-byte records and never block; each delivered group gets a cookie and
 * waits for the response written back. The file holds a users reference
 * on the object, so DESTROY is EBUSY until it is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd_private.h"
#include "log.h"
#include "objfile.h"

/* Faults queued or awaiting an answer, per queue. */
#define FAULT_PENDING_MAX 65536

/* One page request; the mock reports single-fault groups. */
struct fault_group {
	struct list_head item;
	struct iommu_hwpt_pgfault msg;
	uint32_t cookie;
};

static struct iommufd_fault *fault_of(void *priv)
{
	return priv;
}

/* Lowest free cookie >= 1 among the groups awaiting a response. */
static uint32_t fault_alloc_cookie(struct iommufd_fault *fault)
{
	struct fault_group *group;
	uint32_t cookie = 1;
	bool taken;

	do {
		taken = false;
		list_for_each_entry(group, &fault->response, item) {
			if (group->cookie == cookie) {
				cookie++;
				taken = true;
				break;
			}
		}
	} while (taken);
	return cookie;
}

static long fault_read(void *priv, char *buf, size_t count)
{
	struct iommufd_fault *fault = fault_of(priv);
	const size_t rec = sizeof(struct iommu_hwpt_pgfault);
	size_t done = 0;

	if (count % rec)
		return -ESPIPE;
	while (!list_empty(&fault->deliver)) {
		struct fault_group *group = list_first_entry(
			&fault->deliver, struct fault_group, item);

		if (done + rec > count) {
			/* 6.12: the first group not fitting is an error. */
			if (!done)
				return -EINVAL;
			break;
		}
		group->cookie = fault_alloc_cookie(fault);
		group->msg.cookie = group->cookie;
		memcpy(buf + done, &group->msg, rec);
		done += rec;
		list_del(&group->item);
		list_add_tail(&group->item, &fault->response);
	}
	return done;
}

static long fault_write(void *priv, const char *buf, size_t count)
{
	struct iommufd_fault *fault = fault_of(priv);
	const size_t rec = sizeof(struct iommu_hwpt_page_response);
	size_t done = 0;

	if (count % rec)
		return -ESPIPE;
	for (; done < count; done += rec) {
		struct iommu_hwpt_page_response resp;
		struct fault_group *group, *found = NULL;

		memcpy(&resp, buf + done, rec);
		if (resp.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    resp.code != IOMMUFD_PAGE_RESP_INVALID)
			break;
		list_for_each_entry(group, &fault->response, item) {
			if (group->cookie == resp.cookie) {
				found = group;
				break;
			}
		}
		if (!found)
			break;
		/* The mock device has nothing to resume: the answer is final. */
		list_del(&found->item);
		free(found);
		fault->pending--;
	}
	return done ? (long)done : -EINVAL;
}

static unsigned int fault_poll(void *priv)
{
	struct iommufd_fault *fault = fault_of(priv);

	return POLLOUT |
	       (list_empty(&fault->deliver) ? 0 : POLLIN | POLLRDNORM);
}

static void fault_file_open(void *priv)
{
	struct iommufd_fault *fault = fault_of(priv);

	iommufd_object_get(&fault->obj);
	iommufd_ctx_get(fault->ictx);
}

static void fault_file_release(void *priv)
{
	struct iommufd_fault *fault = fault_of(priv);
	struct iommufd_ctx *ictx = fault->ictx;

	if (fault->aborted)
		iommufd_object_put_and_try_destroy(ictx, &fault->obj);
	else
		iommufd_object_put(&fault->obj);
	iommufd_ctx_put(ictx);
}

static const struct objfile_ops fault_file_ops = {
	.read = fault_read,
	.write = fault_write,
	.poll = fault_poll,
	.open = fault_file_open,
	.release = fault_file_release,
};

/* The fd never reached the caller: the object must not outlive its file. */
static void fault_abort(struct iommufd_ctx *ictx, void *priv)
{
	struct iommufd_fault *fault = fault_of(priv);

	if (objfile_is_open(fault->file))
		fault->aborted = true;
	else
		iommufd_object_remove(ictx, fault->obj.id, false);
}

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_fault *fault;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (!ucmd->install || !objfile_enabled())
		return iommufd_fd_needs_launcher(ucmd);

	fault = iommufd_object_alloc_type(ucmd->ictx, fault, IOMMUFD_OBJ_FAULT);
	if (!fault)
		return -ENOMEM;
	fault->ictx = ucmd->ictx;
	list_init(&fault->deliver);
	list_init(&fault->response);
	fault->file = objfile_create("fault", &fault_file_ops, fault,
				     &ucmd->ictx->files);
	if (!fault->file) {
		iommufd_object_abort(ucmd->ictx, &fault->obj);
		return -ENOMEM;
	}

	cmd->out_fault_id = fault->obj.id;
	cmd->out_fault_fd = (uint32_t)-1; /* set once installed */
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &fault->obj);
		return ret;
	}
	iommufd_object_finalize(ucmd->ictx, &fault->obj);
	iommufd_object_get(&fault->obj);
	ucmd->install->obj = &fault->obj;
	ucmd->install->file = fault->file;
	ucmd->install->abort = fault_abort;
	ucmd->install->priv = fault;
	return 0;
}

int iommufd_fault_report(struct iommufd_fault *fault,
			 const struct iommu_hwpt_pgfault *msg)
{
	struct fault_group *group;

	/* Faults nobody reads must not pile up in the daemon without end. */
	if (fault->pending >= FAULT_PENDING_MAX) {
		log_info(
			"fault queue %u: %u faults unread or unanswered; refusing more",
			fault->obj.id, fault->pending);
		return -ENOMEM;
	}
	group = calloc(1, sizeof(*group));
	if (!group)
		return -ENOMEM;
	group->msg = *msg;
	list_add_tail(&group->item, &fault->deliver);
	fault->pending++;
	objfile_notify(fault->file);
	return 0;
}

void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault =
		container_of(obj, struct iommufd_fault, obj);
	struct fault_group *group, *next;

	/* Nobody can answer them any more. */
	list_for_each_entry_safe(group, next, &fault->deliver, item)
		free(group);
	list_for_each_entry_safe(group, next, &fault->response, item)
		free(group);
	objfile_remove(fault->file);
}
