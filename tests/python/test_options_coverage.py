"""Every field of every options struct is set by Python, Node and Rust, or
listed with a reason in bindings/gen/options_unexposed.txt (#18.4)."""
import subprocess
import sys

from conftest import ROOT


def test_every_options_field_is_reachable_from_every_binding():
    r = subprocess.run([sys.executable, str(ROOT / "tools/bindings_options.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_new_unset_field_fails_the_check(tmp_path):
    for rel in ("abi/include", "python/ddata", "node/src", "node/lib", "rust-sys/ddata/src", "bindings/gen"):
        src, dst = ROOT / rel, tmp_path / rel
        dst.mkdir(parents=True)
        for p in src.glob("*.*"):
            if p.is_file():
                dst.joinpath(p.name).write_bytes(p.read_bytes())
    h = tmp_path / "abi/include/ddata.h"
    h.write_text(h.read_text().replace("    uint32_t snapshot_keep; ", "    uint32_t snapshot_keep;\n    uint32_t frobnicate_ms; ", 1))
    r = subprocess.run([sys.executable, str(ROOT / "tools/bindings_options.py"), "--root", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "python does not set dd_store_options.frobnicate_ms" in r.stderr
    assert "node does not set dd_store_options.frobnicate_ms" in r.stderr
