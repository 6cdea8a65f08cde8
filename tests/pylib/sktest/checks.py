# SPDX-License-Identifier: BSD-3-Clause
"""Reporting for the Python tests: every check prints one line saying what it
verified ("ok   ...") or what went wrong ("FAIL ..."), like tests/sk_test.h.

- check(): a check the test cannot go on without; a failure raises Failure.
- Check: a tally of checks that do not stop the test; done() gives the exit code.
- Exit 77 (SKIP) tells meson the test was skipped.
"""

import shutil
import sys
import tempfile

SKIP = 77
print_ok = True  # False: only failures are printed


class Failure(Exception):
    pass


def report(cond, what, detail=None):
    """Print the line of one check; returns cond as a bool."""
    if cond and not print_ok:
        return True
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond and detail:
        print("     " + str(detail).replace("\n", "\n     "), flush=True)
    return bool(cond)


def check(cond, what, detail=None):
    if not report(cond, what, detail):
        raise Failure(what)


def fail(what, detail=None):
    check(False, what, detail)


class Check:
    """Checks that print what they verified; failures do not stop the script."""

    def __init__(self, name):
        self.name = name
        self.checks = 0
        self.failures = 0
        self.keep_dirs = []

    def ok(self, cond, msg, detail=None):
        self.checks += 1
        if not cond:
            self.failures += 1
        return report(cond, msg + (f" -- {detail}" if detail is not None and not cond else ""))

    def eq(self, actual, expected, msg):
        return self.ok(actual == expected, f"{msg} (= {expected!r})",
                       f"got {actual!r}, expected {expected!r}")

    def note(self, msg):
        print(f"# {msg}", flush=True)

    def done(self):
        print(f"{self.name}: {self.checks} check(s), {self.failures} failed", flush=True)
        for d in self.keep_dirs:
            print(f"# files kept for inspection in {d}", flush=True)
        sys.exit(0 if self.failures == 0 and self.checks > 0 else 1)

    def skip(self, why):
        print(f"SKIP {self.name}: {why}", flush=True)
        sys.exit(SKIP)


class Workdir:
    """A temporary directory, removed at the end unless a check failed."""

    def __init__(self, check, tag):
        self.check = check
        self.path = tempfile.mkdtemp(prefix=f"sktest-{tag}-")

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if self.check.failures or exc[0] is not None:
            self.check.keep_dirs.append(self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False
