package argo

import (
	"context"
	"errors"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/kubestack"
)

// A run's definition is its Workflow as the API server keeps it, without
// the status and bookkeeping that change as it runs.
func TestDefinition(t *testing.T) {
	stack := kubestack.Shared(t)
	a, ns := newBackend(t, stack, stack.RESTConfig())
	p := compile(t, "# %% tags=[\"block:make\"]\nx = 1\n# %% tags=[\"block:use\"]\nprint(x)\n")
	r, err := a.Submit(context.Background(), p, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	d, err := a.Definition(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wf wfv1.Workflow
	if err := yaml.UnmarshalStrict(d.YAML, &wf); err != nil {
		t.Fatalf("the definition is not a Workflow: %v\n%s", err, d.YAML)
	}
	if d.Kind != "Workflow" || wf.Kind != "Workflow" || wf.Name != r.ID || wf.Namespace != ns {
		t.Errorf("definition %s of %s %s/%s, want the Workflow %s/%s", d.Kind, wf.Kind, wf.Namespace, wf.Name, ns, r.ID)
	}
	var templates []string
	for _, tpl := range wf.Spec.Templates {
		templates = append(templates, tpl.Name)
	}
	if got := strings.Join(templates, " "); !strings.Contains(got, "make") || !strings.Contains(got, "use") {
		t.Errorf("templates %s, want the steps make and use", got)
	}
	if wf.Status.Phase != "" || len(wf.Status.Nodes) != 0 || len(wf.ManagedFields) != 0 || wf.ResourceVersion != "" {
		t.Errorf("the definition carries status or bookkeeping: phase %q, %d nodes, %d managed fields, version %q",
			wf.Status.Phase, len(wf.Status.Nodes), len(wf.ManagedFields), wf.ResourceVersion)
	}
	if _, err := a.Definition(context.Background(), "nope-12345"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Definition of an unknown run: %v, want ErrNotFound", err)
	}
}
