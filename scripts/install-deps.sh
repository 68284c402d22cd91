#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh [build|test] - install the Debian 12 packages iommufdd needs.
#
#   build  toolchain and libraries to configure and build the project (default)
#   test   everything in "build", plus what the test suites need: the kernel
#          source tarball the conformance selftests are built from
#          (linux-source-6.12), xz, and the tools tests/conformance/run.sh
#          uses (unshare/flock from util-linux, mount/umount, timeout), and
#          what the QEMU-guest suite (tests/vm) boots with: qemu-system-x86,
#          busybox-static (its initramfs) and cpio, and what the reference
#          suite (tests/reference) builds its kernel with: build-essential,
#          bc, bison, flex, libelf-dev, libssl-dev
#
# Idempotent: packages are checked with dpkg-query first, and when everything
# is installed the script does nothing (no apt-get update, no root needed).
# Otherwise it runs "apt-get update" once and installs only what is missing.

set -euo pipefail

usage() {
	echo "usage: $0 [build|test]" >&2
	exit 2
}

[ $# -le 1 ] || usage
mode=${1:-build}

build_pkgs=(
	meson ninja-build pkg-config gcc clang
	libfuse3-dev fuse3 libevent-dev libbsd-dev libjson-c-dev libcmocka-dev
	systemd scdoc
)
test_pkgs=(
	"${build_pkgs[@]}"
	libclang-rt-14-dev # clang's ASan/UBSan runtime, for build-asan/
	linux-source-6.12 xz-utils tar
	util-linux mount coreutils
	qemu-system-x86 busybox-static cpio
	kmod    # depmod, for the guest's modules (tests/vm/fetch-kernel.sh)
	man-db  # man, for systemd-analyze verify --man=yes (systemd/check-units.sh)
	graphviz # dot, for tests/integration/mini-vmm-graph.sh
	clang-format # clang-format-14, for tests/unit/check-format.sh
	# tests/reference/build-kernel.sh: the reference kernel (make bzImage)
	build-essential bc bison flex libelf-dev libssl-dev cpio
)

case "$mode" in
build) pkgs=("${build_pkgs[@]}") ;;
test) pkgs=("${test_pkgs[@]}") ;;
-h | --help) usage ;;
*) usage ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	# "ii " = desired install, currently installed, no error flag
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "$st" = "ii " ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} '$mode' packages already installed"
	exit 0
fi

echo "install-deps: installing: ${missing[*]}"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-deps: error: must be root (or have sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"; then
	echo "install-deps: error: apt-get install failed" >&2
	case " ${missing[*]} " in
	*" linux-source-6.12 "*)
		echo "install-deps: note: linux-source-6.12 comes from bookworm-security" \
			"(or bookworm-backports); check /etc/apt/sources.list*" >&2
		;;
	esac
	exit 1
fi
echo "install-deps: done"
