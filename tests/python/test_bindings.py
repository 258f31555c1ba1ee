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


def _copy_inputs(dst):
    """The files gen.py reads and writes, copied under dst."""
    shutil.copytree(ROOT / "abi/include", dst / "abi/include")
    shutil.copytree(ROOT / "bindings/gen", dst / "bindings/gen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "python/ddata", dst / "python/ddata", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(ROOT / "python/ddata_build.py", dst / "python/ddata_build.py")
    for d in ("rust-sys/ddata-sys/src", "rust-sys/ddata/src", "node/src"):
        shutil.copytree(ROOT / d, dst / d)
    for f in ["abi/impl.h"] + sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("abi/calls_*.c")):
        shutil.copy(ROOT / f, dst / f)


def _gen(root, command="check"):
    return subprocess.run([sys.executable, str(ROOT / "bindings/gen/gen.py"), command, "--root", str(root)],
                          capture_output=True, text=True)


def test_a_stale_output_fails_the_check(tmp_path):
    _copy_inputs(tmp_path)
    assert _gen(tmp_path).returncode == 0
    ffi = tmp_path / "rust-sys/ddata-sys/src/ffi.rs"
    ffi.write_text(ffi.read_text().replace("pub fn dd_version(", "pub fn dd_versio("))
    r = _gen(tmp_path)
    assert r.returncode != 0 and "ffi.rs is stale" in r.stderr


def _check_with_a_new_function(root):
    """Declares dd_frobnicate in a copy of the inputs under root, regenerates,
    and runs the check (which no binding can pass: nothing wraps it)."""
    _copy_inputs(root)
    h = root / "abi/include/ddata.h"
    h.write_text(h.read_text().replace("DD_API int dd_init(void);",
                                       "DD_API int dd_init(void);\nDD_API int dd_frobnicate(int x);"))
    assert _gen(root, "update").returncode == 0
    return _gen(root)


def test_an_unwrapped_function_fails_the_check(tmp_path):
    r = _check_with_a_new_function(tmp_path)
    assert r.returncode != 0 and "does not wrap dd_frobnicate" in r.stderr


def test_allow_list_entries_must_be_real_unwrapped_functions(tmp_path):
    _copy_inputs(tmp_path)
    (tmp_path / "bindings/gen/python_unwrapped.txt").write_text(
        "dd_version wrapped already\ndd_nonexistent gone\n")
    r = _gen(tmp_path)
    assert r.returncode != 0
    assert "dd_version, which python/ddata now wraps" in r.stderr
    assert "dd_nonexistent, which the header no longer declares" in r.stderr


def test_a_function_node_or_rust_does_not_call_fails_the_check(tmp_path):
    r = _check_with_a_new_function(tmp_path)
    assert r.returncode != 0
    assert "the node binding does not call dd_frobnicate" in r.stderr
    assert "the rust binding does not call dd_frobnicate" in r.stderr


def test_node_and_rust_allow_list_entries_must_be_real_and_explained(tmp_path):
    _copy_inputs(tmp_path)
    allow = tmp_path / "bindings/gen/functions_unexposed.txt"
    allow.write_text(allow.read_text() + "node dd_version called already\nrust dd_nonexistent gone\nnode dd_system_connect\n")
    r = _gen(tmp_path)
    assert r.returncode != 0
    assert "node dd_version, which that binding now calls" in r.stderr
    assert "rust dd_nonexistent, which the header no longer declares" in r.stderr
    assert "node dd_system_connect without a reason" in r.stderr


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_rust_layout_tests_pass(tmp_path):
    exe = tmp_path / "ffi_layout"
    subprocess.run(["rustc", "--edition", "2021", "--test", "-o", str(exe),
                    str(ROOT / "rust-sys/ddata-sys/src/ffi.rs")], check=True, capture_output=True, cwd=tmp_path)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 failed" in r.stdout
