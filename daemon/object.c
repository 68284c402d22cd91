// SPDX-License-Identifier: MIT
/*
 * The per-context object table. IDs are allocated exactly as the kernel's
 * xarray does it: the lowest free id >= 1, reused right after a destroy,
 * reserved while the object is being built and released if that fails.
 * Tests observe this order (the replace test expects a freed auto domain's
 * id to be gone, not reused, because the new domain was allocated first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "iommufd_private.h"
#include "log.h"
#include "user_budget.h"

static const struct {
	const char *name;
	iommufd_destroy_fn destroy;
} object_ops[IOMMUFD_OBJ_MAX] = {
	[IOMMUFD_OBJ_DEVICE] = { "device", iommufd_device_destroy },
	[IOMMUFD_OBJ_HWPT_PAGING] = { "hwpt_paging",
				      iommufd_hwpt_paging_destroy },
	[IOMMUFD_OBJ_HWPT_NESTED] = { "hwpt_nested",
				      iommufd_hwpt_nested_destroy },
	[IOMMUFD_OBJ_IOAS] = { "ioas", iommufd_ioas_destroy },
	[IOMMUFD_OBJ_ACCESS] = { "access", iommufd_access_destroy_object },
	[IOMMUFD_OBJ_FAULT] = { "fault", iommufd_fault_destroy },
	[IOMMUFD_OBJ_SELFTEST] = { "selftest", iommufd_selftest_destroy },
	[IOMMUFD_OBJ_VIOMMU] = { "viommu", iommufd_viommu_destroy },
	[IOMMUFD_OBJ_VDEVICE] = { "vdevice", iommufd_vdevice_destroy },
	[IOMMUFD_OBJ_VEVENTQ] = { "veventq", iommufd_veventq_destroy },
	[IOMMUFD_OBJ_HW_QUEUE] = { "hw_queue", iommufd_hw_queue_destroy },
};

/*
 * What a tombstoned id holds: never published, never used, so lookups and
 * DESTROY see no object (ENOENT) and the allocator never hands the id out
 * again; it goes with the table.
 */
static struct iommufd_object object_tombstone = { .type = IOMMUFD_OBJ_NONE };

const char *iommufd_object_type_name(enum iommufd_object_type type)
{
	return type < IOMMUFD_OBJ_MAX && object_ops[type].name ?
		       object_ops[type].name :
		       "none";
}

struct iommufd_object *iommufd_object_alloc(struct iommufd_ctx *ictx,
					    size_t size,
					    enum iommufd_object_type type)
{
	struct iommufd_object *obj;
	unsigned int id;

	for (id = ictx->lowest_free; id < ictx->nr_slots && ictx->objects[id];
	     id++)
		;
	if (id > INT_MAX) {
		errno = EBUSY;
		return NULL;
	}
	if (ictx->limits.objects && ictx->nr_objects >= ictx->limits.objects) {
		if (!ictx->budget.warned)
			log_info(
				"client %llu (pid %d) reached its limit of %u objects (--max-objects)",
				(unsigned long long)ictx->serial,
				(int)ictx->opener.pid, ictx->limits.objects);
		ictx->budget.warned = true;
		errno = ENOMEM;
		return NULL;
	}
	if (user_budget_charge(ictx->budget.user, USER_BUDGET_OBJECTS, 1)) {
		errno = ENOMEM;
		return NULL;
	}
	if (id >= ictx->nr_slots) {
		unsigned int n = ictx->nr_slots ? ictx->nr_slots * 2 : 16;
		struct iommufd_object **objects =
			reallocarray(ictx->objects, n, sizeof(*objects));

		if (!objects)
			goto no_memory;
		ictx->objects = objects;
		for (unsigned int i = ictx->nr_slots; i < n; i++)
			ictx->objects[i] = NULL;
		ictx->nr_slots = n;
	}
	obj = fail_nth_calloc(1, size, "object");
	if (!obj)
		goto no_memory;
	obj->id = id;
	obj->type = type;
	obj->users = 1;
	ictx->objects[id] = obj;
	ictx->nr_objects++;
	ictx->lowest_free = id + 1;
	return obj;

no_memory:
	user_budget_uncharge(ictx->budget.user, USER_BUDGET_OBJECTS, 1);
	errno = ENOMEM;
	return NULL;
}

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	obj->published = true;
	iommufd_event(IOMMUFD_EVENT_OBJECT_CREATE, ictx, obj);
}

static void object_release_id(struct iommufd_ctx *ictx,
			      struct iommufd_object *obj)
{
	ictx->objects[obj->id] = NULL;
	ictx->nr_objects--;
	user_budget_uncharge(ictx->budget.user, USER_BUDGET_OBJECTS, 1);
	if (obj->id < ictx->lowest_free)
		ictx->lowest_free = obj->id;
}

/* Undo a reservation whose object holds nothing yet. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	object_release_id(ictx, obj);
	free(obj);
}

/* Undo a reservation whose object was partly built: run its destroy. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	object_release_id(ictx, obj);
	object_ops[obj->type].destroy(obj);
	free(obj);
}

struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx,
					  unsigned int id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	if (id == 0 || id >= ictx->nr_slots)
		return NULL;
	obj = ictx->objects[id];
	if (!obj || !obj->published || !obj->users ||
	    (type != IOMMUFD_OBJ_ANY && obj->type != type))
		return NULL;
	obj->users++;
	return obj;
}

void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	(void)ictx;
	obj->users--;
}

static void object_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	log_debug("destroy %s %u", iommufd_object_type_name(obj->type),
		  obj->id);
	iommufd_event(IOMMUFD_EVENT_OBJECT_DESTROY, ictx, obj);
	object_release_id(ictx, obj);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	object_ops[obj->type].destroy(obj);
	free(obj);
}

/*
 * Remove @id from the table and destroy it. With @only_if_idle (user
 * DESTROY) anything but the table's reference makes it EBUSY; internal
 * callers have dropped their own references first.
 */
int iommufd_object_remove(struct iommufd_ctx *ictx, unsigned int id,
			  bool only_if_idle)
{
	struct iommufd_object *obj;

	if (id == 0 || id >= ictx->nr_slots)
		return -ENOENT;
	obj = ictx->objects[id];
	if (!obj || !obj->published)
		return -ENOENT;
	if (only_if_idle && obj->users != 1)
		return -EBUSY;
	/* A mapping of its mmap region holds it, as a VMA does in the kernel. */
	if (only_if_idle && iommufd_mmap_region_retire(ictx, obj))
		return -EBUSY;
	if (obj->users != 1)
		log_warnx("%s %u destroyed with %u users",
			  iommufd_object_type_name(obj->type), id, obj->users);
	object_destroy(ictx, obj);
	return 0;
}

/*
 * Destroy @obj on the user's behalf but keep its id reserved for the rest
 * of the context's life, as the kernel does for a vDEVICE whose device went
 * away (newest-uapi.md §2.4).
 */
void iommufd_object_tombstone(struct iommufd_ctx *ictx,
			      struct iommufd_object *obj)
{
	unsigned int id = obj->id;

	object_destroy(ictx, obj);
	ictx->objects[id] = &object_tombstone;
	if (ictx->lowest_free == id)
		ictx->lowest_free = id + 1;
}

/*
 * Drop a dependency reference and destroy the object if only the table is
 * left holding it; automatic domains go away with their last device.
 */
void iommufd_object_put_and_try_destroy(struct iommufd_ctx *ictx,
					struct iommufd_object *obj)
{
	obj->users--;
	if (obj->users == 1 && obj->published)
		object_destroy(ictx, obj);
}

/*
 * Tear the graph down from the leaves: destroy whatever only the table
 * holds, and repeat, until nothing is left. A pass that frees nothing means
 * a reference was leaked; say so instead of looping.
 */
void iommufd_object_destroy_all(struct iommufd_ctx *ictx)
{
	while (ictx->nr_objects) {
		bool progress = false;
		unsigned int id;

		for (id = 1; id < ictx->nr_slots; id++) {
			struct iommufd_object *obj = ictx->objects[id];

			if (obj && obj->users == 1) {
				object_destroy(ictx, obj);
				progress = true;
			}
		}
		if (!progress) {
			log_warnx(
				"context release: %u objects still referenced",
				ictx->nr_objects);
			/* Lost to the context, not to its user's budget. */
			user_budget_uncharge(ictx->budget.user,
					     USER_BUDGET_OBJECTS,
					     ictx->nr_objects);
			break;
		}
	}
	free(ictx->objects);
	ictx->objects = NULL;
	ictx->nr_slots = 0;
}
