package argo

import (
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/cluster"
)

// A run whose record of its steps cannot be read says so, instead of
// showing as a run without steps.
func TestDamagedRecord(t *testing.T) {
	wf := func(steps, reused string) *wfv1.Workflow {
		w := &wfv1.Workflow{ObjectMeta: metav1.ObjectMeta{Name: "r1", Annotations: map[string]string{}}}
		if steps != "" {
			w.Annotations[annotationSteps] = steps
		}
		if reused != "" {
			w.Annotations[annotationReused] = reused
		}
		w.Status.Phase = wfv1.WorkflowSucceeded
		return w
	}
	good := toRun(wf(`[["load","load"],["train","train"]]`, `["load"]`))
	if good.Message != "" || len(good.Steps) != 2 || !good.Steps[0].Cached {
		t.Errorf("a sound record: %+v", good)
	}
	for _, tc := range []struct{ steps, reused, want string }{
		{`[["load","load"]`, "", annotationSteps},
		{`[["load","load"]]`, `{"load": true}`, annotationReused},
	} {
		r := toRun(wf(tc.steps, tc.reused))
		if !strings.Contains(r.Message, "damaged") || !strings.Contains(r.Message, tc.want) {
			t.Errorf("steps %s, reused %s: message %q, want one naming %s as damaged", tc.steps, tc.reused, r.Message, tc.want)
		}
		if r.Phase != cluster.Succeeded {
			t.Errorf("a damaged record changed the run's phase: %s", r.Phase)
		}
	}
}
