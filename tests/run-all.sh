#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-all.sh - the project's single test command.
#
#   1. scripts/install-deps.sh test; then, in the background and niced,
#      the reference kernel's build (tests/reference/build-kernel.sh, about
#      20 minutes the first time, then cached): it overlaps the builds and
#      the tests that wait more than they compute, and the reference
#      suite's own call waits for it on the build lock
#   2. configure and build build/ (gcc) and build-asan/ (clang, or gcc if
#      clang is missing, with -Db_sanitize=address,undefined)
#   3. meson test -C build --print-errorlogs            (every suite, incl.
#                                                        conformance)
#   4. meson test -C build-asan --suite unit --print-errorlogs
#
# Both test stages always run; the exit status is non-zero if any stage
# failed. The output ends with tests/summarize.py's account of both runs:
# each test with what ran inside it (skipped cases named, with their reason)
# and a last line that counts tests and cases and names every test skipped
# as a whole. Under CI=true (.ci/run, fresh-debian.sh) a suite that cannot
# run fails instead of skipping. Re-running is safe: configured build
# directories are reconfigured, broken ones are wiped.
#
# Environment: MESON_SETUP_ARGS, extra arguments for both "meson setup" calls;
# CI=true, as above.

set -euo pipefail

repo_root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$repo_root"

section() {
	printf '\n==============================================================\n'
	printf '== %s\n' "$*"
	printf '==============================================================\n'
}

# setup_builddir DIR CC [meson options...]
setup_builddir() {
	local dir=$1 cc=$2
	shift 2
	local extra=()
	read -ra extra <<<"${MESON_SETUP_ARGS:-}"
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		if meson setup --reconfigure "$dir" "$@" "${extra[@]}"; then
			return 0
		fi
		echo "run-all: reconfiguring $dir failed; wiping it" >&2
	fi
	rm -rf "$dir"
	CC=$cc meson setup "$dir" "$@" "${extra[@]}"
}

section "install dependencies (scripts/install-deps.sh test)"
scripts/install-deps.sh test

mkdir -p build
if [ "${IOMMUFDD_SKIP_REFERENCE:-0}" != 1 ]; then
	section "start the reference kernel's build (log: build/reference-kernel.log)"
	nice -n 10 tests/reference/build-kernel.sh >build/reference-kernel.log 2>&1 &
fi

asan_cc=gcc
asan_opts=("-Db_sanitize=address,undefined")
if command -v clang >/dev/null 2>&1; then
	asan_cc=clang
	# clang links the sanitizer runtimes only into executables, so shared
	# libraries must be allowed undefined (sanitizer) symbols
	asan_opts+=(-Db_lundef=false)
fi

section "configure build/ (gcc)"
setup_builddir build gcc

section "configure build-asan/ ($asan_cc, ${asan_opts[*]})"
setup_builddir build-asan "$asan_cc" "${asan_opts[@]}"

section "compile build/"
meson compile -C build

section "compile build-asan/"
meson compile -C build-asan

# Sanitizer defaults for the ASan run (callers may override).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1}

failed=()

# A stale log must not stand in for a run that did not happen.
rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json

section "meson test -C build (all suites)"
if ! meson test -C build --print-errorlogs; then
	failed+=("meson test -C build")
fi

section "meson test -C build-asan --suite unit"
if ! meson test -C build-asan --suite unit --print-errorlogs; then
	failed+=("meson test -C build-asan --suite unit")
fi

# Each test with what ran inside it, then one closing line that counts
# tests and cases and names what was skipped (tests/summarize.py); it stays
# the last line of the output.
section "result"
summary_rc=0
summary=$(python3 tests/summarize.py "build/ (gcc)=build" \
	"build-asan/ ($asan_cc, sanitizers)=build-asan") || summary_rc=$?
if [ ${#failed[@]} -gt 0 ] || [ "$summary_rc" -ne 0 ]; then
	for f in "${failed[@]}"; do
		echo "FAILED: $f"
	done
	echo "logs: build/meson-logs/testlog.txt, build-asan/meson-logs/testlog.txt"
fi
printf '%s\n' "$summary"
[ ${#failed[@]} -eq 0 ] && [ "$summary_rc" -eq 0 ]
