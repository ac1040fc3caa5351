#!/usr/bin/env bash
# bench-sidecar.sh: the sidecar (`datainsight serve`), each figure beside its
# floor measured in the same run.
#
# Memory: the RSS of `datainsight serve` idle (VmRSS once it has settled)
# and while it tracks RUNS local runs of a tiny notebook, started with `run`
# (detached, as serve runs them) and subscribed to over one WebSocket
# (kernelgw's test binary, as its runsDriver), beside the peak RSS of
# `datainsight version`: the binary's own floor. Targets: idle <= floor +
# 15 MB, RUNS runs <= floor + 30 MB.
#
# Latency: kernelgw's BenchmarkAnalyzeRoundTrip (analyze of the 500-cell
# synthetic notebook over a WebSocket, beside the analyzer in-process) and
# BenchmarkFanout (one run.event to 100 WebSocket clients), and
# BenchmarkMagicRunToFirstStep (%datainsight run in a real kernel to the
# first step started, beside the run method over HTTP), medians of COUNT
# runs.
#
# Prints the load before and after. Environment: DATAINSIGHT (default
# bin/datainsight, built by `make build` if missing), PYTHON (default
# /usr/bin/python3), RUNS (50), SLEEP (the runs' step sleeps this many
# seconds, 20), COUNT (5), TMPDIR.
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
DI=${DATAINSIGHT:-$repo/bin/datainsight}
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-50}
SLEEP=${SLEEP:-20}
COUNT=${COUNT:-5}

if [[ ! -x $DI ]]; then
	make build >&2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/di-bench-sidecar.XXXXXX")
serve_pid=
driver_pid=
cleanup() {
	[[ -n $driver_pid ]] && kill "$driver_pid" 2>/dev/null || true
	if [[ -n $serve_pid ]]; then
		kill "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root" "$work/runtime" "$work/config" "$work/runs"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

echo "# machine: $(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
echo

# The floor: peak RSS of `datainsight version`, median of 5.
floor=$(for _ in 1 2 3 4 5; do /usr/bin/time -f %M "$DI" version 2>&1 >/dev/null | tail -1; done | median)

# The tiny notebook: one step that sleeps, so that the runs are under way
# while the RSS is sampled.
cat >"$work/root/tiny.ipynb" <<EOF
{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:nap"]}, "outputs": [],
  "source": "import time\ntime.sleep($SLEEP)\nprint('done')"}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}
EOF

token=bench-sidecar-$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM
DATAINSIGHT_TOKEN=$token DATAINSIGHT_RUNTIME_DIR=$work/runtime XDG_CONFIG_HOME=$work/config \
	DATAINSIGHT_RUNS_DIR=$work/runs DATAINSIGHT_PYTHON=$PY \
	"$DI" serve --addr 127.0.0.1:0 --root "$work/root" 2>"$work/serve.log" &
serve_pid=$!
url=
for _ in $(seq 300); do
	url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/serve.log" | head -1 || true)
	[[ -n $url ]] && break
	kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n $url ]] || { echo "bench-sidecar: serve printed no URL" >&2; cat "$work/serve.log" >&2; exit 1; }

# Idle: the median of 5 samples, 1 s apart, after 3 s to settle.
sleep 3
idle=$(for _ in 1 2 3 4 5; do rss_kib "$serve_pid"; sleep 1; done | median)

# RUNS runs, tracked over one WebSocket by the driver; the RSS sampled
# every 0.5 s from the moment every run has started until every run ended.
go test -c -o "$work/kernelgw.test" ./kernelgw/
DATAINSIGHT_BENCH_URL=$url DATAINSIGHT_BENCH_TOKEN=$token DATAINSIGHT_BENCH_RUNS=$RUNS \
	DATAINSIGHT_BENCH_NOTEBOOK=tiny.ipynb \
	"$work/kernelgw.test" >"$work/driver.log" 2>&1 &
driver_pid=$!
t0=$(date +%s%N)
until grep -q '^started' "$work/driver.log"; do
	kill -0 "$driver_pid" 2>/dev/null || { cat "$work/driver.log" >&2; exit 1; }
	sleep 0.1
done
t_started=$(( ($(date +%s%N) - t0) / 1000000 ))
: >"$work/rss.txt"
while kill -0 "$driver_pid" 2>/dev/null && ! grep -q '^ended' "$work/driver.log"; do
	rss_kib "$serve_pid" >>"$work/rss.txt"
	sleep 0.5
done
t_ended=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$driver_pid" || { cat "$work/driver.log" >&2; exit 1; }
driver_pid=
after=$(rss_kib "$serve_pid")
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status")
samples=$(wc -l <"$work/rss.txt")
tracking_med=$(median <"$work/rss.txt")
tracking_max=$(sort -n "$work/rss.txt" | tail -1)

echo "## memory of datainsight serve (RSS), beside datainsight version's peak"
echo "# $RUNS runs of a one-step notebook (sleep $SLEEP s), detached, subscribed over one WebSocket:"
echo "#   all started after $t_started ms, all ended after $t_ended ms; $(grep '^ended' "$work/driver.log")"
printf "%-44s %9s %12s %s\n" "" "RSS" "over floor" "target"
row() { printf "%-44s %5s MiB %8s MiB %s\n" "$1" "$(mib "$2")" "$(mib $(( $2 - floor )))" "$3"; }
row "datainsight version (peak, floor)" "$floor" ""
row "serve idle" "$idle" "<= floor + 15 MB: $(awk -v d=$((idle - floor)) 'BEGIN {print (d * 1024 <= 15e6) ? "ok" : "MISSED"}')"
row "serve tracking $RUNS runs (median, $samples samples)" "$tracking_med" ""
row "serve tracking $RUNS runs (max)" "$tracking_max" "<= floor + 30 MB: $(awk -v d=$((tracking_max - floor)) 'BEGIN {print (d * 1024 <= 30e6) ? "ok" : "MISSED"}')"
row "serve after the runs ended" "$after" ""
row "serve peak (VmHWM)" "$hwm" ""
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=
echo

# Medians over COUNT runs of every column a benchmark reports (ns/op and
# its own metrics), one line per benchmark.
medians() {
	awk '/^Benchmark/ { n=$1; sub(/-[0-9]+$/, "", n); for (i = 3; i + 1 <= NF; i += 2) print n, $(i + 1), $i }' |
		sort -k1,1 -k2,2 -k3,3g |
		awk '{ k = $1 " " $2; v[k] = v[k] " " $3; c[k]++ }
		     END { for (k in v) { split(v[k], a, " "); print k, a[int((c[k] + 1) / 2)] } }' | sort
}

echo "## sidecar latency (go test -bench, median of $COUNT)"
echo "# load before $(cut -d' ' -f1-3 /proc/loadavg)"
DATAINSIGHT_PYTHON=$PY go test ./kernelgw/ -run '^$' -bench 'AnalyzeRoundTrip' -count "$COUNT" -benchtime 20x | tee "$work/analyze.txt" | medians >"$work/analyze.med"
DATAINSIGHT_PYTHON=$PY go test ./kernelgw/ -run '^$' -bench 'Fanout' -count "$COUNT" -benchtime 200x | tee "$work/fanout.txt" | medians >"$work/fanout.med"
DATAINSIGHT_PYTHON=$PY go test ./kernelgw/ -run '^$' -bench 'MagicRunToFirstStep' -count "$COUNT" -benchtime 10x | tee "$work/magic.txt" | medians >"$work/magic.med"
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
get() { awk -v n="$1" -v u="$2" '$1 == n && $2 == u {print $3}' "$work"/*.med; }
ms() { awk -v v="$1" 'BEGIN {printf "%.3f", v / 1e6}'; }
msd() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (a - b) / 1e6}'; }
a=BenchmarkAnalyzeRoundTrip
ws1=$(get $a/ws-one-cell-edit ns/op)
ip1=$(get $a/inprocess-one-cell-edit ns/op)
wsw=$(get $a/ws-whole-notebook-cold ns/op)
ipw=$(get $a/inprocess-whole-cold ns/op)
printf "%-52s %10s ms\n" "analyze, one cell edited, in-process (floor)" "$(ms "$ip1")"
printf "%-52s %10s ms   (+%s ms; target <= 5 ms: %s)\n" "analyze, one cell edited, sent as an edit (WebSocket)" "$(ms "$ws1")" \
	"$(msd "$ws1" "$ip1")" "$(awk -v v="$ws1" 'BEGIN {print v <= 5e6 ? "ok" : "MISSED"}')"
printf "%-52s %10s ms\n" "  the same edit sent as the whole body" "$(ms "$(get $a/ws-one-cell-edit-whole-body ns/op)")"
printf "%-52s %10s ms\n" "analyze, whole notebook cold, in-process (floor)" "$(ms "$ipw")"
printf "%-52s %10s ms   (+%s ms; target <= floor + 5 ms: %s)\n" "analyze, whole notebook cold, over the WebSocket" "$(ms "$wsw")" \
	"$(msd "$wsw" "$ipw")" "$(awk -v a="$wsw" -v b="$ipw" 'BEGIN {print a - b <= 5e6 ? "ok" : "MISSED"}')"
printf "%-52s %10s ms   (p50 %s ms, p99 %s ms; one client's p99 %s ms)\n" "fanout of one run.event to 100 clients, per message" \
	"$(ms "$(get BenchmarkFanout ns/op)")" "$(get BenchmarkFanout p50-ms)" "$(get BenchmarkFanout p99-ms)" "$(get BenchmarkFanout each-p99-ms)"
echo "(no message lost or reordered: BenchmarkFanout fails otherwise)"
mg=$(get BenchmarkMagicRunToFirstStep/magic first-step-ms)
printf "%-52s %10s ms   (target <= 300 ms: %s)\n" "%datainsight run -d in a kernel -> first step started" "$mg" \
	"$(awk -v v="$mg" 'BEGIN {print v <= 300 ? "ok" : "MISSED"}')"
printf "%-52s %10s ms\n" "run over HTTP -> first step started (floor)" "$(get BenchmarkMagicRunToFirstStep/rpc-floor first-step-ms)"
