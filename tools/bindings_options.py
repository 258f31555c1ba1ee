#!/usr/bin/env python3
"""Every field of every options struct of the public header is reachable
from each binding (#18.4): a new field that a binding does not set fails
this check until the binding sets it or bindings/gen/options_unexposed.txt
says why it does not.

A binding "sets" a field when its hand-written wrapper sources assign or
read that member of the C struct: `x.field` / `x->field` (C, Python, Rust),
`field:` in a Rust struct literal, or the name as a Python string (the
package fills some fields with setattr). Generated files (the cdef, the
FFI, the Node export table) do not count.

  tools/bindings_options.py [--root DIR]   exit 1 and a list when not
"""
import argparse
import pathlib
import re
import sys

STRUCTS = r"dd_\w*options|dd_limits|dd_snapshot_criteria"
SKIP_FIELDS = {"version"}  # and *_count, which travel with their arrays

BINDINGS = {
    "python": (["python/ddata/*.py"], ["python/ddata/_cdef.py"]),
    "node": (["node/src/*.c", "node/lib/*.js"], []),
    "rust": (["rust-sys/ddata/src/*.rs"], []),
}


def fields(header):
    out = []
    for m in re.finditer(r"typedef struct (%s)\s*\{(.*?)\}\s*\w+;" % STRUCTS, header, re.S):
        body = re.sub(r"/\*.*?\*/", "", m.group(2), flags=re.S)
        for line in body.split("\n"):
            f = re.findall(r"(\w+)\s*(?:\[\w*\])?\s*;", line)
            if f and f[0] not in SKIP_FIELDS and not f[0].endswith("_count"):
                out.append((m.group(1), f[0]))
    return out


def sources(root, globs, exclude):
    text = []
    for g in globs:
        for p in sorted(root.glob(g)):
            if str(p.relative_to(root)) not in exclude:
                text.append(p.read_text(encoding="utf-8"))
    return "\n".join(text)


def sets(text, binding, field):
    # a member access, or an option table row that writes through offsetof
    pats = [r"(?:\.|->)%s\b" % field, r"\boffsetof\(\s*\w+\s*,\s*%s\s*\)" % field]
    if binding == "rust":
        pats.append(r"\b%s\s*:" % field)
    if binding == "python":
        pats.append(r"[\"']%s[\"']" % field)
    return any(re.search(p, text) for p in pats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parents[1], type=pathlib.Path)
    root = ap.parse_args().root
    allowed = {}
    for line in (root / "bindings/gen/options_unexposed.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            binding, name, reason = (line.split(None, 2) + [""])[:3]
            allowed[(binding, name)] = reason
    problems = []
    all_fields = fields((root / "abi/include/ddata.h").read_text())
    for binding, (globs, exclude) in BINDINGS.items():
        text = sources(root, globs, exclude)
        for struct, field in all_fields:
            name = "%s.%s" % (struct, field)
            found = sets(text, binding, field)
            if not found and (binding, name) not in allowed:
                problems.append("%s does not set %s (set it, or list it in bindings/gen/options_unexposed.txt)"
                                % (binding, name))
            if found and (binding, name) in allowed:
                problems.append("%s sets %s now: remove it from bindings/gen/options_unexposed.txt" % (binding, name))
    known = {"%s.%s" % f for f in all_fields}
    for binding, name in allowed:
        if name not in known:
            problems.append("options_unexposed.txt lists %s, which the header no longer declares" % name)
    for p in problems:
        print(p, file=sys.stderr)
    print("options coverage: %d fields x %d bindings, %d not exposed (listed), %d problems"
          % (len(all_fields), len(BINDINGS), len(allowed), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
