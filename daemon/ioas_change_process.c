// SPDX-License-Identifier: MIT
/*
 * IOMMU_IOAS_CHANGE_PROCESS: the calling process takes over every mapping
 * of the context, for live update (newest-uapi.md §3.8). The context's
 * jobs run one at a time, so no IOAS or area changes while it works; the
 * moving itself (which pins an area holds, charging them) is
 * io_pagetable_owner.c's.
 */
#include <errno.h>
#include <stdlib.h>

#include "account.h"
#include "iommufd_private.h"
#include "uaccess.h"

/* An area of the context and the caller's mapper that takes it over. */
struct owner_move {
	struct iopt_area *area;
	struct mapper *to;
};

/*
 * Call @fn for every area of every IOAS of @ictx, in ID and IOVA order,
 * until one returns non-zero: that, or 0.
 */
static int ctx_walk_areas(struct iommufd_ctx *ictx,
			  int (*fn)(void *arg, struct iopt_area *area),
			  void *arg)
{
	for (unsigned int id = 1; id < ictx->nr_slots; id++) {
		struct iommufd_object *obj = ictx->objects[id];
		struct io_pagetable *iopt;
		struct iopt_area *area;
		int ret;

		if (!obj || obj->type != IOMMUFD_OBJ_IOAS)
			continue;
		iopt = &container_of(obj, struct iommufd_ioas, obj)->iopt;
		for (area = iopt_area_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_next(area, 0, UINT64_MAX)) {
			ret = fn(arg, area);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Only a file-backed area can move (a MAP or COPY of user memory cannot). */
static int count_file_area(void *arg, struct iopt_area *area)
{
	if (!(area->flags & IOPT_AREA_FILE))
		return -EINVAL;
	++*(int *)arg;
	return 0;
}

static int add_owner_move(void *arg, struct iopt_area *area)
{
	struct owner_move **next = arg;

	(*next)++->area = area;
	return 0;
}

/* Every area of the context into *moves: their number, or -errno. */
static int collect_owner_moves(struct iommufd_ctx *ictx,
			       struct owner_move **moves)
{
	struct owner_move *next;
	int n = 0, ret;

	ret = ctx_walk_areas(ictx, count_file_area, &n);
	if (ret || !n)
		return ret;
	*moves = fail_nth_calloc((size_t)n, sizeof(**moves), "owner moves");
	if (!*moves)
		return -ENOMEM;
	next = *moves;
	ctx_walk_areas(ictx, add_owner_move, &next);
	return n;
}

/*
 * The caller's mapper for each area, made once for each kind of old owner
 * (accounting mode, charged or not) and read now, while the caller waits
 * in this request: never looked up again by its pid.
 */
static int find_new_owners(const struct ucaller *caller,
			   struct owner_move *moves, int n)
{
	int ret;

	for (int i = 0; i < n; i++) {
		struct mapper *old = moves[i].area->mapper;

		for (int j = 0; j < i && !moves[i].to; j++)
			if (mapper_same_kind(moves[j].area->mapper, old))
				moves[i].to = mapper_get(moves[j].to);
		if (moves[i].to)
			continue;
		moves[i].to = mapper_of_caller_like(caller, old, &ret);
		if (!moves[i].to)
			return ret;
	}
	return 0;
}

/* Charge every new owner for its area's pins, or none: 0 or -errno. */
static int charge_new_owners(struct owner_move *moves, int n)
{
	for (int i = 0; i < n; i++) {
		int ret = iopt_area_charge_owner(moves[i].area, moves[i].to);

		if (ret) {
			while (i--)
				iopt_area_uncharge_owner(moves[i].area,
							 moves[i].to);
			return ret;
		}
	}
	return 0;
}

/*
 * Make the caller the owner of every mapping of the context: all its pins
 * charged to the caller and released by their old owners, exactly once per
 * page and bucket, all or nothing (newest-uapi.md §3.8). Later pins are
 * charged to the caller too. Only file-backed mappings can move.
 */
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct owner_move *moves = NULL;
	int n, i, ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	n = collect_owner_moves(ucmd->ictx, &moves);
	if (n <= 0)
		return n;
	ret = caller_require_direct(ucmd->caller,
				    "taking over the mappings' accounting");
	if (!ret)
		ret = find_new_owners(ucmd->caller, moves, n);
	/* The new owners are charged first: past a limit nothing changes. */
	if (!ret)
		ret = charge_new_owners(moves, n);
	for (i = 0; !ret && i < n; i++)
		iopt_area_set_owner(moves[i].area, moves[i].to);
	for (i = 0; i < n; i++)
		mapper_put(moves[i].to);
	free(moves);
	return ret;
}
