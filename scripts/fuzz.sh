#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each one for SECONDS
# (default 600) with its seed corpus (fuzz/corpus/<name>, copied into build-fuzz/corpus/<name> so
# the checked-in seeds stay as they are) and dictionary (fuzz/dict/<name>.dict).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 120 config_json hub_http
#   scripts/fuzz.sh --smoke [TARGET...]       30 s each (the CI smoke run of scripts/test.sh)
# Prints one line per target (executions, coverage cov/ft from libFuzzer's final stats, PASS or
# FAIL) and exits non-zero when any target found a crash, leak, timeout or out-of-memory; the input
# is saved as build-fuzz/crashes/<name>/crash-* (replay: build-fuzz/fuzz/fuzz_<name> <file>). Add
# it to tests/data/fuzz_regressions/<name>/ once fixed. Runs niced; FUZZ_JOBS=N runs N targets at
# once (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
if [ "${1:-}" = "--smoke" ]; then
  seconds=30
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
all_targets=(safetensors_header tokenizer_json config_json vocab_merges safetensors_index experiment_yaml items_jsonl
             hub_cache hub_http doctor_compare report_folder unit_file results_file)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
jobs=${FUZZ_JOBS:-1}

for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool not found (scripts/setup.sh installs it)" >&2; exit 2; }
done

build=build-fuzz
start=$(date +%s)
# -O1, libFuzzer's customary level: with ASan + UBSan the ten targets of 2026-11 built from clean in 5 min 42 s
# on 2 cores (6 min 11 s at the project's -O3; the fuzz build dominates CI).
# Configured every time (a second or two) so that a build-fuzz/ from before a flag change follows.
CC=clang CXX=clang++ nice -n 10 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DENTROSCOPE_FUZZ=ON -DENTROSCOPE_SANITIZE=ON -DENTROSCOPE_BUILD_TESTS=OFF -DENTROSCOPE_BUILD_BENCH=OFF \
  -DENTROSCOPE_PYTHON=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
mkdir -p "$build/logs"
if ! nice -n 10 cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}" >"$build/logs/build.log" 2>&1; then
  tail -40 "$build/logs/build.log" >&2
  echo "fuzz: build failed (full log: $build/logs/build.log)" >&2
  exit 2
fi
echo "fuzz: built ${#targets[@]} targets in $(( $(date +%s) - start )) s; running each for ${seconds} s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1 corpus="$build/corpus/$1" crashes="$build/crashes/$1" log="$build/logs/$1.log"
  mkdir -p "$corpus" "$crashes" "$build/logs"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  local dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  local rc=0
  # -timeout: one input running this long is a hang; -rss_limit_mb: ASan's shadow included.
  nice -n 10 "$build/fuzz/fuzz_$t" "$corpus" "${dict[@]}" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || rc=$?
  local execs cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local verdict=PASS
  if [ "$rc" -ne 0 ]; then verdict="FAIL (rc $rc, see $log and $crashes/)"; fi
  printf 'fuzz_%-20s %4d s  execs %-10s cov %-6s ft %-6s %s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$verdict" >"$build/logs/$t.summary"
}

summaries=()
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
status=0
for t in "${targets[@]}"; do
  line=$(cat "$build/logs/$t.summary")
  echo "$line"
  [[ "$line" == *PASS ]] || status=1
done
echo "fuzz: $( [ $status -eq 0 ] && echo all clean || echo FAILURES) in $(( $(date +%s) - start )) s"
exit $status
