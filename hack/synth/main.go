// Command synth writes the synthetic benchmark notebooks (internal/synth)
// into a folder: synth -o DIR [-steps N -cells N] … ; with no sizes given,
// the three the benchmarks use.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/datainsight/datainsight/internal/synth"
)

func main() {
	out := flag.String("o", ".", "the folder to write into")
	var o synth.Options
	flag.IntVar(&o.Steps, "steps", 0, "steps (default 100)")
	flag.IntVar(&o.Cells, "cells", 0, "code cells (default 500)")
	flag.IntVar(&o.Lines, "lines", 0, "padding lines per cell (default 8)")
	flag.IntVar(&o.FanIn, "fanin", 0, "prev: tags per step (default 1)")
	flag.IntVar(&o.Params, "params", 0, "pipeline parameters (default 4)")
	flag.Parse()
	sizes := []synth.Options{o}
	if o.Steps == 0 && o.Cells == 0 {
		sizes = []synth.Options{{Steps: 10, Cells: 50}, {Steps: 100, Cells: 500}, {Steps: 200, Cells: 1000}}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	for _, s := range sizes {
		s.Lines, s.FanIn, s.Params = o.Lines, o.FanIn, o.Params
		path := filepath.Join(*out, s.Name()+".ipynb")
		if err := os.WriteFile(path, synth.Notebook(s), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "synth:", err)
			os.Exit(1)
		}
		fmt.Println(path)
	}
}
