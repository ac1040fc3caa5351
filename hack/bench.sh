#!/usr/bin/env bash
# Prints Datainsight's benchmarks beside their baselines, measured in the same
# run (the machines are shared and noisy: compare medians and ratios).
set -euo pipefail
cd "$(dirname "$0")/.."

# The synthetic notebooks are generated (internal/synth), not read from
# outside the repository.
BENCH_NB=$(mktemp -d)
trap 'rm -rf "$BENCH_NB"' EXIT
go run ./hack/synth -o "$BENCH_NB"
COUNT=${COUNT:-5}
echo "# machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
echo

# median of the ns/op column per benchmark name, over -count runs.
medians() {
  awk '/^Benchmark/ { n=$1; sub(/-[0-9]+$/, "", n); print n, $3 }' | sort -k1,1 -k2,2n |
    awk '{ v[$1] = v[$1] " " $2; c[$1]++ }
         END { for (n in v) { split(v[n], a, " "); printf "%-60s %10.3f ms\n", n, a[int((c[n]+1)/2)]/1e6 } }' | sort
}

echo "## analysis (go test -bench, median of $COUNT)"
go test ./analyzer/ -run '^$' -bench 'ParseFloor|Extract|Analyze|Incremental' -count "$COUNT" -benchtime 20x | tee /tmp/di-bench-analyzer.txt | medians
echo

echo "## cold CLI (process start to exit)"
go run ./hack/timecmd -n 20 -label "datainsight version" -- bin/datainsight version >/dev/null
go run ./hack/timecmd -n 20 -label "datainsight version" -- bin/datainsight version
go run ./hack/timecmd -n 20 -label "analyze --json synth_s100_c500" -- bin/datainsight analyze --json "$BENCH_NB/synth_s100_c500.ipynb"
go run ./hack/timecmd -n 20 -label "analyze --json synth_s200_c1000" -- bin/datainsight analyze --json "$BENCH_NB/synth_s200_c1000.ipynb"
echo

echo "## compile (analysis + generation + YAML)"
go test ./pipelinegen/ -run '^$' -bench 'Compile' -count "$COUNT" -benchtime 20x | medians
go run ./hack/timecmd -n 20 -label "compile synth_s100_c500" -- bin/datainsight compile "$BENCH_NB/synth_s100_c500.ipynb"
echo

if [ -x hack/bench-marshal.sh ]; then
  echo "## marshalling throughput (1 GiB float64 array vs the disk)"
  hack/bench-marshal.sh
fi

echo
echo "## local backend"
hack/bench-local.sh

echo
echo "## local run with a MinIO store vs without (10-step chain, per step)"
hack/minio/build.sh >/dev/null
hack/bench-artifacts.sh

echo
echo "## logs of a 200 MB step log, beside cat of the same file"
go test ./cluster/local/ -run '^$' -bench 'LogTail' -count "$COUNT" | medians
hack/bench-logs.sh

echo; echo "## sidecar (datainsight serve): memory, analyze over a WebSocket, fan-out"; COUNT="$COUNT" hack/bench-sidecar.sh
echo
echo "## object storage: 1 GiB through the store (checksum, fsync, rename) vs raw minio-go, MinIO on loopback (median MB/s of $COUNT)"
echo "# load before $(cut -d' ' -f1-3 /proc/loadavg)"
hack/minio/build.sh >/dev/null
DATAINSIGHT_REQUIRE_TOOLS=1 go test ./internal/s3store/ -run '^$' -bench Transfer -benchtime 1x -count "$COUNT" |
  awk '/^Benchmark/ && $6 == "MB/s" { n=$1; sub(/-[0-9]+$/, "", n); print n, $5 }' | sort -k1,1 -k2,2g |
  awk '{ v[$1] = v[$1] " " $2; c[$1]++ } END { for (n in v) { split(v[n], a, " "); m[n] = a[int((c[n]+1)/2)] }
        for (n in m) printf "%-50s %10.1f MB/s\n", n, m[n]
        split("put get", dir, " ")
        for (i in dir) { s = "BenchmarkTransfer/" dir[i] "/store"; r = "BenchmarkTransfer/" dir[i] "/raw"
          if (m[r] > 0) printf "%-50s %10.1f %%   (target >= 80 %%)\n", dir[i] ": store / raw", 100 * m[s] / m[r] } }' | sort
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## Argo backend against the real stack (submit and status latency, 200 tracked runs)"
go test -tags bench -c -o /tmp/datainsight-argo.test ./cluster/argo/
(cd cluster/argo && DATAINSIGHT_BIN="$PWD/../../bin/datainsight" \
  ../../hack/stack/in-netns.sh /tmp/datainsight-argo.test -test.run '^TestBenchmarks$' -test.timeout 20m 2>/dev/null |
  grep -E 'stack start-up|latency|tracking')
echo
echo "## the JupyterLab panel in headless Chromium (100-step synthetic notebook)"
hack/bench-ui.sh || echo "(a panel target was missed: see above)"
