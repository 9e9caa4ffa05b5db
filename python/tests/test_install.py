"""The install contract: `pip install --no-build-isolation --no-index ./python` in a virtual
environment made with --system-site-packages, offline, gives a working `import entroscope` (with
the demo models). pip builds a copy of python/ (so the checkout stays clean) against this build."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import BINARY, REPO


@pytest.mark.skipif(not os.path.exists(os.path.join(os.path.dirname(BINARY), "CMakeCache.txt")),
                    reason="needs the CMake build folder the tests run from")
def test_pip_install_into_a_venv_offline(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    source = tmp_path / "python"
    shutil.copytree(os.path.join(REPO, "python"), source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info",
                                                                                        "__pycache__"))
    env = dict(os.environ, ENTROSCOPE_SOURCE_DIR=REPO, ENTROSCOPE_BUILD_DIR=os.path.dirname(BINARY),
               PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)  # the venv's own site-packages, not the build folder
    python = str(venv / "bin" / "python")
    p = subprocess.run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", str(source)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:]
    check = ("import entroscope, os; m = entroscope.load('demo-gpt2-s'); df = m.score('I was a mat in France.', unit='word');"
             "print(entroscope.__file__); print(len(df))")
    r = subprocess.run([python, "-c", check], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    where, rows = r.stdout.split()
    assert where.startswith(str(venv)) and rows == "6"
