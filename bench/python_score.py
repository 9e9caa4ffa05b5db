#!/usr/bin/python3
"""The Python package against the CLI and against PyTorch eager fp32: many short texts (issue 16).

Texts: --texts N (default 1000) short sentences built deterministically from the "target" fields of
--data (models/demo-experiment/items.jsonl, 200 lines of Tiny Shakespeare, 3-15 words each): text k
starts with target k mod 200 and appends the targets k + s, k + 2s, ... (s = 1 + k div 200, so every
pass over the 200 targets gives different texts) until it has at least 10 words: 10-23 words, ~15 on
average, ~20-25 GPT-2 tokens. They are written once as FILE.jsonl, one {"id": k, "text": ...} a line.

Each model spec of --models (a model directory, a bundled demo name such as demo-gpt2-l, or
synth:PRESET for a gpt2-shaped `entroscope synth` checkpoint with GPT-2's tokenizer, cached as
bench/seed_workload.py caches it) is resolved once to its directory with entroscope.load, and that
directory is what every engine below is given.

1. Python layer against the CLI, per model, --units (token, word) and --threads N:
   python   a fresh `/usr/bin/python3 bench/python_score.py _py_worker ...` process per round that
            imports numpy and pandas (untimed: a user of format="pandas" has them imported), then
            times `import entroscope`, `m = entroscope.load(DIR, threads=N, offline=True)` (load) and
            `m.score(texts, unit=U, format="pandas", progress=False)` (score: tokenization, packed
            forward passes, entropy/surprisal, the DataFrame). "Python load+score" is load + score;
            "Python score" is the call alone; "Python process" is the worker's whole wall time seen
            from outside (interpreter start, imports, reading the texts, load, score, and writing the
            values it returns for the check, which takes a few ms).
   CLI      `entroscope score --model DIR --unit U --format jsonl --input FILE.jsonl --out OUT
            --threads N --offline`, timed as the whole process (start, load, reading the input,
            scoring, writing OUT).
   Check, every round: the same number of rows, the same text_id and unit_index on every row, and
   entropy_bits and surprisal_bits of the DataFrame equal to the CLI's JSON Lines values exactly
   (NaN == null). A difference is reported and makes the exit status 1.
   Python/CLI = median Python load+score / median CLI (the issue's target: < 1.05); "paired" is
   the median over rounds of each round's own ratio (less sensitive to load that changes between rounds).

2. entroscope against PyTorch, for models whose config.json has model_type gpt2: bench/torch_ref.py's
   safetensors loader and GPT-2 forward (transformers' eager semantics, fp32), weights paged in at
   load (load timed separately), on entroscope's own token ids: m.tokenizer.encode(text) after the
   BOS id that score uses (parsed from the DataFrame's "bos" column, "auto: <|endoftext|> (2047)").
   Texts sorted by length, cut into right-padded batches of --torch-batch (16); logits for every
   position of the batch, then log-softmax in float64 at the real positions only: entropy and
   surprisal in bits. With right padding and causal attention no real position sees a pad. Timed
   ("PyTorch s"): ids -> per-token values, every batch; not the load, not the tokenization. The
   process runs with torch.set_num_threads(1), OPENBLAS_NUM_THREADS=N and OPENBLAS_CORETYPE /
   OPENBLAS_L2_SIZE removed from its environment (PyTorch at its best: OpenBLAS picks its kernels;
   bench/seed_workload.py's torch_env). Its per-token values are compared with entroscope's (the
   token rows of a score call made while preparing, whose token ids must equal encode's) within
   --check-tol (1e-4 bits) every round; max |Δ| is reported. PyTorch/entroscope = median PyTorch s /
   median Python score s at unit token (entroscope's time includes tokenization and the DataFrame).

The binary and the imported package (build/python/entroscope, or with --no-build-path the installed
one) are copied once at start and the copies are what is run, so a rebuild during the run cannot
change what is measured.

Rounds (--rounds, default 3): in each round, per model and thread count, python and CLI for each
unit, then PyTorch; the order reversed every other round so load from other processes hits all
engines alike. The table gives medians over rounds (min-max in the JSON).

Output: the table on stdout; results/bench/<UTC time>-python/ (git-ignored) with table.md,
summary.json (the machine, arguments, texts, every run's raw timings, checks, cells) and raw.jsonl
(one line per process run). The default run (demo-gpt2-l, token and word, 2 threads, 1000 texts,
3 rounds) takes about a minute on 2 cores.

usage: /usr/bin/python3 bench/python_score.py [--models demo-gpt2-l,synth:gpt2] [--units token,word]
           [--threads 1,2] [--texts 1000] [--rounds 3] [--torch-batch 16] [--no-build-path]
See bench/README.md, "Python package (issue 16)".
"""
import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = "/usr/bin/python3"  # Debian's python with numpy, pandas and python3-torch
BUILD_PYTHON = os.path.join(REPO, "build", "python")
UNITS = ("token", "word")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def use_build_path(no_build_path):
    if not no_build_path and BUILD_PYTHON not in sys.path:
        sys.path.insert(0, BUILD_PYTHON)


def read_texts(path):
    with open(path) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    return [r["text"] for r in rows]


# ---------------------------------------------------------------- Python worker (own process)

def py_worker(argv):
    ap = argparse.ArgumentParser(prog="python_score.py _py_worker")
    ap.add_argument("--model", required=True)
    ap.add_argument("--unit", required=True, choices=UNITS)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--input", required=True, help="JSON Lines {id, text}")
    ap.add_argument("--dump", required=True, help="write the rows' check columns here (.npz)")
    ap.add_argument("--package-path", required=True, help="folder holding the entroscope package to import")
    a = ap.parse_args(argv)
    sys.path.insert(0, a.package_path)
    import numpy as np
    import pandas as pd
    texts = read_texts(a.input)
    t0 = time.perf_counter()
    import entroscope
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = entroscope.load(a.model, threads=a.threads, offline=True)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = m.score(texts, unit=a.unit, format="pandas", progress=False)
    score_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx = "token_index" if a.unit == "token" else "unit_index"
    cols = {"text_id": df["text_id"].to_numpy(dtype=np.int64), "unit_index": df["unit_index"].to_numpy(dtype=np.int64),
            "index": df[idx].to_numpy(dtype=np.int64),
            "entropy_bits": df["entropy_bits"].to_numpy(dtype=np.float64),
            "surprisal_bits": df["surprisal_bits"].to_numpy(dtype=np.float64)}
    if a.unit == "token":
        cols["token_id"] = df["token_id"].to_numpy(dtype=np.int64)
    np.savez(a.dump, **cols)
    dump_s = time.perf_counter() - t0
    print(json.dumps({"engine": "python", "import_s": import_s, "load_s": load_s, "score_s": score_s,
                      "load_score_s": load_s + score_s, "dump_s": dump_s, "rows": int(len(df)),
                      "texts": len(texts), "package": entroscope.__file__, "version": entroscope.__version__,
                      "pandas": pd.__version__, "numpy": np.__version__, "kernel": m.metadata().get("gemm_kernel")}),
          flush=True)


# ---------------------------------------------------------------- PyTorch worker (own process)

def torch_worker(argv):
    ap = argparse.ArgumentParser(prog="python_score.py _torch_worker")
    ap.add_argument("--model", required=True)
    ap.add_argument("--seqs", required=True, help="JSON: {bos, ids: [[...], ...]}")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--dump", required=True, help="write per-token entropy/surprisal here (JSON)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    import torch
    sys.path.insert(0, HERE)
    import torch_ref
    import_s = time.perf_counter() - t0
    torch.set_num_threads(a.torch_threads)
    t0 = time.perf_counter()
    model, cfg = torch_ref.load_model(a.model)
    torch_ref.page_in(model)  # the weights paged in, as from_pretrained's load leaves them
    load_s = time.perf_counter() - t0
    with open(a.seqs) as f:
        spec = json.load(f)
    bos, texts = spec["bos"], spec["ids"]
    n_ctx = cfg.get("n_positions", cfg.get("n_ctx"))
    for j, ids in enumerate(texts):
        if not ids or (n_ctx and len(ids) + 1 > n_ctx):
            raise SystemExit(f"python_score: text {j}: {len(ids)} tokens + BOS; the PyTorch loop needs 1..{n_ctx - 1}")
    t0 = time.perf_counter()
    # Model input BOS + the text's tokens, every token measured (predicted from the position before it).
    scored, padded = torch_ref.score_sorted_batches(model, [([bos] + ids, 1) for ids in texts], a.batch, bos)
    ent_out, sur_out = [e for e, _ in scored], [su for _, su in scored]
    seconds = time.perf_counter() - t0
    with open(a.dump, "w") as f:
        json.dump({"entropy": ent_out, "surprisal": sur_out}, f)
    print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                      "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
                      "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                      "blas_libraries": torch_ref.blas_library(), "seconds": seconds, "load_s": load_s,
                      "import_s": import_s, "texts": len(texts), "tokens": sum(len(t) for t in texts),
                      "padded_positions": padded, "batches": (len(texts) + a.batch - 1) // a.batch}), flush=True)


# ---------------------------------------------------------------- driver

def build_texts(data, n):
    with open(data) as f:
        targets = [json.loads(l)["target"] for l in f if l.strip()]
    P = len(targets)
    out = []
    for k in range(n):
        step = 1 + k // P
        s, j = targets[k % P], k % P
        while len(s.split()) < 10:
            j += step
            s = s + " " + targets[j % P]
        out.append(s)
    return out


def run_timed(cmd, env=None, what=None, timeout=3600):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"python_score: {what or 'command'} failed ({p.returncode}): {' '.join(cmd)}\n"
                         f"{p.stderr.strip()[-3000:]}")
    return p, wall


def last_json(p):
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise SystemExit(f"python_score: no JSON from a worker:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return json.loads(lines[-1])


def parse_bos(s):
    """ "auto: <|endoftext|> (2047)" -> 2047."""
    if not isinstance(s, str) or not s.endswith(")") or "(" not in s:
        raise SystemExit(f"python_score: cannot read the BOS id from the bos column {s!r}")
    return int(s[s.rindex("(") + 1:-1])


def cli_columns(path, unit):
    import numpy as np
    idx = "token_index" if unit == "token" else "unit_index"
    text_id, unit_index, index, ent, sur = [], [], [], [], []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            text_id.append(r["text_id"])
            unit_index.append(r["unit_index"])
            index.append(r[idx])
            ent.append(math.nan if r["entropy_bits"] is None else r["entropy_bits"])
            sur.append(math.nan if r["surprisal_bits"] is None else r["surprisal_bits"])
    return {"text_id": np.array(text_id, dtype=np.int64), "unit_index": np.array(unit_index, dtype=np.int64),
            "index": np.array(index, dtype=np.int64), "entropy_bits": np.array(ent, dtype=np.float64),
            "surprisal_bits": np.array(sur, dtype=np.float64)}


def compare_exact(py, cli):
    """None when equal, else what differs (first row)."""
    import numpy as np
    if len(py["entropy_bits"]) != len(cli["entropy_bits"]):
        return f"{len(py['entropy_bits'])} Python rows, {len(cli['entropy_bits'])} CLI rows"
    for c in ("text_id", "unit_index", "index"):
        if not np.array_equal(py[c], cli[c]):
            r = int(np.flatnonzero(py[c] != cli[c])[0])
            return f"row {r}: {c} {py[c][r]} (Python) vs {cli[c][r]} (CLI)"
    for c in ("entropy_bits", "surprisal_bits"):
        a, b = py[c], cli[c]
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            r = int(np.flatnonzero(~same)[0])
            return (f"{int((~same).sum())} rows differ in {c}, first row {r}: {a[r]!r} (Python) vs {b[r]!r} (CLI)")
    return None


def resolve_model(spec, binary, cache, no_build_path):
    """spec -> (label, directory)."""
    if spec.startswith("synth:"):
        sys.path.insert(0, HERE)
        import seed_workload
        return spec[len("synth:"):] + "-synth", seed_workload.ensure_model(binary, cache, spec[len("synth:"):])
    use_build_path(no_build_path)
    import entroscope
    m = entroscope.load(os.path.expanduser(spec), offline=True)
    return (os.path.basename(os.path.normpath(spec)) or spec), m.path


def prepare_model(d, texts, threads, no_build_path):
    """entroscope's token rows (for the PyTorch check), its BOS id and encode()'s ids, checked
    against the ids score used."""
    import numpy as np
    use_build_path(no_build_path)
    import entroscope
    m = entroscope.load(d, threads=threads, offline=True)
    cols = m.score(texts, unit="token", format="numpy", progress=False)
    bos = parse_bos(str(cols["bos"][0]))
    ids = [m.tokenizer.encode(t) for t in texts]
    ref_ent, ref_sur = [], []
    tid, k = cols["text_id"], 0
    for j, t in enumerate(ids):
        n = len(t)
        if not (tid[k:k + n] == j).all() or len(tid[k:k + n]) != n:
            raise SystemExit(f"python_score: text {j}: score's token rows do not match encode()'s {n} tokens")
        if not np.array_equal(cols["token_id"][k:k + n], np.array(t, dtype=np.int64)):
            raise SystemExit(f"python_score: text {j}: score's token ids differ from tokenizer.encode()'s")
        ref_ent.append(cols["entropy_bits"][k:k + n])
        ref_sur.append(cols["surprisal_bits"][k:k + n])
        k += n
    if k != len(tid):
        raise SystemExit(f"python_score: score returned {len(tid)} token rows, encode() gives {k} tokens")
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    info = {"name": m.name, "family": m.family, "model_type": cfg.get("model_type"), "parameters": m.parameters,
            "dtype": m.dtype, "vocab_size": m.vocab_size, "context_length": m.context_length, "path": m.path,
            "bos": str(cols["bos"][0]), "bos_id": bos, "tokens": k}
    del m
    return info, bos, ids, ref_ent, ref_sur


def torch_diff(dump, ref_ent, ref_sur):
    import numpy as np
    de = ds = 0.0
    for j, (e, s) in enumerate(zip(dump["entropy"], dump["surprisal"])):
        e, s = np.array(e, dtype=np.float64), np.array(s, dtype=np.float64)
        if len(e) != len(ref_ent[j]):
            raise SystemExit(f"python_score: text {j}: PyTorch gave {len(e)} tokens, entroscope {len(ref_ent[j])}")
        de = max(de, float(np.abs(e - ref_ent[j]).max()))
        ds = max(ds, float(np.abs(s - ref_sur[j]).max()))
    return de, ds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.environ.get("ENTROSCOPE_BIN", os.path.join(REPO, "build", "entroscope")),
                    help="entroscope binary (copied once at start; default build/entroscope)")
    ap.add_argument("--models", default="demo-gpt2-l",
                    help="comma list of model specs: directories, demo names, or synth:PRESET (a gpt2-shaped "
                         "`entroscope synth` checkpoint with GPT-2's tokenizer, e.g. synth:gpt2; cached in --cache)")
    ap.add_argument("--units", default="token,word", help="token,word (default both)")
    ap.add_argument("--threads", default="2", help="comma list of thread counts (default 2)")
    ap.add_argument("--texts", type=int, default=1000, help="number of texts (default 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    ap.add_argument("--torch-batch", type=int, default=16, help="PyTorch batch size (default 16)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    ap.add_argument("--check-tol", type=float, default=1e-4, help="max |Δ| bits, entroscope vs PyTorch (default 1e-4)")
    ap.add_argument("--data", default=os.path.join(REPO, "models", "demo-experiment", "items.jsonl"),
                    help="JSON Lines with a \"target\" field (default models/demo-experiment/items.jsonl)")
    ap.add_argument("--cache", default=os.environ.get("ENTROSCOPE_BENCH_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "entroscope", "bench")),
                    help="synth:PRESET checkpoints (bench.py's and seed_workload.py's cache)")
    ap.add_argument("--no-build-path", action="store_true",
                    help=f"do not put {os.path.relpath(BUILD_PYTHON, REPO)} first on sys.path (use an installed entroscope)")
    ap.add_argument("--out", default=None, help="results folder (default results/bench/<UTC time>-python)")
    a = ap.parse_args()

    units = [u for u in a.units.split(",") if u]
    for u in units:
        if u not in UNITS:
            raise SystemExit(f"python_score: --units: {u} is not token or word")
    threads = [int(t) for t in a.threads.split(",") if t]
    if not threads or min(threads) < 1:
        raise SystemExit("python_score: --threads: positive integers")
    if a.rounds < 1 or a.texts < 1:
        raise SystemExit("python_score: --rounds and --texts must be >= 1")
    specs = [m for m in a.models.split(",") if m]
    src_binary = os.path.abspath(a.binary)
    if not os.access(src_binary, os.X_OK):
        raise SystemExit(f"python_score: {src_binary}: not found or not executable (scripts/build.sh, or --binary)")
    use_build_path(a.no_build_path)
    import numpy as np  # noqa: F401 (fail early)
    import pandas as pd
    import entroscope

    now = datetime.datetime.now(datetime.timezone.utc)
    out_dir = a.out or os.path.join(REPO, "results", "bench", now.strftime("%Y%m%d-%H%M%SZ") + "-python")
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="entroscope-pyscore-")
    raw = open(os.path.join(out_dir, "raw.jsonl"), "w")

    def record(**r):
        raw.write(json.dumps(r) + "\n")
        raw.flush()

    failures, runs, checks, models = [], [], [], []
    torch_diffs = {}
    try:
        binary = os.path.join(work, "entroscope")
        shutil.copy2(src_binary, binary)
        # The workers import a copy of the package taken now, as the binary is copied: a rebuild during
        # the run cannot change (or truncate) what is measured. Demo names are resolved below, by the
        # package as imported here, to directories.
        pkg = os.path.join(work, "python")
        shutil.copytree(os.path.dirname(os.path.abspath(entroscope.__file__)), os.path.join(pkg, "entroscope"),
                        ignore=shutil.ignore_patterns("__pycache__", "models"))
        sys.path.insert(0, HERE)
        import seed_workload
        info = seed_workload.machine(binary)  # bench.py's machine_info + the commit
        info.update({"utc_start": now.isoformat(timespec="seconds"), "entroscope_package": entroscope.__file__,
                     "entroscope_package_version": entroscope.__version__, "pandas": pd.__version__,
                     "numpy": np.__version__, "loadavg_start": os.getloadavg()})
        t_start = time.time()

        texts = build_texts(a.data, a.texts)
        inp = os.path.join(work, "texts.jsonl")
        with open(inp, "w") as f:
            for i, t in enumerate(texts):
                f.write(json.dumps({"id": i, "text": t}) + "\n")
        words = [len(t.split()) for t in texts]
        text_stats = {"texts": len(texts), "words": sum(words), "min_words": min(words), "max_words": max(words),
                      "mean_words": statistics.mean(words), "distinct": len(set(texts))}
        log(f"{len(texts)} texts, {min(words)}-{max(words)} words (mean {text_stats['mean_words']:.1f}); models "
            f"{specs}, units {units}, threads {threads}, {a.rounds} rounds; load average {info['loadavg_start'][0]:.2f}")

        # Models: directory, token ids and reference values.
        for spec in specs:
            label, d = resolve_model(spec, binary, a.cache, a.no_build_path)
            minfo, bos, ids, ref_ent, ref_sur = prepare_model(d, texts, max(threads), a.no_build_path)
            torch_ok = minfo["model_type"] == "gpt2" and not a.no_torch
            seqs = os.path.join(work, f"seqs-{len(models)}.json")
            with open(seqs, "w") as f:
                json.dump({"bos": bos, "ids": ids}, f)
            models.append({"spec": spec, "label": label, "dir": d, "info": minfo, "torch": torch_ok, "seqs": seqs,
                           "ref": (ref_ent, ref_sur)})
            log(f"{label}: {d}, {minfo['model_type']}, {minfo['parameters']:,} parameters, {minfo['tokens']} tokens, "
                f"BOS {bos}; PyTorch comparison: {'yes' if torch_ok else 'no (not model_type gpt2)' if not a.no_torch else 'no'}")

        for rnd in range(a.rounds):
            log(f"round {rnd + 1}/{a.rounds} (load average {os.getloadavg()[0]:.2f})")
            for mi, mod in enumerate(models):
                for n in threads:
                    jobs = [(e, u) for u in units for e in ("python", "cli")]
                    if mod["torch"]:
                        jobs.append(("pytorch", "token"))
                    if rnd % 2 == 1:
                        jobs.reverse()
                    py_cols, cli_cols = {}, {}
                    for engine, unit in jobs:
                        cell = dict(model=mod["label"], unit=unit, threads=n, round=rnd, engine=engine)
                        if engine == "python":
                            dump = os.path.join(work, "py.npz")
                            cmd = [PY, os.path.abspath(__file__), "_py_worker", "--model", mod["dir"], "--unit", unit,
                                   "--threads", str(n), "--input", inp, "--dump", dump, "--package-path", pkg]
                            p, wall = run_timed(cmd, what="Python worker")
                            r = last_json(p)
                            with np.load(dump) as z:
                                py_cols[unit] = {k: z[k] for k in z.files}
                            cell.update(r, process_s=wall)
                            log(f"  {mod['label']} {unit} threads={n} python: load+score {r['load_score_s']:.3f} s "
                                f"(load {r['load_s']:.3f}, score {r['score_s']:.3f}; process {wall:.3f} s)")
                        elif engine == "cli":
                            out = os.path.join(work, "cli.jsonl")
                            cmd = [binary, "score", "--model", mod["dir"], "--unit", unit, "--format", "jsonl",
                                   "--input", inp, "--out", out, "--threads", str(n), "--offline"]
                            _, wall = run_timed(cmd, what="entroscope score")
                            cli_cols[unit] = cli_columns(out, unit)
                            os.remove(out)
                            cell.update(seconds=wall, rows=len(cli_cols[unit]["entropy_bits"]))
                            log(f"  {mod['label']} {unit} threads={n} CLI: {wall:.3f} s")
                        else:
                            dump = os.path.join(work, "torch.json")
                            cmd = [PY, os.path.abspath(__file__), "_torch_worker", "--model", mod["dir"], "--seqs",
                                   mod["seqs"], "--batch", str(a.torch_batch), "--torch-threads", "1", "--dump", dump]
                            p, wall = run_timed(cmd, env=seed_workload.torch_env(1, n), what="PyTorch worker")
                            r = last_json(p)
                            with open(dump) as f:
                                de, ds = torch_diff(json.load(f), *mod["ref"])
                            cell.update(r, process_s=wall, max_abs_entropy_diff_bits=de, max_abs_surprisal_diff_bits=ds)
                            prev = torch_diffs.get((mod["label"], n), (0.0, 0.0))
                            torch_diffs[(mod["label"], n)] = (max(prev[0], de), max(prev[1], ds))
                            log(f"  {mod['label']} threads={n} PyTorch (torch 1 x openblas {n}): {r['seconds']:.3f} s "
                                f"(+ load {r['load_s']:.3f} s); max |Δ| {de:.1e} / {ds:.1e} bits")
                        runs.append(cell)
                        record(kind="run", **cell)
                    for unit in units:
                        bad = compare_exact(py_cols[unit], cli_cols[unit])
                        c = {"model": mod["label"], "unit": unit, "threads": n, "round": rnd,
                             "rows": int(len(py_cols[unit]["entropy_bits"])), "equal": bad is None, "difference": bad}
                        checks.append(c)
                        record(kind="check", **c)
                        if bad:
                            failures.append(f"Python vs CLI {mod['label']} {unit} threads={n} round {rnd + 1}: {bad}")
                            log(f"  CHECK FAILED: {failures[-1]}")
        info["loadavg_end"] = os.getloadavg()
        info["wall_s"] = time.time() - t_start
    finally:
        raw.close()
        shutil.rmtree(work, ignore_errors=True)

    def pick(engine, m, u, n, key):
        return [r[key] for r in runs if r["engine"] == engine and r["model"] == m and r["unit"] == u and r["threads"] == n]

    def stats(v):
        return {"median": statistics.median(v), "min": min(v), "max": max(v), "values": v} if v else None

    cells, tcells = [], []
    for mod in models:
        m = mod["label"]
        for u in units:
            for n in threads:
                ls, sc, pr, cl = (stats(pick("python", m, u, n, "load_score_s")), stats(pick("python", m, u, n, "score_s")),
                                  stats(pick("python", m, u, n, "process_s")), stats(pick("cli", m, u, n, "seconds")))
                per_round = [x / y for x, y in zip(pick("python", m, u, n, "load_score_s"), pick("cli", m, u, n, "seconds"))]
                cells.append({"model": m, "unit": u, "threads": n, "rows": pick("cli", m, u, n, "rows")[0],
                              "python_load_score_s": ls, "python_score_s": sc, "python_load_s":
                              stats(pick("python", m, u, n, "load_s")), "python_import_s": stats(pick("python", m, u, n, "import_s")),
                              "python_process_s": pr, "cli_s": cl, "python_over_cli": ls["median"] / cl["median"],
                              "python_over_cli_per_round": per_round,
                              "python_over_cli_paired": statistics.median(per_round),
                              "equal_to_cli": all(c["equal"] for c in checks if c["model"] == m and c["unit"] == u
                                                  and c["threads"] == n)})
        if mod["torch"]:
            for n in threads:
                t = stats(pick("pytorch", m, "token", n, "seconds"))
                es = stats(pick("python", m, "token", n, "score_s")) if "token" in units else None
                de, ds = torch_diffs[(m, n)]
                ok = de <= a.check_tol and ds <= a.check_tol
                if not ok:
                    failures.append(f"PyTorch vs entroscope {m} threads={n}: max |Δ| {de:.2e} / {ds:.2e} bits > {a.check_tol}")
                tcells.append({"model": m, "threads": n, "tokens": mod["info"]["tokens"],
                               "padded_positions": pick("pytorch", m, "token", n, "padded_positions")[0],
                               "pytorch_s": t, "pytorch_load_s": stats(pick("pytorch", m, "token", n, "load_s")),
                               "entroscope_python_score_s": es,
                               "speedup": t["median"] / es["median"] if es else None,
                               "max_abs_entropy_diff_bits": de, "max_abs_surprisal_diff_bits": ds, "ok": ok})

    lines = [f"Python package vs CLI vs PyTorch, {now.strftime('%Y-%m-%d %H:%M UTC')}: {info.get('cpu', '?')} "
             f"({info['cpus']} cpus), commit {info['commit']} ({info['entroscope']}), torch {info['torch']}, "
             f"pandas {info['pandas']}; {text_stats['texts']} texts of {text_stats['min_words']}-{text_stats['max_words']} "
             f"words (mean {text_stats['mean_words']:.1f}); {a.rounds} alternating rounds, medians; load average "
             f"{info['loadavg_start'][0]:.2f} at start, {info['loadavg_end'][0]:.2f} at end; wall {info['wall_s'] / 60:.1f} min",
             "",
             "| model | unit | threads | rows | Python load+score s | Python score s | CLI s | Python/CLI | paired | Python process s "
             "| equal |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        lines.append(f"| {c['model']} | {c['unit']} | {c['threads']} | {c['rows']} | {c['python_load_score_s']['median']:.3f} "
                     f"| {c['python_score_s']['median']:.3f} | {c['cli_s']['median']:.3f} | **{c['python_over_cli']:.3f}** "
                     f"| {c['python_over_cli_paired']:.3f} | {c['python_process_s']['median']:.3f} | {'yes' if c['equal_to_cli'] else 'NO'} |")
    lines += ["", "Python load+score: entroscope.load + Model.score(format=\"pandas\") in a fresh process (imports "
              "not included); Python score: the score call alone; CLI: the whole `entroscope score --format jsonl "
              "--input --out` process; Python process: the whole worker process (interpreter, numpy/pandas/entroscope "
              "imports, load, score, writing the check values); equal: entropy_bits and surprisal_bits of every row "
              "identical to the CLI's, every round. Python/CLI: the ratio of the medians; paired: the median over "
              "rounds of each round's ratio (the two ran next to each other). Issue 16 target: Python/CLI < 1.05."]
    if tcells:
        lines += ["", "| model | threads | tokens | PyTorch s | PyTorch load s | entroscope (Python score) s "
                  "| PyTorch/entroscope | max abs Δ entropy / surprisal (bits) |", "|---|---|---|---|---|---|---|---|"]
        for c in tcells:
            es = f"{c['entroscope_python_score_s']['median']:.3f}" if c["entroscope_python_score_s"] else "-"
            sp = f"**{c['speedup']:.2f}x**" if c["speedup"] else "-"
            lines.append(f"| {c['model']} | {c['threads']} | {c['tokens']} | {c['pytorch_s']['median']:.3f} | "
                         f"{c['pytorch_load_s']['median']:.3f} | {es} | {sp} | {c['max_abs_entropy_diff_bits']:.1e} / "
                         f"{c['max_abs_surprisal_diff_bits']:.1e} ({'ok' if c['ok'] else 'FAILED'}) |")
        lines += ["", f"PyTorch s: eager fp32 (bench/torch_ref.py), torch 1 x OpenBLAS N threads, right-padded batches "
                  f"of {a.torch_batch} sorted by length, token ids -> per-token entropy and surprisal (float64 "
                  "log-softmax at real positions); load and tokenization not included. entroscope: the Python score "
                  "call at unit token (tokenization and DataFrame included). Δ: every token, every round "
                  f"(tolerance {a.check_tol:g} bits)."]
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"machine": info, "args": vars(a), "texts": text_stats,
                   "models": [{k: v for k, v in mod.items() if k not in ("ref", "seqs")} for mod in models],
                   "runs": runs, "checks": checks, "cells": cells, "torch_cells": tcells, "failures": failures},
                  f, indent=2)
    log(f"results in {out_dir} (table.md, summary.json, raw.jsonl)")
    if failures:
        log("FAILED: " + "; ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_py_worker":
        py_worker(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_torch_worker":
        torch_worker(sys.argv[2:])
    else:
        main()
