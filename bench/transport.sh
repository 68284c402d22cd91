#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# transport.sh [BUILD_DIR] [ITERATIONS] - bench/transport on every transport
# this machine offers, each next to a pipe round trip of the same run:
#
#   host   the FUSE file (the host kernel has no CUSE)
#   guest  in a QEMU guest (tests/vm): CUSE answered in one round trip with
#          process_vm_readv/writev, CUSE answered with the FUSE_IOCTL_RETRY
#          protocol (the daemon in a pid namespace of its own, so callers
#          come with pid 0 and their memory is out of its reach), and the
#          FUSE file
#
# TCG makes the guest slow: compare ratios, not microseconds. Needs root.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
if [ "${1:-}" = --inside ]; then
	build=$BENCH_BUILD
else
	build=$(cd "${1:-$repo/build}" && pwd -P)
	iterations=${2:-20000}
	export BENCH_BUILD=$build
fi
daemon=$build/daemon/iommufdd
bench=$build/bench/transport

# run_one LABEL DAEMON_TRANSPORT ITERATIONS [DAEMON_PREFIX...]: a private
# mount namespace with a fresh daemon on /dev/iommu, then the benchmark.
if [ "${1:-}" = --inside ]; then
	shift
	label=$1 transport=$2 iterations=$3
	shift 3
	mount --make-rprivate /
	mount -t tmpfs tmpfs /run
	"$@" "$daemon" --transport "$transport" --path /dev/iommu \
		--log-level warning >/run/iommufdd.log 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -S /run/iommufdd/control ] && break
		sleep 0.1
	done
	echo "## $label"
	"$bench" /dev/iommu "$iterations"
	kill -TERM "$pid"
	# A daemon behind unshare may not pass SIGTERM on: do not wait forever.
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || true
	exit
fi

run_one() {
	unshare -m "$0" --inside "$@"
}

case "${BENCH_WHERE:-host}" in
host)
	run_one "host: FUSE file" fuse "$iterations"
	# Then the same in a guest, where CUSE exists.
	exec "$repo/tests/vm/run-in-guest.sh" --timeout 1800 \
		--env BENCH_WHERE=guest -- "$0" "$build" "$((iterations / 10))"
	;;
guest)
	run_one "guest: CUSE, one round trip (process_vm)" cuse "$iterations"
	run_one "guest: FUSE file" fuse "$iterations"
	run_one "guest: CUSE, retry protocol (daemon in its own pid namespace)" \
		cuse "$iterations" unshare -p -f --kill-child=SIGTERM
	;;
esac
