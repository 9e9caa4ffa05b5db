#!/usr/bin/env bash
# Packs a CUDA build for a GPU machine that has the CUDA driver and toolkit but not entroscope's
# Debian -dev packages: the entroscope binary, the CUDA test binary and every shared library they
# need except glibc's and CUDA's own, in one tar.xz that `scripts/gpu-check.sh --bundle FILE` runs
# from. libstdc++/libgcc_s go into lib-fallback/ (used only when the machine's own are older).
# Usage: scripts/gpu-bundle.sh [BUILD_DIR (build-cuda)] [OUT (gpu-bundle.tar.xz)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-cuda}
out=${2:-gpu-bundle.tar.xz}
for f in "$build/entroscope" "$build/tests/test_cuda"; do
  [ -x "$f" ] || { echo "gpu-bundle: $f missing: configure with -DENTROSCOPE_CUDA=ON and build first" >&2; exit 1; }
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/lib-fallback"
cp "$build/entroscope" "$build/tests/test_cuda" "$stage/bin/"
strip "$stage/bin/"*
ldd "$build/entroscope" "$build/tests/test_cuda" | awk '$3 ~ /^\// {print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libcuda.so*|libcudart*|libcublas*) ;;
    libstdc++.so*|libgcc_s.so*) cp -L "$lib" "$stage/lib-fallback/" ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
# The test binary reads its fixtures from the source folder it was built in.
pwd >"$stage/source_dir"
git rev-parse --short HEAD >"$stage/commit" 2>/dev/null || echo unknown >"$stage/commit"
tar -C "$stage" -cf - . | xz -T0 -6 >"$out"
echo "gpu-bundle: $out ($(du -h "$out" | cut -f1)) from $build"
