#!/usr/bin/env bash
# The CUDA backend on a GPU machine (docs/gpu.md), as one script: build it (or unpack a bundle
# made by scripts/gpu-bundle.sh), run its tests (every model fixture against its goldens, GPU vs
# CPU scoring, identical bits across batchings, non-finite refusals), then benchmark `entroscope
# bench --device cuda` against PyTorch eager fp32 (bench/torch_ref.py, no TF32) on the same synth
# weights and token ids (default B=16 x T=1024), rounds alternating. Writes into OUT (default ./gpu-check):
#   gpu.txt, test_cuda.log, test_cuda.xml, bench.jsonl, gpu_table.md.
# Usage: scripts/gpu-check.sh [--bundle FILE.tar.xz] [--out DIR] [--rounds N] [--shapes "gpt2-xl pythia-1b"]
#                             [--sizes "16x1024"] (B x T per benchmark; 128x128: sentence-length items)
# Without --bundle it configures and builds build-cuda/ (needs scripts/setup.sh's packages and CUDA).
set -uo pipefail
cd "$(dirname "$0")/.."
bundle="" out="${OUT:-$PWD/gpu-check}" rounds=2 shapes="gpt2-xl pythia-1b" sizes="16x1024"
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
work=$(mktemp -d /tmp/gpu-check.XXXXXX)
say() { echo "gpu-check $(date -u +%H:%M:%S): $*"; }
status=0

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >"$out/gpu.txt" 2>&1 || status=1
{ command -v nvcc >/dev/null && nvcc --version | tail -2; nproc; date -u; } >>"$out/gpu.txt" 2>&1
cat "$out/gpu.txt"

export LD_LIBRARY_PATH="${CUDA_HOME:-/usr/local/cuda}/lib64:${LD_LIBRARY_PATH:-}"
if [ -n "$bundle" ]; then
  mkdir -p "$work/bundle"
  xz -dc "$bundle" | tar -C "$work/bundle" -xf - || { say "cannot unpack $bundle"; exit 1; }
  bin=$work/bundle/bin
  export LD_LIBRARY_PATH="$work/bundle/lib:$LD_LIBRARY_PATH"
  if ! "$bin/test_cuda" --gtest_list_tests >/dev/null 2>"$work/ldd.err"; then
    say "the machine's libstdc++ is older than the build's: using the bundle's ($(head -c 200 "$work/ldd.err"))"
    export LD_LIBRARY_PATH="$work/bundle/lib-fallback:$LD_LIBRARY_PATH"
  fi
  # The tests read their fixtures from the folder the bundle was built in: point it here.
  src=$(cat "$work/bundle/source_dir")
  if [ "$src" != "$PWD" ] && [ ! -e "$src" ]; then mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"; fi
  say "bundle of commit $(cat "$work/bundle/commit"), built in $src"
else
  say "building build-cuda/"
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DENTROSCOPE_CUDA=ON -DENTROSCOPE_PYTHON=OFF \
    -DENTROSCOPE_BUILD_BENCH=OFF >"$work/configure.log" 2>&1 && cmake --build build-cuda -j "$(nproc)" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/configure.log" "$work/build.log"; say "build failed"; exit 1; }
  bin=$PWD/build-cuda
  cp build-cuda/tests/test_cuda "$bin/" 2>/dev/null || true
fi

say "tests"
timeout 300 "$bin/test_cuda" --gtest_output="xml:$out/test_cuda.xml" >"$out/test_cuda.log" 2>&1 || status=1
grep -E "^\[  (PASSED|FAILED) |tests ran|FAILED  \]" "$out/test_cuda.log" | tail -40

say "benchmark: $shapes at $sizes, $rounds rounds"
: >"$out/bench.jsonl"
for shape in $shapes; do
  case "$shape" in
    pythia-*) dtype=f16 ;;  # as the Hub ships them
    *) dtype=f32 ;;
  esac
  "$bin/entroscope" synth --preset "$shape" --dtype "$dtype" --out "$work/$shape" --quiet || { status=1; continue; }
  vocab=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$work/$shape/config.json")
  for size in $sizes; do
    ids="$work/$shape.$size.ids.safetensors"
    python3 bench/torch_ref.py ids --out "$ids" --batch "${size%x*}" --tokens "${size#*x}" --vocab "$vocab" --seed 1
    for r in $(seq 1 "$rounds"); do
      "$bin/entroscope" bench --model "$work/$shape" --ids "$ids" --device cuda --reps 3 --warmup 1 \
        | tee -a "$out/bench.jsonl" | cut -c1-300 || status=1
      python3 bench/torch_ref.py bench --model "$work/$shape" --ids "$ids" --device cuda --reps 3 --warmup 1 \
        | tee -a "$out/bench.jsonl" | cut -c1-300 || status=1
    done
  done
  rm -rf "${work:?}/$shape"
done
python3 bench/gpu_table.py "$out/bench.jsonl" | tee "$out/gpu_table.md" || status=1
rm -rf "$work"
say "done (status $status)"
exit $status
