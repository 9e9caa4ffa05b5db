#!/usr/bin/env bash
# entroscope vs PyTorch eager fp32 benchmark (see bench/README.md).
#   bench/run.sh            quick mode: gpt2, B=1 T=1024 and B=8 T=128, threads 1 and 2 (< 5 min idle)
#   bench/run.sh --full     gpt2 + gpt2-medium, also T=512, every PyTorch thread configuration
#   bench/run.sh --families smollm2-360m (Llama, GQA) + opt-125m with the quick mode's protocol
# Other options go to bench/bench.py (--help). Needs a built entroscope (scripts/build.sh) or
# ENTROSCOPE_BIN / --binary; installs Debian's python3-torch if the system python lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! /usr/bin/python3 -c "import torch, numpy" >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "bench: installing python3-torch (Debian) for the PyTorch reference" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-numpy libopenblas0-pthread
fi

if [ -z "${ENTROSCOPE_BIN:-}" ] && [[ " $* " != *" --binary "* ]] && [ ! -x build/entroscope ]; then
  echo "bench: build/entroscope not found; building it (scripts/build.sh)" >&2
  scripts/build.sh
fi

exec /usr/bin/python3 bench/bench.py "$@"
