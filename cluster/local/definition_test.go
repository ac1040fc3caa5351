package local

import (
	"context"
	"errors"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/clustertest"
	"github.com/datainsight/datainsight/pipelinegen"
)

func TestDefinition(t *testing.T) {
	l := newLocal(t)
	p := clustertest.Compile(t, "# %% tags=[\"block:make\"]\nx = 1\n# %% tags=[\"block:use\"]\nprint(x)\n", "/tmp/nb.ipynb")
	r := runToEnd(t, l, p, cluster.SubmitOptions{})
	d, err := l.Definition(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got pipelinegen.Pipeline
	if err := yaml.UnmarshalStrict(d.YAML, &got); err != nil {
		t.Fatalf("the definition is not the pipeline as YAML: %v\n%s", err, d.YAML)
	}
	if d.Kind != "Pipeline" || len(got.Steps) != 2 || got.Steps[0].Name != "make" || got.Steps[1].Name != "use" || got.Steps[1].Script == "" {
		t.Errorf("definition %s with steps %+v, want the pipeline's make and use with their scripts", d.Kind, got.Steps)
	}
	if _, err := l.Definition(context.Background(), "nope-12345"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Definition of an unknown run: %v, want ErrNotFound", err)
	}
}
