"""docs/python.md's worked example runs as written (from the repository root)."""
import os
import re
import subprocess
import sys

from conftest import REPO


def test_the_worked_example_runs_as_written(tmp_path):
    text = open(os.path.join(REPO, "docs", "python.md")).read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    p = subprocess.run([sys.executable, str(script)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ), timeout=300)
    assert p.returncode == 0, p.stderr
    assert "surprisal_bow_bits" in p.stdout and "demo-gpt2-l" in p.stdout
    assert "fell." in p.stdout  # the merge kept every word
