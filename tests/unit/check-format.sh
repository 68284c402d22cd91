#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check-format.sh - the tree is clean under its own .clang-format.
#
# usage: check-format.sh SOURCE_ROOT [CLANG_FORMAT]
#
# Every C source and header the project owns (*.c, *.h, and the one C++
# test, *.cpp) must come out of CLANG_FORMAT (default: clang-format-14, else
# clang-format) unchanged. Nothing is excluded: the kernel's selftests are
# never in the tree (tests/conformance/build-selftests.sh extracts them
# into the build directory), and include/iommufd/ holds our own headers.
# The files are those git knows (tracked, or new and not ignored); without
# git, every such file below SOURCE_ROOT outside meson build directories.
#
# The style file is written for clang-format 14, Debian 12's: another major
# version formats some constructs differently, so it is not used.
#
# Output: one line per file that differs, with the diff clang-format would
# apply. Exit status: 0 if every file is clean, 1 otherwise, 77 (skip)
# without clang-format 14 (1 instead with CI=true, where every test is
# expected to run), 2 on usage errors.

set -euo pipefail

prog=${0##*/}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	sed -n '6p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
root=$(cd "$1" && pwd -P)

cannot_run() {
	if [ "${CI:-}" = true ]; then
		echo "$prog: FAIL: cannot run: $* (CI=true: a test that cannot run fails)"
		exit 1
	fi
	echo "$prog: SKIP: $*"
	exit 77
}

cf=${2:-}
if [ -z "$cf" ]; then
	cf=$(command -v clang-format-14 || command -v clang-format || true)
fi
[ -n "$cf" ] && [ -x "$cf" ] ||
	cannot_run "clang-format not found (scripts/install-deps.sh test installs clang-format)"
version=$("$cf" --version)
[[ $version =~ version\ ([0-9]+)\. ]] || cannot_run "cannot tell the version of $cf: $version"
[ "${BASH_REMATCH[1]}" = 14 ] ||
	cannot_run "the tree's style is for clang-format 14; $cf is $version"

cd "$root"
files=()
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files --cached --others --exclude-standard \
		-- '*.c' '*.h' '*.cpp' | sort -u)
else
	# a build directory (it has meson-private/) holds generated files
	mapfile -t files < <(find . \( -name .git -o -exec test -d '{}/meson-private' \; \) \
		-prune -o -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) \
		-print | sed 's|^\./||' | sort)
fi
[ ${#files[@]} -gt 0 ] || {
	echo "$prog: no C sources found below $root"
	exit 1
}

present=()
for f in "${files[@]}"; do
	[ -f "$f" ] && present+=("$f") # (deleted but not yet committed)
done
# One call when all is well; a diff per file only when it is not.
if "$cf" --style=file --dry-run --Werror "${present[@]}" 2>/dev/null; then
	echo "$prog: ok: ${#present[@]} files formatted as .clang-format says ($version)"
	exit 0
fi
bad=0
for f in "${present[@]}"; do
	if ! out=$("$cf" --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" -); then
		echo "$prog: $f is not formatted (clang-format -i $f):"
		printf '%s\n' "$out" | sed -n '1,40p'
		bad=$((bad + 1))
	fi
done
echo "$prog: $bad of ${#present[@]} files are not formatted ($version)"
exit 1
