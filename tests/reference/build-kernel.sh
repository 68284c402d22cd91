#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# build-kernel.sh - build the reference kernel (the real iommufd, with the
# kernel's selftest mock) and print the path of its bzImage.
#
# usage: build-kernel.sh
#
# Recipe (project docs, refkernel.md): Debian's linux-source-6.12 tarball,
# "make tinyconfig", refkernel.config (next to this script) merged over it
# with merge_config.sh, "make olddefconfig", then "make bzImage" under nice.
# After olddefconfig every line of the fragment must still hold: a
# CONFIG_X=V line must be in .config as such, a "# CONFIG_X is not set" line
# must not have become set. Otherwise the build stops and names the lines.
#
# The bzImage is cached outside any build tree, in
#   $IOMMUFDD_REFKERNEL_CACHE (default ~/.cache/iommufdd-refkernel)/KEY/
# next to the .config it was built with, where KEY hashes the fragment's
# settings (its CONFIG_ lines), the tarball's contents and the recipe
# version below: a kernel is rebuilt only when one of them changes. The
# kernel tree is extracted into the cache for the build and removed
# afterwards (set IOMMUFDD_REFKERNEL_KEEP_TREE=1 to keep
# it); the make log stays next to the bzImage. Concurrent runs are serialised
# with a lock in the cache directory.
#
# The last line of stdout is the bzImage's path; progress goes to stderr.
# About 20 minutes of wall clock on 2 busy cores the first time.
#
# Environment:
#   LINUX_SOURCE_TARBALL      (default /usr/src/linux-source-6.12.tar.xz)
#   IOMMUFDD_REFKERNEL_CACHE  cache directory (see above)
#   IOMMUFDD_REFKERNEL_JOBS   make -j (default: the number of CPUs)
#   IOMMUFDD_REFKERNEL_KEEP_TREE=1  keep the extracted, built kernel tree

set -euo pipefail

prog=${0##*/}
say() { echo "$prog: $*" >&2; }
die() {
	echo "$prog: error: $*" >&2
	exit 1
}
[ $# -eq 0 ] || {
	echo "usage: $prog" >&2
	exit 2
}

# Bump when the recipe below changes in a way that changes the kernel.
recipe_version="refkernel recipe 1 (tinyconfig + fragment, bzImage)"

self_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)
fragment=$self_dir/refkernel.config
tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cache=${IOMMUFDD_REFKERNEL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/iommufdd-refkernel}
jobs=${IOMMUFDD_REFKERNEL_JOBS:-$(nproc)}

[ -f "$fragment" ] || die "$fragment is missing"
[ -f "$tarball" ] ||
	die "$tarball not found; run scripts/install-deps.sh test (installs linux-source-6.12)"
for t in make gcc bc bison flex xz tar sha256sum nice flock; do
	command -v "$t" >/dev/null 2>&1 ||
		die "'$t' not found; run scripts/install-deps.sh test"
done
[ -f /usr/include/libelf.h ] || die "libelf-dev is missing; run scripts/install-deps.sh test"
[ -f /usr/include/openssl/ssl.h ] || die "libssl-dev is missing; run scripts/install-deps.sh test"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)

# The tarball's own hash is remembered by size, mtime and inode, so that an
# unchanged tarball is not read again (it is about 140 MB) on every run.
tarball_sum() {
	local id memo
	id=$(stat -L -c '%s %Y %i' "$tarball")
	memo=$cache/tarball.sha256
	if [ -f "$memo" ] && [ "$(sed -n 1p "$memo")" = "$tarball $id" ]; then
		sed -n 2p "$memo"
		return
	fi
	local sum
	sum=$(sha256sum "$tarball" | cut -d' ' -f1)
	printf '%s %s\n%s\n' "$tarball" "$id" "$sum" >"$memo.tmp.$$"
	mv "$memo.tmp.$$" "$memo"
	echo "$sum"
}

key=$(
	{
		echo "$recipe_version"
		echo "tarball $(tarball_sum)"
		# the fragment's settings only: comments may change freely
		grep -E '^(CONFIG_|# CONFIG_)' "$fragment" | sha256sum
	} | sha256sum | cut -c1-16
)
out=$cache/$key

if [ -f "$out/bzImage" ]; then
	say "cached: $out/bzImage"
	echo "$out/bzImage"
	exit 0
fi

exec 9>"$cache/.lock"
say "waiting for the build lock ($cache/.lock)"
flock 9
if [ -f "$out/bzImage" ]; then # built by a concurrent run meanwhile
	echo "$out/bzImage"
	exit 0
fi

# check_fragment CONFIG: fail unless every fragment line holds in CONFIG
check_fragment() {
	local config=$1 line sym lost=()
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" || lost+=("$line")
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$config" || lost+=("$line")
			;;
		esac
	done <"$fragment"
	if [ ${#lost[@]} -gt 0 ]; then
		say "these lines of $fragment did not survive olddefconfig:"
		for line in "${lost[@]}"; do
			sym=${line#\# }
			sym=${sym%%[= ]*}
			echo "    wanted: $line    got: $(grep -E "^(# )?${sym}[= ]" "$config" || echo "(absent: unknown, or its dependencies unmet)")" >&2
		done
		die "the reference kernel's configuration is not what refkernel.config asks for"
	fi
}

work=$cache/tree.$key
log=$cache/build.$key.log
rm -rf "$work" "$out.tmp"
mkdir -p "$work" "$out.tmp"
cleanup() {
	rm -rf "$out.tmp"
	[ "${IOMMUFDD_REFKERNEL_KEEP_TREE:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s)
say "building the reference kernel $key (log: $log)"
say "extracting $tarball"
tar -xJf "$tarball" -C "$work" --strip-components=1 --no-same-owner ||
	die "cannot extract $tarball"

kmake() {
	nice -n 19 make -C "$work" ARCH=x86_64 "$@" >>"$log" 2>&1 ||
		{
			tail -n 40 "$log" >&2
			die "make $* failed (full log: $log)"
		}
}
: >"$log"
kmake tinyconfig
(cd "$work" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config "$fragment") \
	>>"$log" 2>&1 || die "merge_config.sh failed (log: $log)"
kmake olddefconfig
check_fragment "$work/.config"
say "configuration checked: every line of refkernel.config holds"

say "make -j$jobs bzImage (about 20 minutes on 2 busy cores)"
kmake -j"$jobs" bzImage
[ -f "$work/arch/x86/boot/bzImage" ] || die "make gave no arch/x86/boot/bzImage"

cp "$work/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$work/.config" "$out.tmp/config"
cp "$fragment" "$out.tmp/refkernel.config"
mv "$log" "$out.tmp/build.log"
mv "$out.tmp" "$out"
say "built $out/bzImage in $(($(date +%s) - t0)) s"
# keep only the newest few kernels
find "$cache" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' -printf '%T@ %p\n' |
	sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf
echo "$out/bzImage"
