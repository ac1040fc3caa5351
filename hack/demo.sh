#!/usr/bin/env bash
# The panel, live: starts a Jupyter server on localhost with the JupyterLab
# app (frontend/app), the datainsight server extension and its sidecar, on
# a folder with the example notebooks, and prints the URL to open. Ctrl-C
# stops it all. Needs bin/datainsight (make build) and the panel's build
# (done here).
#   PORT=8888 DEMO_DIR=/some/folder hack/demo.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${DATAINSIGHT_BIN:-$root/bin/datainsight}
port=${PORT:-8888}
python=${PYTHON:-/usr/bin/python3}

[ -x "$bin" ] || { echo "demo: no $bin: run make build first" >&2; exit 1; }
hack/frontend/install.sh --ui-tests
hack/frontend/build.sh

dir=${DEMO_DIR:-$HOME/.cache/datainsight/demo}
mkdir -p "$dir/notebooks" "$dir/jupyter/config" "$dir/jupyter/data" "$dir/jupyter/runtime"
for nb in examples/iris.ipynb examples/wordcount.ipynb frontend/e2e/fixtures/*.ipynb; do
  [ -e "$dir/notebooks/$(basename "$nb")" ] || cp "$nb" "$dir/notebooks/"
done
token=$("$python" -c 'import secrets; print(secrets.token_hex(16))')

export PYTHONPATH="$root/frontend/app:$root/kernelgw/python${PYTHONPATH:+:$PYTHONPATH}"
export JUPYTER_CONFIG_DIR="$dir/jupyter/config" JUPYTER_DATA_DIR="$dir/jupyter/data" JUPYTER_RUNTIME_DIR="$dir/jupyter/runtime"
export DATAINSIGHT_PYTHON=${DATAINSIGHT_PYTHON:-$python}
"$python" -c 'import datainsight_lab; datainsight_lab.main()' \
  --port="$port" --ServerApp.port_retries=0 --ip=127.0.0.1 --no-browser \
  --ServerApp.token="$token" --ServerApp.root_dir="$dir/notebooks" \
  --ServerApp.allow_root=True --DatainsightExtension.binary="$bin" \
  > "$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM

for _ in $(seq 120); do
  if ! kill -0 $server 2>/dev/null; then
    echo "demo: the Jupyter server stopped:" >&2
    tail -20 "$dir/server.log" >&2
    exit 1
  fi
  curl -fsS -H "Authorization: token $token" "http://127.0.0.1:$port/datainsight/status" 2>/dev/null | grep -q '"running": true' && break
  sleep 0.5
done
echo
echo "Datainsight demo: open"
echo "    http://127.0.0.1:$port/lab/tree/iris.ipynb?token=$token"
echo "notebooks in $dir/notebooks, the server's log in $dir/server.log; Ctrl-C stops it."
wait $server
