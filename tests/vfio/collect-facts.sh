#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# collect-facts.sh BUILD_DIR OUT_DIR - gather the evidence behind
# tests/vfio/FACTS.md in three guest boots with an emulated VT-d and two
# edu devices (run-in-guest.sh --vtd-edu 2), leaving in OUT_DIR:
#
#   main/edu_dma.tap     the vfio-edu test's TAP output
#   main/facts.txt       vfio_facts' report ("fact:" lines are the findings)
#   main/dmesg.txt       the guest kernel's log afterwards (DMAR faults)
#   main/console.log     the guest console
#   snoop/facts.txt      "vfio_facts sysfs info" with the VT-d's
#                        snoop-control=on (what VFIO_DMA_CC_IOMMU follows)
#   full-buffer/*        "vfio_facts full-buffer": a 4096-byte edu transfer,
#                        which stops QEMU 7.2 (see qemu.log there)
#
# BUILD_DIR is a meson build directory below a path the guest shares (not
# /tmp). Exit status: 0 if the main run's vfio_facts succeeded.

set -euo pipefail

[ $# -eq 2 ] || {
	sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)
build=$(cd "$1" && pwd -P)
mkdir -p "$2"
out=$(cd "$2" && pwd -P)
run=$here/../vm/run-in-guest.sh
edu_dma=$build/tests/vfio/edu_dma
facts=$build/tests/vfio/vfio_facts
for p in "$edu_dma" "$facts"; do
	[ -x "$p" ] || {
		echo "collect-facts: $p is missing (build first)" >&2
		exit 1
	}
done

# shellcheck disable=SC2016 # expanded in the guest
"$run" --vtd-edu 2 --out "$out/main" -- sh -c '
	"$0" >"$IOMMUFDD_VM_OUT/edu_dma.tap" 2>&1
	"$1" >"$IOMMUFDD_VM_OUT/facts.txt" 2>&1
	st=$?
	dmesg >"$IOMMUFDD_VM_OUT/dmesg.txt"
	exit $st' "$edu_dma" "$facts"

# shellcheck disable=SC2016
IOMMUFDD_VM_QEMU_ARGS="-global intel-iommu.snoop-control=on" \
	"$run" --vtd-edu 2 --out "$out/snoop" -- sh -c '
	"$0" sysfs info >"$IOMMUFDD_VM_OUT/facts.txt" 2>&1' "$facts"

# Expected to end with QEMU stopped (exit 125): the evidence is qemu.log.
"$run" --vtd-edu 2 --out "$out/full-buffer" -- "$facts" full-buffer \
	>"$out/full-buffer.txt" 2>&1 || true
echo "collect-facts: results in $out"
