// Package examples_test checks, end to end, that running a notebook as a
// pipeline computes what running it top to bottom in Jupyter computes: the
// example notebooks, the real-notebook corpus (corpus/*.py: the plain
// pandas/scikit-learn/matplotlib/torch work of tutorials and Kaggle, half
// of it Kale-annotated, half cut at headings), and every runnable analyzer
// flow fixture are executed with nbclient (a real IPython kernel) and with
// the local backend, and the output each step cell prints must be the same.
package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
import json, os, sys, tempfile, nbformat, nbclient
from jupyter_client.manager import KernelManager
path, cwd = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
# skip cells are not part of the pipeline: run what the pipeline runs.
for c in nb.cells:
    if "skip" in c.metadata.get("tags", []):
        c.source = ""
# The kernel's channels on Unix sockets of a folder of its own: TCP ports
# chosen by binding port 0 and letting go race between kernels started side
# by side ("Address already in use"), and the notebook's folder stays as the
# pipeline's is.
sockets = tempfile.mkdtemp()
try:
    km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "k"))
    nbclient.NotebookClient(nb, km=km, timeout=300, allow_errors=True,
                            resources={"metadata": {"path": cwd}}).execute()
finally:
    import shutil
    shutil.rmtree(sockets, ignore_errors=True)
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
	// Real notebooks, written the way people write them: each must
	// analyse without errors, compile and run (mustRun), never be skipped.
	realNotebooks, err := nbtest.WriteNotebooks(filepath.Join("corpus", "*.py"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Reproductions filed from outside the repository, when this checkout
	// sits beside them; an optional extra, never required.
	repro, _ := filepath.Glob(filepath.Join("..", "..", "shared", "repro", "*.ipynb"))
	mustRun := map[string]bool{}
	for _, p := range append(append([]string{}, realNotebooks...), repro...) {
		mustRun[p] = true
	}
	paths = append(paths, realNotebooks...)
	paths = append(paths, repro...)
	// The analyzer's conformance (c), IPython (i) and rule (r) fixtures are
	// written to run in Jupyter. The numbered ones are analysis cases, many
	// not runnable on purpose (a data file they do not ship, a value that
	// cannot be pickled): the analyzer's tests check those.
	flow, err := nbtest.WriteNotebooks(filepath.Join("..", "analyzer", "testdata", "flow", "[cir][0-9][0-9]-*.py"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, flow...)
	ran := 0
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".ipynb")
		nb, err := notebook.ReadFile(path)
		if err != nil {
			if mustRun[path] {
				t.Run(name, func(t *testing.T) { t.Fatalf("reading the notebook: %v", err) })
				continue
			}
			t.Fatal(err)
		}
		an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
		if notebook.HasErrors(an.Diagnostics) {
			if mustRun[path] {
				// A real notebook that runs in Jupyter must not be refused.
				t.Run(name, func(t *testing.T) {
					for _, d := range an.Diagnostics {
						if d.Severity == notebook.Error {
							t.Errorf("analysis: %s", d)
						}
					}
				})
				continue
			}
			// Not runnable as a pipeline: such a corpus case is about its
			// errors, which the analyzer's corpus test checks.
			continue
		}
		ran++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			diffs := checkNotebook(t, path, nb, an)
			why, known := knownDivergent[name]
			switch {
			case known && len(diffs) == 0:
				t.Errorf("%s now runs as it does in Jupyter: take it off knownDivergent", name)
			case known:
				t.Logf("known divergence (%s):\n%s", why, strings.Join(diffs, "\n"))
			default:
				for _, d := range diffs {
					t.Error(d)
				}
			}
		})
	}
	if ran < 2 {
		t.Fatalf("only %d runnable notebooks among %v", ran, paths)
	}
}

// knownDivergent lists the corpus notebooks whose pipeline is known to
// print something other than Jupyter, and why: each is a fault not fixed
// yet, checked to still differ so that its fix is noticed.
var knownDivergent = map[string]string{}

// checkNotebook runs the notebook top to bottom in Jupyter and as a local
// pipeline and returns how the pipeline's run differs: a failed run, or
// each step cell whose printed output is not Jupyter's.
func checkNotebook(t *testing.T, path string, nb *notebook.Notebook, an *analyzer.Analysis) (diffs []string) {
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
		return []string{fmt.Sprintf("run %s: %s\n%s", r.Phase, r.Message, logs.String())}
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
				diffs = append(diffs, fmt.Sprintf("cell %d (step %s) printed\n%q\nin the pipeline, but in Jupyter\n%q", c, st.Name, got[key], want[key]))
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("no step cells compared")
	}
	return diffs
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
// reasons other than the data: %time's and %timeit's timings, the carriage
// returns a kernel's pseudo-terminal adds to shell output, and memory
// addresses (an object's default repr, "<Foo object at 0x7f3a...>"): two
// processes never place an object at the same address, so only the
// address, never the rest of the line, is masked. Nothing else is: a
// printed value that differs is a difference.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "CPU times:") || strings.HasPrefix(l, "Wall time:") ||
			strings.Contains(l, " per loop (mean ± std. dev. of ") || strings.HasPrefix(l, "The slowest run took ") {
			continue
		}
		out = append(out, addressRE.ReplaceAllString(l, "0x…"))
	}
	return strings.Join(out, "\n")
}

// addressRE matches a hexadecimal address as Python's reprs print it (6 to
// 16 digits), not a short hex literal a notebook prints on purpose.
var addressRE = regexp.MustCompile(`\b0x[0-9a-fA-F]{6,16}\b`)

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
