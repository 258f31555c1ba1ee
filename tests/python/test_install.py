"""`pip install ./python` from a clean copy of the tree, building the
library with CMake and linking it statically: the fresh-machine path the
README promises (`make test-python` itself installs with DDATA_BUILD_DIR).
It costs one library build (about 15 s on 2 cores); DD_QUICK=1 skips it."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.skipif(os.environ.get("DD_QUICK") == "1", reason="DD_QUICK=1 skips the clean-copy build")
@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_pip_install_from_a_clean_copy_builds_and_links_the_library(tmp_path):
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    env = dict(os.environ, DDATA_FROM_SOURCE="1")
    env.pop("DDATA_BUILD_DIR", None)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(tmp_path / "site"),
                    str(src / "python")], check=True, env=env)
    assert (src / "python/build/ddata-cmake/libddata.a").exists()
    code = ("import ddata; n = ddata.System('a', seeds=['a']); r = n.replica(); "
            "r.counter('c').increment(2); print(r.counter('c').value)")
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, PYTHONPATH=str(tmp_path / "site")),
                         cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert out.strip() == "2"
