#!/.vm/bin/sh
# shellcheck shell=dash
# SPDX-License-Identifier: MIT
#
# guest-init.sh - /init of the QEMU guests started by run-in-guest.sh.
#
# Runs as PID 1 from the initramfs, under busybox-static's sh. The initramfs
# holds only this script (as /init), busybox (/.vm/bin) and the kernel
# modules (/.vm/modules, load order in /.vm/modules.load); run-in-guest.sh
# appends /.vm/run.conf for each run, which sets
#   VM_CWD      directory to run the command in
#   VM_SHARE_N  how many VM_SHARE_<i> (host directories exported as 9p tag
#               share<i>) to mount read-only at their own paths
#   VM_ENV_N    how many VM_ENV_<i> (NAME=VALUE) make the command's environment
#   VM_ARGC     how many VM_ARG_<i> make the command line
#
# Serial ports (QEMU writes each to a file on the host):
#   ttyS0  console: kernel messages and this script's progress
#   ttyS1  the command's stdout, nothing else
#   ttyS2  the command's stderr, nothing else
#   ttyS3  control: the files the command left in $IOMMUFDD_VM_OUT (a
#          base64 tar.gz between @@VM-OUT-BEGIN@@ and @@VM-OUT-END@@ lines),
#          then "@@VM-EXIT <status>@@" as the last line
#
# The guest's root is the initramfs' tmpfs. The host's root, shared over 9p,
# is mounted read-only on /host, and each of its top-level directories
# (except /proc, /sys, /dev, /run and /tmp) is bind-mounted at the same path
# (symlinks such as /bin -> usr/bin are copied), so host binaries and
# libraries work at their usual absolute paths, read-only. /tmp, /run,
# /var/tmp, /dev/shm and $IOMMUFDD_VM_OUT are tmpfs, /dev a devtmpfs. Then
# each VM_SHARE_<i> (the checkout, the build tree) is mounted read-only at
# its own path, over all of that, so it is there even below /tmp.
# After the command, every process left is killed, the results are sent on
# ttyS3 and the guest reboots, which ends QEMU (-no-reboot).
#
# A problem before the command runs is reported as "@@VM-ERROR <what>@@" on
# ttyS3 and the console, followed by "@@VM-EXIT 125@@".

PATH=/.vm/bin
export PATH
umask 022

mkdir -p /proc /sys /dev /host /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console, so the kernel gave init no stdio.
exec </dev/null >/dev/console 2>&1

log() {
	echo "vm-init: $*"
}

ctl=/dev/ttyS3

# finish STATUS: send the results and the exit status on the control port,
# then reboot (QEMU exits).
finish() {
	local st=$1
	# Background processes of the command could hold the ports open.
	kill -KILL -1 2>/dev/null
	sleep 0.2
	if [ -d "${IOMMUFDD_VM_OUT:-/nonexistent}" ]; then
		log "sending the files in $IOMMUFDD_VM_OUT"
		{
			echo "@@VM-OUT-BEGIN@@"
			tar -C "$IOMMUFDD_VM_OUT" -cf - . | gzip -1 | base64
			echo "@@VM-OUT-END@@"
		} >"$ctl"
	fi
	log "@@VM-EXIT $st@@"
	echo "@@VM-EXIT $st@@" >"$ctl"
	# close() waits for the UART to drain, but be generous
	sync
	sleep 0.2
	reboot -f
	sleep 10 # not reached
}

fail() {
	log "@@VM-ERROR $*@@"
	echo "@@VM-ERROR $*@@" >"$ctl"
	finish 125
}

for p in /dev/ttyS1 /dev/ttyS2 /dev/ttyS3; do
	[ -c "$p" ] || fail "$p is missing (QEMU started without 4 serial ports?)"
	stty -F "$p" raw -echo 2>/dev/null || fail "cannot set $p to raw mode"
done

[ -f /.vm/run.conf ] || fail "/.vm/run.conf is missing"
# shellcheck disable=SC1091
. /.vm/run.conf

# --- modules -------------------------------------------------------------------
while read -r m; do
	[ -n "$m" ] || continue
	insmod "/.vm/modules/$m.ko" || fail "insmod $m.ko failed"
done </.vm/modules.load

# --- root file system ----------------------------------------------------------
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /host ||
	fail "cannot mount the host's root (9p, tag 'host')"

for src in /host/* /host/.[!.]*; do
	[ -e "$src" ] || [ -L "$src" ] || continue
	name=${src#/host/}
	case "$name" in
	proc | sys | dev | run | tmp | host | init | .vm | lost+found) continue ;;
	esac
	if [ -L "$src" ]; then
		ln -s "$(readlink "$src")" "/$name" || fail "cannot link /$name"
	elif [ -d "$src" ]; then
		mkdir -p "/$name"
		mount --bind "$src" "/$name" || fail "cannot bind-mount $src"
	fi
done

mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=0755 run /run
[ -d /var/tmp ] && mount -t tmpfs -o mode=1777 vartmp /var/tmp
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx

# The checkout and the build tree: their own shares, wherever they are.
i=0
while [ "$i" -lt "${VM_SHARE_N:-0}" ]; do
	eval "dir=\$VM_SHARE_$i"
	mkdir -p "$dir" 2>/dev/null # below a tmpfs such as /tmp it is not there yet
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose "share$i" "$dir" ||
		fail "cannot mount the host's $dir (9p, tag share$i)"
	i=$((i + 1))
done

IOMMUFDD_VM_OUT=/vm-out
mkdir -p "$IOMMUFDD_VM_OUT"
mount -t tmpfs -o mode=0755 vm-out "$IOMMUFDD_VM_OUT"
export IOMMUFDD_VM_OUT

hostname vm
ip link set lo up 2>/dev/null

# --- the command -----------------------------------------------------------------
# Rebuild "env -i NAME=VALUE... COMMAND ARG..." from run.conf.
set --
i=0
while [ "$i" -lt "${VM_ENV_N:-0}" ]; do
	eval "set -- \"\$@\" \"\$VM_ENV_$i\""
	i=$((i + 1))
done
set -- "$@" "IOMMUFDD_VM_OUT=$IOMMUFDD_VM_OUT"
i=0
while [ "$i" -lt "${VM_ARGC:-0}" ]; do
	eval "set -- \"\$@\" \"\$VM_ARG_$i\""
	i=$((i + 1))
done
[ "${VM_ARGC:-0}" -gt 0 ] || fail "no command given"

cd "${VM_CWD:-/}" 2>/dev/null || cd /
uptime() { cut -d' ' -f1 /proc/uptime; }
log "running the command in $(pwd) (uptime $(uptime) s)"
st=0
env -i "$@" </dev/null >/dev/ttyS1 2>/dev/ttyS2 || st=$?
log "the command exited with status $st (uptime $(uptime) s)"
finish "$st"
