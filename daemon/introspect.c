// SPDX-License-Identifier: MIT
/*
 * JSON views of the core for iommufdctl. Everything is computed on demand
 * from the live structures, so nothing here can drift from the truth.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "introspect.h"
#include "iommufd_private.h"
#include "account.h"
#include "pages.h"

static struct timespec daemon_start;

void introspect_init(void)
{
	clock_gettime(CLOCK_MONOTONIC, &daemon_start);
}

static json_object *jint(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static unsigned int client_objects(const struct iommufd_ctx *ictx)
{
	return ictx->nr_objects;
}

static json_object *client_json(const struct iommufd_ctx *ictx)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "client", jint(ictx->serial));
	json_object_object_add(c, "pid", jint((uint64_t)ictx->opener.pid));
	json_object_object_add(c, "uid", jint(ictx->opener.uid));
	json_object_object_add(c, "command", json_object_new_string(ictx->comm));
	json_object_object_add(c, "opened", jint((uint64_t)ictx->opened.tv_sec));
	json_object_object_add(c, "objects", jint(client_objects(ictx)));
	return c;
}

json_object *introspect_status(const char *backend)
{
	json_object *st = json_object_new_object();
	const struct iommufd_ctx *ictx;
	struct timespec now;
	uint64_t clients = 0, objects = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	list_for_each_entry(ictx, &iommufd_contexts, item) {
		clients++;
		objects += ictx->nr_objects;
	}
	json_object_object_add(st, "backend", json_object_new_string(backend));
	json_object_object_add(st, "clients", jint(clients));
	json_object_object_add(st, "objects", jint(objects));
	json_object_object_add(st, "pinned_pages", jint(pages_pinned_total()));
	json_object_object_add(st, "uptime_s",
			       jint((uint64_t)(now.tv_sec - daemon_start.tv_sec)));
	return st;
}

json_object *introspect_clients(void)
{
	json_object *list = json_object_new_array();
	const struct iommufd_ctx *ictx;

	list_for_each_entry(ictx, &iommufd_contexts, item)
		json_object_array_add(list, client_json(ictx));
	return list;
}

/* What an object points at: (kind, id) pairs. */
static unsigned int object_links(const struct iommufd_object *obj,
				 const char **kinds, unsigned int *ids)
{
	unsigned int n = 0;

	switch (obj->type) {
	case IOMMUFD_OBJ_DEVICE: {
		const struct iommufd_device *idev =
			container_of(obj, const struct iommufd_device, obj);

		if (idev->hwpt) {
			kinds[n] = "hwpt";
			ids[n++] = idev->hwpt->obj.id;
		}
		break;
	}
	case IOMMUFD_OBJ_HWPT_PAGING: {
		const struct iommufd_hwpt_paging *p = container_of(
			obj, const struct iommufd_hwpt_paging, common.obj);

		kinds[n] = "ioas";
		ids[n++] = p->ioas->obj.id;
		if (p->common.fault) {
			kinds[n] = "fault";
			ids[n++] = p->common.fault->obj.id;
		}
		break;
	}
	case IOMMUFD_OBJ_HWPT_NESTED: {
		const struct iommufd_hwpt_nested *h = container_of(
			obj, const struct iommufd_hwpt_nested, common.obj);

		kinds[n] = "parent";
		ids[n++] = h->parent->common.obj.id;
		if (h->common.fault) {
			kinds[n] = "fault";
			ids[n++] = h->common.fault->obj.id;
		}
		break;
	}
	case IOMMUFD_OBJ_ACCESS:
		if (iommufd_access_ioas_id(obj)) {
			kinds[n] = "ioas";
			ids[n++] = iommufd_access_ioas_id(obj);
		}
		break;
	case IOMMUFD_OBJ_SELFTEST:
		if (iommufd_selftest_device_id(obj)) {
			kinds[n] = "device";
			ids[n++] = iommufd_selftest_device_id(obj);
		}
		break;
	default:
		break;
	}
	return n;
}

static void add_details(json_object *o, const struct iommufd_object *obj)
{
	if (obj->type == IOMMUFD_OBJ_IOAS) {
		const struct iommufd_ioas *ioas =
			container_of(obj, const struct iommufd_ioas, obj);

		json_object_object_add(o, "areas",
				       jint(ioas->iopt.area_itree.count));
		json_object_object_add(o, "domains", jint(ioas->iopt.ndomains));
		json_object_object_add(o, "iova_alignment",
				       jint(ioas->iopt.iova_alignment));
	} else if (obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		const struct iommufd_hwpt_paging *p = container_of(
			obj, const struct iommufd_hwpt_paging, common.obj);

		json_object_object_add(o, "auto",
				       json_object_new_boolean(p->auto_domain));
		json_object_object_add(o, "nest_parent",
				       json_object_new_boolean(p->nest_parent));
		json_object_object_add(
			o, "dirty_tracking",
			json_object_new_boolean(p->common.domain->dirty_tracking));
	}
}

static json_object *client_objects_json(const struct iommufd_ctx *ictx)
{
	json_object *list = json_object_new_array();
	unsigned int id;
	size_t i, n;

	for (id = 1; id < ictx->nr_slots; id++) {
		const struct iommufd_object *obj = ictx->objects[id];
		const char *kinds[4];
		unsigned int ids[4], nlinks, l;
		json_object *o, *links;

		if (!obj || !obj->published)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id", jint(obj->id));
		json_object_object_add(o, "type",
				       json_object_new_string(
					       iommufd_object_type_name(obj->type)));
		json_object_object_add(o, "users", jint(obj->users));
		links = json_object_new_object();
		nlinks = object_links(obj, kinds, ids);
		for (l = 0; l < nlinks; l++)
			json_object_object_add(links, kinds[l], jint(ids[l]));
		json_object_object_add(o, "uses", links);
		json_object_object_add(o, "used_by", json_object_new_array());
		add_details(o, obj);
		json_object_array_add(list, o);
	}

	/* The reverse edges, so each object also says what points at it. */
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		json_object *uses = json_object_object_get(o, "uses");
		int64_t from = json_object_get_int64(
			json_object_object_get(o, "id"));

		json_object_object_foreach(uses, kind, target)
		{
			size_t j;

			(void)kind;
			for (j = 0; j < n; j++) {
				json_object *t = json_object_array_get_idx(list, j);

				if (json_object_get_int64(json_object_object_get(
					    t, "id")) !=
				    json_object_get_int64(target))
					continue;
				json_object_array_add(
					json_object_object_get(t, "used_by"),
					json_object_new_int64(from));
			}
		}
	}
	return list;
}

json_object *introspect_objects(pid_t pid)
{
	json_object *list = json_object_new_array();
	const struct iommufd_ctx *ictx;

	list_for_each_entry(ictx, &iommufd_contexts, item) {
		json_object *c;

		if (pid && ictx->opener.pid != pid)
			continue;
		c = client_json(ictx);
		json_object_object_add(c, "objects", client_objects_json(ictx));
		json_object_array_add(list, c);
	}
	return list;
}

json_object *introspect_ioas(pid_t pid, unsigned int id, int *err)
{
	const struct iommufd_ctx *ictx;

	list_for_each_entry(ictx, &iommufd_contexts, item) {
		const struct iommufd_ioas *ioas;
		struct iopt_area *area;
		json_object *o, *areas;

		if (pid && ictx->opener.pid != pid)
			continue;
		if (id >= ictx->nr_slots || !ictx->objects[id] ||
		    ictx->objects[id]->type != IOMMUFD_OBJ_IOAS)
			continue;
		ioas = container_of(ictx->objects[id], const struct iommufd_ioas,
				    obj);
		o = client_json(ictx);
		json_object_object_add(o, "ioas", jint(id));
		json_object_object_add(o, "iova_alignment",
				       jint(ioas->iopt.iova_alignment));
		json_object_object_add(o, "domains", jint(ioas->iopt.ndomains));
		areas = json_object_new_array();
		for (area = iopt_area_first((struct io_pagetable *)&ioas->iopt,
					    0, UINT64_MAX);
		     area; area = iopt_area_next(area, 0, UINT64_MAX)) {
			json_object *a = json_object_new_object();

			json_object_object_add(a, "iova", jint(iopt_area_iova(area)));
			json_object_object_add(a, "last",
					       jint(iopt_area_last_iova(area)));
			json_object_object_add(a, "length",
					       jint(iopt_area_length(area)));
			json_object_object_add(
				a, "writable",
				json_object_new_boolean(area->iommu_prot &
							IOMMU_WRITE));
			json_object_object_add(a, "accesses",
					       jint(area->num_accesses));
			json_object_array_add(areas, a);
		}
		json_object_object_add(o, "areas", areas);
		return o;
	}
	*err = -ENOENT;
	return NULL;
}

/* One mapping of a page storage, to be grouped by storage. */
struct pages_use {
	struct iopt_pages *pages;
	const struct iommufd_ctx *ictx;
	unsigned int ioas;
	uint64_t iova, length;
};

static int pages_use_cmp(const void *a, const void *b)
{
	const struct pages_use *x = a, *y = b;

	return x->pages < y->pages ? -1 : x->pages > y->pages;
}

static void charge_json(void *arg, bool per_process, unsigned int key,
			uint64_t pages)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, per_process ? "pid" : "uid", jint(key));
	json_object_object_add(c, "pinned_pages", jint(pages));
	json_object_array_add(arg, c);
}

json_object *introspect_pages(void)
{
	json_object *out = json_object_new_object(), *list, *accounting;
	const struct iommufd_ctx *ictx;
	struct pages_use *uses = NULL;
	uint64_t pinned = 0;
	size_t n = 0, i, j;

	/* Every area of every IOAS, grouped by the storage behind it. */
	list_for_each_entry(ictx, &iommufd_contexts, item) {
		unsigned int id;

		for (id = 1; id < ictx->nr_slots; id++) {
			const struct iommufd_object *obj = ictx->objects[id];
			struct io_pagetable *iopt;
			struct iopt_area *area;

			if (!obj || obj->type != IOMMUFD_OBJ_IOAS)
				continue;
			iopt = &container_of(obj, struct iommufd_ioas, obj)->iopt;
			for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
			     area = iopt_area_next(area, 0, UINT64_MAX)) {
				uses = xreallocarray(uses, n + 1, sizeof(*uses));
				uses[n++] = (struct pages_use){
					area->pages, ictx, id,
					iopt_area_iova(area),
					iopt_area_length(area)
				};
			}
		}
	}
	/* qsort() wants a real array, even for no elements. */
	if (n)
		qsort(uses, n, sizeof(*uses), pages_use_cmp);

	list = json_object_new_array();
	for (i = 0; i < n; i = j) {
		struct iopt_pages_info info;
		json_object *p = json_object_new_object(), *areas;

		iopt_pages_get_info(uses[i].pages, &info);
		json_object_object_add(p, "storage",
				       jint(json_object_array_length(list) + 1));
		json_object_object_add(p, "type",
				       json_object_new_string(info.kind));
		json_object_object_add(p, "pid", jint((uint64_t)info.tgid));
		json_object_object_add(p, "base", jint(info.base));
		json_object_object_add(p, "inode", jint(info.ino));
		json_object_object_add(p, "pinned_bytes",
				       jint(info.npinned * PAGE_SIZE));
		pinned += info.npinned;
		json_object_object_add(p, "writable",
				       json_object_new_boolean(info.writable));
		areas = json_object_new_array();
		for (j = i; j < n && uses[j].pages == uses[i].pages; j++) {
			json_object *a = json_object_new_object();

			json_object_object_add(a, "client",
					       jint(uses[j].ictx->serial));
			json_object_object_add(a, "ioas", jint(uses[j].ioas));
			json_object_object_add(a, "iova", jint(uses[j].iova));
			json_object_object_add(a, "length",
					       jint(uses[j].length));
			json_object_array_add(areas, a);
		}
		json_object_object_add(p, "areas", areas);
		json_object_array_add(list, p);
	}
	free(uses);

	accounting = json_object_new_array();
	account_for_each_charge(charge_json, accounting);
	json_object_object_add(out, "storages", list);
	json_object_object_add(out, "accounting", accounting);
	json_object_object_add(out, "pinned_pages", jint(pinned));
	return out;
}

json_object *introspect_stats(void)
{
	json_object *st = json_object_new_object();
	json_object *ioctls = json_object_new_object();
	json_object *errors = json_object_new_object();
	json_object *latency = json_object_new_array();
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(iommufd_stats.calls); i++) {
		const char *name = iommufd_ioctl_name(i);
		char fallback[32];

		if (!iommufd_stats.calls[i])
			continue;
		if (!name) {
			snprintf(fallback, sizeof(fallback),
				 i < IOMMUFD_CMD_BASE ? "VFIO_0x%02x" :
							"0x%02x",
				 i);
			name = fallback;
		}
		json_object_object_add(ioctls, name,
				       jint(iommufd_stats.calls[i]));
	}
	for (i = 1; i < IOMMUFD_STATS_ERRNO_MAX; i++) {
		const char *name = strerrorname_np((int)i);

		if (iommufd_stats.errors[i])
			json_object_object_add(errors, name ? name : "?",
					       jint(iommufd_stats.errors[i]));
	}
	for (i = 0; i < IOMMUFD_STATS_LATENCY_BUCKETS; i++) {
		json_object *b = json_object_new_object();

		/* upper bound of the bucket, in microseconds */
		json_object_object_add(b, "lt_us", jint(1ULL << i));
		json_object_object_add(b, "count",
				       jint(iommufd_stats.latency_us[i]));
		json_object_array_add(latency, b);
	}
	json_object_object_add(st, "ioctls", ioctls);
	json_object_object_add(st, "errors", errors);
	json_object_object_add(st, "latency", latency);
	return st;
}

json_object *introspect_event(const struct iommufd_event *ev)
{
	static const char *const names[] = {
		[IOMMUFD_EVENT_CLIENT_OPEN] = "client-open",
		[IOMMUFD_EVENT_CLIENT_CLOSE] = "client-close",
		[IOMMUFD_EVENT_OBJECT_CREATE] = "object-create",
		[IOMMUFD_EVENT_OBJECT_DESTROY] = "object-destroy",
	};
	json_object *e = json_object_new_object();

	json_object_object_add(e, "event", json_object_new_string(names[ev->kind]));
	json_object_object_add(e, "client", jint(ev->ictx->serial));
	json_object_object_add(e, "pid", jint((uint64_t)ev->ictx->opener.pid));
	json_object_object_add(e, "command",
			       json_object_new_string(ev->ictx->comm));
	if (ev->obj) {
		json_object_object_add(e, "id", jint(ev->obj->id));
		json_object_object_add(e, "type",
				       json_object_new_string(
					       iommufd_object_type_name(
						       ev->obj->type)));
	}
	return e;
}
