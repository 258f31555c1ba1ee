"""The generated bindings: fresh, complete, and laid out as C lays out.

gen.py check is also a ctest entry (bindings.generated); it runs here too so
`make test-python` alone catches a stale checkout. The Rust layout tests in
the generated ffi.rs are compiled with rustc when it is available.
"""
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


def test_generated_files_match_the_header():
    r = subprocess.run([sys.executable, str(ROOT / "bindings/gen/gen.py"), "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_cdef_in_the_installed_package_matches_the_tree():
    import ddata._cdef as installed

    tree = (ROOT / "python/ddata/_cdef.py").read_text()
    assert installed.CDEF in tree, "reinstall the package: make test-python"


def test_generator_rejects_what_it_does_not_understand(tmp_path):
    root = tmp_path
    (root / "abi/include").mkdir(parents=True)
    text = (ROOT / "abi/include/ddata.h").read_text()
    text = text.replace("#ifdef __cplusplus\n}", "typedef union dd_u { int a; } dd_u;\n#ifdef __cplusplus\n}")
    (root / "abi/include/ddata.h").write_text(text)
    r = subprocess.run([sys.executable, str(ROOT / "bindings/gen/gen.py"), "check", "--root", str(root)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "does not understand" in r.stderr


def test_a_stale_output_fails_the_check(tmp_path):
    shutil.copytree(ROOT / "abi", tmp_path / "abi")
    shutil.copytree(ROOT / "bindings", tmp_path / "bindings")
    shutil.copytree(ROOT / "python/ddata", tmp_path / "python/ddata")
    shutil.copy(ROOT / "python/ddata_build.py", tmp_path / "python/ddata_build.py")
    for d in ("rust-sys/ddata-sys/src", "node/src/generated"):
        shutil.copytree(ROOT / d, tmp_path / d)
    gen = [sys.executable, str(ROOT / "bindings/gen/gen.py"), "check", "--root", str(tmp_path)]
    assert subprocess.run(gen, capture_output=True).returncode == 0
    ffi = tmp_path / "rust-sys/ddata-sys/src/ffi.rs"
    ffi.write_text(ffi.read_text().replace("pub fn dd_version(", "pub fn dd_versio("))
    r = subprocess.run(gen, capture_output=True, text=True)
    assert r.returncode != 0 and "ffi.rs is stale" in r.stderr


def test_an_unwrapped_function_fails_the_check(tmp_path):
    shutil.copytree(ROOT, tmp_path / "r", ignore=shutil.ignore_patterns("build*", "target", ".git", "node_modules"))
    root = tmp_path / "r"
    h = root / "abi/include/ddata.h"
    h.write_text(h.read_text().replace("DD_API int dd_init(void);", "DD_API int dd_init(void);\nDD_API int dd_frobnicate(int x);"))
    subprocess.run([sys.executable, str(root / "bindings/gen/gen.py"), "update", "--root", str(root)], check=True,
                   capture_output=True)
    r = subprocess.run([sys.executable, str(root / "bindings/gen/gen.py"), "check", "--root", str(root)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "does not wrap dd_frobnicate" in r.stderr


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_rust_layout_tests_pass(tmp_path):
    exe = tmp_path / "ffi_layout"
    subprocess.run(["rustc", "--edition", "2021", "--test", "-o", str(exe),
                    str(ROOT / "rust-sys/ddata-sys/src/ffi.rs")], check=True, capture_output=True, cwd=tmp_path)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 failed" in r.stdout
