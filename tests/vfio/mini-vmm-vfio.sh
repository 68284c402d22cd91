#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# mini-vmm-vfio.sh - examples/mini-vmm --vfio against a live iommufdd with
# the vfio backend, as a TAP test for tests/integration/run.sh (run by
# guest-backend.sh in the vfio-backend guest).
#
# usage: mini-vmm-vfio.sh /dev/iommu      (MINI_VMM: the mini-vmm binary)
#
# Hands the first edu device (1234:11e8) to vfio-pci if it is not there
# yet, then runs "mini-vmm --vfio GROUP:DEVICE /dev/iommu": IOAS, bind,
# attach, a memfd as guest RAM, and the edu copying the guest's request
# through its buffer into guest RAM. One TAP result; mini-vmm's output
# follows as comments. Exit 0 if it passed, 1 if not.

set -euo pipefail

dev_iommu=${1:?usage: mini-vmm-vfio.sh /dev/iommu}
mini_vmm=${MINI_VMM:?MINI_VMM must name the mini-vmm binary}

edu=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=$d
		break
	fi
done
if [ -z "$edu" ]; then
	echo "1..0 # SKIP no edu device"
	exit 0
fi
name=${edu##*/}
if [ "$(basename "$(readlink -f "$edu/driver" 2>/dev/null || echo none)")" != vfio-pci ]; then
	echo vfio-pci >"$edu/driver_override"
	if [ -e "$edu/driver" ]; then echo "$name" >"$edu/driver/unbind"; fi
	echo "$name" >/sys/bus/pci/drivers_probe
fi
group=$(basename "$(readlink -f "$edu/iommu_group")")
for _ in $(seq 50); do
	[ -c "/dev/vfio/$group" ] && break
	sleep 0.1
done

rc=0
out=$("$mini_vmm" --vfio "$group:$name" "$dev_iommu" 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && grep -q "edu DMA-read" <<<"$out"; then
	echo "ok 1 - mini-vmm --vfio $group:$name: the edu's DMA copy landed in guest RAM"
else
	echo "not ok 1 - mini-vmm --vfio $group:$name (exit status $rc)"
	rc=1
fi
while IFS= read -r line; do echo "# $line"; done <<<"$out"
echo "1..1"
exit "$rc"
