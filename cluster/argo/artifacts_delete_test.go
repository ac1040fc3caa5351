package argo

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/s3store"
)

// Deleting an artifacts-mode run removes its files from the store before
// the workflow: with the store down the delete fails saying so and the
// run stays. Steps a later run reuses stay in the store until that run is
// deleted too, which removes them with its own files.
func TestArtifactsModeDelete(t *testing.T) {
	e := newArtifactsEnv(t)
	ctx := context.Background()
	t.Setenv(s3store.EnvAccessKey, e.srv.AccessKey)
	t.Setenv(s3store.EnvSecretKey, e.srv.SecretKey)
	p := compile(t, diamondArtifacts)
	// steps returns the steps of run that have anything in the store.
	steps := func(run string) string {
		set := map[string]bool{}
		for o := range e.mc.ListObjects(ctx, artifactsBucket, minio.ListObjectsOptions{Prefix: artifactsPrefix + "/" + run + "/", Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			step, _, _ := strings.Cut(strings.TrimPrefix(o.Key, artifactsPrefix+"/"+run+"/"), "/")
			set[step] = true
		}
		var out []string
		for s := range set {
			out = append(out, s)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	gone := func(id string) {
		t.Helper()
		waitFor(t, "run "+id+" to go", func() bool {
			_, err := e.a.Get(ctx, id)
			return errors.Is(err, cluster.ErrNotFound)
		})
	}

	r1 := e.run(t, p, cluster.SubmitOptions{})
	// right reads the changed parameter: load and left are reused from r1.
	r2 := e.run(t, p, cluster.SubmitOptions{Parameters: map[string]string{"scale": "3"}})
	if got := steps(r1.ID); got != "join left load right" {
		t.Fatalf("run %s has %q in the store", r1.ID, got)
	}

	e.srv.Kill()
	err := e.a.Delete(ctx, r1.ID)
	if !errors.Is(err, s3store.ErrUnreachable) || !strings.Contains(err.Error(), "delete "+r1.ID) || !strings.Contains(err.Error(), e.srv.Endpoint) {
		t.Errorf("Delete(%s) with the store down: %v, want %v naming the run and the store", r1.ID, err, s3store.ErrUnreachable)
	}
	if err := e.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Get(ctx, r1.ID); err != nil {
		t.Fatalf("run %s is gone after a delete that could not reach its store: %v", r1.ID, err)
	}
	if got := steps(r1.ID); got != "join left load right" {
		t.Errorf("a delete that could not reach the store left %q of run %s", got, r1.ID)
	}

	if err := e.a.Delete(ctx, r1.ID); err != nil {
		t.Fatalf("Delete(%s): %v", r1.ID, err)
	}
	gone(r1.ID)
	if got := steps(r1.ID); got != "left load" {
		t.Errorf("after deleting run %s the store has its steps %q, want left and load, which run %s reuses", r1.ID, got, r2.ID)
	}
	var log bytes.Buffer
	if err := e.a.Logs(ctx, r2.ID, cluster.LogOptions{Step: "load"}, &log); err != nil || !strings.Contains(log.String(), "# cached: output of run "+r1.ID) {
		t.Errorf("run %s: Logs(load) after run %s was deleted: %q, %v", r2.ID, r1.ID, log.String(), err)
	}

	if err := e.a.Delete(ctx, r2.ID); err != nil {
		t.Fatalf("Delete(%s): %v", r2.ID, err)
	}
	gone(r2.ID)
	for _, id := range []string{r1.ID, r2.ID} {
		if got := steps(id); got != "" {
			t.Errorf("with both runs deleted the store has steps %q of run %s", got, id)
		}
	}
}
