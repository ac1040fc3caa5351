package kubestack

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
)

// startBinder stands in for kube-scheduler, which this stack does not run:
// it binds every pod created without a node to the kwok node. Argo's step
// pods need none of it (the controller's podSpecPatch names the node);
// pods made by the code under test, such as volume readers, do. Pods
// labelled LabelUnschedulable are left Pending, as a scheduler would leave
// them, for the pod-unschedulable stage to describe.
func (s *Stack) startBinder() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.closers = append(s.closers, cancel)
	s.mu.Unlock()
	sel := fields.OneTermEqualSelector("spec.nodeName", "").String()
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		pods, err := s.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return
		}
		for _, p := range pods.Items {
			s.bind(ctx, &p)
		}
		w, err := s.kube.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: pods.ResourceVersion})
		if err != nil {
			return
		}
		defer w.Stop()
		for ev := range w.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok {
				s.bind(ctx, p)
			}
		}
	}, 200*time.Millisecond)
	return nil
}

func (s *Stack) bind(ctx context.Context, p *corev1.Pod) {
	if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || p.Labels[LabelUnschedulable] == "true" {
		return
	}
	_ = s.kube.CoreV1().Pods(p.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
	}, metav1.CreateOptions{})
}
