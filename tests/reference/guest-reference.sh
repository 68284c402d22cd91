#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# guest-reference.sh - the reference suite, in the guest that runs the
# reference kernel (started by run.sh through tests/vm/run-in-guest.sh).
#
# usage: guest-reference.sh IOMMUFDD SCRIPT_RUN IOMMUFD_RUN REFBENCH SELFTEST_DIR DIFFTEST
#
#   IOMMUFDD      the daemon
#   SCRIPT_RUN    iommufd-script-run (tools/)
#   IOMMUFD_RUN   iommufd-run (tools/), which gives the scripts the fds of
#                 fd-returning ioctls on the daemon, as the kernel would
#   REFBENCH      bench/refbench
#   SELFTEST_DIR  the kernel's selftests "iommufd" and "iommufd_fail_nth"
#                 (tests/conformance/build-selftests.sh), or the path of one
#   DIFFTEST      tests/reference/difftest.c's binary
#
# In one boot, with the kernel's /dev/iommu and iommufdd serving
# /dev/iommu-d over CUSE side by side:
#   (a) every ioctl script (tests/scripts) runs on both with a trace, and
#       compare-traces.sh compares every step's errno and outputs; steps
#       that cannot compare are listed in script-skips.txt with the reason,
#       anything else that differs fails;
#   (b) the kernel's own selftests run on the kernel's /dev/iommu through
#       tests/conformance/run.sh, against kernel-expected-failures.txt: the
#       tests the real 6.12 kernel fails, each with its reason; a failure
#       not listed, a listed test that passes or a stale entry fails;
#   (c) bench/refbench prints the kernel and the daemon side by side; each
#       row is a case, failed when the kernel ran it and the daemon did not
#       (a row both fail is only reported);
#   (d) difftest runs random ioctl sequences on both and fails on the first
#       step where they answer differently (guest-difftest.sh; in the suite
#       with DIFFTEST_BUDGET 10 guest seconds, about 3,000 sequences, unless
#       the environment says otherwise).
# The daemon must stay up throughout and stop cleanly, and the kernel log
# must show no warning, BUG or oops.
#
# Logs go to $IOMMUFDD_VM_OUT (or a new directory under /tmp): iommufdd.log,
# scripts/ (both TAP streams and traces, compare.txt), selftests/, bench.md,
# bench.tsv, dmesg.txt, summary.txt.
#
# Environment:
#   REFBENCH_ARGS   more refbench arguments (split on whitespace), e.g.
#                   "-s 0.2" for a quicker, coarser table
#   IOMMUFDD_REFERENCE_PARTS  which parts to run (default "scripts
#                   selftests bench difftest")
#
# Exit status: 0 if every part passed, 1 otherwise, 2 on usage errors. The
# last line is "N passed, N failed, N skipped" over the parts' own counts.

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
here=${self%/*}
repo_root=$(cd "$here/../.." && pwd -P)
prog=guest-reference

if [ $# -ne 6 ]; then
	sed -n '7p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
daemon=$1 script_run=$2 iommufd_run=$3 refbench=$4 selftest_dir=$5 difftest=$6
[ ! -f "$selftest_dir" ] || selftest_dir=$(dirname "$selftest_dir")
parts=${IOMMUFDD_REFERENCE_PARTS:-scripts selftests bench difftest}

exec 2>&1
out=${IOMMUFDD_VM_OUT:-$(mktemp -d /tmp/guest-reference.XXXXXX)}
mkdir -p "$out/scripts"
summary=$out/summary.txt
: >"$summary"

kdev=/dev/iommu
ddev=/dev/iommu-d
drun=/run/iommufdd-d
total_pass=0 total_fail=0 total_skip=0
failures=()

say() { printf '%s: %s\n' "$prog" "$*" | tee -a "$summary"; }

# account PART STATUS OUTPUT_FILE: add the part's "N passed, N failed, N
# skipped" last line, and fail the part on a bad status.
account() {
	local part=$1 st=$2 last p=0 f=0 s=0
	last=$(tail -n 1 "$3" 2>/dev/null || true)
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
	fi
	if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # an error without a failed count still fails the part
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	[ "$f" -eq 0 ] || failures+=("$part")
	say "$part: exit status $st: ${last:-(no summary line)}"
}

# --- the kernel and the daemon ---------------------------------------------------
say "kernel $(uname -r), $(nproc) CPUs"
if [ ! -c "$kdev" ]; then
	say "error: $kdev is not a character device: this kernel has no iommufd"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
say "$kdev is the kernel's (char $(stat -c '%t:%T' "$kdev"))"
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
dmesg >"$out/dmesg-boot.txt" 2>&1 || true

daemon_pid=
stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
		daemon_pid=
		return 1
	fi
	wait "$daemon_pid" || return 1
	daemon_pid=
}
trap 'stop_daemon || true' EXIT

# The kernel here is 6.12: the daemon answers as 6.12 where kernels differ
# (its default is the newest ABI), so that both are held to the same one.
"$daemon" --backend mock --transport cuse --path "$ddev" --run-dir "$drun" \
	--kernel-abi 6.12 --foreground --log-level info \
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
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
say "iommufdd (pid $daemon_pid) serves $ddev over CUSE"

daemon_alive() {
	kill -0 "$daemon_pid" 2>/dev/null && return 0
	say "error: iommufdd died; the last lines of its log:"
	tail -n 20 "$out/iommufdd.log" | tee -a "$summary"
	return 1
}

# --- (a) ioctl scripts, step by step -------------------------------------------------
part_scripts() {
	local d=$out/scripts krc=0 drc=0 crc=0
	rm -f "$d/kernel.trace" "$d/daemon.trace"
	IOMMUFD_SCRIPT_TRACE=$d/kernel.trace \
		"$script_run" --dir "$repo_root/tests/scripts" "$kdev" >"$d/kernel.tap" || krc=$?
	IOMMUFD_SCRIPT_TRACE=$d/daemon.trace "$iommufd_run" --run-dir "$drun" -- \
		"$script_run" --dir "$repo_root/tests/scripts" "$ddev" >"$d/daemon.tap" || drc=$?
	"$here/compare-traces.sh" "$d/kernel.trace" "$d/daemon.trace" \
		"$here/script-skips.txt" >"$d/compare.txt" || crc=$?
	cat "$d/compare.txt"
	# The scripts' own expectations are the kernel's behaviour: they must
	# hold on the kernel as on the daemon.
	for side in kernel daemon; do
		if grep -q '^not ok' "$d/$side.tap"; then
			echo "script expectations that failed on the $side:"
			grep '^not ok' "$d/$side.tap" | sed 's/^/    /'
		fi
	done
	echo "script runs: kernel exit status $krc, daemon exit status $drc" \
		"($(grep -c '^ok' "$d/kernel.tap") and $(grep -c '^ok' "$d/daemon.tap") TAP results ok)"
	daemon_alive || crc=1
	tail -n 1 "$d/compare.txt"
	[ "$krc" -eq 0 ] && [ "$drc" -eq 0 ] && [ "$crc" -eq 0 ]
}

# --- (b) the kernel's selftests on the kernel --------------------------------------
part_selftests() {
	# run.sh's dry-run mode ("none") runs the selftests on whatever
	# /dev/iommu there is: here the kernel's. /dev and debugfs stay as
	# they are, so that iommufd_fail_nth really injects faults.
	DNS_KEEP_DEV=1 CONFORMANCE_KEEP_DEBUGFS=1 CONFORMANCE_WRAPPER='' \
		"$repo_root/tests/conformance/run.sh" none "$selftest_dir" \
		--list-file "$here/kernel-expected-failures.txt" \
		--log-dir "$out/selftests"
}

# --- (c) the benchmark ---------------------------------------------------------------
part_bench() {
	local extra=() rc=0
	read -ra extra <<<"${REFBENCH_ARGS:-}"
	local passed=0 failed=0
	"$refbench" -v -n kernel,iommufdd -t "$out/bench.tsv" "${extra[@]}" \
		"$kdev" "$ddev" | tee "$out/bench.md" || rc=$?
	daemon_alive || rc=1
	# Each row is a case: one the kernel ran and the daemon failed is a
	# divergence, not a missing number.
	if [ -f "$out/bench.tsv" ]; then
		read -r passed failed < <(awk -F'\t' '
			$3 == "kernel" { kernel[$2] = $4 }
			$3 == "iommufdd" { daemon[$2] = $4; rows[++n] = $2 }
			END {
				for (i = 1; i <= n; i++) {
					r = rows[i]
					if (daemon[r] == "ok" || kernel[r] != "ok") {
						p++
					} else {
						f++
						print "refbench: iommufdd failed a row the kernel ran: " r > "/dev/stderr"
					}
				}
				print p + 0, f + 0
			}' "$out/bench.tsv") || true
	fi
	[ "$rc" -eq 0 ] && [ "$passed" -gt 0 ] || failed=$((failed + 1))
	[ "$failed" -eq 0 ] || rc=1
	echo "$passed passed, $failed failed, 0 skipped"
	return "$rc"
}

# --- (d) the differential tester ------------------------------------------------------
part_difftest() {
	local rc=0

	DIFFTEST_BUDGET=${DIFFTEST_BUDGET:-10} \
		"$here/guest-difftest.sh" "$difftest" "$kdev" "$ddev" "$out" || rc=$?
	daemon_alive || rc=1
	return "$rc"
}

for part in $parts; do
	case $part in
	scripts | selftests | bench | difftest) ;;
	*)
		say "error: unknown part '$part' in IOMMUFDD_REFERENCE_PARTS"
		exit 2
		;;
	esac
	echo
	say "==== ($part) ===="
	t0=$(cut -d' ' -f1 /proc/uptime)
	st=0
	"part_$part" 2>&1 | tee "$out/$part.txt" || st=${PIPESTATUS[0]}
	say "$part took $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s (guest clock)"
	account "$part" "$st" "$out/$part.txt"
done

# --- the daemon stops cleanly, the kernel stayed healthy ---------------------------------
echo
if ! daemon_alive; then
	total_fail=$((total_fail + 1))
	failures+=(daemon)
elif ! stop_daemon; then
	say "error: iommufdd did not exit 0 within 10 s of SIGTERM"
	total_fail=$((total_fail + 1))
	failures+=(daemon)
fi
dmesg >"$out/dmesg.txt" 2>&1 || true
if grep -E 'WARNING:|BUG:|Oops|general protection|kernel BUG' "$out/dmesg.txt" >"$out/dmesg-bad.txt"; then
	say "error: the kernel log has warnings or oopses (dmesg.txt):"
	head -n 20 "$out/dmesg-bad.txt" | tee -a "$summary"
	total_fail=$((total_fail + 1))
	failures+=(kernel-log)
fi

echo
say "==== reference suite summary (kernel $(uname -r)) ===="
[ ${#failures[@]} -eq 0 ] || say "failed: ${failures[*]}"
say "logs: $out"
echo "$total_pass passed, $total_fail failed, $total_skip skipped" | tee -a "$summary"
[ ${#failures[@]} -eq 0 ]
