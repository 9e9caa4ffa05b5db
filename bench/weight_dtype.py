#!/usr/bin/python3
"""16-bit weights kept 16-bit (issue 15): what widening in the GEMM packer costs, and the memory it saves.

For each preset, `entroscope synth` writes the checkpoint (seed 0) once per storage dtype; then, in
every round, `entroscope bench --batch B --tokens T --threads N` runs on each dtype in turn (the order
flipped every other round). Reported per preset and dtype: the median over rounds of bench's median
forward time, its ratio to float32's, bench's peak RSS (the process's high-water mark: weights as
held, the packed LM head, activations, the program) and the resident weight bytes `info` predicts.

The values differ between dtypes (bf16 rounds the synth's), the work does not: the forward is
float32 either way, 16-bit panels being widened exactly as the GEMM packs them.

usage: /usr/bin/python3 bench/weight_dtype.py [--presets gpt2,pythia-160m] [--dtypes f32,bf16]
           [--batch 1] [--tokens 512] [--threads 2] [--rounds 5] [--reps 1]
See bench/README.md, "16-bit weights".
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import log, machine_info, run_json  # noqa: E402


def ensure_model(binary, cache, preset, dtype):
    d = os.path.join(cache, f"{preset}-synth-seed0" + ("" if dtype == "f32" else f"-{dtype}"))
    if os.path.exists(os.path.join(d, "config.json")) and os.path.exists(os.path.join(d, "model.safetensors")):
        return d
    log(f"synth {preset} ({dtype}) -> {d}")
    subprocess.run([binary, "synth", "--preset", preset, "--dtype", dtype, "--out", d, "--seed", "0", "--force",
                    "--quiet"], check=True)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(HERE), "build", "entroscope"))
    ap.add_argument("--cache", default=os.environ.get("ENTROSCOPE_BENCH_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "entroscope", "bench")))
    ap.add_argument("--presets", default="gpt2,pythia-160m")
    ap.add_argument("--dtypes", default="f32,bf16")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    presets = a.presets.split(",")
    dtypes = a.dtypes.split(",")
    if "f32" not in dtypes:
        raise SystemExit("weight_dtype.py: --dtypes must include f32 (the reference of the ratios)")
    os.makedirs(a.cache, exist_ok=True)
    models = {(p, d): ensure_model(a.binary, a.cache, p, d) for p in presets for d in dtypes}
    runs = {key: [] for key in models}
    for r in range(a.rounds):
        for p in presets:
            order = dtypes if r % 2 == 0 else list(reversed(dtypes))
            for d in order:
                out = run_json([a.binary, "bench", "--model", models[(p, d)], "--batch", str(a.batch), "--tokens",
                                str(a.tokens), "--threads", str(a.threads), "--reps", str(a.reps), "--warmup", "1"])
                runs[(p, d)].append(out)
                log(f"round {r + 1}/{a.rounds} {p} {d}: {out['median_s']:.3f} s, peak RSS {out['peak_rss_mb']:.0f} MB")

    info = machine_info(a.binary)
    print(f"machine: {info.get('cpu', '?')}, {info['cpus']} CPUs; entroscope {info['entroscope']}")
    print(f"bench --batch {a.batch} --tokens {a.tokens} --threads {a.threads}, {a.rounds} alternating rounds "
          f"x {a.reps} rep(s); medians over rounds\n")
    print("| preset | weights | forward s | vs float32 | peak RSS MB | resident weights MB |")
    print("|---|---|---|---|---|---|")
    for p in presets:
        base = statistics.median(o["median_s"] for o in runs[(p, "f32")])
        for d in dtypes:
            rows = runs[(p, d)]
            t = statistics.median(o["median_s"] for o in rows)
            rss = max(o["peak_rss_mb"] for o in rows)
            resident = rows[0]["resident_weight_bytes"] / 1e6
            print(f"| {p} | {rows[0]['weight_matrix_dtype']} | {t:.3f} | {t / base:.3f}x | {rss:.0f} | {resident:.0f} |")


if __name__ == "__main__":
    main()
