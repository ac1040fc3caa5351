package pipelinegen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/testenv"
)

// runtimePython is Debian's interpreter: the pyenv one first on PATH lacks the
// Debian packages (numpy, dill, ...) the tests need.
const runtimePython = "/usr/bin/python3"

func needRuntimePython(t testing.TB, modules ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python3 processes; skipped under -short")
	}
	if _, err := os.Stat(runtimePython); err != nil {
		testenv.Missing(t, "%s is not installed", runtimePython)
	}
	for _, m := range modules {
		if out, err := exec.Command(runtimePython, "-c", "import "+m).CombinedOutput(); err != nil {
			testenv.Missing(t, "python module %s is not importable by %s: %s", m, runtimePython, rtLastLine(out))
		}
	}
}

func rtLastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func TestWriteRuntime(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteRuntime(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, RuntimeModule+".py"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, RuntimeSource()) {
		t.Error("written runtime differs from RuntimeSource()")
	}
	if !bytes.Contains(got, []byte("class Step")) {
		t.Error("the embedded runtime is not the step runtime")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 (steps may run as another user)", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the runtime (no temporary files)", len(entries))
	}

	// An identical file is kept as it is (its mtime guards Python's bytecode cache).
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteRuntime(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Errorf("identical runtime was rewritten: mtime %v, want %v", fi.ModTime(), old)
	}

	// A stale runtime is replaced.
	if err := os.WriteFile(path, []byte("# old runtime\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteRuntime(dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, RuntimeSource()) {
		t.Error("stale runtime was not replaced")
	}

	missing := filepath.Join(dir, "no", "such", "dir")
	if _, err := WriteRuntime(missing); err == nil || !strings.Contains(err.Error(), "write runtime") {
		t.Errorf("WriteRuntime(missing dir) = %v, want an error saying what failed", err)
	}
}

func TestRuntimeSourceIsACopy(t *testing.T) {
	a := RuntimeSource()
	a[0] ^= 0xff
	if b := RuntimeSource(); b[0] == a[0] {
		t.Fatal("RuntimeSource returns the embedded bytes themselves")
	}
}

// TestRuntimePython runs the runtime's own Python test suite against the
// module as WriteRuntime writes it.
func TestRuntimePython(t *testing.T) {
	needRuntimePython(t)
	dir := t.TempDir()
	if _, err := WriteRuntime(dir); err != nil {
		t.Fatal(err)
	}
	suite, err := os.ReadFile(filepath.Join("runtime", "test_runtime.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test_runtime.py"), suite, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimePython, "-m", "unittest", "-v", "test_runtime")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATAINSIGHT_RUNTIME_DIR="+dir, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unittest failed: %v\n%s", err, out)
	}
	// Say which tests skipped for a missing module, so a green run does
	// not hide untested formats.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "skipped") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// rtPipeline is a marshal root, a runtime directory and step scripts, all
// under one temporary directory, run the way the local backend runs them.
type rtPipeline struct {
	t       *testing.T
	root    string
	scripts string
	runtime string
	run     string
}

func newRTPipeline(t *testing.T) *rtPipeline {
	dir := t.TempDir()
	e := &rtPipeline{t: t, root: filepath.Join(dir, "marshal"), scripts: filepath.Join(dir, "steps"),
		runtime: filepath.Join(dir, "runtime"), run: "run-1"}
	for _, d := range []string{e.root, e.scripts, e.runtime} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteRuntime(e.runtime); err != nil {
		t.Fatal(err)
	}
	return e
}

// script writes a step script shaped like the generator's output.
func (e *rtPipeline) script(step, body string) string {
	src := fmt.Sprintf(`# step %q of examples/iris.ipynb — generated by datainsight
import sys, os
sys.path.insert(0, os.environ.get("DATAINSIGHT_RUNTIME_DIR", os.path.dirname(os.path.abspath(__file__))))
import datainsight_runtime as _di
_di_step = _di.Step(%q, notebook="examples/iris.ipynb")
%s`, step, step, body)
	path := filepath.Join(e.scripts, step+".py")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

type rtStepResult struct {
	code           int
	stdout, stderr string
}

func (e *rtPipeline) command(ctx context.Context, script string, env ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, runtimePython, script)
	cmd.Dir = e.scripts
	cmd.Env = append(os.Environ(),
		"DATAINSIGHT_MARSHAL_ROOT="+e.root, "DATAINSIGHT_RUN_ID="+e.run,
		"DATAINSIGHT_RUNTIME_DIR="+e.runtime, "PYTHONDONTWRITEBYTECODE=1")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func (e *rtPipeline) runStep(script string, env ...string) rtStepResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := e.command(ctx, script, env...)
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		e.t.Fatalf("run %s: %v", script, err)
	}
	return rtStepResult{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

func (e *rtPipeline) mustSucceed(script string, env ...string) rtStepResult {
	e.t.Helper()
	r := e.runStep(script, env...)
	if r.code != 0 {
		e.t.Fatalf("%s exited %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(script), r.code, r.stdout, r.stderr)
	}
	return r
}

type rtManifestEntry struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Format   string `json:"format"`
	File     string `json:"file"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum"`
	Cell     *int   `json:"cell"`
}

type rtManifest struct {
	Version int                        `json:"version"`
	Step    string                     `json:"step"`
	Run     string                     `json:"run"`
	Values  map[string]rtManifestEntry `json:"values"`
}

func (e *rtPipeline) stepDir(step string) string { return filepath.Join(e.root, e.run, step) }

func (e *rtPipeline) manifest(step string) rtManifest {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.stepDir(step), "manifest.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var m rtManifest
	if err := json.Unmarshal(data, &m); err != nil {
		e.t.Fatalf("manifest of %s: %v", step, err)
	}
	return m
}

// checkFiles verifies every value of step against its manifest entry.
func (e *rtPipeline) checkFiles(step string, m rtManifest) {
	e.t.Helper()
	for name, v := range m.Values {
		data, err := os.ReadFile(filepath.Join(e.stepDir(step), v.File))
		if err != nil {
			e.t.Errorf("%s/%s: %v", step, name, err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != v.Checksum {
			e.t.Errorf("%s/%s: checksum %s, manifest says %s", step, name, got, v.Checksum)
		}
		if int64(len(data)) != v.Size {
			e.t.Errorf("%s/%s: %d bytes, manifest says %d", step, name, len(data), v.Size)
		}
	}
}

// TestStepScriptsEndToEnd runs three generated-style steps as separate
// python3 processes against one marshal root and checks what passes between
// them: a numpy array (npy, mapped copy-on-write), a list (pickle), an
// instance of a class defined in the notebook (dill), a parameter override,
// metrics and reports.
func TestStepScriptsEndToEnd(t *testing.T) {
	needRuntimePython(t, "numpy", "dill")
	e := newRTPipeline(t)
	load := e.script("load", `n = _di_step.param("n", 10)
_di_step.run_cell(1, "import numpy as np\n", globals(), role="imports")
_di_step.run_cell(2, "def center(x):\n    return x - x.mean()\n", globals(), role="functions")
_di_step.run_cell(3, "data = np.arange(n, dtype=float)\nlabels = ['a'] * n\nclass Scaler:\n    def __init__(self, k):\n        self.k = k\n    def __call__(self, x):\n        return x * self.k\nscaler = Scaler(3)\n", globals())
_di_step.save(globals(), {"data": 3, "labels": 3, "scaler": 3})
_di_step.finish()
`)
	train := e.script("train", `_di_step.run_cell(1, "import numpy as np\n", globals(), role="imports")
_di_step.run_cell(2, "def center(x):\n    return x - x.mean()\n", globals(), role="functions")
data = _di_step.load("data", "load")
scaler = _di_step.load("scaler", "load")
_di_step.run_cell(4, "scaled = scaler(data)\ndata *= 100  # in place: must not reach the producer's file\nmodel = {'std': float(center(scaled).std())}\nscore = model['std']\nscore\n", globals())
_di_step.save(globals(), {"model": 4})
_di_step.metrics(globals(), ["score"])
_di_step.finish()
`)
	report := e.script("report", `labels = _di_step.load("labels", "load")
model = _di_step.load("model", "train")
data = _di_step.load("data", "load")
_di_step.run_cell(5, "print('std', round(model['std'], 6), 'last', data[-1])\n_di.sh('echo rows={len(labels)}')\n", globals())
_di_step.finish()
`)

	r := e.mustSucceed(load, "DATAINSIGHT_PARAM_n=4")
	if !strings.Contains(r.stderr, "parameter n = 4") {
		t.Errorf("load's log does not show the parameter override:\n%s", r.stderr)
	}
	m := e.manifest("load")
	if m.Version != 1 || m.Step != "load" || m.Run != e.run {
		t.Errorf("manifest header = %+v", m)
	}
	formats := map[string]string{}
	for name, v := range m.Values {
		formats[name] = v.Format
		if v.Name != name || v.Cell == nil || *v.Cell != 3 || v.File == "" || v.Type == "" {
			t.Errorf("entry %s = %+v", name, v)
		}
	}
	want := map[string]string{"data": "npy", "labels": "pickle", "scaler": "dill"}
	if fmt.Sprint(formats) != fmt.Sprint(want) {
		t.Errorf("formats = %v, want %v", formats, want)
	}
	if got := m.Values["scaler"].Type; got != "__main__.Scaler" {
		t.Errorf("scaler type = %q", got)
	}
	e.checkFiles("load", m)

	r = e.mustSucceed(train)
	wantStd := math.Sqrt(11.25) // 3*[0 1 2 3], centered
	if !strings.Contains(r.stdout, fmt.Sprint(wantStd)) {
		t.Errorf("train's stdout does not show the cell's value %v:\n%s", wantStd, r.stdout)
	}
	e.checkFiles("load", e.manifest("load")) // train changed its copy of data in place
	var metrics struct {
		Metrics []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
		} `json:"metrics"`
	}
	data, err := os.ReadFile(filepath.Join(e.stepDir("train"), "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &metrics); err != nil {
		t.Fatal(err)
	}
	if len(metrics.Metrics) != 1 || metrics.Metrics[0].Name != "score" || math.Abs(metrics.Metrics[0].Value-wantStd) > 1e-12 {
		t.Errorf("metrics.json = %s", data)
	}

	r = e.mustSucceed(report)
	// `!echo` runs under a pseudo-terminal, as in ipykernel: its lines end in \r\n.
	if want := fmt.Sprintf("std %v last 3.0\nrows=4\r\n", math.Round(wantStd*1e6)/1e6); r.stdout != want {
		t.Errorf("report stdout = %q, want %q", r.stdout, want)
	}

	for _, step := range []string{"load", "train", "report"} {
		var nb struct {
			NBFormat      int `json:"nbformat"`
			NBFormatMinor int `json:"nbformat_minor"`
			Cells         []struct {
				CellType string           `json:"cell_type"`
				Outputs  []map[string]any `json:"outputs"`
			} `json:"cells"`
		}
		data, err := os.ReadFile(filepath.Join(e.stepDir(step), "report.ipynb"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &nb); err != nil || nb.NBFormat != 4 || nb.NBFormatMinor != 5 {
			t.Errorf("%s/report.ipynb: nbformat %d.%d, %v", step, nb.NBFormat, nb.NBFormatMinor, err)
		}
		if _, err := os.Stat(filepath.Join(e.stepDir(step), "report.html")); err != nil {
			t.Error(err)
		}
	}
}

// TestStepScriptFailures checks the exit status and the message of each way
// a step fails.
func TestStepScriptFailures(t *testing.T) {
	needRuntimePython(t)
	e := newRTPipeline(t)
	cases := []struct {
		step, body string
		code       int
		stderr     []string
	}{
		{"cell_error", `_di_step.run_cell(1, "def f(x):\n    return 1 / x\n", globals(), role="functions")
_di_step.run_cell(2, "a = 1\nb = f(0)\n", globals())
_di_step.run_cell(3, "print('not reached')\n", globals())
_di_step.save(globals(), {"a": 2})
_di_step.finish()
`, 1, []string{"cell 2, line 2, in <module>", "cell 1, line 2, in f", "ZeroDivisionError: division by zero"}},
		{"unsavable", `_di_step.run_cell(5, "gen = (i for i in range(3))\n", globals())
_di_step.save(globals(), {"gen": 5})
_di_step.finish()
`, 2, []string{"cannot save 'gen' (generator, defined in cell 5): generators cannot be pickled; recompute it in the step that uses it"}},
		{"no_producer", `df = _di_step.load("df", "nowhere")
_di_step.run_cell(1, "print('not reached')\n", globals())
_di_step.finish()
`, 2, []string{"cannot load 'df' from step 'nowhere'", "step 'nowhere' did not finish saving its outputs"}},
		{"bad_param", `lr = _di_step.param("lr", 0.1)
_di_step.finish()
`, 2, []string{"parameter 'lr': DATAINSIGHT_PARAM_lr='fast' is not a Python literal"}},
	}
	for _, c := range cases {
		t.Run(c.step, func(t *testing.T) {
			r := e.runStep(e.script(c.step, c.body), "DATAINSIGHT_PARAM_lr=fast")
			if r.code != c.code {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", r.code, c.code, r.stderr)
			}
			for _, s := range c.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "not reached") {
				t.Error("a cell ran after the step failed")
			}
			if _, err := os.Stat(filepath.Join(e.stepDir(c.step), "manifest.json")); err == nil {
				t.Error("a failed step left a manifest")
			}
			if _, err := os.Stat(filepath.Join(e.stepDir(c.step), "report.ipynb")); err != nil {
				t.Errorf("a failed step must still leave its report: %v", err)
			}
		})
	}
}

// TestParallelProducers runs two steps that save a value of the same name at
// the same time, then a step that loads both: values are keyed by producer.
func TestParallelProducers(t *testing.T) {
	needRuntimePython(t, "numpy")
	e := newRTPipeline(t)
	producer := func(step string, k int) string {
		return e.script(step, fmt.Sprintf(`_di_step.run_cell(1, "import numpy as np\nx = np.full(%d, %d, dtype=np.int64)\n", globals())
_di_step.save(globals(), {"x": 1})
_di_step.finish()
`, 4<<20, k)) // 32 MiB each: the writes overlap
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i, step := range []string{"left", "right"} {
		cmd, _, stderr := e.command(ctx, producer(step, i+1))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, stderr)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("producer %d: %v\n%s", i, err, errs[i])
		}
	}
	join := e.script("join", `left = _di_step.load("x", "left")
right = _di_step.load("x", "right")
_di_step.run_cell(2, "print(int(left.sum()), int(right.sum()), len(left))\n", globals())
_di_step.finish()
`)
	r := e.mustSucceed(join)
	if want := fmt.Sprintf("%d %d %d\n", 4<<20, 2*(4<<20), 4<<20); r.stdout != want {
		t.Errorf("join stdout = %q, want %q", r.stdout, want)
	}
	e.checkFiles("left", e.manifest("left"))
	e.checkFiles("right", e.manifest("right"))
}
