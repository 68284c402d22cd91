#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# guest-backend.sh - the vfio backend's guest suite: "iommufdd --backend
# vfio" serving /dev/iommu over CUSE, and backend_edu driving real DMA from
# QEMU's edu devices through it. Run by run-in-guest.sh --vtd-edu 2.
#
# usage: guest-backend.sh IOMMUFDD_BINARY BACKEND_EDU_BINARY [TEST...]
#
# The TESTs (e.g. mini-vmm-vfio.sh) run after backend_edu, each against a
# daemon of its own.
#
# The daemon is started and stopped by tests/integration/run.sh (a private
# mount namespace keeping the real /dev, since CUSE creates /dev/iommu
# there), with "--backend vfio --transport cuse" after its usual arguments.
# Afterwards the daemon's log must hold exactly one line about the private
# memory backend_edu tried to map (the one log line iommufdd(8) promises).
#
# Logs go to $IOMMUFDD_VM_OUT/backend (or a new directory under /tmp).
#
# Exit status: run.sh's (0 all passed, 1 a failure), 1 if the log check
# fails, 77 (skip, with the reason) when the guest has no CUSE, no VFIO
# type1, no Intel IOMMU or fewer than two edu devices.

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
repo_root=$(cd "${self%/*}/../.." && pwd -P)
prog=guest-backend

if [ $# -lt 2 ]; then
	sed -n '8p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
daemon=$1
test_bin=$2
shift 2

skip() {
	echo "1..0 # SKIP $*"
	echo "$prog: skipped: $*" >&2
	exit 77
}

[ -c /dev/cuse ] || skip "no /dev/cuse (cuse.ko not loaded)"
[ -c /dev/vfio/vfio ] || skip "no /dev/vfio/vfio (vfio modules not loaded)"
ls -d /sys/class/iommu/dmar* >/dev/null 2>&1 ||
	skip "no Intel IOMMU (boot with run-in-guest.sh --vtd-edu 2)"
edu=0
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=$((edu + 1))
	fi
done
[ "$edu" -ge 2 ] || skip "$edu edu device(s); the test needs two"

log_dir=${IOMMUFDD_VM_OUT:-$(mktemp -d /tmp/guest-backend.XXXXXX)}/backend
mkdir -p "$log_dir"
export DNS_KEEP_DEV=1
export IOMMUFDD_EXTRA_ARGS="--backend vfio --transport cuse"

rc=0
bash "$repo_root/tests/integration/run.sh" "$daemon" "$test_bin" "$@" \
	--log-dir "$log_dir" | tee "$log_dir/run.out" || rc=$? # pipefail
[ "$rc" -ne 77 ] || exit 77

# One more case: the refusal of private memory is logged once, not per page.
read -r passed failed skipped < <(sed -nE \
	's/^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/p' \
	"$log_dir/run.out" | tail -1) || true
passed=${passed:-0} failed=${failed:-0} skipped=${skipped:-0}
daemon_log=$log_dir/${test_bin##*/}.iommufdd.log
n=$(grep -c "which a real IOMMU cannot map" "$daemon_log" 2>/dev/null || true)
if [ "${n:-0}" -eq 1 ]; then
	echo "$prog: the daemon logged the private memory refusal once"
	passed=$((passed + 1))
else
	echo "$prog: error: the daemon logged the private memory refusal ${n:-0} times, not once"
	failed=$((failed + 1))
	[ "$rc" -ne 0 ] || rc=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
