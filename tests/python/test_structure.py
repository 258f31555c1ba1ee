"""tools/style/structure.py (ctest style.structure) fails on each shape it
forbids, planted in a small tree, and passes on the clean one."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools/style/structure.py"


def _tree(root):
    (root / "core/util").mkdir(parents=True)
    (root / "abi/include").mkdir(parents=True)
    (root / "core/util/a.c").write_text('#include "util/a.h"\nint a_one(void)\n{\n    return 1;\n}\n')
    (root / "abi/include/ddata.h").write_text("int dd_x(void);\n")
    (root / "abi/abi.h").write_text('#include "ddata.h"\n')
    (root / "abi/x.c").write_text('#include "abi.h"\nstatic int helper(void);\n'
                                  "int (*hook)(void);\nint dd_x(void)\n{\n    return helper();\n}\n"
                                  "static int helper(void)\n{\n    return 0;\n}\n")


def _run(root):
    return subprocess.run([sys.executable, str(TOOL), "--root", str(root)], capture_output=True, text=True)


def test_a_clean_tree_passes(tmp_path):
    _tree(tmp_path)
    r = _run(tmp_path)
    assert r.returncode == 0, r.stderr


def test_a_c_file_over_600_lines_fails(tmp_path):
    _tree(tmp_path)
    (tmp_path / "core/util/long.c").write_text("int v;\n" * 601)
    r = _run(tmp_path)
    assert r.returncode != 0 and "core/util/long.c has 601 lines" in r.stderr


def test_a_prototype_copied_into_a_c_file_fails(tmp_path):
    _tree(tmp_path)
    (tmp_path / "core/util/b.c").write_text("int a_one(void);\nint b(void)\n{\n    return a_one();\n}\n")
    r = _run(tmp_path)
    assert r.returncode != 0 and "core/util/b.c:1 declares a_one()" in r.stderr


def test_an_include_circle_in_abi_fails(tmp_path):
    _tree(tmp_path)
    (tmp_path / "abi/one.h").write_text('#include "two.h"\n')
    (tmp_path / "abi/two.h").write_text('#include "one.h"\n')
    r = _run(tmp_path)
    assert r.returncode != 0 and "abi/ includes in a circle" in r.stderr


def test_a_stale_long_file_entry_fails(tmp_path):
    _tree(tmp_path)
    (tmp_path / "tools/style").mkdir(parents=True)
    (tmp_path / "tools/style/long_files.txt").write_text("core/util/a.c once long\n")
    r = _run(tmp_path)
    assert r.returncode != 0 and "which now has 5 lines; remove it" in r.stderr
