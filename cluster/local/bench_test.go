package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/miniotest"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/internal/testenv"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// benchSteps is the length of the chain BenchmarkStoreStepOverhead runs.
const benchSteps = 10

// BenchmarkStoreStepOverhead is what a store (MinIO on loopback) adds to
// each step of a local run: a chain of benchSteps trivial steps, each
// loading the previous one's small value, run without a store and with
// one, alternately in each iteration so that both see the same machine
// load. It reports the median per-step time of each and their
// difference; ns/op is one pair of runs. hack/bench-artifacts.sh prints
// them with the load.
func BenchmarkStoreStepOverhead(b *testing.B) {
	py := os.Getenv("DATAINSIGHT_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if _, err := exec.LookPath(py); err != nil {
		testenv.Missing(b, "no Python interpreter at %s: %v", py, err)
	}
	p := benchChain(b)
	srv := miniotest.Start(b)
	mc, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		b.Fatal(err)
	}
	if err := mc.MakeBucket(context.Background(), "bench", minio.MakeBucketOptions{}); err != nil {
		b.Fatal(err)
	}
	store := &s3store.Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: "bench", Prefix: "runs",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	folder := &Local{Dir: filepath.Join(b.TempDir(), "runs"), Python: py, WorkDir: b.TempDir()}
	stored := &Local{Dir: filepath.Join(b.TempDir(), "runs"), Python: py, WorkDir: b.TempDir(), Store: store}
	// One run of each first: the page cache, Python's bytecode cache and
	// MinIO's first requests are not what is measured.
	benchRun(b, folder, p)
	benchRun(b, stored, p)

	var plain, withStore []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plain = append(plain, benchRun(b, folder, p))
		withStore = append(withStore, benchRun(b, stored, p))
	}
	b.StopTimer()
	a, s := median(plain), median(withStore)
	b.ReportMetric(a, "ms/step-folder")
	b.ReportMetric(s, "ms/step-store")
	b.ReportMetric(s-a, "ms/step-added")
	b.ReportMetric(s/a, "ratio")
}

// benchChain compiles a chain of benchSteps steps, each loading the
// value of the step before it.
func benchChain(b *testing.B) *pipelinegen.Pipeline {
	var src strings.Builder
	src.WriteString("# %% tags=[\"block:s0\"]\nv0 = [0] * 100\n")
	for i := 1; i < benchSteps; i++ {
		fmt.Fprintf(&src, "# %%%% tags=[\"block:s%d\"]\nv%d = v%d + [%d]\n", i, i, i-1, i)
	}
	data, err := nbtest.Notebook(src.String())
	if err != nil {
		b.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	p, err := pipelinegen.Compile(nb, analyzer.Analyze(context.Background(), nb, analyzer.Options{}), pipelinegen.Options{NotebookPath: "chain.ipynb"})
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Steps) != benchSteps {
		b.Fatalf("the chain has %d steps, want %d", len(p.Steps), benchSteps)
	}
	return p
}

// benchRun runs p to its end without the cache and returns its time per
// step in milliseconds, failing b unless every step succeeded.
func benchRun(b *testing.B, l *Local, p *pipelinegen.Pipeline) float64 {
	ctx := context.Background()
	start := time.Now()
	r, err := l.Submit(ctx, p, cluster.SubmitOptions{NoCache: true})
	if err != nil {
		b.Fatal(err)
	}
	ch, err := l.Watch(ctx, r.ID)
	if err != nil {
		b.Fatal(err)
	}
	for range ch {
	}
	l.Wait(r.ID)
	elapsed := time.Since(start)
	if r, err = l.Get(ctx, r.ID); err != nil {
		b.Fatal(err)
	}
	if r.Phase != cluster.Succeeded {
		b.Fatalf("run %s: %s %q", r.ID, r.Phase, r.Message)
	}
	return float64(elapsed.Microseconds()) / 1000 / benchSteps
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
