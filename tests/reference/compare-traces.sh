#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# compare-traces.sh - compare two runs of the ioctl scripts, step by step.
#
# usage: compare-traces.sh KERNEL_TRACE DAEMON_TRACE SKIP_TABLE
#
# The traces are what iommufd-script-run writes to $IOMMUFD_SCRIPT_TRACE
# (iommufd-script(5), TRACE): one line per step, "SCRIPT<TAB>STEP<TAB>WHAT
# <TAB>OUTCOME", where OUTCOME holds the errno, the return value and every
# word of the argument after the call (addresses in the script's regions
# written as region:NAME+OFFSET, so the two runs compare), or a hash of the
# bytes a "check" step read. Line 0 of a script is the script as a whole
# (skipped, malformed, device not opened).
#
# Each step of either trace is
#   - the same: both ran it and their OUTCOMEs are equal;
#   - skipped on both for the same missing requirement (neither device has
#     it: nothing to compare);
#   - listed: SKIP_TABLE names it (or its whole script) with the reason it
#     cannot be compared;
#   - a divergence: anything else, printed with both outcomes.
# A table entry that matches no step, names the wrong command, or covers a
# step that turned out the same is stale, and reported as an error too.
#
# SKIP_TABLE lines: "SCRIPT STEP COMMAND REASON...", STEP "*" and COMMAND
# "-" for a whole script; '#' comments and blank lines are ignored.
#
# Output: one line per divergence, listed step and error, then a summary;
# the last line is "N passed, N failed, N skipped" (steps the same, steps
# diverging plus table errors, steps not compared). Exit status 0 when
# there is no divergence and no table error, 1 otherwise, 2 on usage errors.

set -euo pipefail

if [ $# -ne 3 ]; then
	sed -n '5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
for f in "$@"; do
	[ -r "$f" ] || {
		echo "compare-traces: error: cannot read $f" >&2
		exit 2
	}
done

awk -F'\t' -v table="$3" '
function note_key(k) {
	if (!(k in seen)) {
		seen[k] = 1
		order[++nkeys] = k
	}
}
function load(file, side,    line, f, k) {
	while ((getline line < file) > 0) {
		if (split(line, f, "\t") != 4) {
			printf "ERROR: %s: malformed trace line: %s\n", file, line
			errors++
			continue
		}
		k = f[1] SUBSEP f[2]
		note_key(k)
		what[k] = f[3]
		out[side, k] = f[4]
		has[side, k] = 1
	}
	close(file)
}
BEGIN {
	# the table: SCRIPT STEP COMMAND REASON...
	while ((getline line < table) > 0) {
		tl++
		sub(/^[ \t]+/, "", line)
		if (line == "" || line ~ /^#/)
			continue
		n = split(line, w, /[ \t]+/)
		if (n < 4) {
			printf "ERROR: %s:%d: want SCRIPT STEP COMMAND REASON\n", table, tl
			errors++
			continue
		}
		reason = line
		for (i = 1; i <= 3; i++)
			sub(/^[^ \t]+[ \t]+/, "", reason)
		tk = w[1] SUBSEP w[2]
		if (tk in tcmd) {
			printf "ERROR: %s:%d: %s step %s is listed twice\n", table, tl, w[1], w[2]
			errors++
		}
		tcmd[tk] = w[3]
		treason[tk] = reason
		tline[tk] = tl
		tused[tk] = 0
	}
	close(table)
	load(ARGV[1], "k")
	load(ARGV[2], "d")

	for (i = 1; i <= nkeys; i++) {
		k = order[i]
		split(k, p, SUBSEP)
		kk = has["k", k] ? out["k", k] : "(not run: an earlier step stopped the script)"
		dd = has["d", k] ? out["d", k] : "(not run: an earlier step stopped the script)"
		same = has["k", k] && has["d", k] && kk == dd
		both_skipped = same && kk ~ /^skipped/
		tk = p[1] SUBSEP p[2]
		wk = p[1] SUBSEP "*"
		if (tk in tcmd) {
			tused[tk]++
			if (tcmd[tk] != what[k]) {
				printf "ERROR: %s:%d: %s step %s is %s, not %s (stale entry?)\n", table, tline[tk], p[1], p[2], what[k], tcmd[tk]
				errors++
			} else if (same) {
				printf "ERROR: %s:%d: %s step %s %s is listed but gave the same on both: %s (remove the entry)\n", table, tline[tk], p[1], p[2], what[k], kk
				errors++
			} else {
				listed++
				printf "listed: %s step %s %s: %s\n", p[1], p[2], what[k], treason[tk]
			}
			continue
		}
		if (wk in tcmd && !same) {
			tused[wk]++
			listed++
			if (!(wk in wprinted))
				printf "listed: %s (whole script): %s\n", p[1], treason[wk]
			wprinted[wk] = 1
			continue
		}
		if (wk in tcmd)
			tused[wk]++
		if (both_skipped) {
			bothskip++
			printf "skipped on both: %s step %s %s: %s\n", p[1], p[2], what[k], kk
			continue
		}
		if (same) {
			equal++
			continue
		}
		diverged++
		printf "DIVERGENCE: %s step %s %s\n", p[1], p[2], what[k]
		printf "    kernel: %s\n", kk
		printf "    daemon: %s\n", dd
	}
	for (tk in tcmd) {
		if (tused[tk])
			continue
		split(tk, p, SUBSEP)
		printf "ERROR: %s:%d: %s step %s matches no step of the traces (stale entry)\n", table, tline[tk], p[1], p[2]
		errors++
	}
	printf "compare-traces: %d steps gave the same errno and outputs on both, %d diverged, %d listed as not comparable, %d skipped on both, %d table or trace errors\n", equal, diverged, listed, bothskip, errors
	printf "%d passed, %d failed, %d skipped\n", equal, diverged + errors, listed + bothskip
	exit (diverged + errors) ? 1 : 0
}' "$1" "$2"
