// SPDX-License-Identifier: MIT
/*
 * JSON views of the core for iommufdctl. Everything is computed on demand
 * from the live structures, so nothing here can drift from the truth.
 *
 * This runs on a worker (control.c), beside the requests it looks at: a
 * context is read only under its queue's exec lock, taken with a short
 * timeout; a context stuck in a request is shown as busy rather than
 * waited for. Big answers (the areas of an IOAS, the storages) come in
 * pages, so no reply holds a context long or grows without bound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "backend.h"
#include "introspect.h"
#include "iommufd_private.h"
#include "memfile.h"
#include "pages.h"

/* How long inspection waits for a context busy with a request. */
#define CTX_LOCK_MS 200
/* Page sizes: the default and the most a request may ask for. */
#define PAGE_DEFAULT 1024
#define PAGE_MAX 16384
/* Areas listed per storage (the count is always there). */
#define STORAGE_AREAS_SHOWN 8

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
	json_object_object_add(c, "command",
			       json_object_new_string(ictx->comm));
	json_object_object_add(c, "opened",
			       jint((uint64_t)ictx->opened.tv_sec));
	json_object_object_add(c, "objects", jint(client_objects(ictx)));
	return c;
}

/* What each open /dev/iommu may hold (0: no limit). */
static json_object *limits_json(void)
{
	const struct iommufd_limits *l = &iommufd_default_limits;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "objects", jint(l->objects));
	json_object_object_add(o, "areas", jint(l->areas));
	json_object_object_add(o, "iova_ranges", jint(l->iova_ranges));
	json_object_object_add(o, "pinned_bytes",
			       jint(l->pinned_pages * PAGE_SIZE));
	return o;
}

/* The contexts to look at, each held. */
struct ctx_walk {
	struct iommufd_ctx **list;
	unsigned int n;
};

static bool walk_start(struct ctx_walk *w)
{
	w->list = iommufd_ctx_list_get(&w->n);
	return w->list;
}

static void walk_end(struct ctx_walk *w)
{
	iommufd_ctx_list_free(w->list, w->n);
}

static json_object *busy_json(const struct iommufd_ctx *ictx)
{
	json_object *c = client_json(ictx);

	json_object_object_add(c, "busy", json_object_new_boolean(true));
	return c;
}

json_object *introspect_status(const char *backend)
{
	json_object *st = json_object_new_object();
	unsigned int threads, running, queued;
	struct timespec now;
	uint64_t objects = 0;
	struct ctx_walk w;

	if (!walk_start(&w))
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (unsigned int i = 0; i < w.n; i++) {
		if (!iommufd_ctx_lock_timed(w.list[i], CTX_LOCK_MS))
			continue;
		objects += w.list[i]->nr_objects;
		iommufd_ctx_unlock(w.list[i]);
	}
	wq_stats(&threads, &running, &queued);
	json_object_object_add(st, "backend", json_object_new_string(backend));
	json_object_object_add(st, "clients", jint(w.n));
	json_object_object_add(st, "objects", jint(objects));
	json_object_object_add(st, "pinned_pages", jint(pages_pinned_total()));
	json_object_object_add(st, "windows", jint(memfile_nr_windows()));
	json_object_object_add(st, "idle_files", jint(memfile_nr_idle()));
	json_object_object_add(st, "workers", jint(threads));
	json_object_object_add(st, "requests_running", jint(running));
	json_object_object_add(st, "requests_queued", jint(queued));
	json_object_object_add(
		st, "uptime_s",
		jint((uint64_t)(now.tv_sec - daemon_start.tv_sec)));
	json_object_object_add(st, "limits", limits_json());
	walk_end(&w);
	return st;
}

json_object *introspect_clients(void)
{
	json_object *list = json_object_new_array();
	struct ctx_walk w;

	if (!walk_start(&w))
		return list;
	for (unsigned int i = 0; i < w.n; i++) {
		if (!iommufd_ctx_lock_timed(w.list[i], CTX_LOCK_MS)) {
			json_object_array_add(list, busy_json(w.list[i]));
			continue;
		}
		json_object_array_add(list, client_json(w.list[i]));
		iommufd_ctx_unlock(w.list[i]);
	}
	walk_end(&w);
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
		if (h->viommu) {
			kinds[n] = "viommu";
			ids[n++] = h->viommu->obj.id;
		}
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
	case IOMMUFD_OBJ_VIOMMU:
		kinds[n] = "hwpt";
		ids[n++] = container_of(obj, const struct iommufd_viommu, obj)
				   ->hwpt->common.obj.id;
		break;
	case IOMMUFD_OBJ_VDEVICE: {
		const struct iommufd_vdevice *v =
			container_of(obj, const struct iommufd_vdevice, obj);

		kinds[n] = "viommu";
		ids[n++] = v->viommu->obj.id;
		kinds[n] = "device";
		ids[n++] = v->idev->obj.id;
		break;
	}
	case IOMMUFD_OBJ_VEVENTQ:
		kinds[n] = "viommu";
		ids[n++] = iommufd_veventq_viommu_id(obj);
		break;
	case IOMMUFD_OBJ_HW_QUEUE: {
		const struct iommufd_hw_queue *q =
			container_of(obj, const struct iommufd_hw_queue, obj);

		kinds[n] = "viommu";
		ids[n++] = q->viommu->obj.id;
		kinds[n] = "access";
		ids[n++] = iommufd_access_id(q->access);
		if (q->depend) {
			kinds[n] = "depends_on";
			ids[n++] = q->depend->obj.id;
		}
		break;
	}
	default:
		break;
	}
	return n;
}

/* A device: its backend and what the backend knows (PCI name, group). */
static void add_device_details(json_object *o,
			       const struct iommufd_device *idev)
{
	const struct iommu_backend_ops *ops = idev->dev->ops;
	struct iommu_dev_desc desc = { .group = -1 };

	json_object_object_add(o, "backend", json_object_new_string(ops->name));
	if (!ops->describe)
		return;
	ops->describe(idev->dev, &desc);
	if (desc.name[0])
		json_object_object_add(o, "device",
				       json_object_new_string(desc.name));
	if (desc.group >= 0)
		json_object_object_add(o, "group", jint((uint64_t)desc.group));
	if (desc.iommu[0])
		json_object_object_add(o, "iommu",
				       json_object_new_string(desc.iommu));
}

static void add_details(json_object *o, const struct iommufd_object *obj)
{
	if (obj->type == IOMMUFD_OBJ_DEVICE) {
		add_device_details(
			o, container_of(obj, const struct iommufd_device, obj));
	} else if (obj->type == IOMMUFD_OBJ_IOAS) {
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
			json_object_new_boolean(
				p->common.domain->dirty_tracking));
	} else if (obj->type == IOMMUFD_OBJ_VDEVICE) {
		json_object_object_add(
			o, "virt_id",
			jint(container_of(obj, const struct iommufd_vdevice,
					  obj)
				     ->virt_id));
	} else if (obj->type == IOMMUFD_OBJ_HW_QUEUE) {
		json_object_object_add(
			o, "index",
			jint(container_of(obj, const struct iommufd_hw_queue,
					  obj)
				     ->index));
	}
}

static json_object *object_json(const struct iommufd_object *obj)
{
	json_object *o = json_object_new_object(), *links;
	const char *kinds[4];
	unsigned int ids[4], nlinks;

	json_object_object_add(o, "id", jint(obj->id));
	json_object_object_add(
		o, "type",
		json_object_new_string(iommufd_object_type_name(obj->type)));
	json_object_object_add(o, "users", jint(obj->users));
	links = json_object_new_object();
	nlinks = object_links(obj, kinds, ids);
	for (unsigned int l = 0; l < nlinks; l++)
		json_object_object_add(links, kinds[l], jint(ids[l]));
	json_object_object_add(o, "uses", links);
	json_object_object_add(o, "used_by", json_object_new_array());
	add_details(o, obj);
	return o;
}

static json_object *client_objects_json(const struct iommufd_ctx *ictx)
{
	json_object *list = json_object_new_array();
	json_object **by_id =
		calloc(ictx->nr_slots ? ictx->nr_slots : 1, sizeof(*by_id));

	for (unsigned int id = 1; id < ictx->nr_slots; id++) {
		const struct iommufd_object *obj = ictx->objects[id];

		if (!obj || !obj->published)
			continue;
		json_object_array_add(list, object_json(obj));
		if (by_id)
			by_id[id] = json_object_array_get_idx(
				list, json_object_array_length(list) - 1);
	}
	if (!by_id)
		return list;

	/* The reverse edges, so each object also says what points at it. */
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i);
		int64_t from =
			json_object_get_int64(json_object_object_get(o, "id"));

		json_object_object_foreach(json_object_object_get(o, "uses"),
					   kind, target)
		{
			int64_t to = json_object_get_int64(target);

			(void)kind;
			if (to > 0 && to < ictx->nr_slots && by_id[to])
				json_object_array_add(
					json_object_object_get(by_id[to],
							       "used_by"),
					json_object_new_int64(from));
		}
	}
	free(by_id);
	return list;
}

json_object *introspect_objects(pid_t pid)
{
	json_object *list = json_object_new_array();
	struct ctx_walk w;

	if (!walk_start(&w))
		return list;
	for (unsigned int i = 0; i < w.n; i++) {
		struct iommufd_ctx *ictx = w.list[i];
		json_object *c;

		if (pid && ictx->opener.pid != pid)
			continue;
		if (!iommufd_ctx_lock_timed(ictx, CTX_LOCK_MS)) {
			json_object_array_add(list, busy_json(ictx));
			continue;
		}
		c = client_json(ictx);
		json_object_object_add(c, "objects", client_objects_json(ictx));
		iommufd_ctx_unlock(ictx);
		json_object_array_add(list, c);
	}
	walk_end(&w);
	return list;
}

static unsigned int page_size_arg(int64_t limit)
{
	if (limit <= 0)
		return PAGE_DEFAULT;
	return limit > PAGE_MAX ? PAGE_MAX : (unsigned int)limit;
}

static json_object *area_json(const struct iopt_area *area)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "iova", jint(iopt_area_iova(area)));
	json_object_object_add(a, "last", jint(iopt_area_last_iova(area)));
	json_object_object_add(a, "length", jint(iopt_area_length(area)));
	json_object_object_add(a, "writable",
			       json_object_new_boolean(area->iommu_prot &
						       IOMMU_WRITE));
	json_object_object_add(a, "accesses",
			       jint(iopt_area_num_accesses(area)));
	json_object_object_add(
		a, "owner",
		jint(area->mapper ? (uint64_t)mapper_tgid(area->mapper) : 0));
	json_object_object_add(a, "file",
			       json_object_new_boolean(area->flags &
						       IOPT_AREA_FILE));
	return a;
}

/* IOAS @id of @ictx, its areas from IOVA @from on, at most @limit. */
static json_object *ioas_json(struct iommufd_ctx *ictx, unsigned int id,
			      uint64_t from, unsigned int limit)
{
	const struct iommufd_ioas *ioas =
		container_of(ictx->objects[id], const struct iommufd_ioas, obj);
	struct io_pagetable *iopt = (struct io_pagetable *)&ioas->iopt;
	json_object *o = client_json(ictx), *areas = json_object_new_array();
	struct iopt_area *area;
	unsigned int n = 0;

	json_object_object_add(o, "ioas", jint(id));
	json_object_object_add(o, "iova_alignment", jint(iopt->iova_alignment));
	json_object_object_add(o, "domains", jint(iopt->ndomains));
	json_object_object_add(o, "nr_areas", jint(iopt->area_itree.count));
	for (area = iopt_area_first(iopt, from, UINT64_MAX); area;
	     area = iopt_area_next(area, from, UINT64_MAX)) {
		/* The first area may start below @from: it was on the last page. */
		if (iopt_area_iova(area) < from)
			continue;
		if (n++ == limit) {
			json_object_object_add(o, "next",
					       jint(iopt_area_iova(area)));
			break;
		}
		json_object_array_add(areas, area_json(area));
	}
	json_object_object_add(o, "areas", areas);
	return o;
}

json_object *introspect_ioas(pid_t pid, unsigned int id, uint64_t from,
			     int64_t limit, int *err)
{
	json_object *o = NULL;
	struct ctx_walk w;

	*err = -ENOENT;
	if (!walk_start(&w)) {
		*err = -ENOMEM;
		return NULL;
	}
	for (unsigned int i = 0; i < w.n && !o; i++) {
		struct iommufd_ctx *ictx = w.list[i];

		if (pid && ictx->opener.pid != pid)
			continue;
		if (!iommufd_ctx_lock_timed(ictx, CTX_LOCK_MS)) {
			*err = -EBUSY;
			continue;
		}
		if (id < ictx->nr_slots && ictx->objects[id] &&
		    ictx->objects[id]->type == IOMMUFD_OBJ_IOAS)
			o = ioas_json(ictx, id, from, page_size_arg(limit));
		iommufd_ctx_unlock(ictx);
	}
	walk_end(&w);
	return o;
}

/* One mapping of a page storage, to be grouped by storage. */
struct pages_use {
	struct iopt_pages *pages; /* referenced */
	uint64_t client;
	unsigned int ioas;
	uint64_t iova, length;
};

static int pages_use_cmp(const void *a, const void *b)
{
	const struct pages_use *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? -1 : 1;
	return (x->client > y->client) - (x->client < y->client);
}

static void charge_json(void *arg, bool per_process, unsigned int key,
			uint64_t pages)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, per_process ? "pid" : "uid", jint(key));
	json_object_object_add(c, "pinned_pages", jint(pages));
	json_object_array_add(arg, c);
}

struct uses {
	struct pages_use *v;
	size_t n, cap;
	bool oom;
};

/* Every area of @ictx whose storage sorts at or after @from. */
static void collect_uses(struct uses *u, struct iommufd_ctx *ictx,
			 uintptr_t from)
{
	for (unsigned int id = 1; id < ictx->nr_slots; id++) {
		const struct iommufd_object *obj = ictx->objects[id];
		struct io_pagetable *iopt;
		struct iopt_area *area;

		if (!obj || obj->type != IOMMUFD_OBJ_IOAS)
			continue;
		iopt = &container_of(obj, struct iommufd_ioas, obj)->iopt;
		for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_next(area, 0, UINT64_MAX)) {
			if ((uintptr_t)area->pages < from)
				continue;
			if (u->n == u->cap) {
				size_t cap = u->cap ? u->cap * 2 : 256;
				struct pages_use *v =
					reallocarray(u->v, cap, sizeof(*v));

				if (!v) {
					u->oom = true;
					return;
				}
				u->v = v;
				u->cap = cap;
			}
			u->v[u->n++] = (struct pages_use){
				iopt_pages_get(area->pages), ictx->serial, id,
				iopt_area_iova(area), iopt_area_length(area)
			};
		}
	}
}

static json_object *storage_json(const struct pages_use *first, size_t n,
				 uint64_t *pinned)
{
	json_object *p = json_object_new_object(), *areas;
	struct iopt_pages_info info;

	iopt_pages_get_info(first->pages, &info);
	json_object_object_add(p, "storage",
			       jint((uint64_t)(uintptr_t)first->pages));
	json_object_object_add(p, "type", json_object_new_string(info.kind));
	json_object_object_add(p, "pid", jint((uint64_t)info.tgid));
	json_object_object_add(p, "base", jint(info.base));
	json_object_object_add(p, "inode", jint(info.ino));
	json_object_object_add(p, "pinned_bytes",
			       jint(info.npinned * PAGE_SIZE));
	json_object_object_add(p, "writable",
			       json_object_new_boolean(info.writable));
	json_object_object_add(p, "nr_areas", jint(n));
	*pinned += info.npinned;
	areas = json_object_new_array();
	for (size_t j = 0; j < n && j < STORAGE_AREAS_SHOWN; j++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "client", jint(first[j].client));
		json_object_object_add(a, "ioas", jint(first[j].ioas));
		json_object_object_add(a, "iova", jint(first[j].iova));
		json_object_object_add(a, "length", jint(first[j].length));
		json_object_array_add(areas, a);
	}
	json_object_object_add(p, "areas", areas);
	return p;
}

json_object *introspect_pages(uint64_t from, int64_t limit)
{
	json_object *out = json_object_new_object(), *list, *accounting;
	unsigned int max = page_size_arg(limit), shown = 0;
	struct uses u = { 0 };
	uint64_t pinned = 0;
	struct ctx_walk w;
	size_t i, j;

	if (walk_start(&w)) {
		for (unsigned int c = 0; c < w.n; c++) {
			if (!iommufd_ctx_lock_timed(w.list[c], CTX_LOCK_MS)) {
				json_object_object_add(
					out, "busy_clients",
					json_object_new_boolean(true));
				continue;
			}
			collect_uses(&u, w.list[c], (uintptr_t)from);
			iommufd_ctx_unlock(w.list[c]);
		}
		walk_end(&w);
	}
	/* qsort() wants a real array, even for no elements. */
	if (u.n)
		qsort(u.v, u.n, sizeof(*u.v), pages_use_cmp);

	list = json_object_new_array();
	for (i = 0; i < u.n; i = j) {
		for (j = i; j < u.n && u.v[j].pages == u.v[i].pages; j++)
			;
		if (shown++ == max) {
			json_object_object_add(
				out, "next",
				jint((uint64_t)(uintptr_t)u.v[i].pages));
			break;
		}
		json_object_array_add(list,
				      storage_json(&u.v[i], j - i, &pinned));
	}
	for (i = 0; i < u.n; i++)
		iopt_pages_put(u.v[i].pages);
	free(u.v);
	if (u.oom)
		json_object_object_add(out, "truncated",
				       json_object_new_boolean(true));

	accounting = json_object_new_array();
	account_for_each_charge(charge_json, accounting);
	json_object_object_add(out, "storages", list);
	json_object_object_add(out, "accounting", accounting);
	json_object_object_add(out, "pinned_pages", jint(pages_pinned_total()));
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

		uint64_t calls = __atomic_load_n(&iommufd_stats.calls[i],
						 __ATOMIC_RELAXED);

		if (!calls)
			continue;
		if (!name) {
			snprintf(fallback, sizeof(fallback),
				 i < IOMMUFD_CMD_BASE ? "VFIO_0x%02x" :
							"0x%02x",
				 i);
			name = fallback;
		}
		json_object_object_add(ioctls, name, jint(calls));
	}
	for (i = 1; i < IOMMUFD_STATS_ERRNO_MAX; i++) {
		const char *name = strerrorname_np((int)i);

		uint64_t count = __atomic_load_n(&iommufd_stats.errors[i],
						 __ATOMIC_RELAXED);

		if (count)
			json_object_object_add(errors, name ? name : "?",
					       jint(count));
	}
	for (i = 0; i < IOMMUFD_STATS_LATENCY_BUCKETS; i++) {
		json_object *b = json_object_new_object();

		/* upper bound of the bucket, in microseconds */
		json_object_object_add(b, "lt_us", jint(1ULL << i));
		json_object_object_add(
			b, "count",
			jint(__atomic_load_n(&iommufd_stats.latency_us[i],
					     __ATOMIC_RELAXED)));
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

	json_object_object_add(e, "event",
			       json_object_new_string(names[ev->kind]));
	json_object_object_add(e, "client", jint(ev->ictx->serial));
	json_object_object_add(e, "pid", jint((uint64_t)ev->ictx->opener.pid));
	json_object_object_add(e, "command",
			       json_object_new_string(ev->ictx->comm));
	if (ev->obj) {
		json_object_object_add(e, "id", jint(ev->obj->id));
		json_object_object_add(
			e, "type",
			json_object_new_string(
				iommufd_object_type_name(ev->obj->type)));
	}
	return e;
}
