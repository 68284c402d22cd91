#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build-selftests.sh OUTDIR
#
# Build the conformance suite, the kernel's own iommufd selftests ("iommufd"
# and "iommufd_fail_nth"), from Debian's linux-source-6.12 tarball into OUTDIR,
# following the recipe in conformance.md (project docs) section 1.2.
#
# The kernel sources are never part of this repository: only the handful of
# files the two binaries need are extracted from the tarball at build time,
# keeping the tree layout (iommufd_utils.h includes
# ../../../../drivers/iommu/iommufd/iommufd_test.h by a relative path):
#
#   OUTDIR/linux/tools/testing/selftests/iommu/*
#   OUTDIR/linux/tools/testing/selftests/kselftest*.h
#   OUTDIR/linux/drivers/iommu/iommufd/iommufd_test.h
#   OUTDIR/linux/include/uapi/linux/{iommufd,vfio}.h
#   OUTDIR/inc/linux/{iommufd,vfio}.h         private uapi include dir
#   OUTDIR/compat/hybrid_compat.h             the 9-line compat shim
#   OUTDIR/iommufd, OUTDIR/iommufd_fail_nth   the binaries
#
# The result is cached: OUTDIR/.selftests-stamp records the tarball's path,
# size and mtime, the compiler version and this script's checksum, and a
# second run with nothing changed returns at once.
#
# Environment:
#   LINUX_SOURCE_TARBALL  tarball to use (default /usr/src/linux-source-6.12.tar.xz)

set -euo pipefail

prog=${0##*/}
die() {
	echo "$prog: error: $*" >&2
	exit 1
}

[ $# -eq 1 ] || {
	echo "usage: $prog OUTDIR" >&2
	exit 2
}

tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
[ -f "$tarball" ] ||
	die "$tarball not found; run scripts/install-deps.sh test (installs linux-source-6.12)"
command -v xz >/dev/null 2>&1 || die "xz not found; run scripts/install-deps.sh test"
command -v gcc >/dev/null 2>&1 || die "gcc not found; run scripts/install-deps.sh test"

mkdir -p "$1"
BUILD=$(cd "$1" && pwd -P) # the recipe wants an absolute path
stamp=$BUILD/.selftests-stamp

# Serialise concurrent builds into the same OUTDIR.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$BUILD/.selftests-lock"
	flock 9
fi

script_sum=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
want_stamp=$(
	printf 'tarball=%s\n' "$tarball"
	stat -L -c 'size=%s mtime=%Y' "$tarball"
	printf 'cc=%s\n' "$(gcc --version | head -n1)"
	printf 'script=%s\n' "$script_sum"
)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] &&
	[ -x "$BUILD/iommufd" ] && [ -x "$BUILD/iommufd_fail_nth" ]; then
	echo "$prog: selftests in $BUILD are up to date"
	exit 0
fi
rm -f "$stamp"

# --- extract only what the two binaries need --------------------------------
echo "$prog: extracting iommufd selftest sources from $tarball"
top=$(tar -tJf "$tarball" 2>/dev/null | head -n1 || true)
top=${top%%/*}
[ -n "$top" ] || die "cannot read $tarball"

members=(
	"$top/tools/testing/selftests/iommu/*"
	"$top/tools/testing/selftests/kselftest*.h"
	"$top/drivers/iommu/iommufd/iommufd_test.h"
	"$top/include/uapi/linux/iommufd.h"
	"$top/include/uapi/linux/vfio.h"
)
tmp=$BUILD/linux.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
tar -xJf "$tarball" -C "$tmp" --strip-components=1 --no-same-owner \
	--wildcards --no-wildcards-match-slash "${members[@]}" ||
	die "extracting the selftest sources from $tarball failed"
for f in tools/testing/selftests/iommu/iommufd.c \
	tools/testing/selftests/iommu/iommufd_fail_nth.c \
	tools/testing/selftests/iommu/iommufd_utils.h \
	tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h \
	drivers/iommu/iommufd/iommufd_test.h \
	include/uapi/linux/iommufd.h include/uapi/linux/vfio.h; do
	[ -f "$tmp/$f" ] || die "$f is missing from $tarball"
done
rm -rf "$BUILD/linux"
mv "$tmp" "$BUILD/linux"

# --- recipe: conformance.md (project docs) section 1.2 ---------------------
LINUX=$BUILD/linux
S=$LINUX/tools/testing/selftests/iommu
mkdir -p "$BUILD/inc/linux" "$BUILD/compat"
cp "$LINUX/include/uapi/linux/iommufd.h" "$LINUX/include/uapi/linux/vfio.h" "$BUILD/inc/linux/"
cat >"$BUILD/compat/hybrid_compat.h" <<'EOF'
/* shim: the selftests use symbols newer than the tree's own headers */
#include <linux/iommufd.h>
#ifndef IOMMU_HW_INFO_FLAG_INPUT_TYPE
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE (1 << 0)
#define IOMMU_HW_INFO_TYPE_DEFAULT 0
#define in_data_type out_data_type   /* upstream: union {in_data_type; out_data_type;} */
#endif
#define MOCK_FLAGS_DEVICE_PASID (1 << 2)
#define MOCK_PASID_WIDTH 20
EOF
cd "$BUILD"
CF=(-Wall -O2 -Wno-unused-function -D_GNU_SOURCE= -D__user= -isystem "$BUILD/inc"
	-include "$BUILD/compat/hybrid_compat.h")

echo "$prog: compiling iommufd and iommufd_fail_nth"
rm -f iommufd iommufd_fail_nth
gcc "${CF[@]}" -o iommufd.tmp "$S/iommufd.c" 2>iommufd.build.log &
pid1=$!
gcc "${CF[@]}" -o iommufd_fail_nth.tmp "$S/iommufd_fail_nth.c" 2>iommufd_fail_nth.build.log &
pid2=$!
rc=0
wait "$pid1" || rc=1
wait "$pid2" || rc=1
for b in iommufd iommufd_fail_nth; do
	if [ -s "$b.build.log" ]; then
		echo "$prog: gcc output for $b:" >&2
		cat "$b.build.log" >&2
	fi
done
[ "$rc" -eq 0 ] || die "compiling the selftests failed (logs: $BUILD/*.build.log)"
mv iommufd.tmp iommufd
mv iommufd_fail_nth.tmp iommufd_fail_nth

printf '%s\n' "$want_stamp" >"$stamp"
echo "$prog: built $BUILD/iommufd and $BUILD/iommufd_fail_nth"
