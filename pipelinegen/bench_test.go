package pipelinegen

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/notebook"
)

// BenchmarkCompile is what `datainsight compile` does in process: analyse,
// generate the step scripts and the Workflow, and marshal it to YAML.
func BenchmarkCompile(b *testing.B) {
	for _, name := range []string{"synth_s100_c500.ipynb", "synth_s200_c1000.ipynb"} {
		nb, err := notebook.ReadFile(filepath.Join("..", "..", "shared", "bench", name))
		if err != nil {
			b.Fatalf("bench notebook (../shared/bench beside the repository): %v", err)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
				p, err := Compile(nb, an, Options{NotebookPath: name})
				if err != nil {
					b.Fatal(err)
				}
				wf, err := Workflow(p, WorkflowOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := YAML(wf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
