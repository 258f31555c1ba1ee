#!/usr/bin/env python3
"""The shape checks of issue 16, run as the ctest entry style.structure.

  structure.py [--root DIR] [--objects DIR]

1. No .c file under core/ or abi/ is longer than 600 lines (a file that long
   is usually two concepts; split it by concept, not by line count).
   tools/style/long_files.txt lists the files allowed to be longer for
   now, each with a reason; a listed file that is no longer long, or no
   longer exists, fails too, so the list only shrinks.
2. No .c file declares, at file scope, a function that is not static: such
   a prototype is a copy of one that belongs in a header (STYLE.md: "a
   prototype copied into a second .c file means a header is missing").
   Checked in core/, abi/, tools/, node/src, bench/ and tests/.
3. The include graph of abi/ has no cycle (abi/ is the thin handle layer;
   its files include each other one way only). With --objects (the
   directory holding the abi/ object files of a build), the call graph
   between abi/ files is checked too, from their symbol tables.
"""
import argparse
import pathlib
import re
import subprocess
import sys

MAX_LINES = 600
LONG_ROOTS = ("core", "abi")
PROTOTYPE_ROOTS = ("core", "abi", "tools", "node/src", "bench", "tests")
ALLOW_LONG = "tools/style/long_files.txt"


def c_files(root, tops):
    out = []
    for top in tops:
        d = root / top
        if d.is_dir():
            out.extend(p for p in sorted(d.rglob("*.c")) if "node_modules" not in p.parts)
    return out


def read_allow_long(root):
    allow = {}
    p = root / ALLOW_LONG
    if p.exists():
        for line in p.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                path, _, reason = line.partition(" ")
                allow[path] = reason.strip()
    return allow


def check_long_files(root, problems):
    allow = read_allow_long(root)
    lengths = {}
    for p in c_files(root, LONG_ROOTS):
        rel = str(p.relative_to(root))
        lengths[rel] = len(p.read_text(encoding="utf-8", errors="replace").splitlines())
        if lengths[rel] > MAX_LINES and rel not in allow:
            problems.append("%s has %d lines, more than %d: split it by concept"
                            % (rel, lengths[rel], MAX_LINES))
    for rel, reason in sorted(allow.items()):
        if rel not in lengths:
            problems.append("%s lists %s, which does not exist; remove it" % (ALLOW_LONG, rel))
        elif lengths[rel] <= MAX_LINES:
            problems.append("%s lists %s, which now has %d lines; remove it"
                            % (ALLOW_LONG, rel, lengths[rel]))
        elif not reason:
            problems.append("%s lists %s without a reason" % (ALLOW_LONG, rel))
    return len(lengths)


def strip_c(text):
    """The text with comments, string and character literals blanked and
    preprocessor lines (with their continuations) removed; newlines kept."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if at_line_start and c == "#":
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        at_line_start = False
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
            continue
        if c == "\n":
            at_line_start = True
        out.append(c)
        i += 1
    return "".join(out)


DECL_RE = re.compile(r"^(?P<head>[A-Za-z_][\w\s\*,]*?)\b(?P<name>[A-Za-z_]\w*)\s*\((?P<params>[^;{}]*)\)\s*"
                     r"(?:__attribute__\s*\(\(.*\)\)\s*)?;$", re.S)
NOT_A_TYPE = {"return", "else", "if", "while", "for", "switch", "do", "sizeof", "goto", "case"}


DEF_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\([^;{}]*\)\s*\{")


def file_scope_prototypes(text):
    """(line, name) of every non-static function declaration at file scope
    whose function the file does not define itself (a forward declaration
    of its own function is not a copy)."""
    s = strip_c(text)
    defined = set(DEF_RE.findall(s))
    found = []
    depth = 0
    start = 0
    for i, c in enumerate(s):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                start = i + 1
        elif c == ";" and depth == 0:
            raw = s[start:i + 1]
            stmt = raw.strip()
            line = s.count("\n", 0, start + len(raw) - len(raw.lstrip())) + 1
            start = i + 1
            words = stmt.split()
            if not words or "static" in words[:3] or words[0] == "typedef":
                continue
            m = DECL_RE.match(stmt)
            if not m or not m.group("head").strip() or m.group("head").split()[-1] in NOT_A_TYPE:
                continue
            if m.group("name") in defined:
                continue
            found.append((line, m.group("name")))
    return found


def check_prototypes(root, problems):
    count = 0
    for p in c_files(root, PROTOTYPE_ROOTS):
        text = p.read_text(encoding="utf-8", errors="replace")
        for line, name in file_scope_prototypes(text):
            count += 1
            problems.append("%s:%d declares %s(), defined elsewhere: move the prototype to the header "
                            "of the file that defines it" % (p.relative_to(root), line, name))
    return count


INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def abi_include_graph(root):
    abi = root / "abi"
    files = sorted(p for p in abi.iterdir() if p.suffix in (".c", ".h"))
    files += sorted((abi / "include").glob("*.h"))
    names = {p.resolve(): str(p.relative_to(root)) for p in files}
    graph = {}
    for p in files:
        edges = set()
        for inc in INCLUDE_RE.findall(p.read_text(encoding="utf-8", errors="replace")):
            for base in (p.parent, abi, abi / "include"):
                q = (base / inc).resolve()
                if q in names:
                    edges.add(names[q])
                    break
        graph[names[p.resolve()]] = edges
    return graph


def find_cycle(graph):
    """One cycle as a list of nodes, or None."""
    state = {}
    stack = []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                cyc = visit(v)
                if cyc:
                    return cyc
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            cyc = visit(u)
            if cyc:
                return cyc
    return None


def abi_call_graph(objects, root):
    """File-level call graph of the abi/ objects: a -> b when a's object
    uses a symbol b's defines. An object whose source is gone (a file
    renamed or split since that build directory was made) is left out."""
    defined, used = {}, {}
    objs = [o for o in sorted(pathlib.Path(objects).glob("*.o"))
            if (root / "abi" / o.name[:-len(".o")]).exists()]
    if not objs:
        raise FileNotFoundError("no object files in %s (build first)" % objects)
    for o in objs:
        name = o.name[:-len(".o")]
        out = subprocess.run(["nm", "--defined-only", "-g", str(o)], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                defined[parts[2]] = name
        out = subprocess.run(["nm", "-u", str(o)], capture_output=True, text=True, check=True).stdout
        used[name] = {line.split()[-1] for line in out.splitlines() if line.strip()}
    graph = {}
    for name, syms in used.items():
        graph[name] = {defined[s] for s in syms if s in defined and defined[s] != name}
    return graph


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parents[2]))
    ap.add_argument("--objects", help="directory of the abi/ object files (the call graph check)")
    args = ap.parse_args()
    root = pathlib.Path(args.root).resolve()
    problems = []
    nfiles = check_long_files(root, problems)
    nproto = check_prototypes(root, problems)
    graph = abi_include_graph(root)
    cyc = find_cycle(graph)
    if cyc:
        problems.append("abi/ includes in a circle: " + " -> ".join(cyc))
    calls = "not checked"
    if args.objects:
        try:
            cg = abi_call_graph(args.objects, root)
        except FileNotFoundError as e:
            problems.append(str(e))
            cg = {}
        cyc = find_cycle(cg)
        if cyc:
            problems.append("abi/ files call each other in a circle: " + " -> ".join(cyc))
        calls = "%d objects" % len(cg)
    for p in problems:
        print("structure: " + p, file=sys.stderr)
    print("structure: %d .c files in core/ and abi/ (at most %d lines), %d copied prototypes, "
          "%d abi/ files in the include graph, call graph %s: %s"
          % (nfiles, MAX_LINES, nproto, len(graph), calls, "FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
