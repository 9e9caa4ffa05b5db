"""entroscope: next-token entropy and surprisal of language models on CPU, exact fp32, from Python.

The same C++ library as the `entroscope` command (not a subprocess): the numbers are the CLI's,
bit for bit.

    >>> import entroscope
    >>> gpt2 = entroscope.load("demo-gpt2-s")
    >>> words = gpt2.score(["The cat sat on the mat."], unit="word")   # a pandas DataFrame
    >>> words[["unit", "surprisal_bits", "surprisal_bow_bits"]]

`load` takes a model directory, a bundled demo name or a Hub id (as `--model` does); `Model.score`
returns the rows of `entroscope score --format jsonl` as a DataFrame; `Model.forward` returns the
logits as a numpy array without copying them; `run` runs an experiment file; `doctor` diagnoses a
checkpoint. See docs/python.md.
"""
import os as _os
import sys as _sys
import time as _time

from .errors import Error, InputError, NonFiniteError, NotFoundError, NumericError

_here = _os.path.dirname(_os.path.abspath(__file__))
# Demo models: installed with the package, or the source tree's when imported from a build folder.
if "ENTROSCOPE_MODELS_DIR" not in _os.environ:
    for _candidate in (_os.path.join(_here, "models"), _os.path.join(_here, "..", "..", "models"),
                       _os.path.join(_here, "..", "..", "..", "models")):
        if _os.path.isdir(_os.path.join(_candidate, "demo-gpt2-s")):
            _os.environ["ENTROSCOPE_MODELS_DIR"] = _os.path.abspath(_candidate)
            break

from . import _entroscope as _core  # noqa: E402

__version__ = _core.__version__
__all__ = ["load", "Model", "Tokenizer", "run", "report", "doctor", "Error", "InputError", "NotFoundError", "NumericError",
           "NonFiniteError"]


def load(model, threads=None, offline=False, device="cpu"):
    """Load a model once (weights memory-mapped, tokenizer read) for scoring.

    model: a directory with config.json + model.safetensors (+ tokenizer files), a bundled demo name
        ("demo-gpt2-s", "demo-neox-m", ...) or a Hub id ("gpt2", "EleutherAI/pythia-410m@step3000"),
        resolved as the CLI's --model does (Hub ids are downloaded unless offline=True).
    threads: compute threads for the whole process (None: OMP_NUM_THREADS, else every core).
        Results do not depend on it.
    device: "cpu", or "cuda" for score() and forward() on an NVIDIA GPU (an entroscope built with
        the CUDA backend, docs/gpu.md; results agree with the CPU's within the fixtures' tolerances).

    Example:
        >>> m = entroscope.load("demo-gpt2-s")
        >>> m
        <entroscope.Model demo-gpt2-s: GPT-2, 297,536 parameters, float32, .../models/demo-gpt2-s>
    """
    if not isinstance(model, (str, _os.PathLike)):
        raise InputError(f"load: model must be a path, demo name or Hub id, got {type(model).__name__}")
    spec = _os.fspath(model)
    if spec.startswith((".", "/", "~")) and not _os.path.exists(_os.path.expanduser(spec)):
        raise NotFoundError(f"{spec}: no such model directory")
    if threads is not None:
        _core.set_threads(int(threads))
    return Model(_core.Model(_os.path.expanduser(spec), bool(offline), str(device)))


class Tokenizer:
    """The model's tokenizer (tokenizer.json, or vocab.json + merges.txt), exactly as `entroscope tokenize`."""

    def __init__(self, core):
        self._core = core

    def encode(self, text):
        """Token ids of `text` (no BOS, no special tokens parsed from the text)."""
        return self._core.encode(text)

    def decode(self, ids):
        """The text of `ids` (invalid UTF-8 from partial characters is replaced with U+FFFD)."""
        return self._core.decode([int(i) for i in ids]).decode("utf-8", errors="replace")

    def token_text(self, token_id):
        """One token's text, bytes that are not whole UTF-8 characters shown as <0xAB>."""
        return self._core.token_text(int(token_id))


class _Progress:
    """tqdm when installed, else a line on stderr every few seconds; only for calls of many texts."""

    def __init__(self, total, enabled):
        self.total, self.bar, self.last = total, None, _time.monotonic()
        self.enabled = enabled if enabled is not None else total >= 256
        if self.enabled:
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=total, unit="text", desc="scoring")
            except ImportError:
                pass

    def __call__(self, done, total):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif _time.monotonic() - self.last >= 2.0 or done == total:
            self.last = _time.monotonic()
            print(f"entroscope: scored {done}/{total} texts", file=_sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _columns_as_numpy(columns):
    import numpy as np
    out = {}
    for name, values in columns.items():
        if values and all(v is None or isinstance(v, float) for v in values) and any(isinstance(v, float) for v in values):
            out[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        elif values and all(isinstance(v, bool) for v in values):
            out[name] = np.array(values, dtype=bool)
        elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            out[name] = np.array(values, dtype=np.int64)
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            out[name] = arr
    return out


class Model:
    """A loaded model (entroscope.load). Attributes: name, family, model_type, parameters, dtype
    (how its matrices are held: "float32", "bfloat16", ...), path, revision, vocab_size,
    context_length, resident_weight_bytes, tokenizer."""

    def __init__(self, core):
        self._core = core
        self.tokenizer = Tokenizer(core)

    name = property(lambda self: self._core.name)
    family = property(lambda self: self._core.family)
    model_type = property(lambda self: self._core.model_type)
    parameters = property(lambda self: self._core.parameters)
    dtype = property(lambda self: self._core.dtype)
    path = property(lambda self: self._core.path)
    revision = property(lambda self: self._core.revision)
    vocab_size = property(lambda self: self._core.vocab_size)
    context_length = property(lambda self: self._core.context_length)
    device = property(lambda self: self._core.device)
    resident_weight_bytes = property(lambda self: self._core.resident_weight_bytes)

    def __repr__(self):
        where = self.path + (f"@{self.revision}" if self.revision else "")
        return f"<entroscope.Model {self.name}: {self.family}, {self.parameters:,} parameters, {self.dtype}, {where}>"

    def metadata(self):
        """Reproducibility metadata, as results files record it (version, commit, threads, kernel, ...)."""
        return dict(self._core.metadata())

    def score(self, texts, unit="token", bos="auto", format="pandas", progress=None):
        """Entropy and surprisal (bits) of every token or word of `texts`: the rows and columns of
        `entroscope score --format jsonl`, in the same order, with the same numbers.

        texts: a str, or a list of str, or of dicts {"text": ..., "id": ..., other fields carried
            through as columns} (like `score --input FILE.jsonl`).
        unit: "token" or "word" (words with the beginning-of-word corrected surprisal, docs/words.md).
        bos: "auto", "always", "never", a token id or a token string (as --bos).
        format: "pandas" (a DataFrame, unscored values NaN), "numpy" (a dict of arrays) or "dict"
            (a dict of lists, unscored values None).
        progress: None (a bar from 256 texts on; tqdm when installed), True or False.

        Texts are scored in packed batches; Ctrl-C interrupts between texts.

        Example:
            >>> df = m.score(["The cat sat.", "A dog ran."], unit="word")
            >>> df.groupby("text_id").surprisal_bits.sum()
        """
        if isinstance(texts, (str, dict)):
            texts = [texts]
        texts = list(texts)
        if not texts:
            raise InputError("score: no texts to score (an empty list)")
        if format not in ("pandas", "numpy", "dict"):
            raise InputError(f"score: format={format!r}: use 'pandas', 'numpy' or 'dict'")
        if isinstance(bos, int) and not isinstance(bos, bool):
            bos = str(bos)
        bar = _Progress(len(texts), progress)
        try:
            columns = self._core.score(texts, unit, bos, bar)
        finally:
            bar.close()
        if format == "dict":
            return columns
        if format == "numpy":
            return _columns_as_numpy(columns)
        import pandas as pd
        return pd.DataFrame(_columns_as_numpy(columns), columns=list(columns))

    def forward(self, ids, hidden_states=False):
        """Logits of a [B, T] batch of token ids (numpy int array) as a float32 array [B, T, V].

        The array is the C++ result buffer itself (no copy; it keeps the buffer alive). With
        hidden_states=True, returns (logits, [hidden_0, ..., hidden_L]) with each [B, T, width]:
        the embedding output, then every layer's residual stream, the last after the final norm.
        Raises InputError for ids that are not integers or lie outside the vocabulary, and
        NonFiniteError (with where it happened) instead of returning NaN.
        """
        import numpy as np
        ids = np.asarray(ids)
        if ids.ndim == 1:
            ids = ids[None, :]
        logits, hidden = self._core.forward(ids, bool(hidden_states))
        return (logits, hidden) if hidden_states else logits


def run(spec, out=None, force=False, offline=False, report=True):
    """Run an experiment exactly as `entroscope run` does and return its summary as a DataFrame
    (scaling_summary.csv: one row per model and contrast).

    spec: the path of an experiment file (YAML), or the experiment as a dict (relative paths in it
        are relative to the current directory).
    out: the output folder (default results/<experiment name>); a finished model is reused unless
        force=True.
    report: also write out/report.html, the experiment's page (as `entroscope run` does unless
        --no-report), and the per-token files its heat maps need.

    Example:
        >>> summary = entroscope.run("models/demo-experiment/experiment.yaml", out="results/demo")
    """
    import json
    import tempfile
    written = None
    if isinstance(spec, dict):
        fd, written = tempfile.mkstemp(prefix=".entroscope-spec-", suffix=".yaml", dir=_os.getcwd())
        with _os.fdopen(fd, "w") as f:
            json.dump(spec, f)
        path = written
        name = str(spec.get("name", "experiment"))
    else:
        path = _os.fspath(spec)
        if not _os.path.exists(path):
            raise NotFoundError(f"{path}: no such experiment file")
        name = _os.path.splitext(_os.path.basename(path))[0]
    out = _os.fspath(out) if out is not None else _os.path.join("results", name)
    try:
        files, failed = _core.run(path, out, bool(force), bool(offline), bool(report))
    finally:
        if written:
            _os.unlink(written)
    if failed:
        raise Error(f"{len(failed)} model(s) failed: " + "; ".join(failed) + f" (the others' results are in {out})")
    import pandas as pd
    csv = [f for f in files if f.endswith("scaling_summary.csv")]
    return pd.read_csv(csv[0]) if csv else pd.DataFrame()


def report(results, out=None):
    """Write the experiment's page for a `run` output folder, as `entroscope report` does, and
    return its path (default results/report.html). The page reads the folder's files only.

    Example:
        >>> entroscope.report("results/demo", out="/tmp/demo.html")
    """
    results = _os.fspath(results)
    if not _os.path.isdir(results):
        raise NotFoundError(f"{results}: no such folder")
    return _core.report(results, _os.fspath(out) if out is not None else "")


def doctor(model, text=None, max_tokens=128):
    """Diagnose a checkpoint as `entroscope doctor --json` does (files, weights, activations,
    precision) and return the report as a dict: {"verdict", "findings": [...], sections...}."""
    return _core.doctor(_os.fspath(model), text, int(max_tokens))
