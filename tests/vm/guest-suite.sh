#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# guest-suite.sh - the test suite run inside a QEMU guest by run-in-guest.sh.
#
# usage: guest-suite.sh IOMMUFDD_BINARY SELFTEST_DIR TEST_BINARY...
#
#   IOMMUFDD_BINARY  the daemon executable
#   SELFTEST_DIR     directory with the kernel selftests "iommufd" and
#                    "iommufd_fail_nth" (build-selftests.sh), or the path of
#                    the "iommufd" binary in it
#   TEST_BINARY      integration test programs (tests/integration)
#
# Steps, each with its own summary:
#   1. guest checks: cuse.ko is loaded and /dev/cuse is a character device
#      (one test)
#   2. tests/conformance/run.sh IOMMUFDD_BINARY SELFTEST_DIR
#   3. tests/integration/run.sh IOMMUFDD_BINARY TEST_BINARY...
#   4. tests/security/run.sh over the same transport, with the programs in
#      IOMMUFDD_SECURITY_PROGRAMS (space-separated; the step is skipped,
#      and says so, when it is empty) and the helper program in
#      IOMMUFDD_SECURITY_HELPER, iommufdctl in IOMMUFDD_SECURITY_IOMMUFDCTL;
#      those in IOMMUFDD_SECURITY_VFIO_PROGRAMS also with --backend vfio
#      (the guest has VFIO, the build hosts do not)
# The daemon serves /dev/iommu with the transport named by IOMMUFDD_TRANSPORT
# (fuse, cuse or auto; default cuse), passed to both harnesses as
# "--transport T" in IOMMUFDD_EXTRA_ARGS (after any arguments already there;
# the daemon's last --transport wins). IOMMUFD_RUN (the iommufd-run launcher)
# and the harnesses' other variables are passed through unchanged.
#
# Logs go to $IOMMUFDD_VM_OUT (set by run-in-guest.sh, whose --out copies
# them to the host) or to a new directory under /tmp: guest-checks.txt,
# conformance/, integration/ (each harness's logs and its full output in
# output.txt).
#
# Exit status: 0 if every step passed, 1 otherwise, 2 on usage errors. The
# last line is "N passed, N failed, N skipped", the sum of the steps' own
# last lines (a step that ends without one counts as 1 failed; one that is
# skipped as a whole, exit status 77, as 1 skipped).

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
repo_root=$(cd "${self%/*}/../.." && pwd -P)
prog=guest-suite

if [ $# -lt 3 ]; then
	sed -n '6,12p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
daemon=$1
selftest_dir=$2
shift 2
[ ! -f "$selftest_dir" ] || selftest_dir=$(dirname "$selftest_dir")
tests=("$@")

# One stream: the combined summary must be the last line of any view.
exec 2>&1

transport=${IOMMUFDD_TRANSPORT:-cuse}
case "$transport" in
fuse | cuse | auto) ;;
*)
	echo "$prog: error: IOMMUFDD_TRANSPORT must be fuse, cuse or auto, not '$transport'"
	exit 2
	;;
esac
export IOMMUFDD_EXTRA_ARGS="${IOMMUFDD_EXTRA_ARGS:+$IOMMUFDD_EXTRA_ARGS }--transport $transport"
# CUSE creates /dev/iommu in devtmpfs: the harness must not overlay /dev.
if [ "$transport" != fuse ]; then
	export DNS_KEEP_DEV=1
fi

log_root=${IOMMUFDD_VM_OUT:-}
if [ -z "$log_root" ]; then
	log_root=$(mktemp -d /tmp/guest-suite.XXXXXX)
fi
mkdir -p "$log_root"

total_pass=0 total_fail=0 total_skip=0
summaries=()
failed_steps=()

# account STEP STATUS OUTPUT_FILE: add the step's last-line counts
account() {
	local step=$1 st=$2 out=$3 last p f s
	last=$(tail -n 1 "$out" 2>/dev/null || true)
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
	elif [ "$st" -eq 77 ]; then
		p=0 f=0 s=1
	else
		p=0 f=1 s=0
		last="(no summary line; counted as 1 failed)"
	fi
	if [ "$st" -ne 0 ] && [ "$st" -ne 77 ] && [ "$f" -eq 0 ]; then
		f=1 # a harness error without a failed test still fails the step
		last="$last (exit status $st; counted as 1 failed)"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	summaries+=("$step: exit status $st: $last")
	[ "$st" -eq 0 ] || [ "$st" -eq 77 ] || failed_steps+=("$step")
}

# run_step STEP COMMAND...: run a harness, its output to ours and to
# $log_root/STEP/output.txt, and account for it
run_step() {
	local step=$1 st=0
	shift
	mkdir -p "$log_root/$step"
	echo
	echo "$prog: ==== $step: $* ===="
	"$@" 2>&1 | tee "$log_root/$step/output.txt" || st=${PIPESTATUS[0]}
	account "$step" "$st" "$log_root/$step/output.txt"
}

echo "$prog: kernel $(uname -r), $(nproc) CPUs, transport $transport"
echo "$prog: IOMMUFDD_EXTRA_ARGS='$IOMMUFDD_EXTRA_ARGS'"

# --- 1. guest checks -------------------------------------------------------------
guest_checks() {
	local st=0
	if grep -q '^cuse ' /proc/modules; then
		echo "# cuse.ko is loaded"
	elif [ -d /sys/module/cuse ]; then
		echo "# cuse is built into the kernel"
	else
		echo "# cuse.ko is not loaded"
	fi
	echo "1..1"
	if [ -c /dev/cuse ]; then
		echo "ok 1 - /dev/cuse is a character device ($(stat -c '%t:%T' /dev/cuse))"
		echo "1 passed, 0 failed, 0 skipped"
	else
		echo "not ok 1 - /dev/cuse is missing or not a character device"
		echo "0 passed, 1 failed, 0 skipped"
		st=1
	fi
	return "$st"
}
run_step guest-checks guest_checks

# --- 2. conformance ------------------------------------------------------------------
run_step conformance "$repo_root/tests/conformance/run.sh" "$daemon" "$selftest_dir" \
	--log-dir "$log_root/conformance"

# --- 3. integration ------------------------------------------------------------------
run_step integration "$repo_root/tests/integration/run.sh" "$daemon" "${tests[@]}" \
	--log-dir "$log_root/integration"

# --- 4. security --------------------------------------------------------------------
read -ra security_programs <<<"${IOMMUFDD_SECURITY_PROGRAMS:-}"
read -ra security_vfio_programs <<<"${IOMMUFDD_SECURITY_VFIO_PROGRAMS:-}"
if [ ${#security_programs[@]} -gt 0 ]; then
	run_step security "$repo_root/tests/security/run.sh" \
		--transport "$transport" --log-dir "$log_root/security" \
		--helper "${IOMMUFDD_SECURITY_HELPER:?}" \
		--iommufdctl "${IOMMUFDD_SECURITY_IOMMUFDCTL:?}" "$daemon" \
		--variant default "${security_programs[@]}" \
		--variant vfio "${security_vfio_programs[@]}"
else
	echo "$prog: security: skipped (IOMMUFDD_SECURITY_PROGRAMS is empty)"
	summaries+=("security: skipped: no programs given")
	total_skip=$((total_skip + 1))
fi

# --- summary ---------------------------------------------------------------------------
echo
echo "==== guest suite summary (transport $transport, kernel $(uname -r)) ===="
printf '%s\n' "${summaries[@]}"
echo "logs: $log_root"
if [ ${#failed_steps[@]} -gt 0 ]; then
	echo "failed steps: ${failed_steps[*]}"
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_steps[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]
