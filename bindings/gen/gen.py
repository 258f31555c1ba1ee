#!/usr/bin/env python3
"""The binding generator: abi/include/ddata.h -> what each binding needs.

  gen.py update   rewrite the generated files (`make bindings`)
  gen.py check    regenerate in memory and fail when a checked-in file
                  differs, when the header exports a function a binding
                  cannot reach, or when the computed struct layouts differ
                  from the C compiler's (a ctest entry, part of `make test`)

Outputs (all checked in, never edited by hand):
  python/ddata/_cdef.py              cffi cdef for the API-mode extension
  rust-sys/ddata-sys/src/ffi.rs      extern "C" declarations + layout tests
  bindings/gen/layout.txt            sizes/offsets the Rust layout tests use
  bindings/gen/layout_versions.txt   per-version struct layouts (versions.py);
                                     kept, not regenerated: see its rules
  abi/impl.h, abi/calls_<area>.c     the library's own bracket around every
                                     public int function (error rules), one
                                     file per section of the header

Reachability: the generated outputs cover every function by construction.
The Python package's wrappers are written by hand, so every function must
appear there as `lib.dd_name`, or be listed with a reason in
bindings/gen/python_unwrapped.txt; a listed function that is wrapped, or no
longer exists, also fails (the list stays honest). The same holds for the
hand-written layers of Node (node/src) and Rust (the ddata crate), with
bindings/gen/functions_unexposed.txt as their list.
"""
import argparse
import difflib
import os
import pathlib
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import emit  # noqa: E402
import header  # noqa: E402
import versions  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = "abi/include/ddata.h"
OUTPUTS = {
    "python/ddata/_cdef.py": emit.cffi_cdef,
    "rust-sys/ddata-sys/src/ffi.rs": emit.rust_ffi,
    "bindings/gen/layout.txt": emit.layout_table,
    "abi/impl.h": emit.abi_impl_h,
}
# Outputs written as several files: (the glob they all match, the emitter
# returning {path: text}). A file matching the glob that the emitter no
# longer writes is stale: `update` deletes it, `check` fails on it.
MULTI_OUTPUTS = [(emit.CALLS_GLOB, emit.abi_calls_files)]
# Earlier names of generated files, stale wherever they reappear (a merge
# of a branch generated before the rename).
# node/src/generated/exports.h was an export table the addon never used:
# its methods are written by hand (node/src), held to the header by the
# coverage check below.
RETIRED = ["abi/calls.c", "node/src/generated/exports.h"]
ALLOW_PYTHON = "bindings/gen/python_unwrapped.txt"
# Node and Rust (#18.4): their hand-written layers must call every function
# too, or bindings/gen/functions_unexposed.txt says why not ("<binding>
# <function> <reason>"); the generated files do not count.
ALLOW_OTHERS = "bindings/gen/functions_unexposed.txt"
HAND_WRITTEN = {
    "node": ["node/src/*.c", "node/src/*.h"],
    "rust": ["rust-sys/ddata/src/*.rs"],
}


# The library's own generated C is held to .clang-format like the rest of
# abi/ (style.format checks it), so it goes through clang-format here.
CLANG_FORMATTED = ("abi/impl.h", emit.CALLS_GLOB)


def _clang_formatted(path):
    return any(pathlib.PurePath(path).match(g) for g in CLANG_FORMATTED)


def _leftovers(root, files):
    """Checked-in files matching a multi-file output's glob that are no
    longer generated."""
    found = [str(p.relative_to(root)) for g, _ in MULTI_OUTPUTS for p in root.glob(g)]
    found += [path for path in RETIRED if (root / path).exists()]
    return sorted(path for path in found if path not in files)


def _clang_format(root, path, text):
    # The style is the generator's tree's, so a check under --root elsewhere
    # formats the same way.
    return subprocess.run(["clang-format", "--style=file:" + str(ROOT / ".clang-format"),
                           "--assume-filename=" + path], input=text, capture_output=True, text=True,
                          check=True).stdout


def generate(root):
    hdr = header.parse(root / HEADER)
    files = {path: fn(hdr) for path, fn in OUTPUTS.items()}
    for _, fn in MULTI_OUTPUTS:
        files.update(fn(hdr))
    for path in files:
        if _clang_formatted(path):
            files[path] = _clang_format(root, path, files[path])
    return hdr, files


def update(root):
    hdr, files = generate(root)
    for path, text in files.items():
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            print("gen.py: wrote %s" % path)
    for path in _leftovers(root, files):
        (root / path).unlink()
        print("gen.py: removed %s (no longer generated)" % path)
    update_versions(root, hdr)
    print("gen.py: %d functions, %d structs, %d enums" % (len(hdr.functions), len(hdr.structs), len(hdr.enums)))


def read_versions(root):
    p = root / versions.TABLE
    return versions.parse(p.read_text()) if p.exists() else versions.Table()


def update_versions(root, hdr):
    p = root / versions.TABLE
    text = versions.update(hdr, read_versions(root)).text()
    if not p.exists() or p.read_text() != text:
        p.write_text(text)
        print("gen.py: wrote %s" % versions.TABLE)


def python_wrapped(root):
    names = set()
    for p in sorted((root / "python/ddata").glob("*.py")):
        if p.name == "_cdef.py":
            continue
        names.update(re.findall(r"\blib\.(dd_\w+)", p.read_text()))
    # The build script's C shims call the ABI directly (for speed).
    build = root / "python/ddata_build.py"
    if build.exists():
        names.update(re.findall(r"\b(dd_\w+)\(", build.read_text()))
    return names


def hand_written_calls(root, globs):
    names = set()
    for g in globs:
        for p in sorted(root.glob(g)):
            names.update(re.findall(r"\b(dd_\w+)\b", p.read_text(encoding="utf-8")))
    return names


def read_allow_others(root):
    allow = {}
    p = root / ALLOW_OTHERS
    if p.exists():
        for line in p.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                binding, name, reason = (line.split(None, 2) + ["", ""])[:3]
                allow[(binding, name)] = reason
    return allow


def check_others(root, declared, problems):
    allow = read_allow_others(root)
    for binding, globs in HAND_WRITTEN.items():
        calls = hand_written_calls(root, globs)
        unreached = [n for n in declared if n not in calls and (binding, n) not in allow]
        if unreached:
            problems.append("the %s binding does not call %s (expose them, or list them with a reason in %s)"
                            % (binding, ", ".join(unreached), ALLOW_OTHERS))
        for (b, n), reason in sorted(allow.items()):
            if b != binding:
                continue
            if n not in declared:
                problems.append("%s lists %s %s, which the header no longer declares" % (ALLOW_OTHERS, b, n))
            elif n in calls:
                problems.append("%s lists %s %s, which that binding now calls; remove it" % (ALLOW_OTHERS, b, n))
            elif not reason:
                problems.append("%s lists %s %s without a reason" % (ALLOW_OTHERS, b, n))
    for b, n in sorted(allow):
        if b not in HAND_WRITTEN:
            problems.append("%s names an unknown binding %r" % (ALLOW_OTHERS, b))
    return len(allow)


def read_allow(root):
    allow = {}
    p = root / ALLOW_PYTHON
    if p.exists():
        for line in p.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            allow[name] = reason.strip()
    return allow


def check_layout(root, hdr, problems):
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "layout.c"
        exe = pathlib.Path(tmp) / "layout"
        src.write_text(emit.layout_program(hdr))
        try:
            subprocess.run([cc, "-std=c11", "-I", str(root / "abi/include"), "-o", str(exe), str(src)],
                           check=True, capture_output=True, text=True)
        except FileNotFoundError:
            problems.append("no C compiler (%s) to verify struct layouts" % cc)
            return
        except subprocess.CalledProcessError as e:
            problems.append("layout program does not compile:\n" + e.stderr)
            return
        real = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    want = emit.layout_table(hdr)
    if real != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), real.splitlines(True), "computed", "compiler"))
        problems.append("computed layouts differ from the compiler's:\n" + diff)


def check(root):
    problems = []
    hdr, files = generate(root)
    for path, text in files.items():
        p = root / path
        have = p.read_text() if p.exists() else ""
        if have != text:
            diff = "".join(difflib.unified_diff(have.splitlines(True), text.splitlines(True),
                                                path + " (checked in)", path + " (generated)", n=1))
            problems.append("%s is stale; run `make bindings`:\n%s" % (path, diff[:4000]))
    for path in _leftovers(root, files):
        problems.append("%s is no longer generated; run `make bindings`" % path)
    declared = [fn.name for fn in hdr.functions]
    for path, text in files.items():
        if path.endswith("layout.txt") or _clang_formatted(path):
            continue  # not bindings: the library's own bracket
        missing = [n for n in declared if not re.search(r"\b%s\b" % n, text)]
        if missing:
            problems.append("%s cannot reach %s" % (path, ", ".join(missing)))
    wrapped = python_wrapped(root)
    allow = read_allow(root)
    unreached = [n for n in declared if n not in wrapped and n not in allow]
    if unreached:
        problems.append("the Python package does not wrap %s (wrap them, or list them with a reason in %s)"
                        % (", ".join(unreached), ALLOW_PYTHON))
    for n in sorted(allow):
        if n not in declared:
            problems.append("%s lists %s, which the header no longer declares" % (ALLOW_PYTHON, n))
        elif n in wrapped:
            problems.append("%s lists %s, which python/ddata now wraps; remove it from the list" % (ALLOW_PYTHON, n))
        elif not allow[n]:
            problems.append("%s lists %s without a reason" % (ALLOW_PYTHON, n))
    unknown = sorted(wrapped - set(declared))
    if unknown:
        problems.append("python/ddata calls %s, which the header does not declare" % ", ".join(unknown))
    allowed_others = check_others(root, declared, problems)
    check_layout(root, hdr, problems)
    try:
        problems.extend(versions.check(hdr, read_versions(root)))
    except ValueError as e:
        problems.append(str(e))
    for p in problems:
        print("gen.py check: " + p, file=sys.stderr)
    print("gen.py check: %d functions; %d outputs; %d wrapped in Python, %d allow-listed; "
          "%d Node/Rust allow-listed; %s"
          % (len(declared), len(files), len(set(declared) & wrapped), len(allow), allowed_others,
             "FAILED" if problems else "ok"))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["update", "check"])
    ap.add_argument("--root", default=str(ROOT))
    args = ap.parse_args()
    root = pathlib.Path(args.root).resolve()
    try:
        if args.command == "update":
            update(root)
            return 0
        return check(root)
    except header.HeaderError as e:
        print("gen.py: %s: %s" % (HEADER, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
