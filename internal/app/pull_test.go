package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/datainsight/datainsight/internal/miniotest"
	"github.com/datainsight/datainsight/internal/s3store"
)

// pullStep writes a step folder with values (name -> bytes) and their
// manifest, as the runtime does, under runs/<run>/<step>.
func pullStep(t *testing.T, dir string, values map[string]string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	entries := map[string]any{}
	for n, v := range values {
		sum := sha256.Sum256([]byte(v))
		entries[n] = map[string]any{"file": n + ".pkl", "size": len(v), "checksum": "sha256:" + hex.EncodeToString(sum[:]), "type": "builtins.str", "format": "pickle"}
		os.WriteFile(filepath.Join(dir, n+".pkl"), []byte(v), 0o644)
	}
	m, _ := json.Marshal(map[string]any{"version": 1, "values": entries})
	os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644)
}

func runPull(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newPullCmd(&streams{in: strings.NewReader(""), out: &out, errOut: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestPullLocal(t *testing.T) {
	runs := t.TempDir()
	os.MkdirAll(filepath.Join(runs, "r1"), 0o755)
	os.WriteFile(filepath.Join(runs, "r1", "run.json"), []byte(`{"id": "r1"}`), 0o644)
	pullStep(t, filepath.Join(runs, "r1", "load"), map[string]string{"a": "AAA", "b": "BB"})
	out := filepath.Join(t.TempDir(), "got")
	stdout, _, err := runPull(t, "r1", "load", "b", "--runs-dir", runs, "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "b\tbuiltins.str\t2\t") {
		t.Errorf("stdout %q", stdout)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "b.pkl")); string(data) != "BB" {
		t.Errorf("b.pkl: %q", data)
	}
	if _, err := os.Stat(filepath.Join(out, "a.pkl")); !os.IsNotExist(err) {
		t.Errorf("a.pkl pulled though not named")
	}
	if _, _, err := runPull(t, "r1", "load", "c", "--runs-dir", runs, "-o", out); err == nil || !strings.Contains(err.Error(), "saved no c (it saved: a, b)") {
		t.Errorf("pull of a value not saved: %v", err)
	}
	if _, _, err := runPull(t, "r2", "load", "--runs-dir", runs); err == nil || !strings.Contains(err.Error(), "no run r2") {
		t.Errorf("pull of an unknown run: %v", err)
	}
	if _, _, err := runPull(t, "r1"); err == nil {
		t.Error("pull with no step did not fail")
	}
}

func TestPullFromStore(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := context.Background()
	client, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(ctx, "runs", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(s3store.EnvEndpoint, "http://"+srv.Endpoint)
	t.Setenv(s3store.EnvAccessKey, srv.AccessKey)
	t.Setenv(s3store.EnvSecretKey, srv.SecretKey)
	store, err := s3store.Open(ctx, s3store.Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: "runs", Prefix: "team", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "train")
	pullStep(t, dir, map[string]string{"model": strings.Repeat("m", 3<<20)})
	if err := store.PutStep(ctx, "r9", "train", dir, s3store.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "got")
	stdout, stderr, err := runPull(t, "r9", "train", "--from", "s3://runs/team", "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "model.pkl")); len(data) != 3<<20 {
		t.Errorf("model.pkl has %d bytes", len(data))
	}
	if !strings.Contains(stdout, "model\tbuiltins.str\t3145728\t") || !strings.Contains(stderr, "pull: model.pkl 3.0 MiB") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	// A local run that kept its values in the store is pulled from there.
	runs := t.TempDir()
	os.MkdirAll(filepath.Join(runs, "r9"), 0o755)
	rec, _ := json.Marshal(map[string]any{"id": "r9", "store": s3store.Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: "runs", Prefix: "team"}})
	os.WriteFile(filepath.Join(runs, "r9", "run.json"), rec, 0o644)
	out2 := filepath.Join(t.TempDir(), "got2")
	if _, _, err := runPull(t, "r9", "train", "model", "--runs-dir", runs, "-o", out2); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(out2, "model.pkl")); err != nil || fi.Size() != 3<<20 {
		t.Errorf("pull of a local run with a store: %v", err)
	}
	t.Setenv(s3store.EnvSecretKey, "wrong")
	if _, _, err := runPull(t, "r9", "train", "--from", "s3://runs/team", "-o", out); err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("pull with a wrong key: %v", err)
	}
}

// TestRunWithMarshalThenPull: a local run with --marshal keeps its values
// in object storage (a real MinIO), and pull gets one back from there, the
// runs folder gone: both commands as a user types them.
func TestRunWithMarshalThenPull(t *testing.T) {
	python := os.Getenv("DATAINSIGHT_PYTHON")
	if python == "" {
		python = "python3"
	}
	srv := miniotest.Start(t)
	ctx := context.Background()
	client, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.MakeBucket(ctx, "shared", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(s3store.EnvEndpoint, "http://"+srv.Endpoint)
	t.Setenv(s3store.EnvAccessKey, srv.AccessKey)
	t.Setenv(s3store.EnvSecretKey, srv.SecretKey)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	nb := `{"cells": [
 {"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:make"]}, "outputs": [], "source": ["words = ['object', 'storage']"]},
 {"cell_type": "code", "execution_count": null, "id": "b", "metadata": {"tags": ["block:use", "prev:make"]}, "outputs": [], "source": ["print('-'.join(words))"]}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}`
	if err := os.WriteFile(filepath.Join(dir, "nb.ipynb"), []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	var out, errOut bytes.Buffer
	code := Run(ctx, []string{"run", filepath.Join(dir, "nb.ipynb"), "--json", "--python", python, "--runs-dir", runs, "--marshal", "s3://shared/team"},
		strings.NewReader(""), &out, &errOut)
	if code != exitOK {
		t.Fatalf("run --marshal: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	var runID string
	for _, line := range strings.Split(out.String(), "\n") {
		var ev struct {
			Run string `json:"run"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Run != "" {
			runID = ev.Run
			break
		}
	}
	if runID == "" {
		t.Fatalf("run --json printed no run id:\n%s", out.String())
	}
	// The values are in the store under the run and the producing step.
	var keys []string
	for o := range client.ListObjects(ctx, "shared", minio.ListObjectsOptions{Prefix: "team/" + runID + "/make/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, strings.TrimPrefix(o.Key, "team/"+runID+"/make/"))
	}
	if !slices.Contains(keys, "manifest.json") || !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "words.") }) {
		t.Errorf("the store holds %v for step make, want its manifest and words", keys)
	}
	// The runs folder gone, pull reads the store.
	if err := os.RemoveAll(runs); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(t.TempDir(), "got")
	out.Reset()
	errOut.Reset()
	if code := Run(ctx, []string{"pull", runID, "make", "words", "--from", "s3://shared/team", "-o", got}, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("pull: exit %d\n%s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "words\tbuiltins.list\t") {
		t.Errorf("pull printed %q, want a line for words", out.String())
	}
	load := exec.Command(python, "-c", "import pickle, sys; print('-'.join(pickle.load(open(sys.argv[1], 'rb'))))", filepath.Join(got, "words.pkl"))
	if b, err := load.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "object-storage" {
		t.Errorf("the pulled value: %s (%v)", b, err)
	}
}
