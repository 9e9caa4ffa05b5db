#!/usr/bin/env bash
# The report at scale: by default the size issue 17 names, 10,000 items x 8 models (the demo items
# repeated under new ids with other contexts, the four demo models twice under other names); then
# the page's size, the time `entroscope report` takes to write it and the time Chromium takes to
# load it (tests/browser's harness: no JS error, every section, a heat-map row per model and
# condition, the toggle, the disagreement order, two models compared, load event within 2 s).
# Not a test: the default run takes minutes on 2 cores.
# Usage: bench/report_scale.sh [BUILD_DIR] [WORK_DIR] [ITEMS] [COPIES]
#   COPIES of the four demo models (default 2: 8 models); e.g. 200 items x 40 copies = 160 models.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=${2:-/tmp/entroscope-report-scale}
n_items=${3:-10000}
copies=${4:-2}
n_models=$((4 * copies))
rm -rf "$work"
mkdir -p "$work"

/usr/bin/python3 - "$root/models/demo-experiment/items.jsonl" "$work/items.jsonl" "$n_items" <<'PY'
import json, sys
base = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[3])
with open(sys.argv[2], "w") as out:
    for k in range(n):
        # Copy r pairs each target with the context of the item 7r further on, so that items differ.
        copy = k // len(base)
        item = dict(base[k % len(base)])
        item["context"] = base[(k + 7 * copy) % len(base)]["context"]
        item["id"] = f"{item['id']}-r{copy:03d}"
        out.write(json.dumps(item) + "\n")
PY
# The demo's spec with eight models and the items above.
{
  echo "name: report-scale"
  echo "models:"
  for copy in $(seq 1 "$copies"); do
    for m in demo-gpt2-s demo-gpt2-m demo-gpt2-l demo-neox-m; do
      echo "  - {model: $root/models/$m, name: $m-$copy}"
    done
  done
  echo "data: items.jsonl"
  sed -n '/^conditions:/,$p' "$root/examples/demo.yaml"
} >"$work/spec.yaml"

start=$(date +%s.%N)
"$build/entroscope" run "$work/spec.yaml" --out "$work/out" --progress none >"$work/run.log" 2>&1 ||
  { tail -20 "$work/run.log"; exit 1; }
run_s=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
"$build/entroscope" report "$work/out" --out "$work/again.html" >/dev/null
report_s=$(echo "$(date +%s.%N) - $start" | bc)
per_token_mb=$(du -cm "$work"/out/per_token_* | tail -1 | cut -f1)
page_kb=$(( $(stat -c %s "$work/out/report.html") / 1024 ))
/usr/bin/python3 "$root/tests/browser/report_browser_test.py" --page "$work/out/report.html" --heatmap-rows $((2 * n_models)) \
  --disagreement --compare demo-gpt2-s-1 "demo-gpt2-l-$copies" --max-load-seconds 2 --screenshot "$work/report.png" | tee "$work/browser.log"
grep -o 'the page holds [^(]*' "$work/out/report.html" | head -1
printf 'items %s x %s models: run %.1f s; per-token files %s MB; report.html %s KB, written again by `entroscope report` in %.2f s\n' \
  "$n_items" "$n_models" "$run_s" "$per_token_mb" "$page_kb" "$report_s"
