#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - run the integration suite: test programs against a live iommufdd.
#
# usage: run.sh IOMMUFDD_BINARY TEST_BINARY... [--log-dir DIR]
#
#   IOMMUFDD_BINARY  the daemon executable
#   TEST_BINARY      a test program, run as "TEST_BINARY /dev/iommu"; it
#                    prints TAP ("ok N - what" / "not ok N - what" and a
#                    plan "1..N") and exits 0 when all of its tests passed
#   --log-dir DIR    where logs go (default: integration-logs next to the
#                    first TEST_BINARY): <program>.tap (stdout),
#                    <program>.stderr, <program>.iommufdd.log
#
# The script re-executes itself in a private mount namespace with a private
# copy-on-write /dev and debugfs hidden (see tests/lib/daemon-ns.sh). Each
# program gets a freshly started daemon,
#   IOMMUFDD_BINARY --backend mock --transport fuse --path /dev/iommu \
#       --foreground --log-level info
# which is stopped with SIGTERM after the program has finished.
#
# Exit status: 0 if every program exited 0 with a complete TAP stream (a
# plan, as many results as planned, numbered in sequence) and no failing
# test, and every daemon stayed alive and exited 0 within 5 s of SIGTERM;
# 1 otherwise; 77 (skip) when not root or /dev/fuse is missing (1 instead
# with CI=true); 2 on usage errors. The last line of output is "N passed, N failed, N skipped", the
# TAP results of all programs (results missing from a plan count as failed).
#
# Environment:
#   INTEGRATION_TIMEOUT  per-program timeout in seconds (default 300)
#   IOMMUFDD_EXTRA_ARGS  extra daemon arguments (split on whitespace)
#
# Each program gets IOMMUFDD_RUN_DIR (the daemon's --run-dir, for
# iommufd-run) and IOMMUFDD_PID (the daemon's pid) in its environment.

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
script_dir=${self%/*}

dns_prog=run.sh
# shellcheck source=SCRIPTDIR/../lib/daemon-ns.sh disable=SC1091
. "$script_dir/../lib/daemon-ns.sh"

usage() {
	sed -n '6,14p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- arguments -----------------------------------------------------------------
daemon=
tests=()
log_dir=
npos=0
while [ $# -gt 0 ]; do
	case "$1" in
	--log-dir)
		[ $# -ge 2 ] || usage
		log_dir=$2
		shift 2
		;;
	--log-dir=*)
		log_dir=${1#*=}
		shift
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		if [ $npos -eq 0 ]; then
			daemon=$1
		else
			tests+=("$1")
		fi
		npos=$((npos + 1))
		shift
		;;
	esac
done
[ $npos -ge 2 ] || usage

for f in "$daemon" "${tests[@]}"; do
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then
		dns_die "'$f' is not an executable file"
	fi
done
daemon=$(readlink -f "$daemon")
for i in "${!tests[@]}"; do
	tests[i]=$(readlink -f "${tests[i]}")
done
log_dir=${log_dir:-${tests[0]%/*}/integration-logs}
timeout_s=${INTEGRATION_TIMEOUT:-300}
case "$timeout_s" in
'' | *[!0-9]*) dns_die "INTEGRATION_TIMEOUT must be a number of seconds" ;;
esac

# --- outside the namespace: preconditions, then re-exec -----------------------
if ! dns_in_namespace; then
	dns_require_host timeout
	mkdir -p "$log_dir"
	log_dir=$(cd "$log_dir" && pwd -P)
	dns_reexec "$log_dir/.runtime" "$self" "$daemon" "${tests[@]}" \
		--log-dir "$log_dir"
fi

# --- inside the private mount namespace ----------------------------------------
# One stream, so that the summary's last line is also the last line of any
# combined view.
exec 2>&1
dns_setup_namespace
dns_hide_debugfs
echo "$dns_prog: logs in $log_dir"

extra=()
read -ra extra <<<"${IOMMUFDD_EXTRA_ARGS:-}"
total_pass=0 total_fail=0 total_skip=0
results=()     # one summary line per program
failed_progs=0
declare -A used_label

for t in "${tests[@]}"; do
	# log file names: the program's name, made unique
	label=${t##*/}
	if [ -n "${used_label[$label]+x}" ]; then
		n=2
		while [ -n "${used_label[$label-$n]+x}" ]; do n=$((n + 1)); done
		label=$label-$n
	fi
	used_label[$label]=1
	tap=$log_dir/$label.tap
	: >"$tap"
	nerr=$(dns_error_count)

	echo "$dns_prog: ==== $label (timeout ${timeout_s}s) ===="
	rc=
	if dns_start_daemon --nonfatal "$daemon" "$log_dir/$label.iommufdd.log" "${extra[@]}"; then
		rc=0
		# Clients that test fd-returning ioctls run themselves under
		# iommufd-run ($IOMMUFD_RUN) with this run directory.
		IOMMUFDD_RUN_DIR=$(dns_run_dir) IOMMUFDD_PID=$dns_daemon_pid dns_run_logged "$tap" "$log_dir/$label.stderr" \
			timeout --kill-after=30 "$timeout_s" "$t" /dev/iommu || rc=$?
		case $rc in
		0 | 1) ;;
		124) dns_err "$label timed out after ${timeout_s}s" ;;
		137) dns_err "$label was killed (SIGKILL) after timing out" ;;
		*)
			if [ "$rc" -gt 128 ]; then
				dns_err "$label was killed by signal $((rc - 128))"
			else
				dns_err "$label exited with unexpected status $rc"
			fi
			;;
		esac
		dns_check_daemon "while $label was running"
		dns_stop_daemon
	fi

	pass=0 fail=0 skip=0 plan=-1 got=0
	failed=()
	while read -r _ st num desc; do
		case $st in
		pass) pass=$((pass + 1)) ;;
		skip) skip=$((skip + 1)) ;;
		fail | xfail | xpass)
			fail=$((fail + 1))
			failed+=("not ok $num - $desc")
			;;
		plan)
			plan=$num
			got=$desc
			;;
		badnum) dns_err "$label: TAP results out of sequence at: $desc" ;;
		esac
	done < <(dns_tap_parse - "$tap")
	if [ -z "$rc" ]; then
		: # not run: the daemon did not come up (reported)
	elif [ "$plan" -lt 0 ]; then
		dns_err "$label: no TAP plan in its output (see $(dns_pretty "$tap"))"
	elif [ "$got" -ne "$plan" ]; then
		missing=$((plan - got))
		dns_err "$label: TAP plan 1..$plan but $got results; $missing missing results counted as failed"
		[ "$missing" -le 0 ] || fail=$((fail + missing))
	fi
	if [ "$rc" = 1 ] && [ "$fail" -eq 0 ]; then
		dns_err "$label exited with status 1 but reported no failing test"
	fi

	verdict=PASS
	if [ "$rc" != 0 ] || [ "$fail" -gt 0 ] || [ "$(dns_error_count)" -ne "$nerr" ]; then
		verdict=FAIL
		failed_progs=$((failed_progs + 1))
	fi
	[ "$plan" -ge 0 ] || plan=none
	results+=("$label: $verdict: $pass passed, $fail failed, $skip skipped (plan $plan, $got results, exit status ${rc:-none: not run})")
	for f in "${failed[@]}"; do results+=("  $f"); done
	while IFS= read -r e; do
		results+=("  ERROR $e")
	done < <(dns_error_list | tail -n "+$((nerr + 1))")
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
done

# --- summary ----------------------------------------------------------------------
echo
echo "==== integration summary ===="
printf '%s\n' "${results[@]}"
echo "logs: $log_dir"
echo "programs: $((${#tests[@]} - failed_progs)) passed, $failed_progs failed"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"

if [ "$failed_progs" -eq 0 ]; then
	exit 0
fi
exit 1
