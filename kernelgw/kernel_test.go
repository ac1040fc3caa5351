package kernelgw_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/jupytertest"
	"github.com/datainsight/datainsight/kernelgw"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
)

// Tests against a real Jupyter server and IPython kernel: the check
// method, and the kernel-side package's %datainsight magic.

// jupyterClient is a client of srv that logs into the test's output.
func jupyterClient(t testing.TB, srv *jupytertest.Server) *jupyter.Client {
	t.Helper()
	c, err := jupyter.New(jupyter.Config{URL: srv.URL, Token: srv.Token,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// kernel starts a kernel and connects to it; both end with t.
func kernel(t testing.TB, c *jupyter.Client) *jupyter.Kernel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	km, err := c.StartKernel(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.DeleteKernel(ctx, km.ID)
	})
	k, err := c.Connect(ctx, km.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// execute runs code in k and fails t unless it succeeds.
func execute(t testing.TB, k *jupyter.Kernel, code string, opts *jupyter.ExecuteOptions, timeout time.Duration) *jupyter.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := k.Execute(ctx, code, opts)
	if err != nil {
		t.Fatalf("execute %q: %v\noutputs: %+v", code, err, res.Outputs)
	}
	return res
}

// checkNotebook has a step whose outputs include values no step can be
// given (an open file, a generator, a lock) and values that can (a
// DataFrame, an int), and a step that uses them all.
const checkNotebook = `{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:make"]}, "outputs": [],
   "source": ["import threading\n", "import pandas as pd\n", "f = open('nb.ipynb')\n", "gen = (i * i for i in range(3))\n", "lock = threading.Lock()\n", "df = pd.DataFrame({'a': [1, 2]})\n", "n = 42\n"]},
  {"cell_type": "code", "execution_count": null, "id": "b", "metadata": {"tags": ["block:use", "prev:make"]}, "outputs": [],
   "source": ["print(f.name, list(gen), lock.locked(), len(df), n)\n"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// namespace lists the names in the kernel's user namespace, by a silent
// execution (which adds none itself).
func namespace(t *testing.T, k *jupyter.Kernel) string {
	t.Helper()
	res := execute(t, k, "print(sorted(get_ipython().user_ns))", &jupyter.ExecuteOptions{Silent: true}, time.Minute)
	return res.Stdout()
}

func TestCheckFindsUnsavableValuesInTheKernel(t *testing.T) {
	root := t.TempDir()
	srv := jupytertest.Start(t, &jupytertest.Options{RootDir: root})
	jc := jupyterClient(t, srv)
	s := startIn(t, root, jc)
	if err := os.WriteFile(filepath.Join(root, "check.ipynb"), []byte(checkNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	k := kernel(t, jc)

	// Before the cells ran, nothing is checked: every output is missing.
	var res kernelgw.CheckResult
	s.call(t, "check", map[string]any{"path": "check.ipynb", "kernel": k.ID()}, &res)
	if res.Checked != 0 || len(res.Unsavable) != 0 || len(res.Missing) != 5 {
		t.Errorf("check before the cells ran: %+v, want the 5 outputs missing", res)
	}

	execute(t, k, "import threading\nimport pandas as pd\nf = open('nb.ipynb')\ngen = (i * i for i in range(3))\n"+
		"lock = threading.Lock()\ndf = pd.DataFrame({'a': [1, 2]})\nn = 42\n", nil, 2*time.Minute)
	before := namespace(t, k)

	s.call(t, "check", map[string]any{"path": "check.ipynb", "kernel": k.ID()}, &res)
	got := map[string]kernelgw.Unsavable{}
	for _, u := range res.Unsavable {
		got[u.Name] = u
	}
	want := map[string]string{"f": "open files", "gen": "generators", "lock": "locks"}
	for name, reason := range want {
		u, ok := got[name]
		if !ok {
			t.Errorf("check does not list %s: %+v", name, res.Unsavable)
			continue
		}
		if u.Step != "make" || u.Type == "" || !strings.Contains(u.Reason, reason) {
			t.Errorf("check: %s: %+v, want step make, a type, and a reason about %s", name, u, reason)
		}
	}
	for _, name := range []string{"df", "n"} {
		if _, ok := got[name]; ok {
			t.Errorf("check lists %s, which can be saved: %+v", name, got[name])
		}
	}
	if len(got) != len(want) || res.Checked != 5 || len(res.Missing) != 0 {
		t.Errorf("check: %+v, want f, gen and lock of 5 checked", res)
	}
	if got["f"].Type != "_io.TextIOWrapper" || got["gen"].Type != "generator" {
		t.Errorf("check: types %q and %q, want _io.TextIOWrapper and generator", got["f"].Type, got["gen"].Type)
	}

	// The check left nothing in the user's namespace, and the generator
	// was not consumed.
	if after := namespace(t, k); after != before {
		t.Errorf("the check changed the user's namespace:\nbefore %s\nafter  %s", before, after)
	}
	if out := execute(t, k, "print(list(gen))", nil, time.Minute).Stdout(); strings.TrimSpace(out) != "[0, 1, 4]" {
		t.Errorf("the generator after the check: %q, want [0, 1, 4]", out)
	}

	// A second check (the runtime already loaded in the kernel) agrees.
	var again kernelgw.CheckResult
	s.call(t, "check", map[string]any{"path": "check.ipynb", "kernel": k.ID()}, &again)
	if len(again.Unsavable) != 3 || again.Checked != 5 {
		t.Errorf("second check: %+v, want the same 3 of 5", again)
	}

	// A generator kept in a dict fails the save as well: the check looks
	// into plain containers and says where.
	execute(t, k, "n = {'rows': (i for i in range(2)), 'k': 1}\n", nil, time.Minute)
	s.call(t, "check", map[string]any{"path": "check.ipynb", "kernel": k.ID()}, &res)
	var nested *kernelgw.Unsavable
	for i := range res.Unsavable {
		if res.Unsavable[i].Name == "n" {
			nested = &res.Unsavable[i]
		}
	}
	if nested == nil || nested.Type != "dict" || !strings.Contains(nested.Reason, "it holds a generator at ['rows']: generators") {
		t.Errorf("check of a dict holding a generator: %+v, want n (dict) with the generator's place and reason", res.Unsavable)
	}

	// A kernel that does not exist is a NotFound error naming the field.
	r, _ := s.post(t, "", "check", map[string]any{"path": "check.ipynb", "kernel": "00000000-0000-0000-0000-000000000000"})
	if r.Error == nil || !strings.Contains(r.Error.Message, "kernel") {
		t.Errorf("check of a kernel that does not exist: %+v", r.Error)
	}
}

func TestCheckWithoutJupyter(t *testing.T) {
	s := start(t)
	r, _ := s.post(t, "", "check", map[string]any{"path": "nb.ipynb", "kernel": "x"})
	if r.Error == nil || !strings.Contains(r.Error.Message, "--jupyter-url") {
		t.Errorf("check without a Jupyter server: %+v, want an error naming --jupyter-url", r.Error)
	}
}

// pythonPackage is kernelgw/python, the kernel-side package.
func pythonPackage(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "datainsight", "__init__.py")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// outputText joins the text/plain of a result's displays and its streams.
func outputText(res *jupyter.Result) string {
	var b strings.Builder
	for _, o := range res.Outputs {
		switch o.Type {
		case jupyter.OutputStream:
			b.WriteString(o.Text)
		case jupyter.OutputDisplayData, jupyter.OutputExecuteResult:
			var s string
			if json.Unmarshal(o.Data["text/plain"], &s) == nil {
				b.WriteString(s + "\n")
			}
		}
	}
	return b.String()
}

// magicKernel serves a sidecar on root and starts a kernel of a real
// Jupyter server there, its environment pointing the kernel-side package
// at the sidecar, with %load_ext datainsight done.
func magicKernel(t testing.TB, root string) (*sidecar, *jupyter.Kernel) {
	t.Helper()
	s := startIn(t, root, nil)
	srv := jupytertest.Start(t, &jupytertest.Options{RootDir: root, Env: []string{
		"PYTHONPATH=" + pythonPackage(t),
		"DATAINSIGHT_URL=" + s.url,
		"DATAINSIGHT_TOKEN=" + token,
	}})
	k := kernel(t, jupyterClient(t, srv))
	execute(t, k, "%load_ext datainsight", nil, time.Minute)
	return s, k
}

// boundOnly checks that the kernel's names now are those it had (before,
// as namespace printed them) plus added, and nothing else.
func boundOnly(t *testing.T, k *jupyter.Kernel, before string, added ...string) {
	t.Helper()
	var names []string
	json.Unmarshal([]byte(strings.ReplaceAll(strings.TrimSpace(before), "'", `"`)), &names)
	want := append(names, added...)
	slicesSort(want)
	after := namespace(t, k)
	if got := strings.ReplaceAll(strings.TrimSpace(after), "'", `"`); got != mustJSONList(want) {
		t.Errorf("the kernel's names, want only %v added:\nbefore %s\nafter  %s", added, before, after)
	}
}

func TestMagicRunsTheNotebook(t *testing.T) {
	root := t.TempDir()
	s, k := magicKernel(t, root)
	res := execute(t, k, "%datainsight run nb.ipynb", nil, 4*time.Minute)
	text := outputText(res)
	m := regexp.MustCompile(`(?m)^run (\S+) Succeeded$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%%datainsight run: no line \"run ID Succeeded\" in its output:\n%s\noutputs: %+v", text, res.Outputs)
	}
	t.Logf("%%datainsight run printed:\n%s", text)
	id := m[1]
	// The progress display was updated in place to the end: one display,
	// naming the run, its steps and their end.
	var displays []string
	for _, o := range res.Outputs {
		if o.Type == jupyter.OutputDisplayData {
			var s string
			json.Unmarshal(o.Data["text/plain"], &s)
			displays = append(displays, s)
		}
	}
	if len(displays) != 1 || !strings.Contains(displays[0], id) || !strings.Contains(displays[0], "Succeeded") ||
		!strings.Contains(displays[0], "total") {
		t.Errorf("%%datainsight run: displays %q, want one naming run %s, its steps, and Succeeded", displays, id)
	}
	if strings.Contains(text, "Traceback") {
		t.Errorf("%%datainsight run printed a traceback:\n%s", text)
	}

	var run cluster.Run
	s.call(t, "run.get", map[string]any{"run": id, "path": "nb.ipynb"}, &run)
	if run.Phase != cluster.Succeeded || len(run.Steps) != 3 {
		t.Errorf("run %s through the sidecar: %s with %d steps, want Succeeded with 3", id, run.Phase, len(run.Steps))
	}

	// status and logs of that run.
	if out := outputText(execute(t, k, "%datainsight status "+id, nil, time.Minute)); !strings.Contains(out, id) || !strings.Contains(out, "Succeeded") {
		t.Errorf("%%datainsight status %s: %q", id, out)
	}
	if out := outputText(execute(t, k, "%datainsight logs "+id+" total", nil, time.Minute)); !strings.Contains(out, "total says 12") {
		t.Errorf("%%datainsight logs %s total: %q, want the step's output", id, out)
	}

	// Errors are one line, never a traceback: a wrong token, no sidecar.
	for _, c := range []struct{ env, want string }{
		{`{"DATAINSIGHT_TOKEN": "wrong-token-0123456789"}`, "refused the token"},
		{`{"DATAINSIGHT_URL": "http://127.0.0.1:1"}`, "cannot reach the Datainsight sidecar"},
	} {
		code := "import os as _os, datainsight.magics as _m\n_env = dict(_os.environ)\n_os.environ.update(" + c.env + ")\n" +
			"try:\n    _m.Magic()('status " + id + "')\nfinally:\n    _os.environ.clear(); _os.environ.update(_env)\n"
		out := execute(t, k, code, nil, time.Minute)
		if errText := out.Stderr(); !strings.Contains(errText, c.want) || strings.Contains(errText, "Traceback") ||
			strings.Count(strings.TrimSpace(errText), "\n") != 0 {
			t.Errorf("%%datainsight status with %s: stderr %q, want one line saying %q", c.env, errText, c.want)
		}
	}
}

// exploreNotebook has a parameter, a step that makes values (a list, a
// DataFrame, a string) and a step that loads them and uses the parameter.
const exploreNotebook = `{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "p", "metadata": {"tags": ["pipeline-parameters"]}, "outputs": [], "source": ["factor = 3\n"]},
  {"cell_type": "code", "execution_count": null, "id": "i", "metadata": {"tags": ["imports"]}, "outputs": [], "source": ["import pandas as pd\n"]},
  {"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:make"]}, "outputs": [],
   "source": ["values = [1, 2, 3]\n", "df = pd.DataFrame({'a': [10, 20, 30]})\n", "label = 'made'\n"]},
  {"cell_type": "code", "execution_count": null, "id": "b", "metadata": {"tags": ["block:use", "prev:make"]}, "outputs": [],
   "source": ["scaled = [v * factor for v in values]\n", "print(len(df), scaled, label)\n"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// runToEnd runs a notebook through the sidecar and waits for the run's end.
func runToEnd(t *testing.T, s *sidecar, params map[string]any) *cluster.Run {
	t.Helper()
	var started kernelgw.RunResult
	s.call(t, "run", params, &started)
	deadline := time.Now().Add(4 * time.Minute)
	for {
		var run cluster.Run
		s.call(t, "run.get", map[string]any{"run": started.ID, "path": params["path"]}, &run)
		if run.Phase.Done() {
			return &run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s did not end in time: %+v", started.ID, run)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestExploreLoadsAStepsInputsIntoTheKernel(t *testing.T) {
	root := t.TempDir()
	srv := jupytertest.Start(t, &jupytertest.Options{RootDir: root})
	jc := jupyterClient(t, srv)
	s := startIn(t, root, jc)
	if err := os.WriteFile(filepath.Join(root, "explore.ipynb"), []byte(exploreNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	run := runToEnd(t, s, map[string]any{"path": "explore.ipynb", "params": map[string]string{"factor": "5"}})
	if run.Phase != cluster.Succeeded {
		t.Fatalf("the run: %s (%s), want Succeeded", run.Phase, run.Message)
	}
	k := kernel(t, jc)
	execute(t, k, "keep = 'mine'\n", nil, time.Minute)
	before := namespace(t, k)

	var res kernelgw.ExploreResult
	s.call(t, "explore", map[string]any{"run": run.ID, "step": "use", "kernel": k.ID(), "path": "explore.ipynb"}, &res)
	t.Logf("explore: %+v", res)
	got := map[string]kernelgw.Explored{}
	for _, b := range res.Bound {
		got[b.Name] = b
	}
	if len(res.Unavailable) != 0 || len(got) != 4 {
		t.Errorf("explore: bound %+v, unavailable %+v; want values, df, label and factor bound", res.Bound, res.Unavailable)
	}
	for name, want := range map[string]string{"values": "list", "df": "pandas.core.frame.DataFrame", "label": "str", "factor": "int"} {
		if got[name].Type != want {
			t.Errorf("explore: %s is a %q, want %q", name, got[name].Type, want)
		}
	}
	if b := got["df"]; b.Source != "step make" || b.Bytes <= 0 || len(b.Shape) != 2 || b.Shape[0] != 3 || b.Length == nil || *b.Length != 3 {
		t.Errorf("explore: df %+v, want from step make, its file's size, shape [3 1], length 3", b)
	}
	if got["factor"].Source != "parameter" {
		t.Errorf("explore: factor %+v, want a parameter", got["factor"])
	}
	// Nothing but the inputs was bound.
	boundOnly(t, k, before, "df", "factor", "label", "values")

	// The values are in the kernel, as the run had them (the parameter's
	// value of the run, not its default).
	out := execute(t, k, "print(values, df['a'].tolist(), label, factor, keep)", nil, time.Minute).Stdout()
	if strings.TrimSpace(out) != "[1, 2, 3] [10, 20, 30] made 5 mine" {
		t.Errorf("the kernel after explore prints %q, want the run's values", out)
	}

	// A value file removed since the run: that input is unavailable,
	// saying why; the others are still loaded.
	manifest, err := os.ReadFile(filepath.Join(s.runs, run.ID, "make", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Values map[string]struct {
			File string `json:"file"`
		} `json:"values"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil || m.Values["label"].File == "" {
		t.Fatalf("the manifest of step make: %v\n%s", err, manifest)
	}
	if err := os.Remove(filepath.Join(s.runs, run.ID, "make", m.Values["label"].File)); err != nil {
		t.Fatal(err)
	}
	execute(t, k, "del label", nil, time.Minute)
	s.call(t, "explore", map[string]any{"run": run.ID, "step": "use", "kernel": k.ID(), "path": "explore.ipynb"}, &res)
	var gone []string
	for _, u := range res.Unavailable {
		gone = append(gone, u.Name)
		if u.Source != "step make" || !strings.Contains(u.Reason, "missing") {
			t.Errorf("explore after the file was removed: %+v, want from step make, a reason saying the file is missing", u)
		}
	}
	if !slices.Contains(gone, "label") || len(res.Bound)+len(res.Unavailable) != 4 {
		t.Errorf("explore after label's file was removed: bound %+v, unavailable %+v", res.Bound, res.Unavailable)
	}
	if out := execute(t, k, "print('label' in dir())", nil, time.Minute).Stdout(); strings.TrimSpace(out) != "False" {
		t.Errorf("an unavailable input was bound anyway: %q", out)
	}

	// A producer that failed: its values are unavailable, saying so; the
	// parameters are still bound.
	failing := strings.Replace(exploreNotebook, `"label = 'made'\n"`, `"label = 'made'\n", "raise ValueError('no')\n"`, 1)
	if err := os.WriteFile(filepath.Join(root, "fails.ipynb"), []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := runToEnd(t, s, map[string]any{"path": "fails.ipynb"})
	if failed.Phase != cluster.Failed {
		t.Fatalf("the failing run: %s, want Failed", failed.Phase)
	}
	s.call(t, "explore", map[string]any{"run": failed.ID, "step": "use", "kernel": k.ID(), "path": "fails.ipynb"}, &res)
	if len(res.Unavailable) != 3 || len(res.Bound) != 1 || res.Bound[0].Name != "factor" {
		t.Errorf("explore of a step whose producer failed: bound %+v, unavailable %+v; want factor bound, 3 unavailable", res.Bound, res.Unavailable)
	}
	for _, u := range res.Unavailable {
		if !strings.Contains(u.Reason, "make") || !strings.Contains(u.Reason, "Failed") {
			t.Errorf("explore: %+v, want a reason saying step make failed", u)
		}
	}

	// Errors name the field.
	for _, c := range []struct {
		params map[string]any
		field  string
	}{
		{map[string]any{"run": "no-such-run", "step": "use", "kernel": k.ID(), "path": "explore.ipynb"}, "run"},
		{map[string]any{"run": run.ID, "step": "nope", "kernel": k.ID(), "path": "explore.ipynb"}, "step"},
		{map[string]any{"run": run.ID, "step": "use", "kernel": "00000000-0000-0000-0000-000000000000", "path": "explore.ipynb"}, "kernel"},
	} {
		r, _ := s.post(t, "", "explore", c.params)
		if r.Error == nil || !strings.Contains(r.Error.Message, c.field) || !strings.Contains(string(r.Error.Data), `"field":"`+c.field+`"`) {
			t.Errorf("explore %v: %+v, want an error naming field %s", c.params, r.Error, c.field)
		}
	}
}

func TestEnvDescribesTheKernel(t *testing.T) {
	root := t.TempDir()
	srv := jupytertest.Start(t, &jupytertest.Options{RootDir: root})
	jc := jupyterClient(t, srv)
	s := startIn(t, root, jc)
	k := kernel(t, jc)
	before := namespace(t, k)

	var res kernelgw.EnvResult
	s.call(t, "env", map[string]any{"kernel": k.ID()}, &res)
	want, err := exec.Command(jupytertest.Python, "-c", "import sys; print(sys.version)").Output()
	if err != nil {
		t.Fatal(err)
	}
	if res.Kernel.SysVersion != strings.TrimSpace(string(want)) || res.Kernel.Executable == "" || !strings.HasPrefix(string(want), res.Kernel.Version) {
		t.Errorf("env: the kernel's Python %q (%q, %s), want %q", res.Kernel.SysVersion, res.Kernel.Version, res.Kernel.Executable, want)
	}
	hasNumpy := func(pkgs []kernelgw.Distribution) bool {
		for _, d := range pkgs {
			if strings.EqualFold(d.Name, "numpy") && d.Version != "" {
				return true
			}
		}
		return false
	}
	if !hasNumpy(res.Kernel.Packages) {
		t.Errorf("env: the kernel's packages do not list numpy: %+v", res.Kernel.Packages)
	}
	if res.Local == nil || !hasNumpy(res.Local.Packages) {
		t.Fatalf("env: local runs' environment %+v, warnings %+v", res.Local, res.Warnings)
	}
	for _, w := range res.Warnings {
		if w.Kind == "version" {
			t.Errorf("env: %+v, but the kernel and local runs use the same Python", w)
		}
	}
	t.Logf("env: kernel %s %s, %d packages; local %s, %d packages; %d warnings", res.Kernel.Version, res.Kernel.Executable,
		len(res.Kernel.Packages), res.Local.Executable, len(res.Local.Packages), len(res.Warnings))
	if after := namespace(t, k); after != before {
		t.Errorf("env changed the user's namespace:\nbefore %s\nafter  %s", before, after)
	}
	r, _ := s.post(t, "", "env", map[string]any{"kernel": ""})
	if r.Error == nil || !strings.Contains(string(r.Error.Data), `"kernel"`) {
		t.Errorf("env without a kernel: %+v, want an error naming the field", r.Error)
	}
}

func slicesSort(s []string) { slices.Sort(s) }

func mustJSONList(s []string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), ",", ", ")
}

// BenchmarkMagicRunToFirstStep: `%datainsight run nb.ipynb -d` executed in
// a real IPython kernel, from the execute request to the run's first step
// started (the earliest Started the run records for a step), beside its
// floor in the same run: the sidecar's run method called over HTTP, with
// no kernel and no magic. first-step-ms is the median over the
// iterations; ns/op also counts waiting for each run to end, and is not
// the figure.
func BenchmarkMagicRunToFirstStep(b *testing.B) {
	root := b.TempDir()
	s, k := magicKernel(b, root)
	started := regexp.MustCompile(`run (\S+) started`)

	// firstStep waits for the run to end and returns when its first step
	// started.
	firstStep := func(b *testing.B, id string) time.Time {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var run cluster.Run
			s.call(b, "run.get", map[string]any{"run": id, "path": "nb.ipynb"}, &run)
			if run.Phase.Done() {
				if run.Phase != cluster.Succeeded {
					b.Fatalf("run %s: %s (%s)", id, run.Phase, run.Message)
				}
				var first time.Time
				for _, st := range run.Steps {
					if !st.Started.IsZero() && (first.IsZero() || st.Started.Before(first)) {
						first = st.Started
					}
				}
				if first.IsZero() {
					b.Fatalf("run %s: no step has a start time", id)
				}
				return first
			}
			if time.Now().After(deadline) {
				b.Fatalf("run %s did not end in time", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	measure := func(b *testing.B, start func(b *testing.B) string) {
		var ms []float64
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			id := start(b)
			ms = append(ms, float64(firstStep(b, id).Sub(t0))/1e6)
		}
		slices.Sort(ms)
		b.ReportMetric(ms[(len(ms)-1)/2], "first-step-ms")
	}
	magic := func(b *testing.B) string {
		out := outputText(execute(b, k, "%datainsight run nb.ipynb -d --no-cache", nil, time.Minute))
		m := started.FindStringSubmatch(out)
		if m == nil {
			b.Fatalf("%%datainsight run -d printed no run id:\n%s", out)
		}
		return m[1]
	}
	viaRPC := func(b *testing.B) string {
		var r kernelgw.RunResult
		s.call(b, "run", map[string]any{"path": "nb.ipynb", "no_cache": true}, &r)
		return r.ID
	}
	// One run first: the first pays for warming the sidecar and the
	// interpreter's caches.
	firstStep(b, magic(b))
	b.Run("magic", func(b *testing.B) { measure(b, magic) })
	b.Run("rpc-floor", func(b *testing.B) { measure(b, viaRPC) })
}

// TestMagicsCheckAndExplore: %datainsight check and %datainsight explore
// in a real kernel. The sidecar cannot reach a kernel that is running the
// magic's own cell, so the magic runs the sidecar's code itself: no
// Jupyter client is given to the sidecar here.
func TestMagicsCheckAndExplore(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{"check.ipynb": checkNotebook, "explore.ipynb": exploreNotebook} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, k := magicKernel(t, root)

	// check: the values of the kernel that no step could be given.
	execute(t, k, "import threading\nimport pandas as pd\nf = open('check.ipynb')\ngen = (i * i for i in range(3))\n"+
		"lock = threading.Lock()\ndf = pd.DataFrame({'a': [1, 2]})\nn = 42\n", nil, 2*time.Minute)
	before := namespace(t, k)
	out := outputText(execute(t, k, "%datainsight check check.ipynb", nil, 2*time.Minute))
	for _, want := range []string{
		"f (_io.TextIOWrapper), output of step make: open files",
		"gen (generator), output of step make: generators",
		"lock (", "5 outputs checked: 3 cannot be passed between steps",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%%datainsight check printed:\n%s\nwant a line with %q", out, want)
		}
	}
	if regexp.MustCompile(`(?m)^(df|n) \(`).MatchString(out) {
		t.Errorf("%%datainsight check lists values that can be saved:\n%s", out)
	}
	boundOnly(t, k, before) // nothing
	if got := execute(t, k, "print(list(gen))", nil, time.Minute).Stdout(); strings.TrimSpace(got) != "[0, 1, 4]" {
		t.Errorf("the generator after the check: %q, want [0, 1, 4]", got)
	}

	// explore: a past run's step inputs, bound here.
	res := execute(t, k, "%datainsight run explore.ipynb --param factor=5", nil, 4*time.Minute)
	m := regexp.MustCompile(`(?m)^run (\S+) Succeeded$`).FindStringSubmatch(outputText(res))
	if m == nil {
		t.Fatalf("%%datainsight run: %s", outputText(res))
	}
	execute(t, k, "del df", nil, time.Minute)
	before = namespace(t, k)
	out = outputText(execute(t, k, "%datainsight explore "+m[1]+" use", nil, 2*time.Minute))
	if !strings.Contains(out, "step use of run "+m[1]+": 4 values bound") || !regexp.MustCompile(`(?m)^df\s+pandas\.core\.frame\.DataFrame 3x1\s+from step make$`).MatchString(out) {
		t.Errorf("%%datainsight explore printed:\n%s", out)
	}
	if got := execute(t, k, "print(values, df['a'].tolist(), label, factor)", nil, time.Minute).Stdout(); strings.TrimSpace(got) != "[1, 2, 3] [10, 20, 30] made 5" {
		t.Errorf("after %%datainsight explore the kernel prints %q, want the run's values", got)
	}
	boundOnly(t, k, before, "df", "factor", "label", "values")
	// A step the run does not have: one line, no traceback.
	bad := execute(t, k, "%datainsight explore "+m[1]+" nope", nil, time.Minute)
	if e := bad.Stderr(); !strings.Contains(e, `"nope"`) || strings.Contains(e, "Traceback") {
		t.Errorf("%%datainsight explore of an unknown step: stderr %q", e)
	}
}
