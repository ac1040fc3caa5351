#!/usr/bin/env bash
# The panel's browser timings (frontend/e2e/bench.mjs) on the synthetic
# 100-step, 500-cell notebook: keystroke → pipeline redrawn, notebook
# opened → pipeline shown, a step's state change → shown. Prints each
# median beside its target; exits 1 if one misses it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}

hack/frontend/install.sh --ui-tests
hack/frontend/build.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=1 $GO build -o "$tmp/datainsight" ./cmd/datainsight
$GO run ./hack/synth -o "$tmp" -steps 100 -cells 500
DATAINSIGHT_BIN="$tmp/datainsight" node frontend/e2e/bench.mjs "$tmp/synth_s100_c500.ipynb"
