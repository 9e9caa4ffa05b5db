#!/usr/bin/env bash
# The test command: installs dependencies if missing, builds, and runs every test with CTest
# (unit, golden, bad-input, fuzz-mutation, CLI end-to-end, mock-Hub tests, the report in headless
# Chromium, sharded runs on a one-node Slurm cluster started for the test), then a 30-second
# libFuzzer smoke run of every parser (scripts/fuzz.sh --smoke, one target per core at a time; set
# ENTROSCOPE_SKIP_FUZZ=1 to leave it out). Where nvcc is installed, the CUDA backend is compiled too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
# The optional CUDA backend (docs/gpu.md) runs only on a GPU machine (scripts/gpu-check.sh); where
# nvcc is installed, check here that its kernels and the forward's GPU instantiations still compile
# (ENTROSCOPE_SKIP_CUDA_BUILD=1 leaves it out).
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [ "${ENTROSCOPE_SKIP_CUDA_BUILD:-0}" = 1 ]; then
  :
elif [ -x "$nvcc" ]; then
  echo "test: compiling the CUDA backend with $nvcc (build-cuda/, not run: no GPU here)"
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DENTROSCOPE_CUDA=ON -DENTROSCOPE_PYTHON=OFF \
    -DENTROSCOPE_BUILD_BENCH=OFF -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null
  cmake --build build-cuda -j "$(nproc)" --target test_cuda
else
  echo "test: no nvcc: the CUDA backend's compile check is skipped"
fi
if [ "${ENTROSCOPE_SKIP_FUZZ:-0}" != 1 ]; then
  FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)} scripts/fuzz.sh --smoke
fi
