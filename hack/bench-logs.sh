#!/usr/bin/env bash
# bench-logs.sh: `datainsight logs` of a large step log beside `cat` of the
# same file, interleaved in one run, so that both see the same machine load
# and the same page cache.
#
# A real local run of a two-step notebook is made, then one step's log is
# replaced by SIZE_MIB of training-style lines. Timed, ROUNDS times each:
#   cat LOG                      the baseline: the same bytes to the same sink
#   datainsight logs RUN STEP    one step's log, raw
#   datainsight logs RUN         every step's log, each line prefixed "STEP | "
# Output goes to /dev/null. Prints the medians, MB/s, the ratios to cat,
# each command's peak RSS (beside that of `datainsight version`, the
# binary's own floor), and the load before and after. Targets: >= 200 MB/s
# for logs, and a peak RSS that does not grow with the log.
#
# Environment: DATAINSIGHT (default bin/datainsight), PYTHON (default
# /usr/bin/python3), SIZE_MIB (200), ROUNDS (5), TMPDIR (where the run goes).
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "$0")/.." && pwd)
DI=${DATAINSIGHT:-$repo/bin/datainsight}
PY=${PYTHON:-/usr/bin/python3}
SIZE_MIB=${SIZE_MIB:-200}
ROUNDS=${ROUNDS:-5}

if [[ ! -x $DI ]]; then
	echo "bench-logs: no datainsight binary at $DI (make build)" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/di-bench-logs.XXXXXX")
trap 'rm -rf "$work"' EXIT
export DATAINSIGHT_RUNS_DIR=$work/runs

"$PY" - "$work" "$SIZE_MIB" <<'PYEOF'
import json, sys
work, size = sys.argv[1], int(sys.argv[2]) << 20
cells = [(["block:train"], "print('training')"), (["block:evaluate"], "print('evaluating')")]
nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": tags},
                 "outputs": [], "source": src} for i, (tags, src) in enumerate(cells)],
      "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
      "nbformat": 4, "nbformat_minor": 5}
json.dump(nb, open(f"{work}/logs.ipynb", "w"))
# Lines of varied length, as a training loop prints them.
with open(f"{work}/big.log", "w") as f:
    n, i = 0, 0
    while n < size:
        line = f"epoch {i // 1000:4d} step {i:8d} loss={1 / (i + 1):.6f} acc={(i % 997) / 997:.4f}" + " lr=1e-4" * (i % 5) + "\n"
        f.write(line)
        n += len(line)
        i += 1
PYEOF

"$DI" run "$work/logs.ipynb" --python "$PY" >/dev/null 2>&1
run=$(cd "$work/runs" && ls -d logs-* | head -1)
log=$work/runs/$run/step-logs/train.log
cp "$work/big.log" "$log"
bytes=$(stat -c %s "$log")

# seconds of one run (to /dev/null) and its peak RSS in KiB, on one line.
measure() {
	"$PY" - "$@" <<'PYEOF'
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.6f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PYEOF
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "# machine: $(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# log: $bytes bytes, $(wc -l <"$log") lines; $ROUNDS rounds, interleaved, after one warm-up each"
cat "$log" >/dev/null
"$DI" logs "$run" train >/dev/null
"$DI" logs "$run" >/dev/null
for _ in $(seq "$ROUNDS"); do
	measure cat "$log" >>"$work/cat.txt"
	measure "$DI" logs "$run" train >>"$work/raw.txt"
	measure "$DI" logs "$run" >>"$work/prefixed.txt"
	measure "$DI" version >>"$work/version.txt"
done
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"

c=$(cut -d' ' -f1 "$work/cat.txt" | median)
printf "%-32s %9s %10s %9s %11s\n" "" "median s" "MB/s" "vs cat" "peak RSS"
for name in cat raw prefixed version; do
	s=$(cut -d' ' -f1 "$work/$name.txt" | median)
	rss=$(cut -d' ' -f2 "$work/$name.txt" | sort -n | tail -1)
	label=$name
	case $name in
	cat) label="cat LOG" ;;
	raw) label="datainsight logs RUN STEP" ;;
	prefixed) label="datainsight logs RUN (prefixed)" ;;
	version) label="datainsight version (RSS floor)" ;;
	esac
	[[ $name == version ]] && b=0 || b=$bytes # it reads no log
	awk -v l="$label" -v s="$s" -v c="$c" -v b="$b" -v r="$rss" \
		'BEGIN { if (b) printf "%-32s %9.3f %10.0f %8.1fx %8.1f MiB\n", l, s, b / s / 1e6, s / c, r / 1024
		         else printf "%-32s %9.3f %10s %9s %8.1f MiB\n", l, s, "-", "-", r / 1024 }'
done
echo "(target: logs >= 200 MB/s; peak RSS independent of the log's size)"
