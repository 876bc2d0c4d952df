#!/usr/bin/env python3
"""Lists import cycles between files of different folders under src/.

An edge A -> B exists when file A names `crate::x::y` (or `super::...`) and that path resolves
to file B. Cycles are strongly connected components of more than one file whose files are
not all in one folder. Usage: scripts/import-loops.py [src-dir]  (exit status 1 when loops exist)
"""
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
SRC = os.path.normpath(SRC)


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel


files = {}
for root, _, names in os.walk(SRC):
    for n in names:
        if n.endswith(".rs"):
            p = os.path.join(root, n)
            files[tuple(module_of(p))] = p


def resolve(parts):
    """The file of the longest module prefix of `parts`."""
    for k in range(len(parts), -1, -1):
        if tuple(parts[:k]) in files:
            return files[tuple(parts[:k])]
    return None


PATH = re.compile(r"\b((?:crate|super)(?:::\w+)+)")
GROUP = re.compile(r"\b((?:crate|super)(?:::\w+)*)::\{([^}]*)\}", re.S)


def strip_tests(text):
    """The code without tests and comments (doc comments name paths they do not import)."""
    i = text.find("#[cfg(test)]")
    text = text if i < 0 else text[:i]
    return "\n".join(line.split("//")[0] for line in text.splitlines())


edges = {p: set() for p in files.values()}
for mod, path in files.items():
    text = strip_tests(open(path, encoding="utf-8").read())
    # `super` is the parent of the module (for mod.rs files too: the module is its folder).
    paths = [m.group(1) for m in PATH.finditer(text)]
    for base, inner in GROUP.findall(text):
        for item in inner.split(","):
            item = item.strip().split(" as ")[0].split("::{")[0]
            if item and item != "self":
                paths.append(base + "::" + item.strip())
    for p in paths:
        parts = p.split("::")
        if parts[0] == "crate":
            target = list(parts[1:])
        else:
            here = list(mod)
            while parts and parts[0] == "super":
                here = here[:-1]
                parts = parts[1:]
            target = here + list(parts)
        f = resolve(target)
        if f and f != path:
            edges[path].add(f)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
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
        sccs.append(comp)


sys.setrecursionlimit(10000)
for v in edges:
    if v not in index:
        visit(v)

loops = [c for c in sccs if len(c) > 1 and len({os.path.dirname(f) for f in c}) > 1]
for c in sorted(loops, key=len):
    names = sorted(os.path.relpath(f, SRC) for f in c)
    print(f"loop of {len(names)} files: " + ", ".join(names))
print(f"{len(loops)} import loop(s) between folders")
sys.exit(1 if loops else 0)
