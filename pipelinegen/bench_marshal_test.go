package pipelinegen

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchMarshalPy times the runtime inside one python3 process, so that
// interpreter start-up and numpy's import stay out of the numbers. It
// prints the seconds one save or load took, averaged over n.
const benchMarshalPy = `
import os, sys, time
sys.path.insert(0, os.environ["DATAINSIGHT_RUNTIME_DIR"])
import datainsight_runtime as di

kind, what, size, n, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if kind == "numpy":
    import numpy as np
    value = np.random.default_rng(0).random(size // 8)
else:
    value = size  # a small int: what every value pays (files, fsyncs, manifest)
producer = di.Step("producer", root=root, run_id="bench", exit_on_error=False)
producer._log = lambda message: None
if what == "save":
    t = time.perf_counter()
    for _ in range(n):
        producer.save({"v": value}, {"v": 1})
    print((time.perf_counter() - t) / n)
else:
    producer.save({"v": value}, {"v": 1})
    t = time.perf_counter()
    for _ in range(n):
        consumer = di.Step("consumer", root=root, run_id="bench", exit_on_error=False)
        consumer._log = lambda message: None
        got = consumer.load("v", "producer")
        if kind == "numpy":
            got.sum()  # touch every page (from the page cache: this is the warm case)
    print((time.perf_counter() - t) / n)
`

func benchMarshal(b *testing.B, kind, what string, size int) {
	needRuntimePython(b, "numpy")
	dir := b.TempDir()
	if _, err := WriteRuntime(dir); err != nil {
		b.Fatal(err)
	}
	script := filepath.Join(dir, "bench.py")
	if err := os.WriteFile(script, []byte(benchMarshalPy), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimePython, script, kind, what, strconv.Itoa(size), strconv.Itoa(b.N), filepath.Join(dir, "marshal"))
	cmd.Env = append(os.Environ(), "DATAINSIGHT_RUNTIME_DIR="+dir)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("bench.py printed %q", out)
	}
	// The process's own clock replaces the benchmark's, which would count
	// python3's start-up.
	b.ReportMetric(secs*1e9, "ns/op")
	if kind == "numpy" {
		b.ReportMetric(float64(size)/secs/1e6, "MB/s")
	}
}

// BenchmarkMarshalNumpy saves (with fsync and sha256) and loads (mmap and a
// pass over every page) float64 arrays. hack/bench-marshal.sh compares a
// 1 GiB array with dd on a cold page cache.
func BenchmarkMarshalNumpy(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		for _, what := range []string{"save", "load"} {
			b.Run(fmt.Sprintf("%s/%dMiB", what, size>>20), func(b *testing.B) { benchMarshal(b, "numpy", what, size) })
		}
	}
}

// BenchmarkMarshalSmallValue is the fixed cost of one value: a pickle
// file, a manifest, their fsyncs and renames; and on load, a manifest read.
func BenchmarkMarshalSmallValue(b *testing.B) {
	for _, what := range []string{"save", "load"} {
		b.Run(what, func(b *testing.B) { benchMarshal(b, "int", what, 42) })
	}
}
