package local

// Fault injection: runs are killed, starved of disk, denied writes,
// damaged and raced at random points, and after each fault every run must
// be listed with a state that says what happened, retry must finish it,
// nothing of it may be left running, and no step may ever load a value
// that was half written.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/testenv"
)

// runnerEnv makes the test binary a detached runner of the run folder it
// names (what `datainsight __runner` is), so that a test can kill a runner
// as a user's machine would: with SIGKILL, at any point.
const runnerEnv = "DATAINSIGHT_TEST_RUNNER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(runnerEnv); dir != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		l := &Local{Dir: filepath.Dir(dir), Python: os.Getenv("DATAINSIGHT_TEST_RUNNER_PYTHON"), Grace: 2 * time.Second}
		err := l.Execute(ctx, dir)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// detached returns a backend on l's folders whose runs are carried out by
// detached runner processes (the test binary itself).
func detached(t *testing.T, l *Local) *Local {
	d := &Local{Dir: l.Dir, Python: l.Python, WorkDir: l.WorkDir, Grace: l.Grace}
	d.Spawn = func(runDir string) error {
		logf, err := os.OpenFile(filepath.Join(runDir, "runner.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), runnerEnv+"="+runDir, "DATAINSIGHT_TEST_RUNNER_PYTHON="+l.Python)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait() // reaped, so that a killed runner is seen dead at once
		return nil
	}
	return d
}

// faultNotebook: four steps in a diamond, each passing a random blob with
// its checksum, each checking what it loaded, one leaving a child in a
// session of its own (which outlives a killed runner).
const faultNotebook = `# %% tags=["imports"]
import hashlib, os, random, subprocess, time
# %% tags=["block:a"]
blob_a = os.urandom(1 << 20)
sum_a = hashlib.sha256(blob_a).hexdigest()
time.sleep(random.random() * 0.3)
# %% tags=["block:b"]
if hashlib.sha256(blob_a).hexdigest() != sum_a:
    raise SystemExit("HALF-WRITTEN value loaded: blob_a")
child = subprocess.Popen(["sleep", "100000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
os.makedirs("children", exist_ok=True)
open(os.path.join("children", str(child.pid)), "w").close()
blob_b = blob_a[::-1]
sum_b = hashlib.sha256(blob_b).hexdigest()
time.sleep(random.random() * 0.3)
# %% tags=["block:c"]
if hashlib.sha256(blob_a).hexdigest() != sum_a:
    raise SystemExit("HALF-WRITTEN value loaded: blob_a")
blob_c = blob_a + os.urandom(1 << 16)
sum_c = hashlib.sha256(blob_c).hexdigest()
time.sleep(random.random() * 0.3)
# %% tags=["block:d"]
for name, blob, want in (("blob_b", blob_b, sum_b), ("blob_c", blob_c, sum_c)):
    if hashlib.sha256(blob).hexdigest() != want:
        raise SystemExit("HALF-WRITTEN value loaded: " + name)
print("d checked", len(blob_b), len(blob_c))
`

// checkRun asserts what must hold of every run after any fault: it is
// listed, ended, with every step ended; it says why it did not succeed;
// nothing of it runs; no step loaded a half-written value.
func checkRun(t *testing.T, l *Local, id string) *cluster.Run {
	t.Helper()
	runs, err := l.List(context.Background(), cluster.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var r *cluster.Run
	for _, x := range runs {
		if x.ID == id {
			r = x
		}
	}
	if r == nil {
		t.Fatalf("run %s is not listed", id)
	}
	if !r.Phase.Done() {
		t.Errorf("run %s is listed as %s after its end", id, r.Phase)
	}
	for _, s := range r.Steps {
		if !s.Phase.Done() {
			t.Errorf("run %s (%s): step %s is %s", id, r.Phase, s.Name, s.Phase)
		}
		if s.Phase != cluster.Succeeded && s.Message == "" {
			t.Errorf("run %s: step %s is %s and says not why", id, s.Name, s.Phase)
		}
		if s.Phase == cluster.Succeeded && (r.Step(s.Name).Finished.IsZero()) {
			t.Errorf("run %s: step %s succeeded at no time", id, s.Name)
		}
	}
	if r.Phase != cluster.Succeeded && r.Message == "" {
		t.Errorf("run %s is %s and says not why", id, r.Phase)
	}
	if r.Finished.IsZero() || r.Finished.Before(r.Created) {
		t.Errorf("run %s: created %v, finished %v", id, r.Created, r.Finished)
	}
	if out := logsOf(t, l, id, ""); strings.Contains(out, "HALF-WRITTEN") {
		t.Errorf("run %s loaded a half-written value:\n%s", id, out)
	}
	return r
}

// noChildren fails t if a child a step recorded in the notebook's folder
// (children/PID) still runs: the check that does not rely on the marker
// the backend gives its steps' processes.
func noChildren(t *testing.T, workDir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(workDir, "children"))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// (A pid reused since by another process has another command.)
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmd), "100000") {
			t.Errorf("a step's child (pid %d) still runs", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		os.Remove(filepath.Join(workDir, "children", e.Name()))
	}
}

// waitEnded waits until a run is no longer running, whoever carries it.
func waitEnded(t *testing.T, l *Local, id string) {
	t.Helper()
	for {
		r, err := l.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if r.Phase.Done() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stepProcess returns the python3 process of one of the run's running
// steps (0 if none runs now).
func stepProcess(id string, rng *rand.Rand) int {
	var steps []int
	for _, pid := range markedProcs(id, "") {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmd), scriptsDir) {
			steps = append(steps, pid)
		}
	}
	if len(steps) == 0 {
		return 0
	}
	return steps[rng.IntN(len(steps))]
}

func faultSeed(t *testing.T) uint64 {
	seed := uint64(20261207)
	if s := os.Getenv("DATAINSIGHT_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DATAINSIGHT_FAULT_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (set DATAINSIGHT_FAULT_SEED to repeat a failure)", seed)
	return seed
}

// TestFaultKills kills the runner, a step, or both, at random points of
// runs carried out by detached runners, over seeded iterations.
func TestFaultKills(t *testing.T) {
	l := newLocal(t)
	t.Setenv("DATAINSIGHT_VERIFY", "1") // every load checks the value's checksum too
	p := compile(t, faultNotebook, "faults.ipynb")
	d := detached(t, l)
	seed := faultSeed(t)
	const iterations = 12
	outcomes := map[string]int{}
	for i := 0; i < iterations; i++ {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		kind := []string{"runner", "step", "both"}[rng.IntN(3)]
		delay := time.Duration(rng.IntN(1500)) * time.Millisecond
		r, err := d.Submit(context.Background(), p, cluster.SubmitOptions{NoCache: rng.IntN(2) == 0})
		if err != nil {
			t.Fatalf("iteration %d: Submit: %v", i, err)
		}
		time.Sleep(delay)
		st, err := readState(filepath.Join(l.Dir, r.ID))
		if err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		if kind == "step" || kind == "both" {
			if pid := stepProcess(r.ID, rng); pid != 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if (kind == "runner" || kind == "both") && st.RunnerPID != os.Getpid() {
			syscall.Kill(st.RunnerPID, syscall.SIGKILL)
		}
		waitEnded(t, l, r.ID)
		got := checkRun(t, l, r.ID)
		outcomes[fmt.Sprintf("%s→%s", kind, got.Phase)]++
		switch got.Phase {
		case cluster.Error:
			if !strings.Contains(got.Message, "is gone") {
				t.Errorf("iteration %d (%s after %v): Error saying %q", i, kind, delay, got.Message)
			}
		case cluster.Failed:
			if !strings.Contains(got.Message, "failed: ") {
				t.Errorf("iteration %d (%s after %v): Failed saying %q", i, kind, delay, got.Message)
			}
		case cluster.Succeeded:
		default:
			t.Errorf("iteration %d (%s after %v): run %s is %s: %s", i, kind, delay, r.ID, got.Phase, got.Message)
		}
		if got.Phase != cluster.Succeeded {
			// Retried by another runner; whatever the killed one's steps
			// left running is stopped first.
			if _, err := d.Retry(context.Background(), r.ID); err != nil {
				t.Fatalf("iteration %d: Retry(%s): %v", i, r.ID, err)
			}
			waitEnded(t, l, r.ID)
			if got = checkRun(t, l, r.ID); got.Phase != cluster.Succeeded {
				t.Errorf("iteration %d (%s after %v): the retry of %s ended %s: %s\n%s", i, kind, delay, r.ID, got.Phase, got.Message, logsOf(t, l, r.ID, ""))
			}
		}
		noStrays(t, r.ID)
		noChildren(t, l.WorkDir)
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestFaultConcurrentRunsAndDeletes runs the same notebook many times at
// once, from several backends (processes, in effect) sharing its runs
// folder and cache, while earlier runs are deleted.
func TestFaultConcurrentRunsAndDeletes(t *testing.T) {
	l := newLocal(t)
	t.Setenv("DATAINSIGHT_VERIFY", "1")
	p := compile(t, faultNotebook, "race.ipynb")
	rng := rand.New(rand.NewPCG(faultSeed(t), 99))
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		b := &Local{Dir: l.Dir, Python: l.Python, WorkDir: l.WorkDir, Grace: l.Grace}
		noCache := rng.IntN(2) == 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2; i++ {
				r, err := b.Submit(context.Background(), p, cluster.SubmitOptions{NoCache: noCache})
				if err != nil {
					t.Errorf("Submit: %v", err)
					return
				}
				// A running run cannot be deleted.
				if err := b.Delete(context.Background(), r.ID); err != nil && !errors.Is(err, cluster.ErrRunning) {
					t.Errorf("Delete of a running run: %v", err)
				}
				b.Wait(r.ID)
				mu.Lock()
				ids = append(ids, r.ID)
				var victim string
				if len(ids) > 2 {
					victim = ids[0]
					ids = ids[1:]
				}
				mu.Unlock()
				if victim != "" {
					if err := b.Delete(context.Background(), victim); err != nil && !errors.Is(err, cluster.ErrNotFound) {
						t.Errorf("Delete(%s): %v", victim, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	runs, err := l.List(context.Background(), cluster.ListOptions{NotebookID: p.NotebookID})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(ids) {
		t.Errorf("listed %d runs, %d are left undeleted", len(runs), len(ids))
	}
	for _, r := range runs {
		if got := checkRun(t, l, r.ID); got.Phase != cluster.Succeeded {
			t.Errorf("run %s: %s: %s", r.ID, got.Phase, got.Message)
		}
		noStrays(t, r.ID)
	}
	noChildren(t, l.WorkDir)
	// Nothing half-made is left in the runs folder or the cache.
	entries, _ := os.ReadDir(l.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPrefix) || strings.HasPrefix(e.Name(), trashPrefix) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	cached, _ := os.ReadDir(l.cacheDir())
	for _, e := range cached {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind in the cache: %s", e.Name())
		}
	}
}

// TestFaultDiskFull fills a small file system under a run, for real.
func TestFaultDiskFull(t *testing.T) {
	l := newLocal(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt).CombinedOutput(); err != nil {
		// make test runs as root, which may mount one.
		testenv.Missing(t, "cannot mount a tmpfs here (%v: %s); TestFaultDiskFullRecords covers the runner's side with injected ENOSPC", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	l.Dir = filepath.Join(mnt, "runs")
	// The first attempt fills the disk for good (a file of its own beside
	// the runs), then fails saving its value; the retry, once space is
	// freed, succeeds.
	p := compile(t, `# %% tags=["block:fill"]
import os
filler = os.path.join(os.path.dirname(os.environ["DATAINSIGHT_MARSHAL_ROOT"]), "filler")
first = not os.path.exists("attempted")
open("attempted", "w").close()
if first:
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"x" * 65536)
                f.flush()
        except OSError:
            pass
big = os.urandom(1 << 20)
print("filled", first)
# %% tags=["block:use"]
print("got", len(big))
`, "full.ipynb")
	r := runToEnd(t, l, p, cluster.SubmitOptions{})
	if r.Phase != cluster.Error || !strings.Contains(r.Message, "disk full") {
		t.Errorf("run on a full disk: %s %q, want Error saying disk full", r.Phase, r.Message)
	}
	got := checkRun(t, l, r.ID)
	if got.Phase != r.Phase || got.Message != r.Message {
		t.Errorf("listed as %s %q, got as %s %q", got.Phase, got.Message, r.Phase, r.Message)
	}
	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Retry(context.Background(), r.ID); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if r = waitRun(t, l, r.ID); r.Phase != cluster.Succeeded {
		t.Errorf("retry after freeing space: %s %s\n%s", r.Phase, r.Message, logsOf(t, l, r.ID, ""))
	}
	noStrays(t, r.ID)
}

// TestFaultDiskFullRecords makes the runner's own writes fail as on a full
// disk, at each point in turn: the record says what happened, in the space
// set aside for it, and events and record agree.
func TestFaultDiskFullRecords(t *testing.T) {
	base := newLocal(t)
	p := compile(t, "# %% tags=[\"block:a\"]\nprint('a')\nv = 1\n# %% tags=[\"block:b\"]\nprint('b', v)\n", "records.ipynb")
	for _, op := range []string{"state", "event", "log"} {
		for _, after := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s-after-%d", op, after), func(t *testing.T) {
				l := &Local{Dir: filepath.Join(t.TempDir(), "runs"), Python: base.Python, WorkDir: base.WorkDir, Grace: base.Grace}
				var mu sync.Mutex
				n, full := 0, true
				l.faults = func(o string) error {
					mu.Lock()
					defer mu.Unlock()
					if o != op || !full {
						return nil
					}
					if n++; n > after {
						return &os.PathError{Op: "write", Path: o, Err: syscall.ENOSPC}
					}
					return nil
				}
				r, err := l.Submit(context.Background(), p, cluster.SubmitOptions{})
				if err != nil {
					t.Fatal(err)
				}
				l.Wait(r.ID)
				got := checkRun(t, l, r.ID)
				if got.Phase != cluster.Error || !strings.Contains(got.Message, "disk full") {
					t.Errorf("%s writes refused after %d: run is %s %q, want Error saying disk full", op, after, got.Phase, got.Message)
				}
				// A watcher sees the same end.
				if w := waitRun(t, l, r.ID); w.Phase != got.Phase {
					t.Errorf("watched: %s", w.Phase)
				}
				mu.Lock()
				full = false
				mu.Unlock()
				if _, err := l.Retry(context.Background(), r.ID); err != nil {
					t.Fatalf("Retry: %v", err)
				}
				l.Wait(r.ID)
				if got = checkRun(t, l, r.ID); got.Phase != cluster.Succeeded {
					t.Errorf("retry with space again: %s %s", got.Phase, got.Message)
				}
			})
		}
	}
}

// TestFaultReadOnlyRunsFolder: nothing can be recorded, so nothing
// starts, and what is recorded still reads as it was.
func TestFaultReadOnlyRunsFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 processes")
	}
	readOnly, writable := readOnlyMaker(t)
	if readOnly == nil {
		return // it ran as user nobody instead
	}
	l := newLocal(t)
	p := compile(t, "# %% tags=[\"block:a\"]\nimport os\nif not os.path.exists('ok'):\n    raise RuntimeError('not yet')\n", "ro.ipynb")
	failed := runToEnd(t, l, p, cluster.SubmitOptions{})
	if failed.Phase != cluster.Failed {
		t.Fatalf("setup: %s", failed.Phase)
	}
	readOnly(t, l.Dir)
	ctx := context.Background()
	if _, err := l.Submit(ctx, p, cluster.SubmitOptions{}); err == nil || !strings.Contains(err.Error(), l.Dir) {
		t.Errorf("Submit into a read-only runs folder: %v, want an error naming it", err)
	}
	if _, err := l.Retry(ctx, failed.ID); err == nil {
		t.Error("Retry in a read-only runs folder succeeded")
	}
	if err := l.Delete(ctx, failed.ID); err == nil {
		t.Error("Delete in a read-only runs folder succeeded")
	}
	runs, err := l.List(ctx, cluster.ListOptions{})
	if err != nil || len(runs) != 1 || runs[0].Phase != cluster.Failed || IsDamaged(runs[0]) {
		t.Fatalf("List: %v %v", runs, err)
	}
	if !strings.Contains(logsOf(t, l, failed.ID, "a"), "not yet") {
		t.Error("the logs of a run in a read-only folder cannot be read")
	}
	writable(t, l.Dir)
	write(t, filepath.Join(l.WorkDir, "ok"), "")
	if _, err := l.Retry(ctx, failed.ID); err != nil {
		t.Fatal(err)
	}
	if r := waitRun(t, l, failed.ID); r.Phase != cluster.Succeeded {
		t.Errorf("retry once writable: %s %s", r.Phase, r.Message)
	}
}

// readOnlyMaker returns how to make a folder read-only for this process
// and writable again: by its permissions, or, as root (who ignores them),
// by a read-only bind mount. Where root cannot mount, the test is run
// again as user nobody and readOnlyMaker returns nil.
func readOnlyMaker(t *testing.T) (readOnly, writable func(t *testing.T, dir string)) {
	if os.Geteuid() != 0 {
		return func(t *testing.T, dir string) { chmodTree(t, dir, 0o555) },
			func(t *testing.T, dir string) { chmodTree(t, dir, 0o755) }
	}
	probe := t.TempDir()
	if err := syscall.Mount(probe, probe, "", syscall.MS_BIND, ""); err != nil {
		if !testenv.Unprivileged(t) {
			return nil, nil
		}
		t.Fatal("unreachable: Unprivileged runs as root")
	}
	syscall.Unmount(probe, syscall.MNT_DETACH)
	return func(t *testing.T, dir string) {
			t.Helper()
			if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				syscall.Unmount(dir, syscall.MNT_DETACH)
				t.Fatalf("remounting %s read-only: %v", dir, err)
			}
			t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		}, func(t *testing.T, dir string) {
			t.Helper()
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Fatal(err)
			}
		}
}

// chmodTree sets the mode of dir and every folder in it (and puts them
// back at the end, so that the test's folders can be removed).
func chmodTree(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	set := func(mode os.FileMode) {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, mode)
			}
			return nil
		})
	}
	set(mode)
	t.Cleanup(func() { set(0o755) })
}
