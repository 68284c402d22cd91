#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - run the security suite: each test program attacks a freshly
# started iommufdd the way an unprivileged local user would.
#
# usage: run.sh [OPTION]... IOMMUFDD [--variant V] TEST_PROGRAM...
#
#   IOMMUFDD           the daemon executable
#   TEST_PROGRAM       a test program (tests/security/sec_*.c), run as root
#                      as "PROGRAM /dev/iommu"; it does the attacking steps
#                      in children that drop to unprivileged uids, prints
#                      TAP and exits 0 (all passed), 1 or 77 (cannot run)
#   --variant V        how the programs after it are run (repeatable):
#                        default  IOMMUFDD --backend mock (the default)
#                        asan     the sanitizer build of the daemon
#                                 (--asan-daemon; skipped when absent)
#                        vfio     IOMMUFDD --backend vfio (skipped, with
#                                 the daemon's reason, when it cannot start)
#   --transport T      fuse (default), cuse or auto: the daemon's transport;
#                      cuse keeps the real /dev (DNS_KEEP_DEV=1)
#   --asan-daemon P    the sanitizer build (default $SECURITY_ASAN_DAEMON)
#   --helper FILE      an extra program the tests run (copied next to them)
#   --group GID        the daemon's group (default 4242)
#   --iommufd-run P    the launcher (default $IOMMUFD_RUN)
#   --iommufdctl P     the control tool (default $IOMMUFDCTL)
#   --timeout SEC      per-program timeout (default $SECURITY_TIMEOUT or 300)
#   --log-dir DIR      logs (default: security-logs next to the first
#                      program): LABEL.tap, LABEL.stderr, LABEL.iommufdd.log
#
# The script re-executes itself in a private mount namespace and a pid
# namespace of its own (so that test 9 can recycle a pid without touching
# the host's), with a private /dev (tests/lib/daemon-ns.sh). There it
# mounts a tmpfs every user may search (without nosuid), copies the test
# programs, iommufd-run and the helpers into it, and makes 0666 nodes of
# /dev/fuse and /dev/userfaultfd there for the test users (as distributions
# ship /dev/fuse, also bound over /dev/fuse for fusermount3; a host that
# lets users handle kernel faults). Each
# program gets a fresh daemon,
#   IOMMUFDD --backend mock --transport fuse --path /dev/iommu --run-dir R \
#       --foreground --log-level info --group GID [--backend vfio]
#       [--transport T] [IOMMUFDD_EXTRA_ARGS]
# stopped with SIGTERM afterwards. A daemon that refuses --group (a usage
# error: the access-control interface is missing) fails the program, which
# is then run against the daemon without it, to show what the attacks do.
#
# Exit status: 0 if every program passed with a complete TAP stream, its
# daemon stayed alive, exited 0 within 5 s of SIGTERM and logged no
# sanitizer report; 77 if every program was skipped; 1 otherwise; 2 on
# usage errors. The last line is "N passed, N failed, N skipped".
#
# Environment: IOMMUFD_RUN, IOMMUFDCTL, SECURITY_ASAN_DAEMON and
# SECURITY_TIMEOUT as defaults for the options above; IOMMUFDD_EXTRA_ARGS
# extra daemon arguments.
#
# In a QEMU guest (tests/vm/run-in-guest.sh passes only IOMMUFD_* and
# IOMMUFDD_* variables through), give the paths as options, e.g.
#   run.sh --transport cuse --log-dir "$log_root/security" \
#       --iommufd-run B/tools/iommufd-run --iommufdctl B/tools/iommufdctl \
#       --asan-daemon B-asan/daemon/iommufdd \
#       --helper B/tests/security/sec_suid_secret B/daemon/iommufdd \
#       B/tests/security/sec_open ... --variant asan B/tests/security/sec_wrap \
#       B/tests/security/sec_introspect --variant vfio B/tests/security/sec_open

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
script_dir=${self%/*}

# shellcheck disable=SC2034 # the prefix of daemon-ns.sh messages
dns_prog=security
# shellcheck source=SCRIPTDIR/../lib/daemon-ns.sh disable=SC1091
. "$script_dir/../lib/daemon-ns.sh"

usage() {
	sed -n '6,34p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- arguments -----------------------------------------------------------------
daemon=
runs=() # "VARIANT PROGRAM" in order
variant=default
transport=fuse
asan_daemon=${SECURITY_ASAN_DAEMON:-}
helpers=()
group=4242
log_dir=
orig_args=("$@")
while [ $# -gt 0 ]; do
	case "$1" in
	--variant | --transport | --asan-daemon | --helper | --group | --log-dir | \
		--iommufd-run | --iommufdctl | --timeout)
		[ $# -ge 2 ] || usage
		case "$1" in
		--variant)
			case "$2" in default | asan | vfio) ;; *) usage ;; esac
			variant=$2
			;;
		--transport)
			case "$2" in fuse | cuse | auto) ;; *) usage ;; esac
			transport=$2
			;;
		--asan-daemon) asan_daemon=$2 ;;
		--helper) helpers+=("$(readlink -f "$2")") ;;
		--group) group=$2 ;;
		--log-dir) log_dir=$2 ;;
		--iommufd-run) IOMMUFD_RUN=$2 ;;
		--iommufdctl) IOMMUFDCTL=$2 ;;
		--timeout) SECURITY_TIMEOUT=$2 ;;
		esac
		shift 2
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		if [ -z "$daemon" ]; then
			daemon=$(readlink -f "$1")
		else
			runs+=("$variant $(readlink -f "$1")")
		fi
		shift
		;;
	esac
done
if [ -z "$daemon" ] || [ ${#runs[@]} -eq 0 ]; then
	usage
fi
case "$group" in '' | *[!0-9]*) dns_die "--group wants a numeric gid" ;; esac
for f in "$daemon" "${helpers[@]}"; do
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then
		dns_die "'$f' is not an executable file"
	fi
done
for r in "${runs[@]}"; do
	[ -x "${r#* }" ] || dns_die "'${r#* }' is not an executable file"
done
if [ -z "${IOMMUFD_RUN:-}" ] || [ -z "${IOMMUFDCTL:-}" ]; then
	dns_die "give --iommufd-run and --iommufdctl (or IOMMUFD_RUN, IOMMUFDCTL)"
fi
IOMMUFD_RUN=$(readlink -f "$IOMMUFD_RUN")
IOMMUFDCTL=$(readlink -f "$IOMMUFDCTL")
first=${runs[0]#* }
log_dir=${log_dir:-${first%/*}/security-logs}
timeout_s=${SECURITY_TIMEOUT:-300}
case "$timeout_s" in
'' | *[!0-9]*) dns_die "SECURITY_TIMEOUT must be a number of seconds" ;;
esac
if [ "$transport" = cuse ] ||
	{ [ "$transport" = auto ] && [ -e /dev/cuse ]; }; then
	export DNS_KEEP_DEV=1
fi

# --- outside the namespaces: preconditions, then re-exec ------------------------
if ! dns_in_namespace; then
	dns_require_host timeout setpriv mknod install mountpoint stat
	mkdir -p "$log_dir"
	log_dir=$(cd "$log_dir" && pwd -P)
	mkdir -p "$log_dir/.runtime"
	rc=0
	IOMMUFDD_NS=1 IOMMUFDD_NS_RUNTIME=$log_dir/.runtime \
		unshare --mount --propagation private --pid --fork --mount-proc \
		--kill-child -- bash "$self" "${orig_args[@]}" --log-dir "$log_dir" ||
		rc=$?
	rmdir "$log_dir/.runtime" 2>/dev/null || true
	exit "$rc"
fi

# --- inside: the public scratch space ----------------------------------------------
exec 2>&1
dns_setup_namespace
dns_hide_debugfs
rt=$(dirname "$(dns_run_dir)") # the namespace's private tmpfs
pub=$rt/pub

# setup_pub: a tmpfs the test users can reach, with the programs and the
# device nodes they use.
setup_pub() {
	local node f spec
	mkdir -p "$pub"
	mount -t tmpfs -o mode=0755,suid,dev,exec sec-pub "$pub" ||
		dns_die "cannot mount the scratch tmpfs"
	chmod 0711 "$rt"
	mkdir -p "$pub/bin" "$pub/dev" "$pub/mnt" "$pub/tmp"
	chmod 1777 "$pub/tmp"
	for f in "$IOMMUFD_RUN" "${helpers[@]}"; do
		install -m 0755 "$f" "$pub/bin/"
	done
	# iommufd-run preloads the mmap shim found next to itself.
	f="$(dirname "$IOMMUFD_RUN")/libiommufd-run-mmap.so"
	[ ! -f "$f" ] || install -m 0755 "$f" "$pub/bin/"
	for r in "${runs[@]}"; do
		install -m 0755 "${r#* }" "$pub/bin/"
	done
	for node in fuse userfaultfd; do
		[ -c "/dev/$node" ] || continue
		spec=$(stat -c '%t %T' "/dev/$node")
		mknod -m 0666 "$pub/dev/$node" c "$((16#${spec% *}))" "$((16#${spec#* }))"
	done
	# fusermount3 opens /dev/fuse itself, as the user: in this mount
	# namespace it is 0666, as distributions ship it.
	if [ -c "$pub/dev/fuse" ]; then
		mount --bind "$pub/dev/fuse" /dev/fuse ||
			dns_die "cannot bind a 0666 /dev/fuse over /dev/fuse"
	fi
	# fusectl, to end a daemon that deadlocks on its own mount
	if [ -d /sys/fs/fuse/connections ] &&
		! mountpoint -q /sys/fs/fuse/connections; then
		mount -t fusectl fusectl /sys/fs/fuse/connections || true
	fi
	setpriv --reuid 65534 --regid 65534 --clear-groups -- \
		test -x "$pub/bin/${IOMMUFD_RUN##*/}" ||
		dns_die "uid 65534 cannot reach $pub: every directory above $log_dir must be searchable by others"
}
setup_pub
echo "$dns_prog: logs in $log_dir; scratch $pub; transport $transport; group $group"

# sec_forget_errors N: drop what dns_err recorded after the first N errors
# (a failed start that is a skip, or that we explain ourselves).
sec_forget_errors() {
	dns_errors=("${dns_errors[@]:0:$1}")
}

# start_daemon VARIANT LOG: start the daemon for VARIANT; sets "skip_reason"
# when the variant cannot run here. Returns 1 if no daemon runs.
start_daemon() {
	local v=$1 log=$2 bin=$daemon nerr args=() extra=() legacy=
	skip_reason=
	read -ra extra <<<"${IOMMUFDD_EXTRA_ARGS:-}"
	case $v in
	asan)
		if [ -z "$asan_daemon" ] || [ ! -x "$asan_daemon" ]; then
			skip_reason="no sanitizer build of the daemon (${asan_daemon:-SECURITY_ASAN_DAEMON unset}); build build-asan/ as tests/run-all.sh does"
			return 1
		fi
		bin=$asan_daemon
		;;
	vfio) args+=(--backend vfio) ;;
	esac
	args+=(--transport "$transport" "${extra[@]}")
	nerr=$(dns_error_count)
	if dns_start_daemon --nonfatal "$bin" "$log" --group "$group" "${args[@]}"; then
		return 0
	fi
	sec_forget_errors "$nerr"
	if [ "${dns_daemon_status:-}" = 2 ] && grep -q -- '--group' "$log"; then
		legacy="iommufdd does not accept '--group $group' ($(grep -m 1 -- '--group' "$log")): access control is missing"
		if dns_start_daemon --nonfatal "$bin" "$log" "${args[@]}"; then
			dns_err "$legacy; running the program against the daemon without it to show the attacks' effect"
			return 0
		fi
		sec_forget_errors "$nerr"
	fi
	if [ "$v" = vfio ]; then
		skip_reason="iommufdd --backend vfio cannot start here: $(grep -v -e '^Try ' -e '^[[:space:]]*$' "$log" | tail -n 1)"
		return 1
	fi
	dns_err "iommufdd did not start (see $(dns_pretty "$log"))${legacy:+; $legacy}"
	return 1
}

sanitizer_scan() {
	local log=$1 hit
	hit=$(grep -m 1 -E 'runtime error:|ERROR: (Address|Leak|Thread|Memory)Sanitizer|SUMMARY: [A-Za-z]+Sanitizer' "$log" || true)
	[ -z "$hit" ] || dns_err "sanitizer report in $(dns_pretty "$log"): $hit"
}

# run_logged OUT ERR CMD...: run CMD with its stdout in OUT and its stderr
# in ERR (files, not pipes: a child the program leaves stuck in the kernel
# must not keep us waiting for EOF), then show both. Returns CMD's status.
run_logged() {
	local out=$1 err=$2 st=0
	shift 2
	(cd "$rt/cwd" && exec "$@") >"$out" 2>"$err" || st=$?
	cat "$out" "$err"
	return "$st"
}

# fuse_conns: the fusectl connection numbers of the daemon's FUSE mounts
# (/dev/iommu and the object files), for abort_daemon_conns.
fuse_conns() {
	local m
	for m in /dev/iommu "$(dns_run_dir)/objects"; do
		dns_fuse_mounted "$m" || continue
		# fusectl names a connection by its kernel dev_t: major << 20 | minor
		stat -c '%Hd %Ld' "$m" 2>/dev/null |
			awk '{ print $1 * 1048576 + $2 }'
	done
}

# abort_daemon_conns CONN...: end the daemon's FUSE connections. A daemon
# whose thread waits for an answer from its own mount (today's supervisor,
# when the main thread is gone) can be ended no other way.
abort_daemon_conns() {
	local c
	for c in "$@"; do
		[ -w "/sys/fs/fuse/connections/$c/abort" ] || continue
		echo "$dns_prog: aborting FUSE connection $c of a daemon that does not exit"
		echo 1 >"/sys/fs/fuse/connections/$c/abort" || true
	done
}

# stop_daemon: dns_stop_daemon, with a watchdog that aborts the daemon's
# FUSE connections if it is still there 10 s later (it was SIGKILLed at 5).
stop_daemon() {
	local conns watchdog
	mapfile -t conns < <(fuse_conns)
	(
		sleep 10
		abort_daemon_conns "${conns[@]}"
	) &
	watchdog=$!
	dns_stop_daemon
	kill "$watchdog" 2>/dev/null || true
	wait "$watchdog" 2>/dev/null || true
}

# kill_leftovers [ALL]: SIGKILL what the program left running in our pid
# namespace (attackers stuck in an ioctl, FUSE servers), except the daemon
# unless ALL is given. We are pid 1 here.
kill_leftovers() {
	local p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		if [ "$pid" = 1 ] || [ "$pid" = "$BASHPID" ] ||
			{ [ -z "${1:-}" ] && [ "$pid" = "${dns_daemon_pid:-}" ]; }; then
			continue
		fi
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# --- the programs --------------------------------------------------------------
if [ -n "$asan_daemon" ] && [ -x "$asan_daemon" ]; then
	# Keep serving after a UBSan report, so that every report is logged;
	# leaks at exit are not what these tests are about.
	export ASAN_OPTIONS=abort_on_error=0:detect_leaks=0:print_summary=1
	export UBSAN_OPTIONS=halt_on_error=0:print_stacktrace=1:print_summary=1
fi
total_pass=0 total_fail=0 total_skip=0
results=()
failed_progs=0 skipped_progs=0

for r in "${runs[@]}"; do
	v=${r%% *}
	prog=${r#* }
	label=${prog##*/}
	[ "$v" = default ] || label=$label-$v
	tap=$log_dir/$label.tap
	dlog=$log_dir/$label.iommufdd.log
	: >"$tap"
	rm -f "$dlog"
	nerr=$(dns_error_count)
	echo "$dns_prog: ==== $label (timeout ${timeout_s}s) ===="
	rc=
	if start_daemon "$v" "$dlog"; then
		rc=0
		# dns_daemon_pid: the library has no accessor for it.
		# shellcheck disable=SC2154
		run_logged "$tap" "$log_dir/$label.stderr" \
			env SECURITY_DAEMON_PID="$dns_daemon_pid" \
			IOMMUFDD_RUN_DIR="$(dns_run_dir)" \
			SECURITY_DAEMON_LOG="$dlog" \
			SECURITY_PUB="$pub" SECURITY_PIDNS=1 \
			SECURITY_FUSE_DEV="$([ -c "$pub/dev/fuse" ] && echo "$pub/dev/fuse")" \
			SECURITY_UFFD_DEV="$([ -c "$pub/dev/userfaultfd" ] && echo "$pub/dev/userfaultfd")" \
			SECURITY_GROUP="$group" SECURITY_VARIANT="$v" \
			SECURITY_TRANSPORT="$transport" \
			IOMMUFD_RUN="$pub/bin/${IOMMUFD_RUN##*/}" IOMMUFDCTL="$IOMMUFDCTL" \
			timeout --kill-after=30 "$timeout_s" "$pub/bin/${prog##*/}" /dev/iommu ||
			rc=$?
		case $rc in
		0 | 1 | 77) ;;
		124) dns_err "$label timed out after ${timeout_s}s" ;;
		137) dns_err "$label was killed (SIGKILL) after timing out" ;;
		*) dns_err "$label exited with unexpected status $rc" ;;
		esac
		dns_check_daemon "while $label was running"
		# What the attackers left stuck may hold the daemon (a FUSE
		# server that never answers): they go first, then the daemon,
		# then whatever only the daemon's end could release.
		kill_leftovers
		sleep 0.2
		stop_daemon
		kill_leftovers all
		sanitizer_scan "$dlog"
	fi

	pass=0 fail=0 skip=0 xfail=0 plan=-1 got=0
	failed=()
	while read -r _ st num desc; do
		case $st in
		pass) pass=$((pass + 1)) ;;
		skip) skip=$((skip + 1)) ;;
		xfail)
			xfail=$((xfail + 1))
			failed+=("expected failure: not ok $num - $desc")
			;;
		fail | xpass)
			fail=$((fail + 1))
			[ "$st" = fail ] || desc="$desc (passes now: remove its TODO)"
			failed+=("not ok $num - $desc")
			;;
		plan)
			plan=$num
			got=$desc
			;;
		badnum) dns_err "$label: TAP results out of sequence at: $desc" ;;
		esac
	done < <(dns_tap_parse - "$tap")

	verdict=
	if [ -z "$rc" ] && [ -n "$skip_reason" ] && [ "$(dns_error_count)" -eq "$nerr" ]; then
		verdict=SKIP
		echo "$dns_prog: SKIP $label: $skip_reason"
		results+=("$label: SKIP: $skip_reason")
		skipped_progs=$((skipped_progs + 1))
		total_skip=$((total_skip + 1))
		continue
	fi
	if [ "$rc" = 77 ] && [ "$fail" -eq 0 ] && [ "$(dns_error_count)" -eq "$nerr" ]; then
		verdict=SKIP
		skipped_progs=$((skipped_progs + 1))
	elif [ -z "$rc" ]; then
		: # the daemon did not come up (reported)
	elif [ "$plan" -lt 0 ]; then
		dns_err "$label: no TAP plan in its output (see $(dns_pretty "$tap"))"
	elif [ "$got" -ne "$plan" ]; then
		dns_err "$label: TAP plan 1..$plan but $got results"
		[ "$plan" -le "$got" ] || fail=$((fail + plan - got))
	fi
	if [ "$rc" = 1 ] && [ "$fail" -eq 0 ]; then
		dns_err "$label exited with status 1 but reported no failing test"
	fi
	if [ -z "$verdict" ]; then
		verdict=PASS
		if [ "$rc" != 0 ] || [ "$fail" -gt 0 ] || [ "$(dns_error_count)" -ne "$nerr" ]; then
			verdict=FAIL
			failed_progs=$((failed_progs + 1))
		fi
	fi
	[ "$plan" -ge 0 ] || plan=none
	results+=("$label: $verdict: $pass passed, $fail failed, $xfail expected failures, $skip skipped (plan $plan, exit status ${rc:-none: not run})")
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
echo "==== security summary (transport $transport) ===="
printf '%s\n' "${results[@]}"
echo "logs: $log_dir"
echo "programs: $((${#runs[@]} - failed_progs - skipped_progs)) passed, $failed_progs failed, $skipped_progs skipped"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"

if [ "$failed_progs" -gt 0 ]; then
	exit 1
fi
if [ "$skipped_progs" -eq ${#runs[@]} ]; then
	exit 77
fi
exit 0
