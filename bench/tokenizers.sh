#!/usr/bin/env bash
# Tokenizer throughput table: GPT-2 (vocab.json + merges.txt), Qwen3 and Mistral 7B (real
# tokenizer.json files) on the fixture texts, single thread, against the real Hugging Face
# tokenizers library's anchor (tests/data/tokenizer/bench_results_hf.json, same kind of machine),
# then `entroscope tokenize --threads 1/2` over the lines of the mixed document.
#
#   bench/tokenizers.sh [--rounds N]     (default 3 rounds, interleaved; ~1 min)
#
# Needs a build with the bench target (scripts/build.sh builds it) and the unpacked Qwen3 file
# (build/test-data, made by CMake). Prints a Markdown table; medians over rounds of each round's
# median-of-7 (encode by the thread's CPU time: steadier on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "usage: bench/tokenizers.sh [--rounds N]" >&2; exit 2 ;;
  esac
done
BENCH=build/bench/tokenizer_bench
[[ -x $BENCH ]] || { echo "bench/tokenizers.sh: $BENCH is not built (run scripts/build.sh)" >&2; exit 1; }
DATA=tests/data/tokenizer
QWEN3=build/test-data/tokenizer/qwen3/tokenizer.json
[[ -f $QWEN3 ]] || { echo "bench/tokenizers.sh: $QWEN3 missing (configure the build with CMake)" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cases=("gpt2 $DATA/gpt2/vocab.json bench_1mb" "gpt2 $DATA/gpt2/vocab.json mixed_300k"
       "qwen3 $QWEN3 mixed_300k" "qwen3 $QWEN3 bench_1mb"
       "mistral-sp $DATA/mistral-sp/tokenizer.json mixed_300k" "mistral-sp $DATA/mistral-sp/tokenizer.json bench_1mb")
for round in $(seq 1 "$ROUNDS"); do
  for c in "${cases[@]}"; do
    read -r name path text <<< "$c"
    "$BENCH" --tokenizer "$path" --text "$DATA/texts/$text.txt" --runs 7 --allow-special > "$OUT/$name.$text.$round.json"
  done
done

# --threads: the mixed document 20 times, one JSON Lines record per line, through the CLI.
python3 - "$DATA/texts/mixed_300k.txt" "$QWEN3" "$ROUNDS" > "$OUT/threads.txt" <<'PY'
import json, subprocess, sys, tempfile, time
text_path, tokenizer, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(text_path, encoding="utf-8").read().split("\n") * 10
with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    for line in lines:
        f.write(json.dumps({"text": line}) + "\n")
for _ in range(rounds):
    for threads in (1, 2):
        with open(f.name) as stdin:
            start = time.monotonic()
            subprocess.run(["build/entroscope", "tokenize", "--tokenizer", tokenizer, "--allow-special",
                            "--threads", str(threads)], stdin=stdin, stdout=subprocess.DEVNULL, check=True)
            print(threads, time.monotonic() - start)
PY

python3 - "$OUT" "$DATA/bench_results_hf.json" <<'PY'
import glob, json, os, statistics, sys
out, hf_path = sys.argv[1], sys.argv[2]
# The anchors the fixture README names (top of the real library's CPU-time ranges, one thread).
anchor = {("qwen3", "mixed_300k"): 2.0, ("mistral-sp", "mixed_300k"): 3.1, ("qwen3", "bench_1mb"): 1.56,
          ("mistral-sp", "bench_1mb"): 1.75, ("gpt2", "bench_1mb"): 6.6, ("gpt2", "mixed_300k"): 1.89}
rows = {}
for f in glob.glob(os.path.join(out, "*.json")):
    name, text, _, _ = os.path.basename(f).split(".")
    rows.setdefault((name, text), []).append(json.load(open(f)))
print("| tokenizer | text | tokens | encode MB/s (1 thread) | reference MB/s (tiktoken for gpt2 bench_1mb, else HF tokenizers) | × | decode MB/s | load s | round trip |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for key in [("gpt2", "bench_1mb"), ("gpt2", "mixed_300k"), ("qwen3", "mixed_300k"), ("qwen3", "bench_1mb"),
            ("mistral-sp", "mixed_300k"), ("mistral-sp", "bench_1mb")]:
    runs = rows[key]
    enc = statistics.median(r["encode_mb_per_cpu_s_median"] for r in runs)
    dec = statistics.median(r["decode_mb_per_s_median"] for r in runs)
    load = statistics.median(r["load_seconds"] for r in runs)
    ref = anchor[key]
    print(f"| {key[0]} | {key[1]} | {runs[0]['tokens']:,} | {enc:.1f} | {ref} | {enc / ref:.1f} | {dec:.0f} | {load:.2f} | "
          f"{'exact' if runs[0]['roundtrip_exact'] else 'NFC form'} |")
times = {}
for line in open(os.path.join(out, "threads.txt")):
    t, s = line.split()
    times.setdefault(t, []).append(float(s))
one, two = statistics.median(times["1"]), statistics.median(times["2"])
print(f"\n`entroscope tokenize` (Qwen3, the mixed document x20 as 6 MB of JSON Lines, load included): "
      f"--threads 1 {one:.2f} s, --threads 2 {two:.2f} s ({one / two:.2f}x).")
PY
