#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - the newest-uAPI suite: tests/newest/newest_uapi and the ioctl
# scripts of tests/scripts-newest against a fresh iommufdd each, with a list
# of expected failures.
#
# usage: run.sh IOMMUFDD NEWEST_UAPI SCRIPT_RUN [--log-dir DIR]
#
#   IOMMUFDD     the daemon executable
#   NEWEST_UAPI  build/tests/newest_uapi
#   SCRIPT_RUN   build/tools/iommufd-script-run
#   --log-dir    where tests/integration/run.sh puts its logs
#
# Both programs run through tests/integration/run.sh (a private namespace, a
# fresh daemon per program, at its default kernel ABI, the newest) and under
# iommufd-run ($IOMMUFD_RUN), so the fd-returning ioctls get descriptors.
#
# Every failing check must be named in expected-failures.txt next to this
# script ("DESCRIPTION<TAB>REASON", the TAP description as printed, where a
# trailing " (...)" that reports a measured value may be left out). The run
# fails on an unlisted failure, on a listed check that passes (remove it),
# on a listed check that did not run at all (a stale entry), and on any
# error integration/run.sh reports (a daemon that died, missing results).
#
# Exit status: 0 as above; 1 otherwise; 77 when integration/run.sh skips
# (not root, no /dev/fuse).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list=$here/expected-failures.txt

[ $# -ge 3 ] || {
	echo "usage: $0 IOMMUFDD NEWEST_UAPI SCRIPT_RUN [--log-dir DIR]" >&2
	exit 2
}
daemon=$1 newest=$2 script_run=$3
shift 3
log_dir=$PWD/newest-logs
if [ "${1:-}" = --log-dir ] && [ $# -ge 2 ]; then
	log_dir=$2
fi
mkdir -p "$log_dir"

declare -A reason seen
while IFS=$'\t' read -r desc why; do
	case $desc in '' | '#'*) continue ;; esac
	if [ -z "${why:-}" ]; then
		echo "$list: entry without a reason: $desc" >&2
		exit 1
	fi
	reason[$desc]=$why
done <"$list"

out=$log_dir/summary.txt
rc=0
IOMMUFD_SCRIPT_DIR=$here/../scripts-newest \
	bash "$here/../integration/run.sh" "$daemon" "$newest" "$script_run" \
	--log-dir "$log_dir" >"$out" 2>&1 || rc=$?
[ "$rc" -ne 77 ] || { cat "$out"; exit 77; }

# The entry that names @1, or nothing: exact, or without a final " (...)".
entry_for() {
	local d=$1
	if [ -n "${reason[$d]+x}" ]; then
		printf '%s' "$d"
	elif [[ $d == *' ('*')' ]] && [ -n "${reason[${d% (*}]+x}" ]; then
		printf '%s' "${d% (*}"
	fi
}

bad=0 xfail=0 pass=0 failed=0 skipped=0
while IFS= read -r line; do
	case $line in
	'ok '*) st=pass ;;
	'not ok '*) st=fail ;;
	*) continue ;;
	esac
	if [[ $line == *' # SKIP'* ]]; then
		skipped=$((skipped + 1))
		continue
	fi
	desc=${line#*- }
	e=$(entry_for "$desc")
	if [ "$st" = pass ] && [ -n "$e" ]; then
		echo "unexpected pass (remove it from the list): $desc"
		seen[$e]=1
		failed=$((failed + 1))
	elif [ "$st" = pass ]; then
		pass=$((pass + 1))
	elif [ -n "$e" ]; then
		xfail=$((xfail + 1))
		seen[$e]=1
	else
		echo "FAIL: $line"
		failed=$((failed + 1))
	fi
done < <(cat "$log_dir"/*.tap)

for e in "${!reason[@]}"; do
	if [ -z "${seen[$e]+x}" ]; then
		echo "stale entry (no such failing check): $e"
		failed=$((failed + 1))
	fi
done
if grep -q '^  ERROR ' "$out"; then
	grep '^  ERROR ' "$out"
	bad=1
fi
[ "$failed" -eq 0 ] || bad=1
# What the programs' runner counted (listed failures count as failed there).
grep -E '^(programs|[0-9]+ passed)' "$out" | sed 's/^/runner: /' || true
# The closing lines tests/summarize.py reads: listed failures apart.
echo "expected failures: $xfail (listed in $list)"
echo "$pass passed, $failed failed, $skipped skipped"
exit "$bad"
