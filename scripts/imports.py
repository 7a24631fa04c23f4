#!/usr/bin/env python3
"""Import circles among the library's files.

Reads every `.rs` file under a crate's `src/` and draws an arrow from a file
to the file that defines each name it takes through `use` or an inline
`crate::`/`super::`/`self::` path. A name re-exported by a module (`pub use
child::Name`) is followed to the file that defines it. Comments, strings and
`#[cfg(test)]` items are left out, and so are files named `tests.rs`. A
`super::` or `self::` path inside a `macro_rules!` body is relative to where
the macro is expanded, which this reading cannot know: it is left out (the
expanding file's own arrows are drawn from its own text).

Prints every circle (a strongly connected set of two or more files) with
the names that tie it, and exits 1 if there is one.

A circle wholly inside a folder given with `--allow DIR` is printed but
does not fail the check: the drivers' folders, whose files are being
folded into the core, until they are free of circles too.

usage: scripts/imports.py [SRC_DIR] [--allow DIR]...   (default: ftpkit/src)
"""

import os
import re
import sys

ITEM = r"(?:fn|struct|enum|trait|type|const|static|union|mod)\s+{name}\b"
MACRO = r"macro_rules!\s*{name}\b"


def strip(text):
    """Source text without comments, string contents and `#[cfg(test)]` items."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == '"' or (c in "br" and re.match(r'b?r#*"', text[i:i + 4])):
            m = re.match(r'(b?r)(#*)"', text[i:i + 4])
            if m:
                end = text.find('"' + m.group(2), i + len(m.group(0)))
                i = n if end < 0 else end + 1 + len(m.group(2))
            else:
                i += 1
                while i < n and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
                i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^'\\])'", text[i:i + 4]):
            m = re.match(r"'(\\.[^']*|[^'\\])'", text[i:i + 12])
            i += len(m.group(0)) if m else 1
            out.append("' '")
        else:
            out.append(c)
            i += 1
    code = "".join(out)
    return drop_macro_relative(drop_test_items(code))


def drop_macro_relative(code):
    """Neutralises `super::` and `self::` paths inside `macro_rules!` bodies:
    they name modules of the file that expands the macro, not of this one."""
    out, pos = [], 0
    for m in re.finditer(r"macro_rules!\s*\w+\s*\{", code):
        if m.start() < pos:
            continue
        i, depth = m.end(), 1
        while i < len(code) and depth:
            depth += code[i] == "{"
            depth -= code[i] == "}"
            i += 1
        body = re.sub(r"\b(super|self)::", "expansion_site::", code[m.end():i])
        out.append(code[pos:m.end()] + body)
        pos = i
    out.append(code[pos:])
    return "".join(out)


def drop_test_items(code):
    """Removes each item under `#[cfg(test)]` (up to its `;` or closing brace)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]", code)
        if not m:
            return code
        i = m.end()
        depth = 0
        while i < len(code):
            if code[i] == "{":
                depth += 1
            elif code[i] == "}":
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            elif code[i] == ";" and depth == 0:
                i += 1
                break
            i += 1
        code = code[:m.start()] + code[i:]


def use_paths(tree):
    """Expands a use tree (`a::{b, c::{d as e}}`) into (path, alias) pairs."""
    tree = re.sub(r"\s+as\s+", "@", tree.strip())
    tree = re.sub(r"\s+", "", tree)
    if "{" not in tree:
        path, _, alias = tree.partition("@")
        return [(path, alias or None)]
    head, rest = tree.split("{", 1)
    body = rest[: rest.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for part in parts:
        if not part:
            continue
        for path, alias in use_paths(part):
            if path == "self":
                out.append((head.rstrip(":"), alias))
            else:
                out.append((head + path, alias))
    return out


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}  # module path tuple -> file
        self.code = {}  # file -> stripped code
        for root, _, names in os.walk(src):
            for name in names:
                if not name.endswith(".rs") or name == "tests.rs":
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src)[:-3].split(os.sep)
                if rel[-1] in ("mod", "lib", "main"):
                    rel = rel[:-1]
                self.files[tuple(rel)] = path
                with open(path, encoding="utf-8") as f:
                    self.code[path] = strip(f.read())
        self.module_of = {f: m for m, f in self.files.items()}

    def absolute(self, module, segments):
        """Makes a path absolute, or returns None for another crate's."""
        first = segments[0]
        if first == "crate":
            return list(segments[1:])
        if first in ("self", "super"):
            base = list(module)
            while segments and segments[0] in ("self", "super"):
                if segments[0] == "super":
                    base = base[:-1]
                segments = segments[1:]
            return base + list(segments)
        if tuple(module) + (first,) in self.files:
            return list(module) + list(segments)
        return None

    def resolve(self, segments, seen=()):
        """The file defining the item at an absolute path, and its name."""
        module = ()
        rest = list(segments)
        while rest and module + (rest[0],) in self.files:
            module += (rest[0],)
            rest = rest[1:]
        file = self.files.get(module)
        if file is None:
            return None, None
        if not rest or rest[0] == "*":
            return file, (segments[-1] if segments else "crate")
        name = rest[0]
        code = self.code[file]
        if re.search(ITEM.format(name=re.escape(name)), code) or re.search(
            MACRO.format(name=re.escape(name)), code
        ):
            return file, name
        key = (file, name)
        if key in seen:
            return file, name
        for path, alias in self.uses(module):
            last = path.split("::")[-1]
            if (alias or last) == name:
                target = self.absolute(module, path.split("::"))
                if target is None:
                    break
                found, found_name = self.resolve(target, seen + (key,))
                if found:
                    return found, found_name
        return file, name

    def uses(self, module):
        code = self.code[self.files[module]]
        out = []
        for m in re.finditer(r"\buse\s+([^;]+);", code):
            out.extend(use_paths(m.group(1)))
        return out

    def arrows(self):
        """{file: {file: set(names)}}."""
        graph = {f: {} for f in self.code}
        for module, file in self.files.items():
            code = self.code[file]
            paths = [p for p, _ in self.uses(module)]
            stripped = re.sub(r"\buse\s+[^;]+;", "", code)
            paths += re.findall(
                r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", stripped
            )
            children = [m[-1] for m in self.files if m[:-1] == module and m]
            for child in children:
                paths += re.findall(
                    r"(?<![:\w])(" + child + r"(?:::[A-Za-z_][A-Za-z0-9_]*)+)", stripped
                )
            for path in paths:
                segments = path.split("::")
                target = self.absolute(module, segments)
                if not target:
                    continue
                found, name = self.resolve(target)
                if found and found != file:
                    graph[file].setdefault(found, set()).add(name)
        return graph


def circles(graph):
    """Strongly connected components of two or more files (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def main():
    args = sys.argv[1:]
    allowed = []
    while "--allow" in args:
        i = args.index("--allow")
        allowed.append(os.path.normpath(args[i + 1]) + os.sep)
        del args[i : i + 2]
    src = args[0] if args else "ftpkit/src"
    crate = Crate(src)
    graph = crate.arrows()
    found = circles(graph)
    arrows = sum(len(t) for t in graph.values())
    failing = 0
    print(f"imports: {len(graph)} files, {arrows} arrows, {len(found)} circles")
    for i, comp in enumerate(found, 1):
        inside = next((d for d in allowed if all(f.startswith(d) for f in comp)), None)
        if inside:
            print(f"circle {i}: {len(comp)} files, allowed inside {inside}")
        else:
            failing += 1
            print(f"circle {i}: {len(comp)} files")
        for a in comp:
            for b in sorted(graph[a]):
                if b in comp:
                    names = ", ".join(sorted(graph[a][b]))
                    print(f"  {a} -> {b}: {names}")
    if failing:
        print(f"{failing} import circle(s) among the library's files: move the shared")
        print("items to a file that both sides can import without a loop.")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
