// SPDX-License-Identifier: MIT
/*
 * vEVENTQ: allocation rules and the fd contract, record by record
 * (newest-uapi.md §3.5, as corrected against 7.2): headers, sequence numbers, the lost-events
 * record, the depth, partial reads, poll, and the context that outlives
 * /dev/iommu's fd. The selftest vdevice_alloc makes the same queue
 * overflow; this file checks every byte the queue returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "newest.h"

/* One record as read: lost-events records carry no virt_id. */
struct rec {
	uint32_t flags, seq, virt;
};

static const size_t event_size = sizeof(struct iommufd_vevent_header) +
				 sizeof(struct iommu_viommu_event_selftest);

/* read() @count bytes and split them into records; -errno on failure. */
static long read_records(int qfd, size_t count, struct rec *out, size_t max,
			 size_t *nrec)
{
	uint8_t buf[256];
	size_t at = 0;
	ssize_t n;

	*nrec = 0;
	n = read(qfd, buf, count < sizeof(buf) ? count : sizeof(buf));
	if (n < 0)
		return -errno;
	while (at + sizeof(struct iommufd_vevent_header) <= (size_t)n &&
	       *nrec < max) {
		struct iommufd_vevent_header hdr;
		struct rec *r = &out[(*nrec)++];

		memcpy(&hdr, buf + at, sizeof(hdr));
		at += sizeof(hdr);
		*r = (struct rec){ .flags = hdr.flags, .seq = hdr.sequence };
		if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)
			continue;
		if (at + sizeof(uint32_t) > (size_t)n)
			return -EIO; /* a torn record */
		memcpy(&r->virt, buf + at, sizeof(uint32_t));
		at += sizeof(uint32_t);
	}
	return at == (size_t)n ? n : -EIO;
}

/* "e" = an event from virt_id 0x99, "L" = lost events; with sequences. */
static void expect_records(int qfd, size_t count, const char *want,
			   const uint32_t *seqs, const char *what)
{
	struct rec got[8];
	size_t n, i, bytes = 0, nwant = strlen(want);
	long ret = read_records(qfd, count, got, 8, &n);
	bool ok = ret >= 0 && n == nwant;

	for (i = 0; ok && i < n; i++) {
		bool lost = want[i] == 'L';

		bytes += lost ? sizeof(struct iommufd_vevent_header) :
				event_size;
		ok = got[i].seq == seqs[i] &&
		     got[i].flags ==
			     (lost ? IOMMU_VEVENTQ_FLAG_LOST_EVENTS : 0) &&
		     (lost || got[i].virt == 0x99);
	}
	ok = ok && (size_t)ret == bytes;
	check(ok, "%s: read(%zu) gives \"%s\" (%ld bytes, %zu records)", what,
	      count, want, ret, ret >= 0 ? n : 0);
	for (i = 0; !ok && ret >= 0 && i < n; i++)
		note("  record %zu: flags 0x%x seq %u virt 0x%x", i,
		     got[i].flags, got[i].seq, got[i].virt);
}

static bool trigger_n(struct viommu_fixture *f, int n)
{
	long ret = 0;

	for (int i = 0; i < n && !ret; i++)
		ret = trigger_vevent(f->fd, f->idev);
	return check(ret == 0, "TRIGGER_VEVENT x%d", n);
}

static void alloc_rules(struct viommu_fixture *f)
{
	struct {
		const char *what;
		struct iommu_veventq_alloc cmd;
		long expect;
	} cases[] = {
		{ "flags 1",
		  { .flags = 1,
		    .viommu_id = f->viommu,
		    .type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		    .veventq_depth = 2 },
		  -EOPNOTSUPP },
		{ "type DEFAULT",
		  { .viommu_id = f->viommu, .veventq_depth = 2 },
		  -EOPNOTSUPP },
		{ "__reserved 1",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		    .veventq_depth = 2,
		    .__reserved = 1 },
		  -EOPNOTSUPP },
		{ "depth 0",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_VEVENTQ_TYPE_SELFTEST },
		  -EINVAL },
		{ "depth 1 << 19 + 1",
		  { .viommu_id = f->viommu,
		    .type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		    .veventq_depth = (1U << 19) + 1 },
		  -EINVAL },
		{ "an IOAS as vIOMMU",
		  { .viommu_id = f->ioas,
		    .type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		    .veventq_depth = 2 },
		  -ENOENT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cases[i].cmd.size = sizeof(cases[i].cmd);
		check(ioc(f->fd, IOMMU_VEVENTQ_ALLOC, &cases[i].cmd) ==
			      cases[i].expect,
		      "VEVENTQ_ALLOC with %s is %s", cases[i].what,
		      strerror((int)-cases[i].expect));
	}
}

/* The file itself, before any event (§3.5 fd contract). */
static void fd_rules(struct viommu_fixture *f, uint32_t q, int qfd)
{
	struct pollfd pfd = { .fd = qfd, .events = POLLIN | POLLOUT };
	uint8_t buf[16];
	int flags = fcntl(qfd, F_GETFD);

	check(flags >= 0 && (flags & FD_CLOEXEC), "the vEVENTQ fd is "
						  "O_CLOEXEC");
	check(poll(&pfd, 1, 0) == 0, "poll of an empty queue: no events, "
				     "and never POLLOUT");
	check(read(qfd, buf, sizeof(buf)) == 0, "an empty queue reads 0");
	check(write(qfd, buf, 8) < 0 && errno == EINVAL, "write() is EINVAL");
	check(pread(qfd, buf, sizeof(buf), 0) < 0 && errno == ESPIPE,
	      "pread() is ESPIPE");
	check(lseek(qfd, 0, SEEK_SET) < 0 && errno == ESPIPE,
	      "lseek() is ESPIPE");
	check(destroy(f->fd, q) == -EBUSY,
	      "DESTROY of the vEVENTQ is EBUSY while its fd is open");
	check(destroy(f->fd, f->viommu) == -EBUSY,
	      "DESTROY of its vIOMMU is EBUSY");
}

/* The queue of depth 2, event by event (§3.5 Enqueue and read). */
static void records(struct viommu_fixture *f, int qfd)
{
	struct pollfd pfd = { .fd = qfd,
			      .events = POLLIN | POLLRDNORM | POLLOUT };
	uint8_t buf[8];
	int n;

	if (!trigger_n(f, 1))
		return;
	/* poll() reports only what was asked for: ask for all three. */
	n = poll(&pfd, 1, 1000);
	check(n == 1 && pfd.revents == (POLLIN | POLLRDNORM),
	      "poll with one event: POLLIN|POLLRDNORM, no POLLOUT (%d, 0x%x)",
	      n, pfd.revents);
	check(read(qfd, buf, 7) < 0 && errno == EINVAL,
	      "read(7), less than a header, is EINVAL");
	check(read(qfd, buf, sizeof(buf)) < 0 && errno == EINVAL,
	      "read(8) with an event first: it does not fit, EINVAL");
	expect_records(qfd, 64, "e", (uint32_t[]){ 0 }, "first event");
	check(read(qfd, buf, sizeof(buf)) == 0, "and the queue is empty");

	trigger_n(f, 3);
	expect_records(qfd, 64, "eeL", (uint32_t[]){ 1, 2, 3 },
		       "3 events into depth 2");
	trigger_n(f, 4);
	expect_records(qfd, 64, "eeL", (uint32_t[]){ 4, 5, 7 },
		       "4 events: the lost record is re-stamped");
	trigger_n(f, 3);
	expect_records(qfd, 12, "e", (uint32_t[]){ 8 }, "one event read");
	trigger_n(f, 1);
	expect_records(qfd, 64, "ee", (uint32_t[]){ 9, 11 },
		       "an event after a loss replaces the lost record");
	trigger_n(f, 2);
	expect_records(qfd, 20, "e", (uint32_t[]){ 12 },
		       "a read with room for 1.5 events");
	expect_records(qfd, 64, "e", (uint32_t[]){ 13 }, "the rest");
	trigger_n(f, 3);
	expect_records(qfd, 24, "ee", (uint32_t[]){ 14, 15 },
		       "two events of a full queue");
	check(read(qfd, buf, 7) < 0 && errno == EINVAL,
	      "read(7) with the lost record at the head is EINVAL");
	expect_records(qfd, 8, "L", (uint32_t[]){ 16 },
		       "the lost record alone");
}

void test_veventq(void)
{
	struct viommu_fixture f;
	uint32_t q, q2, vdev;
	int qfd, qfd2;

	note("vEVENTQ: allocation, records, depth, poll");
	if (!viommu_setup(&f, true))
		return;
	alloc_rules(&f);
	if (!check(veventq_alloc(f.fd, f.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2,
				 &q, &qfd) == 0,
		   "VEVENTQ_ALLOC of depth 2"))
		goto out;
	check(veventq_alloc(f.fd, f.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2,
			    NULL, NULL) == -EEXIST,
	      "a second queue of the same type is EEXIST");
	if (check(veventq_alloc(f.fd, f.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
				1, &q2, &qfd2) == 0,
		  "a queue of another type is accepted")) {
		close(qfd2);
		check(destroy(f.fd, q2) == 0, "after close() it is destroyed");
	}
	fd_rules(&f, q, qfd);
	check(trigger_vevent(f.fd, f.idev) == -ENOENT,
	      "TRIGGER_VEVENT of a device not on a nested HWPT is ENOENT");
	check(trigger_vevent(f.fd, f.ioas) == -ENOENT,
	      "TRIGGER_VEVENT of an IOAS is ENOENT");
	if (!setup_ok(vdevice_alloc(f.fd, f.viommu, f.idev, 0x99, &vdev),
		      "vDEVICE 0x99") ||
	    !setup_ok(mock_replace(f.fd, f.stdev, f.nested),
		      "attach to the nested HWPT")) {
		close(qfd);
		goto out;
	}
	records(&f, qfd);
	close(qfd);
	check(destroy(f.fd, q) == 0, "after close() the vEVENTQ is destroyed");
	check(trigger_vevent(f.fd, f.idev) == -EOPNOTSUPP,
	      "TRIGGER_VEVENT without a queue is EOPNOTSUPP");

	/* §2.3: the queue's fd keeps the context, and its events, alive. */
	if (!check(veventq_alloc(f.fd, f.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 1,
				 &q, &qfd) == 0,
		   "a new queue of depth 1"))
		goto out;
	trigger_n(&f, 1);
	viommu_teardown(&f, "vEVENTQ");
	expect_records(qfd, 64, "e", (uint32_t[]){ 0 },
		       "after close() of /dev/iommu, the queue fd still reads "
		       "its event, from sequence 0");
	close(qfd);
	return;
out:
	viommu_teardown(&f, "vEVENTQ");
}
