#!/usr/bin/env bash
# The test command: installs dependencies if missing, builds, and runs every test with CTest
# (unit, golden, bad-input, fuzz-mutation, CLI end-to-end, mock-Hub tests), then a 30-second
# libFuzzer smoke run of every parser (scripts/fuzz.sh --smoke, one target per core at a time; set
# ENTROSCOPE_SKIP_FUZZ=1 to leave it out).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
if [ "${ENTROSCOPE_SKIP_FUZZ:-0}" != 1 ]; then
  FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)} scripts/fuzz.sh --smoke
fi
