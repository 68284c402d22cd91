#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check-man.sh PAGE... - check built man pages: each must be non-empty and,
# where the tools exist, render with man(1) and pass groff's checks without
# a single warning.
#
#   man -l      what a reader gets (man-db passes its default warnings on)
#   groff -ww   every groff warning category, output discarded
#
# Exit status: 0 if every page passed, 1 otherwise, 2 on usage errors.

set -euo pipefail

prog=${0##*/}
[ $# -ge 1 ] || {
	echo "usage: $prog PAGE..." >&2
	exit 2
}

have_man=false have_groff=false
command -v man >/dev/null 2>&1 && have_man=true
command -v groff >/dev/null 2>&1 && have_groff=true
$have_man || echo "$prog: man not found, not rendering with it"
$have_groff || echo "$prog: groff not found, not checking with it"

# A fixed width and locale: line breaking, and so warnings, must not depend
# on the terminal running the tests.
export LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat

failures=0
for page in "$@"; do
	if [ ! -s "$page" ]; then
		echo "$prog: FAIL: $page is missing or empty"
		failures=$((failures + 1))
		continue
	fi
	problems=
	if $have_man; then
		if ! out=$(man --warnings -l "$page" 2>&1 >/dev/null) || [ -n "$out" ]; then
			problems+="man -l: ${out:-non-zero exit status}"$'\n'
		fi
	fi
	if $have_groff; then
		if ! out=$(groff -man -t -ww -z "$page" 2>&1) || [ -n "$out" ]; then
			problems+="groff -ww: ${out:-non-zero exit status}"$'\n'
		fi
	fi
	if [ -n "$problems" ]; then
		echo "$prog: FAIL: $page"
		printf '%s' "$problems" | sed 's/^/  /'
		failures=$((failures + 1))
	else
		echo "$prog: ok: $page ($(wc -l <"$page") lines)"
	fi
done
[ "$failures" -eq 0 ]
