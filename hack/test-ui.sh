#!/usr/bin/env bash
# The panel's tests: jest unit tests (tag editing against a real
# NotebookModel, the DAG model, the run model), then the browser tests
# (playwright-core driving Debian's headless Chromium) against a real
# Jupyter server with the JupyterLab app, the datainsight server extension
# and sidecar, and an IPython kernel. Prints where the screenshots are.
# Exits non-zero if any test fails. --browser-only skips the unit tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
out=${DATAINSIGHT_UI_OUT:-$root/frontend/test-output/ui}

hack/frontend/install.sh --ui-tests
hack/frontend/build.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
CGO_ENABLED=1 $GO build -o "$tmp/datainsight" ./cmd/datainsight
echo "test-ui: built datainsight in $((SECONDS - start))s"

if [ "${1:-}" != "--browser-only" ]; then
  start=$SECONDS
  (cd frontend && npx jest --ci)
  echo "test-ui: unit tests took $((SECONDS - start))s"
fi

rm -rf "$out"
mkdir -p "$out"
start=$SECONDS
status=0
DATAINSIGHT_BIN="$tmp/datainsight" DATAINSIGHT_UI_OUT="$out" \
  node --test --test-concurrency=1 frontend/e2e/ || status=$?
echo "test-ui: browser tests took $((SECONDS - start))s"
echo "test-ui: screenshots in $out"
exit $status
