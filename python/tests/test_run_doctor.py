"""entroscope.run and entroscope.doctor give what the CLI gives; Ctrl-C stops a long scoring call."""
import os
import signal
import threading
import time

import pandas as pd
import pytest

from conftest import REPO, cli

ITEMS = os.path.join(REPO, "models", "demo-experiment", "items.jsonl")


def small_spec(tmp_path):
    items = tmp_path / "items.jsonl"
    with open(ITEMS) as f:
        items.write_text("".join(f.readlines()[:12]))
    return {
        "name": "py-demo",
        "models": ["demo-gpt2-s", "demo-gpt2-m"],
        "data": str(items),
        "conditions": {"with_context": ["{context}", {"text": "{target}", "measure": True}],
                       "no_context": ["<|endoftext|>", {"text": "{target}", "measure": True}]},
        "contrasts": ["with_context - no_context"],
        "metrics": ["entropy", "surprisal"],
        "statistics": {"bootstrap": {"samples": 200, "seed": 0, "level": 0.95}, "test": "paired_t"},
    }


def test_run_gives_the_cli_summary(entroscope, tmp_path):
    import json
    spec = small_spec(tmp_path)
    summary = entroscope.run(spec, out=tmp_path / "py")
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(spec))
    cli("run", str(path), "--out", str(tmp_path / "cli"), "--offline")
    want = pd.read_csv(tmp_path / "cli" / "scaling_summary.csv")
    assert list(summary.columns) == list(want.columns)
    numeric = [c for c in want.columns if want[c].dtype.kind == "f"]
    assert numeric
    pd.testing.assert_frame_equal(summary[numeric], want[numeric], check_exact=True)
    # the same page as the CLI's, and none with report=False
    assert (tmp_path / "py" / "report.html").is_file() and (tmp_path / "cli" / "report.html").is_file()
    entroscope.run(spec, out=tmp_path / "quiet", report=False)
    assert not (tmp_path / "quiet" / "report.html").exists()
    # report() writes the page for a finished folder, as `entroscope report` does
    page = entroscope.report(tmp_path / "py", out=tmp_path / "again.html")
    assert page == str(tmp_path / "again.html")
    assert 'id="summary-table"' in (tmp_path / "again.html").read_text()
    assert "no heat maps: no per-token file" in open(entroscope.report(tmp_path / "quiet")).read()
    with pytest.raises(entroscope.Error, match="not the output folder"):
        entroscope.report(tmp_path)
    with pytest.raises(entroscope.NotFoundError):
        entroscope.report(tmp_path / "nowhere")
    # a spec file works the same, and a finished model is reused
    again = entroscope.run(path, out=tmp_path / "py")
    pd.testing.assert_frame_equal(again[numeric], summary[numeric], check_exact=True)
    with pytest.raises(entroscope.NotFoundError):
        entroscope.run(tmp_path / "missing.yaml")
    with pytest.raises(entroscope.InputError, match="contrast"):
        entroscope.run(dict(spec, contrasts=["with_context - nowhere"]), out=tmp_path / "bad")


def test_doctor_returns_the_report(entroscope):
    report = entroscope.doctor(os.path.join(REPO, "tests", "data", "models", "gpt2-tiny-unaligned"))
    assert isinstance(report, dict)
    text = str(report)
    assert "misaligned" in text or "aligned" in text
    findings = report.get("findings")
    assert findings and all("severity" in f for f in findings)


def test_ctrl_c_interrupts_a_long_scoring_call(entroscope):
    m = entroscope.load("demo-gpt2-l")
    texts = ["The quick brown fox jumps over the lazy dog, again and again."] * 50000
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        m.score(texts, progress=False)
    assert time.monotonic() - start < 10  # scoring them all takes ~70 s: the call was stopped, not finished
    assert len(m.score(["Still usable."])) > 0  # the model is fine afterwards
