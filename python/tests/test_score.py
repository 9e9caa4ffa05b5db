"""Model.score gives the rows of `entroscope score --format jsonl`: same columns, rows, order and bits."""
import json
import math
import threading

import numpy as np
import pandas as pd
import pytest

from conftest import cli

TEXTS = ["The cat sat on the mat.", "I was a mat in France.", "  Leading spaces, and a café\u00a0here!",
         "A\nsecond line", "x"]


def cli_rows(model, texts, unit, bos="auto"):
    args = ["score", "--model", model, "--format", "jsonl", "--unit", unit, "--bos", bos]
    for t in texts:
        args += ["--text", t]
    return [json.loads(line) for line in cli(*args).splitlines()]


def same(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and not isinstance(a, bool) and a == b)


@pytest.mark.parametrize("model", ["demo-gpt2-s", "demo-neox-m"])
@pytest.mark.parametrize("unit", ["token", "word"])
@pytest.mark.parametrize("bos", ["auto", "never"])
def test_rows_equal_the_cli_bit_for_bit(entroscope, model, unit, bos):
    m = entroscope.load(model)
    want = cli_rows(model, TEXTS, unit, bos)
    got = m.score(TEXTS, unit=unit, bos=bos, format="dict")
    assert list(got) == list(want[0])  # the same columns in the same order
    assert len(got["model"]) == len(want)
    for i, row in enumerate(want):
        for column, value in row.items():
            mine = got[column][i]
            assert same(mine, value), f"row {i} {column}: {mine!r} vs CLI {value!r}"
            if isinstance(value, float):
                assert mine == value  # exactly: the CLI prints shortest round-trip decimals


def test_dataframe_schema(gpt2s):
    df = gpt2s.score(TEXTS, unit="token")
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["model", "revision", "bos", "text_id", "unit_index", "unit", "char_start", "char_end",
                                "byte_start", "byte_end", "token_index", "token_id", "entropy_bits", "surprisal_bits"]
    assert df["entropy_bits"].dtype == np.float64 and df["surprisal_bits"].dtype == np.float64
    assert df["token_id"].dtype == np.int64 and df["text_id"].dtype == np.int64
    assert df["unit"].dtype == object
    assert np.isfinite(df["surprisal_bits"]).all()  # auto BOS: every token scored
    never = gpt2s.score(TEXTS, bos="never")
    firsts = never[never["token_index"] == 0]
    assert firsts["surprisal_bits"].isna().all()  # no BOS: the first token is not scored (NaN, the CLI's NA)
    words = gpt2s.score(TEXTS, unit="word")
    assert words["boundary_inside_token"].dtype == bool
    assert "surprisal_bow_bits" in words.columns


def test_dict_inputs_carry_their_fields_and_ids(gpt2s):
    df = gpt2s.score([{"id": "s1", "text": "The cat sat.", "condition": "a"},
                      {"id": "s2", "text": "A dog ran.", "condition": "b", "rt": 312}], unit="word")
    assert list(df.columns[:7]) == ["model", "revision", "bos", "text_id", "condition", "rt", "unit_index"]
    assert df.groupby("text_id")["condition"].first().to_dict() == {"s1": "a", "s2": "b"}
    assert df[df.text_id == "s1"]["rt"].isna().all()


def test_numpy_format(gpt2s):
    arrays = gpt2s.score(TEXTS, format="numpy")
    assert arrays["entropy_bits"].dtype == np.float64
    assert arrays["token_id"].dtype == np.int64
    assert len(arrays["unit"]) == len(arrays["token_id"])


def test_two_python_threads_score_in_parallel(gpt2s, entroscope):
    other = entroscope.load("demo-gpt2-m")
    texts = TEXTS * 40
    want = {id(gpt2s): gpt2s.score(texts), id(other): other.score(texts)}
    results, errors = {}, []

    def work(m, key):
        try:
            results[key] = m.score(texts)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(m, k)) for k, m in enumerate([gpt2s, other, gpt2s])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads) and not errors
    pd.testing.assert_frame_equal(results[0], want[id(gpt2s)])
    pd.testing.assert_frame_equal(results[1], want[id(other)])
    pd.testing.assert_frame_equal(results[2], want[id(gpt2s)])


def test_bad_inputs_raise_entroscope_errors(gpt2s, entroscope):
    with pytest.raises(entroscope.InputError, match="no texts"):
        gpt2s.score([])
    with pytest.raises(entroscope.InputError, match="text 1 is a int"):
        gpt2s.score(["fine", 3])
    with pytest.raises(entroscope.InputError, match="use token or word"):
        gpt2s.score(["x"], unit="character")
    with pytest.raises(ValueError, match="not a token of"):
        gpt2s.score(["x"], bos="no-such-token")
    with pytest.raises(entroscope.NotFoundError):
        entroscope.load("./no/such/model")
    with pytest.raises(FileNotFoundError):
        entroscope.load("/no/such/model")
    with pytest.raises(entroscope.Error):
        entroscope.load("no-such-demo-or-hub-id", offline=True)


def test_device(gpt2s, entroscope):
    assert gpt2s.device == "cpu"
    with pytest.raises(entroscope.Error, match="unknown device 'tpu'"):
        entroscope.load("demo-gpt2-s", device="tpu")
    if not entroscope._core.cuda_built:
        # a CPU build refuses the GPU before loading anything (the GPU path: tests/cuda, docs/gpu.md)
        with pytest.raises(entroscope.Error, match="this build has no CUDA backend"):
            entroscope.load("demo-gpt2-s", device="cuda")


def test_progress_plain_without_tqdm(gpt2s, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    gpt2s.score(["a b c"] * 300, progress=True)
    assert "entroscope: scored 300/300 texts" in capsys.readouterr().err
    gpt2s.score(["a b c"] * 300, progress=False)
    assert capsys.readouterr().err == ""


def test_the_gil_is_released_while_scoring(entroscope):
    import time
    m = entroscope.load("demo-gpt2-l")
    worker = threading.Thread(target=m.score, args=(["The quick brown fox jumps over the lazy dog."] * 3000,),
                              kwargs={"progress": False})
    worker.start()
    time.sleep(0.2)
    spins, end = 0, time.monotonic() + 0.5
    while time.monotonic() < end:  # Python runs here only if the scoring thread let go of the GIL
        spins += 1
    still_scoring = worker.is_alive()
    worker.join()
    assert still_scoring, "scoring finished too soon to tell"
    assert spins > 10000


def test_progress_bar_with_tqdm(gpt2s, capsys):
    pytest.importorskip("tqdm")  # scripts/setup.sh installs python3-tqdm
    gpt2s.score(["a b c"] * 300, progress=True)
    err = capsys.readouterr().err
    assert "scoring" in err and "300/300" in err and "entroscope: scored" not in err
