package local

import (
	"context"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/cluster"
)

// Definition returns the pipeline a run carried out, as recorded in its
// folder when it was submitted.
func (l *Local) Definition(ctx context.Context, id string) (*cluster.Definition, error) {
	_, p, err := l.runPipeline(id)
	if err != nil {
		return nil, err
	}
	y, err := yaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("run %s: its pipeline: %w", id, err)
	}
	return &cluster.Definition{Kind: "Pipeline", YAML: y}, nil
}
