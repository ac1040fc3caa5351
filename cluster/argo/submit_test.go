package argo

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	wffake "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// These tests need no stack: the API is Kubernetes' and Argo's fake
// clientsets, which store what they are given.

// A run's name comes from free text: it must be a workflow's name, and the
// name Argo would give a run of the compiled file.
func TestRunIDIsTheCompiledFilesGenerateName(t *testing.T) {
	p := compile(t, "# %% tags=[\"block:a\"]\nx = 1\n")
	dns := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	for _, name := range []string{
		"Nightly Churn", "nightly-churn", "  --Weird__Name!!  ", "Q3 report: revenue (EUR) / region",
		strings.Repeat("Very Long Pipeline Name ", 5), "日本語",
	} {
		id := runID(name)
		if !dns.MatchString(id) || len(validation.IsValidLabelValue(id)) > 0 {
			t.Errorf("runID(%q) = %q: not a workflow name the run's labels can hold", name, id)
		}
		p.Name = name
		wf, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if prefix := id[:len(id)-len("xxxxx")]; prefix != wf.GenerateName {
			t.Errorf("runID(%q) = %q; the compiled file's generateName is %q", name, id, wf.GenerateName)
		}
	}
	if id := runID("Nightly Churn"); !strings.HasPrefix(id, "nightly-churn-") {
		t.Errorf("runID(Nightly Churn) = %q", id)
	}
}

func TestSameParameterValue(t *testing.T) {
	escaped := func(v string) string {
		t.Helper()
		e, err := pipelinegen.ArgoParameterValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		old, cur string
		same     bool
	}{
		{"0.1", "0.1", true},
		{escaped(`"$(HOME) {{workflow.name}}"`), `"$(HOME) {{workflow.name}}"`, true},
		{escaped(`['$x', {'k': '{{'}]`), `["$x", {"k": "{{"}]`, true},
		{`'a'`, `"a"`, true},
		{"float('nan')", "float('nan')", true},
		{escaped(`'$HOME'`), `'$HOME '`, false},
		{"1", "1.0", false},
		{"[1]", "(1,)", false},
		{"True", "1", false},
		{"", "1", false},
		{"not a literal", "1", false},
	} {
		if got := sameParameterValue(c.old, c.cur); got != c.same {
			t.Errorf("sameParameterValue(%s, %s) = %v, want %v", c.old, c.cur, got, c.same)
		}
	}
}

// A run's arguments hold "$" and "{{" escaped; the values a new run is
// given do not: a step reading such a parameter is still reused when the
// value is the same.
func TestPlanFromComparesParameterValuesAsParsed(t *testing.T) {
	p := compile(t, `# %% tags=["pipeline-parameters"]
greeting = "$(HOME) {{workflow.name}} costs $5"
# %% tags=["block:render"]
page = greeting.upper()
`)
	if len(p.Steps) != 1 || len(p.Steps[0].Params) != 1 {
		t.Fatalf("steps %+v: the test needs one step reading greeting", p.Steps)
	}
	old, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: "nb-bbbbb"})
	if err != nil {
		t.Fatal(err)
	}
	if arg := old.Spec.Arguments.Parameters[0].Value.String(); strings.ContainsAny(arg, "$") {
		t.Fatalf("the earlier run's argument %s is not escaped: the test compares nothing", arg)
	}
	finished(old)
	wf, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: "nb-ccccc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		overrides map[string]string
		reused    bool
	}{
		{nil, true},
		{map[string]string{"greeting": `'$(HOME) {{workflow.name}} costs $5'`}, true},
		{map[string]string{"greeting": `'$(HOME) {{workflow.name}} costs $6'`}, false},
	} {
		params, err := pipelinegen.ParameterValues(p, c.overrides)
		if err != nil {
			t.Fatal(err)
		}
		for _, resume := range []bool{true, false} {
			if got := planFrom(p, old, params, wf, resume).reused["render"]; got != c.reused {
				t.Errorf("overrides %v, resume=%v: render reused = %v, want %v", c.overrides, resume, got, c.reused)
			}
		}
	}
}

// finished makes wf look like a run whose steps all succeeded, with what
// Submit records.
func finished(wf *wfv1.Workflow) {
	var pairs [][2]string
	wf.Status.Nodes = wfv1.Nodes{}
	for _, t := range wf.Spec.Templates {
		if s := pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations); s != "" {
			pairs = append(pairs, [2]string{s, t.Name})
			wf.Status.Nodes[wf.Name+"-"+t.Name] = wfv1.NodeStatus{ID: wf.Name + "-" + t.Name, DisplayName: t.Name, Type: wfv1.NodeTypePod, Phase: wfv1.NodeSucceeded}
		}
	}
	js, _ := json.Marshal(pairs)
	hashes, _ := json.Marshal(stepHashes(wf))
	wf.Annotations[annotationSteps] = string(js)
	wf.Annotations[annotationStepHashes] = string(hashes)
	wf.Status.Phase = wfv1.WorkflowSucceeded
}

func fakeBackend(objects ...*corev1.PersistentVolumeClaim) *Argo {
	kube := fake.NewClientset()
	for _, o := range objects {
		kube.Tracker().Add(o)
	}
	return &Argo{namespace: "ns", kube: kube, wf: wffake.NewSimpleClientset()}
}

func runsMade(t *testing.T, a *Argo) int {
	t.Helper()
	list, err := a.workflows().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

// Submit writes the arguments as Argo must get them, shows them as given,
// and refuses a run whose clone would wait for ever before making it; so
// does Resubmit once the cloned claim has gone.
func TestSubmitEscapesArgumentsAndChecksClones(t *testing.T) {
	ctx := context.Background()
	p := compile(t, `# %% tags=["pipeline-parameters"]
greeting = "hello"
# %% tags=["block:render"]
print(greeting)
`)
	p.Settings.Volumes = []notebook.Volume{{Name: "workspace", MountPath: "/home/jovyan", Type: notebook.VolumeClone, Size: "5Gi"}}
	a := fakeBackend()
	_, err := a.Submit(ctx, p, cluster.SubmitOptions{})
	if err == nil || !strings.Contains(err.Error(), "there is no claim workspace in namespace ns to clone") {
		t.Errorf("Submit cloning a claim that does not exist: %v", err)
	}
	if n := runsMade(t, a); n != 0 {
		t.Errorf("%d workflows made by a refused Submit", n)
	}

	src := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "workspace", Namespace: "ns"}}
	src.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}
	a = fakeBackend(src)
	const given = `'$HOME {{workflow.name}}'`
	r, err := a.Submit(ctx, p, cluster.SubmitOptions{Parameters: map[string]string{"greeting": given}})
	if err != nil {
		t.Fatal(err)
	}
	wf, err := a.workflows().Get(ctx, r.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pipelinegen.ArgoParameterValue(given)
	if got := wf.Spec.Arguments.Parameters[0].Value.String(); got != want || strings.ContainsAny(got, "$") || strings.Contains(got, "{{") {
		t.Errorf("argument greeting = %s, want %s", got, want)
	}
	// The same value, as Python writes it (not as Argo must get it).
	if got := r.Parameters["greeting"]; got != notebook.PyQuote("$HOME {{workflow.name}}") {
		t.Errorf("the run shows greeting = %s, want the value given, %s", got, given)
	}

	// The run ends; then the claim it cloned goes.
	wf.Status.Phase = wfv1.WorkflowSucceeded
	if _, err := a.workflows().Update(ctx, wf, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.kube.CoreV1().PersistentVolumeClaims("ns").Delete(ctx, "workspace", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Resubmit(ctx, r.ID)
	if err == nil || !strings.Contains(err.Error(), "resubmit "+r.ID) || !strings.Contains(err.Error(), "no claim workspace") {
		t.Errorf("Resubmit cloning a claim that has gone: %v", err)
	}
	if n := runsMade(t, a); n != 1 {
		t.Errorf("%d workflows after a refused Resubmit, want the first run only", n)
	}
}
