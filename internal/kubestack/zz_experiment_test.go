package kubestack_test

import (
	"context"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	wfclientset "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/internal/kubestack"
)

func TestExperimentOutputsWithoutTaskResults(t *testing.T) {
	s := kubestack.Start(t)
	wf := wfclientset.NewForConfigOrDie(s.RESTConfig())
	ns := s.Namespace(t)
	ctx := context.Background()
	out := &wfv1.Outputs{Parameters: []wfv1.Parameter{{Name: "answer", ValueFrom: &wfv1.ValueFrom{Path: "/tmp/answer", Default: wfv1.AnyStringPtr("42")}}}}
	w := dagWorkflow("outputs", step{name: "a", outputs: out}, step{name: "b", deps: []string{"a"}, args: []wfv1.Parameter{{Name: "x", Value: wfv1.AnyStringPtr("{{tasks.a.outputs.parameters.answer}}")}}})
	wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{})
	w2 := dagWorkflow("result", step{name: "a"}, step{name: "b", deps: []string{"a"}, args: []wfv1.Parameter{{Name: "x", Value: wfv1.AnyStringPtr("{{tasks.a.outputs.result}}")}}})
	wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w2, metav1.CreateOptions{})
	time.Sleep(25 * time.Second)
	for _, n := range []string{"outputs", "result"} {
		got, _ := wf.ArgoprojV1alpha1().Workflows(ns).Get(ctx, n, metav1.GetOptions{})
		t.Logf("%s without task results after 25s: %s %q nodes %v", n, got.Status.Phase, got.Status.Message, nodePhases(got))
	}
}
