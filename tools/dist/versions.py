#!/usr/bin/env python3
"""The version and the licence have one source each; this checks the rest.

The version is the public header's DDATA_VERSION (CMake reads it there
too). Every package must say the same: the Python package's __version__,
the npm package.json (and its lock), and the crates' build metadata
(`0.1.0+ddata.X.Y.Z`, as libgit2-sys records the C version it wraps).
The licence is LICENSE (MIT OR Apache-2.0, with LICENSE-MIT and
LICENSE-APACHE); every manifest must name that expression.

    versions.py          check, print "versions: N passed, M failed"
    versions.py --print  print the header's version
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
LICENSE = "MIT OR Apache-2.0"


def header_version():
    text = (ROOT / "abi/include/ddata.h").read_text()
    m = re.search(r'^#define DDATA_VERSION "([0-9]+\.[0-9]+\.[0-9]+)"', text, re.M)
    parts = [re.search(r"^#define DDATA_VERSION_%s (\d+)" % k, text, re.M)[1] for k in ("MAJOR", "MINOR", "PATCH")]
    if ".".join(parts) != m[1]:
        sys.exit("versions: DDATA_VERSION %s disagrees with MAJOR.MINOR.PATCH %s" % (m[1], ".".join(parts)))
    return m[1]


def toml_value(path, key):
    m = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), (ROOT / path).read_text(), re.M)
    return m[1] if m else None


def checks(v):
    py_init = (ROOT / "python/ddata/__init__.py").read_text()
    m = re.search(r'^__version__ = "([^"]+)"', py_init, re.M)
    yield "python/ddata/__init__.py __version__", m and m[1], v
    pyproject = (ROOT / "python/pyproject.toml").read_text()
    yield "python/pyproject.toml version is ddata.__version__", \
        'version = { attr = "ddata.__version__" }' in pyproject, True
    m = re.search(r'^license = \{ text = "([^"]+)" \}', pyproject, re.M)
    yield "python/pyproject.toml license", m and m[1], LICENSE
    pkg = json.loads((ROOT / "node/package.json").read_text())
    yield "node/package.json version", pkg["version"], v
    yield "node/package.json license", pkg["license"], LICENSE
    lock = json.loads((ROOT / "node/package-lock.json").read_text())
    yield "node/package-lock.json version", lock["packages"][""]["version"], v
    for crate in ("ddata-sys", "ddata"):
        cv = toml_value("rust-sys/%s/Cargo.toml" % crate, "version") or ""
        yield "rust-sys/%s version metadata" % crate, cv.partition("+")[2], "ddata." + v
    yield "rust-sys workspace license", toml_value("rust-sys/Cargo.toml", "license"), LICENSE
    for f in ("LICENSE", "LICENSE-MIT", "LICENSE-APACHE"):
        yield f + " exists", (ROOT / f).is_file(), True


def main():
    v = header_version()
    if sys.argv[1:] == ["--print"]:
        print(v)
        return 0
    failed = 0
    total = 0
    for what, got, want in checks(v):
        total += 1
        if got != want:
            failed += 1
            print("FAIL %s: %r, expected %r" % (what, got, want))
    print("versions: %d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
