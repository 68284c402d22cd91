#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""summarize.py LABEL=BUILD_DIR... - the closing summary of tests/run-all.sh.

Reads each BUILD_DIR/meson-logs/testlog.json (what "meson test" last ran
there) and prints, per build, one line per test: its result, its duration
and what ran inside it -- the test's own "N passed, N failed, N skipped"
line (plus "expected failures: N") when that is its last line, else its
TAP results (marked "so far" when a harness was cut off before its
summary), else the test itself as one case. Cases reported as skipped are
named with their reason, and a harness's "note: ..." lines are repeated.

The last line counts what ran:

  T tests: P passed, F failed, S skipped[ (skipped: ...)][ (failed: ...)];
  their cases: P passed, F failed, S skipped[, X expected failures]

A test skipped as a whole is named there with its reason. With CI=true (CI
expects every suite to run), such a test counts as failed instead.

Exit status: 0 if no test failed, 1 otherwise, 2 on usage errors.
"""

import json
import os
import re
import sys

SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
XFAIL_RE = re.compile(r"^expected failures: (\d+)\b")
TAP_RE = re.compile(r"^(not ok|ok)\s+\d+\s*(?:- )?(.*)$")
TAP_SKIP_RE = re.compile(r"\s#\s*SKIP\b\s*(.*)$", re.IGNORECASE)
PLAN_SKIP_RE = re.compile(r"^1\.\.0\s*#\s*SKIP\b\s*(.*)$", re.IGNORECASE)
SKIP_LINE_RE = re.compile(r"\bSKIP: (.*)$")
NOTE_RE = re.compile(r"^note: (.*)$")

PASSED = {"OK", "EXPECTEDFAIL"}


def ci_mode():
    return os.environ.get("CI", "") == "true"


def load(build_dir):
    """The entries of build_dir's testlog.json, or None if there is none."""
    path = os.path.join(build_dir, "meson-logs", "testlog.json")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return None


def short_name(name):
    """'iommufdd:unit / uapi' -> 'unit / uapi'"""
    return name.split(":", 1)[1] if ":" in name.split(" / ")[0] else name


def skip_reason(entry):
    """Why a test was skipped as a whole, from its own output."""
    text = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
    for line in text.splitlines():
        m = PLAN_SKIP_RE.match(line.strip()) or SKIP_LINE_RE.search(line)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return "no reason given"


def tap_skips(lines):
    """(name, reason) of every TAP result marked SKIP."""
    out = []
    for line in lines:
        m = TAP_RE.match(line.strip())
        if not m or m.group(1) != "ok":
            continue
        s = TAP_SKIP_RE.search(m.group(2))
        if s:
            out.append((m.group(2)[: s.start()].strip(), s.group(1).strip()))
    return out


def cases(entry):
    """Counts of what ran inside a test: dict passed/failed/skipped/xfail,
    and "partial" when a harness ended without its closing summary line
    (killed, timed out) and the counts come from the TAP lines it got to."""
    lines = (entry.get("stdout") or "").splitlines()
    n = {"passed": 0, "failed": 0, "skipped": 0, "xfail": 0, "partial": False}
    nonempty = [line.strip() for line in lines if line.strip()]
    summary = SUMMARY_RE.match(nonempty[-1]) if nonempty else None
    if summary:
        for line in nonempty:
            m = XFAIL_RE.match(line)
            if m:
                n["xfail"] = int(m.group(1))
        n["passed"], n["failed"], n["skipped"] = map(int, summary.groups())
        return n
    n["partial"] = any(SUMMARY_RE.match(line) for line in nonempty)
    tap = [TAP_RE.match(line.strip()) for line in lines]
    tap = [m for m in tap if m]
    if tap:
        for m in tap:
            if m.group(1) == "not ok":
                n["failed"] += 1
            elif TAP_SKIP_RE.search(m.group(2)):
                n["skipped"] += 1
            else:
                n["passed"] += 1
        return n
    result = entry.get("result")
    key = "passed" if result in PASSED else "skipped" if result == "SKIP" else "failed"
    n[key] = 1
    return n


def fmt_cases(n):
    s = "%d passed, %d failed, %d skipped" % (n["passed"], n["failed"], n["skipped"])
    if n["xfail"]:
        s += ", %d expected failure%s" % (n["xfail"], "" if n["xfail"] == 1 else "s")
    if n.get("partial"):
        s += " (so far: no closing summary line)"
    return s


def group_skips(skips):
    """'reason: a, b, c' lines, one per reason, in order of appearance."""
    by_reason = {}
    for name, reason in skips:
        by_reason.setdefault(reason or "no reason given", []).append(name)
    return ["%d skipped (%s): %s" % (len(names), reason, ", ".join(names))
            for reason, names in by_reason.items()]


def summarize(builds, out):
    """Print the summary of builds [(label, dir)]; return the exit status."""
    ci = ci_mode()
    tests = {"passed": 0, "failed": 0, "skipped": 0}
    total = {"passed": 0, "failed": 0, "skipped": 0, "xfail": 0, "partial": False}
    skipped_names, failed_names = [], []
    for label, build_dir in builds:
        entries = load(build_dir)
        if entries is None:
            print("%s: no test log (meson test did not run there)" % label, file=out)
            tests["failed"] += 1
            failed_names.append("%s (no test log)" % label)
            continue
        secs = sum(e.get("duration") or 0 for e in entries)
        print("%s: %d test%s, %.1f s" % (label, len(entries),
                                          "" if len(entries) == 1 else "s", secs),
              file=out)
        for e in entries:
            name, result = short_name(e["name"]), e.get("result", "ERROR")
            where = "%s %s" % (label, name)
            if result == "SKIP":
                why = skip_reason(e)
                if ci:
                    tests["failed"] += 1
                    failed_names.append("%s (skipped under CI=true: %s)" % (where, why))
                    print("  FAIL  %-28s skipped, but CI=true expects it to run: %s"
                          % (name, why), file=out)
                else:
                    tests["skipped"] += 1
                    skipped_names.append("%s: %s" % (where, why))
                    print("  SKIP  %-28s %s" % (name, why), file=out)
                continue
            n = cases(e)
            for k in ("passed", "failed", "skipped", "xfail"):
                total[k] += n[k]
            total["partial"] = total["partial"] or n["partial"]
            if result in PASSED:
                tests["passed"] += 1
                word = "ok"
            else:
                tests["failed"] += 1
                failed_names.append(where)
                word = result
            print("  %-5s %-28s %6.1f s  %s" % (word, name, e.get("duration") or 0,
                                               fmt_cases(n)), file=out)
            lines = (e.get("stdout") or "").splitlines()
            for g in group_skips(tap_skips(lines)):
                print("          %s" % g, file=out)
            notes = []
            for line in lines:
                m = NOTE_RE.match(line.strip())
                if m and m.group(1) not in notes:
                    notes.append(m.group(1))
            for note in notes:
                print("          note: %s" % note, file=out)
    ntests = sum(tests.values())
    last = "%d test%s: %d passed, %d failed, %d skipped" % (
        ntests, "" if ntests == 1 else "s", tests["passed"], tests["failed"],
        tests["skipped"])
    if skipped_names:
        last += " (skipped: %s)" % "; ".join(skipped_names)
    if failed_names:
        last += " (failed: %s)" % "; ".join(failed_names)
    last += "; their cases: " + fmt_cases(total)
    print(last, file=out)
    return 1 if tests["failed"] else 0


def main(argv):
    builds = []
    for arg in argv[1:]:
        label, sep, build_dir = arg.partition("=")
        if not sep or not label or not build_dir:
            print(__doc__.splitlines()[0], file=sys.stderr)
            return 2
        builds.append((label, build_dir))
    if not builds:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    return summarize(builds, sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
