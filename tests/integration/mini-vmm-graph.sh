#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# mini-vmm-graph.sh - the README's quick-start walk-through as a test: run
# examples/mini-vmm --hold against the daemon, look at its objects with
# "iommufdctl objects", draw them with "iommufdctl graph | dot -Tpng", then
# let mini-vmm finish. Prints TAP; the PNG checks are skipped (TAP SKIP)
# when graphviz's dot is not installed.
#
# usage: mini-vmm-graph.sh [/dev/iommu]   (run by tests/integration/run.sh)
# Environment:
#   MINI_VMM          the mini-vmm executable (required)
#   IOMMUFDCTL        the iommufdctl executable (required)
#   IOMMUFDD_RUN_DIR  the daemon's run directory (set by run.sh)
#   GRAPH_PNG         where to keep the rendered graph (default: graph.png)

set -uo pipefail

dev=${1:-/dev/iommu}
: "${MINI_VMM:?MINI_VMM must name the mini-vmm executable}"
: "${IOMMUFDCTL:?IOMMUFDCTL must name the iommufdctl executable}"
: "${IOMMUFDD_RUN_DIR:?IOMMUFDD_RUN_DIR must name the daemon run directory}"
png=${GRAPH_PNG:-$PWD/graph.png}
work=$(mktemp -d)
vmm_pid=

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP graphviz's dot is not installed"; }
diag() { sed 's/^/# /' "$@"; }

cleanup() {
	[ -z "$vmm_pid" ] || kill -KILL "$vmm_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ctl() { timeout 20 "$IOMMUFDCTL" --run-dir "$IOMMUFDD_RUN_DIR" "$@"; }

# --- mini-vmm holds its objects ------------------------------------------------
"$MINI_VMM" --hold "$dev" </dev/null >"$work/vmm.out" 2>"$work/vmm.err" &
vmm_pid=$!
for _ in $(seq 100); do
	grep -q '^holding' "$work/vmm.out" && break
	kill -0 "$vmm_pid" 2>/dev/null || break
	sleep 0.1
done
if grep -q '^holding' "$work/vmm.out" && kill -0 "$vmm_pid" 2>/dev/null; then
	ok "mini-vmm --hold (pid $vmm_pid) did its DMA and holds its objects"
else
	not_ok "mini-vmm --hold (pid $vmm_pid) did its DMA and holds its objects"
fi
diag "$work/vmm.out" "$work/vmm.err"

# --- iommufdctl objects ----------------------------------------------------------
ctl objects >"$work/objects" 2>&1
check "iommufdctl objects succeeds" [ $? -eq 0 ]
diag "$work/objects"
# columns: CLIENT PID ID TYPE USERS USES USED-BY
types=$(awk -v pid="$vmm_pid" '$2 == pid { print $4 }' "$work/objects" | sort -u | tr '\n' ' ')
for t in ioas device hwpt_paging; do
	check "objects of pid $vmm_pid include a $t (have: ${types:-none})" \
		grep -qw "$t" <<<"$types"
done

# --- iommufdctl graph | dot -Tpng ------------------------------------------------
ctl graph >"$work/graph.dot" 2>&1
is_graph() {
	grep -q '^digraph ' "$work/graph.dot" &&
		grep -qF "label=\"mini-vmm (pid $vmm_pid)\"" "$work/graph.dot"
}
check "iommufdctl graph prints a digraph with a cluster for pid $vmm_pid" is_graph
if command -v dot >/dev/null 2>&1; then
	rm -f "$png"
	ctl graph | timeout 60 dot -Tpng -o "$png"
	rc=$?
	magic=$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
	size=$(stat -c %s "$png" 2>/dev/null || echo 0)
	desc="iommufdctl graph | dot -Tpng exits 0, writes a PNG of $size bytes"
	if [ $rc -eq 0 ] && [ "$magic" = 89504e470d0a1a0a ] && [ "$size" -gt 2048 ]; then
		ok "$desc"
	else
		not_ok "$desc (status $rc, magic ${magic:-none})"
		diag "$work/graph.dot"
	fi
	if command -v file >/dev/null 2>&1; then
		kind=$(file -b "$png")
		check "file(1) says: $kind" grep -q '^PNG image data' <<<"$kind"
	fi
else
	skip "iommufdctl graph | dot -Tpng writes a PNG"
	skip "file(1) says PNG image data"
fi

# --- mini-vmm finishes -----------------------------------------------------------
kill -TERM "$vmm_pid"
rc=0
wait "$vmm_pid" || rc=$?
vmm_pid=
sed '1,/^holding/d' "$work/vmm.out" | diag
diag "$work/vmm.err"
finished() { [ "$rc" -eq 0 ] && grep -q 'done$' "$work/vmm.out"; }
check "after SIGTERM mini-vmm unmapped, cleaned up and exited 0 (status $rc)" finished

echo "1..$n"
[ "$failed" -eq 0 ]
