// SPDX-License-Identifier: MIT
/*
 * The vfio backend: real IOMMUs through the kernel's VFIO type1, for hosts
 * whose kernel has no iommufd (Debian 12's 6.12 is built without it).
 *
 * How HWPT_PAGING maps onto type1 containers, and why.
 *
 * A type1 container is one IOVA space shared by every group in it. Once a
 * VMM has taken a device fd from its group (it always has, to reach the
 * device's regions), the kernel refuses to take the group out of its
 * container: VFIO_GROUP_UNSET_CONTAINER is EBUSY, and a BAR mapping counts
 * as an open device (tests/vfio/FACTS.md section 2). iommufd's operations
 * move a device between domains while the VMM holds that fd: detach
 * (block DMA), replace (another HWPT), attach to an IOAS that reuses an
 * automatic HWPT. So a group can never be moved; what moves are the
 * mappings:
 *
 *  - every bound group gets a container of its own (vfio_group.c), which
 *    the daemon alone programs. Sharing a container between groups would
 *    tie their DMA views together for good.
 *  - a domain (HWPT_PAGING) is a record of its mappings here, IOVA to
 *    daemon address, plus the groups attached to it. map() and unmap()
 *    change the record and issue VFIO_IOMMU_MAP_DMA / UNMAP_DMA on every
 *    attached group's container. The daemon address is the daemon's own
 *    mapping of the caller's shared memory (pages.h), which is exactly
 *    what VFIO_IOMMU_MAP_DMA pins.
 *  - attach = map the domain's record into the group's container (the
 *    replay a newly attached device needs, whether the domain is an
 *    automatic one reused from the IOAS or one allocated earlier);
 *    detach = VFIO_DMA_UNMAP_FLAG_ALL, after which the device's DMA
 *    faults (DMAR fault, nothing lands); replace = unmap the mappings the
 *    new domain does not have identically, then map the ones it adds.
 *    Unlike the kernel's replace this is not atomic: DMA to an IOVA whose
 *    translation changes is blocked in between, and DMA to IOVAs both
 *    domains map identically is never interrupted. A replace that fails
 *    puts the old mappings back (best effort; if even that fails the
 *    device is left blocked, never half mapped).
 *  - a domain with no device keeps its mappings only in the record: a
 *    container cannot exist without a group.
 *
 * Devices of one group share the container, so they share one domain at a
 * time; attaching one elsewhere while another is attached is EINVAL, the
 * kernel's rule for a group's devices.
 *
 * Properties are the host's, not invented: page sizes, the aperture and
 * the holes in it (the MSI window) from the container's VFIO_IOMMU_GET_INFO,
 * the group's reserved regions from sysfs, cache coherency from the
 * container's VFIO_DMA_CC_IOMMU, IOMMU_GET_HW_INFO from the VT-d unit's
 * cap/ecap in sysfs. type1 cannot nest, and its dirty-page log cannot see
 * device writes through an IOMMU (it reports every pinned page dirty,
 * FACTS.md section 7), so HWPT_NESTED, NEST_PARENT and DIRTY_TRACKING get
 * EOPNOTSUPP, what the kernel answers for an IOMMU without them.
 *
 * Memory: only what the daemon maps itself (shared memory, pages.h) has a
 * daemon address; private memory stays in its process and cannot back a
 * real domain: EOPNOTSUPP, and one log line per domain naming the fix.
 *
 * Locked memory: type1 charges every MAP_DMA to the daemon's mm, per
 * mapping and per container (FACTS.md section 9), whatever the daemon's
 * own pin-once accounting charges the caller: the daemon needs
 * LimitMEMLOCK=infinity or CAP_IPC_LOCK (iommufdd(8)).
 *
 * Locking: domains and devices belong to one context and are changed only
 * by its jobs; the group registry has its own lock (vfio_group.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd/iommufd.h>

#include "addrmap.h"
#include "backend_vfio.h"
#include "interval_tree.h"
#include "log.h"
#include "vfio_host.h"

#define VFIO_DEV_MAX_RESV 16

struct vfio_mapping {
	struct itree_node node; /* IOVA */
	uint64_t vaddr; /* daemon address of node.start */
	int prot;
};

struct vfio_domain {
	struct iommu_domain domain;
	struct itree mappings; /* struct vfio_mapping */
	struct list_head groups; /* attached struct vfio_group */
	bool enforce_cache_coherency;
	bool warned_private;
};

struct vfio_device {
	struct iommu_device dev;
	struct vfio_group *group;
	struct list_head group_item; /* on group->devices */
	bool attached;
	char name[NAME_MAX + 1];
	struct vfio_host_iommu iommu;
	struct iommu_resv_region resv[VFIO_DEV_MAX_RESV];
	unsigned int nr_resv;
};

static struct vfio_domain *to_vfio_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct vfio_domain, domain);
}

static struct vfio_device *to_vfio_device(struct iommu_device *dev)
{
	return container_of(dev, struct vfio_device, dev);
}

static struct vfio_mapping *to_mapping(struct itree_node *node)
{
	return itree_entry(node, struct vfio_mapping, node);
}

static uint64_t mapping_len(const struct vfio_mapping *m)
{
	return m->node.last - m->node.start + 1;
}

static int mapping_map(struct vfio_group *g, const struct vfio_mapping *m)
{
	return vfio_group_dma_map(g, m->node.start, m->vaddr, mapping_len(m),
				  m->prot);
}

static void mapping_unmap(struct vfio_group *g, const struct vfio_mapping *m)
{
	int ret = vfio_group_dma_unmap(g, m->node.start, mapping_len(m));

	if (ret)
		log_warnx("vfio: group %u: unmapping IOVA 0x%llx+0x%llx: %s",
			  g->number, (unsigned long long)m->node.start,
			  (unsigned long long)mapping_len(m), strerror(-ret));
}

/* Does @d map @m's IOVA range exactly as @m does? */
static bool domain_has_identical(struct vfio_domain *d,
				 const struct vfio_mapping *m)
{
	struct itree_node *n =
		itree_iter_first(&d->mappings, m->node.start, m->node.start);
	const struct vfio_mapping *o;

	if (!n)
		return false;
	o = to_mapping(n);
	return o->node.start == m->node.start && o->node.last == m->node.last &&
	       o->vaddr == m->vaddr && o->prot == m->prot;
}

/* ---- domains ------------------------------------------------------------ */

static struct iommu_domain *vfio_domain_alloc_paging(struct iommu_device *dev,
						     uint32_t flags, int *err)
{
	const struct vfio_group_info *gi = &to_vfio_device(dev)->group->info;
	struct vfio_domain *d;

	/* type1 can neither nest nor track device writes (top of file). */
	if (flags) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->domain.ops = &vfio_backend_ops;
	d->domain.type = IOMMU_DOMAIN_PAGING;
	d->domain.pgsize_bitmap = gi->pgsizes;
	d->domain.aperture_start = gi->aperture_start;
	d->domain.aperture_end = gi->aperture_last;
	list_init(&d->groups);
	return &d->domain;
}

static void vfio_domain_free(struct iommu_domain *domain)
{
	struct vfio_domain *d = to_vfio_domain(domain);
	struct itree_node *n;

	if (!list_empty(&d->groups))
		log_warnx(
			"vfio: freeing a domain that devices are still attached to");
	while ((n = itree_first(&d->mappings))) {
		itree_remove(&d->mappings, n);
		free(to_mapping(n));
	}
	free(d);
}

static int vfio_domain_map(struct iommu_domain *domain, uint64_t iova,
			   uint64_t paddr, uint64_t len, int prot)
{
	struct vfio_domain *d = to_vfio_domain(domain);
	struct vfio_group *g, *failed;
	struct vfio_mapping *m;
	int ret;

	if (addrmap_is_private(paddr)) {
		if (!d->warned_private)
			log_info(
				"vfio: IOVA 0x%llx is private memory, which a real IOMMU cannot map: give the device shared memory (a memfd, MAP_SHARED, hugetlbfs) instead",
				(unsigned long long)iova);
		d->warned_private = true;
		return -EOPNOTSUPP;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->node.start = iova;
	m->node.last = iova + len - 1;
	m->vaddr = paddr;
	m->prot = prot;
	list_for_each_entry(g, &d->groups, domain_item) {
		ret = mapping_map(g, m);
		if (ret)
			goto err_unmap;
	}
	itree_insert(&d->mappings, &m->node);
	return 0;

err_unmap:
	failed = g;
	list_for_each_entry(g, &d->groups, domain_item) {
		if (g == failed)
			break;
		mapping_unmap(g, m);
	}
	free(m);
	return ret;
}

/*
 * The core unmaps what it mapped: whole mappings, possibly several at
 * once, never part of one (type1 v2 would refuse that with EINVAL).
 */
static uint64_t vfio_domain_unmap(struct iommu_domain *domain, uint64_t iova,
				  uint64_t len)
{
	struct vfio_domain *d = to_vfio_domain(domain);
	uint64_t last = iova + len - 1, done = 0;
	struct itree_node *n, *next;
	struct vfio_group *g;
	bool whole = true;
	int ret;

	itree_for_each(n, &d->mappings, iova, last)
		if (n->start < iova || n->last > last)
			whole = false;
	if (!whole)
		log_warnx(
			"vfio: unmap of IOVA 0x%llx+0x%llx cuts a mapping; unmapping the whole ones only",
			(unsigned long long)iova, (unsigned long long)len);
	list_for_each_entry(g, &d->groups, domain_item) {
		if (!whole)
			break;
		ret = vfio_group_dma_unmap(g, iova, len);
		if (ret)
			log_warnx(
				"vfio: group %u: unmapping IOVA 0x%llx+0x%llx: %s",
				g->number, (unsigned long long)iova,
				(unsigned long long)len, strerror(-ret));
	}
	/* Found by a fresh lookup, so removing @n cannot upset the walk. */
	for (n = itree_iter_first(&d->mappings, iova, last); n; n = next) {
		struct vfio_mapping *m = to_mapping(n);

		next = n->last < last ? itree_iter_first(&d->mappings,
							 n->last + 1, last) :
					NULL;
		if (n->start < iova || n->last > last)
			continue;
		if (!whole)
			list_for_each_entry(g, &d->groups, domain_item)
				mapping_unmap(g, m);
		itree_remove(&d->mappings, n);
		done += mapping_len(m);
		free(m);
	}
	return done;
}

/* ---- moving a group between domains -------------------------------------- */

/* Map all of @d into @g's container, which maps nothing of it yet. */
static int group_map_all(struct vfio_group *g, struct vfio_domain *d)
{
	struct itree_node *n, *failed;
	int ret;

	for (n = itree_first(&d->mappings); n; n = itree_next(n)) {
		ret = mapping_map(g, to_mapping(n));
		if (ret)
			goto err;
	}
	return 0;
err:
	failed = n;
	for (n = itree_first(&d->mappings); n != failed; n = itree_next(n))
		mapping_unmap(g, to_mapping(n));
	return ret;
}

/*
 * Take @g's container from @from's mappings to @to's: first unmap what @to
 * does not map identically (an IOVA mapped elsewhere must be free before
 * it is mapped again), then map what @from did not have. On failure the
 * container goes back to @from's mappings.
 */
static int group_switch(struct vfio_group *g, struct vfio_domain *from,
			struct vfio_domain *to)
{
	struct itree_node *n, *failed;
	int ret;

	for (n = itree_first(&from->mappings); n; n = itree_next(n))
		if (!domain_has_identical(to, to_mapping(n)))
			mapping_unmap(g, to_mapping(n));
	for (n = itree_first(&to->mappings); n; n = itree_next(n)) {
		if (domain_has_identical(from, to_mapping(n)))
			continue;
		ret = mapping_map(g, to_mapping(n));
		if (ret)
			goto err_restore;
	}
	return 0;

err_restore:
	failed = n;
	for (n = itree_first(&to->mappings); n != failed; n = itree_next(n))
		if (!domain_has_identical(from, to_mapping(n)))
			mapping_unmap(g, to_mapping(n));
	for (n = itree_first(&from->mappings); n; n = itree_next(n)) {
		if (domain_has_identical(to, to_mapping(n)))
			continue;
		if (mapping_map(g, to_mapping(n))) {
			log_warnx(
				"vfio: group %u: a failed replace could not restore the old mappings; its DMA stays blocked",
				g->number);
			vfio_group_dma_unmap_all(g);
			break;
		}
	}
	return ret;
}

/*
 * Can @g's container hold what @d may map? Its smallest page must not be
 * larger than the domain's, the domain's aperture must fit in the
 * container's, and a domain that enforces cache coherency needs a
 * container that does. EINVAL otherwise, which lets an attach to an IOAS
 * try the next automatic domain, as with the kernel's drivers.
 */
static bool group_compatible(const struct vfio_group *g,
			     const struct vfio_domain *d)
{
	const struct vfio_group_info *gi = &g->info;
	uint64_t dmin = d->domain.pgsize_bitmap & -d->domain.pgsize_bitmap;
	uint64_t gmin = gi->pgsizes & -gi->pgsizes;

	return gmin <= dmin && gi->aperture_start <= d->domain.aperture_start &&
	       gi->aperture_last >= d->domain.aperture_end &&
	       (!d->enforce_cache_coherency || gi->cache_coherent);
}

static void vfio_detach_dev(struct vfio_device *vdev)
{
	struct vfio_group *g = vdev->group;
	int ret;

	if (!vdev->attached)
		return;
	vdev->attached = false;
	vdev->dev.domain = NULL;
	if (--g->nr_attached)
		return; /* the group's other devices keep the domain */
	ret = vfio_group_dma_unmap_all(g);
	if (ret)
		log_warnx("vfio: group %u: blocking DMA (unmap all): %s",
			  g->number, strerror(-ret));
	list_del(&g->domain_item);
	g->domain = NULL;
}

static int vfio_attach_dev(struct iommu_domain *domain,
			   struct iommu_device *dev)
{
	struct vfio_device *vdev = to_vfio_device(dev);
	struct vfio_group *g = vdev->group;
	struct vfio_domain *d;
	int ret;

	if (!domain) {
		vfio_detach_dev(vdev);
		return 0;
	}
	d = to_vfio_domain(domain);
	if (vdev->attached && g->domain == d)
		return 0;
	if (!group_compatible(g, d))
		return -EINVAL;
	if (g->domain && g->domain != d &&
	    g->nr_attached > (vdev->attached ? 1u : 0u))
		return -EINVAL; /* another device of the group is elsewhere */

	if (g->domain != d) {
		ret = g->domain ? group_switch(g, g->domain, d) :
				  group_map_all(g, d);
		if (ret)
			return ret;
		if (g->domain)
			list_del(&g->domain_item);
		list_add_tail(&g->domain_item, &d->groups);
		g->domain = d;
	}
	if (!vdev->attached)
		g->nr_attached++;
	vdev->attached = true;
	dev->domain = domain;
	return 0;
}

/* ---- what the host says about the device -------------------------------- */

static int vfio_hw_info(struct iommu_device *dev, uint32_t *type, void *buf)
{
	struct vfio_device *vdev = to_vfio_device(dev);
	struct iommu_hw_info_vtd vtd = {
		/* The 6.12 driver sets it whatever the hardware (FACTS.md 6). */
		.flags = IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17,
		.cap_reg = vdev->iommu.cap,
		.ecap_reg = vdev->iommu.ecap,
	};

	if (!vdev->iommu.vtd) {
		/* A driver without hw_info: no data, and no type to ask for. */
		if (*type != IOMMU_HW_INFO_TYPE_DEFAULT)
			return -EOPNOTSUPP;
		*type = IOMMU_HW_INFO_TYPE_NONE;
		return 0;
	}
	if (*type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    *type != IOMMU_HW_INFO_TYPE_INTEL_VTD)
		return -EOPNOTSUPP;
	*type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	memcpy(buf, &vtd, sizeof(vtd));
	return sizeof(vtd);
}

/* No dirty tracking through type1, and no PASID (top of file). */
static uint64_t vfio_capabilities(struct iommu_device *dev)
{
	(void)dev;
	return 0;
}

static uint8_t vfio_max_pasid_log2(struct iommu_device *dev)
{
	(void)dev;
	return 0;
}

/* The group's reserved regions, then the holes between type1's ranges. */
static unsigned int vfio_resv_regions(struct iommu_device *dev,
				      struct iommu_resv_region *regions,
				      unsigned int max)
{
	struct vfio_device *vdev = to_vfio_device(dev);
	const struct vfio_group_info *gi = &vdev->group->info;
	unsigned int n = 0, i;

	for (i = 0; i < vdev->nr_resv && n < max; i++)
		regions[n++] = vdev->resv[i];
	for (i = 0; i < gi->nr_holes && n < max; i++)
		regions[n++] = gi->holes[i];
	return n;
}

static bool vfio_dev_enforces_cache_coherency(struct iommu_device *dev)
{
	return to_vfio_device(dev)->group->info.cache_coherent;
}

/* Asked only of a domain made for a device whose container enforces it. */
static bool vfio_enforce_cache_coherency(struct iommu_domain *domain)
{
	to_vfio_domain(domain)->enforce_cache_coherency = true;
	return true;
}

static void vfio_describe(struct iommu_device *dev, struct iommu_dev_desc *desc)
{
	struct vfio_device *vdev = to_vfio_device(dev);

	snprintf(desc->name, sizeof(desc->name), "%s", vdev->name);
	snprintf(desc->iommu, sizeof(desc->iommu), "%s", vdev->iommu.unit);
	desc->group = (int)vdev->group->number;
}

/* Unreachable: no domain of ours tracks dirty IOVA or is nested. */
static int vfio_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	(void)domain;
	(void)enable;
	return -EOPNOTSUPP;
}

static int vfio_read_and_clear_dirty(
	struct iommu_domain *domain, uint64_t iova, uint64_t len, bool keep,
	void (*fn)(void *arg, uint64_t iova, uint64_t size), void *arg)
{
	(void)domain;
	(void)iova;
	(void)len;
	(void)keep;
	(void)arg;
	return fn ? -EOPNOTSUPP : 0;
}

static int vfio_cache_invalidate_user(struct iommu_domain *domain,
				      struct iommu_user_data_array *array)
{
	(void)domain;
	array->entry_num = 0;
	return -EOPNOTSUPP;
}

/* ---- devices ------------------------------------------------------------- */

struct iommu_device *vfio_dev_bind(struct vfio_group *g, const char *name,
				   int *err)
{
	struct vfio_device *vdev;
	int n;

	list_for_each_entry(vdev, &g->devices, group_item) {
		if (!strcmp(vdev->name, name)) {
			*err = -EBUSY;
			return NULL;
		}
	}
	vdev = calloc(1, sizeof(*vdev));
	if (!vdev) {
		*err = -ENOMEM;
		return NULL;
	}
	vdev->dev.ops = &vfio_backend_ops;
	vdev->group = g;
	snprintf(vdev->name, sizeof(vdev->name), "%s", name);
	n = vfio_host_resv_regions(g->number, vdev->resv, VFIO_DEV_MAX_RESV);
	if (n < 0 || n > VFIO_DEV_MAX_RESV) {
		log_info("vfio: group %u: cannot use its reserved regions (%s)",
			 g->number, n < 0 ? strerror(-n) : "too many");
		free(vdev);
		*err = n < 0 ? n : -E2BIG;
		return NULL;
	}
	vdev->nr_resv = (unsigned int)n;
	vfio_host_device_iommu(g->number, name, &vdev->iommu);
	list_add_tail(&vdev->group_item, &g->devices);
	log_info("vfio: bound %s (group %u, IOMMU %s)", name, g->number,
		 vdev->iommu.unit[0] ? vdev->iommu.unit : "unnamed");
	return &vdev->dev;
}

void vfio_dev_unbind(struct iommu_device *dev)
{
	struct vfio_device *vdev = to_vfio_device(dev);
	struct vfio_group *g = vdev->group;

	vfio_detach_dev(vdev);
	list_del(&vdev->group_item);
	log_info("vfio: unbound %s (group %u)", vdev->name, g->number);
	free(vdev);
	vfio_group_put(g);
}

const struct iommu_backend_ops vfio_backend_ops = {
	.name = "vfio",
	.init = vfio_group_host_check,
	.domain_alloc_paging = vfio_domain_alloc_paging,
	.domain_free = vfio_domain_free,
	.map = vfio_domain_map,
	.unmap = vfio_domain_unmap,
	.attach_dev = vfio_attach_dev,
	.cache_invalidate_user = vfio_cache_invalidate_user,
	.set_dirty_tracking = vfio_set_dirty_tracking,
	.read_and_clear_dirty = vfio_read_and_clear_dirty,
	.hw_info = vfio_hw_info,
	.capabilities = vfio_capabilities,
	.max_pasid_log2 = vfio_max_pasid_log2,
	.resv_regions = vfio_resv_regions,
	.dev_enforces_cache_coherency = vfio_dev_enforces_cache_coherency,
	.enforce_cache_coherency = vfio_enforce_cache_coherency,
	.describe = vfio_describe,
};
