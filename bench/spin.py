#!/usr/bin/env python3
"""How waiting threads behave, idle and under load (docs/reliability.md, "Threads").

Times `entroscope bench` (median of --reps) on a gpt2-shaped synth model and on the demo's smallest
model, with the machine idle and with one busy process per core competing, for several wait
policies of the pool (ENTROSCOPE_SPIN_US) and, given --omp-binary (a build of the last OpenMP
commit, 4517a81), libgomp's default, OMP_WAIT_POLICY=passive and GOMP_SPINCOUNT=10000. Policies
alternate within each round, so machine drift hits them alike; the table shows the median over
rounds and each policy's ratio to the pool default's idle time.

  bench/spin.py --binary build/entroscope [--omp-binary /tmp/es-omp/build/entroscope]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def bench(binary, env_extra, model, tokens, reps):
    env = dict(os.environ)
    for k in ("ENTROSCOPE_SPIN_US", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        env.pop(k, None)
    env.update(env_extra)
    out = subprocess.run([binary, "bench", model, "--tokens", str(tokens), "--batch", "1", "--threads", "2",
                          "--reps", str(reps), "--warmup", "1"], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["median_s"]


def demo_run(binary, env_extra, spec):
    """Wall seconds of `entroscope run` on the demo experiment (the real workload: 200 items x 2
    conditions x 4 demo models, statistics and files included), into a fresh folder."""
    env = dict(os.environ)
    for k in ("ENTROSCOPE_SPIN_US", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        env.pop(k, None)
    env.update(env_extra)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([binary, "run", spec, "--out", out, "--threads", "2"], env=env, check=True,
                       capture_output=True)
        return time.perf_counter() - start


def start_load(n):
    # Busy processes with the default nice value, like another user's job.
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="build/entroscope")
    ap.add_argument("--omp-binary", default="")
    ap.add_argument("--gpt2", default="", help="a gpt2 synth folder (made with entroscope synth when not given)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--spins", default="0,20,100,500,2000", help="ENTROSCOPE_SPIN_US values to compare")
    ap.add_argument("--gomp-spincount", action="store_true", help="also libgomp with GOMP_SPINCOUNT=10000")
    ap.add_argument("--default-spin", default="100", help="the policy the ratios are relative to")
    ap.add_argument("--demo-run", default="", help="also time `run` on this spec (examples/demo.yaml)")
    args = ap.parse_args()

    gpt2 = args.gpt2
    if not gpt2:
        gpt2 = os.path.join(tempfile.gettempdir(), "entroscope-spin-gpt2")
        if not os.path.exists(os.path.join(gpt2, "config.json")):
            subprocess.run([args.binary, "synth", "--preset", "gpt2", "--out", gpt2], check=True)

    policies = [(f"pool spin {us} us", args.binary, {"ENTROSCOPE_SPIN_US": us}) for us in args.spins.split(",")]
    if args.omp_binary:
        policies += [("libgomp default", args.omp_binary, {}),
                     ("libgomp passive", args.omp_binary, {"OMP_WAIT_POLICY": "passive"})]
        if args.gomp_spincount:
            policies.append(("libgomp GOMP_SPINCOUNT=10000", args.omp_binary, {"GOMP_SPINCOUNT": "10000"}))
    workloads = [("gpt2 synth T=256", gpt2, 256, 3), ("demo-gpt2-s T=128", "demo-gpt2-s", 128, 20)]
    if args.demo_run:
        workloads.append(("`run` demo experiment", "run", 0, 0))
    cores = os.cpu_count() or 2

    times = {}  # (load, workload, policy) -> [median_s per round]
    for load in ("idle", "loaded"):
        hogs = start_load(cores) if load == "loaded" else []
        try:
            time.sleep(0.5)
            for r in range(args.rounds):
                order = policies if r % 2 == 0 else list(reversed(policies))
                for name, binary, env in order:
                    for wname, model, tokens, reps in workloads:
                        if model == "run":
                            t = demo_run(binary, env, args.demo_run)
                        else:
                            t = bench(binary, env, model, tokens, reps)
                        times.setdefault((load, wname, name), []).append(t)
                        print(f"{load:6s} round {r} {wname:18s} {name:30s} {t * 1000:9.2f} ms", file=sys.stderr)
        finally:
            for h in hogs:
                h.kill()
                h.wait()

    default_name = f"pool spin {args.default_spin} us"
    if not any(p[0] == default_name for p in policies):
        default_name = policies[0][0]
    print(f"\n{os.uname().nodename}, {cores} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"median over {args.rounds} rounds of `bench --threads 2` medians; loaded = {cores} busy processes\n")
    header = "| policy |" + "".join(f" {w[0]}, idle | same, loaded |" for w in workloads)
    print(header)
    print("|---|" + "---|---|" * len(workloads))
    for name, _, _ in policies:
        cells = []
        for wname, *_ in workloads:
            ref = statistics.median(times[("idle", wname, default_name)])
            idle = statistics.median(times[("idle", wname, name)])
            loaded = statistics.median(times[("loaded", wname, name)])
            cells.append(f" {idle * 1000:.4g} ms ({idle / ref:.2f}×) | {loaded * 1000:.4g} ms ({loaded / ref:.2f}×) |")
        print(f"| {name} |" + "".join(cells))


if __name__ == "__main__":
    main()
