package analyzer

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/python"

	"github.com/datainsight/datainsight/internal/synth"
)

// benchNotebooks are synthetic notebooks (internal/synth).
var benchNotebooks = []string{"synth_s100_c500.ipynb", "synth_s200_c1000.ipynb"}

// benchCells returns the code cells of a synthetic notebook, read with
// encoding/json alone so the benchmark depends on nothing but the
// extractor.
func benchCells(tb testing.TB, name string) []string {
	tb.Helper()
	o, err := synth.ByName(name)
	if err != nil {
		tb.Fatal(err)
	}
	raw := synth.Notebook(o)
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(raw, &nb); err != nil {
		tb.Fatal(err)
	}
	var srcs []string
	for _, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var s string
		if json.Unmarshal(c.Source, &s) != nil {
			var lines []string
			if err := json.Unmarshal(c.Source, &lines); err != nil {
				tb.Fatal(err)
			}
			s = strings.Join(lines, "")
		}
		srcs = append(srcs, s)
	}
	return srcs
}

// BenchmarkParseFloor is tree-sitter parsing alone, through the Go binding
// (parse, close the tree), the floor the extraction is measured against.
func BenchmarkParseFloor(b *testing.B) {
	for _, name := range benchNotebooks {
		srcs := benchCells(b, name)
		b.Run(strings.TrimSuffix(name, ".ipynb")+"/seq", func(b *testing.B) {
			p := sitter.NewParser()
			defer p.Close()
			p.SetLanguage(python.GetLanguage())
			for b.Loop() {
				for _, s := range srcs {
					t, err := p.ParseCtx(context.Background(), nil, []byte(s))
					if err != nil {
						b.Fatal(err)
					}
					t.Close()
				}
			}
		})
		b.Run(strings.TrimSuffix(name, ".ipynb")+"/par", func(b *testing.B) {
			for b.Loop() {
				parallelCells(len(srcs), func() func(int) {
					p := sitter.NewParser()
					p.SetLanguage(python.GetLanguage())
					return func(i int) {
						t, err := p.ParseCtx(context.Background(), nil, []byte(srcs[i]))
						if err == nil {
							t.Close()
						}
					}
				})
			}
		})
	}
}

// parallelCells runs n jobs on GOMAXPROCS workers, each with the state
// newWorker makes, the way extractAll does.
func parallelCells(n int, newWorker func() func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			job := newWorker()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				job(i)
			}
		})
	}
	wg.Wait()
}

// BenchmarkExtract is extraction proper: rewrite, parse, copy the tree out
// of C and walk it, sequentially (one extractor) and with extractAll.
func BenchmarkExtract(b *testing.B) {
	for _, name := range benchNotebooks {
		srcs := benchCells(b, name)
		b.Run(strings.TrimSuffix(name, ".ipynb")+"/seq", func(b *testing.B) {
			b.ReportAllocs()
			e := newExtractor()
			defer e.close()
			for b.Loop() {
				for _, s := range srcs {
					e.extract(s, "python")
				}
			}
		})
		b.Run(strings.TrimSuffix(name, ".ipynb")+"/par", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				extractAll(srcs, "python", 0)
			}
		})
	}
}
