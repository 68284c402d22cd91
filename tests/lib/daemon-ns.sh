# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# daemon-ns.sh - run iommufdd on /dev/iommu inside a private mount namespace.
#
# Sourced (not executed) by the test harnesses, tests/conformance/run.sh and
# tests/integration/run.sh. Needs bash >= 4.3; the caller is expected to run
# with "set -euo pipefail". Functions and globals are prefixed "dns_".
#
# Outline of a harness:
#
#   dns_prog=run.sh                               # prefix of all messages
#   . "$script_dir/../lib/daemon-ns.sh"
#   if ! dns_in_namespace; then
#       dns_require_host timeout                  # exits 77 unless root + /dev/fuse
#                                                 # (1 with CI=true)
#       dns_reexec "$log_dir/.runtime" "$self" ARG...    # does not return
#   fi
#   exec 2>&1
#   dns_setup_namespace                           # tmpfs, private /dev, traps
#   dns_hide_debugfs
#   dns_start_daemon "$daemon" "$log"             # dies if it does not come up
#   rc=0
#   dns_run_logged out.tap err.log CLIENT /dev/iommu || rc=$?
#   dns_check_daemon "while CLIENT was running"
#   dns_stop_daemon
#   [ "$(dns_error_count)" -eq 0 ]
#
# With DNS_KEEP_DEV=1 (CUSE runs in a VM) the real /dev is kept.
# Otherwise, inside the namespace /dev is a copy-on-write overlay of the host's /dev (or,
# without overlayfs, a tmpfs holding a copy of its nodes) with the host's /dev
# submounts (pts, shm, mqueue, ...) carried over, so creating, mounting on or
# removing /dev/iommu never touches the host; a host /dev/iommu is hidden. The
# daemon runs as
#   BINARY --backend mock --transport fuse --path /dev/iommu \
#       --foreground --log-level info [EXTRA_ARG...]
# All mounts disappear with the namespace.
#
# Problems that should fail a run without ending it (daemon died, did not
# stop cleanly, ...) are reported with dns_err and collected; the harness
# reads them back with dns_error_count and dns_error_list.
#
# The caller may set dns_prog (message prefix, default: the script's file
# name) before sourcing. The other dns_* globals are the library's own;
# callers use the functions (so shellcheck needs no -x to check them).

dns_prog=${dns_prog:-${0##*/}}
# top of the source tree this file belongs to
dns_repo_root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd -P)
dns_rt=            # the namespace's private tmpfs (dns_setup_namespace)
dns_errors=()      # messages of dns_err
dns_daemon_pid=    # the running daemon, empty when none runs
dns_daemon_status= # its exit status once reaped
dns_daemon_log=    # its log file
dns_hugepages_added=0 # huge pages dns_reserve_hugepages added to the pool
dns_cuse=          # set when the daemon serves /dev/iommu over CUSE

# --- messages ---------------------------------------------------------------------

# dns_die MSG: print "PROG: error: MSG" on stderr and exit 1.
dns_die() {
	echo "$dns_prog: error: $*" >&2
	exit 1
}

# dns_skip MSG: print "PROG: SKIP: MSG" and exit 77 (skipped, for meson);
# with CI=true, where every suite is expected to run, fail (exit 1) instead.
dns_skip() {
	if [ "${CI:-}" = true ]; then
		echo "$dns_prog: FAIL: cannot run: $* (CI=true: a suite that cannot run fails)"
		exit 1
	fi
	echo "$dns_prog: SKIP: $*"
	exit 77
}

# dns_err MSG: report a non-fatal error: print "PROG: ERROR: MSG" on stderr
# now and keep MSG for the summary.
dns_err() {
	dns_errors+=("$*")
	echo "$dns_prog: ERROR: $*" >&2
}

# dns_error_count: print how many errors dns_err has reported.
dns_error_count() {
	echo "${#dns_errors[@]}"
}

# dns_error_list: print the messages reported with dns_err, one per line.
dns_error_list() {
	[ ${#dns_errors[@]} -eq 0 ] || printf '%s\n' "${dns_errors[@]}"
}

# dns_pretty PATH: PATH relative to the source tree when inside it.
dns_pretty() {
	case "$1" in
	"$dns_repo_root"/*) echo "${1#"$dns_repo_root"/}" ;;
	*) echo "$1" ;;
	esac
}

# --- processes and mounts -------------------------------------------------------------

# dns_alive PID: true if PID exists and is not a zombie.
dns_alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# dns_serving: true once /dev/iommu is the daemon's: a CUSE character device,
# or a FUSE mount on the file.
dns_serving() {
	if [ -n "$dns_cuse" ]; then
		[ -c /dev/iommu ]
	else
		dns_fuse_mounted /dev/iommu
	fi
}

# dns_fuse_mounted PATH: true if a FUSE file system is mounted on PATH in this
# mount namespace.
dns_fuse_mounted() {
	awk -v mp="$1" '
		$5 == mp {
			for (i = 7; i <= NF; i++)
				if ($i == "-") { if ($(i + 1) ~ /^fuse/) found = 1; break }
		}
		END { exit !found }' /proc/self/mountinfo
}

# --- entering the namespace -------------------------------------------------------------

# dns_in_namespace: true in the copy of the script started by dns_reexec.
dns_in_namespace() {
	[ "${IOMMUFDD_NS:-}" = 1 ]
}

# dns_require_host [TOOL...]: outside the namespace, skip (dns_skip) unless
# running as root with /dev/fuse present, and die unless the tools this
# library needs and the extra TOOLs are installed.
dns_require_host() {
	local t
	[ "$(id -u)" -eq 0 ] || dns_skip "needs root (mount namespace, FUSE mount on /dev/iommu)"
	[ -c /dev/fuse ] || dns_skip "/dev/fuse is missing"
	for t in unshare mount umount "$@" tee awk; do
		command -v "$t" >/dev/null 2>&1 ||
			dns_die "'$t' not found (run scripts/install-deps.sh test)"
	done
}

# dns_reexec RUNTIME_DIR SCRIPT [ARG...]: run "bash SCRIPT ARG..." in a new
# private mount namespace and exit with its status. RUNTIME_DIR (created, and
# removed afterwards if empty) is where the namespace mounts its private
# tmpfs; on the host side it stays empty. Pass absolute paths in ARGs if the
# script changes directory before dns_setup_namespace.
dns_reexec() {
	local runtime=$1 rc=0
	shift
	mkdir -p "$runtime"
	IOMMUFDD_NS=1 IOMMUFDD_NS_RUNTIME=$runtime \
		unshare -m --propagation private -- bash "$@" || rc=$?
	rmdir "$runtime" 2>/dev/null || true
	exit "$rc"
}

# dns_setup_namespace: inside the namespace, install the EXIT/INT/TERM traps
# (a daemon still running at exit is killed), mount the private tmpfs on
# dns_rt and replace /dev by the private copy-on-write /dev.
dns_setup_namespace() {
	dns_rt=${IOMMUFDD_NS_RUNTIME:?not started by dns_reexec}
	unset IOMMUFDD_NS IOMMUFDD_NS_RUNTIME
	trap dns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# Private tmpfs for the overlay's upper layer and scratch files.
	mount -t tmpfs -o mode=0700 iommufdd-ns "$dns_rt" ||
		dns_die "cannot mount a tmpfs in the private mount namespace"
	mkdir -p "$dns_rt/upper" "$dns_rt/work" "$dns_rt/lower" "$dns_rt/dev" "$dns_rt/cwd"

	# CUSE makes its node in devtmpfs; an overlay can keep a stale negative
	# lookup of it, so a CUSE run keeps the real /dev (in a throw-away VM).
	if [ "${DNS_KEEP_DEV:-0}" = 1 ]; then
		return 0
	fi
	# Replace /dev by a copy-on-write overlay of the host's /dev. The host
	# devtmpfs is shared with this namespace, so files created in /dev
	# directly would appear on the host; in the overlay they live in the
	# tmpfs above.
	mount --bind /dev "$dns_rt/lower" || dns_die "cannot bind-mount /dev" # without submounts
	if ! mount -t overlay iommufdd-ns-dev \
		-o "lowerdir=$dns_rt/lower,upperdir=$dns_rt/upper,workdir=$dns_rt/work" \
		"$dns_rt/dev" 2>/dev/null; then
		# no overlayfs: a tmpfs with a copy of the device nodes
		mount -t tmpfs -o mode=0755 iommufdd-ns-dev "$dns_rt/dev" ||
			dns_die "cannot mount a tmpfs for the private /dev"
		cp -a "$dns_rt/lower/." "$dns_rt/dev/" ||
			dns_die "cannot copy /dev into the private /dev"
	fi
	umount "$dns_rt/lower"
	# Carry over what is mounted below /dev (pts, shm, mqueue, ...).
	awk '$5 ~ /^\/dev\// { sub(/^\/dev\//, "", $5); sub(/\/.*/, "", $5); print $5 }' \
		/proc/self/mountinfo | sort -u | while IFS= read -r sub; do
		sub=$(printf '%b' "$sub") # mountinfo escapes blanks as \040
		if [ -d "/dev/$sub" ]; then
			mkdir -p "$dns_rt/dev/$sub"
		else
			[ -e "$dns_rt/dev/$sub" ] || : >"$dns_rt/dev/$sub"
		fi
		mount --rbind "/dev/$sub" "$dns_rt/dev/$sub" || dns_die "cannot carry over /dev/$sub"
	done
	mount --move "$dns_rt/dev" /dev || dns_die "cannot mount the private /dev"
}

# dns_hide_debugfs: hide /sys/kernel/debug behind an empty read-only tmpfs
# (e.g. so that iommufd_fail_nth cannot change the host's fault-injection
# settings). No-op if the directory does not exist.
dns_hide_debugfs() {
	[ -d /sys/kernel/debug ] || return 0
	mount -t tmpfs -o ro,mode=0555,size=4k iommufdd-ns-nodebugfs \
		/sys/kernel/debug || dns_die "cannot hide /sys/kernel/debug"
}

# dns_cleanup: the EXIT trap; kills a daemon that is still running.
# shellcheck disable=SC2317 # invoked by the EXIT trap
dns_cleanup() {
	if [ -n "$dns_daemon_pid" ] && dns_alive "$dns_daemon_pid"; then
		dns_kill_daemon
	fi
	dns_restore_hugepages
}

# dns_reserve_hugepages N: add N huge pages to the pool for this run, and
# give them back at exit. vm.nr_hugepages is one number for the whole host,
# and test runs may overlap (two checkouts, a CI job next to a developer's
# run): each run brings its own pages on top of what is there, rather than
# taking "at least N" that another run already holds and may give back
# mid-run. Reports with dns_err if the kernel could not add them all.
dns_reserve_hugepages() {
	local want=$1 before after lock
	[ -w /proc/sys/vm/nr_hugepages ] || return 0
	[ "$want" -gt 0 ] || return 0
	# Runs in one mount namespace tree also serialise the read-modify-write.
	lock=${TMPDIR:-/tmp}/iommufdd-hugepages.lock
	{
		flock 8 2>/dev/null || true
		before=$(cat /proc/sys/vm/nr_hugepages)
		echo $((before + want)) >/proc/sys/vm/nr_hugepages
		after=$(cat /proc/sys/vm/nr_hugepages)
	} 8>>"$lock"
	dns_hugepages_added=$((after > before ? after - before : 0))
	echo "$dns_prog: added $dns_hugepages_added huge pages to the pool for this run ($before -> $after)"
	[ "$dns_hugepages_added" -ge "$want" ] ||
		dns_err "only $dns_hugepages_added of $want huge pages could be added to the pool"
}

# dns_restore_hugepages: give back the pages dns_reserve_hugepages added
# (only those: other runs may have added theirs meanwhile).
dns_restore_hugepages() {
	local now lock
	[ "${dns_hugepages_added:-0}" -gt 0 ] || return 0
	lock=${TMPDIR:-/tmp}/iommufdd-hugepages.lock
	{
		flock 8 2>/dev/null || true
		now=$(cat /proc/sys/vm/nr_hugepages)
		now=$((now > dns_hugepages_added ? now - dns_hugepages_added : 0))
		echo "$now" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	} 8>>"$lock"
	dns_hugepages_added=0
}

# dns_run_dir: the daemon's run directory (object files, launcher socket).
dns_run_dir() {
	printf '%s\n' "$dns_rt/run"
}

# dns_launcher IOMMUFD_RUN: the command prefix that runs a client under the
# iommufd-run launcher of the daemon started by dns_start_daemon.
dns_launcher() {
	printf '%s\n' "$1" --run-dir "$(dns_run_dir)" --
}

# --- the daemon -------------------------------------------------------------------------

# dns_daemon_log_tail: print the last 20 lines of the daemon's log on stderr.
dns_daemon_log_tail() {
	[ -n "$dns_daemon_log" ] && [ -f "$dns_daemon_log" ] || return 0
	echo "---- last 20 lines of $dns_daemon_log ----" >&2
	tail -n 20 "$dns_daemon_log" >&2 || true
	echo "----" >&2
}

# dns_kill_daemon: SIGKILL the daemon and reap it.
dns_kill_daemon() {
	kill -KILL "$dns_daemon_pid" 2>/dev/null || true
	wait "$dns_daemon_pid" 2>/dev/null || true
	dns_daemon_pid=
}

# dns_start_daemon [--nonfatal] BINARY LOG [EXTRA_ARG...]: start the daemon
# on /dev/iommu with its output in LOG and wait (up to 10 s) until it has
# mounted its FUSE file system there. If it does not come up, prints the
# log's tail, leaves no daemon running and dies (dns_die) or, with
# --nonfatal, reports the failure with dns_err and returns 1.
dns_start_daemon() {
	local fail=dns_die bin waited=0 cmd
	if [ "$1" = --nonfatal ]; then
		fail=dns_err
		shift
	fi
	bin=$1
	dns_daemon_log=$2
	shift 2
	# The last --transport wins, as in the daemon's own option parsing.
	dns_cuse=
	local a prev=
	for a in "$@"; do
		if [ "$prev" = --transport ]; then
			case $a in
			cuse) dns_cuse=1 ;;
			auto) [ -e /dev/cuse ] && dns_cuse=1 || dns_cuse= ;;
			*) dns_cuse= ;;
			esac
		fi
		prev=$a
	done
	# A FUSE mount already on /dev/iommu (carried over from the host's /dev,
	# or left by a daemon that died) would be taken for the new daemon's.
	while dns_fuse_mounted /dev/iommu; do
		echo "$dns_prog: note: detaching a stale FUSE mount from /dev/iommu"
		umount -l /dev/iommu 2>/dev/null || break
	done
	if [ -n "$dns_cuse" ]; then
		# CUSE creates the device node itself: nothing may be in the way.
		[ -e /dev/iommu ] && dns_die "/dev/iommu exists; CUSE cannot create it"
	else
		# Our own placeholder, in the overlay only (a host /dev/iommu,
		# even a real iommufd char device, is hidden from the clients
		# and left alone).
		if [ -e /dev/iommu ] && [ ! -f /dev/iommu ]; then
			rm -f /dev/iommu
		fi
		[ -e /dev/iommu ] || touch /dev/iommu
	fi

	cmd=("$bin" --backend mock --transport fuse --path /dev/iommu
		--run-dir "$dns_rt/run" --foreground --log-level info "$@")
	echo "$dns_prog: starting: ${cmd[*]}"
	"${cmd[@]}" </dev/null >"$dns_daemon_log" 2>&1 &
	dns_daemon_pid=$!

	until dns_serving && [ -S "$dns_rt/run/launcher.sock" ]; do
		if ! dns_alive "$dns_daemon_pid"; then
			dns_daemon_status=0
			wait "$dns_daemon_pid" || dns_daemon_status=$?
			dns_daemon_pid=
			dns_daemon_log_tail
			"$fail" "iommufdd exited (status $dns_daemon_status) before mounting /dev/iommu"
			return 1
		fi
		if [ $waited -ge 100 ]; then
			dns_kill_daemon
			dns_daemon_log_tail
			"$fail" "iommufdd did not serve /dev/iommu and open its launcher socket within 10 s"
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	echo "$dns_prog: iommufdd (pid $dns_daemon_pid) serves /dev/iommu"
}

# dns_check_daemon WHEN: if the daemon has died, reap it and report
# "iommufdd died WHEN (exit status N)" with dns_err (once).
dns_check_daemon() {
	[ -n "$dns_daemon_pid" ] || return 0
	dns_alive "$dns_daemon_pid" && return 0
	dns_daemon_status=0
	wait "$dns_daemon_pid" || dns_daemon_status=$?
	dns_daemon_pid=
	dns_err "iommufdd died $1 (exit status $dns_daemon_status)"
	dns_daemon_log_tail
}

# dns_stop_daemon: send SIGTERM to the daemon (if one runs) and require that
# it exits with status 0 within 5 s and removes its mount from /dev/iommu;
# otherwise it is killed / the mount detached and the problem reported with
# dns_err.
dns_stop_daemon() {
	local waited=0
	[ -n "$dns_daemon_pid" ] || return 0
	kill -TERM "$dns_daemon_pid" 2>/dev/null || true
	while dns_alive "$dns_daemon_pid" && [ $waited -lt 50 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if dns_alive "$dns_daemon_pid"; then
		dns_err "iommufdd did not exit within 5 s of SIGTERM (killed)"
		dns_kill_daemon
		dns_daemon_log_tail
	else
		dns_daemon_status=0
		wait "$dns_daemon_pid" || dns_daemon_status=$?
		if [ "$dns_daemon_status" -ne 0 ]; then
			dns_err "iommufdd exited with status $dns_daemon_status after SIGTERM (expected 0)"
			dns_daemon_log_tail
		else
			echo "$dns_prog: iommufdd exited 0 after SIGTERM"
		fi
	fi
	dns_daemon_pid=
	# devtmpfs removes a CUSE node a moment after the device goes away.
	waited=0
	while [ -n "$dns_cuse" ] && [ -e /dev/iommu ] && [ $waited -lt 20 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if [ -n "$dns_cuse" ] && [ -e /dev/iommu ]; then
		dns_err "iommufdd left its CUSE device /dev/iommu after SIGTERM"
	elif dns_fuse_mounted /dev/iommu; then
		dns_err "iommufdd left its FUSE mount on /dev/iommu after SIGTERM"
		umount -l /dev/iommu 2>/dev/null || true
	fi
}

# --- clients ------------------------------------------------------------------------------

# dns_run_logged OUT_LOG ERR_LOG CMD [ARG...]: run CMD in $dns_rt/cwd; its
# stdout goes to OUT_LOG and to our stdout, its stderr to ERR_LOG and to our
# stderr. Returns CMD's exit status (255 if unknown).
dns_run_logged() {
	local out=$1 errlog=$2 rc
	shift 2
	rm -f "$dns_rt/rc"
	{
		{
			st=0
			(cd "$dns_rt/cwd" && exec "$@") || st=$?
			echo "$st" >"$dns_rt/rc"
		} 2>&1 1>&3 3>&- | tee "$errlog" >&2
	} 3>&1 | tee "$out" || true
	rc=$(cat "$dns_rt/rc" 2>/dev/null || echo 255)
	return "$rc"
}

# dns_tap_parse LABEL TAP_FILE: summarise a TAP stream, one record per line:
#   LABEL pass|fail|skip|xfail|xpass NUMBER DESCRIPTION
#                                             per result line ("ok N ..." /
#                                             "not ok N ..."; skip = "ok"
#                                             with " # SKIP"; xfail/xpass =
#                                             with " # TODO "); DESCRIPTION is
#                                             the rest of the line, without a
#                                             leading "- "
#   LABEL plan PLAN COUNT                     PLAN from "1..PLAN" (-1 if
#                                             none), COUNT result lines
#   LABEL badnum 0 NUMBER...                  results out of sequence (only
#                                             if there are any)
dns_tap_parse() {
	awk -v label="$1" '
		/^1\.\.[0-9]+/ { if (plan == "") plan = substr($1, 4) + 0; next }
		/^(not ok|ok) [0-9]+ [^ ]/ {
			if ($1 == "not") {
				st = "fail"; num = $3
				# A known failure, named with its reason.
				if (index($0, " # TODO ")) st = "xfail"
			} else {
				st = "pass"; num = $2
				if (index($0, " # SKIP")) st = "skip"
				# Fixed: the TODO must go, so that it is seen.
				if (index($0, " # TODO ")) st = "xpass"
			}
			desc = $0
			sub(/^(not ok|ok) [0-9]+ /, "", desc)
			sub(/^- /, "", desc)
			n++
			if (num + 0 != n) bad = bad " " num
			print label, st, num, desc
		}
		END {
			print label, "plan", (plan == "" ? -1 : plan), n + 0
			if (bad != "") print label, "badnum", 0, bad
		}' "$2"
}
