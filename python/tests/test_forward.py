"""Model.forward: the CLI's logits, zero-copy into numpy, errors with locations."""
import json
import os
import struct
import shutil
import tracemalloc

import numpy as np
import pytest

from conftest import TEST_MODELS, cli


def test_logits_equal_the_cli_forward(gpt2s, tmp_path):
    ids = np.array([[5, 17, 300, 2047, 9], [1, 2, 3, 4, 5]], dtype=np.int64)
    logits = gpt2s.forward(ids)
    assert logits.shape == (2, 5, gpt2s.vocab_size) and logits.dtype == np.float32
    # The CLI's `forward --ids`: a safetensors file with input_ids; it writes logits as F32.
    header = json.dumps({"input_ids": {"dtype": "I64", "shape": [2, 5], "data_offsets": [0, 80]}}).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    path = tmp_path / "ids.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + ids.tobytes())
    out = tmp_path / "out.safetensors"
    cli("forward", "--model", "demo-gpt2-s", "--input", str(path), "--output", str(out))
    raw = out.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    meta = json.loads(raw[8:8 + n])
    begin, end = meta["logits"]["data_offsets"]
    want = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=np.float32).reshape(meta["logits"]["shape"])
    assert np.array_equal(logits.reshape(want.shape), want)


def test_logits_are_the_cpp_buffer_not_a_copy(gpt2s):
    ids = np.arange(256, dtype=np.int64).reshape(2, 128)
    tracemalloc.start()
    logits = gpt2s.forward(ids)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not logits.flags.owndata
    assert type(logits.base).__name__ == "PyCapsule"  # the array keeps the C++ vector alive
    assert peak < logits.nbytes / 4  # numpy never allocated a [B, T, V] of its own
    del ids
    assert np.isfinite(logits).all()


def test_hidden_states(gpt2s):
    logits, hidden = gpt2s.forward(np.array([[1, 2, 3]]), hidden_states=True)
    with open(os.path.join(gpt2s.path, "config.json")) as f:
        layers = json.load(f)["n_layer"]
    assert len(hidden) == layers + 1  # the embedding, then each layer's output
    assert all(h.shape[:2] == (1, 3) for h in hidden)


def test_bad_ids(gpt2s, entroscope):
    with pytest.raises(entroscope.InputError, match="integer array"):
        gpt2s.forward(np.array([[1.0, 2.0]]))
    with pytest.raises(entroscope.InputError, match="outside the vocabulary") as e:
        gpt2s.forward(np.array([[1, gpt2s.vocab_size]]))
    assert isinstance(e.value, entroscope.Error) and isinstance(e.value, ValueError)
    with pytest.raises(entroscope.InputError, match="2-D"):
        gpt2s.forward(np.zeros((1, 2, 3), dtype=np.int64))


def nan_model(tmp_path):
    """gpt2-tiny with one NaN in layer 1's MLP down-projection, column 5."""
    d = tmp_path / "nan-model"
    shutil.copytree(os.path.join(TEST_MODELS, "gpt2-tiny"), d)
    raw = bytearray((d / "model.safetensors").read_bytes())
    n = struct.unpack("<Q", raw[:8])[0]
    meta = json.loads(raw[8:8 + n])
    t = meta["h.1.mlp.c_proj.weight"]
    assert t["dtype"] == "F32"
    at = 8 + n + t["data_offsets"][0] + 5 * 4
    raw[at:at + 4] = struct.pack("<f", float("nan"))
    (d / "model.safetensors").write_bytes(bytes(raw))
    return d


def test_non_finite_error_says_where(entroscope, tmp_path):
    m = entroscope.load(str(nan_model(tmp_path)))
    with pytest.raises(entroscope.NonFiniteError) as e:
        m.forward(np.array([[3, 7, 11, 13]]))
    err = e.value
    assert isinstance(err, entroscope.NumericError) and isinstance(err, entroscope.Error)
    assert (err.layer, err.step, err.position, err.channel) == (1, "mlp.out", 0, 5)
    assert err.model.endswith("nan-model")
    assert "layer 1 at step 'mlp.out'" in str(err)


def test_tokenizer_matches_the_cli(gpt2s):
    import subprocess
    from conftest import BINARY
    text = "Hello, world! Caf\u00e9 \u2014 fine."
    ids = gpt2s.tokenizer.encode(text)
    p = subprocess.run([BINARY, "tokenize", "--tokenizer", "demo-gpt2-s"], input=json.dumps({"text": text}) + "\n",
                       stdout=subprocess.PIPE, text=True, check=True)
    assert json.loads(p.stdout)["ids"] == ids
    assert gpt2s.tokenizer.decode(ids) == text
    with pytest.raises(ValueError, match="not in the tokenizer's vocabulary"):
        gpt2s.tokenizer.decode([gpt2s.vocab_size + 5])
