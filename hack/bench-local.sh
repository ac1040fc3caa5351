#!/usr/bin/env bash
# Benchmarks of the local backend, each beside its baseline in the same run:
#  (a) per-step overhead of a 20-step chain of trivial steps, against 20 x
#      (python start + importing the runtime);
#  (b) 4 independent 2-second branches: datainsight (parallel) against
#      nbclient running the notebook top to bottom;
#  (c) a second, cached run of an unchanged notebook against the first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
DI=$PWD/bin/datainsight
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATAINSIGHT_RUNS_DIR=$work/runs

"$PY" - "$work" <<'PYEOF'
import json, sys
work = sys.argv[1]
def nb(cells):
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": tags},
                       "outputs": [], "source": src} for i, (tags, src) in enumerate(cells)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}
chain = [(["block:s0"], "v0 = 0")] + [([f"block:s{i}"], f"v{i} = v{i-1} + 1") for i in range(1, 20)]
json.dump(nb(chain), open(f"{work}/chain20.ipynb", "w"))
branches = [(["imports"], "import time"), (["block:start"], "x = 1")]
branches += [([f"block:b{i}"], f"time.sleep(2)\nr{i} = x + {i}") for i in range(4)]
branches += [(["block:join"], "print(r0 + r1 + r2 + r3)")]
json.dump(nb(branches), open(f"{work}/branches.ipynb", "w"))
PYEOF

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; echo $(( ($(date +%s%N) - s) / 1000000 )); }

echo "# machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## (a) per-step overhead, 20-step chain"
"$DI" compile "$work/chain20.ipynb" --scripts "$work/rt" >/dev/null 2>&1
base=$(for i in $(seq 9); do ms env PYTHONPATH="$work/rt" "$PY" -c "import datainsight_runtime"; done | median)
run=$(for i in $(seq 5); do ms "$DI" run "$work/chain20.ipynb" --python "$PY" --no-cache; done | median)
echo "python start + runtime import: ${base} ms (median of 9)"
echo "datainsight run, 20 steps:     ${run} ms (median of 5)"
echo "overhead per step:             $(( (run - 20 * base) / 20 )) ms   (target < 30 ms)"
echo
echo "## (b) 4 independent 2 s branches: datainsight vs nbclient top to bottom"
nbc=$(for i in 1 2 3; do ms "$PY" -c "
import nbformat, nbclient
nb = nbformat.read('$work/branches.ipynb', as_version=4)
nbclient.NotebookClient(nb, timeout=120, kernel_name='python3').execute()"; done | median)
dip=$(for i in 1 2 3; do ms "$DI" run "$work/branches.ipynb" --python "$PY" --no-cache; done | median)
echo "nbclient:    ${nbc} ms (median of 3)"
echo "datainsight: ${dip} ms (median of 3)"
echo "speed-up:    $(awk "BEGIN {printf \"%.2f\", $nbc / $dip}")x   (target >= 1.8x on 2 cores)"
echo
echo "## (c) second run of an unchanged notebook (cached)"
rm -rf "$work/runs"
first=$(ms "$DI" run "$work/branches.ipynb" --python "$PY")
second=$(for i in 1 2 3; do ms "$DI" run "$work/branches.ipynb" --python "$PY"; done | median)
echo "first run:  ${first} ms"
echo "cached run: ${second} ms (median of 3)"
echo "ratio:      $(awk "BEGIN {printf \"%.1f\", 100 * $second / $first}") %   (target < 10 %)"
