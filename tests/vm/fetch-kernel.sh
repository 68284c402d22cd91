#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fetch-kernel.sh CACHE_DIR - get a Debian 6.12 kernel for the QEMU guests.
#
# Finds the current linux-image-6.12.*-amd64-unsigned package with apt-cache
# (the ABI version is never hard-coded: the one the linux-image-6.12-amd64
# meta-package depends on, else the highest version apt-cache knows), fetches
# it with "apt-get download" (never installed: that would run the host's
# initramfs and grub hooks) and extracts into CACHE_DIR/ABI/:
#
#   vmlinuz        the kernel
#   config         its configuration
#   modules/*.ko   the modules the guest loads, decompressed, with every
#                  module they depend on (from modules.dep, generated with
#                  depmod on the unpacked tree); built-in ones are left out
#   modules.load   their names, one per line, in load (dependency) order
#   modules.wanted the requested module names this cache entry was made for
#
# CACHE_DIR/current is a symlink to the newest entry. The package itself is
# not kept. A second run with the same package and module list only asks
# apt-cache and returns. The directory of the entry is the last line on
# stdout; progress goes to stderr.
#
# Environment:
#   VM_KERNEL_MODULES        modules to provide (default: cuse fuse 9p 9pnet
#                            9pnet_virtio netfs overlay vfio vfio_iommu_type1
#                            vfio_pci); "fuse" is built into Debian's kernel
#                            and is then skipped
#   VM_KERNEL_EXTRA_MODULES  added to that list (e.g. "loop")
#   VM_KERNEL_PACKAGE        use this package name instead of looking it up
#
# If apt-cache knows no such package (no "apt-get update" yet), the script
# runs "apt-get update" once when root; if that does not help either and a
# kernel is already cached, that one is used (with a warning).
#
# Exit status: 0 on success, 1 on errors, 2 on usage errors.

set -euo pipefail

prog=${0##*/}
say() { echo "$prog: $*" >&2; }
die() {
	echo "$prog: error: $*" >&2
	exit 1
}

case "${1:-}" in
-h | --help | '')
	sed -n '4,38p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
[ $# -eq 1 ] || {
	echo "usage: $prog CACHE_DIR" >&2
	exit 2
}

for t in apt-cache apt-get dpkg-deb tar xz depmod flock sort; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done

mkdir -p "$1"
cache=$(cd "$1" && pwd -P)

# (vfio: for guests booted with an emulated IOMMU, run-in-guest.sh --vtd-edu;
# always in the list, so that every guest shares one cache entry)
wanted=${VM_KERNEL_MODULES:-cuse fuse 9p 9pnet 9pnet_virtio netfs overlay vfio vfio_iommu_type1 vfio_pci}
wanted="$wanted ${VM_KERNEL_EXTRA_MODULES:-}"
# normalised ("-" and "_" are the same in module names), sorted, one line
# shellcheck disable=SC2086 # split on purpose
wanted=$(printf '%s\n' $wanted | tr - _ | sort -u | tr '\n' ' ')
wanted=${wanted% }
[ -n "$wanted" ] || die "no modules requested"

# --- which package ------------------------------------------------------------
# find_package: print the package name of the current 6.12 amd64 kernel, or
# nothing.
find_package() {
	local abi pkg
	# The meta-package follows Debian's current 6.12 ABI.
	abi=$(apt-cache depends linux-image-6.12-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.12\.[^ ]*\)-amd64$/\1/p' |
		sort -V | tail -n 1) || abi=
	if [ -n "$abi" ]; then
		pkg=linux-image-$abi-amd64-unsigned
		# already cached: no need to ask apt-cache again
		if [ -f "$cache/$abi-amd64/.complete" ] || apt-cache show "$pkg" >/dev/null 2>&1; then
			echo "$pkg"
			return 0
		fi
	fi
	# No meta-package: the highest 6.12 ABI apt-cache knows.
	apt-cache search --names-only '^linux-image-6\.12\.[^ ]*-amd64-unsigned$' 2>/dev/null |
		awk '{ print $1 }' |
		grep -E '^linux-image-6\.12\.[^-]+-amd64-unsigned$' |
		sort -V | tail -n 1 || true
}

pkg=${VM_KERNEL_PACKAGE:-}
if [ -z "$pkg" ]; then
	pkg=$(find_package)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		say "no linux-image-6.12.*-amd64-unsigned known to apt-cache; running apt-get update"
		apt-get update -qq >&2 || say "warning: apt-get update failed"
		pkg=$(find_package)
	fi
fi

if [ -z "$pkg" ]; then
	if [ -f "$cache/current/.complete" ]; then
		say "warning: apt-cache knows no linux-image-6.12.*-amd64-unsigned;" \
			"using the cached $(readlink "$cache/current")"
		echo "$cache/$(readlink "$cache/current")"
		exit 0
	fi
	die "apt-cache knows no linux-image-6.12.*-amd64-unsigned package" \
		"(run apt-get update; it comes from bookworm-security)"
fi
case "$pkg" in
linux-image-*-unsigned) ;;
*) die "unexpected package name '$pkg'" ;;
esac
abi=${pkg#linux-image-}
abi=${abi%-unsigned} # e.g. 6.12.117+deb12-amd64: the modules directory name
entry=$cache/$abi

# complete_entry: true if the cache entry exists for these modules
complete_entry() {
	[ -f "$entry/.complete" ] && [ -f "$entry/vmlinuz" ] &&
		[ "$(cat "$entry/modules.wanted" 2>/dev/null)" = "$wanted" ]
}

# set_current: point CACHE_DIR/current at the entry and print its path
set_current() {
	if [ "$(readlink "$cache/current" 2>/dev/null)" != "$abi" ]; then
		ln -sfn "$abi" "$cache/current.new"
		mv -T "$cache/current.new" "$cache/current"
	fi
	echo "$entry"
}

if complete_entry; then
	set_current
	exit 0
fi

# --- download and extract (one at a time per cache) ----------------------------
exec 9>"$cache/.lock"
flock 9
if complete_entry; then # another run did it while we waited
	set_current
	exit 0
fi

tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/dl"
# As root, apt would fetch as user _apt, who cannot reach a cache below a
# private home directory (and warns): download as ourselves.
apt_opts=(-q)
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

say "downloading $pkg"
(cd "$tmp/dl" && apt-get download "${apt_opts[@]}" "$pkg" >&2) ||
	die "apt-get download $pkg failed (run apt-get update?)"
deb=$(find "$tmp/dl" -maxdepth 1 -name '*.deb' | head -n 1)
[ -n "$deb" ] || die "apt-get download left no .deb"

say "extracting $(basename "$deb")"
mkdir "$tmp/x"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" \
	--wildcards --wildcards-match-slash \
	'./boot/vmlinuz-*' './boot/config-*' '*/lib/modules/*' ||
	die "cannot extract $deb"
rm -f "$deb"

vmlinuz=$tmp/x/boot/vmlinuz-$abi
[ -f "$vmlinuz" ] || die "$pkg holds no boot/vmlinuz-$abi"
# Debian 12 ships them in /lib/modules, later releases in /usr/lib/modules.
moddir=
for d in "$tmp/x/lib/modules/$abi" "$tmp/x/usr/lib/modules/$abi"; do
	[ -d "$d" ] && moddir=$d
done
[ -n "$moddir" ] || die "$pkg holds no modules directory for $abi"
base=${moddir%/lib/modules/"$abi"}

# The package carries no modules.dep (made on installation): make it.
say "running depmod on the unpacked modules"
depmod -b "$base" "$abi" || die "depmod failed"
[ -s "$moddir/modules.dep" ] || die "depmod wrote no modules.dep"

# name -> path relative to $moddir, for every module in modules.dep
declare -A path_of deps_of
while IFS= read -r line; do
	p=${line%%:*}
	n=${p##*/}
	n=${n%%.ko*}
	n=${n//-/_}
	path_of[$n]=$p
	deps_of[$p]=${line#*:}
done <"$moddir/modules.dep"
declare -A builtin
while IFS= read -r p; do
	n=${p##*/}
	n=${n%.ko}
	builtin[${n//-/_}]=1
done <"$moddir/modules.builtin"

# Load order: each module after everything it depends on.
order=()
declare -A visited
visit() { # visit PATH
	local p=$1 d
	[ -z "${visited[$p]+x}" ] || return 0
	visited[$p]=1
	for d in ${deps_of[$p]}; do
		[ -n "${deps_of[$d]+x}" ] || die "modules.dep: $p depends on unknown $d"
		visit "$d"
	done
	order+=("$p")
}
for n in $wanted; do
	if [ -n "${path_of[$n]+x}" ]; then
		visit "${path_of[$n]}"
	elif [ -n "${builtin[$n]+x}" ]; then
		say "$n is built into the kernel"
	else
		die "module '$n' is neither in modules.dep nor built in"
	fi
done

mkdir "$tmp/entry" "$tmp/entry/modules"
cp "$vmlinuz" "$tmp/entry/vmlinuz"
cp "$tmp/x/boot/config-$abi" "$tmp/entry/config"
: >"$tmp/entry/modules.load"
for p in "${order[@]}"; do
	n=${p##*/}
	n=${n%%.ko*}
	case "$p" in
	*.ko.xz) xz -dc "$moddir/$p" >"$tmp/entry/modules/$n.ko" ;;
	*.ko.zst) zstd -qdc "$moddir/$p" >"$tmp/entry/modules/$n.ko" ;;
	*.ko.gz) gzip -dc "$moddir/$p" >"$tmp/entry/modules/$n.ko" ;;
	*.ko) cp "$moddir/$p" "$tmp/entry/modules/$n.ko" ;;
	*) die "unknown module file type: $p" ;;
	esac || die "cannot unpack $p"
	echo "$n" >>"$tmp/entry/modules.load"
done
echo "$wanted" >"$tmp/entry/modules.wanted"
echo "$pkg" >"$tmp/entry/package"
touch "$tmp/entry/.complete"

rm -rf "$entry"
mv "$tmp/entry" "$entry"
say "cached $pkg in $entry (modules: $(tr '\n' ' ' <"$entry/modules.load"))"
set_current
