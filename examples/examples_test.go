// Package examples_test checks, end to end, that running a notebook as a
// pipeline computes what running it top to bottom in Jupyter computes: the
// example notebooks and every runnable corpus notebook are executed with
// nbclient (a real IPython kernel) and with the local backend, and the
// output each step cell prints must be the same.
package examples_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/local"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

const python = "/usr/bin/python3"

// nbclientScript executes a notebook in a real kernel and prints each code
// cell's stdout, by cell index.
const nbclientScript = `
import json, sys, nbformat, nbclient
path, cwd = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
# skip cells are not part of the pipeline: run what the pipeline runs.
for c in nb.cells:
    if "skip" in c.metadata.get("tags", []):
        c.source = ""
nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": cwd}}).execute()
out = {}
for i, c in enumerate(nb.cells):
    if c.cell_type == "code":
        out[i] = "".join(o.get("text", "") for o in c.get("outputs", [])
                         if o.get("output_type") == "stream" and o.get("name") == "stdout")
print(json.dumps(out))
`

func TestNotebooksMatchJupyter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts IPython kernels and python3 steps")
	}
	if err := exec.Command(python, "-c", "import nbclient, ipykernel").Run(); err != nil {
		t.Fatalf("%s lacks nbclient/ipykernel (hack/install-deps.sh installs them): %v", python, err)
	}
	paths, _ := filepath.Glob("*.ipynb")
	corpus, err := nbtest.WriteNotebooks(filepath.Join("..", "analyzer", "testdata", "flow", "*.py"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, corpus...)
	ran := 0
	for _, path := range paths {
		nb, err := notebook.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
		if notebook.HasErrors(an.Diagnostics) {
			// Not runnable as a pipeline: such a corpus case is about its
			// errors, which the analyzer's corpus test checks.
			continue
		}
		ran++
		t.Run(strings.TrimSuffix(filepath.Base(path), ".ipynb"), func(t *testing.T) {
			t.Parallel()
			checkNotebook(t, path, nb, an)
		})
	}
	if ran < 2 {
		t.Fatalf("only %d runnable notebooks among %v", ran, paths)
	}
}

func checkNotebook(t *testing.T, path string, nb *notebook.Notebook, an *analyzer.Analysis) {
	// Each side gets its own copy of the notebook's folder, so files one
	// writes are not seen by the other.
	jupyterDir, pipelineDir := t.TempDir(), t.TempDir()
	for _, d := range []string{jupyterDir, pipelineDir} {
		data, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(d, "nb.ipynb"), data, 0o644)
	}

	cmd := exec.Command(python, "-c", nbclientScript, filepath.Join(jupyterDir, "nb.ipynb"), jupyterDir)
	cmd.Dir = jupyterDir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nbclient: %v\n%s", err, stderrOf(err))
	}
	var want map[string]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("nbclient output: %v\n%s", err, out)
	}

	p, err := pipelinegen.Compile(nb, an, pipelinegen.Options{NotebookPath: filepath.Join(pipelineDir, "nb.ipynb")})
	if err != nil {
		t.Fatal(err)
	}
	b := &local.Local{Dir: filepath.Join(pipelineDir, ".datainsight", "runs"), Python: python}
	r, err := b.Submit(context.Background(), p, cluster.SubmitOptions{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ch, err := b.Watch(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
	r, err = b.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != cluster.Succeeded {
		var logs strings.Builder
		b.Logs(context.Background(), r.ID, cluster.LogOptions{}, &logs)
		t.Fatalf("run %s: %s\n%s", r.Phase, r.Message, logs.String())
	}
	got := map[string]string{}
	for _, st := range p.Steps {
		for cell, text := range reportOutputs(t, filepath.Join(b.Dir, r.ID, st.Name, "report.ipynb")) {
			got[strconv.Itoa(cell)] = text
		}
	}
	compared := 0
	for _, st := range an.Steps {
		for _, c := range st.Cells {
			key := strconv.Itoa(c)
			if normalize(got[key]) != normalize(want[key]) {
				t.Errorf("cell %d (step %s) printed\n%q\nin the pipeline, but in Jupyter\n%q", c, st.Name, got[key], want[key])
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("no step cells compared")
	}
}

// reportOutputs reads a step report's stdout per original cell index.
func reportOutputs(t *testing.T, path string) map[int]string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("step report: %v", err)
	}
	var doc struct {
		Cells []struct {
			Metadata struct {
				Datainsight struct {
					Cell *int   `json:"cell"`
					Role string `json:"role"`
				} `json:"datainsight"`
			} `json:"metadata"`
			Outputs []struct {
				Type string          `json:"output_type"`
				Name string          `json:"name"`
				Text json.RawMessage `json:"text"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, c := range doc.Cells {
		md := c.Metadata.Datainsight
		if md.Cell == nil || md.Role != "" {
			continue
		}
		var b strings.Builder
		for _, o := range c.Outputs {
			if o.Type != "stream" || o.Name != "stdout" {
				continue
			}
			var s string
			var lines []string
			if json.Unmarshal(o.Text, &s) == nil {
				b.WriteString(s)
			} else if json.Unmarshal(o.Text, &lines) == nil {
				b.WriteString(strings.Join(lines, ""))
			}
		}
		out[*md.Cell] = b.String()
	}
	return out
}

// normalize drops what differs between two runs of the same code for
// reasons other than the data: %time's and %timeit's timings, and the carriage returns a
// kernel's pseudo-terminal adds to shell output.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "CPU times:") || strings.HasPrefix(l, "Wall time:") ||
			strings.Contains(l, " per loop (mean ± std. dev. of ") || strings.HasPrefix(l, "The slowest run took ") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
