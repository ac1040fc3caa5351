package argo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/kubestack"
	"github.com/datainsight/datainsight/pipelinegen"
)

// The run a reused step came from is read back from the script that
// links it.
func TestLinkedFromNamesTheLinkedRun(t *testing.T) {
	wf := &wfv1.Workflow{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{}}}
	wf.Spec.Templates = []wfv1.Template{
		{Name: "prep", Metadata: wfv1.Metadata{Labels: map[string]string{pipelinegen.LabelStep: "prep"}},
			Script: &wfv1.ScriptTemplate{Source: linkScript("old-run-x7k2q", "prep")}},
		{Name: "train", Metadata: wfv1.Metadata{Labels: map[string]string{pipelinegen.LabelStep: "train"}},
			Script: &wfv1.ScriptTemplate{Source: "print('training')"}},
	}
	if got := linkedFrom(wf, "prep"); got != "old-run-x7k2q" {
		t.Errorf("linkedFrom(prep) = %q", got)
	}
	wf.Annotations[annotationResumedFrom] = "resumed-run"
	if got := linkedFrom(wf, "train"); got != "resumed-run" {
		t.Errorf("linkedFrom(train), no link script = %q, want the resumed run", got)
	}
}

// A reused step's log is the output it had when it was computed (kept
// with the outputs it links), after a line naming the run it came from;
// not the link's own few words.
func TestLogsOfAReusedStep(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	ctx := context.Background()
	p := compile(t, "# %% tags=[\"block:a\"]\nx = 1\n# %% tags=[\"block:b\"]\ny = x + 1\n")
	r1, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r1 = waitRun(t, a, r1.ID, func(r *cluster.Run) bool { return r.Phase.Done() }); r1.Phase != cluster.Succeeded {
		t.Fatalf("first run: %s", r1.Phase)
	}
	r2, err := a.Submit(ctx, p, cluster.SubmitOptions{ResumeFrom: r1.ID})
	if err != nil {
		t.Fatal(err)
	}
	if r2 = waitRun(t, a, r2.ID, func(r *cluster.Run) bool { return r.Phase.Done() }); r2.Phase != cluster.Succeeded || !r2.Step("a").Cached {
		t.Fatalf("resumed run: %s, a cached %v", r2.Phase, r2.Step("a").Cached)
	}
	// kwok runs no link script: the log it would have linked is put in
	// place on the stand-in volume; b's outputs came with no log.
	dir := filepath.Join(stack.VolumeDir, r2.ID, "a")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pipelinegen.StepLog), []byte("computed a\nlast line"), 0o644); err != nil {
		t.Fatal(err)
	}
	var one bytes.Buffer
	if err := a.Logs(ctx, r2.ID, cluster.LogOptions{Step: "a"}, &one); err != nil {
		t.Fatal(err)
	}
	if want := "# cached: output of run " + r1.ID + "\ncomputed a\nlast line\n"; one.String() != want {
		t.Errorf("Logs(a) = %q, want %q", one.String(), want)
	}
	var all bytes.Buffer
	if err := a.Logs(ctx, r2.ID, cluster.LogOptions{}, &all); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(all.String(), "a | # cached: output of run "+r1.ID+"\na | computed a\n") {
		t.Errorf("Logs(all) = %q", all.String())
	}
	if lines := stack.PodLog(); len(lines) > 0 && !strings.Contains(all.String(), "b | "+lines[0]) {
		t.Errorf("Logs(all): b, whose outputs came with no log, shows not its pod's: %q", all.String())
	}
}
