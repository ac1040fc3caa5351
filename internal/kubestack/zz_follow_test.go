package kubestack_test

import (
	"context"
	"io"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	wfclientset "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/internal/kubestack"
)

func TestExperimentFollowCompleted(t *testing.T) {
	s := kubestack.Start(t)
	wf := wfclientset.NewForConfigOrDie(s.RESTConfig())
	ns := s.Namespace(t)
	ctx := context.Background()
	wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, dagWorkflow("ok", step{name: "a"}), metav1.CreateOptions{})
	waitWorkflow(t, wf, ns, "ok", time.Minute, "done", phaseIs(wfv1.WorkflowSucceeded))
	pod := waitPod(t, s.Kube(), ns, "ok", "done", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	lctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	start := time.Now()
	rc, err := s.Kube().CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main", Follow: true}).Stream(lctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	t.Logf("follow on a completed pod: %q, %v after %v", b, err, time.Since(start))
}
