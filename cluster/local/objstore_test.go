package local

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/clustertest"
	"github.com/datainsight/datainsight/internal/miniotest"
	"github.com/datainsight/datainsight/internal/s3store"
)

// storeFor starts a MinIO with a bucket and returns the configuration of
// a store in it under prefix, and a client of the server.
func storeFor(t *testing.T, bucket, prefix string) (*s3store.Config, *minio.Client) {
	t.Helper()
	_, cfg, client := storeServer(t, bucket, prefix)
	return cfg, client
}

// storeServer is storeFor, with the server for tests that stop it.
func storeServer(t *testing.T, bucket, prefix string) (*miniotest.Server, *s3store.Config, *minio.Client) {
	t.Helper()
	srv := miniotest.Start(t)
	client, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	return srv, &s3store.Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: bucket, Prefix: prefix,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}, client
}

func objectKeys(t *testing.T, c *minio.Client, bucket, prefix string) []string {
	t.Helper()
	var out []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, strings.TrimPrefix(o.Key, prefix))
	}
	sort.Strings(out)
	return out
}

// A run with a store: every step's folder is in the store, each step loads
// its inputs from there (a value damaged in the store fails the step that
// loads it), and nothing staged is left behind.
func TestStoreRun(t *testing.T) {
	l := newLocal(t)
	cfg, client := storeFor(t, "runs", "team")
	l.Store = cfg
	p := compile(t, `# %% tags=["imports"]
import os, time
import numpy as np
# %% tags=["block:load"]
arr = np.arange(100000, dtype=np.float64)
meta = {"n": 3}
words = ["a", "b"]
# %% tags=["block:train"]
total = float(arr.sum()) + meta["n"]
print("total", total)
# %% tags=["block:gate"]
while not os.path.exists("go"):
    time.sleep(0.05)
gate = True
# %% tags=["block:show"]
print("show", words, total, gate)
`, "store.ipynb")
	r, err := l.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// While gate holds show back, the value show loads from load is
	// replaced in the store: show must refuse it.
	deadline := time.Now().Add(time.Minute)
	for {
		cur, err := l.Get(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Step("train").Phase.Done() && cur.Step("load").Phase == cluster.Succeeded {
			break
		}
		if cur.Phase.Done() || time.Now().After(deadline) {
			t.Fatalf("run %s: %s, load %s, train %s: %s", r.ID, cur.Phase, cur.Step("load").Phase, cur.Step("train").Phase, logsOf(t, l, r.ID, ""))
		}
		time.Sleep(50 * time.Millisecond)
	}
	key := "team/" + r.ID + "/load/words.pkl"
	info, err := client.StatObject(context.Background(), "runs", key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evil := strings.Repeat("x", int(info.Size))
	if _, err := client.PutObject(context.Background(), "runs", key, strings.NewReader(evil), info.Size, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(l.WorkDir, "go"), "")
	r = waitRun(t, l, r.ID)

	if got := phases(r); got["load"] != cluster.Succeeded || got["train"] != cluster.Succeeded || got["gate"] != cluster.Succeeded || got["show"] != cluster.Failed {
		t.Fatalf("phases %v, want show alone Failed:\n%s", got, logsOf(t, l, r.ID, ""))
	}
	if msg := r.Step("show").Message; !strings.Contains(msg, "inputs not downloaded") || !strings.Contains(msg, "checksum") || !strings.Contains(msg, "words.pkl") {
		t.Errorf("show's message %q does not say its input words is damaged in the store", msg)
	}
	train := logsOf(t, l, r.ID, "train")
	if !strings.Contains(train, "total 4999950003.0") || !strings.Contains(train, "downloaded arr, meta from s3://runs/team/"+r.ID+"/load") {
		t.Errorf("train's log does not show it loaded arr and meta from the store:\n%s", train)
	}
	keys := objectKeys(t, client, "runs", "team/"+r.ID+"/")
	for _, want := range []string{"load/arr.npy", "load/manifest.json", "load/meta.pkl", "load/words.pkl", "load/output.log", "load/report.html",
		"train/manifest.json", "train/total.pkl", "train/output.log", "gate/gate.pkl"} {
		if !contains(keys, want) {
			t.Errorf("the store has no %s of run %s; it has %v", want, r.ID, keys)
		}
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "show/") {
			t.Errorf("the failed step show has %s in the store", k)
		}
	}
	rc, err := client.GetObject(context.Background(), "runs", "team/"+r.ID+"/train/output.log", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(out), "total 4999950003.0") {
		t.Errorf("train's output.log in the store reads %q", out)
	}
	staged, _ := filepath.Glob(filepath.Join(l.Dir, r.ID, ".inputs-*"))
	if len(staged) > 0 {
		t.Errorf("staged inputs left behind: %v", staged)
	}

	// An unchanged second run reuses the cached steps, and puts their
	// outputs in the store under its own id too.
	write(t, filepath.Join(l.WorkDir, "go"), "")
	r2 := runToEnd(t, l, p, cluster.SubmitOptions{})
	if r2.Step("load").Phase != cluster.Succeeded || !r2.Step("load").Cached {
		t.Fatalf("second run: load %s cached %v", r2.Step("load").Phase, r2.Step("load").Cached)
	}
	if r2.Step("show").Phase != cluster.Succeeded || !strings.Contains(logsOf(t, l, r2.ID, "show"), "show ['a', 'b'] 4999950003.0 True") {
		t.Errorf("second run's show: %s %s\n%s", r2.Step("show").Phase, r2.Step("show").Message, logsOf(t, l, r2.ID, "show"))
	}
	if keys := objectKeys(t, client, "runs", "team/"+r2.ID+"/load/"); !contains(keys, "arr.npy") || !contains(keys, "manifest.json") {
		t.Errorf("the cached step load of run %s is not in the store: %v", r2.ID, keys)
	}
}

// A store that refuses the keys or has no such bucket is the submit's
// error, naming both, and no run is recorded.
func TestStoreSubmitErrors(t *testing.T) {
	l := newLocal(t)
	cfg, _ := storeFor(t, "runs", "")
	p := compile(t, "# %% tags=[\"block:a\"]\nx = 1\n", "errs.ipynb")
	for _, c := range []struct {
		edit func(*s3store.Config)
		want error
		says string
	}{
		{func(c *s3store.Config) { c.SecretKey = "wrong" }, s3store.ErrAccessDenied, `bucket "runs"`},
		{func(c *s3store.Config) { c.Bucket = "elsewhere" }, s3store.ErrNoBucket, `"elsewhere"`},
	} {
		bad := *cfg
		c.edit(&bad)
		l.Store = &bad
		_, err := l.Submit(context.Background(), p, cluster.SubmitOptions{})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), cfg.Endpoint) {
			t.Errorf("Submit with %+v: %v, want %v saying %s and the endpoint", bad, err, c.want, c.says)
		}
	}
	if runs, err := l.List(context.Background(), cluster.ListOptions{}); err != nil || len(runs) != 0 {
		t.Errorf("refused submits recorded runs: %v, %v", runs, err)
	}
}

// The conformance suite, with every run's values going through a store.
func TestStoreConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 processes")
	}
	cfg, _ := storeFor(t, "conformance", "runs")
	f := fixture()
	newBackend := f.New
	f.New = func(t *testing.T) cluster.Backend {
		b := newBackend(t).(*Local)
		b.Store = cfg
		return b
	}
	clustertest.Run(t, f)
}

func phases(r *cluster.Run) map[string]cluster.Phase {
	out := map[string]cluster.Phase{}
	for _, s := range r.Steps {
		out[s.Name] = s.Phase
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Deleting a run that keeps its values in a store removes its objects
// there, and only its own; with the store down the delete fails saying so
// and the run stays listed with its folder, so that deleting it again once
// the store is back removes both. A backend with no store of its own
// reaches the run's store with the environment's keys.
func TestStoreDelete(t *testing.T) {
	l := newLocal(t)
	srv, cfg, client := storeServer(t, "runs", "team")
	l.Store = cfg
	p := compile(t, "# %% tags=[\"block:a\"]\nx = [1, 2]\n# %% tags=[\"block:b\"]\ny = len(x)\n", "del.ipynb")
	r1 := runToEnd(t, l, p, cluster.SubmitOptions{})
	r2 := runToEnd(t, l, p, cluster.SubmitOptions{NoCache: true})
	for _, r := range []*cluster.Run{r1, r2} {
		if r.Phase != cluster.Succeeded {
			t.Fatalf("run %s: %s\n%s", r.ID, r.Phase, logsOf(t, l, r.ID, ""))
		}
		if keys := objectKeys(t, client, "runs", "team/"+r.ID+"/"); !contains(keys, "a/x.pkl") || !contains(keys, "b/output.log") {
			t.Fatalf("run %s is not in the store: %v", r.ID, keys)
		}
	}

	srv.Kill()
	err := l.Delete(context.Background(), r1.ID)
	if !errors.Is(err, s3store.ErrUnreachable) || !strings.Contains(err.Error(), "delete "+r1.ID) || !strings.Contains(err.Error(), "s3://runs/team/"+r1.ID) {
		t.Errorf("Delete(%s) with the store down: %v, want %v naming the run and where its values are", r1.ID, err, s3store.ErrUnreachable)
	}
	if _, err := l.Get(context.Background(), r1.ID); err != nil {
		t.Errorf("run %s is gone after a delete that could not reach its store: %v", r1.ID, err)
	}
	if out := logsOf(t, l, r1.ID, "b"); out == "" {
		t.Errorf("run %s lost its logs in a delete that could not reach its store", r1.ID)
	}
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}

	if err := l.Delete(context.Background(), r1.ID); err != nil {
		t.Fatalf("Delete(%s) with the store back: %v", r1.ID, err)
	}
	if _, err := l.Get(context.Background(), r1.ID); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Get(%s) after its delete: %v, want %v", r1.ID, err, cluster.ErrNotFound)
	}
	if keys := objectKeys(t, client, "runs", "team/"+r1.ID+"/"); len(keys) != 0 {
		t.Errorf("the deleted run %s left %v in the store", r1.ID, keys)
	}
	if keys := objectKeys(t, client, "runs", "team/"+r2.ID+"/"); !contains(keys, "a/x.pkl") {
		t.Errorf("deleting %s took run %s's objects: %v", r1.ID, r2.ID, keys)
	}

	t.Setenv(s3store.EnvAccessKey, cfg.AccessKey)
	t.Setenv(s3store.EnvSecretKey, cfg.SecretKey)
	other := &Local{Dir: l.Dir, Python: l.Python, WorkDir: l.WorkDir, Grace: l.Grace}
	if err := other.Delete(context.Background(), r2.ID); err != nil {
		t.Fatalf("Delete(%s) by a backend with no store of its own: %v", r2.ID, err)
	}
	if keys := objectKeys(t, client, "runs", "team/"); len(keys) != 0 {
		t.Errorf("the store holds %v after both runs were deleted", keys)
	}
}
