#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-in-guest.sh - run a host command inside a throw-away QEMU (TCG) guest.
#
# usage: run-in-guest.sh [OPTION]... -- COMMAND [ARG]...
#
#   --timeout SEC      kill the guest after SEC seconds (default 1200)
#   --mem MB           guest memory (default 2048)
#   --smp N            guest CPUs (default 2)
#   --out DIR          copy what COMMAND leaves in $IOMMUFDD_VM_OUT (a tmpfs
#                      in the guest) to DIR; the console log (and QEMU's
#                      output, if any) go there too
#                      (a DIR an earlier run wrote to is emptied first)
#   --console-log FILE where to keep the guest's console log (default:
#                      DIR/console.log with --out, else not kept unless the
#                      run failed)
#   --env NAME=VALUE   set NAME in COMMAND's environment (repeatable)
#   --cache DIR        kernel and initramfs cache (default $IOMMUFDD_VM_CACHE,
#                      else ~/.cache/iommufdd-vm)
#   --vtd-edu N        add an emulated Intel VT-d (with interrupt remapping)
#                      and N QEMU "edu" DMA devices, each in its own IOMMU
#                      group, and boot with intel_iommu=on (default 0: the
#                      plain q35 machine)
#   --share DIR        also give the guest DIR, read-only, at the same path
#                      (repeatable; e.g. a build tree outside the checkout)
#   --kernel BZIMAGE   boot BZIMAGE instead of Debian's kernel; it must have
#                      what the guest needs built in (virtio-pci, 9p, tmpfs,
#                      devtmpfs, the 8250 UART; fuse and cuse for the suites),
#                      since the initramfs then carries no modules
#
# The guest runs Debian's 6.12 kernel (fetched by fetch-kernel.sh), or the
# --kernel one, with a busybox-static initramfs whose /init is
# guest-init.sh. It sees the host's root read-only over 9p, with every
# top-level directory at its usual path, so host binaries and libraries work
# unchanged; /tmp, /run, /var/tmp, /dev/shm and $IOMMUFDD_VM_OUT are
# writable tmpfs. The checkout this script belongs to and each --share DIR
# come through 9p shares of their own, mounted read-only at the same paths,
# so they work from anywhere, /tmp included. COMMAND runs as root with full
# capabilities, in the host's current directory, after cuse.ko (and fuse, 9p
# and overlay) are loaded.
#
# Other host paths below /tmp, /run, /var/tmp, /proc, /sys and /dev are not
# there in the guest (it has its own); arguments naming such files are
# refused.
#
# COMMAND's environment: PATH, HOME=/root, TERM=dumb, LANG/LC_ALL/CI if set,
# every variable of ours named IOMMUFD_*, IOMMUFDD_*, CONFORMANCE_*,
# INTEGRATION_*, ASAN_OPTIONS, UBSAN_OPTIONS, the --env settings and
# IOMMUFDD_VM_OUT.
#
# COMMAND's stdout and stderr are streamed to ours (each on its own serial
# port, free of kernel messages). Exit status: COMMAND's; 124 if the guest
# did not finish within the timeout (killed; the console's tail is shown);
# 125 if the guest stopped without reporting a status (crash, panic, setup
# error; console tail shown); 77 (skip) if qemu-system-x86_64 is missing
# (1 instead with CI=true, where every suite is expected to run);
# 1 on other errors; 2 on usage errors. A line "run-in-guest: boot ... s,
# command ... s, total ... s" on stderr gives the timings (wall clock, then
# the guest's own clock).
#
# QEMU runs with TCG and "-icount shift=0,sleep=on": the guest's clock
# advances 1 ns per instruction executed (and in real time while the guest
# idles), so timeouts inside the guest, such as the selftest harness's 30 s
# per test, measure the work done rather than TCG's speed or the host's
# load.
#
# Environment:
#   IOMMUFDD_VM_CACHE  default for --cache
#   IOMMUFDD_VM_CPU    QEMU -cpu model (default max,-cx16: see below)
#   IOMMUFDD_VM_ACCEL  QEMU accelerator (default tcg)
#   IOMMUFDD_VM_ICOUNT QEMU -icount setting (default shift=0,sleep=on; "off"
#                      for a guest clock that follows the host's)
#   IOMMUFDD_VM_QEMU_ARGS  more QEMU arguments (split on whitespace)
#   IOMMUFDD_VM_APPEND more kernel command line (e.g. "loglevel=7" to see
#                      the boot messages in the console log)

set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
script_dir=${self%/*}
prog=run-in-guest
say() { echo "$prog: $*" >&2; }
die() {
	echo "$prog: error: $*" >&2
	exit 1
}
usage() {
	sed -n '6,31p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- arguments -------------------------------------------------------------------
timeout_s=1200
mem=2048
smp=2
out_dir=
console_log=
cache=${IOMMUFDD_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/iommufdd-vm}
vtd_edu=0
kernel_image=
extra_env=()
share_args=("$script_dir/../..") # the checkout
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout | --mem | --smp | --out | --console-log | --env | --cache | --vtd-edu | --share | --kernel)
		[ $# -ge 2 ] || usage
		opt=$1 val=$2
		shift 2
		;;
	--*=*)
		opt=${1%%=*} val=${1#*=}
		shift
		;;
	--)
		shift
		break
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	case "$opt" in
	--timeout) timeout_s=$val ;;
	--mem) mem=$val ;;
	--smp) smp=$val ;;
	--out) out_dir=$val ;;
	--console-log) console_log=$val ;;
	--env)
		[[ $val =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE, got '$val'"
		extra_env+=("$val")
		;;
	--cache) cache=$val ;;
	--vtd-edu) vtd_edu=$val ;;
	--share) share_args+=("$val") ;;
	--kernel) kernel_image=$val ;;
	*) usage ;;
	esac
done
[ $# -ge 1 ] || usage
for v in "$timeout_s" "$mem" "$smp"; do
	case "$v" in '' | *[!0-9]* | 0) die "--timeout, --mem and --smp want positive numbers" ;; esac
done
case "$vtd_edu" in '' | *[!0-9]*) die "--vtd-edu wants a number of devices" ;; esac

qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
	why="qemu-system-x86_64 not found (scripts/install-deps.sh test installs qemu-system-x86)"
	if [ "${CI:-}" = true ]; then
		echo "$prog: FAIL: cannot run: $why (CI=true: a suite that cannot run fails)"
		exit 1
	fi
	echo "$prog: SKIP: $why"
	exit 77
fi
busybox=
for b in /bin/busybox /usr/bin/busybox; do
	[ -x "$b" ] && busybox=$b && break
done
[ -n "$busybox" ] || die "busybox not found (scripts/install-deps.sh test installs busybox-static)"
# A dynamically linked busybox would find no libc in the initramfs.
case "$("$busybox" 2>&1 || true)" in
BusyBox*) ;;
*) die "$busybox does not run" ;;
esac
if command -v readelf >/dev/null 2>&1 &&
	LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'INTERP'; then
	die "$busybox is dynamically linked (install busybox-static)"
fi
for t in cpio gzip sha256sum timeout tail base64 tar; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (run scripts/install-deps.sh test)"
done

# The directories shared on their own, as real paths; one inside another
# is already shared with it.
real_shares=()
for d in "${share_args[@]}"; do
	[ -d "$d" ] || die "--share $d: not a directory"
	d=$(cd "$d" && pwd -P)
	case "$d/" in
	// | /proc/* | /sys/* | /dev/*) die "--share $d: the guest has its own there" ;;
	esac
	real_shares+=("$d")
done
shares=()
while IFS= read -r d; do # shortest first
	for sh in "${shares[@]}"; do
		case "$d/" in "$sh"/*) continue 2 ;; esac
	done
	shares+=("$d")
done < <(printf '%s\n' "${real_shares[@]}" | awk '{ print length($0) "\t" $0 }' |
	sort -n | cut -f2-)

# Outside the shares, the guest sees the host's root except below these (its
# own tmpfs or kernel file systems there): a command or file argument below
# them is not there.
for a in "$(pwd -P)" "$@"; do
	case "$a" in /* | ./* | ../*) ;; *) continue ;; esac
	[ -e "$a" ] || continue
	p=$(readlink -f "$a")
	for sh in "${shares[@]}"; do
		case "$p/" in "$sh"/*) continue 2 ;; esac
	done
	case "$p/" in
	/tmp/* | /run/* | /var/tmp/* | /proc/* | /sys/* | /dev/*)
		if [ "$a" = "$(pwd -P)" ]; then
			say "warning: the current directory $a is not shared with the guest; the command runs in /"
		else
			die "$a is below /tmp, /run, /var/tmp, /proc, /sys or /dev, which the guest does not share with the host (pass --share DIR)"
		fi
		;;
	esac
done

mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)
if [ -n "$out_dir" ]; then
	mkdir -p "$out_dir"
	out_dir=$(cd "$out_dir" && pwd -P)
	console_log=${console_log:-$out_dir/console.log}
	# Empty a directory an earlier run filled (and only such a one), so
	# that no stale log survives.
	if [ -f "$out_dir/.run-in-guest" ]; then
		find "$out_dir" -mindepth 1 -delete
	fi
	touch "$out_dir/.run-in-guest"
fi

# --- kernel and initramfs (both cached) ---------------------------------------------
# A kernel given with --kernel has everything built in: no modules to load.
if [ -n "$kernel_image" ]; then
	[ -f "$kernel_image" ] || die "--kernel: $kernel_image is not a file"
	kernel=$(readlink -f "$kernel_image")
	kernel_name=$kernel
	modules_load=/dev/null
else
	kdir=$("$script_dir/fetch-kernel.sh" "$cache/kernel" | tail -n 1) ||
		die "cannot get the guest kernel (tests/vm/fetch-kernel.sh)"
	[ -f "$kdir/vmlinuz" ] || die "fetch-kernel.sh gave no kernel"
	kernel=$kdir/vmlinuz
	kernel_name=$(basename "$kdir")
	modules_load=$kdir/modules.load
fi

key=$(
	{
		echo "initramfs v1"
		sha256sum "$script_dir/guest-init.sh" "$busybox" "$modules_load"
		while read -r m; do sha256sum "$kdir/modules/$m.ko"; done <"$modules_load"
	} | sha256sum | cut -c1-16
)
initramfs=$cache/initramfs-$key.cpio.gz
if [ ! -f "$initramfs" ]; then
	say "building the initramfs ($initramfs)"
	stage=$(mktemp -d "$cache/.initramfs.XXXXXX")
	mkdir -p "$stage/.vm/bin" "$stage/.vm/modules"
	install -m 0755 "$script_dir/guest-init.sh" "$stage/init"
	install -m 0755 "$busybox" "$stage/.vm/bin/busybox"
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$stage/.vm/bin/$a"
	done
	cp "$modules_load" "$stage/.vm/modules.load"
	while read -r m; do
		cp "$kdir/modules/$m.ko" "$stage/.vm/modules/"
	done <"$modules_load"
	# (a private name: runs sharing the cache may build it at the same time)
	tmp_img=$(mktemp "$cache/.initramfs.XXXXXX.tmp")
	if ! (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$tmp_img"); then
		rm -rf "$stage" "$tmp_img"
		die "cannot build the initramfs"
	fi
	rm -rf "$stage"
	chmod 0644 "$tmp_img"
	mv "$tmp_img" "$initramfs"
	# keep only the newest few
	find "$cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' -printf '%T@ %p\n' |
		sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
fi

# --- this run -------------------------------------------------------------------------
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/iommufdd-vm.XXXXXX")
keep_run_dir=0
qpid=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [ -n "$qpid" ]; then
		kill -TERM "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ "$keep_run_dir" = 0 ]; then
		rm -rf "$run_dir"
	fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# shq STRING: STRING quoted for sh
shq() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

env_list=(
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	"HOME=/root" "TERM=dumb" "USER=root" "LOGNAME=root"
)
for name in LANG LC_ALL CI ASAN_OPTIONS UBSAN_OPTIONS; do
	[ -z "${!name+x}" ] || env_list+=("$name=${!name}")
done
while IFS= read -r name; do
	case "$name" in IOMMUFDD_VM_OUT | IOMMUFDD_VM_CACHE) continue ;; esac
	env_list+=("$name=${!name}")
done < <(compgen -e | grep -E '^(IOMMUFDD?|CONFORMANCE|INTEGRATION)_' || true)
env_list+=("${extra_env[@]}")

mkdir -p "$run_dir/conf/.vm"
{
	echo "VM_CWD=$(shq "$(pwd -P)")"
	echo "VM_SHARE_N=${#shares[@]}"
	for i in "${!shares[@]}"; do echo "VM_SHARE_$i=$(shq "${shares[i]}")"; done
	echo "VM_ENV_N=${#env_list[@]}"
	for i in "${!env_list[@]}"; do echo "VM_ENV_$i=$(shq "${env_list[i]}")"; done
	echo "VM_ARGC=$#"
	i=0
	for a in "$@"; do
		echo "VM_ARG_$i=$(shq "$a")"
		i=$((i + 1))
	done
} >"$run_dir/conf/.vm/run.conf"
# The kernel unpacks concatenated archives: the cached one, then this run's.
(cd "$run_dir/conf" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet | gzip -1) |
	cat "$initramfs" - >"$run_dir/initrd"

for f in console stdout stderr ctl qemu.log; do : >"$run_dir/$f"; done
cmdline="console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init 8250.nr_uarts=4 mitigations=off"
machine=q35
vtd_args=()
if [ "$vtd_edu" -gt 0 ]; then
	# VFIO type1 refuses a group whose MSIs are not isolated (EPERM), hence
	# interrupt remapping, which KVM allows only with a split irqchip (TCG
	# ignores that). The IOMMU comes before the devices it translates for.
	machine=q35,kernel-irqchip=split
	# shellcheck disable=SC2054 # the comma belongs to QEMU's option
	vtd_args=(-device intel-iommu,intremap=on)
	for ((i = 0; i < vtd_edu; i++)); do vtd_args+=(-device edu); done
	cmdline+=" intel_iommu=on"
fi
cmdline+=${IOMMUFDD_VM_APPEND:+ $IOMMUFDD_VM_APPEND}
# No CMPXCHG16B for the guest: Debian 12's QEMU 7.2 TCG now and then leaves
# garbage in RFLAGS (the low half of RAX) after the kernel's per-CPU
# cmpxchg16b in the SLUB fast path, and the guest dies of a double fault in
# kmem_cache_alloc. Four threads looping over open+read of /proc/self/status
# and process_vm_readv, with no iommufdd at all, crashed the 6.12 guest
# after 71 s of guest time (the suites hit it in about one guest run in
# four); with -cx16 the same loop ran 15 minutes without a fault. Without the flag the kernel uses its cmpxchg16b
# emulation and SLUB its locked slow path.
qemu_cmd=(
	"$qemu" -accel "${IOMMUFDD_VM_ACCEL:-tcg}" -cpu "${IOMMUFDD_VM_CPU:-max,-cx16}"
	-machine "$machine" "${vtd_args[@]}"
	-smp "$smp" -m "$mem" -nographic -nodefaults -no-reboot
	-monitor none
	-kernel "$kernel" -initrd "$run_dir/initrd" -append "$cmdline"
	-serial "file:$run_dir/console" -serial "file:$run_dir/stdout"
	-serial "file:$run_dir/stderr" -serial "file:$run_dir/ctl"
	-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
)
for i in "${!shares[@]}"; do
	# (QEMU's option syntax doubles a comma inside a value)
	qemu_cmd+=(-virtfs "local,path=${shares[i]//,/,,},mount_tag=share$i,security_model=none,readonly=on,multidevs=remap")
done
# Guest time counts instructions (1 ns each) instead of following the host's
# clock: timeouts inside the guest (the selftest harness gives each test
# 30 s) then measure work done, not how busy the host is.
icount=${IOMMUFDD_VM_ICOUNT-shift=0,sleep=on}
if [ -n "$icount" ] && [ "$icount" != off ] && [ "${IOMMUFDD_VM_ACCEL:-tcg}" = tcg ]; then
	qemu_cmd+=(-icount "$icount")
fi
read -ra qemu_extra <<<"${IOMMUFDD_VM_QEMU_ARGS:-}"
qemu_cmd+=("${qemu_extra[@]}")

# watch_console: note the wall-clock time when the guest starts the command
# and when the command has ended (the console's vm-init lines)
watch_console() {
	local booted=0
	while kill -0 "$qpid" 2>/dev/null; do
		if [ "$booted" = 0 ] && grep -q 'vm-init: running the command' "$run_dir/console"; then
			date +%s.%N >"$run_dir/t_boot"
			booted=1
		fi
		if [ "$booted" = 1 ] && grep -q 'vm-init: the command exited' "$run_dir/console"; then
			date +%s.%N >"$run_dir/t_end"
			return 0
		fi
		sleep 0.2
	done
}

t0=$(date +%s.%N)
timeout --kill-after=10 "$timeout_s" "${qemu_cmd[@]}" </dev/null >"$run_dir/qemu.log" 2>&1 &
qpid=$!
tail -c +1 -s 0.2 -f --pid="$qpid" "$run_dir/stdout" &
t_out=$!
tail -c +1 -s 0.2 -f --pid="$qpid" "$run_dir/stderr" >&2 &
t_err=$!
watch_console &
t_watch=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=
wait "$t_out" "$t_err" "$t_watch" 2>/dev/null || true
t1=$(date +%s.%N)

# --- results --------------------------------------------------------------------------
status=$(sed -n 's/^@@VM-EXIT \([0-9][0-9]*\)@@$/\1/p' "$run_dir/ctl" | tail -n 1)
sed -n 's/^@@VM-ERROR \(.*\)@@$/\1/p' "$run_dir/ctl" | while IFS= read -r e; do
	say "guest error: $e"
done

if [ -n "$console_log" ]; then
	mkdir -p "$(dirname "$console_log")"
	cp "$run_dir/console" "$console_log"
fi
# QEMU's own messages (e.g. a device model's hw_error) are kept with --out
if [ -n "$out_dir" ] && [ -s "$run_dir/qemu.log" ]; then
	cp "$run_dir/qemu.log" "$out_dir/qemu.log"
fi
if [ -n "$out_dir" ] && grep -q '^@@VM-OUT-END@@$' "$run_dir/ctl"; then
	if ! sed -n '/^@@VM-OUT-BEGIN@@$/,/^@@VM-OUT-END@@$/{/^@@/d;p}' "$run_dir/ctl" |
		base64 -d | tar -xz -C "$out_dir"; then
		say "warning: cannot unpack the guest's files into $out_dir"
	fi
fi

# timings: wall clock from the host's side, guest clock from the guest's
# own log lines (uptime when the command started and ended)
secs() { # secs FROM TO: TO - FROM with one decimal, or "?"
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
	else
		echo '?'
	fi
}
t_boot=$(cat "$run_dir/t_boot" 2>/dev/null || true)
t_end=$(cat "$run_dir/t_end" 2>/dev/null || true)
g_boot=$(sed -n 's/.*vm-init: running the command .*uptime \([0-9.]*\) s.*/\1/p' "$run_dir/console" | tail -n 1)
g_end=$(sed -n 's/.*vm-init: the command exited .*uptime \([0-9.]*\) s.*/\1/p' "$run_dir/console" | tail -n 1)
say "boot $(secs "$t0" "$t_boot") s, command $(secs "$t_boot" "$t_end") s," \
	"total $(secs "$t0" "$t1") s (guest clock: boot ${g_boot:-?} s," \
	"command $(secs "$g_boot" "$g_end") s; kernel $kernel_name)"

console_tail() {
	say "---- last 40 lines of the guest console ----"
	tail -n 40 "$run_dir/console" | tr -d '\r' >&2
	if [ -s "$run_dir/qemu.log" ]; then
		say "---- qemu's output ----"
		tail -n 20 "$run_dir/qemu.log" >&2
	fi
	if [ -z "$console_log" ]; then
		keep_run_dir=1
		say "---- files kept in $run_dir ----"
	else
		say "---- full console log: $console_log ----"
	fi
}

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	say "error: the guest did not finish within ${timeout_s}s (killed)"
	console_tail
	exit 124
fi
if [ -z "$status" ]; then
	say "error: the guest stopped without reporting an exit status (qemu exit status $qrc)"
	console_tail
	exit 125
fi
if [ "$status" = 125 ]; then
	console_tail
fi
exit "$status"
