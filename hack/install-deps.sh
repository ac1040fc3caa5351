#!/usr/bin/env bash
# Installs what building, running and testing Datainsight need on a Debian
# machine, skipping whatever is already there. Safe to run again.
set -euo pipefail

# Debian packages: the step runtime's interpreter and the libraries the
# examples and the marshalling tests use, Jupyter for end-to-end checks, and
# Chromium and jupyterlab_server for the panel's browser tests, pip and
# setuptools for the test that installs the Python package with the panel.
packages=(
  gcc python3 python3-numpy python3-pandas python3-sklearn python3-dill python3-joblib
  python3-matplotlib python3-nbformat python3-nbclient python3-ipykernel jupyter-core jupyter-server
  python3-torch python3-xgboost iproute2
  chromium python3-jupyterlab-server python3-pip python3-setuptools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

# Go modules, so that builds and tests need no network after this.
go mod download

# Node.js runs the panel's build and tests (its npm packages are installed
# from the lock file by hack/frontend/install.sh).
if ! command -v npm >/dev/null; then
  echo "install-deps: npm is missing: install Node.js 20 or later" >&2
  exit 1
fi
