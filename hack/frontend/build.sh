#!/usr/bin/env bash
# Builds the panel: the RPC declarations from the sidecar's Go types, the
# TypeScript, the prebuilt JupyterLab extension (frontend/dist/labextension,
# embedded by the next go build, and kernelgw/python/labextension, which
# pip installs), and the JupyterLab app the tests and the demo serve
# (frontend/app/build). Installs the npm packages first if needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
GO=${GO:-go}

"$here/install.sh"
cd "$root"
start=$SECONDS
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
$GO run ./frontend/internal/rpcts > "$tmp"
cmp -s "$tmp" frontend/src/rpc/api.gen.ts || cp "$tmp" frontend/src/rpc/api.gen.ts
cd frontend
npm run --silent build
echo "frontend/build: built in $((SECONDS - start))s (prebuilt extension: frontend/dist/labextension; app: frontend/app/build)"
