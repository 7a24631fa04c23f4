#!/usr/bin/env python3
"""Checks that every test SECURITY.md names in its tables exists.

usage: cargo test --workspace --all-features --lib --bins --tests -- --list --format terse 2>&1 \
           | python3 scripts/security_tests.py

Reads the test list on stdin (cargo's `NAME: test` lines and its `Running`
lines, which name each binary) and the test
column of SECURITY.md's tables: each backticked lower-case name there must be
a test (or a module of tests, matched as whole `::` segments), a Python test
in python/tests, or, after "fuzz target(s)", a file in fuzz/fuzz_targets.
Exits 1 and prints the names it cannot find."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = re.compile(r"^[a-z_][a-z0-9_]*(::[a-z0-9_]+)*(::\*)?$")
FUZZ = re.compile(r"fuzz targets? ((?:`[a-z_]+`(?:,| and)? ?)+)")


def rust_tests(lines):
    """Each test as `::path::` and, for an integration test binary
    (tests/NAME.rs), also as `::NAME::path::`: SECURITY.md names the CLI's
    tests by their file."""
    found, binary = [], ""
    for line in lines:
        running = re.match(r"Running tests/([a-z_]+)\.rs ", line)
        if running or line.startswith("Running "):
            binary = running.group(1) + "::" if running else ""
        elif line.endswith(": test"):
            path = line[: -len(": test")]
            found += ["::" + path + "::", "::" + binary + path + "::"]
    return found


def python_tests():
    found = set()
    folder = os.path.join(ROOT, "python", "tests")
    for f in os.listdir(folder):
        if f.endswith(".py"):
            with open(os.path.join(folder, f), encoding="utf-8") as src:
                found.update(re.findall(r"def (test_[a-z0-9_]+)", src.read()))
    return found


def named_tests(text):
    """(name, kind) for each name in the last column of every table row."""
    for line in text.splitlines():
        cells = line.split(" | ")
        if not line.startswith("| ") or len(cells) < 3 or set(cells[-1]) <= set("-| "):
            continue
        cell = cells[-1]
        for group in FUZZ.findall(cell):
            for target in re.findall(r"`([a-z_]+)`", group):
                yield target, "fuzz"
        cell = FUZZ.sub("", cell)
        for token in re.findall(r"`([^`]+)`", cell):
            if NAME.match(token):
                yield token, "python" if token.startswith("test_") else "rust"


def main():
    tests = rust_tests([l.strip() for l in sys.stdin])
    if len(tests) < 200:
        sys.exit(f"only {len(tests)} tests on stdin: pipe cargo's `-- --list --format terse` output in")
    py = python_tests()
    fuzz = {f[:-3] for f in os.listdir(os.path.join(ROOT, "fuzz", "fuzz_targets")) if f.endswith(".rs")}
    with open(os.path.join(ROOT, "SECURITY.md"), encoding="utf-8") as f:
        names = list(named_tests(f.read()))
    missing = []
    for name, kind in names:
        if kind == "fuzz":
            ok = name in fuzz
        elif kind == "python":
            ok = name in py
        else:
            segment = "::" + name.removesuffix("::*") + "::"
            ok = any(segment in t for t in tests)
        if not ok:
            missing.append(f"{kind} {name}")
    print(f"SECURITY.md names {len(names)} tests; {len(names) - len(missing)} found")
    if missing:
        print("not found:\n  " + "\n  ".join(missing))
        sys.exit(1)


if __name__ == "__main__":
    main()
