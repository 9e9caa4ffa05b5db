#!/usr/bin/env python3
"""Compares two `entroscope run` output folders, e.g. a single run and a merged sharded run
(tests/cluster/slurm_test.sh). The models are those of REFERENCE's items_<model>.csv files. Per model:
items_<model>.csv and per_token_<model>_*.csv byte-identical (exactly one per-token file on each side,
the previous/ subfolder ignored), the newest experiment_results_<model>_*.json equal as JSON without
its top-level "run" and "per_token_file" (paths and time stamps), entropy_analysis_<model>.txt on
both sides. Across models: scaling_summary.csv and scaling_summary_long.csv byte-identical,
scaling_summary.json equal as JSON, the same scaling_*.svg names, report.html on both sides.
The summaries name each model's results file, whose name holds the time of its run: OTHER's file
names (experiment_results_*, per_token_*, experiment_*.log) are replaced by REFERENCE's before comparing.
Prints every difference and exits 1 if there is one.
Usage: compare_runs.py REFERENCE OTHER"""
import json
import math
import os
import sys

IGNORED_RESULT_KEYS = ("run", "per_token_file")


def files(folder):
    return sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f)))


def model_files(names, prefix, suffix, model, models):
    """names that are prefix + model + "_" + stamp + suffix, not those of a longer model name."""
    head = prefix + model + "_"
    longer = [prefix + m + "_" for m in models if m != model and m.startswith(model)]
    return [n for n in names if n.startswith(head) and n.endswith(suffix) and not any(n.startswith(x) for x in longer)]


def json_diff(a, b, path="", out=None, limit=20):
    """Paths where two JSON values differ (at most `limit`)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append(f"{p}: only in the other")
            elif k not in b:
                out.append(f"{p}: only in the reference")
            else:
                json_diff(a[k], b[k], p, out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} vs {len(b)} elements")
        for i, (x, y) in enumerate(zip(a, b)):
            json_diff(x, y, f"{path}[{i}]", out, limit)
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        pass
    elif type(a) is not type(b) or a != b:
        out.append(f"{path}: {json.dumps(a)[:120]} vs {json.dumps(b)[:120]}")
    return out[:limit]


def first_line_diff(a, b):
    la, lb = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n      reference: {x[:300]!r}\n      other:     {y[:300]!r}"
    return f"{len(la)} vs {len(lb)} lines"


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ref, other = sys.argv[1], sys.argv[2]
    problems = []
    for d in (ref, other):
        if not os.path.isdir(d):
            print(f"compare_runs: no folder {d}")
            return 1
    ref_names, other_names = files(ref), files(other)
    models = [n[len("items_"):-len(".csv")] for n in ref_names if n.startswith("items_") and n.endswith(".csv")]
    if not models:
        problems.append(f"{ref}: no items_<model>.csv")

    renames = {}  # OTHER's time-stamped file name -> REFERENCE's

    def renamed(data):
        for o, r in renames.items():
            data = data.replace(o.encode(), r.encode())
        return data

    def same_bytes(name_ref, name_other, what):
        a = open(os.path.join(ref, name_ref), "rb").read()
        b = renamed(open(os.path.join(other, name_other), "rb").read())
        if a != b:
            problems.append(f"{what}: {name_ref} and {name_other} differ ({len(a)} vs {len(b)} bytes), {first_line_diff(a, b)}")

    def present(name):
        ok = True
        for d, names in ((ref, ref_names), (other, other_names)):
            if name not in names:
                problems.append(f"{d}: no {name}")
                ok = False
        return ok

    def load(folder, name):
        try:
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read()
            return json.loads(renamed(data) if folder == other else data)
        except (OSError, ValueError) as e:
            problems.append(f"{folder}/{name}: {e}")
            return None

    def newest(folder, names):
        return max(names, key=lambda n: (os.path.getmtime(os.path.join(folder, n)), n))

    for m in models:  # the time-stamped names of each model's files, newest on each side
        for prefix, suffix in (("experiment_results_", ".json"), ("per_token_", ".csv"), ("experiment_", ".log")):
            found = [model_files(n, prefix, suffix, m, models) for n in (ref_names, other_names)]
            if all(found):
                renames[newest(other, found[1])] = newest(ref, found[0])

    for m in models:
        if present(f"items_{m}.csv"):
            same_bytes(f"items_{m}.csv", f"items_{m}.csv", m)
        present(f"entropy_analysis_{m}.txt")
        per_token = [model_files(n, "per_token_", ".csv", m, models) for n in (ref_names, other_names)]
        if all(len(p) == 1 for p in per_token):
            same_bytes(per_token[0][0], per_token[1][0], m)
        else:
            problems.append(f"{m}: per_token_{m}_*.csv: {len(per_token[0])} in the reference {per_token[0]}, "
                            f"{len(per_token[1])} in the other {per_token[1]}, expected exactly one each")
        results = [model_files(n, "experiment_results_", ".json", m, models) for n in (ref_names, other_names)]
        if all(results):
            names = (newest(ref, results[0]), newest(other, results[1]))
            a, b = load(ref, names[0]), load(other, names[1])
            if a is not None and b is not None:
                for doc in (a, b):
                    if isinstance(doc, dict):
                        for k in IGNORED_RESULT_KEYS:
                            doc.pop(k, None)
                for d in json_diff(a, b):
                    problems.append(f"{m}: {names[0]} vs {names[1]}: {d}")
        else:
            problems.append(f"{m}: experiment_results_{m}_*.json: {len(results[0])} in the reference, "
                            f"{len(results[1])} in the other")

    for name in ("scaling_summary.csv", "scaling_summary_long.csv"):
        if present(name):
            same_bytes(name, name, "summary")
    if present("scaling_summary.json"):
        a, b = load(ref, "scaling_summary.json"), load(other, "scaling_summary.json")
        if a is not None and b is not None:
            for d in json_diff(a, b):
                problems.append(f"scaling_summary.json: {d}")
    present("report.html")
    svgs = [sorted(n for n in names if n.startswith("scaling_") and n.endswith(".svg")) for names in (ref_names, other_names)]
    if not svgs[0] or svgs[0] != svgs[1]:
        problems.append(f"scaling_*.svg: {svgs[0]} in the reference, {svgs[1]} in the other")

    if problems:
        print(f"compare_runs: {ref} and {other} differ:")
        for p in problems:
            print("  " + p)
        return 1
    print(f"compare_runs: {other} equals {ref} ({len(models)} models: {', '.join(models)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
