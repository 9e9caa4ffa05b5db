#!/usr/bin/env python3
"""Compare entroscope's `forward --hidden-states` output with the variant goldens.

    /usr/bin/python3 tools/variant_fixtures/check.py                 # run the engine on every variant
    /usr/bin/python3 tools/variant_fixtures/check.py --engine build/entroscope neox-gelu-new
    /usr/bin/python3 tools/variant_fixtures/check.py --fixture DIR --got OUT.safetensors   # compare only

Per array it prints the max |got - expected| and the tolerance from the fixture's expected.json
(for hidden.K: max |d|, and the worst ratio |d| / (hidden_atol[K] + hidden_rtol * |expected|)).
Exit status 1 if any array is out of tolerance or missing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen import OUT_ROOT, REPO, VARIANTS, read_safetensors  # noqa: E402


def compare(fixture: Path, got_path: Path) -> tuple[bool, list[tuple]]:
    exp, _ = read_safetensors(fixture / "expected.safetensors")
    tol = json.loads((fixture / "expected.json").read_text())["tolerances"]
    got, header = read_safetensors(got_path)
    rows = []
    ok = True
    names = ["logits", "entropy_bits", "surprisal_bits"] + sorted(
        (k for k in exp if k.startswith("hidden.")), key=lambda k: int(k.split(".")[1]))
    for name in names:
        e = exp[name].astype(np.float64)
        if name not in got:
            rows.append((name, None, None, None, "MISSING"))
            ok = False
            continue
        g = got[name]
        want_dtype = "F64" if name in ("entropy_bits", "surprisal_bits") else "F32"
        if g.shape != e.shape or header[name]["dtype"] != want_dtype:
            rows.append((name, None, None, None, f"BAD shape/dtype {header[name]['dtype']} {list(g.shape)}"))
            ok = False
            continue
        d = np.abs(g.astype(np.float64) - e)
        if not np.all(np.isfinite(d)):
            rows.append((name, float("nan"), None, None, "NON-FINITE"))
            ok = False
            continue
        if name.startswith("hidden."):
            K = int(name.split(".")[1])
            atol = tol["hidden_atol"][K]
            bound = atol + tol["hidden_rtol"] * np.abs(e)
            ratio = float((d / bound).max())
            t_s = f"{atol:g} + {tol['hidden_rtol']:g}|x|"
        else:
            atol = tol[f"{name}_atol"]
            ratio = float(d.max() / atol)
            t_s = f"{atol:g}"
        passed = ratio <= 1.0
        ok &= passed
        where = np.unravel_index(int(d.argmax()), d.shape)
        rows.append((name, float(d.max()), t_s, ratio, ("ok" if passed else "FAIL") + f"  worst at {tuple(int(i) for i in where)}"))
    return ok, rows


def print_rows(title, rows):
    print(title)
    for name, m, t_s, r, status in rows:
        if m is None:
            print(f"  {name:16s} {'-':>10s}  {status}")
        else:
            print(f"  {name:16s} max|d| {m:10.3e}  tol {t_s:>16s}  |d|/tol {r:9.3g}  {status}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", default=str(REPO / "build-var" / "entroscope"))
    ap.add_argument("--fixture", help="fixture directory (with --got: compare only)")
    ap.add_argument("--got", help="engine output .safetensors to compare")
    ap.add_argument("--json", help="write a summary JSON here")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    if args.got:
        ok, rows = compare(Path(args.fixture), Path(args.got))
        print_rows(args.fixture, rows)
        sys.exit(0 if ok else 1)
    all_ok = True
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        for v in VARIANTS:
            if args.names and v["name"] not in args.names:
                continue
            fx = OUT_ROOT / v["name"]
            out = Path(tmp) / f"{v['name']}.safetensors"
            cmd = [args.engine, "forward", "--model", str(fx), "--input", str(fx / "expected.safetensors"),
                   "--output", str(out), "--hidden-states"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{v['name']}: engine failed (rc {r.returncode}):\n{r.stdout}{r.stderr}")
                all_ok = False
                summary[v["name"]] = {"engine_failed": (r.stdout + r.stderr).strip()}
                continue
            ok, rows = compare(fx, out)
            all_ok &= ok
            print_rows(f"{v['name']}: {'PASS' if ok else 'FAIL'}", rows)
            summary[v["name"]] = {n: {"max_abs": m, "tol": t, "ratio": rr, "status": s}
                                  for n, m, t, rr, s in rows}
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    print("ALL PASS" if all_ok else "SOME FAILED")
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
