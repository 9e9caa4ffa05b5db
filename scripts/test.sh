#!/usr/bin/env bash
# The test command: installs dependencies if missing, builds, and runs every test with CTest
# (unit, golden, bad-input, fuzz-mutation, CLI end-to-end, mock-Hub tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
