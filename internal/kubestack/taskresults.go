package kubestack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	wfclientset "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Argo's names (github.com/argoproj/argo-workflows/v3/workflow/common), kept
// here so this package does not import Argo's controller code.
const (
	argoLabelWorkflow         = "workflows.argoproj.io/workflow"
	argoLabelOutputsCompleted = "workflows.argoproj.io/report-outputs-completed"
	argoAnnotationNodeID      = "workflows.argoproj.io/node-id"
	argoEnvTemplate           = "ARGO_TEMPLATE"
)

// OutputsFunc says what a step's outputs are, given its succeeded pod and
// template; nil means DefaultOutputs.
type OutputsFunc func(pod *corev1.Pod, tmpl *wfv1.Template) *wfv1.Outputs

// DefaultOutputs gives each declared output parameter its value or
// valueFrom.default (else ""), a script's result the pod log, and exit code 0.
func (s *Stack) DefaultOutputs(_ *corev1.Pod, tmpl *wfv1.Template) *wfv1.Outputs {
	out := &wfv1.Outputs{ExitCode: ptrString("0")}
	if tmpl == nil {
		return out
	}
	for _, p := range tmpl.Outputs.Parameters {
		v := ""
		switch {
		case p.Value != nil:
			v = p.Value.String()
		case p.ValueFrom != nil && p.ValueFrom.Default != nil:
			v = p.ValueFrom.Default.String()
		}
		p.ValueFrom = nil
		p.Value = wfv1.AnyStringPtr(v)
		out.Parameters = append(out.Parameters, p)
	}
	if tmpl.Script != nil {
		out.Result = ptrString(strings.Join(s.PodLog(), "\n"))
	}
	return out
}

func ptrString(s string) *string { return &s }

// CompleteTaskResults stands in for Argo's executor, which does not run here:
// until ctx ends, for every pod of a workflow in ns that succeeds it creates
// the WorkflowTaskResult the executor would (named after the node, labelled
// with the workflow and report-outputs-completed "true", owned by the
// workflow), with outputs from outputs (nil: DefaultOutputs).
//
// Argo v3.7.3 only waits for these when a template declares outputs
// (parameters, artifacts, result or exitCode): other steps complete without
// one. A step whose outputs are referenced downstream needs it.
func (s *Stack) CompleteTaskResults(ctx context.Context, ns string, outputs OutputsFunc) error {
	if outputs == nil {
		outputs = s.DefaultOutputs
	}
	wf, err := wfclientset.NewForConfig(s.restCfg)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(s.kube, 10*time.Minute,
		informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = argoLabelWorkflow }))
	pods := factory.Core().V1().Pods().Informer()
	var (
		mu   sync.Mutex
		done = map[types.UID]bool{}
	)
	handle := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Status.Phase != corev1.PodSucceeded {
			return
		}
		mu.Lock()
		seen := done[pod.UID]
		done[pod.UID] = true
		mu.Unlock()
		if seen {
			return
		}
		if err := createTaskResult(ctx, wf, pod, outputs); err != nil {
			s.logf("kubestack: task result for pod %s/%s: %v", pod.Namespace, pod.Name, err)
			mu.Lock()
			delete(done, pod.UID) // try again on the next update or resync
			mu.Unlock()
		}
	}
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
	return nil
}

// RunTaskResults runs CompleteTaskResults(ns, nil) until t ends.
func (s *Stack) RunTaskResults(t testing.TB, ns string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.CompleteTaskResults(ctx, ns, nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func createTaskResult(ctx context.Context, wf wfclientset.Interface, pod *corev1.Pod, outputs OutputsFunc) error {
	nodeID := pod.Annotations[argoAnnotationNodeID]
	workflow := pod.Labels[argoLabelWorkflow]
	if nodeID == "" || workflow == "" {
		return nil // not a workflow step's pod
	}
	tmpl, err := podTemplate(pod)
	if err != nil {
		return err
	}
	var owners []metav1.OwnerReference
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Workflow" {
			owners = append(owners, metav1.OwnerReference{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID})
		}
	}
	tr := &wfv1.WorkflowTaskResult{
		ObjectMeta: metav1.ObjectMeta{
			Name:            nodeID,
			Namespace:       pod.Namespace,
			Labels:          map[string]string{argoLabelWorkflow: workflow, argoLabelOutputsCompleted: "true"},
			OwnerReferences: owners,
		},
		NodeResult: wfv1.NodeResult{
			Outputs:  outputs(pod, tmpl),
			Progress: wfv1.Progress("1/1"),
		},
	}
	_, err = wf.ArgoprojV1alpha1().WorkflowTaskResults(pod.Namespace).Create(ctx, tr, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// podTemplate reads the step's template from the ARGO_TEMPLATE variable the
// controller gives the executor's containers; nil when it is not there (Argo
// offloads very large templates).
func podTemplate(pod *corev1.Pod) (*wfv1.Template, error) {
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			for _, e := range c.Env {
				if e.Name == argoEnvTemplate && e.Value != "" {
					var t wfv1.Template
					if err := json.Unmarshal([]byte(e.Value), &t); err != nil {
						return nil, fmt.Errorf("pod %s: %s: %w", pod.Name, argoEnvTemplate, err)
					}
					return &t, nil
				}
			}
		}
	}
	return nil, nil
}
