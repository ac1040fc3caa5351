package argo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/s3store"
)

// FetchStepInputs gets what a step of an artifacts-mode run loaded from
// the store into a folder per producer, reused producers' from the run
// that computed them, each with its manifest; a producer whose outputs
// are not whole in the store makes its values unavailable, saying why,
// and leaves the others.
func TestArtifactsModeFetchStepInputs(t *testing.T) {
	e := newArtifactsEnv(t)
	ctx := context.Background()
	t.Setenv(s3store.EnvAccessKey, e.srv.AccessKey)
	t.Setenv(s3store.EnvSecretKey, e.srv.SecretKey)
	p := compile(t, `# metadata: {"datainsight": {"marshal": {"mode": "artifacts"}}}
# %% tags=["pipeline-parameters"]
scale = 2
# %% tags=["block:load"]
data = [1, 2, 3]
λ = 0.5
# %% tags=["block:left"]
left = sum(data) * λ
# %% tags=["block:right"]
right = max(data) * scale
# %% tags=["block:join"]
print(left + right)
`)
	r1 := e.run(t, p, cluster.SubmitOptions{})
	// load and left are reused from r1.
	r2 := e.run(t, p, cluster.SubmitOptions{Parameters: map[string]string{"scale": "3"}})

	// fetched describes inputs as name=producer@run:content of its file
	// (or why unavailable), and checks each folder has its manifest.
	fetched := func(inputs []StepInput) string {
		t.Helper()
		var out []string
		for _, in := range inputs {
			if in.Unavailable != "" {
				out = append(out, fmt.Sprintf("%s=%s@%s: unavailable", in.Name, in.Producer, in.Run))
				continue
			}
			if _, err := os.Stat(filepath.Join(in.Dir, s3store.ManifestFile)); err != nil {
				t.Errorf("input %s: no manifest beside it: %v", in.Name, err)
			}
			data, err := os.ReadFile(filepath.Join(in.Dir, in.Name+".pkl"))
			if err != nil {
				t.Errorf("input %s: %v", in.Name, err)
			}
			out = append(out, fmt.Sprintf("%s=%s@%s:%s", in.Name, in.Producer, in.Run, data))
		}
		return strings.Join(out, "; ")
	}

	root := t.TempDir()
	run, inputs, err := e.a.FetchStepInputs(ctx, r2.ID, "join", root, s3store.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("left=left@%[1]s:pickled left of left in %[1]s; right=right@%[2]s:pickled right of right in %[2]s", r1.ID, r2.ID)
	if run.ID != r2.ID || fetched(inputs) != want {
		t.Errorf("join of run %s: %s fetched\n%s\nwant\n%s", r2.ID, run.ID, fetched(inputs), want)
	}
	if got, want := inputs[0].Dir, filepath.Join(root, r1.ID, "left"); got != want {
		t.Errorf("left was fetched into %s, want %s", got, want)
	}

	// left was reused in r2: what it loaded is what it loaded in r1.
	_, inputs, err = e.a.FetchStepInputs(ctx, r2.ID, "left", t.TempDir(), s3store.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("data=load@%[1]s:pickled data of load in %[1]s; λ=load@%[1]s:pickled λ of load in %[1]s", r1.ID)
	if got := fetched(inputs); got != want {
		t.Errorf("left of run %s (reused) fetched\n%s\nwant\n%s", r2.ID, got, want)
	}

	if err := e.mc.RemoveObject(ctx, artifactsBucket, path.Join(artifactsPrefix, r2.ID, "right", s3store.ManifestFile), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	_, inputs, err = e.a.FetchStepInputs(ctx, r2.ID, "join", t.TempDir(), s3store.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("left=left@%[1]s:pickled left of left in %[1]s; right=right@%[2]s: unavailable", r1.ID, r2.ID)
	why := ""
	if len(inputs) == 2 {
		why = inputs[1].Unavailable
	}
	if got := fetched(inputs); got != want || !strings.Contains(why, "incomplete") || !strings.Contains(why, r2.ID) {
		t.Errorf("join with right's manifest gone fetched\n%s (%q)\nwant\n%s, saying right's outputs in run %s are incomplete", got, why, want, r2.ID)
	}

	if _, _, err := e.a.FetchStepInputs(ctx, r2.ID, "nope", t.TempDir(), s3store.TransferOptions{}); !errors.Is(err, ErrUnknownStep) || !strings.Contains(err.Error(), "join") {
		t.Errorf("FetchStepInputs of step nope: %v, want %v listing the steps", err, ErrUnknownStep)
	}
	if _, _, err := e.a.FetchStepInputs(ctx, "gone-12345", "join", t.TempDir(), s3store.TransferOptions{}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("FetchStepInputs of a run that is not there: %v, want %v", err, cluster.ErrNotFound)
	}
}
