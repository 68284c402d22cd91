#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_summarize.py SUMMARIZE_PY - tests/summarize.py on made-up test logs.

The closing line of the test command must count what ran, name a suite
skipped as a whole (with its reason), and under CI=true turn such a skip
into a failure. Each case writes a testlog.json as meson would and checks
what summarize.py prints and its exit status. Output is TAP.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

SUMMARIZE = None


def entry(name, result, stdout="", stderr="", duration=1.0):
    return {"name": "iommufdd:" + name, "result": result, "stdout": stdout,
            "stderr": stderr, "duration": duration}


def run(builds, ci=False):
    """Run summarize.py over builds {label: [entries] or None}."""
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for label, entries in builds.items():
            d = os.path.join(tmp, label)
            os.makedirs(os.path.join(d, "meson-logs"))
            if entries is not None:
                with open(os.path.join(d, "meson-logs", "testlog.json"), "w") as f:
                    for e in entries:
                        f.write(json.dumps(e) + "\n")
            args.append("%s=%s" % (label, d))
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        if ci:
            env["CI"] = "true"
        p = subprocess.run([sys.executable, SUMMARIZE] + args, env=env,
                           capture_output=True, text=True, check=False)
        return p.returncode, p.stdout.splitlines()


HARNESS = """run.sh: starting
ok 1 basic_fail_nth.basic # SKIP fault injection is not enabled in the kernel
ok 2 basic_fail_nth.device # SKIP fault injection is not enabled in the kernel
not ok 3 iommufd.global_options
note: iommufd_fail_nth: 2 of 2 tests SKIP: kernel fault injection never reaches the daemon
expected failures: 1 (see tests/conformance/expected-failures.txt)
5 passed, 0 failed, 2 skipped
"""

CMOCKA = """1..3
ok 1 - test_a
ok 2 - test_b # SKIP no calloc wrap
ok 3 - test_c
"""


class Summary(unittest.TestCase):
    def test_counts_tests_and_cases(self):
        rc, out = run({"b": [entry("unit / x", "OK", CMOCKA),
                             entry("conformance / conformance", "OK", HARNESS),
                             entry("unit / plain", "OK")]})
        self.assertEqual(rc, 0)
        self.assertEqual(out[-1], "3 tests: 3 passed, 0 failed, 0 skipped; their "
                         "cases: 8 passed, 0 failed, 3 skipped, 1 expected failure")

    def test_skipped_cases_are_named_with_reason_and_notes(self):
        _, out = run({"b": [entry("conformance / conformance", "OK", HARNESS)]})
        text = "\n".join(out)
        self.assertIn("2 skipped (fault injection is not enabled in the kernel): "
                      "basic_fail_nth.basic, basic_fail_nth.device", text)
        self.assertIn("note: iommufd_fail_nth: 2 of 2 tests SKIP: kernel fault "
                      "injection never reaches the daemon", text)

    def test_skipped_suite_is_named_in_last_line(self):
        rc, out = run({"b": [entry("unit / x", "OK", CMOCKA),
                             entry("vm / vm", "SKIP",
                                   "run-in-guest: SKIP: qemu-system-x86_64 not found\n")]})
        self.assertEqual(rc, 0)
        self.assertTrue(out[-1].startswith("2 tests: 1 passed, 0 failed, 1 skipped "
                                           "(skipped: b vm / vm: qemu-system-x86_64 "
                                           "not found)"), out[-1])

    def test_tap_plan_skip_reason(self):
        _, out = run({"b": [entry("unit / core", "SKIP",
                                  "1..0 # SKIP frame numbers need root\n")]})
        self.assertIn("(skipped: b unit / core: frame numbers need root)", out[-1])

    def test_ci_turns_a_skip_into_a_failure(self):
        rc, out = run({"b": [entry("vm / vm", "SKIP", "x: SKIP: no qemu\n")]}, ci=True)
        self.assertEqual(rc, 1)
        self.assertTrue(out[-1].startswith("1 test: 0 passed, 1 failed, 0 skipped "
                                           "(failed: b vm / vm (skipped under "
                                           "CI=true: no qemu))"), out[-1])

    def test_failure_is_named(self):
        rc, out = run({"b": [entry("integration / integration", "FAIL",
                                   "3 passed, 1 failed, 0 skipped\n")]})
        self.assertEqual(rc, 1)
        self.assertIn("(failed: b integration / integration)", out[-1])
        self.assertIn("cases: 3 passed, 1 failed, 0 skipped", out[-1])

    def test_cut_off_harness_counts_what_it_got_to(self):
        # a step's summary line, then TAP, then the harness was killed
        out = "1..1\nok 1 - cuse\n1 passed, 0 failed, 0 skipped\nok 1 a\nnot ok 2 b\n"
        rc, lines = run({"b": [entry("vm / vm", "TIMEOUT", out)]})
        self.assertEqual(rc, 1)
        self.assertIn("cases: 2 passed, 1 failed, 0 skipped (so far: no closing "
                      "summary line)", lines[-1])

    def test_missing_log_fails(self):
        rc, out = run({"a": [entry("unit / x", "OK")], "b": None})
        self.assertEqual(rc, 1)
        self.assertIn("(failed: b (no test log))", out[-1])


class Tap(unittest.TextTestResult):
    """unittest results as TAP lines, for meson's TAP protocol."""

    n = 0

    def _tap(self, ok, test, extra=""):
        Tap.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", Tap.n, test.id(), extra))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._tap(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._tap(False, test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "))

    def addError(self, test, err):
        super().addError(test, err)
        self._tap(False, test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "))


def main():
    global SUMMARIZE
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    SUMMARIZE = sys.argv[1]
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Summary)
    print("1..%d" % suite.countTestCases())
    runner = unittest.TextTestRunner(stream=open(os.devnull, "w"), resultclass=Tap)
    return 0 if runner.run(suite).wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
