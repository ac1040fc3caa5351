package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// newLocal is a backend with its own runs folder and notebook folder.
func newLocal(t *testing.T) *Local {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python3 processes")
	}
	return &Local{Dir: filepath.Join(t.TempDir(), "runs"), Python: python(t), WorkDir: t.TempDir(), Grace: 2 * time.Second}
}

// runToEnd submits a pipeline and follows it to its end.
func runToEnd(t *testing.T, l *Local, p *pipelinegen.Pipeline, opts cluster.SubmitOptions) *cluster.Run {
	t.Helper()
	r, err := l.Submit(context.Background(), p, opts)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return waitRun(t, l, r.ID)
}

// waitRun follows a run to its end (the test's own timeout catches a run
// that never ends) and returns its final state.
func waitRun(t *testing.T, l *Local, id string) *cluster.Run {
	t.Helper()
	ch, err := l.Watch(context.Background(), id)
	if err != nil {
		t.Fatalf("Watch(%s): %v", id, err)
	}
	var last cluster.Event
	for ev := range ch {
		last = ev
	}
	l.Wait(id) // a runner of this process is done with the folders too
	r, err := l.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	// The last word of the events and of the record agree.
	if last.Type != cluster.EventRun || last.Phase != r.Phase || last.Message != r.Message {
		t.Errorf("run %s: its last event says %s %q, its record %s %q", id, last.Phase, last.Message, r.Phase, r.Message)
	}
	return r
}

func logsOf(t *testing.T, l *Local, id, step string) string {
	t.Helper()
	var b bytes.Buffer
	if err := l.Logs(context.Background(), id, cluster.LogOptions{Step: step}, &b); err != nil {
		t.Fatalf("Logs(%s, %q): %v", id, step, err)
	}
	return b.String()
}

// noStrays fails t if a process of the run is still running.
func noStrays(t *testing.T, id string) {
	t.Helper()
	if pids := markedProcs(id, ""); len(pids) > 0 {
		var cmds []string
		for _, pid := range pids {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			cmds = append(cmds, fmt.Sprintf("%d %q", pid, bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
		}
		t.Errorf("processes of run %s still running: %s", id, strings.Join(cmds, "; "))
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Defect: a step that reads a file no other step writes was reused after
// the file changed; so was one that read a file through a path the
// analysis cannot see, or the notebook's own module.
func TestCacheSeesTheFilesAStepReads(t *testing.T) {
	l := newLocal(t)
	p := compile(t, `# %% tags=["block:load"]
import helper
rows = open("data.csv").read().split()
extra = open("ex" + "tra.txt").read()
print("rows", rows, "extra", extra, "k", helper.K)
# %% tags=["block:show"]
print("showing", rows, extra)
`, "reads.ipynb")
	data, extra, helper := filepath.Join(l.WorkDir, "data.csv"), filepath.Join(l.WorkDir, "extra.txt"), filepath.Join(l.WorkDir, "helper.py")
	write(t, data, "a b\n")
	write(t, extra, "one")
	write(t, helper, "K = 1\n")

	run := func(want string) *cluster.Run {
		t.Helper()
		r := runToEnd(t, l, p, cluster.SubmitOptions{})
		if r.Phase != cluster.Succeeded {
			t.Fatalf("run %s: %s %s: %s", r.ID, r.Phase, r.Message, logsOf(t, l, r.ID, ""))
		}
		if out := logsOf(t, l, r.ID, "load"); !strings.Contains(out, want) {
			t.Errorf("run %s: load printed %q, want %q (cached %v)", r.ID, out, want, r.Step("load").Cached)
		}
		return r
	}
	run("rows ['a', 'b'] extra one k 1")
	if r := run("rows ['a', 'b'] extra one k 1"); !r.Step("load").Cached || !r.Step("show").Cached {
		t.Errorf("an unchanged second run is not cached: load %v show %v", r.Step("load").Cached, r.Step("show").Cached)
	}
	// The same size, and the old mtime put back (as cp -p or tar would):
	// only the contents say it changed.
	fi, _ := os.Stat(data)
	write(t, data, "c d\n")
	os.Chtimes(data, fi.ModTime(), fi.ModTime())
	if r := run("rows ['c', 'd'] extra one k 1"); r.Step("load").Cached {
		t.Errorf("data.csv changed, and load was reused from the cache")
	}
	write(t, extra, "two")
	if r := run("rows ['c', 'd'] extra two k 1"); r.Step("load").Cached {
		t.Errorf("extra.txt (a path built at run time) changed, and load was reused")
	}
	write(t, helper, "K = 2\n")
	if r := run("rows ['c', 'd'] extra two k 2"); r.Step("load").Cached {
		t.Errorf("helper.py (the notebook's own module) changed, and load was reused")
	}
	if r := run("rows ['c', 'd'] extra two k 2"); !r.Step("load").Cached {
		t.Errorf("nothing changed since the last run, and load was not reused")
	}
	// A file the step tried to read and found missing is read too.
	p2 := compile(t, `# %% tags=["block:opt"]
import os
try:
    v = open("optional.txt").read()
except OSError:
    v = "none"
print("optional", v)
`, "optional.ipynb")
	r := runToEnd(t, l, p2, cluster.SubmitOptions{})
	if !strings.Contains(logsOf(t, l, r.ID, "opt"), "optional none") {
		t.Fatalf("first run: %s", logsOf(t, l, r.ID, "opt"))
	}
	write(t, filepath.Join(l.WorkDir, "optional.txt"), "here")
	r = runToEnd(t, l, p2, cluster.SubmitOptions{})
	if r.Step("opt").Cached || !strings.Contains(logsOf(t, l, r.ID, "opt"), "optional here") {
		t.Errorf("optional.txt appeared, and opt was reused: %s", logsOf(t, l, r.ID, "opt"))
	}
}

// A step that read a file which changed while it ran is not cached: which
// version it read is unknown.
func TestCacheSkipsAStepWhoseInputChangedUnderIt(t *testing.T) {
	l := newLocal(t)
	p := compile(t, `# %% tags=["block:a"]
v = open("in.txt").read()
open("in.txt", "a").write("more")
print("read", v)
`, "changing.ipynb")
	write(t, filepath.Join(l.WorkDir, "in.txt"), "x")
	runToEnd(t, l, p, cluster.SubmitOptions{})
	if r := runToEnd(t, l, p, cluster.SubmitOptions{}); r.Step("a").Cached {
		t.Error("a step whose input changed while it ran was cached")
	}
}

// Defect: a background child holding the step's output held the step's
// end (and its cancel) until the child exited.
func TestABackgroundChildHoldsNeitherTheStepNorItsCancel(t *testing.T) {
	l := newLocal(t)
	p := compile(t, `# %% tags=["block:popen"]
import subprocess
subprocess.Popen("sleep 100000", shell=True)
print("started")
# %% tags=["block:bang"]
!sleep 100000 &
print("bang done")
# %% tags=["block:escaped"]
import subprocess
subprocess.Popen(["sleep", "100000"], start_new_session=True)
print("escaped")
`, "bg.ipynb")
	r := runToEnd(t, l, p, cluster.SubmitOptions{})
	if r.Phase != cluster.Succeeded {
		t.Fatalf("run %s %s: %s", r.ID, r.Phase, r.Message)
	}
	noStrays(t, r.ID)

	// Cancelled while a child it started in a session of its own holds
	// its output.
	hold := compile(t, `# %% tags=["block:hold"]
import subprocess, time
subprocess.Popen("sleep 100000", shell=True, start_new_session=True)
print("holding", flush=True)
time.sleep(100000)
`, "hold.ipynb")
	r, err := l.Submit(context.Background(), hold, cluster.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, l, r.ID, "hold", "holding")
	if err := l.Cancel(context.Background(), r.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if r = waitRun(t, l, r.ID); r.Phase != cluster.Cancelled {
		t.Errorf("cancelled run is %s: %s", r.Phase, r.Message)
	}
	noStrays(t, r.ID)

	// The same, cancelled from another process than its runner's.
	d := detached(t, l)
	if r, err = d.Submit(context.Background(), hold, cluster.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLog(t, l, r.ID, "hold", "holding")
	other := &Local{Dir: l.Dir, Python: l.Python, Grace: l.Grace}
	if err := other.Cancel(context.Background(), r.ID); err != nil {
		t.Fatalf("Cancel from another process: %v", err)
	}
	if r, _ = other.Get(context.Background(), r.ID); r.Phase != cluster.Cancelled {
		t.Errorf("cancelled detached run is %s: %s", r.Phase, r.Message)
	}
	noStrays(t, r.ID)
}

// waitLog waits until a step's log holds want.
func waitLog(t *testing.T, l *Local, id, step, want string) {
	t.Helper()
	for i := 0; ; i++ {
		if strings.Contains(logsOf(t, l, id, step), want) {
			return
		}
		if r, _ := l.Get(context.Background(), id); r != nil && r.Phase.Done() {
			t.Fatalf("run %s ended (%s: %s) before step %s printed %q", id, r.Phase, r.Message, step, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Defect: a run.json that could not be read made the run vanish from the
// list, and delete could not remove it.
func TestADamagedRunIsListedAndCanBeDeleted(t *testing.T) {
	l := newLocal(t)
	p := compile(t, "# %% tags=[\"block:a\"]\nprint('a')\n", "damaged.ipynb")
	good := runToEnd(t, l, p, cluster.SubmitOptions{})
	torn := runToEnd(t, l, p, cluster.SubmitOptions{})
	gone := runToEnd(t, l, p, cluster.SubmitOptions{})
	write(t, filepath.Join(l.Dir, torn.ID, stateFile), `{"id": "`+torn.ID+`", "phase": "Runn`)
	os.Remove(filepath.Join(l.Dir, gone.ID, stateFile))

	ctx := context.Background()
	runs, err := l.List(ctx, cluster.ListOptions{NotebookID: p.NotebookID})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]*cluster.Run{}
	for _, r := range runs {
		seen[r.ID] = r
	}
	if r := seen[good.ID]; r == nil || r.Phase != cluster.Succeeded {
		t.Errorf("the good run is listed as %+v", r)
	}
	for id, why := range map[string]string{torn.ID: "unexpected end of JSON input", gone.ID: "run.json is missing"} {
		r := seen[id]
		if r == nil {
			t.Errorf("damaged run %s is not listed", id)
			continue
		}
		if !IsDamaged(r) || !strings.Contains(r.Message, why) || !r.Phase.Done() || r.Notebook != "damaged.ipynb" || r.Created.IsZero() {
			t.Errorf("damaged run %s listed as %s %q (notebook %q, created %v), want damaged saying %q", id, r.Phase, r.Message, r.Notebook, r.Created, why)
		}
		if g, err := l.Get(ctx, id); err != nil || !IsDamaged(g) {
			t.Errorf("Get(%s) = %+v, %v", id, g, err)
		}
		if _, err := l.Retry(ctx, id); !errors.Is(err, ErrDamaged) {
			t.Errorf("Retry(%s) = %v, want ErrDamaged", id, err)
		}
		if err := l.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%s): %v", id, err)
		}
		if _, err := l.Get(ctx, id); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("Get(%s) after Delete: %v", id, err)
		}
	}
	// A run of another notebook whose pipeline.json is damaged too is
	// listed with all runs, not with this notebook's.
	other := runToEnd(t, l, compile(t, "# %% tags=[\"block:z\"]\nprint('z')\n", "other.ipynb"), cluster.SubmitOptions{})
	write(t, filepath.Join(l.Dir, other.ID, stateFile), "garbage")
	write(t, filepath.Join(l.Dir, other.ID, pipelineFile), "garbage")
	mine, _ := l.List(ctx, cluster.ListOptions{NotebookID: p.NotebookID})
	all, _ := l.List(ctx, cluster.ListOptions{})
	if len(mine) != 1 || len(all) != 2 {
		t.Errorf("listed %d runs of the notebook (want 1) and %d in all (want 2)", len(mine), len(all))
	}
}

// Defect: a run whose runner died went on growing its duration, and after
// a retry the duration counted the time it lay dead.
func TestADeadRunStopsTheClock(t *testing.T) {
	l := newLocal(t)
	p := compile(t, "# %% tags=[\"block:a\"]\nprint('a')\n# %% tags=[\"block:b\"]\nprint('b')\n", "dead.ipynb")
	r := runToEnd(t, l, p, cluster.SubmitOptions{})
	// Make it a run whose runner died while b ran: a process that has
	// exited, recorded as its runner.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(l.Dir, r.ID)
	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Phase, st.Finished, st.RunnerPID, st.RunnerStart = cluster.Running, time.Time{}, dead.Process.Pid, 0
	st.Step("b").Phase, st.Step("b").Finished = cluster.Running, time.Time{}
	if err := writeJSON(filepath.Join(dir, stateFile), st); err != nil {
		t.Fatal(err)
	}
	seen := time.Now().Add(-time.Hour) // its runner was last seen an hour ago
	os.Chtimes(filepath.Join(dir, stateFile), seen, seen)

	ctx := context.Background()
	first, _ := l.Get(ctx, r.ID)
	time.Sleep(50 * time.Millisecond)
	again, _ := l.Get(ctx, r.ID)
	if first.Phase != cluster.Error || first.Finished.IsZero() || !again.Finished.Equal(first.Finished) {
		t.Fatalf("dead run: %s, finished %v then %v; want Error with a fixed end", first.Phase, first.Finished, again.Finished)
	}
	if b := first.Step("b"); b.Phase != cluster.Error || b.Finished.IsZero() {
		t.Errorf("the interrupted step: %+v", b)
	}
	if _, err := l.Retry(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	after := waitRun(t, l, r.ID)
	if after.Phase != cluster.Succeeded {
		t.Fatalf("retried run %s: %s", after.Phase, after.Message)
	}
	// The retry's time is its own: it starts after the runner died.
	if after.Started.Before(first.Finished) {
		t.Errorf("retried run started %v, before its dead attempt ended (%v): its duration counts the dead time", after.Started, first.Finished)
	}
}

// Defect: cached steps had no output in logs or report.
func TestACachedStepKeepsItsStory(t *testing.T) {
	l := newLocal(t)
	p := compile(t, `# %% tags=["block:a"]
print("computing a")
v = 1
# %% tags=["block:b"]
print("b got", v)
`, "story.ipynb")
	r1 := runToEnd(t, l, p, cluster.SubmitOptions{})
	r2 := runToEnd(t, l, p, cluster.SubmitOptions{})
	if !r2.Step("a").Cached {
		t.Fatalf("second run not cached")
	}
	want := "# cached: output of run " + r1.ID + "\n"
	for _, step := range []string{"a", "b"} {
		out := logsOf(t, l, r2.ID, step)
		if !strings.HasPrefix(out, want) || !strings.Contains(out, map[string]string{"a": "computing a", "b": "b got 1"}[step]) {
			t.Errorf("Logs(%s, %s) = %q, want %q then the output it had", r2.ID, step, out, want)
		}
	}
	var all bytes.Buffer
	l.Logs(context.Background(), r2.ID, cluster.LogOptions{}, &all)
	if !strings.Contains(all.String(), "a | "+want) || !strings.Contains(all.String(), "a | computing a") {
		t.Errorf("Logs(all) = %q", all.String())
	}
	var nb, page bytes.Buffer
	if err := l.Report(context.Background(), r2.ID, cluster.ReportOptions{Step: "a"}, &nb); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cells []struct {
			Source any `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(nb.Bytes(), &doc); err != nil || len(doc.Cells) == 0 || !strings.Contains(fmt.Sprint(doc.Cells[0].Source), "cached: output of run "+r1.ID) {
		t.Errorf("Report(a) does not start by naming %s (%v): %.300s", r1.ID, err, nb.String())
	}
	if !strings.Contains(nb.String(), "computing a") {
		t.Errorf("Report(a) lacks the output: %.500s", nb.String())
	}
	l.Report(context.Background(), r2.ID, cluster.ReportOptions{Step: "a", HTML: true}, &page)
	if !strings.Contains(page.String(), "cached: output of run "+r1.ID) || !strings.Contains(page.String(), "computing a") {
		t.Errorf("Report(a, html) = %.500s", page.String())
	}
	// Through a resumed run, the output is still the run's that computed it.
	r3 := runToEnd(t, l, p, cluster.SubmitOptions{NoCache: true, ResumeFrom: r2.ID})
	if out := logsOf(t, l, r3.ID, "a"); !strings.HasPrefix(out, want) || strings.Count(out, "# cached") != 1 {
		t.Errorf("resumed from %s: Logs(a) = %q", r2.ID, out)
	}
	r4 := runToEnd(t, l, p, cluster.SubmitOptions{NoCache: true})
	r5 := runToEnd(t, l, p, cluster.SubmitOptions{NoCache: true, ResumeFrom: r4.ID})
	if out := logsOf(t, l, r5.ID, "a"); !strings.HasPrefix(out, "# cached: output of run "+r4.ID+"\n") || !strings.Contains(out, "computing a") {
		t.Errorf("resumed from %s: Logs(a) = %q", r4.ID, out)
	}
	// A computed step's log and report say nothing of a cache.
	if out := logsOf(t, l, r1.ID, "a"); strings.Contains(out, "cached") {
		t.Errorf("Logs of a computed step: %q", out)
	}
}

// A cache entry whose values are damaged is computed again, never handed
// to the next step.
func TestADamagedCacheEntryIsNotReused(t *testing.T) {
	l := newLocal(t)
	p := compile(t, "# %% tags=[\"block:a\"]\nv = list(range(1000))\n# %% tags=[\"block:b\"]\nprint(sum(v))\n", "entry.ipynb")
	r1 := runToEnd(t, l, p, cluster.SubmitOptions{})
	key := r1.Step("a").CacheKey
	m, err := manifestValues(filepath.Join(l.cacheDir(), key))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		File string `json:"file"`
	}
	json.Unmarshal(m["v"], &e)
	// Cut short, as a disk that filled while the entry was made would.
	os.Truncate(filepath.Join(l.cacheDir(), key, e.File), 3)
	r2 := runToEnd(t, l, p, cluster.SubmitOptions{})
	if r2.Phase != cluster.Succeeded || r2.Step("a").Cached {
		t.Errorf("run after the entry was damaged: %s (%s), a cached %v", r2.Phase, r2.Message, r2.Step("a").Cached)
	}
}
