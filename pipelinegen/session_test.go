package pipelinegen

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/notebook"
)

// The dice notebook (analyzer fixture r13-dice-…) seeds numpy's global
// generator and sets display options in its first step: each later step,
// a process of its own, must print what the same cells print in one
// kernel (RNG state passed as __rng_numpy__, settings replayed).
func TestGlobalStateMatchesOneKernel(t *testing.T) {
	needRuntimePython(t, "numpy", "pandas")
	src, err := os.ReadFile(filepath.Join("..", "analyzer", "testdata", "flow", "r13-dice-seed-and-options-across-steps.py"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := nbtest.Notebook(string(src))
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	if notebook.HasErrors(an.Diagnostics) {
		t.Fatalf("diagnostics: %v", an.Diagnostics)
	}
	p, err := Compile(nb, an, Options{NotebookPath: "dice.ipynb"})
	if err != nil {
		t.Fatal(err)
	}
	// One process running every code cell in order: the kernel.
	var cells [][]string
	for _, s := range an.Steps {
		var srcs []string
		for _, c := range s.Cells {
			srcs = append(srcs, nb.Cells[c].Source)
		}
		cells = append(cells, srcs)
	}
	js, _ := json.Marshal(cells)
	const kernel = `
import json, sys
ns = {"__name__": "__main__"}
for i, step in enumerate(json.loads(sys.argv[1])):
    print("=== step %d" % i)
    for c in step:
        exec(compile(c, "cell", "exec"), ns)
`
	out, err := exec.Command(runtimePython, "-c", kernel, string(js)).CombinedOutput()
	if err != nil {
		t.Fatalf("kernel run: %v\n%s", err, out)
	}
	want := strings.Split(string(out), "=== step ")[1:]

	e := newRTPipeline(t)
	for i, st := range p.Steps {
		path := filepath.Join(e.scripts, st.Name+".py")
		if err := os.WriteFile(path, []byte(st.Script), 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.mustSucceed(path)
		if os.Getenv("DUMP") != "" {
			t.Logf("%s:\n%s\n--- stdout:\n%s", st.Name, st.Script, r.stdout)
		}
		w := strings.TrimSpace(want[i][strings.IndexByte(want[i], '\n')+1:])
		if got := strings.TrimSpace(r.stdout); got != w {
			t.Errorf("step %s prints\n%s\nbut the kernel prints\n%s\nscript:\n%s", st.Name, got, w, st.Script)
		}
		if strings.Contains(st.Script, "__rng_numpy__ =") {
			t.Errorf("step %s binds __rng_numpy__:\n%s", st.Name, st.Script)
		}
	}
}
