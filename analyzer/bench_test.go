package analyzer

import (
	"context"
	"testing"

	"github.com/datainsight/datainsight/internal/synth"
	"github.com/datainsight/datainsight/notebook"
)

func benchNotebook(b *testing.B, name string) *notebook.Notebook {
	b.Helper()
	o, err := synth.ByName(name)
	if err != nil {
		b.Fatal(err)
	}
	nb, err := notebook.Parse(synth.Notebook(o))
	if err != nil {
		b.Fatal(err)
	}
	return nb
}

// BenchmarkAnalyze is a full cold analysis: tags, parsing every cell,
// extraction and the step graph.
func BenchmarkAnalyze(b *testing.B) {
	for _, name := range []string{"synth_s100_c500.ipynb", "synth_s200_c1000.ipynb"} {
		nb := benchNotebook(b, name)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				an := Analyze(context.Background(), nb, Options{})
				if len(an.Steps) == 0 {
					b.Fatal("no steps")
				}
			}
		})
	}
}

// BenchmarkIncremental re-analyses after one cell changed: only that cell
// is reparsed; the graph is rebuilt.
func BenchmarkIncremental(b *testing.B) {
	nb := benchNotebook(b, "synth_s100_c500.ipynb")
	a := New()
	a.Analyze(context.Background(), nb, Options{})
	target := -1
	for i, c := range nb.Cells {
		if c.Type == notebook.Code && len(c.Tags) > 0 && c.Tags[0] != "imports" {
			target = i
		}
	}
	orig := nb.Cells[target].Source
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate between two sources so every iteration is an edit.
		if i%2 == 0 {
			nb.Cells[target].Source = orig + "\n_edit = 1"
		} else {
			nb.Cells[target].Source = orig
		}
		a.Analyze(context.Background(), nb, Options{})
	}
}
