#!/usr/bin/python3
"""The seed's workload: `entroscope run` against PyTorch eager fp32, many short items (issue 15).

Items are the demo experiment's (models/demo-experiment/items.jsonl: a Tiny Shakespeare context of
~95 GPT-2 tokens and a target of ~12), scored by gpt2-shaped synthetic checkpoints
(`entroscope synth`, with GPT-2's real tokenizer files copied in) under two workloads:

  context   with_context = "{context}" + measured "{target}", no_context = "<|endoftext|>" + measured
            "{target}" (examples/demo.yaml's conditions): 2 sequences per item, T ~ 13 and ~ 110.
  sentence  sentence = "<|endoftext|>" + measured "{target}": the sentence alone, every token scored
            (the first one from <|endoftext|>), 1 sequence per item, T ~ 13.

entroscope: `entroscope run SPEC --out <fresh dir> --threads N --force`, timed as a whole process
(resolution, tokenizer load, weight hashing and mapping, tokenization, forward, statistics, files),
and the same spec on the first item alone, to show the fixed part of that time.

PyTorch: bench/torch_ref.py's loader and GPT-2 forward (transformers' eager semantics, fp32),
weights paged in at load; the same token ids (`entroscope tokenize` on each segment, concatenated
as `run` does); all sequences of a workload sorted by length and cut into right-padded batches of
--torch-batch (16); logits for every position of the batch (as a transformers model returns them),
then log-softmax in float64 at the measured positions only: entropy and surprisal in bits and the
per-item means. With right padding and causal attention no real position sees a pad, so the plain
causal forward is exact for them (positions 0..T-1). Timed: the batches (ids -> means), not the load.
Each configuration runs in its own process: OPENBLAS_NUM_THREADS set before torch is imported,
torch.set_num_threads, and the workplace's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (which hold OpenBLAS
to its AVX2 kernels) removed for PyTorch only.

Checks: per-token entropy and surprisal of entroscope (`per_token: csv`) against PyTorch on the first
--check-items items of each workload, with the token ids and positions; in every timed round, every
item's token counts and mean entropy/surprisal in the results file against PyTorch's.

Rounds: in each round, per model, workload and thread count, entroscope and PyTorch alternately
(order flipped every other round); the table gives medians over rounds.

usage: /usr/bin/python3 bench/seed_workload.py [--models gpt2,gpt2-medium] [--workloads context,sentence]
           [--threads 1,2] [--items 200] [--rounds 3] [--torch-batch 16] [--torch-configs best-known|all]
See bench/README.md, "Seed workload (issue 15)".
"""
import argparse
import csv
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = "/usr/bin/python3"  # Debian's python with python3-torch
GPT2_TOKENIZER = os.path.join(REPO, "tests", "data", "tokenizer", "gpt2")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json")
GPT2_PRESETS = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2")  # GPT-2's vocabulary
EOT = "<|endoftext|>"

WORKLOADS = {
    # name -> conditions: (name, [segments]); a segment is ("text", field) | ("special", token);
    # the last segment is the measured one.
    "context": [("with_context", [("text", "context"), ("text", "target")]),
                ("no_context", [("special", EOT), ("text", "target")])],
    "sentence": [("sentence", [("special", EOT), ("text", "target")])],
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- PyTorch worker (own process)

def torch_worker(argv):
    ap = argparse.ArgumentParser(prog="seed_workload.py _torch")
    ap.add_argument("--model", required=True)
    ap.add_argument("--seqs", required=True, help="JSON: [{item, cond, ids, first}]")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--dump", default=None, help="write per-token entropy/surprisal here (JSON)")
    a = ap.parse_args(argv)
    import torch
    sys.path.insert(0, HERE)
    import torch_ref
    torch.set_num_threads(a.torch_threads)
    t0 = time.perf_counter()
    model, cfg = torch_ref.load_model(a.model)
    torch_ref.page_in(model)  # the weights paged in, as from_pretrained's load leaves them
    load_s = time.perf_counter() - t0
    with open(a.seqs) as f:
        seqs = json.load(f)
    pad = cfg.get("eos_token_id", 0) or 0
    t0 = time.perf_counter()
    scored, padded = torch_ref.score_sorted_batches(model, [(q["ids"], q["first"]) for q in seqs], a.batch, pad)
    means = {}
    dump = [] if a.dump else None
    for q, (e, su) in zip(seqs, scored):
        m = len(e)
        means[f"{q['item']}\t{q['cond']}"] = [sum(e) / m, sum(su) / m]
        if dump is not None:
            dump.append({"item": q["item"], "cond": q["cond"], "first": q["first"], "entropy": e, "surprisal": su})
    seconds = time.perf_counter() - t0
    if dump is not None:
        with open(a.dump, "w") as f:
            json.dump(dump, f)
    tokens = sum(len(s["ids"]) for s in seqs)
    print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                      "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
                      "blas_libraries": torch_ref.blas_library(), "seconds": seconds, "load_s": load_s,
                      "sequences": len(seqs), "tokens": tokens, "padded_tokens": padded,
                      "batches": (len(seqs) + a.batch - 1) // a.batch, "means": means}), flush=True)


# ---------------------------------------------------------------- driver

def run_checked(cmd, env=None, timeout=7200, what=None):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"seed_workload: {what or 'command'} failed ({p.returncode}): {' '.join(cmd)}\n"
                         f"{p.stderr.strip()[-3000:]}")
    return p


def torch_env(tt, bt):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)  # PyTorch at its best: OpenBLAS picks its kernels for this CPU
    env.pop("OPENBLAS_L2_SIZE", None)
    env["OPENBLAS_NUM_THREADS"] = str(bt)
    env["OMP_NUM_THREADS"] = str(tt)
    env["MKL_NUM_THREADS"] = str(tt)
    return env


def torch_configs(threads, which):
    """(torch intra-op threads, OpenBLAS threads), as bench/bench.py: torch 1 x OpenBLAS N is the
    measured best on 2 cores; `all` adds torch N x OpenBLAS N and torch N x OpenBLAS 1."""
    if threads == 1:
        return [(1, 1)]
    if which == "best-known":
        return [(1, threads)]
    return [(1, threads), (threads, threads), (threads, 1)]


def ensure_model(binary, cache, preset):
    """<cache>/seed-workload/<preset>-synth: synth weights (seed 0; hard-linked from bench.py's cached
    <cache>/<preset>-synth-seed0 when it is there) + GPT-2's tokenizer files."""
    d = os.path.join(cache, "seed-workload", f"{preset}-synth")
    if not os.path.exists(os.path.join(d, "config.json")):
        os.makedirs(d, exist_ok=True)
        src = os.path.join(cache, f"{preset}-synth-seed0")
        linked = False
        if all(os.path.exists(os.path.join(src, f)) for f in ("config.json", "model.safetensors")):
            try:
                for f in ("model.safetensors", "config.json"):  # config.json last: it marks a complete model
                    tgt = os.path.join(d, f)
                    if os.path.exists(tgt):
                        os.remove(tgt)
                    os.link(os.path.join(src, f), tgt)
                linked = True
                log(f"{preset}: weights linked from {src}")
            except OSError:
                linked = False
        if not linked:
            log(f"synth {preset} -> {d}")
            run_checked([binary, "synth", "--preset", preset, "--out", d, "--seed", "0", "--force", "--quiet"],
                        what="synth")
    for f in TOKENIZER_FILES:
        tgt = os.path.join(d, f)
        if not os.path.exists(tgt):
            shutil.copyfile(os.path.join(GPT2_TOKENIZER, f), tgt)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("vocab_size") != 50257 or cfg.get("model_type") != "gpt2":
        raise SystemExit(f"seed_workload: {d}: not a GPT-2-vocabulary gpt2 model")
    return d


def tokenize(binary, model_dir, texts, special=False):
    inp = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    cmd = [binary, "tokenize", "--tokenizer", model_dir, "--threads", "2"] + (["--allow-special"] if special else [])
    p = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"seed_workload: tokenize failed: {p.stderr.strip()}")
    out = [json.loads(l)["ids"] for l in p.stdout.splitlines() if l.strip()]
    assert len(out) == len(texts)
    return out


def build_sequences(binary, model_dir, items, workload):
    """The token ids `run` scores: each segment tokenized on its own, the ids concatenated."""
    fields = sorted({seg[1] for _, segs in WORKLOADS[workload] for seg in segs if seg[0] == "text"})
    texts = [it[fld] for fld in fields for it in items]
    ids = tokenize(binary, model_dir, texts)
    by = {(fld, it["id"]): ids[k * len(items) + i] for k, fld in enumerate(fields) for i, it in enumerate(items)}
    (eot,) = tokenize(binary, model_dir, [EOT], special=True)
    assert len(eot) == 1, f"{EOT} is not one token"
    seqs = []
    for it in items:
        for cond, segs in WORKLOADS[workload]:
            seq = []
            for kind, v in segs[:-1]:
                seq += list(eot) if kind == "special" else by[(v, it["id"])]
            first = len(seq)
            seq += by[(segs[-1][1], it["id"])]
            seqs.append({"item": it["id"], "cond": cond, "ids": seq, "first": first})
    return seqs


def write_spec(path, model_dirs, data, workload, bootstrap, per_token=False):
    def seg(kind, v, measure):
        s = json.dumps(v) if kind == "special" else json.dumps("{" + v + "}")
        return f"{{text: {s}, measure: true}}" if measure else s
    lines = [f"name: seed-{workload}", "models:"] + [f"  - {json.dumps(d)}" for d in model_dirs]
    lines += [f"data: {json.dumps(data)}", "conditions:"]
    for cond, segs in WORKLOADS[workload]:
        lines.append(f"  {cond}: [" + ", ".join(seg(k, v, i == len(segs) - 1) for i, (k, v) in enumerate(segs)) + "]")
    if len(WORKLOADS[workload]) == 2:
        lines.append(f"contrasts: [\"{WORKLOADS[workload][0][0]} - {WORKLOADS[workload][1][0]}\"]")
    if per_token:
        lines.append("per_token: csv")
    lines += ["statistics:", f"  bootstrap: {{samples: {bootstrap}, seed: 0, level: 0.95}}", "  test: paired_t"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_entroscope(binary, spec, out, threads):
    if os.path.exists(out):
        shutil.rmtree(out)
    cmd = [binary, "run", spec, "--out", out, "--threads", str(threads), "--force", "--offline", "--progress", "none"]
    t0 = time.perf_counter()
    run_checked(cmd, what="entroscope run")
    seconds = time.perf_counter() - t0
    res = [f for f in os.listdir(out) if f.startswith("experiment_results_") and f.endswith(".json")]
    assert len(res) == 1, res
    with open(os.path.join(out, res[0])) as f:
        r = json.load(f)
    per_token = [f for f in os.listdir(out) if f.startswith("per_token_")]
    pt = None
    if per_token:
        with open(os.path.join(out, per_token[0]), newline="") as f:
            pt = list(csv.DictReader(f))
    shutil.rmtree(out)
    return seconds, r, pt


def run_torch(model_dir, seqs_path, batch, tt, bt, dump=None):
    cmd = [PY, os.path.abspath(__file__), "_torch", "--model", model_dir, "--seqs", seqs_path, "--batch", str(batch),
           "--torch-threads", str(tt)] + (["--dump", dump] if dump else [])
    t0 = time.perf_counter()
    p = run_checked(cmd, env=torch_env(tt, bt), what="PyTorch worker")
    wall = time.perf_counter() - t0
    r = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
    r["process_s"] = wall
    return r


def compare_items(seqs, res, means):
    """Token counts of every item and condition against the ids; max |Δ| of the item means."""
    first = {(s["item"], s["cond"]): (s["first"], len(s["ids"]) - s["first"]) for s in seqs}
    d_e = d_s = 0.0
    for it in res["items"]:
        for cond in {s["cond"] for s in seqs}:
            c = it[cond]
            f, n = first[(it["id"], cond)]
            if c["n_preceding_tokens"] != f or c["n_tokens"] != n:
                raise SystemExit(f"seed_workload: item {it['id']} {cond}: entroscope scored {c['n_preceding_tokens']} + "
                                 f"{c['n_tokens']} tokens, the ids have {f} + {n}")
            h, s = means[f"{it['id']}\t{cond}"]
            d_e = max(d_e, abs(c["entropy_bits"] - h))
            d_s = max(d_s, abs(c["surprisal_bits"] - s))
    if len(res["items"]) * len({s["cond"] for s in seqs}) != len(seqs):
        raise SystemExit("seed_workload: entroscope's results have a different number of items")
    return d_e, d_s


def check_tokens(seqs, per_token, dump):
    """Per-token agreement: entroscope's per_token rows against PyTorch's, ids and positions too."""
    by = {(s["item"], s["cond"]): s for s in seqs}
    tp = {(d["item"], d["cond"]): d for d in dump}
    d_e = d_s = 0.0
    n = 0
    for row in per_token:
        key = (row["item_id"], row["condition"])
        s, d = by[key], tp[key]
        k, pos = int(row["token_index"]), int(row["position"])
        if pos != s["first"] + k or int(row["token_id"]) != s["ids"][pos]:
            raise SystemExit(f"seed_workload: {key} token {k}: entroscope has id {row['token_id']} at position {pos}, "
                             f"the ids have {s['ids'][s['first'] + k]} at {s['first'] + k}")
        d_e = max(d_e, abs(float(row["entropy_bits"]) - d["entropy"][k]))
        d_s = max(d_s, abs(float(row["surprisal_bits"]) - d["surprisal"][k]))
        n += 1
    want = sum(len(by[k]["ids"]) - by[k]["first"] for k in tp)
    if n != want:
        raise SystemExit(f"seed_workload: entroscope wrote {n} per-token rows, expected {want}")
    return d_e, d_s, n


def machine(binary):
    """bench.py's description of the machine (CPU, cores, entroscope, torch and BLAS versions) plus
    the commit being measured."""
    sys.path.insert(0, HERE)
    import bench
    info = bench.machine_info(binary)
    p = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    info["commit"] = p.stdout.strip() or "unknown"
    p = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    if p.stdout.strip():
        info["commit"] += "-dirty"
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.environ.get("ENTROSCOPE_BIN", os.path.join(REPO, "build", "entroscope")),
                    help="entroscope binary (copied once at start, so a rebuild cannot change it mid-run)")
    ap.add_argument("--cache", default=os.environ.get("ENTROSCOPE_BENCH_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "entroscope", "bench")),
                    help="synthetic checkpoints (<cache>/seed-workload/<preset>-synth; default bench.py's cache)")
    ap.add_argument("--data", default=os.path.join(REPO, "models", "demo-experiment", "items.jsonl"))
    ap.add_argument("--models", default="gpt2,gpt2-medium", help=f"presets with GPT-2's vocabulary: {', '.join(GPT2_PRESETS)}")
    ap.add_argument("--workloads", default="context,sentence")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--items", type=int, default=200, help="the first N items of --data (default 200)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3; 0: the checks only)")
    ap.add_argument("--torch-batch", type=int, default=16)
    ap.add_argument("--torch-configs", choices=["best-known", "all"], default="best-known")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap samples in the specs (default 1000)")
    ap.add_argument("--check-items", type=int, default=8, help="items in the per-token check (0: none)")
    ap.add_argument("--check-tol", type=float, default=1e-4, help="max |Δ| bits, per token and per item mean")
    ap.add_argument("--out", default=None, help="results folder (default results/seed-workload/<time>)")
    a = ap.parse_args()

    models = [m for m in a.models.split(",") if m]
    for m in models:
        if m not in GPT2_PRESETS:
            raise SystemExit(f"seed_workload: --models: {m} is not one of {', '.join(GPT2_PRESETS)}")
    workloads = [w for w in a.workloads.split(",") if w]
    for w in workloads:
        if w not in WORKLOADS:
            raise SystemExit(f"seed_workload: --workloads: {w} is not one of {', '.join(WORKLOADS)}")
    threads = [int(t) for t in a.threads.split(",")]
    src_binary = os.path.abspath(a.binary)
    for _ in range(60):  # a relink may be under way
        if os.access(src_binary, os.X_OK):
            break
        time.sleep(5)
    else:
        raise SystemExit(f"seed_workload: {src_binary}: not found or not executable (scripts/build.sh, or --binary)")
    with open(a.data) as f:
        all_items = [json.loads(l) for l in f if l.strip()]
    if a.rounds < 0:
        raise SystemExit("seed_workload: --rounds must be >= 0 (0: the checks only)")
    if not 1 <= a.items <= len(all_items):
        raise SystemExit(f"seed_workload: --items must be 1..{len(all_items)}")
    items = all_items[:a.items]

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = a.out or os.path.join(REPO, "results", "seed-workload", stamp)
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(a.cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="entroscope-seed-")
    raw = open(os.path.join(out_dir, "raw.jsonl"), "w")

    def record(**r):
        raw.write(json.dumps(r) + "\n")
        raw.flush()

    failures = []
    try:
        binary = os.path.join(work, "entroscope")
        shutil.copy2(src_binary, binary)
        info = machine(binary)
        info["loadavg_start"] = os.getloadavg()
        t_start = time.time()
        log(f"models {models}, workloads {workloads}, threads {threads}, {len(items)} items, {a.rounds} rounds, "
            f"PyTorch batches of {a.torch_batch}; load average {info['loadavg_start'][0]:.2f}")

        # Inputs: models, ids, specs (full and first-item-only), data files.
        model_dirs = {m: ensure_model(binary, a.cache, m) for m in models}
        data = os.path.join(work, "items.jsonl")
        one = os.path.join(work, "first-item.jsonl")
        chk = os.path.join(work, "check-items.jsonl")
        for path, its in ((data, items), (one, items[:1]), (chk, items[:max(1, a.check_items)])):
            with open(path, "w") as f:
                for it in its:
                    f.write(json.dumps(it) + "\n")
        tok_dir = model_dirs[models[0]]  # every preset here has GPT-2's tokenizer files
        seqs, seq_files, specs, stats = {}, {}, {}, {}
        for w in workloads:
            seqs[w] = build_sequences(binary, tok_dir, items, w)
            seq_files[w] = os.path.join(work, f"seqs-{w}.json")
            with open(seq_files[w], "w") as f:
                json.dump(seqs[w], f)
            lens = [len(s["ids"]) for s in seqs[w]]
            meas = [len(s["ids"]) - s["first"] for s in seqs[w]]
            stats[w] = {"sequences": len(lens), "tokens": sum(lens), "measured_tokens": sum(meas),
                        "mean_T": sum(lens) / len(lens), "max_T": max(lens),
                        "mean_T_by_condition": {c: statistics.mean(len(s["ids"]) for s in seqs[w] if s["cond"] == c)
                                                for c, _ in WORKLOADS[w]}}
            log(f"workload {w}: {stats[w]['sequences']} sequences, {stats[w]['tokens']} tokens "
                f"({stats[w]['measured_tokens']} measured), mean T "
                + ", ".join(f"{c} {t:.1f}" for c, t in stats[w]["mean_T_by_condition"].items()))
            for m in models:
                for tag, dfile in (("all", data), ("one", one)):
                    specs[(m, w, tag)] = os.path.join(work, f"{m}-{w}-{tag}.yaml")
                    write_spec(specs[(m, w, tag)], [model_dirs[m]], dfile, w, a.bootstrap)

        # Per-token check on the first --check-items items.
        checks = []
        if a.check_items > 0:
            n_chk = min(a.check_items, len(items))
            for m in models:
                for w in workloads:
                    spec = os.path.join(work, f"{m}-{w}-check.yaml")
                    write_spec(spec, [model_dirs[m]], chk, w, a.bootstrap, per_token=True)
                    sub = [s for s in seqs[w] if s["item"] in {it["id"] for it in items[:n_chk]}]
                    sub_file = os.path.join(work, f"check-{m}-{w}.json")
                    with open(sub_file, "w") as f:
                        json.dump(sub, f)
                    _, res, pt = run_entroscope(binary, spec, os.path.join(work, "out-check"), max(threads))
                    dump = os.path.join(work, "dump.json")
                    run_torch(model_dirs[m], sub_file, a.torch_batch, 1, max(threads), dump=dump)
                    with open(dump) as f:
                        d = json.load(f)
                    de, ds, n = check_tokens(sub, pt, d)
                    ok = de <= a.check_tol and ds <= a.check_tol
                    c = {"model": m, "workload": w, "items": n_chk, "tokens": n, "max_abs_entropy_diff_bits": de,
                         "max_abs_surprisal_diff_bits": ds, "ok": ok}
                    checks.append(c)
                    record(kind="check", **c)
                    log(f"check {m} {w}: {n} measured tokens of {n_chk} items, ids and positions equal; max |Δ entropy| "
                        f"{de:.2e}, max |Δ surprisal| {ds:.2e} bits: {'ok' if ok else 'FAILED'}")
                    if not ok:
                        failures.append(f"per-token check {m} {w}")

        # Alternating rounds.
        runs = []
        item_diffs = {}  # (model, workload) -> max |Δ| of the item means (entropy, surprisal) over rounds
        for rnd in range(a.rounds):
            log(f"round {rnd + 1}/{a.rounds} (load average {os.getloadavg()[0]:.2f})")
            for m in models:
                for w in workloads:
                    for n in threads:
                        jobs = [("entroscope", None), ("entroscope-first-item", None)]
                        jobs += [("pytorch", c) for c in torch_configs(n, a.torch_configs)]
                        if rnd % 2 == 1:
                            jobs.reverse()
                        full, torch_means = None, []
                        for engine, conf in jobs:
                            cell = dict(model=m, workload=w, threads=n, round=rnd)
                            if engine == "pytorch":
                                r = run_torch(model_dirs[m], seq_files[w], a.torch_batch, conf[0], conf[1])
                                means = r.pop("means")
                                runs.append(dict(cell, engine=engine, config=f"torch {conf[0]} x openblas {conf[1]}",
                                                 seconds=r["seconds"], load_s=r["load_s"], process_s=r["process_s"],
                                                 padded_tokens=r["padded_tokens"]))
                                torch_means.append(means)
                                log(f"  {m} {w} threads={n} PyTorch (torch {conf[0]} x openblas {conf[1]}): "
                                    f"{r['seconds']:.2f} s (+ load {r['load_s']:.2f} s)")
                            else:
                                spec = specs[(m, w, "all" if engine == "entroscope" else "one")]
                                s, res, _ = run_entroscope(binary, spec, os.path.join(work, "out"), n)
                                runs.append(dict(cell, engine=engine, seconds=s, model_wall_s=res["run"]["wall_seconds"],
                                                 gemm_kernel=res["run"].get("gemm_kernel")))
                                if engine == "entroscope":
                                    full = res
                                log(f"  {m} {w} threads={n} {engine}: {s:.2f} s")
                            record(kind="run", **runs[-1])
                        # every item's token counts and means, entroscope vs PyTorch, this round
                        for means in torch_means:
                            de, ds = compare_items(seqs[w], full, means)
                            prev = item_diffs.get((m, w), (0.0, 0.0))
                            item_diffs[(m, w)] = (max(prev[0], de), max(prev[1], ds))
        info["loadavg_end"] = os.getloadavg()
        info["wall_s"] = time.time() - t_start
    finally:
        raw.close()
        shutil.rmtree(work, ignore_errors=True)

    # Table.
    def med(engine, m, w, n, key="seconds", conf=None):
        v = [r[key] for r in runs if r["engine"] == engine and r["model"] == m and r["workload"] == w
             and r["threads"] == n and (conf is None or r.get("config") == conf)]
        return (statistics.median(v), min(v), max(v)) if v else (float("nan"),) * 3

    cells = []
    for m in (models if runs else []):  # --rounds 0: the checks only
        for w in workloads:
            for n in threads:
                e, e_lo, e_hi = med("entroscope", m, w, n)
                fx = med("entroscope-first-item", m, w, n)[0]
                confs = {}
                for tt, bt in torch_configs(n, a.torch_configs):
                    conf = f"torch {tt} x openblas {bt}"
                    confs[conf] = med("pytorch", m, w, n, conf=conf) + (med("pytorch", m, w, n, "load_s", conf)[0],)
                best = min(confs, key=lambda c: confs[c][0])
                t, t_lo, t_hi, t_load = confs[best]
                cells.append({"model": m, "workload": w, "threads": n, "entroscope_s": e, "entroscope_min_s": e_lo,
                              "entroscope_max_s": e_hi, "entroscope_first_item_s": fx, "pytorch_s": t,
                              "pytorch_min_s": t_lo, "pytorch_max_s": t_hi, "pytorch_load_s": t_load,
                              "pytorch_config": best, "pytorch_all": {c: v[0] for c, v in confs.items()},
                              "speedup": t / e, "speedup_excl_fixed": t / (e - fx) if e > fx else float("nan")})
    lines = []
    lines.append(f"Seed workload, {datetime.date.today().isoformat()}: {info.get('cpu', '?')} ({info['cpus']} cpus), "
                 f"commit {info['commit']} ({info['entroscope']}), torch {info['torch']}; {len(items)} items, "
                 f"PyTorch batches of {a.torch_batch} ({a.torch_configs}), {a.rounds} alternating rounds, medians; "
                 f"load average {info['loadavg_start'][0]:.2f} at start, {info['loadavg_end'][0]:.2f} at end; "
                 f"wall {info['wall_s'] / 60:.1f} min")
    for w in workloads:
        st = stats[w]
        lines.append(f"workload {w}: {st['sequences']} sequences, {st['tokens']} tokens ({st['measured_tokens']} "
                     f"measured); mean T " + ", ".join(f"{c} {t:.1f}" for c, t in st["mean_T_by_condition"].items()))
    for c in checks:
        lines.append(f"check {c['model']} {c['workload']} (first {c['items']} items, {c['tokens']} tokens): max |Δ| "
                     f"entropy {c['max_abs_entropy_diff_bits']:.1e}, surprisal {c['max_abs_surprisal_diff_bits']:.1e} "
                     f"bits ({'ok' if c['ok'] else 'FAILED'})")
    for (m, w), (de, ds) in sorted(item_diffs.items()):
        ok = de <= a.check_tol and ds <= a.check_tol
        if not ok:
            failures.append(f"item means {m} {w}")
        lines.append(f"item means {m} {w} (all {len(items)} items, every round): max |Δ| entropy {de:.1e}, surprisal "
                     f"{ds:.1e} bits ({'ok' if ok else 'FAILED'})")
    targets = []
    if cells:
        lines.append("")
        lines.append("| model | workload | threads | entroscope s | PyTorch s | speedup | entroscope on 1 item s "
                     "| speedup excl. that |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for c in cells:
            lines.append(f"| {c['model']} | {c['workload']} | {c['threads']} | {c['entroscope_s']:.2f} | "
                         f"{c['pytorch_s']:.2f} | **{c['speedup']:.2f}x** | {c['entroscope_first_item_s']:.2f} | "
                         f"{c['speedup_excl_fixed']:.2f}x |")
        lines.append("")
        lines.append("entroscope s: the whole `entroscope run` process (resolution, tokenizer load, weight hashing and "
                     "mapping, page-in, tokenization, forward, entropy/surprisal, statistics, results files); "
                     "entroscope on 1 item: the same spec on the first item only (that fixed part, plus one item); "
                     "PyTorch s: the padded batches from ids to per-item means (model load and page-in, median "
                     + ", ".join(f"{c['model']} {c['pytorch_load_s']:.2f} s" for c in cells if c["threads"] == threads[0]
                                 and c["workload"] == workloads[0])
                     + ", and tokenization not included); speedup = PyTorch s / entroscope s.")
        if a.torch_configs == "all":
            for c in cells:
                if len(c["pytorch_all"]) > 1:
                    lines.append(f"{c['model']} {c['workload']} {c['threads']} threads, PyTorch configurations: "
                                 + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(c["pytorch_all"].items(), key=lambda kv: kv[1]))
                                 + f" (best: {c['pytorch_config']})")
        targets = [f"{c['model']} {c['workload']}: {c['speedup']:.2f}x ({'met' if c['speedup'] >= 3 else 'not met'})"
                   for c in cells if c["threads"] == 2 and c["model"] in ("gpt2", "gpt2-medium")]
        if targets:
            lines.append("")
            lines.append("issue 15 target, 2 threads, >= 3x PyTorch: " + "; ".join(targets))
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"machine": info, "args": vars(a), "workloads": stats, "checks": checks,
                   "item_mean_diffs": {f"{m} {w}": v for (m, w), v in item_diffs.items()}, "cells": cells,
                   "targets": targets, "failures": failures}, f, indent=2)
    log(f"results in {out_dir} (table.md, summary.json, raw.jsonl)")
    if failures:
        log("FAILED: " + "; ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_torch":
        torch_worker(sys.argv[2:])
    else:
        main()
