package argo

import (
	"testing"

	"github.com/datainsight/datainsight/pipelinegen"
)

// The key prefix a run's files are under is read from its own output
// artifacts; a run with a volume has none.
func TestRunKeyPrefix(t *testing.T) {
	artifacts := "# metadata: {\"datainsight\": {\"marshal\": {\"mode\": \"artifacts\"}}}\n# %% tags=[\"block:a\"]\nx = 1\n# %% tags=[\"block:b\"]\nprint(x)\n"
	volume := "# %% tags=[\"block:a\"]\nx = 1\n"
	for _, c := range []struct {
		src    string
		opts   pipelinegen.WorkflowOptions
		prefix string
		ok     bool
	}{
		{artifacts, pipelinegen.WorkflowOptions{ArtifactKeyPrefix: "team/runs"}, "team/runs", true},
		{artifacts, pipelinegen.WorkflowOptions{}, pipelinegen.DefaultArtifactKeyPrefix, true},
		{volume, pipelinegen.WorkflowOptions{}, "", false},
		// Reports as artifacts of a run with a volume go wherever the
		// repository puts them: the run's files are on its volume.
		{volume, pipelinegen.WorkflowOptions{ArtifactRepository: true}, "", false},
	} {
		wf, err := pipelinegen.Workflow(compile(t, c.src), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		prefix, ok := runKeyPrefix(wf)
		if prefix != c.prefix || ok != c.ok {
			t.Errorf("%+v: runKeyPrefix = %q, %v; want %q, %v", c.opts, prefix, ok, c.prefix, c.ok)
		}
	}
}
