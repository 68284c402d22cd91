#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - run the conformance suite: the kernel's iommufd selftests against
# iommufdd's user-space /dev/iommu.
#
# usage: run.sh IOMMUFDD_BINARY SELFTEST_DIR [--list-file FILE] [--log-dir DIR]
#
#   IOMMUFDD_BINARY  the daemon executable, or "none" for a dry run without a
#                    daemon: the selftests then open whatever /dev/iommu the
#                    host has (normally none, so every iommufd test fails in
#                    its fixture setup; useful to check this harness)
#   SELFTEST_DIR     directory holding the "iommufd" and "iommufd_fail_nth"
#                    binaries (built by build-selftests.sh)
#   --list-file FILE expected-failure list (default: expected-failures.txt
#                    next to this script); format described in that file
#   --log-dir DIR    where logs go (default: SELFTEST_DIR/logs):
#                    iommufdd.log, <binary>.tap (stdout), <binary>.stderr,
#                    summary.txt
#
# The script re-executes itself in a private mount namespace (see
# tests/lib/daemon-ns.sh). There /dev is replaced by a copy-on-write overlay
# of the host's /dev (so creating, mounting on or removing /dev/iommu never
# touches the host), debugfs is hidden behind an empty read-only tmpfs
# (iommufd_fail_nth would otherwise write the host's fault-injection settings
# and not restore them), the daemon is started as
#   IOMMUFDD_BINARY --backend mock --transport fuse --path /dev/iommu \
#       --foreground --log-level info --kernel-abi 6.12
# and the two selftest binaries run against it. All mounts disappear with the
# namespace when the run ends.
#
# Exit status: 0 if every test passed, was skipped, or failed and is listed as
# an expected failure, with no unexpected pass, a complete TAP stream from
# both binaries, a daemon that stayed alive and exited 0 within 5 s of
# SIGTERM; 1 otherwise; 77 (skip) when not root or /dev/fuse is missing
# (1 instead with CI=true); 2 on usage errors. The last line of output is
# "N passed, N failed, N skipped" (N failed = failures not listed as
# expected); before it, a "note:" line says why iommufd_fail_nth's tests
# skip: kernel fault injection never reaches the daemon.
#
# Environment:
#   CONFORMANCE_TIMEOUT      per-binary timeout in seconds (default 900)
#   IOMMUFD_RUN              the iommufd-run launcher: the selftests run
#                            under it, so fd-returning ioctls get real fds
#   CONFORMANCE_WRAPPER      command prefix used to launch the selftest
#                            binaries instead (overrides IOMMUFD_RUN)
#   CONFORMANCE_HUGEPAGES    huge pages to reserve for the run (default 80:
#                            the 128M_huge dirty-tracking variant needs 64)
#   IOMMUFDD_EXTRA_ARGS      extra daemon arguments (split on whitespace)
#   CONFORMANCE_KEEP_DEBUGFS set to 1 to leave /sys/kernel/debug visible

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
script_dir=${self%/*}
binaries=(iommufd iommufd_fail_nth)

dns_prog=run.sh
# shellcheck source=SCRIPTDIR/../lib/daemon-ns.sh disable=SC1091
. "$script_dir/../lib/daemon-ns.sh"

usage() {
	sed -n '7,19p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- arguments -----------------------------------------------------------------
daemon=
selftest_dir=
list_file=$script_dir/expected-failures.txt
log_dir=
npos=0
while [ $# -gt 0 ]; do
	case "$1" in
	--list-file)
		[ $# -ge 2 ] || usage
		list_file=$2
		shift 2
		;;
	--list-file=*)
		list_file=${1#*=}
		shift
		;;
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
		case $npos in
		0) daemon=$1 ;;
		1) selftest_dir=$1 ;;
		*) usage ;;
		esac
		npos=$((npos + 1))
		shift
		;;
	esac
done
[ $npos -eq 2 ] || usage

if [ "$daemon" != none ]; then
	if [ ! -f "$daemon" ] || [ ! -x "$daemon" ]; then
		dns_die "daemon binary '$daemon' is not an executable file"
	fi
	daemon=$(readlink -f "$daemon")
fi
[ -d "$selftest_dir" ] || dns_die "selftest directory '$selftest_dir' does not exist (run tests/conformance/build-selftests.sh)"
selftest_dir=$(cd "$selftest_dir" && pwd -P)
for b in "${binaries[@]}"; do
	[ -x "$selftest_dir/$b" ] ||
		dns_die "$selftest_dir/$b is missing (run tests/conformance/build-selftests.sh $selftest_dir)"
done
[ -f "$list_file" ] || dns_die "expected-failure list '$list_file' not found"
list_file=$(readlink -f "$list_file")
log_dir=${log_dir:-$selftest_dir/logs}
timeout_s=${CONFORMANCE_TIMEOUT:-900}
case "$timeout_s" in
'' | *[!0-9]*) dns_die "CONFORMANCE_TIMEOUT must be a number of seconds" ;;
esac

# --- outside the namespace: preconditions, then re-exec -----------------------
if ! dns_in_namespace; then
	dns_require_host timeout
	mkdir -p "$log_dir"
	log_dir=$(cd "$log_dir" && pwd -P)
	# mount point of the namespace's private tmpfs; empty on the host side
	dns_reexec "$log_dir/.runtime" "$self" "$daemon" "$selftest_dir" \
		--list-file "$list_file" --log-dir "$log_dir"
fi

# --- inside the private mount namespace ----------------------------------------
# One stream, so that the summary's last line is also the last line of any
# combined view (meson prints the tail of stdout followed by stderr).
exec 2>&1
dns_setup_namespace
[ "${CONFORMANCE_KEEP_DEBUGFS:-0}" = 1 ] || dns_hide_debugfs
daemon_log=$log_dir/iommufdd.log
summary=$log_dir/summary.txt
results=$log_dir/results.txt

: >"$results"
: >"$summary"
echo "$dns_prog: logs in $log_dir"

# --- start the daemon -----------------------------------------------------------
# The hugepage variants mmap MAP_HUGETLB memory: reserve a pool meanwhile.
dns_reserve_hugepages "${CONFORMANCE_HUGEPAGES:-80}"
if [ "$daemon" != none ]; then
	extra=()
	read -ra extra <<<"${IOMMUFDD_EXTRA_ARGS:-}"
	# The selftests are 6.12's: the daemon answers as that kernel.
	dns_start_daemon "$daemon" "$daemon_log" --kernel-abi 6.12 "${extra[@]}"
else
	echo "$dns_prog: dry run without a daemon (IOMMUFDD_BINARY=none)"
	if [ -e /dev/iommu ]; then
		echo "$dns_prog: note: using the host's $(stat -c %F /dev/iommu) /dev/iommu"
	fi
fi

# --- run the selftests ----------------------------------------------------------
wrapper=()
if [ -n "${CONFORMANCE_WRAPPER:-}" ]; then
	read -ra wrapper <<<"$CONFORMANCE_WRAPPER"
elif [ -n "${IOMMUFD_RUN:-}" ] && [ "$daemon" != none ]; then
	mapfile -t wrapper < <(dns_launcher "$IOMMUFD_RUN")
fi
# What a program started like the selftests sees as its capabilities; read
# now, while the daemon (and so the launcher) is up.
selftest_capeff=$("${wrapper[@]}" sed -n 's/^CapEff:[[:space:]]*//p' \
	/proc/self/status 2>/dev/null | tail -n 1) || selftest_capeff=
declare -A bin_rc
for b in "${binaries[@]}"; do
	echo "$dns_prog: ==== running $b (timeout ${timeout_s}s) ===="
	tap=$log_dir/$b.tap
	stderr_log=$log_dir/$b.stderr
	# stdout (TAP) -> $tap and our stdout, stderr -> $stderr_log and our stderr
	rc=0
	dns_run_logged "$tap" "$stderr_log" "${wrapper[@]}" timeout --kill-after=30 \
		"$timeout_s" "$selftest_dir/$b" || rc=$?
	bin_rc[$b]=$rc
	case $rc in
	0 | 1) ;;
	124) dns_err "$b timed out after ${timeout_s}s" ;;
	137) dns_err "$b was killed (SIGKILL) after timing out" ;;
	*)
		if [ "$rc" -gt 128 ]; then
			dns_err "$b was killed by signal $((rc - 128))"
		else
			dns_err "$b exited with unexpected status $rc"
		fi
		;;
	esac
	dns_check_daemon "while $b was running"

	# results.txt: "<binary> <pass|fail|skip> <number> <name>[ <rest>]",
	# "<binary> plan <plan> <results>", "<binary> badnum 0 <numbers>"
	dns_tap_parse "$b" "$tap" >>"$results"
done

# --- stop the daemon ------------------------------------------------------------
dns_stop_daemon

# --- evaluate -------------------------------------------------------------------
# Capability names of "unless-cap:CAP_NAME" qualifiers -> bit in CapEff.
declare -A cap_bit
bit=0
for c in CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID \
	SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW \
	IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT \
	SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD \
	LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG \
	WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE; do
	cap_bit[CAP_$c]=$bit
	bit=$((bit + 1))
done

# xfail_reason: every entry; xfail_cap: the capability of conditional ones;
# expected: the entries that apply to this run.
declare -A xfail_reason xfail_cap expected cap_present seen
cond_names=() cond_notes=()
list_name=$(dns_pretty "$list_file")
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line#"${line%%[![:space:]]*}"} # trim leading blanks
	line=${line%"${line##*[![:space:]]}"} # and trailing ones
	case "$line" in '' | '#'*) continue ;; esac
	name=${line%%[[:space:]]*}
	reason=${line#"$name"}
	reason=${reason#"${reason%%[![:space:]]*}"}
	cap=
	case "$reason" in
	unless-cap:*)
		qual=${reason%%[[:space:]]*}
		reason=${reason#"$qual"}
		reason=${reason#"${reason%%[![:space:]]*}"}
		cap=${qual#unless-cap:}
		if [ -z "${cap_bit[$cap]+x}" ]; then
			dns_err "$list_name:$lineno: '$name': unknown capability in '$qual'"
		fi
		;;
	esac
	if [ -z "$reason" ]; then
		dns_err "$list_name:$lineno: '$name' has no reason"
	elif [ -n "${xfail_reason[$name]+x}" ]; then
		dns_err "$list_name:$lineno: '$name' is listed twice"
	fi
	xfail_reason[$name]=${reason:-?}
	expected[$name]=1
	if [ -n "$cap" ]; then
		xfail_cap[$name]=$cap
		cond_names+=("$name")
	fi
done <"$list_file"

# Conditional entries apply only when the selftests run without the
# capability: read CapEff as a program started like the selftests sees it.
if [ ${#cond_names[@]} -gt 0 ]; then
	capeff=$selftest_capeff
	if ! [[ $capeff =~ ^[0-9a-fA-F]{1,16}$ ]]; then
		dns_err "cannot read the selftests' effective capabilities (CapEff); unless-cap entries applied"
		capeff=0
	fi
	for name in "${cond_names[@]}"; do
		cap=${xfail_cap[$name]}
		[ -n "${cap_bit[$cap]+x}" ] || continue # reported above
		if (((16#$capeff >> cap_bit[$cap]) & 1)); then
			unset -v 'expected[$name]' # must pass
			cap_present[$name]=$cap
		else
			cond_notes+=("$name is expected to fail: $cap is not in the selftests' effective capabilities (CapEff $capeff; unless-cap:$cap)")
		fi
	done
fi

say() {
	printf '%s\n' "$*" | tee -a "$summary"
}

declare -A cnt
total_pass=0 total_fail=0 total_skip=0 total_xfail=0
failed_names=() upass_names=() xskip_names=()
for b in "${binaries[@]}"; do
	for k in pass fail skip xfail upass; do cnt[$b.$k]=0; done
done
while read -r b st num name; do
	case $st in
	plan)
		cnt[$b.plan]=$num
		cnt[$b.results]=$name
		continue
		;;
	badnum)
		dns_err "$b: TAP results out of sequence at:$name"
		continue
		;;
	esac
	name=${name%%[[:space:]]*} # the test's name, without a "# SKIP" etc.
	if [ -n "${seen[$name]+x}" ]; then
		dns_err "$b: test $name reported twice"
	fi
	seen[$name]=$st
	listed=${expected[$name]+x}
	case $st in
	pass | xpass)
		cnt[$b.pass]=$((cnt[$b.pass] + 1))
		if [ -n "$listed" ]; then
			cnt[$b.upass]=$((cnt[$b.upass] + 1))
			upass_names+=("$name")
		fi
		;;
	skip)
		cnt[$b.skip]=$((cnt[$b.skip] + 1))
		[ -z "$listed" ] || xskip_names+=("$name")
		;;
	fail | xfail)
		if [ -n "$listed" ]; then
			cnt[$b.xfail]=$((cnt[$b.xfail] + 1))
		else
			cnt[$b.fail]=$((cnt[$b.fail] + 1))
			failed_names+=("$name")
		fi
		;;
	esac
done <"$results"

complete=1
for b in "${binaries[@]}"; do
	plan=${cnt[$b.plan]:--1}
	got=${cnt[$b.results]:-0}
	if [ "$plan" -lt 0 ]; then
		dns_err "$b: no TAP plan in its output (did it start? see $(dns_pretty "$log_dir/$b.tap"))"
		complete=0
	elif [ "$got" -ne "$plan" ]; then
		complete=0
		missing=$((plan - got))
		dns_err "$b: TAP plan 1..$plan but $got results (crashed?); $missing missing results counted as failed"
		[ "$missing" -gt 0 ] && cnt[$b.fail]=$((cnt[$b.fail] + missing))
	fi
	if [ "${bin_rc[$b]}" -eq 1 ] && [ $((cnt[$b.fail] + cnt[$b.xfail])) -eq 0 ]; then
		dns_err "$b exited with status 1 but reported no failing test"
	fi
done

# Only meaningful when every binary reported all of its tests.
if [ "$complete" -eq 1 ]; then
	for name in "${!xfail_reason[@]}"; do
		[ -n "${seen[$name]+x}" ] ||
			dns_err "$list_name: '$name' is not a test of this suite (stale entry?)"
	done
fi

say ""
if [ ${#failed_names[@]} -gt 0 ]; then
	say "failed (${#failed_names[@]}, not in $list_name):"
	for n in "${failed_names[@]}"; do
		if [ -n "${cap_present[$n]+x}" ]; then
			say "  FAIL $n  (listed unless-cap:${cap_present[$n]}, but the selftests have ${cap_present[$n]})"
		else
			say "  FAIL $n"
		fi
	done
fi
say "==== conformance summary ===="
for b in "${binaries[@]}"; do
	say "$b: ${cnt[$b.pass]} passed, ${cnt[$b.fail]} failed, ${cnt[$b.skip]} skipped," \
		"${cnt[$b.xfail]} expected failures, ${cnt[$b.upass]} unexpected passes" \
		"(plan ${cnt[$b.plan]:-none}, ${cnt[$b.results]:-0} results, exit status ${bin_rc[$b]})"
	total_pass=$((total_pass + cnt[$b.pass]))
	total_fail=$((total_fail + cnt[$b.fail]))
	total_skip=$((total_skip + cnt[$b.skip]))
	total_xfail=$((total_xfail + cnt[$b.xfail]))
done
for n in "${cond_notes[@]}"; do say "conditional: $n"; done
# Why a binary's tests skip, said next to the counts.
declare -A skip_note=(
	[iommufd_fail_nth]="kernel fault injection never reaches the daemon: the kernel's fail-nth fails the selftest process's own kernel calls, while the daemon allocates, pins and maps in its own process, so these tests cannot exercise the daemon's error paths (they skip at once, as their fault-injection controls in debugfs are hidden here)"
)
for b in "${binaries[@]}"; do
	if [ "${cnt[$b.skip]}" -gt 0 ] && [ -n "${skip_note[$b]+x}" ]; then
		say "note: $b: ${cnt[$b.skip]} of ${cnt[$b.plan]:-?} tests SKIP: ${skip_note[$b]}"
	fi
done
if [ ${#upass_names[@]} -gt 0 ]; then
	say "unexpected passes (${#upass_names[@]}; remove them from $list_name):"
	for n in "${upass_names[@]}"; do say "  UNEXPECTED PASS $n  (listed: ${xfail_reason[$n]})"; done
fi
if [ ${#xskip_names[@]} -gt 0 ]; then
	say "note: listed as expected failures but skipped:"
	for n in "${xskip_names[@]}"; do say "  SKIP $n"; done
fi
nerrors=$(dns_error_count)
if [ "$nerrors" -gt 0 ]; then
	say "errors ($nerrors):"
	while IFS= read -r e; do say "  ERROR $e"; done < <(dns_error_list)
fi
say "logs: $log_dir"
say "expected failures: $total_xfail (see $list_name)"
say "$total_pass passed, $total_fail failed, $total_skip skipped"

if [ "$total_fail" -eq 0 ] && [ ${#upass_names[@]} -eq 0 ] && [ "$nerrors" -eq 0 ]; then
	exit 0
fi
exit 1
