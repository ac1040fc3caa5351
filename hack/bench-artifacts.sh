#!/usr/bin/env bash
# Per-step overhead of a local run's store (marshal target s3://…, MinIO on
# loopback) against the same run without one: a 10-step chain of trivial
# steps, each loading the previous step's value, run alternately with and
# without the store in one benchmark (BenchmarkStoreStepOverhead), so both
# see the same load. Prints the medians, what the store adds per step and
# the ratio, with the machine's load before and after (a loaded machine
# stretches both). About a minute with the default ROUNDS=7.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO="${GO:-go}"
ROUNDS="${ROUNDS:-7}"
export DATAINSIGHT_PYTHON="${DATAINSIGHT_PYTHON:-/usr/bin/python3}" DATAINSIGHT_REQUIRE_TOOLS=1
if ! msg=$(hack/minio/build.sh 2>&1); then echo "$msg" >&2; exit 1; fi

before=$(cut -d' ' -f1-3 /proc/loadavg)
out=$("$GO" test -count=1 -run '^$' -bench '^BenchmarkStoreStepOverhead$' -benchtime "${ROUNDS}x" ./cluster/local/)
after=$(cut -d' ' -f1-3 /proc/loadavg)
line=$(grep '^BenchmarkStoreStepOverhead' <<<"$out") || { echo "$out" >&2; exit 1; }
# metric VALUE UNIT pairs follow the name, the count and ns/op.
metric() { awk -v u="$1" '{ for (i = 2; i < NF; i++) if ($(i+1) == u) print $i }' <<<"$line"; }

echo "# machine: $(nproc) cores, load before $before, after $after; $DATAINSIGHT_PYTHON"
echo "## local run, ${ROUNDS} pairs of runs of a 10-step chain (medians)"
printf 'without a store:    %8.1f ms/step\n' "$(metric ms/step-folder)"
printf 'with a MinIO store: %8.1f ms/step\n' "$(metric ms/step-store)"
printf 'added by the store: %8.1f ms/step\n' "$(metric ms/step-added)"
printf 'ratio:              %8.2f x\n' "$(metric ratio)"
