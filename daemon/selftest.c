// SPDX-License-Identifier: MIT
/*
 * IOMMU_TEST_CMD: the kernel selftests' view into the mock backend. This
 * file dispatches the ops (their rows are in ioctl_table.h) and owns the
 * mock devices and the ops on domains; the page-table checks are in
 * selftest_check.c, the test accesses in selftest_access.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <iommufd/iommufd_test.h>
#include <iommufd/iommufdd_ext.h>

#include "abi.h"
#include "addrmap.h"
#include "backend_mock.h"
#include "caller.h"
#include "ioctl_table.h"
#include "iommufd_private.h"
#include "log.h"
#include "mock_pgtable.h"
#include "objfile.h"
#include "pages.h"
#include "selftest.h"
#include "uaccess.h"

#define MOCK_DIRTY_MAX_BITS (128ULL << 20)

unsigned int iommufd_selftest_device_id(const struct iommufd_object *obj)
{
	const struct selftest_obj *sobj =
		container_of(obj, const struct selftest_obj, obj);

	return sobj->idev ? sobj->idev->obj.id : 0;
}

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	if (sobj->idev) {
		iommufd_device_detach(sobj->idev);
		iommufd_device_unbind(sobj->idev);
	}
	if (sobj->mock_dev)
		mock_dev_destroy(sobj->mock_dev);
}

SELFTEST_OP(add_reserved)
{
	struct iommufd_ioas *ioas;
	uint64_t last;
	int ret;

	ret = range_last(cmd->add_reserved.start, cmd->add_reserved.length,
			 &last);
	if (ret)
		return ret;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (!ioas)
		return -ENOENT;
	ret = iopt_reserve_iova(&ioas->iopt, cmd->add_reserved.start, last,
				NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return ret;
}

static int mock_domain(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd,
		       uint32_t dev_flags)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct selftest_obj *sobj;
	uint32_t pt_id = cmd->id;
	int ret;

	/* ids: selftest object, then device, then the automatic HWPT */
	sobj = iommufd_object_alloc_type(ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (!sobj)
		return -ENOMEM;
	sobj->ictx = ictx;
	sobj->mock_dev = mock_dev_create(dev_flags, &ret);
	if (!sobj->mock_dev)
		goto err_abort;
	sobj->idev = iommufd_device_bind(ictx, sobj->mock_dev);
	if (!sobj->idev) {
		ret = -ENOMEM;
		goto err_abort;
	}
	ret = iommufd_device_attach(sobj->idev, &pt_id);
	if (ret)
		goto err_abort;

	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_idev_id = sobj->idev->obj.id;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		goto err_abort;
	iommufd_object_finalize(ictx, &sobj->obj);
	return 0;

err_abort:
	iommufd_object_abort_and_destroy(ictx, &sobj->obj);
	return ret;
}

SELFTEST_OP(mock_domain)
{
	return mock_domain(ucmd, cmd, 0);
}

SELFTEST_OP(mock_domain_flags)
{
	return mock_domain(ucmd, cmd, cmd->mock_domain_flags.dev_flags);
}

struct selftest_obj *selftest_get_obj(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj =
		iommufd_get_object(ictx, id, IOMMUFD_OBJ_SELFTEST);

	return obj ? container_of(obj, struct selftest_obj, obj) : NULL;
}

SELFTEST_OP(mock_domain_replace)
{
	struct selftest_obj *sobj = selftest_get_obj(ucmd->ictx, cmd->id);
	uint32_t pt_id = cmd->mock_domain_replace.pt_id;
	int ret;

	if (!sobj)
		return -ENOENT;
	ret = iommufd_device_replace(sobj->idev, &pt_id);
	if (!ret) {
		cmd->mock_domain_replace.pt_id = pt_id;
		ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return ret;
}

struct iommufd_hwpt_paging *selftest_get_md_pagetable(struct iommufd_ctx *ictx,
						      uint32_t id,
						      struct mock_pgtable **pt,
						      int *err)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		iommufd_get_hwpt_paging(ictx, id);

	if (!hwpt_paging) {
		*err = -ENOENT;
		return NULL;
	}
	*pt = mock_domain_pgtable(hwpt_paging->common.domain);
	if (!*pt) {
		iommufd_put_object(ictx, &hwpt_paging->common.obj);
		*err = -EINVAL;
		return NULL;
	}
	return hwpt_paging;
}

SELFTEST_OP(md_check_iotlb)
{
	struct iommufd_object *obj = iommufd_get_object(
		ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_NESTED);
	int ret;

	if (!obj)
		return -ENOENT;
	ret = mock_domain_check_iotlb(
		container_of(obj, struct iommufd_hw_pagetable, obj)->domain,
		cmd->check_iotlb.id, cmd->check_iotlb.iotlb);
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

/*
 * Mark IO pages dirty as if a device had written them. The mock indexes its
 * table by page_size here, not by its IO page size, and the selftests rely
 * on exactly that.
 */
SELFTEST_OP(set_temp_memory_limit)
{
	(void)ucmd;
	if (cmd->memory_limit.limit < 12)
		return -EINVAL;
	pages_set_temp_memory_limit(cmd->memory_limit.limit);
	return 0;
}

SELFTEST_OP(dirty)
{
	uint64_t iova = cmd->dirty.iova, length = cmd->dirty.length;
	uint64_t page_size = cmd->dirty.page_size, nbits, i, count = 0;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct mock_pgtable *pt;
	uint8_t *bits;
	int ret = 0;

	if (!page_size || !length || iova % page_size || length % page_size ||
	    !cmd->dirty.uptr)
		return -EINVAL;
	nbits = length / page_size;
	if (nbits > MOCK_DIRTY_MAX_BITS)
		return -EOVERFLOW;
	hwpt_paging = selftest_get_md_pagetable(ucmd->ictx, cmd->id, &pt, &ret);
	if (!hwpt_paging)
		return ret;
	if (!mock_domain_dirty_enabled(hwpt_paging->common.domain)) {
		ret = -EINVAL;
		goto out_put;
	}
	bits = calloc(1, (nbits + 7) / 8);
	if (!bits) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (copy_from_user(ucmd->caller, bits, cmd->dirty.uptr,
			   (nbits + 7) / 8)) {
		ret = -EFAULT;
		goto out_free;
	}
	for (i = 0; i < nbits; i++) {
		uint64_t cur = iova + i * page_size;

		if (!(bits[i / 8] & (1 << (i % 8))))
			continue;
		if (!mock_pgtable_set_dirty(pt, cur / page_size *
							MOCK_IO_PAGE_SIZE))
			count++;
	}
	cmd->dirty.out_nr_dirty = count;
	ret = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	free(bits);
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return ret;
}

SELFTEST_OP(trigger_iopf)
{
	struct iommufd_object *obj = iommufd_get_object(
		ucmd->ictx, cmd->trigger_iopf.dev_id, IOMMUFD_OBJ_DEVICE);
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_device *idev;
	int ret = 0;

	if (!obj)
		return -ENOENT;
	idev = container_of(obj, struct iommufd_device, obj);
	/*
	 * A request on a PASID goes to that PASID's HWPT; on a PASID with
	 * nothing, to a nested HWPT on the RID (its PASID table is the
	 * guest's); without a fault queue there it is dropped (§4.4).
	 */
	hwpt = cmd->trigger_iopf.pasid ?
		       iommufd_device_pasid_hwpt(idev,
						 cmd->trigger_iopf.pasid) :
		       NULL;
	if (!hwpt && (!cmd->trigger_iopf.pasid ||
		      (idev->hwpt && !hwpt_is_paging(idev->hwpt))))
		hwpt = idev->hwpt;
	if (!mock_dev_is_mock(idev->dev)) {
		ret = -EINVAL;
	} else if (hwpt && hwpt->fault) {
		struct iommu_hwpt_pgfault msg = {
			.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE |
				 (cmd->trigger_iopf.pasid ?
					  IOMMU_PGFAULT_FLAGS_PASID_VALID :
					  0),
			.dev_id = idev->obj.id,
			.pasid = cmd->trigger_iopf.pasid,
			.grpid = cmd->trigger_iopf.grpid,
			.perm = cmd->trigger_iopf.perm,
			.addr = cmd->trigger_iopf.addr,
		};

		ret = iommufd_fault_report(hwpt->fault, &msg);
	}
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

/* Our extension: a mock device DMAs through its attached domain. */
SELFTEST_OP(dev_dma)
{
	struct iommufdd_test_dma dma;
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	bool write;
	void *buf;
	int ret;

	memcpy(&dma,
	       (char *)cmd + offsetof(struct iommu_test_cmd, add_reserved),
	       sizeof(dma));
	write = dma.flags & IOMMUFDD_TEST_DMA_WRITE;
	if ((dma.flags & ~IOMMUFDD_TEST_DMA_WRITE) || dma.__reserved)
		return -EOPNOTSUPP;
	if (dma.length > MOCK_ACCESS_MAX_LENGTH)
		return -ENOMEM;
	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = container_of(obj, struct iommufd_device, obj);
	buf = calloc(1, dma.length ? dma.length : 1);
	if (!buf)
		ret = -ENOMEM;
	else if (!mock_dev_is_mock(idev->dev))
		ret = -EINVAL;
	else if (write)
		ret = copy_from_user(ucmd->caller, buf, dma.uptr, dma.length);
	else
		ret = 0;
	if (!ret)
		ret = mock_dev_dma(idev->dev, dma.iova, buf, dma.length, write);
	if (!ret && !write)
		ret = copy_to_user(ucmd->caller, dma.uptr, buf, dma.length);
	free(buf);
	iommufd_put_object(ucmd->ictx, obj);
	return ret;
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	const struct iommufd_test_op *op = iommufd_test_op_find(cmd->op);

	/* Ops newer than the kernel ABI in force (test-ops-newest). */
	if (!op || !abi_has(op->since))
		return -EOPNOTSUPP;
	ucmd->name = op->name;
	if (ucmd->install && op->fd >= 0)
		ucmd->install->fd_offset = (uint32_t)op->fd;
	return op->execute(ucmd, cmd);
}
