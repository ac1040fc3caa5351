package argo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/rogpeppe/go-internal/txtar"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/clustertest"
	"github.com/datainsight/datainsight/internal/kubestack"
	"github.com/datainsight/datainsight/internal/synth"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// These tests run against a real kube-apiserver with Argo's full CRDs and
// workflow-controller; kwok plays the kubelet, completing, failing or
// holding pods by their labels.
func TestMain(m *testing.M) {
	if ids := os.Getenv("DATAINSIGHT_WATCHER"); ids != "" {
		os.Exit(watcher(strings.Split(ids, ",")))
	}
	kubestack.Main(m)
}

// watcher is the benchmark's tracking process: one backend, one watch,
// every run followed until it is Running; then it reports its memory.
func watcher(ids []string) int {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	a, err := New(cfg, os.Getenv("DATAINSIGHT_NAMESPACE"), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	runtime.GC()
	before := vmRSS()
	start := time.Now()
	var wg sync.WaitGroup
	for _, id := range ids {
		ch, err := a.Watch(context.Background(), id)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range ch {
				if ev.Step == "a" && ev.Phase == cluster.Running {
					go func() {
						for range ch {
						}
					}()
					return
				}
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	after := vmRSS()
	fmt.Printf("tracking %d running workflows with one watch: all seen running in %s; watcher RSS %d MB (%d MB before watching: the binary's own baseline) (target < 100 MB)\n",
		len(ids), time.Since(start).Round(time.Millisecond), after>>10, before>>10)
	return 0
}

// vmRSS is this process's resident memory in KiB.
func vmRSS() int {
	status, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// labelFailOnce marks steps whose fail label Heal removes before a retry.
const labelFailOnce = "datainsight.io/test-fail-once"

var notebooks atomic.Int64

// compile builds a pipeline from a percent-format notebook, at a path of
// its own (its notebook label tells its runs apart).
func compile(t *testing.T, src string) *pipelinegen.Pipeline {
	t.Helper()
	return clustertest.Compile(t, src, fmt.Sprintf("/home/jovyan/nb-%d.ipynb", notebooks.Add(1)))
}

func kwokTags(s clustertest.StepSpec) []string {
	switch s.Behavior {
	case clustertest.Fail:
		return []string{"label:" + kubestack.LabelFail + ":true"}
	case clustertest.FailOnce:
		return []string{"label:" + kubestack.LabelFail + ":true", "label:" + labelFailOnce + ":true"}
	case clustertest.Hold:
		return []string{"label:" + kubestack.LabelHold + ":true"}
	}
	return nil
}

func newBackend(t *testing.T, stack *kubestack.Stack, cfg *rest.Config) (*Argo, string) {
	ns := stack.Namespace(t)
	stack.RunTaskResults(t, ns)
	a, err := New(cfg, ns, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, ns
}

func TestConformance(t *testing.T) {
	stack := kubestack.Shared(t)
	clustertest.Run(t, clustertest.Fixture{
		New: func(t *testing.T) cluster.Backend {
			a, _ := newBackend(t, stack, stack.RESTConfig())
			return a
		},
		Pipeline: func(t *testing.T, specs []clustertest.StepSpec) *pipelinegen.Pipeline {
			return compile(t, clustertest.Notebook(specs, kwokTags, "/tmp/failed-once-"))
		},
		Timeout:  90 * time.Second,
		Parallel: true,
		Retry:    true,
		Resume:   true,
		// The fail label of a FailOnce step comes off the pipeline before
		// it is resumed.
		HealPipeline: func(t *testing.T, p *pipelinegen.Pipeline) {
			for _, s := range p.Steps {
				if s.Settings.Labels[labelFailOnce] != "" {
					delete(s.Settings.Labels, kubestack.LabelFail)
				}
			}
		},
		// A step's fail label lives in the workflow's template metadata:
		// taking it off makes the retried pod succeed.
		Heal: func(t *testing.T, b cluster.Backend, id string) {
			a := b.(*Argo)
			wf, err := a.workflows().Get(context.Background(), id, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range wf.Spec.Templates {
				if wf.Spec.Templates[i].Metadata.Labels[labelFailOnce] != "" {
					delete(wf.Spec.Templates[i].Metadata.Labels, kubestack.LabelFail)
				}
			}
			if _, err := a.workflows().Update(context.Background(), wf, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func waitRun(t *testing.T, a *Argo, id string, until func(*cluster.Run) bool) *cluster.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ch, err := a.Watch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for range ch {
		r, err := a.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if until(r) {
			return r
		}
	}
	r, err := a.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !until(r) {
		t.Fatalf("run %s never reached the expected state: %+v", id, r)
	}
	return r
}

func TestUnschedulableGPUStepIsReportedAsSuch(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	p := compile(t, `# %% tags=["block:prep"]
x = 1
# %% tags=["block:train", "limit:nvidia.com/gpu:1", "label:`+kubestack.LabelUnschedulable+`:true"]
y = x + 1
`)
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r = waitRun(t, a, r.ID, func(r *cluster.Run) bool {
		s := r.Step("train")
		return s != nil && strings.Contains(strings.ToLower(s.Message), "unschedulable")
	})
	train := r.Step("train")
	if train.Phase != cluster.Pending || !strings.Contains(train.Message, "nvidia.com/gpu") {
		t.Errorf("train: %s %q, want Pending with the scheduler's reason", train.Phase, train.Message)
	}
	if err := a.Cancel(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
}

func TestLogsThroughTheAPIServer(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	p := compile(t, clustertest.Notebook([]clustertest.StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}}}, nil, ""))
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	lines := stack.PodLog()
	if len(lines) == 0 {
		t.Fatal("the stack serves no pod log")
	}
	var one, all bytes.Buffer
	if err := a.Logs(context.Background(), r.ID, cluster.LogOptions{Step: "a"}, &one); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(one.String(), lines[0]) {
		t.Errorf("Logs(a) = %q, want the pod's log %q", one.String(), lines[0])
	}
	if err := a.Logs(context.Background(), r.ID, cluster.LogOptions{}, &all); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"a", "b"} {
		if !strings.Contains(all.String(), step+" | "+lines[0]) {
			t.Errorf("Logs(all) lacks %q:\n%s", step+" | "+lines[0], all.String())
		}
	}
}

func TestWatchSurvivesAnAPIServerRestart(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	p := compile(t, clustertest.Notebook([]clustertest.StepSpec{{Name: "a", Behavior: clustertest.Hold}, {Name: "b", After: []string{"a"}}}, kwokTags, ""))
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ch, err := a.Watch(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range ch {
		if ev.Step == "a" && ev.Phase == cluster.Running {
			break
		}
	}
	stack.RestartAPIServer(t)
	// The run ends after the restart: the same watch must see it.
	patch := []byte(`{"spec":{"shutdown":"Terminate"}}`)
	if _, err := a.workflows().Patch(ctx, r.ID, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var last cluster.Event
	for ev := range ch {
		last = ev
	}
	if ctx.Err() != nil {
		t.Fatal("the watch did not see the run end after the API server restarted")
	}
	if last.Type != cluster.EventRun || last.Phase != cluster.Cancelled {
		t.Errorf("last event %+v, want the run cancelled", last)
	}
}

func TestNamespaceConfinement(t *testing.T) {
	stack := kubestack.Shared(t)
	own := stack.Namespace(t)
	other := stack.Namespace(t)
	stack.RunTaskResults(t, own)
	token := stack.ServiceAccountToken(t, own, "pipeline-user")
	cfg := stack.RESTConfig()
	cfg.BearerToken, cfg.BearerTokenFile = token, ""
	cfg.Username, cfg.Password = "", ""
	cfg.CertFile, cfg.KeyFile, cfg.CertData, cfg.KeyData = "", "", nil, nil

	p := compile(t, clustertest.Notebook([]clustertest.StepSpec{{Name: "a"}}, nil, ""))
	mine, err := New(cfg, own, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	r, err := mine.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatalf("submit in the namespace the token may use: %v", err)
	}
	waitRun(t, mine, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if _, err := mine.List(context.Background(), cluster.ListOptions{}); err != nil {
		t.Errorf("list in own namespace: %v", err)
	}

	theirs, err := New(cfg, other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	_, err = theirs.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err == nil || !strings.Contains(err.Error(), "namespace "+other) || !strings.Contains(err.Error(), "may not") {
		t.Errorf("submit in another namespace: %v, want a clear refusal naming %s", err, other)
	}
	if _, err := theirs.Get(context.Background(), r.ID); err == nil {
		t.Error("a run of another namespace must not be visible")
	}
	// The pipeline cannot pick its namespace: the created workflow is in
	// the backend's, whatever the settings say.
	wf, err := mine.workflows().Get(context.Background(), r.ID, metav1.GetOptions{})
	if err != nil || wf.Namespace != own {
		t.Errorf("workflow namespace %q (err %v), want %s", wf.Namespace, err, own)
	}
}

// TestGoldenWorkflowsAccepted creates every golden workflow of the
// generator on the API server, whose full CRDs validate the schema
// (dry run: nothing is started).
func TestGoldenWorkflowsAccepted(t *testing.T) {
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	files, _ := filepath.Glob(filepath.Join("..", "..", "pipelinegen", "testdata", "workflows", "*.txtar"))
	if len(files) < 12 {
		t.Fatalf("found %d golden workflows", len(files))
	}
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range ar.Files {
			if fl.Name != "workflow.yaml" {
				continue
			}
			var wf wfv1.Workflow
			if err := yaml.UnmarshalStrict(fl.Data, &wf); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			wf.Namespace = ns
			if _, err := a.workflows().Create(context.Background(), &wf, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("%s: the API server refuses the workflow: %v", filepath.Base(f), err)
			}
		}
	}
	// The biggest one too: 1000 cells, 200 steps.
	nb, err := notebook.Parse(synth.Notebook(synth.Options{Steps: 200, Cells: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	p, err := pipelinegen.Compile(nb, an, pipelinegen.Options{NotebookPath: "synth.ipynb"})
	if err != nil {
		t.Fatal(err)
	}
	wf, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wf.Namespace = ns
	js, _ := json.Marshal(wf)
	if _, err := a.workflows().Create(context.Background(), wf, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the 1000-cell workflow (%d bytes) is refused: %v", len(js), err)
	}
}

func TestUnknownRun(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	if _, err := a.Get(context.Background(), "nope-12345"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

// After its pods are gone, a run's logs and reports come from its marshal
// volume through a reader pod. kwok runs no containers: the stack runs the
// reader's exec on this machine, in a folder standing in for the volume.
func TestLogsAndReportsOutliveThePods(t *testing.T) {
	if readerContainer != kubestack.ReaderContainer {
		t.Fatalf("reader container %q, the stack runs execs in %q", readerContainer, kubestack.ReaderContainer)
	}
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	ctx := context.Background()
	kube := stack.Kube()
	p := compile(t, clustertest.Notebook([]clustertest.StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}}}, nil, ""))
	r, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r = waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if r.Phase != cluster.Succeeded {
		t.Fatalf("run %s: %s", r.ID, r.Phase)
	}

	// The volume outlives the run's success, and belongs to its workflow.
	wf, err := a.workflows().Get(ctx, r.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pvc, err := kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, r.ID+"-datainsight-marshal", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the marshal volume did not outlive the run: %v", err)
	}
	if len(pvc.OwnerReferences) != 1 || pvc.OwnerReferences[0].UID != wf.UID {
		t.Errorf("marshal claim owners = %+v, want the workflow %s", pvc.OwnerReferences, wf.UID)
	}

	// What the steps left on the volume. The log holds a line that looks
	// like a frame header: the frames are cut by size, not by content.
	logA := "epoch 1 loss 0.5\n@@datainsight " + r.ID + "/b/output.log -\nDONE\xff, no newline"
	ipynb := `{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	html := "<!DOCTYPE html><p>report</p>"
	dir := filepath.Join(stack.VolumeDir, r.ID, "a")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"output.log": logA, "report.ipynb": ipynb, "report.html": html} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The pods go (podGC, or the cluster's own collection).
	zero := int64(0)
	sel := metav1.ListOptions{LabelSelector: labelWorkflow + "=" + r.ID}
	if err := kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, sel); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the step pods to go", func() bool {
		pods, err := kube.CoreV1().Pods(ns).List(ctx, sel)
		return err == nil && len(pods.Items) == 0
	})

	var one bytes.Buffer
	if err := a.Logs(ctx, r.ID, cluster.LogOptions{Step: "a"}, &one); err != nil {
		t.Fatal(err)
	}
	if one.String() != logA+"\n" {
		t.Errorf("Logs(a) = %q, want the kept log %q", one.String(), logA+"\n")
	}
	err = a.Logs(ctx, r.ID, cluster.LogOptions{Step: "b"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "kept no log") {
		t.Errorf("Logs(b) with nothing kept: %v", err)
	}
	var all bytes.Buffer
	if err := a.Logs(ctx, r.ID, cluster.LogOptions{}, &all); err != nil {
		t.Fatal(err)
	}
	wantAll := "a | epoch 1 loss 0.5\na | @@datainsight " + r.ID + "/b/output.log -\na | DONE\xff, no newline\n"
	if all.String() != wantAll {
		t.Errorf("Logs(all) = %q, want %q", all.String(), wantAll)
	}

	for _, c := range []struct {
		html bool
		want string
	}{{false, ipynb}, {true, html}} {
		var got bytes.Buffer
		if err := a.Report(ctx, r.ID, cluster.ReportOptions{Step: "a", HTML: c.html}, &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != c.want {
			t.Errorf("Report(a, html=%v) = %q, want %q", c.html, got.String(), c.want)
		}
	}
	if err := a.Report(ctx, r.ID, cluster.ReportOptions{Step: "b"}, io.Discard); !errors.Is(err, cluster.ErrNoReport) {
		t.Errorf("Report(b) = %v, want ErrNoReport", err)
	}
	if err := a.Report(ctx, r.ID, cluster.ReportOptions{Step: "nope"}, io.Discard); err == nil || !strings.Contains(err.Error(), `no step "nope"`) {
		t.Errorf("Report(nope) = %v", err)
	}
	// Every reader pod is gone once it has been read.
	readers, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelRole + "=" + RoleVolumeReader})
	if err != nil {
		t.Fatal(err)
	}
	if len(readers.Items) != 0 {
		t.Errorf("%d reader pods left behind", len(readers.Items))
	}

	// Deleting the run deletes its volume; reading it then says why not.
	if err := a.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	// (Without a controller-manager here, the pvc-protection finalizer
	// keeps a deleted claim, marked for deletion.)
	if pvc, err := kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, pvc.Name, metav1.GetOptions{}); err == nil && pvc.DeletionTimestamp == nil {
		t.Error("the marshal volume outlived the run's deletion")
	}
}

// A run whose volume is gone says so instead of starting a pod that could
// never run.
func TestReadingAVolumeThatIsGone(t *testing.T) {
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	ctx := context.Background()
	p := compile(t, clustertest.Notebook([]clustertest.StepSpec{{Name: "a"}}, nil, ""))
	r, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if err := stack.Kube().CoreV1().PersistentVolumeClaims(ns).Delete(ctx, r.ID+"-datainsight-marshal", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err = a.Report(ctx, r.ID, cluster.ReportOptions{Step: "a"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "marshal volume (claim "+r.ID+"-datainsight-marshal) is gone") {
		t.Errorf("Report with the volume gone: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A resumed run shares the earlier run's volume: its reused steps link the
// earlier outputs (no GPU asked for), the rest run, a changed parameter
// reruns the steps that read it, and the volume goes with the last run.
// (prep's cpu and memory come back from the API server as "500m" and
// "1536Mi": still the same step.)
func TestResumeSharesTheVolume(t *testing.T) {
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	ctx := context.Background()
	kube := stack.Kube()
	p := compile(t, `# %% tags=["pipeline-parameters"]
lr = 0.1
# %% tags=["block:prep", "limit:nvidia.com/gpu:1", "limit:cpu:0.5", "limit:memory:1.5Gi"]
x = 1
# %% tags=["block:train"]
y = x * lr
# %% tags=["block:report", "label:`+kubestack.LabelFail+`:true"]
print(y)
`)
	r1, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r1 = waitRun(t, a, r1.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if r1.Phase != cluster.Failed {
		t.Fatalf("first run: %s", r1.Phase)
	}
	claim := r1.ID + "-datainsight-marshal"

	for _, c := range []struct {
		params map[string]string
		reused []string
	}{
		{nil, []string{"prep", "train"}},
		{map[string]string{"lr": "0.5"}, []string{"prep"}},
	} {
		r2, err := a.Submit(ctx, p, cluster.SubmitOptions{ResumeFrom: r1.ID, Parameters: c.params})
		if err != nil {
			t.Fatal(err)
		}
		wf, err := a.workflows().Get(ctx, r2.ID, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalClaim(wf); got != claim {
			t.Errorf("resumed run's volume = %q, want the earlier run's %q", got, claim)
		}
		for _, tmpl := range wf.Spec.Templates {
			step := pipelinegen.StepName(tmpl.Metadata.Labels, tmpl.Metadata.Annotations)
			if step == "" {
				continue
			}
			linked := strings.Contains(tmpl.Script.Source, "reuses its outputs from run "+r1.ID)
			want := slicesContains(c.reused, step)
			if linked != want {
				t.Errorf("params %v: step %s linked=%v, want %v", c.params, step, linked, want)
			}
			if _, gpu := tmpl.Script.Resources.Limits["nvidia.com/gpu"]; linked && gpu {
				t.Errorf("a linking step asks for a GPU: %v", tmpl.Script.Resources.Limits)
			}
		}
		r2 = waitRun(t, a, r2.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
		for _, s := range r2.Steps {
			if s.Cached != slicesContains(c.reused, s.Name) {
				t.Errorf("params %v: step %s cached=%v", c.params, s.Name, s.Cached)
			}
		}
		if r2.ResumedFrom != r1.ID {
			t.Errorf("ResumedFrom = %q", r2.ResumedFrom)
		}
		pvc, err := kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(pvc.OwnerReferences); n < 2 {
			t.Errorf("shared volume has %d owners", n)
		}
	}

	// Deleting the earlier run leaves the volume to the resumed runs.
	if err := a.Delete(ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	pvc, err := kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil || pvc.DeletionTimestamp != nil {
		t.Fatalf("the shared volume went with the earlier run: %v", err)
	}
	if len(pvc.OwnerReferences) != 2 {
		t.Errorf("owners after the delete: %+v", pvc.OwnerReferences)
	}

	// Resuming a run of another notebook is refused.
	other := compile(t, "# %% tags=[\"block:a\"]\nx = 1\n")
	for _, o := range pvc.OwnerReferences {
		if _, err := a.Submit(ctx, other, cluster.SubmitOptions{ResumeFrom: o.Name}); err == nil || !strings.Contains(err.Error(), "that run is of") {
			t.Errorf("resume across notebooks: %v", err)
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The link script a reused step runs, run here against a folder standing
// in for the volume.
func TestLinkScriptLinksTheEarlierOutputs(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "old-run", "prep")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "x.pkl"), []byte("value"), 0o644)
	os.WriteFile(filepath.Join(src, "manifest.json"), []byte("{}"), 0o644)
	script := strings.Replace(linkScript("old-run", "prep"), notebookQuote(pipelinegen.MarshalMount), notebookQuote(root), 2)
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Env = append(os.Environ(), "DATAINSIGHT_RUN_ID=new-run")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"x.pkl", "manifest.json"} {
		a, err1 := os.Stat(filepath.Join(src, f))
		b, err2 := os.Stat(filepath.Join(root, "new-run", "prep", f))
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			t.Errorf("%s not linked: %v %v", f, err1, err2)
		}
	}
}

func notebookQuote(s string) string { return notebook.PyQuote(s) }

// Following a run from its submission shows every step, each as its pod
// starts, until the run ends: steps not started yet are not missed.
func TestFollowLogsFromTheStart(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lines := stack.PodLog()
	p := compile(t, clustertest.Notebook([]clustertest.StepSpec{{Name: "a"}, {Name: "b", After: []string{"a"}}, {Name: "c", After: []string{"b"}}}, nil, ""))
	for _, step := range []string{"", "c"} {
		r, err := a.Submit(ctx, p, cluster.SubmitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := a.Logs(ctx, r.ID, cluster.LogOptions{Step: step, Follow: true}, &out); err != nil {
			t.Fatal(err)
		}
		if step == "c" {
			if want := strings.Join(lines, "\n") + "\n"; out.String() != want {
				t.Errorf("Logs(c, follow) = %q, want c's pod log %q", out.String(), want)
			}
			continue
		}
		for _, s := range []string{"a", "b", "c"} {
			for _, l := range lines {
				if !strings.Contains(out.String(), s+" | "+l+"\n") {
					t.Errorf("Logs(follow) lacks %q:\n%s", s+" | "+l, out.String())
				}
			}
		}
	}
}

// On the notebook's own volume (marshal.pvc) a run reuses what the best
// earlier run left there: unchanged steps are linked, cache:off steps and
// the steps after them run, --no-cache runs everything, and a run's own
// volume is never looked at.
func TestCacheOnTheNotebooksVolume(t *testing.T) {
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	ctx := context.Background()
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "team-data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := stack.Kube().CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const body = `# %% tags=["block:a"]
x = 1
# %% tags=["block:b", "cache:off"]
y = x + 1
# %% tags=["block:c"]
z = x * 2
`
	shared := compile(t, "# metadata: {\"datainsight\": {\"marshal\": {\"mode\": \"pvc\", \"pvc\": \"team-data\"}}}\n"+body)
	own := compile(t, body)
	run := func(p *pipelinegen.Pipeline, opts cluster.SubmitOptions) *cluster.Run {
		t.Helper()
		r, err := a.Submit(ctx, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		r = waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
		if r.Phase != cluster.Succeeded {
			t.Fatalf("run %s: %s", r.ID, r.Phase)
		}
		return r
	}
	cached := func(r *cluster.Run) string {
		var s []string
		for _, st := range r.Steps {
			if st.Cached {
				s = append(s, st.Name)
			}
		}
		return strings.Join(s, ",")
	}
	first := run(shared, cluster.SubmitOptions{})
	if got := cached(first); got != "" {
		t.Errorf("first run cached %q", got)
	}
	second := run(shared, cluster.SubmitOptions{})
	if got := cached(second); got != "a,c" {
		t.Errorf("second run cached %q, want a,c (b is cache:off)", got)
	}
	if second.ResumedFrom != "" {
		t.Errorf("a cached run says it resumed %q", second.ResumedFrom)
	}
	noCache := run(shared, cluster.SubmitOptions{NoCache: true})
	if got := cached(noCache); got != "" {
		t.Errorf("--no-cache run cached %q", got)
	}
	// Runs on their own volumes never share outputs.
	run(own, cluster.SubmitOptions{})
	if got := cached(run(own, cluster.SubmitOptions{})); got != "" {
		t.Errorf("a run on its own volume cached %q", got)
	}
	// The notebook's volume is the notebook's: deleting runs leaves it.
	for _, id := range []string{first.ID, noCache.ID} {
		if err := a.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if pvc, err := stack.Kube().CoreV1().PersistentVolumeClaims(ns).Get(ctx, "team-data", metav1.GetOptions{}); err != nil || pvc.DeletionTimestamp != nil {
		t.Errorf("the notebook's volume went with a run: %v", err)
	}
	// With the full runs gone, the cached run (whose a and c were links)
	// still offers them: the cache keeps hitting run after run.
	if got := cached(run(shared, cluster.SubmitOptions{})); got != "a,c" {
		t.Errorf("run after a cached one cached %q, want a,c", got)
	}
}

// A retried step has a pod per attempt: following shows every attempt,
// reading afterwards the latest.
func TestLogsOfARetriedStep(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lines := stack.PodLog()
	p := compile(t, `# %% tags=["block:flaky", "retry:1", "label:`+kubestack.LabelFail+`:true"]
x = 1
`)
	r, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var followed, after bytes.Buffer
	if err := a.Logs(ctx, r.ID, cluster.LogOptions{Step: "flaky", Follow: true}, &followed); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(followed.String(), lines[0]+"\n"); n != 2 {
		t.Errorf("followed %d attempts' logs, want 2:\n%s", n, followed.String())
	}
	r = waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if st := r.Step("flaky"); st.Phase != cluster.Failed || st.Attempt != 2 {
		t.Errorf("flaky: %s after %d attempts", st.Phase, st.Attempt)
	}
	if err := a.Logs(ctx, r.ID, cluster.LogOptions{Step: "flaky"}, &after); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(after.String(), lines[0]+"\n"); n != 1 {
		t.Errorf("logs after the run show %d attempts, want the latest:\n%s", n, after.String())
	}
}
