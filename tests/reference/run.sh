#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - the reference suite: iommufdd next to the real kernel's iommufd.
#
# usage: run.sh IOMMUFDD SCRIPT_RUN IOMMUFD_RUN REFBENCH SELFTEST_DIR LOG_DIR DIFFTEST
#
# Builds (or takes from its cache) the reference kernel with build-kernel.sh
# (Debian's linux-source-6.12 with refkernel.config: CONFIG_IOMMUFD and the
# kernel's selftest mock, everything built in), boots it under QEMU with
# tests/vm/run-in-guest.sh --kernel, and runs guest-reference.sh there,
# which compares the ioctl scripts step by step on both /dev/iommu's, runs
# the kernel's selftests on the kernel against kernel-expected-failures.txt
# and prints the benchmark table (see guest-reference.sh). The guest's
# logs and console end up in LOG_DIR.
#
# The binaries' paths may be relative to the current directory (meson runs
# the test in the build tree): the guest gets that directory as a 9p share
# of its own, so a build tree anywhere works.
#
# Exit status: the guest's (0 passed, 1 failed), 77 (skipped) when
# IOMMUFDD_SKIP_REFERENCE=1 or qemu-system-x86_64 is missing (a missing
# QEMU fails instead under CI=true, where every suite must run; a skip asked
# for is still a skip, and tests/summarize.py counts it as a failure under
# CI=true), 124/125 when the guest timed out or died, 2 on usage errors.
# The last line of stdout is the guest's "N passed, N failed, N skipped".
#
# Environment:
#   IOMMUFDD_SKIP_REFERENCE=1  skip the suite (for a quick local run)
#   IOMMUFDD_REFERENCE_TIMEOUT guest timeout in seconds (default 2400)
#   REFBENCH_ARGS, IOMMUFDD_REFERENCE_PARTS   see guest-reference.sh
#   IOMMUFDD_REFKERNEL_CACHE, LINUX_SOURCE_TARBALL   see build-kernel.sh

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
here=${self%/*}
prog=reference

if [ $# -ne 7 ]; then
	sed -n '6p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
log_dir=$6

if [ "${IOMMUFDD_SKIP_REFERENCE:-0}" = 1 ]; then
	echo "$prog: SKIP: IOMMUFDD_SKIP_REFERENCE=1 (the reference suite builds and boots the reference kernel)"
	exit 77
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	why="qemu-system-x86_64 not found (scripts/install-deps.sh test installs qemu-system-x86)"
	if [ "${CI:-}" = true ]; then
		echo "$prog: FAIL: cannot run: $why (CI=true: a suite that cannot run fails)"
		exit 1
	fi
	echo "$prog: SKIP: $why"
	exit 77
fi
timeout_s=${IOMMUFDD_REFERENCE_TIMEOUT:-2400}

t0=$(date +%s)
bzimage=$("$here/build-kernel.sh" | tail -n 1) || {
	echo "$prog: error: cannot build the reference kernel" >&2
	exit 1
}
echo "$prog: reference kernel $bzimage ($(($(date +%s) - t0)) s to build or find)"

# (the guest shares the host's root, so the binaries are at the same paths)
rc=0
"$here/../vm/run-in-guest.sh" --kernel "$bzimage" --timeout "$timeout_s" \
	--mem 2048 --smp 2 --out "$log_dir" --share "$(pwd -P)" -- \
	"$here/guest-reference.sh" "${@:1:5}" "$7" || rc=$?
# (on stderr: the guest's summary stays the last line of stdout)
echo "$prog: logs in $log_dir" >&2
exit "$rc"
