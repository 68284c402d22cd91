#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test-compare-traces.sh - compare-traces.sh on made-up traces: equal steps
# pass, a different errno or output fails, a listed step or script passes
# with its reason, a step skipped on both for the same reason passes, and a
# table entry that is stale (no such step, wrong command, or the step turned
# out the same) fails. Prints TAP.

set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)
cmp=$here/compare-traces.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
# check NAME WANT_STATUS KERNEL_TRACE DAEMON_TRACE TABLE
check() {
	local name=$1 want=$2 st=0
	printf '%b' "$3" >"$tmp/k"
	printf '%b' "$4" >"$tmp/d"
	printf '%b' "$5" >"$tmp/t"
	"$cmp" "$tmp/k" "$tmp/d" "$tmp/t" >"$tmp/out" 2>&1 || st=$?
	n=$((n + 1))
	if [ "$st" -eq "$want" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit status $st, wanted $want)"
		sed 's/^/#   /' "$tmp/out"
		failed=$((failed + 1))
	fi
}

a='a.json\t1\tIOAS_ALLOC\tok ret=0 arg[12] @0=0xc @8=0x1\n'
b='a.json\t2\tDESTROY\tENOENT ret=-1 arg[8] @0=0x8\n'
b2='a.json\t2\tDESTROY\tEINVAL ret=-1 arg[8] @0=0x8\n'
c='a.json\t3\tIOAS_MAP\tok ret=0 arg[40] @16=region:buf+0x0\n'
c2='a.json\t3\tIOAS_MAP\tok ret=0 arg[40] @16=region:buf+0x1000\n'
skip='a.json\t2\tDESTROY\tskipped requires=mock\n'
whole='x.json\t0\tscript\tskipped requires=dev_dma\n'
x1='x.json\t1\tIOAS_ALLOC\tok ret=0 arg[12] @0=0xc @8=0x1\n'

check "the same steps pass" 0 "$a$b$c" "$a$b$c" ''
check "a different errno fails" 1 "$a$b$c" "$a$b2$c" ''
check "a different output word fails" 1 "$a$b$c" "$a$b$c2" ''
check "a step one side did not run fails" 1 "$a$b" "$a$b$c" ''
check "a listed step passes" 0 "$a$b$c" "$a$b2$c" 'a.json 2 DESTROY because\n'
check "a listed whole script passes" 0 "$a$whole" "$a$x1" 'x.json * - daemon only\n'
check "skipped on both for the same reason passes" 0 "$a$skip" "$a$skip" ''
check "a stale entry (no such step) fails" 1 "$a" "$a" 'a.json 9 DESTROY gone\n'
check "an entry naming the wrong command fails" 1 "$a$b" "$a$b2" 'a.json 2 IOAS_MAP wrong\n'
check "an entry for a step that is the same fails" 1 "$a$b" "$a$b" 'a.json 2 DESTROY same\n'
check "an entry without a reason fails" 1 "$a$b" "$a$b2" 'a.json 2 DESTROY\n'
check "a malformed trace line fails" 1 "$a" 'a.json 1 IOAS_ALLOC\n' ''

echo "1..$n"
echo "$((n - failed)) passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
