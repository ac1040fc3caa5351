#!/usr/bin/env bash
# Installs the panel's npm packages from the committed lock file (npm ci),
# once per lock: a later run with the same lock does nothing. Also checks
# the machine packages the UI tests use (Debian's chromium,
# jupyterlab_server, and pip, which installs the Python package with the
# prebuilt panel), naming what to install when one is missing.
set -euo pipefail
cd "$(dirname "$0")/../../frontend"

if ! command -v npm >/dev/null; then
  echo "frontend/install: npm is missing: install Node.js 20 or later" >&2
  exit 1
fi

want=$( (cat package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
stamp=node_modules/.datainsight-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "frontend/install: node_modules matches package-lock.json"
else
  start=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  # A go.mod makes node_modules a module of its own, which `go ... ./...`
  # in the repository does not walk into.
  printf 'module datainsight.invalid/node_modules\n' > node_modules/go.mod
  echo "$want" > "$stamp"
  echo "frontend/install: npm ci took $((SECONDS - start))s"
fi

if [ "${1:-}" = "--ui-tests" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  /usr/bin/python3 -c 'import jupyterlab_server, jupyter_server, ipykernel' 2>/dev/null ||
    missing+=(python3-jupyterlab-server jupyter-server python3-ipykernel)
  /usr/bin/python3 -c 'import setuptools, pip' 2>/dev/null || missing+=(python3-pip python3-setuptools)
  if ((${#missing[@]})); then
    echo "frontend/install: the UI tests need the Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi
