#!/usr/bin/python3
"""The GPU benchmark's table (scripts/gpu-check.sh): from its bench.jsonl (alternating rounds of
`entroscope bench --device cuda` and `torch_ref.py bench --device cuda`, same weights and ids),
per model the median over rounds of each side's median seconds, tokens/s, the speedup (PyTorch
seconds / entroscope seconds) and how far the two sides' entropy summaries are apart."""
import json
import os
import statistics
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    for r in rows:  # entroscope reports the path it was given, torch_ref the folder's name
        r["model"] = os.path.basename(os.path.normpath(r["model"]))
    models = []  # (model, B, T) in order of appearance
    for r in rows:
        key = (r["model"], r["batch"], r["tokens"])
        if key not in models:
            models.append(key)
    print("| model | params | B x T | entroscope s | PyTorch s | entroscope tok/s | PyTorch tok/s | speedup | "
          "entropy median diff (bits) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in models:
        m = key[0]
        same = [r for r in rows if (r["model"], r["batch"], r["tokens"]) == key]
        ours = [r for r in same if r["command"] == "bench"]
        torch = [r for r in same if r["command"] == "torch_ref bench"]
        if not ours or not torch:
            print(f"| {m} | incomplete: {len(ours)} entroscope and {len(torch)} PyTorch runs |")
            continue
        s_ours = statistics.median(r["median_s"] for r in ours)
        s_torch = statistics.median(r["median_s"] for r in torch)
        tokens = ours[0]["batch"] * ours[0]["tokens"]
        diff = abs(ours[0]["entropy_bits_median"] - torch[0]["entropy_bits_median"])
        print(f"| {m} | {ours[0]['parameters'] / 1e9:.2f} B | {ours[0]['batch']} x {ours[0]['tokens']} | "
              f"{s_ours:.3f} | {s_torch:.3f} | {tokens / s_ours:,.0f} | {tokens / s_torch:,.0f} | "
              f"{s_torch / s_ours:.2f}x | {diff:.1e} |")
    devices = {r.get("device_name", "") for r in rows if r.get("device_name")}
    print(f"\nGPU: {'; '.join(sorted(devices))}. Rounds: {len(rows) // max(1, 2 * len(models))}, "
          "each 3 timed reps after 1 warm-up; medians.")


if __name__ == "__main__":
    main(sys.argv[1])
