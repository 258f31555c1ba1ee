#!/usr/bin/env python3
"""Runs every C, Python, JavaScript and Rust code block of README.md and
docs/*.md, so the front door cannot rot (`make test-snippets`).

Each block is a program of its own, run in a fresh scratch folder, the way
a reader would paste it:

- python: run as a script by the venv's python (ddata installed there).
- js: run as CommonJS inside an async function (so `await` works at the
  top), with `require('ddata-crdt')` resolving to this checkout's node/.
- c: compiled against abi/include and the build's libddata.so. A block
  without `main` is the body of `int main(void)` (its #include lines are
  hoisted, <ddata.h>, <stdio.h>, <stdint.h> and <string.h> are included).
- rust: built in one cargo project depending on rust-sys/ddata. A block
  without `fn main` is the body of
  `fn main() -> Result<(), Box<dyn std::error::Error>>`.

A block that is deliberately not a program (a sketch of an internal API,
a pattern with `...`) is preceded by the line `<!-- snippet: sketch -->`;
it is listed as skipped, never silently. Prints one line per block and
"snippets: N passed, M failed".
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
LANGS = {"c": "c", "python": "python", "py": "python", "js": "js", "javascript": "js", "rust": "rust"}
SKETCH = "<!-- snippet: sketch -->"
TIMEOUT = 120


def blocks():
    for path in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")):
        lines = path.read_text().split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r"^```(\S*)\s*$", lines[i])
            if not m:
                i += 1
                continue
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            lang = LANGS.get(m[1])
            if lang:
                sketch = i > 0 and lines[i - 1].strip() == SKETCH
                yield path.relative_to(ROOT), i + 1, lang, "\n".join(lines[i + 1:j]) + "\n", sketch
            i = j + 1


def run(cmd, cwd, env=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout + p.stderr


def c_program(code):
    if re.search(r"\bmain\s*\(", code):
        return code
    includes = [l for l in code.split("\n") if l.startswith("#include")]
    body = [l for l in code.split("\n") if not l.startswith("#include")]
    head = ["#include <ddata.h>", "#include <stdint.h>", "#include <stdio.h>", "#include <string.h>"]
    return "\n".join(head + includes + ["int main(void)", "{"] + body + ["    return 0;", "}", ""])


def rust_program(code):
    if re.search(r"\bfn main\s*\(", code):
        return code
    return "fn main() -> Result<(), Box<dyn std::error::Error>> {\n" + code + "\n    Ok(())\n}\n"


class Runner:
    def __init__(self, build, python, scratch):
        self.build = pathlib.Path(build)
        self.python = os.path.abspath(python) if os.sep in python else python
        self.scratch = pathlib.Path(scratch)
        self.rust_dir = None
        self.node_modules = None
        self.rust_bins = []

    def fresh(self, name):
        d = self.scratch / name
        d.mkdir(parents=True)
        return d

    def python_block(self, name, code):
        d = self.fresh(name)
        (d / "snippet.py").write_text(code)
        return run([self.python, "snippet.py"], d)

    def js_block(self, name, code):
        if self.node_modules is None:
            self.node_modules = self.scratch / "node_modules"
            self.node_modules.mkdir()
            (self.node_modules / "ddata-crdt").symlink_to(ROOT / "node")
        d = self.fresh(name)
        wrapped = ("(async () => {\n" + code + "\n})().then(() => process.exit(0), (e) => {\n"
                   "  console.error(e);\n  process.exit(1);\n});\n")
        (d / "snippet.js").write_text(wrapped)
        env = dict(os.environ, NODE_PATH=str(self.node_modules))
        return run(["node", "snippet.js"], d, env)

    def c_block(self, name, code):
        d = self.fresh(name)
        (d / "snippet.c").write_text(c_program(code))
        rc, out = run(["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Werror", "-Wno-unused-variable",
                       "-Wno-unused-but-set-variable", "-I", str(ROOT / "abi/include"), "snippet.c",
                       "-o", "snippet", "-L", str(self.build), "-Wl,-rpath," + str(self.build), "-lddata"], d)
        if rc != 0:
            return rc, out
        return run(["./snippet"], d)

    def rust_block(self, name, code):
        # All Rust blocks become binaries of one cargo project (one build of
        # the dependencies); each then runs in its own scratch folder.
        if self.rust_dir is None:
            self.rust_dir = self.scratch / "rust-snippets"
            (self.rust_dir / "src/bin").mkdir(parents=True)
            (self.rust_dir / "Cargo.toml").write_text(
                '[package]\nname = "snippets"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
                '[dependencies]\nddata = { path = "%s" }\n\n[workspace]\n' % (ROOT / "rust-sys/ddata"))
        (self.rust_dir / "src/bin" / (name + ".rs")).write_text(rust_program(code))
        self.rust_bins.append(name)
        return None

    def rust_finish(self, report):
        if not self.rust_bins:
            return
        env = dict(os.environ, DDATA_BUILD_DIR=str(self.build))
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", self.rust_dir / "target"))
        for name in self.rust_bins:
            rc, out = run(["cargo", "build", "-q", "--bin", name, "-j", "2"], self.rust_dir, env)
            if rc != 0:
                report(name, rc, out)
                continue
            d = self.fresh(name)
            report(name, *run([str(target / "debug" / name)], d))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="the CMake build holding libddata.so")
    ap.add_argument("--python", default=sys.executable, help="a python with ddata installed")
    args = ap.parse_args()
    passed = failed = skipped = 0
    scratch = tempfile.mkdtemp(prefix="ddata-snippets.")
    labels = {}

    def report(name, rc, out):
        nonlocal passed, failed
        if rc == 0:
            passed += 1
            print("PASS %s" % labels[name])
        else:
            failed += 1
            print("FAIL %s\n%s" % (labels[name], "\n".join("    " + l for l in out.strip().split("\n")[-30:])))

    try:
        r = Runner(args.build, args.python, scratch)
        for n, (path, line, lang, code, sketch) in enumerate(blocks()):
            name = "snippet_%02d_%s" % (n, lang)
            labels[name] = "%s:%d (%s)" % (path, line, lang)
            if sketch:
                skipped += 1
                print("SKIP %s: marked as a sketch" % labels[name])
                continue
            try:
                result = getattr(r, lang + "_block")(name, code)
            except subprocess.TimeoutExpired:
                result = (1, "timed out after %d s" % TIMEOUT)
            if result is not None:
                report(name, *result)
        r.rust_finish(report)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("snippets: %d passed, %d failed (%d sketches skipped)" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
