#!/usr/bin/env bash
# ctest Browser.DemoReport: runs the demo experiment, then opens the report.html that `run` wrote in
# headless Chromium (report_browser_test.py): no JavaScript error, every section, a Δ taken from
# the results files in the summary table, one heat-map row per model and condition, the metric
# toggle, another item, the items ordered by where two chosen models disagree most, a non-blank
# screenshot. Then `entroscope report` writes the page again from the folder alone, and a 3-item run
# (unit_text_items.jsonl) checks that hover texts show bytes outside UTF-8, line breaks and tabs as
# escapes. Needs chromium and python3-websocket (scripts/setup.sh); fails if they are missing.
# Usage: demo_report_test.sh ENTROSCOPE SOURCE_DIR WORK_DIR
set -euo pipefail
entroscope=$1 source=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
if ! "$entroscope" run "$source/examples/demo.yaml" --out "$work/demo" --progress none >"$work/run.log" 2>&1; then
  cat "$work/run.log"
  exit 1
fi
[ -f "$work/demo/report.html" ] || { echo "FAIL: run wrote no report.html"; exit 1; }
# The first model's Δ entropy as the table shows it (sign and three decimals), the rows to expect, and
# two models of the first family to compare (the smallest and the largest).
read -r delta rows first last < <(/usr/bin/python3 - "$work/demo/scaling_summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ok = [m for m in s["models"] if m["status"] != "failed"]
v = next(iter(ok[0]["contrasts"].values()))["entropy_bits"]["delta"]
family = [m["model"] for m in ok if m["family"] == ok[0]["family"]]
print(("+" if v >= 0 else "-") + "%.3f" % abs(v), len(ok) * len(ok[0]["conditions"]), family[0], family[-1])
PY
)
/usr/bin/python3 "$source/tests/browser/report_browser_test.py" --page "$work/demo/report.html" --heatmap-rows "$rows" \
  --expect-text "$delta" --disagreement --compare "$first" "$last" --screenshot "$work/report.png"
"$entroscope" report "$work/demo" --out "$work/again.html" >/dev/null
/usr/bin/python3 "$source/tests/browser/report_browser_test.py" --page "$work/again.html" --heatmap-rows "$rows" \
  --expect-text "$delta" --screenshot "$work/again.png"

# Hover texts show a unit as the per-token file writes it: bytes outside UTF-8 as \xNN (a euro sign
# is three byte tokens in the demo tokenizer), line breaks and tabs escaped.
mkdir -p "$work/bytes"
cat >"$work/bytes/exp.yaml" <<YAML
name: unit-text
models: [demo-gpt2-s, demo-gpt2-m]
data: $source/tests/browser/unit_text_items.jsonl
conditions:
  with_context: ["{context}", {text: "{target}", measure: true}]
  no_context: ["<|endoftext|>", {text: "{target}", measure: true}]
contrasts: [with_context - no_context]
YAML
"$entroscope" run "$work/bytes/exp.yaml" --out "$work/bytes/out" --progress none >"$work/bytes/run.log" 2>&1 ||
  { cat "$work/bytes/run.log"; exit 1; }
/usr/bin/python3 "$source/tests/browser/report_browser_test.py" --page "$work/bytes/out/report.html" --heatmap-rows 4 \
  --expect-token-title '"\xE2"' --expect-token-title '"\n"' --expect-token-title '"\t"' --screenshot "$work/bytes.png"
