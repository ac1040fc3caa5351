package argo

import (
	"context"
	"fmt"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Definition returns a run's Workflow as the cluster has it: its metadata
// and spec as submitted (or as retry left them), without its status or the
// API server's bookkeeping, which change by the second and say nothing of
// what the run does.
func (a *Argo) Definition(ctx context.Context, id string) (*cluster.Definition, error) {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return nil, a.explain("run "+id, err)
	}
	if wf.Labels[pipelinegen.LabelNotebook] == "" {
		return nil, fmt.Errorf("run %s: %w (workflow %s was not made by datainsight)", id, cluster.ErrNotFound, id)
	}
	out := wfv1.Workflow{
		TypeMeta: metav1.TypeMeta{APIVersion: wfv1.SchemeGroupVersion.String(), Kind: "Workflow"},
		ObjectMeta: metav1.ObjectMeta{
			Name: wf.Name, Namespace: wf.Namespace, Labels: wf.Labels, Annotations: wf.Annotations,
			CreationTimestamp: wf.CreationTimestamp,
		},
		Spec: wf.Spec,
	}
	y, err := yaml.Marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("run %s: its workflow: %w", id, err)
	}
	return &cluster.Definition{Kind: "Workflow", YAML: y}, nil
}
