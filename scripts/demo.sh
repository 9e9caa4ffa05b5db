#!/usr/bin/env bash
# Quick start: installs dependencies, builds, installs the Python package (scripts/install_python.sh),
# and runs the bundled demo experiment (examples/demo.yaml: 4 demo models x 200 items, with vs
# without context) into results/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
scripts/install_python.sh
build/entroscope run examples/demo.yaml --out results/demo "$@"
