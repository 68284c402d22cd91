// SPDX-License-Identifier: MIT
/*
 * The rows of ioctl_table.h, expanded for the daemon: each command's row
 * sits at its _IOC_NR, which no two commands share (iommufd's numbers are
 * 0x80-0xa0, VFIO's 0x64-0x6a), so a lookup is one index and one compare.
 */
#include <linux/ioctl.h>

#include "ioctl_regions.h"
#include "ioctl_table.h"
#include "iommufd_private.h"
#include "selftest.h"
#include "util.h"

/* sizeof(struct type), refused at compile time if it does not fit. */
#define STRUCT_SIZE(type)      \
	(sizeof(struct type) + \
	 0 * sizeof(char[sizeof(struct type) <= IOCTL_STRUCT_MAX ? 1 : -1]))

#define IOCTL_SIZED(type, last)                            \
	.arg = IOCTL_ARG_SIZED, .size = STRUCT_SIZE(type), \
	.min_size = offsetofend(struct type, last)
#define IOCTL_ARGSZ(type, last)                            \
	.arg = IOCTL_ARG_ARGSZ, .size = STRUCT_SIZE(type), \
	.min_size = offsetofend(struct type, last)
#define IOCTL_FIXED(type) .arg = IOCTL_ARG_FIXED, .size = sizeof(struct type)
#define IOCTL_FIXED_OUT(type) \
	.arg = IOCTL_ARG_FIXED_OUT, .size = sizeof(struct type)
#define IOCTL_VALUE .arg = IOCTL_ARG_VALUE

#define IOCTL_ROW(_cmd, _layout, _execute, _buffers, _fd, _since) \
	[_IOC_NR(_cmd)] = {                                       \
		.cmd = _cmd,                                      \
		.name = #_cmd,                                    \
		_layout,                                          \
		.execute = _execute,                              \
		.buffers = _buffers,                              \
		.fd = _fd,                                        \
		.since = _since,                                  \
	},

static const struct iommufd_ioctl ioctls[256] = { IOMMUFD_IOCTLS(IOCTL_ROW) };

#define TEST_OP_ROW(_op, _execute, _buffers, _fd, _since) \
	{                                                 \
		.op = _op,                                \
		.name = #_op,                             \
		.execute = _execute,                      \
		.buffers = _buffers,                      \
		.fd = _fd,                                \
		.since = _since,                          \
	},

static const struct iommufd_test_op test_ops[] = { IOMMUFD_TEST_OPS(
	TEST_OP_ROW) };

const struct iommufd_ioctl *iommufd_ioctl_by_nr(unsigned int nr)
{
	if (nr >= ARRAY_SIZE(ioctls) || !ioctls[nr].cmd)
		return NULL;
	return &ioctls[nr];
}

const struct iommufd_ioctl *iommufd_ioctl_find(unsigned int cmd)
{
	const struct iommufd_ioctl *row = iommufd_ioctl_by_nr(_IOC_NR(cmd));

	return row && row->cmd == cmd ? row : NULL;
}

const struct iommufd_test_op *iommufd_test_op_find(uint32_t op)
{
	for (size_t i = 0; i < ARRAY_SIZE(test_ops); i++)
		if (test_ops[i].op == op)
			return &test_ops[i];
	return NULL;
}
