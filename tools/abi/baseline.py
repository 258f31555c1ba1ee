#!/usr/bin/env python3
"""The ABI baseline: abi/ddata.abi.xml, compared with abidiff on every test run.

  baseline.py update --lib build/libddata.so   rewrite the baseline (`make abi-baseline`)
  baseline.py check  --lib build/libddata.so   compare the built library with it
                                                (ctest abi.baseline, part of `make test`)

The baseline is `abidw` of the shared library, limited to what the public
header declares. abidiff's own verdict only calls removed symbols
incompatible (exit bit 8); a reordered struct member or a changed parameter
is merely "an ABI change" (bit 4). So `check` reads abidiff's leaf report
and accepts only what keeps old callers working:

  - added functions (in node DDATA_1.0 until the release, ABI.md)
  - members appended to a struct (offset at or past the old size; whether
    that needs a version bump is the struct table's rule, versions.py)
  - enum values added (abidiff does not see enums the header's functions
    take as integers, so their values are compared from the header here)

Anything else (a removed or changed function, a moved, resized or removed
member, a renumbered enum value or constant) fails. A compatible change
passes with its report printed and a reminder to run `make abi-baseline`
in the same commit.

Noise, so the baseline does not depend on the machine or the build:
  --no-corpus-path --no-comp-dir-path --no-show-locs   no paths or lines
  --no-elf-needed       DT_NEEDED differs with sanitizers and link flags
  --drop-private-types --headers-dir abi/include       public types only
  --drop-undefined-syms libc and friends are not our ABI
  --type-id-style hash  ids do not renumber when one type is added
  the source root is cut from translation-unit names
RelWithDebInfo, Debug, ASan, gcc and clang builds give the same file; a
library without debug info (a Release build without -g) cannot be
compared, and `check` skips (exit 77) saying so.
"""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASELINE = "abi/ddata.abi.xml"
VALUES = "abi/ddata.values.txt"
SKIP = 77

sys.path.insert(0, str(ROOT / "bindings/gen"))
import header  # noqa: E402


def has_debug_info(lib):
    out = subprocess.run(["readelf", "-S", "-W", str(lib)], capture_output=True, text=True).stdout
    return ".debug_info" in out


def describe(lib, root):
    """abidw of lib, with the noise above removed."""
    cmd = ["abidw", "--headers-dir", str(root / "abi/include"), "--drop-private-types", "--drop-undefined-syms",
           "--no-corpus-path", "--no-comp-dir-path", "--no-show-locs", "--no-elf-needed", "--type-id-style", "hash",
           str(lib)]
    xml = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return xml.replace(str(root.resolve()) + "/", "").replace(str(root) + "/", "")


def header_values(root):
    """Every enumerator and #define constant of the public header, one per line."""
    hdr = header.parse(root / "abi/include/ddata.h")
    lines = ["%s.%s = %d" % (e.name, name, value) for e in hdr.enums for name, value in e.members]
    lines += ["%s = %d" % (name, value) for name, value in hdr.constants]
    return "".join(line + "\n" for line in lines)


def compare_values(old_text, new_text):
    """(incompatible, added) between two header_values() texts."""
    def parse(text):
        return dict(line.split(" = ") for line in text.splitlines() if line.strip())

    old, new = parse(old_text), parse(new_text)
    # Version macros move with every release; only the ABI number is a promise.
    moving = re.compile(r"DDATA_VERSION_(MINOR|PATCH|NUMBER)$|DD_\w+_VERSION$")
    bad = ["%s changed from %s to %s" % (k, old[k], new[k])
           for k in old if k in new and old[k] != new[k] and not moving.match(k)]
    bad += ["%s removed" % k for k in old if k not in new]
    added = ["%s = %s added" % (k, new[k]) for k in new if k not in old]
    return bad, added


SUMMARY = re.compile(r"Removed/Changed/Added (functions|variables) summary: (\d+) Removed, (\d+) Changed")
SYMBOLS = re.compile(r"(Function|Variable) symbols changes summary: (\d+) Removed")
TYPE_START = re.compile(r"^'(?:struct|union|enum|typedef) [^']+' changed:$")
SIZE = re.compile(r"^\s+type size changed from (\d+) to (\d+) \(in bits\)$")
INSERTED = re.compile(r"^\s+'[^']+', at offset (\d+) \(in bits\)$")
ADDED = re.compile(r"^\s+\[A\] 'function [^']+'\s+\{(\w+)@@?(DDATA_[0-9.]+)\}$")
ALLOWED = (re.compile(r"^\s+\d+ data member insertions?:$"), re.compile(r"^\s+type size hasn't changed$"))


def classify(report, release_node):
    """Lines of abidiff's leaf report that break old callers."""
    bad = []
    for m in SUMMARY.finditer(report):
        if int(m.group(2)) or int(m.group(3)):
            bad.append("%s removed or changed: %s" % (m.group(1), m.group(0)))
    for m in SYMBOLS.finditer(report):
        if int(m.group(2)):
            bad.append(m.group(0))
    old_size = None
    in_type = False
    for line in report.splitlines():
        m = ADDED.match(line)
        if m and release_node and m.group(2) != release_node:
            bad.append("%s was added to %s; until 1.0.0 additions go into %s" % (m.group(1), m.group(2), release_node))
        if TYPE_START.match(line):
            in_type, old_size = True, None
            continue
        if not in_type:
            continue
        if not line.strip() or not line.startswith(" "):
            in_type = False
            continue
        m = SIZE.match(line)
        if m:
            old_size = int(m.group(1))
            if int(m.group(2)) < old_size:
                bad.append(line.strip())
            continue
        m = INSERTED.match(line)
        if m and old_size is not None and int(m.group(1)) >= old_size:
            continue
        if any(a.match(line) for a in ALLOWED):
            continue
        bad.append(line.strip())
    return bad


def release_node(root):
    """DDATA_1.0 while bindings/gen/layout_versions.txt says `released no`."""
    table = root / "bindings/gen/layout_versions.txt"
    if table.exists() and "\nreleased no\n" in table.read_text():
        return "DDATA_1.0"
    return None


def update(args, root):
    lib = pathlib.Path(args.lib)
    if not has_debug_info(lib):
        print("baseline.py: %s has no debug info; build with -g (RelWithDebInfo, `make abi-baseline` does)" % lib,
              file=sys.stderr)
        return 1
    for path, text in ((BASELINE, describe(lib, root)), (VALUES, header_values(root))):
        p = root / path
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            print("baseline.py: wrote %s" % path)
        else:
            print("baseline.py: %s unchanged" % path)
    return 0


def check(args, root):
    lib = pathlib.Path(args.lib)
    if shutil.which("abidiff") is None or shutil.which("abidw") is None:
        print("baseline.py: abidw/abidiff not installed (Debian: abigail-tools); skipped")
        return SKIP
    if not has_debug_info(lib):
        print("baseline.py: %s has no debug info, nothing to compare; skipped" % lib)
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        now = pathlib.Path(tmp) / "now.xml"
        now.write_text(describe(lib, root))
        run = subprocess.run(["abidiff", "--leaf-changes-only", "--no-redundant", str(root / BASELINE), str(now)],
                             capture_output=True, text=True)
    report = run.stdout + run.stderr
    if run.returncode & 3:
        print(report)
        print("baseline.py: abidiff failed (exit %d)" % run.returncode)
        return 1
    bad = classify(report, release_node(root)) if run.returncode else []
    if run.returncode & 8 and not bad:
        bad.append("abidiff calls the change incompatible")
    values_path = root / VALUES
    bad_values, added_values = compare_values(values_path.read_text() if values_path.exists() else "",
                                              header_values(root))
    bad += bad_values
    if run.returncode:
        print(report.rstrip())
    for line in added_values:
        print("  " + line)
    if bad:
        print("\nbaseline.py: INCOMPATIBLE with %s:" % BASELINE)
        for line in bad:
            print("  " + line)
        print("An incompatible change needs a new major version (ABI.md, Versions and stability).")
        return 1
    if run.returncode or added_values:
        print("baseline.py: compatible additions; run `make abi-baseline` and commit %s and %s with them"
              % (BASELINE, VALUES))
    else:
        print("baseline.py: the library matches %s" % BASELINE)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["update", "check"])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--root", default=str(ROOT))
    args = ap.parse_args()
    root = pathlib.Path(args.root).resolve()
    return update(args, root) if args.command == "update" else check(args, root)


if __name__ == "__main__":
    sys.exit(main())
