#!/usr/bin/python3
"""entroscope vs PyTorch eager fp32: scoring speed on synthetic checkpoints.

For each model, batch shape and thread count, in one run, alternating (entroscope, PyTorch,
entroscope, PyTorch, ... with the order flipped every round, so load from other processes hits
both alike):
  * `entroscope bench`: ids -> logits -> per-token entropy and surprisal, nothing written;
  * bench/torch_ref.py: the same computation in PyTorch eager fp32 on the same weights and ids, in
    each thread configuration tried (torch intra-op pool x OpenBLAS threads);
  * `entroscope bench --sgemm`: plain OpenBLAS sgemm on the forward's GEMM shapes, the limit.
Each process loads the model, runs --warmup untimed and --reps timed repetitions; a cell's time is
the median over all its timed repetitions. Before timing, PyTorch's entropies and surprisals are
checked against `entroscope forward` on the same ids (max |difference| <= --check-tol, 1e-4 bits; a failure is
reported in the table and makes the exit status 1).

Modes: --quick (gpt2), --full (gpt2, gpt2-medium), --families (smollm2-360m: Llama with grouped-query
attention, and opt-125m, with the quick mode's protocol); --models takes any `entroscope synth` preset.
FLOPs for both engines are `entroscope bench`'s forward_gflop (from the model's tensor table).

Synthetic checkpoints (`entroscope synth`) and id files are cached in --cache
(default ~/.cache/entroscope/bench); results go to results/bench/<time>-<mode>/ (git-ignored).
Run through bench/run.sh; see bench/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = "/usr/bin/python3"  # Debian's python with python3-torch, whatever python is first on PATH
TORCH_REF = os.path.join(HERE, "torch_ref.py")

MODES = {
    # Quick: gpt2 only, the two issue shapes, 3 rounds of 1 timed rep. Full: + gpt2-medium and
    # T=512, every torch thread configuration, 5 rounds of 2 reps.
    "quick": dict(models=["gpt2"], shapes=[(1, 1024), (8, 128)], rounds=3, reps=1, warmup=1, torch_configs="best-known",
                  sgemm_reps=1),
    "full": dict(models=["gpt2", "gpt2-medium"], shapes=[(1, 1024), (1, 512), (8, 128)], rounds=5, reps=2, warmup=1,
                 torch_configs="all", sgemm_reps=2),
    # Families: the quick protocol (same shapes, rounds, reps, torch configuration) on a Llama-shaped
    # model with grouped-query attention (SmolLM2-360M: 15 query / 5 kv heads, tied head) and OPT-125m.
    # --models qwen2.5-0.5b,opt-125m (or gpt2,smollm2-360m,opt-125m for gpt2 rows in the same run) works too.
    "families": dict(models=["smollm2-360m", "opt-125m"], shapes=[(1, 1024), (8, 128)], rounds=3, reps=1, warmup=1,
                     torch_configs="best-known", sgemm_reps=1),
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_json(cmd, env=None, timeout=3600):
    """Runs a command that prints one JSON line; returns the parsed object."""
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"bench: command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise SystemExit(f"bench: no JSON from: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return json.loads(lines[-1])


def torch_configs(threads, which):
    """(torch intra-op threads, OpenBLAS threads) pairs for a thread budget."""
    if threads == 1:
        return [(1, 1)]
    best_known = (1, threads)  # torch pool 1, OpenBLAS N: no oversubscription (measured best on 2 cores)
    if which == "best-known":
        return [best_known]
    return [best_known, (threads, threads), (threads, 1)]


def torch_env(tt, bt):
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = str(bt)
    env["OMP_NUM_THREADS"] = str(tt)
    env["MKL_NUM_THREADS"] = str(tt)
    return env


def machine_info(binary):
    info = {"host": platform.node(), "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["blas_alternative"] = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    except OSError:
        pass
    try:
        p = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        info["entroscope"] = p.stdout.strip() or p.stderr.strip().splitlines()[-1]
    except Exception as e:  # noqa: BLE001
        info["entroscope"] = f"unknown ({e})"
    p = subprocess.run([PY, "-c", "import torch; print(torch.__version__)"], stdout=subprocess.PIPE, text=True)
    info["torch"] = p.stdout.strip()
    return info


def ensure_model(binary, cache, preset):
    d = os.path.join(cache, f"{preset}-synth-seed0")
    if os.path.exists(os.path.join(d, "config.json")) and os.path.exists(os.path.join(d, "model.safetensors")):
        return d
    log(f"synth {preset} -> {d}")
    subprocess.run([binary, "synth", "--preset", preset, "--out", d, "--seed", "0", "--force", "--quiet"], check=True)
    return d


def ensure_ids(cache, vocab, B, T, seed):
    d = os.path.join(cache, "ids")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"ids_V{vocab}_B{B}_T{T}_seed{seed}.safetensors")
    if not os.path.exists(path):
        subprocess.run([PY, TORCH_REF, "ids", "--out", path, "--batch", str(B), "--tokens", str(T), "--vocab",
                        str(vocab), "--seed", str(seed)], check=True)
    return path


def check_agreement(binary, model_dir, ids, cache, threads, tol):
    out = os.path.join(cache, f"check-{os.getpid()}.safetensors")
    try:
        subprocess.run([binary, "forward", "--model", model_dir, "--input", ids, "--output", out, "--threads",
                        str(threads)], check=True, stdout=subprocess.DEVNULL)
        p = subprocess.run([PY, TORCH_REF, "check", "--model", model_dir, "--ids", ids, "--expected", out,
                            "--torch-threads", "1", "--tol", repr(tol)], env=torch_env(1, threads),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        if not lines:  # exit 1 with a JSON line is a failed comparison, reported in the table
            raise SystemExit(f"bench: torch_ref check failed on {model_dir}:\n{p.stderr.strip()}")
        r = json.loads(lines[-1])
    finally:
        if os.path.exists(out):
            os.remove(out)
    return r


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_const", const="quick", dest="mode", help="gpt2 only, few reps (default)")
    g.add_argument("--full", action="store_const", const="full", dest="mode", help="gpt2 + gpt2-medium, all torch configs")
    g.add_argument("--families", action="store_const", const="families", dest="mode",
                   help="smollm2-360m (Llama, GQA) + opt-125m, quick mode's protocol")
    ap.add_argument("--binary", default=os.environ.get("ENTROSCOPE_BIN", os.path.join(REPO, "build", "entroscope")))
    ap.add_argument("--cache", default=os.environ.get("ENTROSCOPE_BENCH_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "entroscope", "bench")))
    ap.add_argument("--out", default=None, help="results folder (default results/bench/<time>-<mode>)")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--models", default=None, help="presets, comma-separated (overrides the mode's)")
    ap.add_argument("--shapes", default=None, help="BxT list, e.g. 1x1024,8x128 (overrides the mode's)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--torch-configs", choices=["best-known", "all"], default=None)
    ap.add_argument("--seed", type=int, default=0, help="seed of the token ids")
    ap.add_argument("--no-check", action="store_true", help="skip the entroscope/PyTorch agreement check")
    ap.add_argument("--check-tol", type=float, default=1e-4,
                    help="agreement tolerance, max |difference| in bits (default 1e-4)")
    a = ap.parse_args()
    mode = a.mode or "quick"
    cfg = dict(MODES[mode])
    if a.models:
        cfg["models"] = a.models.split(",")
    if a.shapes:
        cfg["shapes"] = [tuple(int(v) for v in s.split("x")) for s in a.shapes.split(",")]
    for k in ("rounds", "reps", "warmup", "torch_configs"):
        if getattr(a, k) is not None:
            cfg[k] = getattr(a, k)
    threads = [int(t) for t in a.threads.split(",")]
    binary = os.path.abspath(a.binary)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"bench: {binary}: not found or not executable (run scripts/build.sh, or pass --binary)")
    os.makedirs(a.cache, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = a.out or os.path.join(REPO, "results", "bench", f"{stamp}-{mode}")
    os.makedirs(out_dir, exist_ok=True)
    raw_path = os.path.join(out_dir, "raw.jsonl")
    raw = open(raw_path, "w")

    def record(kind, r, **extra):
        r = dict(r, kind=kind, **extra)
        raw.write(json.dumps(r) + "\n")
        raw.flush()
        return r

    t_start = time.time()
    info = machine_info(binary)
    info["mode"] = mode
    info["config"] = {k: v for k, v in cfg.items()}
    info["threads"] = threads
    info["loadavg_start"] = os.getloadavg()
    log(f"mode {mode}: models {cfg['models']}, shapes {cfg['shapes']}, threads {threads}, rounds {cfg['rounds']}, "
        f"reps {cfg['reps']} (+{cfg['warmup']} warmup) per run; load average {info['loadavg_start'][0]:.2f}")
    if "openblas" not in info.get("blas_alternative", "openblas"):
        log(f"warning: libblas.so.3 is {info['blas_alternative']}, not OpenBLAS: PyTorch will be slow "
            "(apt-get install libopenblas0-pthread; update-alternatives --auto libblas.so.3-x86_64-linux-gnu)")

    # Models, ids, agreement check.
    models = {}
    model_types = {}
    for preset in cfg["models"]:
        d = ensure_model(binary, a.cache, preset)
        with open(os.path.join(d, "config.json")) as f:
            mc = json.load(f)
        models[preset] = (d, mc["vocab_size"])
        model_types[preset] = mc.get("model_type", "?")
    ids = {}
    for preset, (d, vocab) in models.items():
        for (B, T) in cfg["shapes"]:
            ids[(preset, B, T)] = ensure_ids(a.cache, vocab, B, T, a.seed)
    checks = []
    if not a.no_check:
        for preset, (d, vocab) in models.items():
            B, T = max(cfg["shapes"], key=lambda s: s[1])
            log(f"check {preset}: PyTorch vs entroscope forward on the same ids [{B}, {T}]")
            r = record("check", check_agreement(binary, d, ids[(preset, B, T)], a.cache, max(threads), a.check_tol),
                       preset=preset)
            checks.append(r)
            log(f"  max |entropy diff| {r['max_abs_entropy_diff_bits']:.2e} bits, "
                f"max |surprisal diff| {r['max_abs_surprisal_diff_bits']:.2e} bits: {'ok' if r['ok'] else 'FAILED'}")

    # The alternating rounds.
    runs = []
    for rnd in range(cfg["rounds"]):
        log(f"round {rnd + 1}/{cfg['rounds']} (load average {os.getloadavg()[0]:.2f})")
        for preset, (d, vocab) in models.items():
            for n in threads:
                for M in sorted({B * T for (B, T) in cfg["shapes"]}, reverse=True):
                    B, T = next((B, T) for (B, T) in cfg["shapes"] if B * T == M)
                    r = run_json([binary, "bench", "--model", d, "--batch", str(B), "--tokens", str(T), "--threads",
                                  str(n), "--sgemm", "--reps", str(cfg["sgemm_reps"]), "--warmup", "1"])
                    runs.append(record("sgemm", r, preset=preset, threads=n, m=M, round=rnd))
                for (B, T) in cfg["shapes"]:
                    cmds = [("entroscope", None, [binary, "bench", "--model", d, "--ids", ids[(preset, B, T)], "--threads",
                                                  str(n), "--reps", str(cfg["reps"]), "--warmup", str(cfg["warmup"])], None)]
                    for (tt, bt) in torch_configs(n, cfg["torch_configs"]):
                        cmds.append(("pytorch", f"torch {tt} x openblas {bt}",
                                     [PY, TORCH_REF, "bench", "--model", d, "--ids", ids[(preset, B, T)], "--reps",
                                      str(cfg["reps"]), "--warmup", str(cfg["warmup"]), "--torch-threads", str(tt)],
                                     torch_env(tt, bt)))
                    if rnd % 2 == 1:
                        cmds.reverse()
                    for engine, conf, cmd, env in cmds:
                        r = run_json(cmd, env=env)
                        runs.append(record(engine, r, preset=preset, threads=n, batch=B, tokens=T, config=conf,
                                           round=rnd))
                        log(f"  {preset} B={B} T={T} threads={n} {engine}{' (' + conf + ')' if conf else ''}: "
                            f"{r['median_s']:.3f} s, {r['tokens_per_s']:.0f} tok/s")
    info["loadavg_end"] = os.getloadavg()
    info["wall_s"] = time.time() - t_start
    raw.close()

    # Aggregate.
    def times(engine, preset, n, B, T, conf=None):
        return [t for r in runs if r["kind"] == engine and r["preset"] == preset and r["threads"] == n
                and r.get("batch") == B and r.get("tokens") == T and (conf is None or r.get("config") == conf)
                for t in r["times_s"]]

    def field(engine, preset, n, B, T, key, agg, conf=None):
        vals = [r[key] for r in runs if r["kind"] == engine and r["preset"] == preset and r["threads"] == n
                and r.get("batch") == B and r.get("tokens") == T and (conf is None or r.get("config") == conf)]
        return agg(vals) if vals else float("nan")

    rows = []
    summary = {"machine": info, "checks": checks, "cells": []}
    for preset, (d, vocab) in models.items():
        for n in threads:
            for (B, T) in cfg["shapes"]:
                M = B * T
                sg = [r for r in runs if r["kind"] == "sgemm" and r["preset"] == preset and r["threads"] == n and r["m"] == M]
                limit_gflops = median([r["limit_gflops_per_s"] for r in sg])
                limit_s = median([r["limit_s"] for r in sg])
                e_t = times("entroscope", preset, n, B, T)
                e_med = median(e_t)
                e_runs = [r for r in runs if r["kind"] == "entroscope" and r["preset"] == preset and r["threads"] == n
                          and r["batch"] == B and r["tokens"] == T]
                flops = e_runs[0]["forward_gflop"]
                cell = {"model": preset, "model_type": model_types[preset], "batch": B, "tokens": T, "threads": n,
                        "forward_gflop": flops,
                        "entroscope": {"median_s": e_med, "min_s": min(e_t), "max_s": max(e_t), "n": len(e_t),
                                       "tokens_per_s": M / e_med, "gflops_per_s": flops / e_med,
                                       "peak_rss_mb": max(r["peak_rss_mb"] for r in e_runs),
                                       "load_s": median([r["load_s"] for r in e_runs]),
                                       "weight_mb_fp32": e_runs[0]["weight_bytes_fp32"] / 1e6},
                        "sgemm_limit": {"gflops_per_s": limit_gflops, "gemm_only_s": limit_s}, "pytorch": {}}
                for (tt, bt) in torch_configs(n, cfg["torch_configs"]):
                    conf = f"torch {tt} x openblas {bt}"
                    t_t = times("pytorch", preset, n, B, T, conf)
                    if not t_t:
                        continue
                    t_med = median(t_t)
                    cell["pytorch"][conf] = {"median_s": t_med, "min_s": min(t_t), "max_s": max(t_t), "n": len(t_t),
                                             "tokens_per_s": M / t_med, "gflops_per_s": flops / t_med,
                                             "peak_rss_mb": field("pytorch", preset, n, B, T, "peak_rss_mb", max, conf),
                                             "load_s": field("pytorch", preset, n, B, T, "load_s", median, conf)}
                best = min(cell["pytorch"], key=lambda c: cell["pytorch"][c]["median_s"])
                cell["pytorch_best"] = best
                cell["ratio_entroscope_over_pytorch"] = cell["pytorch"][best]["median_s"] / e_med
                cell["entroscope_fraction_of_sgemm_limit"] = (flops / e_med) / limit_gflops
                summary["cells"].append(cell)

    # Table.
    lines = []
    lines.append(f"entroscope vs PyTorch eager fp32 ({mode} mode): {info.get('cpu', '?')}, {info['cpus']} cpus, "
                 f"torch {info['torch']}, BLAS {info.get('blas_alternative', '?')}")
    lines.append(f"load average {info['loadavg_start'][0]:.2f} at start, {info['loadavg_end'][0]:.2f} at end; "
                 f"{cfg['rounds']} rounds x {cfg['reps']} timed reps per engine and cell (+{cfg['warmup']} warmup per "
                 f"process); medians; wall {info['wall_s'] / 60:.1f} min")
    for c in checks:
        lines.append(f"check {c['preset']} [{c['batch']}, {c['tokens']}]: max |entropy diff| "
                     f"{c['max_abs_entropy_diff_bits']:.1e} bits, max |surprisal diff| "
                     f"{c['max_abs_surprisal_diff_bits']:.1e} bits ({'ok' if c['ok'] else 'FAILED'}, tolerance "
                     f"{c['tolerance_bits']:.0e})")
    lines.append("")
    hdr = ("| model | B x T | thr | engine | tokens/s | median s (min-max) | GFLOP/s | entroscope / PyTorch "
           "| % of sgemm limit | peak RSS MB | load s |")
    lines.append(hdr)
    lines.append("|" + "---|" * 11)
    for c in summary["cells"]:
        e = c["entroscope"]
        shape = f"{c['batch']} x {c['tokens']}"
        lim = c["sgemm_limit"]
        lines.append(f"| {c['model']} | {shape} | {c['threads']} | entroscope | {fmt_rate(e['tokens_per_s'])} | "
                     f"{e['median_s']:.3f} ({e['min_s']:.3f}-{e['max_s']:.3f}) | {e['gflops_per_s']:.1f} | "
                     f"**{c['ratio_entroscope_over_pytorch']:.2f}** | {100 * c['entroscope_fraction_of_sgemm_limit']:.0f}% | "
                     f"{e['peak_rss_mb']:.0f} | {e['load_s']:.3f} |")
        for conf, t in sorted(c["pytorch"].items(), key=lambda kv: kv[1]["median_s"]):
            tag = " (best)" if conf == c["pytorch_best"] and len(c["pytorch"]) > 1 else ""
            lines.append(f"| | | | PyTorch {conf}{tag} | {fmt_rate(t['tokens_per_s'])} | "
                         f"{t['median_s']:.3f} ({t['min_s']:.3f}-{t['max_s']:.3f}) | {t['gflops_per_s']:.1f} | | "
                         f"{100 * (c['forward_gflop'] / t['median_s']) / lim['gflops_per_s']:.0f}% | "
                         f"{t['peak_rss_mb']:.0f} | {t['load_s']:.3f} |")
        lines.append(f"| | | | sgemm limit (GEMMs only, OpenBLAS) | {fmt_rate(c['batch'] * c['tokens'] / lim['gemm_only_s'])} | "
                     f"{lim['gemm_only_s']:.3f} | {lim['gflops_per_s']:.1f} | | 100% | | |")
    lines.append("")
    lines.append("tokens/s = B x T / median seconds of one scoring pass (forward + entropy + surprisal); "
                 "GFLOP/s = forward FLOPs (GEMMs + causal attention) / time; entroscope / PyTorch = PyTorch's best "
                 "time / entroscope's; % of sgemm limit = GFLOP/s / the FLOP rate plain OpenBLAS sgemm reaches on "
                 "the forward's GEMM shapes at the same thread count; peak RSS = getrusage maxrss of the process; "
                 "load = config + checkpoint open (weights are memory-mapped, paged in by the warmup pass).")
    # Targets of issue 6, where this run measured them.
    targets = []
    for c in summary["cells"]:
        if c["model"] == "gpt2" and c["threads"] == 2 and c["batch"] == 1 and c["tokens"] in (512, 1024):
            want = 1.5 if c["tokens"] == 512 else 2.1
            got = c["ratio_entroscope_over_pytorch"]
            targets.append(f"gpt2 T={c['tokens']} 2 threads: entroscope/PyTorch {got:.2f} (target >= {want}): "
                           f"{'met' if got >= want else 'not met'}")
        if c["model"] == "gpt2-medium" and c["batch"] == 1 and c["tokens"] == 1024:
            e = c["entroscope"]
            limit = e["weight_mb_fp32"] * 1.1 + 300
            targets.append(f"gpt2-medium B=1 T=1024 {c['threads']} threads: peak RSS {e['peak_rss_mb']:.0f} MB "
                           f"(target <= {limit:.0f} MB): {'met' if e['peak_rss_mb'] <= limit else 'not met'}; "
                           f"load {e['load_s']:.3f} s (target < 0.5 s warm): {'met' if e['load_s'] < 0.5 else 'not met'}")
    if targets:
        lines.append("")
        lines.append("targets: " + "; ".join(targets))
    summary["targets"] = targets
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    log(f"results in {out_dir} (raw.jsonl, summary.json, table.md)")
    if any(not c["ok"] for c in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
