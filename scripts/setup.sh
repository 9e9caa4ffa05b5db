#!/usr/bin/env bash
# Installs everything entroscope needs to build and test, from Debian packages only.
# Safe to re-run: apt skips what is installed. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev            # CBLAS sgemm (any CBLAS works: see README)
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libutf8proc-dev libpcre2-dev # Unicode classes / NFC for the tokenizer
  libcurl4-openssl-dev libssl-dev  # Hub downloads, sha256
  libgtest-dev libgmock-dev libbenchmark-dev
  python3                    # the mock Hub server used by the tests
  python3-dev pybind11-dev   # the Python package's extension module (python/, docs/python.md)
  python3-numpy python3-pandas python3-pytest python3-tqdm  # ... its API, its tests, its progress bar
  python3-pip python3-setuptools python3-wheel python3-venv  # pip install --no-build-isolation ./python
  clang libclang-rt-14-dev   # scripts/fuzz.sh: libFuzzer + ASan/UBSan runtimes (libclang_rt.fuzzer)
  chromium python3-websocket # the report's browser test (tests/browser: headless Chromium over DevTools)
  slurm-wlm munge            # the sharded-run test on a one-node Slurm cluster (tests/cluster)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
