package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/datainsight/datainsight/internal/miniotest"
	"github.com/datainsight/datainsight/internal/testenv"
)

// newStore starts a MinIO, makes bucket in it, and opens a store on it
// under prefix.
func newStore(t testing.TB, bucket, prefix string) (*Store, *miniotest.Server) {
	t.Helper()
	srv := miniotest.Start(t)
	return storeOn(t, srv, bucket, prefix), srv
}

func storeOn(t testing.TB, srv *miniotest.Server, bucket, prefix string) *Store {
	t.Helper()
	ctx := context.Background()
	cfg := Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: bucket, Prefix: prefix, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	admin, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		t.Fatal(err)
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stepDir writes a step folder as the runtime leaves it: values (name ->
// content), a manifest naming them with size and checksum, a report, and
// what is never uploaded (a temporary file, a hidden one).
func stepDir(t testing.TB, values map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	entries := map[string]any{}
	for name, data := range values {
		file := name + ".pkl"
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		entries[name] = map[string]any{"file": file, "size": len(data), "checksum": "sha256:" + hex.EncodeToString(sum[:]), "format": "pickle", "type": "bytes"}
	}
	manifest, _ := json.Marshal(map[string]any{"version": 1, "values": entries})
	for name, data := range map[string][]byte{
		ManifestFile: manifest, "report.html": []byte("<p>report</p>"), "output.log": []byte("hello\n"),
		".tmp-x.pkl.123": []byte("half"), ".datainsight-run": []byte("cache record"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func keys(t testing.TB, s *Store) []string {
	t.Helper()
	var out []string
	for o := range s.Client().ListObjects(context.Background(), s.cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	sort.Strings(out)
	return out
}

func TestPutGetStep(t *testing.T) {
	s, _ := newStore(t, "runs", "team/a")
	ctx := context.Background()
	values := map[string][]byte{"df": bytes.Repeat([]byte("d"), 1000), "model": []byte("m"), "empty": {}}
	if err := s.PutStep(ctx, "r1", "train", stepDir(t, values), TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"team/a/r1/train/df.pkl", "team/a/r1/train/empty.pkl", "team/a/r1/train/manifest.json",
		"team/a/r1/train/model.pkl", "team/a/r1/train/output.log", "team/a/r1/train/report.html"}
	if got := keys(t, s); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("objects after PutStep:\n got %v\nwant %v", got, want)
	}
	if steps, err := s.Steps(ctx, "r1"); err != nil || strings.Join(steps, ",") != "train" {
		t.Errorf("Steps(r1) = %v, %v", steps, err)
	}
	if runs, err := s.Runs(ctx); err != nil || strings.Join(runs, ",") != "r1" {
		t.Errorf("Runs() = %v, %v", runs, err)
	}

	// Only what is asked for is downloaded, with the manifest.
	dst := t.TempDir()
	m, err := s.GetStep(ctx, "r1", "train", dst, []string{"df"}, TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "df.pkl")); !bytes.Equal(got, values["df"]) {
		t.Errorf("df.pkl downloaded as %q", got)
	}
	if _, err := os.Stat(filepath.Join(dst, "model.pkl")); !os.IsNotExist(err) {
		t.Errorf("model.pkl was downloaded though not asked for (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dst, ManifestFile)); err != nil || m.Values["model"].File != "model.pkl" {
		t.Errorf("the manifest: %v, %+v", err, m.Values)
	}
	// All of them; df is there already and is not fetched again.
	var fetched []string
	var mu sync.Mutex
	if _, err := s.GetStep(ctx, "r1", "train", dst, nil, TransferOptions{Progress: func(u Update) {
		mu.Lock()
		defer mu.Unlock()
		if len(fetched) == 0 || fetched[len(fetched)-1] != filepath.Base(u.File) {
			fetched = append(fetched, filepath.Base(u.File))
		}
	}}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(fetched)
	if strings.Join(fetched, ",") != "model.pkl" {
		t.Errorf("second GetStep fetched %v, want only model.pkl (empty.pkl has no bytes to report, df.pkl was there)", fetched)
	}
	for name, data := range values {
		if got, err := os.ReadFile(filepath.Join(dst, name+".pkl")); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	ents, _ := os.ReadDir(dst)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}

	// A value the step did not save: an error naming it and what it saved.
	_, err = s.GetStep(ctx, "r1", "train", t.TempDir(), []string{"nope"}, TransferOptions{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "df, empty, model") {
		t.Errorf("GetStep of a value not saved: %v", err)
	}
	_, err = s.GetStep(ctx, "r1", "other", t.TempDir(), nil, TransferOptions{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "step other of run r1") {
		t.Errorf("GetStep of a step not there: %v", err)
	}
	if rc, err := s.OpenFile(ctx, "r1", "train", "output.log"); err != nil {
		t.Error(err)
	} else {
		data, _ := io.ReadAll(rc)
		rc.Close()
		if string(data) != "hello\n" {
			t.Errorf("output.log reads %q", data)
		}
	}
	if _, err := s.OpenFile(ctx, "r1", "train", "../x"); err == nil {
		t.Error("OpenFile of ../x did not fail")
	}

	// Uploaded again with fewer values: the old ones go.
	if err := s.PutStep(ctx, "r1", "train", stepDir(t, map[string][]byte{"df": []byte("new")}), TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys(t, s) {
		if strings.Contains(k, "model.pkl") || strings.Contains(k, "empty.pkl") {
			t.Errorf("%s is left from the first upload", k)
		}
	}
	// A folder holding the old manifest gets the new one and new values.
	if _, err := s.GetStep(ctx, "r1", "train", dst, nil, TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "df.pkl")); string(got) != "new" {
		t.Errorf("df.pkl after the step was uploaded again: %q", got)
	}

	if err := s.DeleteRun(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s); len(got) != 0 {
		t.Errorf("after DeleteRun: %v", got)
	}
}

// A step run on Argo in artifacts mode has each value under
// <name>.artifact; it is pulled into the value's own file name.
func TestGetStepArtifactsLayout(t *testing.T) {
	s, _ := newStore(t, "runs", "datainsight")
	ctx := context.Background()
	dir := stepDir(t, map[string][]byte{"model": []byte("weights")})
	os.Rename(filepath.Join(dir, "model.pkl"), filepath.Join(dir, "model"+ArtifactSuffix))
	for _, f := range []string{"model" + ArtifactSuffix, ManifestFile} {
		if _, err := s.Client().FPutObject(ctx, "runs", s.Key("wf-1", "train", f), filepath.Join(dir, f), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dst := t.TempDir()
	if _, err := s.GetStep(ctx, "wf-1", "train", dst, nil, TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dst, "model.pkl")); err != nil || string(data) != "weights" {
		t.Errorf("model.pkl: %q, %v", data, err)
	}
}

// A step whose upload broke off is not readable as a step, not even as
// the step it was before.
func TestPutStepInterrupted(t *testing.T) {
	s, _ := newStore(t, "runs", "")
	ctx := context.Background()
	if err := s.PutStep(ctx, "r1", "a", stepDir(t, map[string][]byte{"x": []byte("old")}), TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{7}, 40<<20)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := s.PutStep(cctx, "r1", "a", stepDir(t, map[string][]byte{"x": big}), TransferOptions{Progress: func(u Update) {
		if u.Done > 8<<20 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("PutStep went on after its context was cancelled")
	}
	_, err = s.Manifest(ctx, "r1", "a")
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "step a of run r1") {
		t.Errorf("Manifest of a step whose upload broke off: %v, want ErrIncomplete naming it", err)
	}
	if _, err := s.GetStep(ctx, "r1", "a", t.TempDir(), nil, TransferOptions{}); !errors.Is(err, ErrIncomplete) {
		t.Errorf("GetStep of it: %v, want ErrIncomplete", err)
	}
}

// A value changed in the store after its manifest was written is refused.
func TestGetStepDamaged(t *testing.T) {
	s, _ := newStore(t, "runs", "")
	ctx := context.Background()
	if err := s.PutStep(ctx, "r1", "a", stepDir(t, map[string][]byte{"x": []byte("good"), "y": []byte("also")}), TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().PutObject(ctx, "runs", "r1/a/x.pkl", strings.NewReader("evil"), 4, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().PutObject(ctx, "runs", "r1/a/y.pkl", strings.NewReader("longer"), 6, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	_, err := s.GetStep(ctx, "r1", "a", dst, []string{"x"}, TransferOptions{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "r1/a/x.pkl") || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a value whose bytes changed: %v, want ErrDamaged naming it", err)
	}
	_, err = s.GetStep(ctx, "r1", "a", dst, []string{"y"}, TransferOptions{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "6 bytes, the manifest says 4") {
		t.Errorf("a value whose size changed: %v, want ErrDamaged saying the sizes", err)
	}
	ents, _ := os.ReadDir(dst)
	if len(ents) != 0 {
		t.Errorf("a damaged download left %d files behind", len(ents))
	}
	// A local value whose size is not the manifest's is not uploaded.
	dir := stepDir(t, map[string][]byte{"x": []byte("abc")})
	os.WriteFile(filepath.Join(dir, "x.pkl"), []byte("abcd"), 0o644)
	if err := s.PutStep(ctx, "r1", "b", dir, TransferOptions{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "value x") {
		t.Errorf("PutStep of a value whose size is not the manifest's: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	srv := miniotest.Start(t)
	storeOn(t, srv, "runs", "")
	ctx := context.Background()
	base := Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: "runs", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}

	bad := base
	bad.SecretKey = "wrong-secret"
	_, err := Open(ctx, bad)
	t.Logf("wrong secret key: %v", err)
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), `"runs"`) || !strings.Contains(err.Error(), srv.Endpoint) || !strings.Contains(err.Error(), EnvSecretKey) {
		t.Errorf("wrong secret key: %v, want ErrAccessDenied naming the bucket, endpoint and %s", err, EnvSecretKey)
	}
	bad = base
	bad.AccessKey = "nobody"
	if _, err := Open(ctx, bad); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("unknown access key: %v, want ErrAccessDenied", err)
	}
	bad = base
	bad.Bucket = "missing-bucket"
	_, err = Open(ctx, bad)
	if !errors.Is(err, ErrNoBucket) || !strings.Contains(err.Error(), `"missing-bucket"`) || !strings.Contains(err.Error(), srv.Endpoint) {
		t.Errorf("missing bucket: %v, want ErrNoBucket naming it and the endpoint", err)
	}
	bad = base
	bad.Bucket = "Bad_Bucket"
	if _, err := Open(ctx, bad); err == nil || !strings.Contains(err.Error(), `bucket "Bad_Bucket"`) {
		t.Errorf("invalid bucket name: %v", err)
	}
	// Nothing listens there any more: minio-go retries, then says so.
	down := miniotest.Start(t)
	bad = base
	bad.Endpoint = down.Endpoint
	down.Stop()
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = Open(tctx, bad)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), down.Endpoint) {
		t.Errorf("no server: %v, want ErrUnreachable naming %s", err, down.Endpoint)
	}
}

// A large value (multipart upload) downloads whole after the server is
// killed and restarted midway: resumed where it stopped, not restarted.
func TestGetStepResumesAfterRestart(t *testing.T) {
	s, srv := newStore(t, "runs", "p")
	ctx := context.Background()
	const size = 200 << 20
	big := make([]byte, size)
	for i := range big {
		big[i] = byte(i * 7 / 5)
	}
	if err := s.PutStep(ctx, "r1", "a", stepDir(t, map[string][]byte{"big": big}), TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	big = nil
	var (
		killed    atomic.Bool
		restarted = make(chan error, 1)
		resumedAt atomic.Int64
	)
	dst := t.TempDir()
	m, err := s.GetStep(ctx, "r1", "a", dst, nil, TransferOptions{Progress: func(u Update) {
		if u.Resumed {
			resumedAt.Store(u.Done)
		}
		if u.Done >= 64<<20 && !killed.Swap(true) {
			srv.Kill()
			go func() {
				time.Sleep(time.Second)
				rctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				restarted <- srv.Restart(rctx)
			}()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if at := resumedAt.Load(); at < 64<<20 {
		t.Errorf("the download was resumed at byte %d, want past the %d read before the server was killed", at, 64<<20)
	}
	f, err := os.Open(filepath.Join(dst, "big.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, _ := io.Copy(h, f)
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); n != size || got != m.Values["big"].Checksum {
		t.Errorf("downloaded %d bytes with %s; want %d with %s", n, got, size, m.Values["big"].Checksum)
	}
}

// A multipart upload the server drops under parts in flight (MinIO does
// so on a disk that fills midway) is tried once more as one PUT, which the
// server checks against its free space before it writes: here, where the
// drop is the only fault, the step is stored whole.
func TestPutStepRetriesADroppedUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MinIO server: not under -short")
	}
	srv := miniotest.Start(t)
	storeOn(t, srv, "runs", "") // the bucket
	// Between the store and MinIO: the first part uploaded is answered as
	// MinIO answers once it has dropped the upload.
	var dropped, singlePuts atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: srv.Endpoint})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method == http.MethodPut && q.Has("uploadId") && dropped.CompareAndSwap(0, 1) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code>`+
				`<Message>The specified multipart upload does not exist.</Message></Error>`)
			return
		}
		if r.Method == http.MethodPut && !q.Has("uploadId") && strings.HasSuffix(r.URL.Path, "/x.pkl") {
			singlePuts.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	ctx := context.Background()
	s, err := Open(ctx, Config{Endpoint: strings.TrimPrefix(proxy.URL, "http://"), PlainHTTP: true, Bucket: "runs",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("0123456789abcdef"), 40<<20/16) // 40 MiB: three parts
	if err := s.PutStep(ctx, "r1", "a", stepDir(t, map[string][]byte{"x": value}), TransferOptions{}); err != nil {
		t.Fatalf("upload after a dropped multipart upload: %v", err)
	}
	if dropped.Load() != 1 || singlePuts.Load() != 1 {
		t.Errorf("parts dropped %d, single PUTs of x.pkl %d: want the upload dropped once and tried again as one PUT",
			dropped.Load(), singlePuts.Load())
	}
	dst := t.TempDir()
	if _, err := s.GetStep(ctx, "r1", "a", dst, nil, TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "x.pkl")); !bytes.Equal(got, value) {
		t.Errorf("x.pkl read back: %d bytes, not the %d uploaded", len(got), len(value))
	}
}

// A server whose disk fills refuses the upload with an error that says
// so, and the step is not readable.
func TestPutStepStoreFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MinIO server: not under -short")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "data")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	srv := miniotest.StartIn(t, mnt)
	s := storeOn(t, srv, "runs", "")
	ctx := context.Background()
	err := s.PutStep(ctx, "r1", "a", stepDir(t, map[string][]byte{"x": make([]byte, 80<<20)}), TransferOptions{})
	if err == nil {
		t.Fatal("an 80 MB value was stored on a 48 MB disk")
	}
	t.Logf("upload to a full store: %v", err)
	if !errors.Is(err, ErrStorageFull) || !strings.Contains(err.Error(), "step a of run r1") {
		t.Errorf("upload to a full store: %v, want ErrStorageFull naming the step", err)
	}
	if _, err := s.Manifest(ctx, "r1", "a"); err == nil {
		t.Error("the step whose upload failed has a manifest")
	}
}

// DeleteRun removes one run's objects and no other's (r1 is a prefix of
// r10's name), and a server that is down fails it naming the run and the
// bucket, with the run's steps left whole.
func TestDeleteRun(t *testing.T) {
	s, srv := newStore(t, "runs", "team")
	ctx := context.Background()
	for _, at := range [][2]string{{"r1", "a"}, {"r1", "b"}, {"r10", "a"}} {
		if err := s.PutStep(ctx, at[0], at[1], stepDir(t, map[string][]byte{"x": []byte(at[0] + at[1])}), TransferOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Kept: a step other runs still read.
	if err := s.DeleteRun(ctx, "r1", "b"); err != nil {
		t.Fatal(err)
	}
	if steps, err := s.Steps(ctx, "r1"); err != nil || fmt.Sprint(steps) != "[b]" {
		t.Errorf("run r1 after DeleteRun keeping b: steps %v, %v", steps, err)
	}
	if err := s.DeleteStep(ctx, "r1", "b"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys(t, s)); got != "[team/r10/a/manifest.json team/r10/a/output.log team/r10/a/report.html team/r10/a/x.pkl]" {
		t.Errorf("after deleting run r1 the bucket holds %v, want run r10's step alone", got)
	}

	srv.Kill()
	err := s.DeleteRun(ctx, "r10")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "run r10") || !strings.Contains(err.Error(), "s3://runs/") {
		t.Errorf("DeleteRun with the server down: %v, want %v naming run r10 and bucket runs", err, ErrUnreachable)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if steps, err := s.Steps(ctx, "r10"); err != nil || fmt.Sprint(steps) != "[a]" {
		t.Errorf("run r10 after a delete that could not reach the server: steps %v, %v", steps, err)
	}
}
