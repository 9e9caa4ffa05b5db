#!/usr/bin/env bash
# Installs the Python package (`import entroscope`, docs/python.md) from this checkout, offline,
# reusing build/ (scripts/build.sh) so nothing is compiled twice:
#   - into the active virtual environment when there is one ($VIRTUAL_ENV);
#   - otherwise for Debian's /usr/bin/python3, into /usr/local/lib/python3*/dist-packages (pip's
#     place for locally installed packages; Debian marks its Python "externally managed", hence
#     --break-system-packages, which touches nothing apt installed). --user when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${VIRTUAL_ENV:-}" ]; then
  python=python3
  "$python" -m pip install --quiet --no-build-isolation --no-index ./python
else
  python=/usr/bin/python3
  where=()
  if [ "$(id -u)" -ne 0 ]; then where=(--user); fi
  "$python" -m pip install --quiet --no-build-isolation --no-index --break-system-packages "${where[@]}" ./python
fi
rm -rf python/build python/*.egg-info
echo "install_python: $(cd /tmp && "$python" -c 'import entroscope; print("entroscope", entroscope.__version__, "at", entroscope.__file__)')"
