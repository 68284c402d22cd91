#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# refbench_ab.sh [-b BUILD_DIR] DAEMON_A DAEMON_B [REFBENCH_OPTION]...
#
# Two iommufdd binaries side by side in one refbench run, on the host over
# FUSE files: e.g. the daemon of main (A) and that of a branch (B), so the
# table's B / A column is the change's effect measured under the same load.
# Each daemon serves its own FUSE file and run directory in a private mount
# namespace (a tmpfs on /run); refbench (from BUILD_DIR, default build/)
# runs every row on A, then on B, before the next row. The options after
# the daemons go to refbench, e.g. "-r map4k,map4k-map,scale -l 1,1000".
#
# Needs root. Example:
#   cp build/daemon/iommufdd /tmp/iommufdd-main   # on main
#   ...                                           # build the branch
#   bench/refbench_ab.sh /tmp/iommufdd-main build/daemon/iommufdd -n main,branch
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)

if [ "${1:-}" = --inside ]; then
	shift
	refbench=$1 daemon_a=$2 daemon_b=$3
	shift 3
	mount --make-rprivate /
	mount -t tmpfs tmpfs /run
	pids=()
	for side in a b; do
		daemon=$daemon_a
		[ "$side" = b ] && daemon=$daemon_b
		touch "/run/iommu-$side"
		"$daemon" --transport fuse --path "/run/iommu-$side" \
			--run-dir "/run/iommufdd-$side" --mode 0660 --group 0 \
			--log-level warning >"/run/iommufdd-$side.log" 2>&1 &
		pids+=($!)
	done
	for _ in $(seq 100); do
		[ -S /run/iommufdd-a/control ] && [ -S /run/iommufdd-b/control ] &&
			break
		sleep 0.1
	done
	status=0
	"$refbench" -n A,B "$@" /run/iommu-a /run/iommu-b || status=$?
	kill -TERM "${pids[@]}"
	wait "${pids[@]}" || true
	for side in a b; do
		if [ -s "/run/iommufdd-$side.log" ]; then
			echo "# daemon $side's log:"
			sed 's/^/#   /' "/run/iommufdd-$side.log"
		fi
	done
	exit "$status"
fi

build=$repo/build
if [ "${1:-}" = -b ]; then
	build=$2
	shift 2
fi
if [ $# -lt 2 ]; then
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
daemon_a=$(readlink -f "$1")
daemon_b=$(readlink -f "$2")
shift 2
exec unshare -m "$(readlink -f "$0")" --inside "$build/bench/refbench" \
	"$daemon_a" "$daemon_b" "$@"
