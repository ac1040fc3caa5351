package pipelinegen

import (
	"context"
	"testing"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/internal/synth"
	"github.com/datainsight/datainsight/notebook"
)

// BenchmarkCompile is what `datainsight compile` does in process: analyse,
// generate the step scripts and the Workflow, and marshal it to YAML.
func BenchmarkCompile(b *testing.B) {
	for _, name := range []string{"synth_s100_c500.ipynb", "synth_s200_c1000.ipynb"} {
		o, err := synth.ByName(name)
		if err != nil {
			b.Fatal(err)
		}
		nb, err := notebook.Parse(synth.Notebook(o))
		if err != nil {
			b.Fatal(err)
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
