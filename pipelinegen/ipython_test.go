package pipelinegen

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/internal/testenv"
	"github.com/datainsight/datainsight/notebook"
)

// TestStepScriptsCompile generates the step scripts of every notebook
// fixture in the repository that analyses without errors and
// byte-compiles them all with python3: a step must never fail on a syntax
// error that the notebook, run in Jupyter, does not have.
func TestStepScriptsCompile(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := exec.LookPath(py); err != nil {
		testenv.Missing(t, "no %s", py)
	}
	tmp := t.TempDir()
	paths, err := nbtest.WriteNotebooks(filepath.Join("..", "analyzer", "testdata", "flow", "*.py"), tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"../examples/*.ipynb", "../examples/*/*.ipynb", "../notebook/testdata/*.ipynb", "../internal/app/testdata/*.ipynb"} {
		more, _ := filepath.Glob(pattern)
		paths = append(paths, more...)
	}
	out := filepath.Join(tmp, "scripts")
	var scripts []string
	for i, path := range paths {
		nb, err := notebook.ReadFile(path)
		if err != nil {
			continue // the malformed-notebook fixtures
		}
		an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
		if notebook.HasErrors(an.Diagnostics) {
			continue
		}
		p, err := Compile(nb, an, Options{NotebookPath: path})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		dir := filepath.Join(out, fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, st := range p.Steps {
			f := filepath.Join(dir, st.Name+".py")
			if err := os.WriteFile(f, []byte(st.Script), 0o644); err != nil {
				t.Fatal(err)
			}
			scripts = append(scripts, f)
		}
	}
	if len(scripts) < 50 {
		t.Fatalf("only %d step scripts from %d notebooks", len(scripts), len(paths))
	}
	// One interpreter compiles them all, reporting each failure.
	const check = `
import py_compile, sys
bad = 0
for f in sys.argv[1:]:
    try:
        py_compile.compile(f, cfile=f + "c", doraise=True)
    except py_compile.PyCompileError as e:
        bad += 1
        print(e.msg)
sys.exit(1 if bad else 0)
`
	cmd := exec.Command(py, append([]string{"-c", check}, scripts...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("step scripts that do not compile: %v\n%s", err, strings.TrimSpace(string(b)))
	}
}
