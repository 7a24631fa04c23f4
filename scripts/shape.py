#!/usr/bin/env python3
"""The shape of ftpkit's drivers: code lines of each, and how many code
lines of the first have a token-for-token twin in the second.

Code lines leave out comments, blank lines and `#[cfg(test)]` items; string
and character literals count as one token each. Before comparing, `async`
and `.await` are erased and an `Async` prefix is dropped from names, so a
blocking function and its async copy compare equal. A line of the first
driver is a twin if it lies in a run of RUN tokens that also occurs,
token for token, in the second.

usage: scripts/shape.py DIR_A DIR_B [--run N]
"""

import os
import re
import sys

RUN = 25

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<raw_string>b?r(?P<hashes>\#*)")
  | (?P<string>b?"(?:\\.|[^"\\])*")
  | (?P<char>b?'(?:\\.|[^'\\])')
  | (?P<lifetime>'[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9][A-Za-z0-9_.]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text):
    """(line, token) pairs of Rust source, comments and whitespace left out."""
    out = []
    pos, line = 0, 1
    while pos < len(text):
        m = TOKEN.match(text, pos)
        kind = m.lastgroup if m.lastgroup != "hashes" else "raw_string"
        end = m.end()
        if m.group("block_comment"):
            depth, end = 1, m.end()
            while depth and end < len(text):
                if text.startswith("/*", end):
                    depth, end = depth + 1, end + 2
                elif text.startswith("*/", end):
                    depth, end = depth - 1, end + 2
                else:
                    end += 1
            kind = "comment"
        elif m.group("raw_string") is not None:
            close = '"' + m.group("hashes")
            end = text.find(close, m.end())
            end = len(text) if end < 0 else end + len(close)
            kind = "string"
        if kind not in ("ws", "line_comment", "comment"):
            value = "STR" if kind in ("string", "char") else text[pos:end]
            out.append((line, value))
        line += text.count("\n", pos, end)
        pos = end
    return out


def without_tests(toks):
    """Drops each item marked `#[cfg(test)]` (up to its `;` or its matching `}`)."""
    out, i = [], 0
    while i < len(toks):
        window = [t for _, t in toks[i : i + 7]]
        if window == ["#", "[", "cfg", "(", "test", ")", "]"]:
            i += 7
            depth = 0
            while i < len(toks):
                t = toks[i][1]
                i += 1
                if t == "{":
                    depth += 1
                elif t == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif t == ";" and depth == 0:
                    break
            continue
        out.append(toks[i])
        i += 1
    return out


def normalised(toks):
    """Erases `async`, `.await` and the `Async` prefix of names."""
    out, i = [], 0
    while i < len(toks):
        line, t = toks[i]
        if t == "async":
            i += 1
            continue
        if t == "." and i + 1 < len(toks) and toks[i + 1][1] == "await":
            i += 2
            continue
        if t.startswith("Async") and len(t) > 5 and t[5].isupper():
            t = t[5:]
        out.append((line, t))
        i += 1
    return out


def driver(directory):
    """{(file, line)}, [(file, line, token)] of every .rs file under `directory`."""
    lines, toks = set(), []
    for root, _, files in sorted(os.walk(directory)):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                file_toks = normalised(without_tests(tokens(f.read())))
            for line, t in file_toks:
                lines.add((path, line))
                toks.append((path, line, t))
    return lines, toks


def main(argv):
    run = RUN
    if "--run" in argv:
        k = argv.index("--run")
        run = int(argv[k + 1])
        del argv[k : k + 2]
    if len(argv) != 3:
        sys.exit(__doc__)
    a_lines, a_toks = driver(argv[1])
    b_lines, b_toks = driver(argv[2])
    b_runs = {
        tuple(t for _, _, t in b_toks[i : i + run]) for i in range(len(b_toks) - run + 1)
    }
    twins = set()
    for i in range(len(a_toks) - run + 1):
        window = a_toks[i : i + run]
        if tuple(t for _, _, t in window) in b_runs:
            twins.update((f, l) for f, l, _ in window)
    share = 100 * len(twins) // max(len(a_lines), 1)
    print(f"{argv[1]}: {len(a_lines)} code lines")
    print(f"{argv[2]}: {len(b_lines)} code lines")
    print(f"both drivers: {len(a_lines) + len(b_lines)} code lines")
    print(f"twins: {len(twins)} of {len(a_lines)} code lines of {argv[1]} ({share}%) "
          f"have a twin in {argv[2]} (runs of {run} tokens)")


if __name__ == "__main__":
    main(sys.argv)
