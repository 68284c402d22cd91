#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that three lists of libiommufd's API agree.

- the globals of the version script (libiommufd.sym),
- the functions the public header declares (include/libiommufd.h),
- what the built shared library really exports (nm -D --defined-only).

A function added to the header but not the map is silently hidden; one in
the map but never defined is a link error only for the first user; one
exported without a header declaration is ABI nobody meant to promise. Any
difference fails the test and names the symbols.
"""

import argparse
import fnmatch
import re
import subprocess
import sys


def strip_c_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def map_globals(path):
    """Names (or glob patterns) listed under global: in any version node."""
    text = strip_c_comments(open(path).read())
    names = set()
    for node in re.finditer(r"\{(.*?)\}", text, flags=re.S):
        body = node.group(1)
        m = re.search(r"global:(.*?)(?:local:|$)", body, flags=re.S)
        if not m:
            continue
        names.update(n.strip() for n in m.group(1).split(";") if n.strip())
    return names


def header_functions(path):
    """Functions declared at file scope of a C header."""
    text = strip_c_comments(open(path).read())
    # Drop preprocessor lines, continuations included.
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    # extern "C" { ... } wraps the whole header in C++; it is not a scope.
    text = re.sub(r'extern\s+"C"\s*\{', " ", text)

    statements, depth, cur = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            # The extern "C" closing brace has no opening one left.
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            statements.append("".join(cur))
            cur = []
            continue
        elif depth == 0:
            cur.append(ch)
    names = set()
    for stmt in statements:
        stmt = " ".join(stmt.split())
        if not stmt or stmt.startswith("typedef"):
            continue
        # The first identifier followed by "(" is the declared function;
        # a function pointer variable would read "(*name", not "name(".
        m = re.search(r"\b([A-Za-z_]\w*)\s*\(", stmt)
        if m:
            names.add(m.group(1))
    return names


def exported(lib, nm):
    out = subprocess.run([nm, "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, name = fields[-2], fields[-1]
        # Version node names show up as absolute symbols.
        if kind == "A":
            continue
        names.add(name.split("@")[0])
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--header", required=True)
    ap.add_argument("--nm", default="nm")
    args = ap.parse_args()

    patterns = map_globals(args.map)
    declared = header_functions(args.header)
    exports = exported(args.lib, args.nm)

    def in_map(name):
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    literal = {p for p in patterns if not any(c in p for c in "*?[")}
    problems = [
        ("exported but not in the map", exports - {n for n in exports
                                                    if in_map(n)}),
        ("in the map but not exported", literal - exports),
        ("declared in the header but not exported", declared - exports),
        ("exported but not declared in the header", exports - declared),
    ]
    failed = False
    for what, names in problems:
        for name in sorted(names):
            print(f"{name}: {what}", file=sys.stderr)
            failed = True
    if not declared:
        print("no functions found in the header", file=sys.stderr)
        failed = True
    if failed:
        return 1
    print(f"{len(exports)} symbols: map, header and exports agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
