// Package synth generates large, valid Kale-annotated notebooks for
// benchmarks and size tests, so that they need no files from outside the
// repository.
//
// Layout: an imports cell, a pipeline-parameters cell and a functions cell,
// then Steps steps sharing the other Cells-3 code cells as evenly as
// possible. The first cell of step i carries `step:sNNN` and `prev:` tags
// (FanIn of them); the others are untagged continuation cells. Step i reads
// v{i-1} (the previous step), d{i-2} (two back), base (written by step 0 and
// read by every step), r_i (written by step 0 and read by step i only: a
// tool that walks ancestors pays O(steps²)), calls h{i-1} defined in step
// i-1 (free globals through calls), a functions-cell helper and the
// parameters. Each cell is padded with Lines lines of local arithmetic so
// that it looks like real code.
package synth

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/datainsight/datainsight/internal/nbtest"
)

// Options shape a synthetic notebook. Zero fields take the defaults.
type Options struct {
	Steps  int // default 100
	Cells  int // code cells in all, default 500
	Lines  int // padding lines per cell, default 8
	FanIn  int // prev: tags per step, default 1
	Params int // pipeline parameters, default 4
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Steps, 100)
	def(&o.Cells, 500)
	def(&o.Lines, 8)
	def(&o.FanIn, 1)
	def(&o.Params, 4)
}

// Name is the conventional name of a notebook with these options, as in
// synth_s100_c500.
func (o Options) Name() string {
	o.defaults()
	return fmt.Sprintf("synth_s%d_c%d", o.Steps, o.Cells)
}

// Percent returns the notebook in the percent text format (internal/nbtest).
func Percent(o Options) string {
	o.defaults()
	per := max(1, (o.Cells-3)/o.Steps)
	extra := max(0, o.Cells-3-per*o.Steps) // the first `extra` steps get one cell more
	var b strings.Builder
	meta, _ := json.Marshal(map[string]any{"kubeflow_notebook": map[string]any{
		"pipeline_name": fmt.Sprintf("synth-%d-%d", o.Steps, o.Cells), "experiment_name": "synth", "docker_image": "python:3.11",
	}})
	fmt.Fprintf(&b, "# metadata: %s\n# %%%% [markdown]\n# # A synthetic Kale notebook\n", meta)
	cell := func(src string, tags ...string) {
		b.WriteString("# %%")
		if len(tags) > 0 {
			t, _ := json.Marshal(tags)
			fmt.Fprintf(&b, " tags=%s", t)
		}
		b.WriteString("\n" + src + "\n")
	}
	cell("import math\nimport json\nfrom collections import OrderedDict", "imports")
	var params []string
	for k := 0; k < o.Params; k++ {
		params = append(params, fmt.Sprintf("P%d = %d", k, k+1))
	}
	cell(strings.Join(params, "\n"), "pipeline-parameters")
	cell("def scale(x):\n    return x * P0 + math.sqrt(abs(x))\n\n"+
		"def tag(d):\n    return json.dumps(OrderedDict(sorted(d.items())))", "functions")
	for i := 0; i < o.Steps; i++ {
		tags := []string{fmt.Sprintf("step:s%03d", i)}
		for j := max(0, i-o.FanIn); j < i; j++ {
			tags = append(tags, fmt.Sprintf("prev:s%03d", j))
		}
		var body []string
		if i == 0 {
			var rs []string
			for j := 1; j < o.Steps; j++ {
				rs = append(rs, fmt.Sprintf("r_%d = %d", j, j))
			}
			body = []string{"base = 3\nv0 = scale(base)\nd0 = {'k': [v0]}\ndef h0(z):\n    return z + base\n" + strings.Join(rs, "\n")}
		} else {
			body = []string{
				fmt.Sprintf("v%d = h%d(v%d) + P%d + base + r_%d", i, i-1, i-1, i%o.Params, i),
				fmt.Sprintf("w%d = [v%d * j for j in range(3)]\nd%d = {'k': w%d, 'prev': d%d['k'] if %d > 1 else None}", i, i, i, i, max(0, i-2), i),
				fmt.Sprintf("def h%d(z):\n    return z + v%d + base", i, i),
				fmt.Sprintf("print(tag({'v': v%d, 'n': len(w%d)}))", i, i),
			}
		}
		n := per
		if i < extra {
			n++
		}
		for c := 0; c < n; c++ {
			src := "# continuation"
			if c < len(body) {
				src = body[c]
			}
			for k := 0; k < o.Lines; k++ {
				src += fmt.Sprintf("\nt_%d_%d_%d = (v%d + %d) * %d %% 97", i, c, k, i, k, k+1)
			}
			if c == 0 {
				cell(src, tags...)
			} else {
				cell(src)
			}
		}
	}
	return b.String()
}

// Notebook returns the notebook as nbformat 4 JSON.
func Notebook(o Options) []byte {
	data, err := nbtest.Notebook(Percent(o))
	if err != nil {
		// Percent writes only what nbtest reads: a failure is a bug here.
		panic(fmt.Sprintf("synth: %v", err))
	}
	return data
}

// ByName returns the options of a conventional name (synth_s100_c500, with
// or without .ipynb); the other options take their defaults.
func ByName(name string) (Options, error) {
	var o Options
	name = strings.TrimSuffix(name, ".ipynb")
	if _, err := fmt.Sscanf(name, "synth_s%d_c%d", &o.Steps, &o.Cells); err != nil || o.Name() != name {
		return o, fmt.Errorf("synth: %q is not a name like synth_s100_c500", name)
	}
	return o, nil
}
