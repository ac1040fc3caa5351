package argo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/kubestack"
	"github.com/datainsight/datainsight/pipelinegen"
)

// These tests need the stack (kube-apiserver, Argo's controller, kwok):
// they check on the real controller what pipelinegen's unit tests check
// against Argo's code alone.

// runPods returns a run's step pods by step, once every one of steps has
// one.
func runPods(t *testing.T, a *Argo, id string, steps ...string) map[string]corev1.Pod {
	t.Helper()
	pods := map[string]corev1.Pod{}
	waitFor(t, "the run's pods", func() bool {
		list, err := a.kube.CoreV1().Pods(a.namespace).List(context.Background(), metav1.ListOptions{LabelSelector: pipelinegen.LabelRun + "=" + id})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Items {
			if s := pipelinegen.StepName(p.Labels, p.Annotations); s != "" {
				pods[s] = p
			}
		}
		for _, s := range steps {
			if _, ok := pods[s]; !ok {
				return false
			}
		}
		return true
	})
	return pods
}

// The controller substitutes and evaluates {{...}} in templates: the
// notebook's own must reach the pod as Datainsight wrote it.
func TestArgoTemplateSyntaxSurvivesTheController(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	p := compile(t, `# metadata: {"datainsight": {"description": "Renders {{workflow.name}} and {{=sprig.date()}} literally"}}
# %% tags=["pipeline-parameters"]
greeting = "{{workflow.parameters.greeting}} $(HOME) {{"
# %% tags=["block:render", "env:TEMPLATE={{inputs.parameters.x}}", "env:PRICE=$(HOME) costs $5 {{{"]
import os
page = f"{{{greeting}}} {{=1+1}} {os.environ['TEMPLATE']} {os.environ['PRICE']}"
# %% tags=["block:show"]
print(page, "{{workflow.name}}", "{{")
`)
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r = waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if r.Phase != cluster.Succeeded {
		for _, s := range r.Steps {
			t.Errorf("step %s: %s %q", s.Name, s.Phase, s.Message)
		}
		t.Fatalf("run %s: %s %q", r.ID, r.Phase, r.Message)
	}
	// What Datainsight wrote, with only its own tags replaced.
	want, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	arg := want.Spec.Arguments.Parameters[0].Value.String()
	ours := strings.NewReplacer("{{workflow.name}}", r.ID, "{{workflow.parameters.greeting}}", arg)
	pods := runPods(t, a, r.ID, "render", "show")
	for _, tmpl := range want.Spec.Templates {
		if tmpl.Script == nil {
			continue
		}
		pod := pods[pipelinegen.StepName(tmpl.Metadata.Labels, tmpl.Metadata.Annotations)]
		// The init container gets the template as the controller resolved
		// it: the script it writes for the main container is in it.
		var resolved wfv1.Template
		for _, c := range pod.Spec.InitContainers {
			for _, e := range c.Env {
				if e.Name == "ARGO_TEMPLATE" {
					if err := json.Unmarshal([]byte(e.Value), &resolved); err != nil {
						t.Fatalf("%s: ARGO_TEMPLATE: %v", tmpl.Name, err)
					}
				}
			}
		}
		if resolved.Script == nil || resolved.Script.Source != tmpl.Script.Source {
			t.Errorf("%s: the controller changed the script:\n%+v", tmpl.Name, resolved.Script)
		}
		env := map[string]string{}
		for _, c := range pod.Spec.Containers {
			if c.Name == "main" {
				for _, e := range c.Env {
					env[e.Name] = e.Value
				}
			}
		}
		for _, e := range tmpl.Script.Env {
			if got, want := env[e.Name], ours.Replace(e.Value); got != want {
				t.Errorf("%s: env %s = %q in the pod, want %q", tmpl.Name, e.Name, got, want)
			}
		}
	}
}

// Kale's clone volume becomes a claim the controller makes from the named
// one; checkClones says so before the run when it cannot be made.
func TestCloneVolumeOnTheCluster(t *testing.T) {
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	src := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "workspace", Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}},
		},
	}
	if _, err := a.kube.CoreV1().PersistentVolumeClaims(ns).Create(context.Background(), src, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := compile(t, `# metadata: {"kubeflow_notebook": {"pipeline_name": "p", "volumes": [{"annotations": [], "mount_point": "/home/jovyan", "name": "workspace", "size": 5, "size_type": "Gi", "snapshot": false, "type": "clone"}]}}
# %% tags=["block:hello"]
print("hello")
`)
	wf, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: "p-clone"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.checkClones(context.Background(), wf); err != nil {
		t.Fatal(err)
	}
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var clone *corev1.PersistentVolumeClaim
	waitFor(t, "the cloned claim", func() bool {
		list, err := a.kube.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range list.Items {
			if c.Spec.DataSource != nil && strings.HasPrefix(c.Name, r.ID) {
				clone = &list.Items[i]
			}
		}
		return clone != nil
	})
	if ds := clone.Spec.DataSource; ds.Kind != "PersistentVolumeClaim" || ds.Name != "workspace" {
		t.Errorf("claim %s: dataSource %+v", clone.Name, ds)
	}
	_ = a.Cancel(context.Background(), r.ID)

	// A claim the protection finalizer keeps (no controller-manager here)
	// cannot be deleted in this stack: clone one that was never made.
	p.Settings.Volumes[0].Name = "gone"
	if wf, err = pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: "p-gone"}); err != nil {
		t.Fatal(err)
	}
	if err := a.checkClones(context.Background(), wf); err == nil || !strings.Contains(err.Error(), "no claim gone in namespace") {
		t.Errorf("checkClones without the source: %v", err)
	}
}

// A step named after a long heading runs: the API server takes its pod's
// labels, and the pod still says which step it is.
func TestLongStepNameOnTheCluster(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	p := compile(t, "# %% [markdown]\n# ## 4.4 GridSearchCV evaluating using multiple scorers, RepeatedStratifiedKFold and pipeline for preprocessing simultaneously\n# %%\nx = 1\nprint(x)\n")
	step := p.Steps[0].Name
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r = waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() || ctx.Err() != nil })
	if r.Phase != cluster.Succeeded {
		t.Fatalf("run %s: %s %q", r.ID, r.Phase, r.Message)
	}
	pod := runPods(t, a, r.ID, step)[step]
	if v := pod.Labels[pipelinegen.LabelStep]; len(validation.IsValidLabelValue(v)) > 0 || v == step {
		t.Errorf("step label %q", v)
	}
}

// A step whose name no label value can hold is known by its full name
// everywhere the backend names steps: in the run's steps, when a later run
// resumes it, and in its logs, followed or read afterwards. Its parameter
// holds "$" and "{{", which the run's arguments hold escaped: resuming
// with the same value reuses the step all the same.
func TestLongStepNameListedResumedAndLogged(t *testing.T) {
	stack := kubestack.Shared(t)
	a, _ := newBackend(t, stack, stack.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lines := stack.PodLog()
	const long = "evaluate_gridsearchcv_with_multiple_scorers_and_a_repeated_stratified_kfold"
	p := compile(t, `# %% tags=["pipeline-parameters"]
pattern = "$(HOME)/{{workflow.name}}/$5"
lr = 0.1
# %% tags=["block:`+long+`"]
x = len(pattern)
# %% tags=["block:train"]
y = x * lr
`)
	if len(long) <= validation.LabelValueMaxLength || p.Steps[0].Name != long {
		t.Fatalf("steps %v: the test needs a first step named %q, longer than a label value", p.Steps, long)
	}
	r1, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var followed bytes.Buffer
	if err := a.Logs(ctx, r1.ID, cluster.LogOptions{Follow: true}, &followed); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if !strings.Contains(followed.String(), long+" | "+l+"\n") {
			t.Errorf("Logs(follow) lacks %q:\n%s", long+" | "+l, followed.String())
		}
	}
	r1 = waitRun(t, a, r1.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if r1.Phase != cluster.Succeeded {
		t.Fatalf("run %s: %s %q", r1.ID, r1.Phase, r1.Message)
	}

	runs, err := a.List(ctx, cluster.ListOptions{NotebookID: p.NotebookID})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Step(long) == nil || runs[0].Step(long).Phase != cluster.Succeeded {
		t.Fatalf("listed runs: %+v", runs)
	}
	var one bytes.Buffer
	if err := a.Logs(ctx, r1.ID, cluster.LogOptions{Step: long}, &one); err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(lines, "\n") + "\n"; one.String() != want {
		t.Errorf("Logs(%s) = %q, want its pod's log %q", long, one.String(), want)
	}

	// lr changes: train runs again, the long step is reused.
	r2, err := a.Submit(ctx, p, cluster.SubmitOptions{ResumeFrom: r1.ID, Parameters: map[string]string{"lr": "0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	r2 = waitRun(t, a, r2.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	if r2.Phase != cluster.Succeeded {
		t.Fatalf("resumed run %s: %s %q", r2.ID, r2.Phase, r2.Message)
	}
	if s := r2.Step(long); s == nil || !s.Cached || s.Phase != cluster.Succeeded {
		t.Errorf("resumed run's step %s: %+v, want it reused", long, s)
	}
	if s := r2.Step("train"); s == nil || s.Cached {
		t.Errorf("resumed run's step train: %+v, want it run again", s)
	}
	var reused bytes.Buffer
	if err := a.Logs(ctx, r2.ID, cluster.LogOptions{Step: long}, &reused); err != nil {
		t.Fatalf("Logs of the reused step %s: %v", long, err)
	}
	if reused.Len() == 0 {
		t.Errorf("Logs of the reused step %s: nothing", long)
	}
}
