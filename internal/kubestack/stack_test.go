package kubestack_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	wfclientset "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/datainsight/datainsight/internal/kubestack"
)

// step is one task of a test DAG.
type step struct {
	name    string
	deps    []string
	labels  map[string]string
	outputs *wfv1.Outputs
	args    []wfv1.Parameter
}

// dagWorkflow builds a workflow with one DAG template whose tasks are script
// templates, the shape pipelines compile to.
func dagWorkflow(name string, steps ...step) *wfv1.Workflow {
	dag := wfv1.Template{Name: "main", DAG: &wfv1.DAGTemplate{}}
	tmpls := []wfv1.Template{dag}
	for _, s := range steps {
		task := wfv1.DAGTask{Name: s.name, Template: s.name, Dependencies: s.deps}
		tmpl := wfv1.Template{
			Name:     s.name,
			Metadata: wfv1.Metadata{Labels: s.labels},
			Script: &wfv1.ScriptTemplate{
				Container: corev1.Container{Image: "python:3.11-slim", Command: []string{"python3"}},
				Source:    "print('step " + s.name + "')\n",
			},
		}
		if s.outputs != nil {
			tmpl.Outputs = *s.outputs
		}
		if len(s.args) > 0 {
			task.Arguments.Parameters = s.args
			for _, a := range s.args {
				tmpl.Inputs.Parameters = append(tmpl.Inputs.Parameters, wfv1.Parameter{Name: a.Name})
			}
		}
		tmpls[0].DAG.Tasks = append(tmpls[0].DAG.Tasks, task)
		tmpls = append(tmpls, tmpl)
	}
	return &wfv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       wfv1.WorkflowSpec{Entrypoint: "main", Templates: tmpls},
	}
}

// waitWorkflow watches workflow name until cond holds.
func waitWorkflow(t *testing.T, wf wfclientset.Interface, ns, name string, timeout time.Duration, what string, cond func(*wfv1.Workflow) bool) *wfv1.Workflow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return wf.ArgoprojV1alpha1().Workflows(ns).List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return wf.ArgoprojV1alpha1().Workflows(ns).Watch(ctx, o)
		},
	}
	var last *wfv1.Workflow
	ev, err := watchtools.UntilWithSync(ctx, lw, &wfv1.Workflow{}, nil, func(e watch.Event) (bool, error) {
		w, ok := e.Object.(*wfv1.Workflow)
		if !ok {
			return false, nil
		}
		last = w
		return cond(w), nil
	})
	if err != nil {
		if last != nil {
			t.Fatalf("workflow %s: waiting for %s: %v; last phase %q, message %q, nodes %v", name, what, err, last.Status.Phase, last.Status.Message, nodePhases(last))
		}
		t.Fatalf("workflow %s: waiting for %s: %v", name, what, err)
	}
	return ev.Object.(*wfv1.Workflow)
}

func phaseIs(phases ...wfv1.WorkflowPhase) func(*wfv1.Workflow) bool {
	return func(w *wfv1.Workflow) bool { return slices.Contains(phases, w.Status.Phase) }
}

func nodePhases(w *wfv1.Workflow) map[string]string {
	m := map[string]string{}
	for _, n := range w.Status.Nodes {
		m[n.DisplayName] = string(n.Phase) + ": " + n.Message
	}
	return m
}

func node(w *wfv1.Workflow, display string) *wfv1.NodeStatus {
	for _, n := range w.Status.Nodes {
		if n.DisplayName == display {
			return &n
		}
	}
	return nil
}

// waitPod watches the pods of a workflow until one satisfies cond.
func waitPod(t *testing.T, kube kubernetes.Interface, ns, workflow, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sel := "workflows.argoproj.io/workflow=" + workflow
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return kube.CoreV1().Pods(ns).List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel
			return kube.CoreV1().Pods(ns).Watch(ctx, o)
		},
	}
	ev, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(e watch.Event) (bool, error) {
		p, ok := e.Object.(*corev1.Pod)
		return ok && cond(p), nil
	})
	if err != nil {
		t.Fatalf("pods of %s: waiting for %s: %v", workflow, what, err)
	}
	return ev.Object.(*corev1.Pod)
}

func TestMain(m *testing.M) { kubestack.Main(m) }

// TestShared checks the one-stack-per-binary helper; it runs beside
// TestStack, so two stacks share the network namespace.
func TestShared(t *testing.T) {
	t.Parallel()
	s := kubestack.Shared(t)
	if again := kubestack.Shared(t); again != s {
		t.Fatal("Shared started a second stack")
	}
	ns := s.Namespace(t)
	if _, err := s.Kube().CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("namespace %s: default service account: %v", ns, err)
	}
}

func TestStack(t *testing.T) {
	t.Parallel()
	s := kubestack.Start(t)
	t.Logf("stack started in %v", s.StartupTime.Round(time.Millisecond))
	var total int64
	for name, rss := range s.ProcessRSS() {
		t.Logf("RSS %-20s %6.0f MiB", name, float64(rss)/(1<<20))
		total += rss
	}
	t.Logf("RSS %-20s %6.0f MiB", "total", float64(total)/(1<<20))

	wf, err := wfclientset.NewForConfig(s.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	kube := s.Kube()
	ns := s.Namespace(t)
	ctx := context.Background()

	t.Run("Succeeded", func(t *testing.T) {
		start := time.Now()
		w := dagWorkflow("ok", step{name: "a"}, step{name: "b", deps: []string{"a"}})
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitWorkflow(t, wf, ns, "ok", 2*time.Minute, "Succeeded", phaseIs(wfv1.WorkflowSucceeded, wfv1.WorkflowFailed, wfv1.WorkflowError))
		if got.Status.Phase != wfv1.WorkflowSucceeded {
			t.Fatalf("phase %s (%s), nodes %v", got.Status.Phase, got.Status.Message, nodePhases(got))
		}
		for _, n := range []string{"a", "b"} {
			if nd := node(got, n); nd == nil || nd.Phase != wfv1.NodeSucceeded {
				t.Errorf("node %s: %+v", n, nd)
			}
		}
		t.Logf("two-step DAG Succeeded %v after create", time.Since(start).Round(time.Millisecond))

		// Logs through the API server, served by kwok.
		pod := waitPod(t, kube, ns, "ok", "a succeeded pod", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
		b, err := kube.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main"}).DoRaw(ctx)
		if err != nil {
			t.Fatalf("logs of %s: %v", pod.Name, err)
		}
		if want := strings.Join(s.PodLog(), "\n") + "\n"; string(b) != want {
			t.Errorf("logs of %s = %q, want %q", pod.Name, b, want)
		}
		// Following a completed container's log ends, as with a kubelet.
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		rc, err := kube.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main", Follow: true}).Stream(fctx)
		if err != nil {
			t.Fatalf("follow logs of %s: %v", pod.Name, err)
		}
		defer rc.Close()
		if b, err := io.ReadAll(rc); err != nil || string(b) != strings.Join(s.PodLog(), "\n")+"\n" {
			t.Errorf("following logs of completed %s = %q, %v; want the log, then the end", pod.Name, b, err)
		}
	})

	t.Run("FailedDownstreamOmitted", func(t *testing.T) {
		w := dagWorkflow("fail",
			step{name: "a", labels: map[string]string{kubestack.LabelFail: "true"}},
			step{name: "b", deps: []string{"a"}})
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitWorkflow(t, wf, ns, "fail", 2*time.Minute, "Failed", phaseIs(wfv1.WorkflowSucceeded, wfv1.WorkflowFailed, wfv1.WorkflowError))
		if got.Status.Phase != wfv1.WorkflowFailed {
			t.Fatalf("phase %s, want Failed; nodes %v", got.Status.Phase, nodePhases(got))
		}
		a, b := node(got, "a"), node(got, "b")
		if a == nil || a.Phase != wfv1.NodeFailed || !strings.Contains(a.Message, kubestack.DefaultFailMessage) {
			t.Errorf("node a = %+v, want Failed with %q", a, kubestack.DefaultFailMessage)
		}
		if b == nil || b.Phase != wfv1.NodeOmitted {
			t.Errorf("node b = %+v, want Omitted", b)
		}
		t.Logf("failed step: %q; downstream: %s", a.Message, b.Phase)
	})

	t.Run("HeldRunningThenTerminated", func(t *testing.T) {
		w := dagWorkflow("held", step{name: "a", labels: map[string]string{kubestack.LabelHold: "true"}})
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitWorkflow(t, wf, ns, "held", time.Minute, "step a Running", func(w *wfv1.Workflow) bool {
			n := node(w, "a")
			return n != nil && n.Phase == wfv1.NodeRunning
		})
		pod := waitPod(t, kube, ns, "held", "a running pod", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })

		// Following a running container's log: the lines so far, then a
		// line appended while the stream is open.
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		rc, err := kube.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main", Follow: true}).Stream(lctx)
		if err != nil {
			t.Fatalf("follow logs: %v", err)
		}
		defer rc.Close()
		want := strings.Join(s.PodLog(), "\n") + "\n"
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(rc, buf); err != nil || string(buf) != want {
			t.Fatalf("followed logs = %q, %v; want %q", buf, err, want)
		}
		if err := s.AppendPodLog("appended while following"); err != nil {
			t.Fatal(err)
		}
		more := make([]byte, len("appended while following\n"))
		if _, err := io.ReadFull(rc, more); err != nil || string(more) != "appended while following\n" {
			t.Fatalf("followed logs then %q, %v", more, err)
		}
		// Still running after all that; now terminate it as `argo terminate` does.
		cur, err := wf.ArgoprojV1alpha1().Workflows(ns).Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cur.Status.Phase != wfv1.WorkflowRunning {
			t.Fatalf("held workflow is %s, want Running", cur.Status.Phase)
		}
		patch := []byte(`{"spec":{"shutdown":"Terminate"}}`)
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Patch(ctx, "held", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitWorkflow(t, wf, ns, "held", time.Minute, "Failed after terminate", phaseIs(wfv1.WorkflowFailed, wfv1.WorkflowError, wfv1.WorkflowSucceeded))
		t.Logf("terminated: %s %q; node a: %s %q", got.Status.Phase, got.Status.Message, node(got, "a").Phase, node(got, "a").Message)
		if got.Status.Phase != wfv1.WorkflowFailed {
			t.Errorf("phase %s, want Failed", got.Status.Phase)
		}
		// The controller's kill reached the pod: its containers exit 143
		// (SIGTERM), the pod fails, and the followed log ends.
		killed := waitPod(t, kube, ns, "held", "the pod Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
		for _, cs := range killed.Status.ContainerStatuses {
			if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 143 {
				t.Errorf("container %s: %+v, want terminated with exit code 143", cs.Name, cs.State)
			}
		}
		// The stream must end (ReadAll returns); kwok may close it with a
		// note of its own ("context cancelled") but no more log lines.
		if rest, err := io.ReadAll(rc); err != nil || strings.Contains(string(rest), "appended") || strings.Contains(string(rest), s.PodLog()[0]) {
			t.Errorf("followed log after the kill: %q, %v; want its end", rest, err)
		}
	})

	t.Run("Unschedulable", func(t *testing.T) {
		w := dagWorkflow("gpu", step{name: "train", labels: map[string]string{kubestack.LabelUnschedulable: "true"}})
		w.Spec.Templates[1].Script.Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := waitPod(t, kube, ns, "gpu", "PodScheduled=False Unschedulable", func(p *corev1.Pod) bool {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					return true
				}
			}
			return false
		})
		if pod.Status.Phase != corev1.PodPending {
			t.Errorf("pod phase %s, want Pending", pod.Status.Phase)
		}
		got := waitWorkflow(t, wf, ns, "gpu", time.Minute, "node message from the pod condition", func(w *wfv1.Workflow) bool {
			n := node(w, "train")
			return n != nil && strings.Contains(n.Message, "Insufficient nvidia.com/gpu")
		})
		t.Logf("unschedulable step: %s %q", node(got, "train").Phase, node(got, "train").Message)
	})

	t.Run("OutputsNeedTaskResults", func(t *testing.T) {
		ns := s.Namespace(t)
		s.RunTaskResults(t, ns)
		out := &wfv1.Outputs{Parameters: []wfv1.Parameter{{
			Name:      "answer",
			ValueFrom: &wfv1.ValueFrom{Path: "/tmp/answer", Default: wfv1.AnyStringPtr("42")},
		}}}
		w := dagWorkflow("outputs",
			step{name: "a", outputs: out},
			step{name: "b", deps: []string{"a"}, args: []wfv1.Parameter{{Name: "x", Value: wfv1.AnyStringPtr("{{tasks.a.outputs.parameters.answer}}")}}})
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitWorkflow(t, wf, ns, "outputs", 2*time.Minute, "Succeeded", phaseIs(wfv1.WorkflowSucceeded, wfv1.WorkflowFailed, wfv1.WorkflowError))
		if got.Status.Phase != wfv1.WorkflowSucceeded {
			t.Fatalf("phase %s (%s), nodes %v", got.Status.Phase, got.Status.Message, nodePhases(got))
		}
		a := node(got, "a")
		if a.Outputs == nil || len(a.Outputs.Parameters) != 1 || a.Outputs.Parameters[0].Value.String() != "42" {
			t.Errorf("node a outputs = %+v, want answer=42", a.Outputs)
		}
	})

	t.Run("RBAC", func(t *testing.T) {
		other := s.Namespace(t)
		tok := s.ServiceAccountToken(t, ns, "runner")
		cfg, err := clientcmd.BuildConfigFromFlags("", s.WriteKubeconfig(t, tok, ns))
		if err != nil {
			t.Fatal(err)
		}
		c := wfclientset.NewForConfigOrDie(cfg)
		if _, err := c.ArgoprojV1alpha1().Workflows(ns).List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("list in own namespace: %v", err)
		}
		_, err = c.ArgoprojV1alpha1().Workflows(other).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("list in %s: %v, want Forbidden", other, err)
		}
	})

	t.Run("RestartAPIServer", func(t *testing.T) {
		s.RestartAPIServer(t)
		// The controller and kwok reconnect: a workflow still runs through.
		w := dagWorkflow("after-restart", step{name: "a"})
		if _, err := wf.ArgoprojV1alpha1().Workflows(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitWorkflow(t, wf, ns, "after-restart", 2*time.Minute, "Succeeded", phaseIs(wfv1.WorkflowSucceeded, wfv1.WorkflowFailed, wfv1.WorkflowError))
		if got.Status.Phase != wfv1.WorkflowSucceeded {
			t.Fatalf("phase %s (%s)", got.Status.Phase, got.Status.Message)
		}
	})

	t.Run("SchemaValidation", func(t *testing.T) {
		// The full CRDs validate: an unknown field in a template is rejected.
		body := []byte(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"bad"},
			"spec":{"entrypoint":"main","templates":[{"name":"main","script":{"image":"x","source":"1"},"bogus":1}]}}`)
		err := wf.ArgoprojV1alpha1().RESTClient().Post().Namespace(ns).Resource("workflows").
			Param("fieldValidation", "Strict").Body(body).Do(ctx).Error()
		if !apierrors.IsBadRequest(err) && !apierrors.IsInvalid(err) {
			t.Errorf("workflow with an unknown field: %v, want rejected", err)
		}
	})

}
