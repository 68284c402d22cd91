#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# vfio_map.sh [BUILD_DIR] [MiB] [ROUNDS] - bench/vfio_map in a QEMU guest
# with an emulated VT-d and two edu devices (tests/vm/run-in-guest.sh
# --vtd-edu 2): mapping a populated memfd into a real domain through
# "iommufdd --backend vfio" over CUSE, next to VFIO_IOMMU_MAP_DMA issued
# directly on a container of the benchmark's own, same guest, same run.
#
# TCG makes the guest slow: compare ratios, not milliseconds. Needs root
# and qemu-system-x86_64.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)

if [ "${1:-}" = --inside ]; then
	build=$2 mib=$3 rounds=$4
	log=${IOMMUFDD_VM_OUT:-/tmp}/iommufdd.log
	"$build/daemon/iommufdd" --backend vfio --transport cuse \
		--path /dev/iommu --run-dir /run/iommufdd --foreground \
		--log-level warning >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -c /dev/iommu ] && break
		sleep 0.1
	done
	rc=0
	"$build/bench/vfio_map" /dev/iommu "$mib" "$rounds" || rc=$?
	kill -TERM "$pid"
	wait "$pid" || true
	[ "$rc" -eq 0 ] || cat "$log" >&2
	exit "$rc"
fi

build=$(cd "${1:-$repo/build}" && pwd -P)
exec "$repo/tests/vm/run-in-guest.sh" --vtd-edu 2 --timeout 900 \
	-- "$repo/bench/vfio_map.sh" --inside "$build" "${2:-256}" "${3:-3}"
