// SPDX-License-Identifier: MIT
/*
 * vEVENTQ objects (docs/newest-uapi.md §3.5): a vIOMMU's queue of events of
 * one type, read through a file descriptor as records of an 8-byte header
 * (flags, sequence) and the event's data. A full queue drops the event and
 * queues one "lost events" record instead, always last while present; every
 * queued item takes a sequence number, so a gap also tells of a loss. Reads
 * never block; poll says readable while anything is queued. The file holds
 * the object (DESTROY is EBUSY until it is closed) and the context.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "iommufd_private.h"
#include "log.h"
#include "objfile.h"

/* The deepest queue a caller may ask for (the kernel's VEVENTQ_MAX_DEPTH). */
#define VEVENTQ_MAX_DEPTH (1U << 19)

struct vevent {
	struct list_head item;
	struct iommufd_vevent_header header;
	size_t len; /* of data */
	char *data; /* right behind the struct; none for the lost record */
};

struct iommufd_veventq {
	struct iommufd_object obj; /* must be first */
	struct iommufd_ctx *ictx;
	struct iommufd_viommu *viommu; /* held */
	struct list_head item; /* on viommu->veventqs */
	uint32_t type;
	uint32_t depth;
	struct list_head events;
	uint32_t num_events; /* real events queued */
	uint32_t sequence;
	struct vevent lost; /* the one "lost events" record */
	bool lost_queued;
	struct objfile *file;
	bool aborted; /* the fd never reached the caller */
};

static void veventq_enqueue(struct iommufd_veventq *q, struct vevent *ev)
{
	/* A lost-events record that is last gives way to what follows. */
	if (q->lost_queued &&
	    list_entry(q->events.prev, struct vevent, item) == &q->lost) {
		list_del(&q->lost.item);
		q->lost_queued = false;
	}
	list_add_tail(&ev->item, &q->events);
	if (ev == &q->lost)
		q->lost_queued = true;
	else
		q->num_events++;
	ev->header.sequence = q->sequence;
	q->sequence = (q->sequence + 1) & INT_MAX;
	objfile_notify(q->file);
}

int iommufd_viommu_report_event(struct iommufd_viommu *viommu, uint32_t type,
				const void *data, size_t len)
{
	struct iommufd_veventq *q, *found = NULL;
	struct vevent *ev = NULL;

	list_for_each_entry(q, &viommu->veventqs, item) {
		if (q->type == type) {
			found = q;
			break;
		}
	}
	if (!found)
		return -EOPNOTSUPP;
	if (found->num_events < found->depth)
		ev = malloc(sizeof(*ev) + len);
	if (!ev) {
		veventq_enqueue(found, &found->lost);
		return 0;
	}
	ev->header.flags = 0;
	ev->len = len;
	ev->data = (char *)(ev + 1);
	memcpy(ev->data, data, len);
	veventq_enqueue(found, ev);
	return 0;
}

static long veventq_read(void *priv, char *buf, size_t count)
{
	struct iommufd_veventq *q = priv;
	const size_t hdr = sizeof(struct iommufd_vevent_header);
	size_t done = 0;

	if (count < hdr)
		return -EINVAL;
	while (!list_empty(&q->events)) {
		struct vevent *ev =
			list_first_entry(&q->events, struct vevent, item);
		size_t need = hdr + (ev == &q->lost ? 0 : ev->len);

		if (done + need > count) {
			/* The first event not fitting is an error. */
			if (!done)
				return -EINVAL;
			break;
		}
		memcpy(buf + done, &ev->header, hdr);
		if (ev != &q->lost)
			memcpy(buf + done + hdr, ev->data, ev->len);
		done += need;
		list_del(&ev->item);
		if (ev == &q->lost) {
			q->lost_queued = false;
		} else {
			q->num_events--;
			free(ev);
		}
	}
	return done;
}

static unsigned int veventq_poll(void *priv)
{
	struct iommufd_veventq *q = priv;

	return list_empty(&q->events) ? 0 : POLLIN | POLLRDNORM;
}

static void veventq_file_open(void *priv)
{
	struct iommufd_veventq *q = priv;

	iommufd_object_get(&q->obj);
	iommufd_ctx_get(q->ictx);
}

static void veventq_file_release(void *priv)
{
	struct iommufd_veventq *q = priv;
	struct iommufd_ctx *ictx = q->ictx;

	if (q->aborted)
		iommufd_object_put_and_try_destroy(ictx, &q->obj);
	else
		iommufd_object_put(&q->obj);
	iommufd_ctx_put(ictx);
}

/* No write method: write() is EINVAL, as on the kernel's file. */
static const struct objfile_ops veventq_file_ops = {
	.read = veventq_read,
	.poll = veventq_poll,
	.open = veventq_file_open,
	.release = veventq_file_release,
};

/* The fd never reached the caller: the object must not outlive its file. */
static void veventq_abort(struct iommufd_ctx *ictx, void *priv)
{
	struct iommufd_veventq *q = priv;

	if (objfile_is_open(q->file))
		q->aborted = true;
	else
		iommufd_object_remove(ictx, q->obj.id, false);
}

/* §3.5 steps 1-4; the vIOMMU, its lookup reference held, on success. */
static int veventq_check(struct iommufd_ucmd *ucmd,
			 const struct iommu_veventq_alloc *cmd,
			 struct iommufd_viommu **viommu)
{
	struct iommufd_veventq *q;
	struct iommufd_object *obj;

	if (cmd->flags || cmd->__reserved ||
	    cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth || cmd->veventq_depth > VEVENTQ_MAX_DEPTH)
		return -EINVAL;
	obj = iommufd_get_object(ucmd->ictx, cmd->viommu_id,
				 IOMMUFD_OBJ_VIOMMU);
	if (!obj)
		return -ENOENT;
	*viommu = container_of(obj, struct iommufd_viommu, obj);
	list_for_each_entry(q, &(*viommu)->veventqs, item) {
		if (q->type == cmd->type) {
			iommufd_put_object(ucmd->ictx, obj);
			return -EEXIST;
		}
	}
	return 0;
}

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	struct iommufd_veventq *q;
	int ret;

	ret = veventq_check(ucmd, cmd, &viommu);
	if (ret)
		return ret;
	if (!ucmd->install || !objfile_enabled()) {
		ret = iommufd_fd_needs_launcher(ucmd);
		goto out_put;
	}
	q = iommufd_object_alloc_type(ucmd->ictx, q, IOMMUFD_OBJ_VEVENTQ);
	if (!q) {
		ret = -ENOMEM;
		goto out_put;
	}
	q->ictx = ucmd->ictx;
	q->type = cmd->type;
	q->depth = cmd->veventq_depth;
	list_init(&q->events);
	q->lost.header.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	q->file = objfile_create("veventq", &veventq_file_ops, q,
				 &ucmd->ictx->files);
	if (!q->file) {
		iommufd_object_abort(ucmd->ictx, &q->obj);
		ret = -ENOMEM;
		goto out_put;
	}
	q->viommu = viommu;
	iommufd_object_get(&viommu->obj);
	list_add_tail(&q->item, &viommu->veventqs);

	cmd->out_veventq_id = q->obj.id;
	cmd->out_veventq_fd = (uint32_t)-1; /* set once installed */
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &q->obj);
		goto out_put;
	}
	iommufd_object_finalize(ucmd->ictx, &q->obj);
	iommufd_object_get(&q->obj);
	ucmd->install->obj = &q->obj;
	ucmd->install->file = q->file;
	ucmd->install->abort = veventq_abort;
	ucmd->install->priv = q;
out_put:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return ret;
}

void iommufd_veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_veventq *q =
		container_of(obj, struct iommufd_veventq, obj);
	struct vevent *ev, *next;

	list_for_each_entry_safe(ev, next, &q->events, item) {
		if (ev != &q->lost)
			free(ev);
	}
	if (q->viommu) {
		list_del(&q->item);
		iommufd_object_put(&q->viommu->obj);
	}
	objfile_remove(q->file);
}

unsigned int iommufd_veventq_viommu_id(const struct iommufd_object *obj)
{
	return container_of(obj, const struct iommufd_veventq, obj)
		->viommu->obj.id;
}
