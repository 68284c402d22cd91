#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# start.sh [IOMMUFDD OPTIONS...] - set up a fresh Debian 12 machine and serve
# /dev/iommu: install the build dependencies, build with meson into build/,
# and run iommufdd in the foreground with the mock backend on /dev/iommu over
# the FUSE-file transport. Stop it with Ctrl-C (or SIGTERM): it unmounts and
# removes the /dev/iommu file it created. Extra arguments go to iommufdd,
# e.g. "--log-level debug". Needs root.

set -euo pipefail

repo_root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$repo_root"

scripts/install-deps.sh build
if [ -f build/meson-private/coredata.dat ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
# What running and the quick start need; the test-only targets (the kernel
# selftests, built from linux-source) come with "install-deps.sh test".
ninja -C build daemon/iommufdd tools/iommufdctl tools/iommufd-run \
	tools/iommufd-script-run examples/mini-vmm
exec build/daemon/iommufdd --backend mock --transport fuse --path /dev/iommu \
	--foreground "$@"
