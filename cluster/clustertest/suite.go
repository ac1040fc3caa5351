// Package clustertest is the conformance suite every cluster.Backend
// passes: the same tests run against the local backend and against Argo
// on a real API server, each backend saying through a Fixture how to make
// a step succeed, fail or hold.
package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Behavior is what a step of a test pipeline does.
type Behavior int

const (
	Succeed  Behavior = iota // prints "hello from STEP" and succeeds
	Fail                     // fails every time
	FailOnce                 // fails the first time it runs, succeeds after
	Hold                     // keeps running until cancelled
	Slow                     // succeeds after about a second (to observe parallelism)
)

// StepSpec is one step of a test pipeline. A step depends on the steps in
// After, and (where the backend passes data) loads a value from each.
type StepSpec struct {
	Name     string
	After    []string
	Behavior Behavior
}

// Fixture adapts the suite to a backend.
type Fixture struct {
	// New returns a fresh backend (its own runs directory or namespace).
	New func(t *testing.T) cluster.Backend
	// Pipeline builds a compiled pipeline whose steps behave as specs
	// say. Each call must give a pipeline with a new notebook identity
	// unless same is true (then it must be identical to the previous one,
	// for caching and resume).
	Pipeline func(t *testing.T, specs []StepSpec) *pipelinegen.Pipeline
	// Timeout bounds each run (default 60s).
	Timeout time.Duration
	// Capabilities: which checks apply to this backend.
	Parallel bool // independent steps overlap in time
	Retry    bool // a FailOnce step fails, then succeeds when retried in place
	Resume   bool // a new run can reuse an earlier run's succeeded steps
	Cache    bool // an identical second run reuses outputs
	Logs     bool // step output is readable through Logs
	Reports  bool // steps' reports are readable through Report
	// Heal, when set, is called before a retry: it makes FailOnce steps of
	// the run succeed next time, for backends whose steps cannot count
	// their own attempts (kwok fails a pod by its labels).
	Heal func(t *testing.T, b cluster.Backend, id string)
	// AfterCancel runs after a cancelled run ended (e.g. check that no
	// process is left behind).
	AfterCancel func(t *testing.T, r *cluster.Run)
	// HealPipeline, when set, makes FailOnce steps of a pipeline succeed
	// before it is run again with --resume (Heal's counterpart for a new
	// run, for backends whose steps cannot remember their first attempt).
	HealPipeline func(t *testing.T, p *pipelinegen.Pipeline)
}

// Run runs the conformance suite.
func Run(t *testing.T, f Fixture) {
	if f.Timeout == 0 {
		f.Timeout = 60 * time.Second
	}
	t.Run("Succeeds", func(t *testing.T) { testSucceeds(t, f) })
	t.Run("FailureSkipsDownstream", func(t *testing.T) { testFailure(t, f) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, f) })
	t.Run("ListAndDelete", func(t *testing.T) { testListDelete(t, f) })
	t.Run("Resubmit", func(t *testing.T) { testResubmit(t, f) })
	if f.Parallel {
		t.Run("ParallelBranches", func(t *testing.T) { testParallel(t, f) })
	}
	if f.Retry {
		t.Run("Retry", func(t *testing.T) { testRetry(t, f) })
	}
	if f.Resume {
		t.Run("Resume", func(t *testing.T) { testResume(t, f) })
	}
	if f.Cache {
		t.Run("Cache", func(t *testing.T) { testCache(t, f) })
	}
	if f.Logs {
		t.Run("Logs", func(t *testing.T) { testLogs(t, f) })
	}
	if f.Reports {
		t.Run("Reports", func(t *testing.T) { testReports(t, f) })
	}
}

// wait follows a run's events to its end and returns them with the final
// state.
func wait(t *testing.T, f Fixture, b cluster.Backend, id string) ([]cluster.Event, *cluster.Run) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), f.Timeout)
	defer cancel()
	ch, err := b.Watch(ctx, id)
	if err != nil {
		t.Fatalf("Watch(%s): %v", id, err)
	}
	var evs []cluster.Event
	for ev := range ch {
		evs = append(evs, ev)
	}
	if ctx.Err() != nil {
		t.Fatalf("run %s did not end within %s; events: %v", id, f.Timeout, evs)
	}
	r, err := b.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return evs, r
}

func submit(t *testing.T, b cluster.Backend, p *pipelinegen.Pipeline, opts cluster.SubmitOptions) *cluster.Run {
	t.Helper()
	r, err := b.Submit(context.Background(), p, opts)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if r.ID == "" || len(r.Steps) != len(p.Steps) {
		t.Fatalf("Submit returned %+v", r)
	}
	return r
}

func phases(r *cluster.Run) map[string]cluster.Phase {
	m := map[string]cluster.Phase{}
	for _, s := range r.Steps {
		m[s.Name] = s.Phase
	}
	return m
}

func wantPhases(t *testing.T, r *cluster.Run, run cluster.Phase, steps map[string]cluster.Phase) {
	t.Helper()
	if r.Phase != run {
		t.Errorf("run %s is %s (%s), want %s", r.ID, r.Phase, r.Message, run)
	}
	got := phases(r)
	for name, want := range steps {
		if got[name] != want {
			t.Errorf("step %s is %s, want %s (all: %v)", name, got[name], want, got)
		}
	}
}

func chain() []StepSpec {
	return []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}}, {Name: "c", After: []string{"b"}}}
}

func testSucceeds(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, chain())
	r := submit(t, b, p, cluster.SubmitOptions{})
	evs, r := wait(t, f, b, r.ID)
	wantPhases(t, r, cluster.Succeeded, map[string]cluster.Phase{"a": cluster.Succeeded, "b": cluster.Succeeded, "c": cluster.Succeeded})
	if len(evs) == 0 || evs[0].Type != cluster.EventRun || evs[0].Run != r.ID {
		t.Errorf("the first event must name the run: %v", evs)
	}
	// Every step is seen running, then succeeding, in dependency order.
	order := []string{}
	for _, ev := range evs {
		if ev.Type == cluster.EventStep && ev.Phase == cluster.Succeeded {
			order = append(order, ev.Step)
		}
		if ev.Run != r.ID {
			t.Errorf("event of another run: %+v", ev)
		}
	}
	if strings.Join(order, ",") != "a,b,c" {
		t.Errorf("steps succeeded in order %v, want a,b,c", order)
	}
	last := evs[len(evs)-1]
	if last.Type != cluster.EventRun || last.Phase != cluster.Succeeded {
		t.Errorf("the last event must end the run: %+v", last)
	}
	for _, s := range r.Steps {
		if s.Started.IsZero() || s.Finished.Before(s.Started) {
			t.Errorf("step %s times: %v .. %v", s.Name, s.Started, s.Finished)
		}
	}
}

func testFailure(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}, Behavior: Fail}, {Name: "c", After: []string{"b"}}, {Name: "d", After: []string{"a"}}})
	r := submit(t, b, p, cluster.SubmitOptions{})
	_, r = wait(t, f, b, r.ID)
	wantPhases(t, r, cluster.Failed, map[string]cluster.Phase{"a": cluster.Succeeded, "b": cluster.Failed, "c": cluster.Skipped, "d": cluster.Succeeded})
	if s := r.Step("b"); s != nil && s.Message == "" {
		t.Errorf("a failed step must say why")
	}
}

func testCancel(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a", Behavior: Hold}, {Name: "b", After: []string{"a"}}})
	r := submit(t, b, p, cluster.SubmitOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), f.Timeout)
	defer cancel()
	ch, err := b.Watch(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range ch {
		if ev.Step == "a" && ev.Phase == cluster.Running {
			break
		}
	}
	// Give the step's process a moment to be really running.
	time.Sleep(300 * time.Millisecond)
	if err := b.Cancel(context.Background(), r.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	_, r = wait(t, f, b, r.ID)
	wantPhases(t, r, cluster.Cancelled, map[string]cluster.Phase{"a": cluster.Cancelled, "b": cluster.Cancelled})
	if f.AfterCancel != nil {
		f.AfterCancel(t, r)
	}
}

func testListDelete(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a"}})
	r1 := submit(t, b, p, cluster.SubmitOptions{})
	wait(t, f, b, r1.ID)
	r2 := submit(t, b, p, cluster.SubmitOptions{})
	wait(t, f, b, r2.ID)
	other := f.Pipeline(t, []StepSpec{{Name: "z"}})
	r3 := submit(t, b, other, cluster.SubmitOptions{})
	wait(t, f, b, r3.ID)

	runs, err := b.List(context.Background(), cluster.ListOptions{NotebookID: p.NotebookID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	if len(ids) != 2 || ids[0] != r2.ID || ids[1] != r1.ID {
		t.Errorf("List(notebook) = %v, want [%s %s] (newest first, only this notebook)", ids, r2.ID, r1.ID)
	}
	if err := b.Delete(context.Background(), r1.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Get(context.Background(), r1.ID); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := b.Get(context.Background(), "no-such-run"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Get(no-such-run): %v, want ErrNotFound", err)
	}
	all, _ := b.List(context.Background(), cluster.ListOptions{})
	if len(all) != 2 {
		t.Errorf("List(all) has %d runs after a delete, want 2", len(all))
	}
}

func testResubmit(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, chain())
	r1 := submit(t, b, p, cluster.SubmitOptions{})
	_, r1 = wait(t, f, b, r1.ID)
	wantPhases(t, r1, cluster.Succeeded, nil)
	r2, err := b.Resubmit(context.Background(), r1.ID)
	if err != nil {
		t.Fatalf("Resubmit: %v", err)
	}
	if r2.ID == r1.ID {
		t.Fatal("a resubmitted run must be a new run")
	}
	_, r2 = wait(t, f, b, r2.ID)
	wantPhases(t, r2, cluster.Succeeded, map[string]cluster.Phase{"a": cluster.Succeeded, "b": cluster.Succeeded, "c": cluster.Succeeded})
	for _, s := range r2.Steps {
		if s.Cached {
			t.Errorf("resubmitted run: step %s was reused, want it run again", s.Name)
		}
	}
	if r2.NotebookID != r1.NotebookID || len(r2.Parameters) != len(r1.Parameters) {
		t.Errorf("resubmitted run differs: notebook %s/%s, parameters %v/%v", r2.NotebookID, r1.NotebookID, r2.Parameters, r1.Parameters)
	}
	if _, err := b.Resubmit(context.Background(), "no-such-run"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Resubmit(unknown) = %v, want ErrNotFound", err)
	}
}

func testParallel(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}, Behavior: Slow}, {Name: "c", After: []string{"a"}, Behavior: Slow}, {Name: "d", After: []string{"b", "c"}}})
	r := submit(t, b, p, cluster.SubmitOptions{Parallelism: 2})
	_, r = wait(t, f, b, r.ID)
	wantPhases(t, r, cluster.Succeeded, nil)
	sb, sc, sd := r.Step("b"), r.Step("c"), r.Step("d")
	// Overlap; equal times count (Argo keeps seconds only).
	if sb.Started.After(sc.Finished) || sc.Started.After(sb.Finished) {
		t.Errorf("independent steps b and c did not overlap: b %v..%v, c %v..%v", sb.Started, sb.Finished, sc.Started, sc.Finished)
	}
	if sd.Started.Before(sb.Finished.Truncate(time.Second)) || sd.Started.Before(sc.Finished.Truncate(time.Second)) {
		t.Errorf("d started before both b and c finished")
	}
}

func testRetry(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}, Behavior: FailOnce}, {Name: "c", After: []string{"b"}}})
	r := submit(t, b, p, cluster.SubmitOptions{})
	_, r = wait(t, f, b, r.ID)
	wantPhases(t, r, cluster.Failed, map[string]cluster.Phase{"a": cluster.Succeeded, "b": cluster.Failed, "c": cluster.Skipped})
	aFinished := r.Step("a").Finished
	if f.Heal != nil {
		f.Heal(t, b, r.ID)
	}
	if _, err := b.Retry(context.Background(), r.ID); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	_, r = wait(t, f, b, r.ID)
	wantPhases(t, r, cluster.Succeeded, map[string]cluster.Phase{"a": cluster.Succeeded, "b": cluster.Succeeded, "c": cluster.Succeeded})
	if !r.Step("a").Finished.Equal(aFinished) {
		t.Errorf("retry reran the succeeded step a")
	}
	if _, err := b.Retry(context.Background(), r.ID); !errors.Is(err, cluster.ErrNothingToDo) {
		t.Errorf("Retry of a succeeded run: %v, want ErrNothingToDo", err)
	}
}

func testResume(t *testing.T, f Fixture) {
	b := f.New(t)
	specs := []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}, Behavior: FailOnce}, {Name: "c", After: []string{"b"}}}
	p := f.Pipeline(t, specs)
	r1 := submit(t, b, p, cluster.SubmitOptions{NoCache: true})
	_, r1 = wait(t, f, b, r1.ID)
	wantPhases(t, r1, cluster.Failed, nil)
	if f.HealPipeline != nil {
		f.HealPipeline(t, p)
	}
	r2 := submit(t, b, p, cluster.SubmitOptions{NoCache: true, ResumeFrom: r1.ID})
	_, r2 = wait(t, f, b, r2.ID)
	wantPhases(t, r2, cluster.Succeeded, nil)
	if r2.ID == r1.ID {
		t.Fatal("resume must be a new run")
	}
	if !r2.Step("a").Cached || r2.Step("b").Cached {
		t.Errorf("resume: a must reuse %s's output and b must run again: a cached=%v b cached=%v", r1.ID, r2.Step("a").Cached, r2.Step("b").Cached)
	}
	if r2.ResumedFrom != r1.ID {
		t.Errorf("resumed run says it resumed %q, want %q", r2.ResumedFrom, r1.ID)
	}
	// The earlier run can go; the resumed one keeps what it reused.
	if err := b.Delete(context.Background(), r1.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Get(context.Background(), r2.ID); err != nil || r.Phase != cluster.Succeeded {
		t.Fatalf("after deleting %s, %s: %v %v", r1.ID, r2.ID, r, err)
	}
	if _, err := b.Get(context.Background(), r1.ID); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("deleted run still there: %v", err)
	}
	if err := b.Delete(context.Background(), r2.ID); err != nil {
		t.Fatal(err)
	}
}

func testCache(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, chain())
	r1 := submit(t, b, p, cluster.SubmitOptions{})
	_, r1 = wait(t, f, b, r1.ID)
	wantPhases(t, r1, cluster.Succeeded, nil)
	r2 := submit(t, b, p, cluster.SubmitOptions{})
	_, r2 = wait(t, f, b, r2.ID)
	wantPhases(t, r2, cluster.Succeeded, nil)
	for _, s := range r2.Steps {
		if !s.Cached {
			t.Errorf("second identical run: step %s not cached", s.Name)
		}
	}
	r3 := submit(t, b, p, cluster.SubmitOptions{NoCache: true})
	_, r3 = wait(t, f, b, r3.ID)
	for _, s := range r3.Steps {
		if s.Cached {
			t.Errorf("NoCache run: step %s cached", s.Name)
		}
	}
}

func testLogs(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}}})
	r := submit(t, b, p, cluster.SubmitOptions{})
	wait(t, f, b, r.ID)
	var one, all bytes.Buffer
	if err := b.Logs(context.Background(), r.ID, cluster.LogOptions{Step: "a"}, &one); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(one.String(), "hello from a") || strings.Contains(one.String(), "hello from b") {
		t.Errorf("Logs(a) = %q", one.String())
	}
	if err := b.Logs(context.Background(), r.ID, cluster.LogOptions{}, &all); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a | hello from a", "b | hello from b"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("Logs(all) lacks %q:\n%s", want, all.String())
		}
	}
	if err := b.Logs(context.Background(), r.ID, cluster.LogOptions{Step: "nope"}, &one); err == nil {
		t.Error("Logs of an unknown step must fail")
	}
}

func testReports(t *testing.T, f Fixture) {
	b := f.New(t)
	p := f.Pipeline(t, []StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}, Behavior: Fail}, {Name: "c", After: []string{"b"}}})
	r := submit(t, b, p, cluster.SubmitOptions{})
	wait(t, f, b, r.ID)
	ctx := context.Background()
	var nb bytes.Buffer
	if err := b.Report(ctx, r.ID, cluster.ReportOptions{Step: "a"}, &nb); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		NBFormat int `json:"nbformat"`
		Cells    []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
			Outputs  json.RawMessage `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(nb.Bytes(), &doc); err != nil || doc.NBFormat != 4 {
		t.Fatalf("Report(a) is not a notebook (%v):\n%.300s", err, nb.String())
	}
	if !strings.Contains(nb.String(), "hello from a") {
		t.Errorf("Report(a) lacks the step's output:\n%.500s", nb.String())
	}
	var page bytes.Buffer
	if err := b.Report(ctx, r.ID, cluster.ReportOptions{Step: "b", HTML: true}, &page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "<html") || !strings.Contains(page.String(), "failed") {
		t.Errorf("Report(b, html) is not the failed step's page:\n%.300s", page.String())
	}
	if err := b.Report(ctx, r.ID, cluster.ReportOptions{Step: "c"}, io.Discard); !errors.Is(err, cluster.ErrNoReport) {
		t.Errorf("Report of a skipped step = %v, want ErrNoReport", err)
	}
	if err := b.Report(ctx, r.ID, cluster.ReportOptions{Step: "nope"}, io.Discard); err == nil {
		t.Error("Report of an unknown step must fail")
	}
}

// Compile builds a pipeline from a percent-format notebook (see
// internal/nbtest) through the real analyzer and generator, as if the
// notebook were at path.
func Compile(t *testing.T, src, path string) *pipelinegen.Pipeline {
	t.Helper()
	data, err := nbtest.Notebook(src)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	p, err := pipelinegen.Compile(nb, an, pipelinegen.Options{NotebookPath: path})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// Notebook writes a percent-format notebook whose steps behave as specs
// say, for backends whose steps really run (each step loads a value from
// every step it depends on and prints "hello from STEP"). tags adds a
// step's extra tags (e.g. labels a fake kubelet reacts to); failMarker is
// a path prefix FailOnce steps use to remember their first attempt.
func Notebook(specs []StepSpec, tags func(StepSpec) []string, failMarker string) string {
	var b strings.Builder
	for _, s := range specs {
		all := []string{"block:" + s.Name}
		if tags != nil {
			all = append(all, tags(s)...)
		}
		fmt.Fprintf(&b, "# %%%% tags=[%s]\n", quoteAll(all))
		var deps []string
		for _, a := range s.After {
			deps = append(deps, "v_"+a)
		}
		fmt.Fprintf(&b, "v_%s = [%s]\nprint(\"hello from %s\")\n", s.Name, strings.Join(deps, ", "), s.Name)
		switch s.Behavior {
		case Fail:
			fmt.Fprintf(&b, "raise RuntimeError(\"step %s fails on purpose\")\n", s.Name)
		case FailOnce:
			m := failMarker + s.Name
			fmt.Fprintf(&b, "import os\nif not os.path.exists(%q):\n    open(%q, \"w\").close()\n    raise RuntimeError(\"first attempt fails\")\n", m, m)
		case Hold:
			b.WriteString("import time\ntime.sleep(600)\n")
		case Slow:
			b.WriteString("import time\ntime.sleep(1)\n")
		}
	}
	return b.String()
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
