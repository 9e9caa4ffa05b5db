"""Shared fixtures: the CLI binary (to compare against), the repository's data, a demo model loaded once."""
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("ENTROSCOPE_BINARY", os.path.join(REPO, "build", "entroscope"))
TEST_MODELS = os.path.join(REPO, "tests", "data", "models")


@pytest.fixture(scope="session")
def entroscope():
    import entroscope as module
    return module


@pytest.fixture(scope="session")
def gpt2s(entroscope):
    return entroscope.load("demo-gpt2-s")


def cli(*args, check=True):
    """Runs the CLI; returns stdout."""
    p = subprocess.run([BINARY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"entroscope {' '.join(args)} failed: {p.stderr}")
    return p.stdout
