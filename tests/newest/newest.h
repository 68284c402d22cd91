/* SPDX-License-Identifier: MIT */
/*
 * The newest-uAPI test program: shared TAP reporting and one small helper
 * per ioctl, so the test files read as the assertions they make. Every
 * helper returns 0 or -errno and writes its outputs only on success.
 */
#ifndef IOMMUFDD_TESTS_NEWEST_H
#define IOMMUFDD_TESTS_NEWEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommufd/iommufd.h>
#include <iommufd/iommufd_test.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The device under test, from argv[1]. */
extern const char *dev_path;
extern size_t page_size;

/* ---- TAP (main.c) ------------------------------------------------------- */

/* "ok N - what" / "not ok N - what"; returns @ok so callers can stop. */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "ok N - what # SKIP why": the check could not run here; not a pass. */
void skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A set-up step: reported only when it fails; returns whether it worked. */
bool setup_ok(long ret, const char *what);
/* "# text" diagnostics. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open a fresh context, as a selftest fixture does; -1 on failure. */
int open_dev(void);
/*
 * Close a fixture's context the way the kernel selftests' teardown does:
 * close() must succeed and, seen from a new context, no page of @buf may
 * still be pinned.
 */
void teardown(int fd, const void *buf, size_t len, const char *fixture);

/* ---- ioctl helpers (helpers.c) ------------------------------------------ */

long ioc(int fd, unsigned long cmd, void *arg);
long ioas_alloc(int fd, uint32_t *id);
long destroy(int fd, uint32_t id);
long ioas_map(int fd, uint32_t ioas, const void *va, uint64_t len,
	      uint64_t *iova, bool fixed);
long ioas_map_file(int fd, uint32_t ioas, int mfd, uint64_t start, uint64_t len,
		   uint64_t *iova);
long ioas_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len);
long mock_domain(int fd, uint32_t pt, uint32_t dev_flags, uint32_t *stdev,
		 uint32_t *hwpt, uint32_t *idev);
long mock_replace(int fd, uint32_t stdev, uint32_t pt);
long hwpt_alloc(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
		uint32_t fault_id, uint32_t *out);
/* A mock nested HWPT: IOMMU_HWPT_DATA_SELFTEST with the default IOTLB. */
long hwpt_alloc_nested(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
		       uint32_t fault_id, uint32_t *out);
long viommu_alloc(int fd, uint32_t idev, uint32_t hwpt, uint32_t type,
		  void *data, uint32_t data_len, uint32_t *out);
long vdevice_alloc(int fd, uint32_t viommu, uint32_t idev, uint64_t virt_id,
		   uint32_t *out);
long veventq_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t depth,
		   uint32_t *id, int *qfd);
long hw_queue_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t index,
		    uint64_t iova, uint64_t len, uint32_t *out);
long fault_alloc(int fd, uint32_t *id, int *ffd);
/* entry_num in/out, as the kernel writes it back even on failure */
long invalidate(int fd, uint32_t id, const void *reqs, uint32_t type,
		uint32_t entry_len, uint32_t *num);
long test_op(int fd, struct iommu_test_cmd *cmd);
long dev_check_cache(int fd, uint32_t idev, uint32_t index, uint32_t value);
/* 0 when all four cache entries hold @value */
long dev_check_cache_all(int fd, uint32_t idev, uint32_t value);
long trigger_vevent(int fd, uint32_t idev);
long trigger_iopf(int fd, uint32_t idev, uint32_t pasid);
long pasid_op(int fd, uint32_t op, uint32_t stdev, uint32_t pasid, uint32_t pt);
long check_map(int fd, uint32_t hwpt, uint64_t iova, uint64_t len,
	       const void *ptr);
long check_refs(int fd, const void *ptr, uint64_t len, uint32_t refs);
long check_iotlb(int fd, uint32_t hwpt, uint32_t index, uint32_t value);

/* A shared memfd of @len bytes mapped read-write; MAP_FAILED on error. */
void *memfd_map(size_t len, bool huge, int *mfd);
/* Wait up to 1 s for one fault record on @ffd and read it: 0 or -errno. */
long read_fault(int ffd, struct iommu_hwpt_pgfault *rec);
/* Answer a fault group: the bytes write() took, or -errno. */
long answer_fault(int ffd, uint32_t cookie, uint32_t code);

/*
 * The iommufd_viommu fixture: an IOAS with one mock device, a nesting
 * parent HWPT on it, a selftest vIOMMU on that and a nested HWPT on the
 * vIOMMU (no_viommu: only the IOAS). @buf is a page-aligned shared buffer
 * the tests map; teardown checks nothing of it stays pinned.
 */
struct viommu_fixture {
	int fd;
	uint32_t ioas, stdev, idev, parent, viommu, nested;
	void *buf;
	size_t len;
};

bool viommu_setup(struct viommu_fixture *f, bool with_viommu);
void viommu_teardown(struct viommu_fixture *f, const char *name);

/* ---- the test groups ------------------------------------------------------ */

void test_cmd_length(void);
void test_ioas_newest(void);
void test_map_file(void);
void test_change_process(void);
void test_viommu(void);
void test_veventq(void);
void test_hw_queue(void);
void test_pasid(void);

#endif
