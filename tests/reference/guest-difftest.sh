#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# guest-difftest.sh - the differential tester's part of the reference suite:
# difftest on the kernel's /dev/iommu and iommufdd's, for a bounded time.
#
# usage: guest-difftest.sh [--daemon IOMMUFDD] DIFFTEST KERNEL_DEV DAEMON_DEV [LOG_DIR]
#
#   DIFFTEST    the difftest binary (tests/reference/difftest.c)
#   KERNEL_DEV  the reference, the kernel's iommufd (/dev/iommu)
#   DAEMON_DEV  iommufdd's device (e.g. /dev/iommu-d), already served,
#               unless --daemon is given: then this script starts
#               IOMMUFDD (mock backend, CUSE) on DAEMON_DEV, checks that it
#               stays up and stops it (for running by hand in the guest)
#   LOG_DIR     where difftest.tap goes (default: $IOMMUFDD_VM_OUT, else
#               a new directory under /tmp)
#
# Run in the reference guest (tests/reference/run.sh boots it); as a part of
# guest-reference.sh:
#     part_difftest() { "$here/guest-difftest.sh" "$difftest" "$kdev" "$ddev" "$out"; }
# By hand, longer, from the host:
#     tests/vm/run-in-guest.sh --kernel BZIMAGE --out DIR -- \
#         tests/reference/guest-difftest.sh --daemon build/daemon/iommufdd \
#         build/tests/difftest /dev/iommu /dev/iommu-d
# with DIFFTEST_BUDGET=1800 (run-in-guest.sh passes IOMMUFDD_* variables;
# set them through --env).
#
# Environment:
#   DIFFTEST_SEED     seed (default 12: CI runs the same sequences each time)
#   DIFFTEST_BUDGET   guest seconds after which no new sequence starts
#                     (default 30). Under TCG with -icount the guest's clock
#                     counts instructions (1 ns each), so this is an amount
#                     of work, not of wall time: about 9,000 sequences of 40
#                     steps at 3.3 guest-s per 1,000 (December 2026); the
#                     wall time it takes depends on how busy the host is.
#   DIFFTEST_STEPS    steps per sequence (default 40)
#   DIFFTEST_ARGS     more difftest options (split on whitespace)
#
# Exit status: 0 when no sequence diverged, 1 otherwise (or when difftest
# or the daemon failed), 2 on usage errors. The last line of output is
# "N passed, N failed, 0 skipped": one test per sequence.

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
prog=guest-difftest

usage() {
	sed -n '7p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

daemon=
if [ "${1:-}" = --daemon ]; then
	[ $# -ge 2 ] || usage
	daemon=$2
	shift 2
fi
[ $# -eq 3 ] || [ $# -eq 4 ] || usage
difftest=$1 kdev=$2 ddev=$3
out=${4:-${IOMMUFDD_VM_OUT:-$(mktemp -d /tmp/guest-difftest.XXXXXX)}}
mkdir -p "$out"
seed=${DIFFTEST_SEED:-12}
budget=${DIFFTEST_BUDGET:-30}
steps=${DIFFTEST_STEPS:-40}
read -ra extra <<<"${DIFFTEST_ARGS:-}"

say() { printf '%s: %s\n' "$prog" "$*"; }
fail_line() {
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

daemon_pid=
stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$daemon_pid" 2>/dev/null || true
	local st=0
	wait "$daemon_pid" || st=$?
	daemon_pid=
	return "$st"
}

if [ -n "$daemon" ]; then
	trap 'stop_daemon || true' EXIT
	"$daemon" --backend mock --transport cuse --path "$ddev" \
		--run-dir /run/iommufdd-difftest --foreground --log-level info \
		</dev/null >"$out/iommufdd.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 300); do
		[ -c "$ddev" ] && break
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -c "$ddev" ]; then
		say "error: iommufdd did not create $ddev; its log:"
		tail -n 20 "$out/iommufdd.log"
		fail_line
	fi
fi
# (character devices in the guest; the FUSE files of two daemons on a host)
for dev in "$kdev" "$ddev"; do
	if [ ! -e "$dev" ]; then
		say "error: $dev does not exist"
		fail_line
	fi
done

# A sequence that hangs must not hang the suite: the budget bounds when
# sequences start, the timeout what one may take beyond it.
say "seed $seed, $steps steps a sequence, ${budget} s budget: $kdev (A) against $ddev (B)"
# Everything but the passing sequences is shown as it comes, so a guest
# killed from outside still shows what diverged.
set +e
timeout -k 10 $((budget + 300)) "$difftest" --seed "$seed" --steps "$steps" \
	--sequences 1000000 --time-budget "$budget" "${extra[@]}" \
	"$kdev" "$ddev" | tee "$out/difftest.tap" | grep --line-buffered -v '^ok '
rc=${PIPESTATUS[0]}
set -e
pass=$(grep -c '^ok ' "$out/difftest.tap" || true)
failed=$(grep -c '^not ok ' "$out/difftest.tap" || true)
say "difftest exit status $rc; TAP in $out/difftest.tap"
if [ -n "$daemon" ]; then
	if ! kill -0 "$daemon_pid" 2>/dev/null; then
		say "error: iommufdd died; the last lines of its log:"
		tail -n 20 "$out/iommufdd.log"
		failed=$((failed + 1))
	elif ! stop_daemon; then
		say "error: iommufdd did not exit 0 on SIGTERM"
		failed=$((failed + 1))
	fi
fi
# an exit status without a failed sequence (a bail-out, a timeout) fails too
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo "$pass passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
