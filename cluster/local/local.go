// Package local is the embedded default backend: it runs a compiled
// pipeline's steps as python3 processes on this machine, in DAG order,
// independent steps in parallel, with everything about a run recorded
// under a runs directory so that another process (or a later one, after a
// crash) can list, follow, cancel and retry it.
package local

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

var _ cluster.Backend = (*Local)(nil)

// Local runs pipelines on this machine.
type Local struct {
	// Dir is the runs directory (.datainsight/runs next to the notebook,
	// by default).
	Dir string
	// Python is the interpreter steps run with.
	Python string
	// WorkDir is where steps run; "" means the notebook's folder.
	WorkDir string
	// Parallelism bounds concurrent steps; 0 means the number of cores.
	Parallelism int
	// Grace is how long a cancelled step has between SIGTERM and SIGKILL.
	Grace time.Duration
	// Spawn, when set, starts a detached process that calls Execute on
	// the run directory (run --detach); when nil the run is carried out by
	// goroutines of this process.
	Spawn func(runDir string) error
	// Snapshot, when set, is saved with each new run (the notebook as it
	// was when the run started).
	Snapshot []byte
	// Store, when set, is the object store new runs keep their values in
	// (a marshal target s3://BUCKET/PREFIX, its endpoint and keys): each
	// step's inputs come from it and its outputs go to it, as on a
	// cluster (see objstore.go). A run records where its store is, not
	// the keys.
	Store *s3store.Config
	// Log, when set, is told what the records could not say: a run's
	// state that could not be written (the disk is full). The detached
	// runner points it at its runner.log.
	Log *slog.Logger

	mu   sync.Mutex
	live map[string]*liveRun // runs carried out by this process

	// faults, set by tests, makes the runner's writes of its records fail
	// ("state", "event", "log"): a disk that fills, without filling one.
	faults func(op string) error
}

func (l *Local) inject(op string) error {
	if l.faults == nil {
		return nil
	}
	return l.faults(op)
}

type liveRun struct {
	r      *runner
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *Local) grace() time.Duration {
	if l.Grace > 0 {
		return l.Grace
	}
	return 5 * time.Second
}

func (l *Local) cacheDir() string { return filepath.Join(l.Dir, cacheDir) }

func (l *Local) runDir(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("%w: %q is not a run id", cluster.ErrNotFound, id)
	}
	dir := filepath.Join(l.Dir, id)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w: %s (looked in %s)", cluster.ErrNotFound, id, l.Dir)
	}
	return dir, nil
}

// Call holds one call's inputs that Local's fields WorkDir, Snapshot and
// Spawn give otherwise: a process serving many notebooks at once (the
// sidecar) passes them with each call instead of changing a shared Local.
type Call struct {
	WorkDir  string
	Snapshot []byte
	Spawn    func(runDir string) error
}

func (l *Local) call() Call { return Call{WorkDir: l.WorkDir, Snapshot: l.Snapshot, Spawn: l.Spawn} }

// Submit records a new run and starts it.
func (l *Local) Submit(ctx context.Context, p *pipelinegen.Pipeline, opts cluster.SubmitOptions) (*cluster.Run, error) {
	return l.SubmitCall(ctx, p, opts, l.call())
}

// SubmitCall is Submit with the call's own inputs.
func (l *Local) SubmitCall(ctx context.Context, p *pipelinegen.Pipeline, opts cluster.SubmitOptions, c Call) (*cluster.Run, error) {
	if l.Python == "" {
		return nil, errors.New("local backend: no Python interpreter configured")
	}
	if c.WorkDir == "" {
		c.WorkDir = filepath.Dir(p.Notebook)
	}
	return l.submit(ctx, p, opts, c)
}

// submit records and starts a run whose steps run in workDir. A relative
// folder is made absolute here, against the current folder, because the
// steps and a detached runner are started with other working directories.
func (l *Local) submit(ctx context.Context, p *pipelinegen.Pipeline, opts cluster.SubmitOptions, c Call) (*cluster.Run, error) {
	params, err := pipelinegen.ParameterValues(p, opts.Parameters)
	if err != nil {
		return nil, err
	}
	workDir, snapshot := c.WorkDir, c.Snapshot
	if workDir, err = filepath.Abs(workDir); err != nil {
		return nil, err
	}
	if opts.ResumeFrom != "" {
		if _, err := l.runDir(opts.ResumeFrom); err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
	}
	par := opts.Parallelism
	if par <= 0 {
		par = l.Parallelism
	}
	if par <= 0 {
		par = runtime.NumCPU()
	}
	var store *s3store.Config
	if l.Store != nil {
		// Checked before the run exists: a wrong key or bucket is the
		// command's error, not every step's.
		if _, err := s3store.Open(ctx, *l.Store); err != nil {
			return nil, fmt.Errorf("marshal target %s: %w", l.Store.Target(), err)
		}
		cfg := *l.Store
		store = &cfg
	}
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("recording a new run in %s: %w", l.Dir, err)
	}
	var id, dir, staging string
	for {
		id = newRunID(runName(p.Name))
		dir = filepath.Join(l.Dir, id)
		staging = filepath.Join(l.Dir, stagingPrefix+id)
		if _, err := os.Lstat(dir); err == nil {
			continue
		}
		if err := os.Mkdir(staging, 0o755); err == nil {
			break
		} else if !os.IsExist(err) {
			return nil, fmt.Errorf("recording a new run in %s: %w", l.Dir, err)
		}
	}
	st := &state{
		Run: cluster.Run{
			ID: id, Backend: "local", Pipeline: p.Name, Notebook: p.Notebook, NotebookID: p.NotebookID,
			Phase: cluster.Pending, Parameters: params, Created: time.Now().UTC(), ResumedFrom: opts.ResumeFrom,
		},
		Python: l.Python, WorkDir: workDir, Parallelism: par, NoCache: opts.NoCache, Store: store,
	}
	for _, s := range p.Steps {
		st.Steps = append(st.Steps, cluster.StepStatus{Name: s.Name, Phase: cluster.Pending})
	}
	// Until a runner takes the run over, it is this process's: it is not
	// taken for a run whose runner died.
	st.RunnerPID = os.Getpid()
	st.RunnerStart, _ = processStart(st.RunnerPID)
	if err := l.writeRun(staging, p, st, snapshot); err != nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("recording run %s in %s: %w", id, l.Dir, err)
	}
	if err := os.Rename(staging, dir); err != nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("recording run %s in %s: %w", id, l.Dir, err)
	}
	unlock, err := lockRun(dir)
	if err != nil {
		return nil, err
	}
	err = l.start(dir, st, c.Spawn)
	unlock()
	if err != nil {
		return nil, err
	}
	if c.Spawn != nil {
		if err := l.awaitRunner(ctx, dir); err != nil {
			return nil, err
		}
	}
	return st.view(), nil
}

// writeRun writes everything a runner needs into a new run directory.
func (l *Local) writeRun(dir string, p *pipelinegen.Pipeline, st *state, snapshot []byte) error {
	for _, d := range []string{scriptsDir, logsDir} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if _, err := pipelinegen.WriteRuntime(dir); err != nil {
		return err
	}
	for _, s := range p.Steps {
		if err := writeFile(filepath.Join(dir, scriptsDir, s.Name+".py"), []byte(s.Script)); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, logsDir, s.Name+".log"), nil, 0o644); err != nil {
			return err
		}
	}
	if snapshot != nil {
		if err := writeFile(filepath.Join(dir, snapshotFile), snapshot); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, lockFile), nil, 0o644); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, pipelineFile), p); err != nil {
		return err
	}
	ev := cluster.Event{Time: st.Created, Run: st.ID, Type: cluster.EventRun, Phase: cluster.Pending,
		Message: fmt.Sprintf("run %s of %s: %d steps", st.ID, p.Notebook, len(p.Steps))}
	line, _ := json.Marshal(ev)
	if err := os.WriteFile(filepath.Join(dir, eventsFile), append(line, '\n'), 0o644); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, stateFile), st)
}

// start hands a recorded run to a runner: a detached process, or
// goroutines of this one. Callers hold the run's lock, and have recorded
// this process as the run's (st), so that nothing takes the run for one
// whose runner died before its runner has taken it over.
func (l *Local) start(dir string, st *state, spawn func(runDir string) error) error {
	if st.RunnerPID != os.Getpid() {
		st.RunnerPID = os.Getpid()
		st.RunnerStart, _ = processStart(st.RunnerPID)
		if err := writeJSON(filepath.Join(dir, stateFile), st); err != nil {
			return err
		}
	}
	if spawn != nil {
		return spawn(dir)
	}
	r, err := newRunner(l, dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	lr := &liveRun{r: r, cancel: cancel, done: make(chan struct{})}
	l.mu.Lock()
	if l.live == nil {
		l.live = map[string]*liveRun{}
	}
	l.live[r.st.ID] = lr
	l.mu.Unlock()
	go func() {
		defer close(lr.done)
		defer cancel()
		r.execute(ctx)
	}()
	return nil
}

// awaitRunner waits until the detached runner of a run has taken it over
// (or ended it), so that the run never looks abandoned after this process
// returns.
func (l *Local) awaitRunner(ctx context.Context, dir string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := readState(dir)
		if err == nil && (st.RunnerPID != os.Getpid() || st.Phase.Done()) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the detached runner of run %s did not start (see %s)", filepath.Base(dir), filepath.Join(dir, "runner.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Execute carries out a recorded run in this process until it ends or ctx
// is cancelled (which cancels the run). It is what a detached runner
// process calls.
func (l *Local) Execute(ctx context.Context, runDir string) error {
	r, err := newRunner(l, runDir)
	if err != nil {
		return err
	}
	r.execute(ctx)
	return nil
}

// Wait blocks until a run carried out by this process has finished.
func (l *Local) Wait(id string) {
	l.mu.Lock()
	lr := l.live[id]
	l.mu.Unlock()
	if lr != nil {
		<-lr.done
	}
}

// load finds a run and reads its state. A damaged one's folder is
// returned with the error.
func (l *Local) load(id string) (string, *state, error) {
	dir, err := l.runDir(id)
	if err != nil {
		return "", nil, err
	}
	st, err := readState(dir)
	if err != nil {
		return dir, nil, fmt.Errorf("run %s: %w", id, err)
	}
	return dir, st, nil
}

// Get returns a run's state; a run whose record is damaged is an Error
// saying so.
func (l *Local) Get(ctx context.Context, id string) (*cluster.Run, error) {
	dir, st, err := l.load(id)
	if errors.Is(err, ErrDamaged) {
		return damagedView(dir, err), nil
	}
	if err != nil {
		return nil, err
	}
	return st.view(), nil
}

// Watch follows a run's event log from its start until the run ends.
func (l *Local) Watch(ctx context.Context, id string) (<-chan cluster.Event, error) {
	dir, err := l.runDir(id)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, eventsFile))
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(st.EventsFrom, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	ch := make(chan cluster.Event, 16)
	go func() {
		defer close(ch)
		defer f.Close()
		rd := bufio.NewReader(f)
		var partial []byte
		drained := false
		for {
			line, err := rd.ReadBytes('\n')
			if err == nil {
				line = append(partial, line...)
				partial = nil
				var ev cluster.Event
				if json.Unmarshal(line, &ev) == nil {
					select {
					case ch <- ev:
					case <-ctx.Done():
						return
					}
					if ev.Type == cluster.EventRun && ev.Phase.Done() {
						return
					}
				}
				continue
			}
			partial = append(partial, line...)
			// At the end of the log: stop if the run can make no more
			// events, else wait for the next one. run.json is written
			// before each event, so once it says the run ended (or its
			// runner is gone) the log holds all there is — bar the
			// final event itself when the disk refused it — and run.json
			// has the last word.
			if st, err := readState(dir); err == nil && (st.Phase.Done() || !st.alive()) {
				if !drained {
					drained = true // one more look: events written meanwhile
					continue
				}
				v := st.view()
				end := v.Finished
				if end.IsZero() {
					end = time.Now().UTC()
				}
				select {
				case ch <- cluster.Event{Time: end, Run: id, Type: cluster.EventRun, Phase: v.Phase, Message: v.Message}:
				case <-ctx.Done():
				}
				return
			}
			if !l.waitEvent(ctx, id) {
				return
			}
		}
	}()
	return ch, nil
}

// waitEvent waits for a run's next event: woken at once for runs of this
// process, by polling the log for runs of another.
func (l *Local) waitEvent(ctx context.Context, id string) bool {
	var wake <-chan struct{}
	l.mu.Lock()
	if lr := l.live[id]; lr != nil {
		lr.r.mu.Lock()
		wake = lr.r.wake
		lr.r.mu.Unlock()
	}
	l.mu.Unlock()
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// Logs writes a step's log, or every step's with each line prefixed
// "STEP | ", optionally following them until the run ends.
func (l *Local) Logs(ctx context.Context, id string, opts cluster.LogOptions, w io.Writer) error {
	dir, p, err := l.runPipeline(id)
	if err != nil {
		return err
	}
	var steps []string
	for _, s := range p.Steps {
		if opts.Step == "" || s.Name == opts.Step {
			steps = append(steps, s.Name)
		}
	}
	if len(steps) == 0 {
		return fmt.Errorf("run %s has no step %q", id, opts.Step)
	}
	tails := make([]*logTail, len(steps))
	for i, s := range steps {
		prefix := ""
		if opts.Step == "" {
			prefix = s + " | "
		}
		tails[i] = newLogTail(filepath.Join(dir, logsDir, s+".log"), prefix)
	}
	var mu sync.Mutex
	out := func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := w.Write(b)
		return err
	}
	for {
		for _, t := range tails {
			if err := t.drain(ctx, out, false); err != nil {
				return err
			}
		}
		if !opts.Follow {
			break
		}
		st, err := readState(dir)
		if err != nil {
			return err
		}
		if v := st.view(); v.Phase.Done() {
			for _, t := range tails {
				if err := t.drain(ctx, out, true); err != nil {
					return err
				}
			}
			return nil
		}
		if !l.waitEvent(ctx, id) {
			return ctx.Err()
		}
	}
	for _, t := range tails {
		if err := t.drain(ctx, out, true); err != nil {
			return err
		}
	}
	return nil
}

// runPipeline returns a run's folder and the pipeline it ran.
func (l *Local) runPipeline(id string) (string, *pipelinegen.Pipeline, error) {
	dir, err := l.runDir(id)
	if err != nil {
		return "", nil, err
	}
	p, err := readPipeline(dir)
	return dir, p, err
}

// Report copies a step's report from the run's folder.
func (l *Local) Report(ctx context.Context, id string, opts cluster.ReportOptions, w io.Writer) error {
	dir, p, err := l.runPipeline(id)
	if err != nil {
		return err
	}
	if p.Step(opts.Step) == nil {
		return fmt.Errorf("run %s has no step %q", id, opts.Step)
	}
	name := pipelinegen.StepReport
	if opts.HTML {
		name = pipelinegen.StepReportHTML
	}
	f, err := os.Open(filepath.Join(dir, opts.Step, name))
	if os.IsNotExist(err) {
		return fmt.Errorf("run %s: step %s has %w yet (it has not run, or was skipped)", id, opts.Step, cluster.ErrNoReport)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// A step reused from an earlier run has that run's report: it says
	// so, as its log does.
	if origin := cachedFrom(filepath.Join(dir, opts.Step)); origin != "" {
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if opts.HTML {
			data = markHTMLReport(data, origin)
		} else {
			data = markNotebookReport(data, origin)
		}
		_, err = w.Write(data)
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// logTail reads a growing log file. With a prefix it writes whole lines,
// each prefixed, so that the lines of steps followed side by side do not
// mix; without one it writes the bytes as they are.
//
// It streams: the file is read a chunk at a time into a buffer kept across
// calls, so a log of any size is written in time linear in its size and in
// memory bounded by the buffer (a 200 MB log was once read whole and
// rescanned per line: quadratic time and the log's size in memory).
type logTail struct {
	path  string
	off   int64
	batch []byte // what one chunk writes; reused, unless large
	lines cluster.Lines
}

// chunks are the read buffers of logTail.drain, shared: a sidecar
// following 50 runs holds a tail per step, and a buffer each, kept
// between drains that mostly find nothing new, came to 12 MB.
var chunks = sync.Pool{New: func() any { b := make([]byte, logChunk); return &b }}

// maxKeptBatch is the largest batch a tail keeps between drains.
const maxKeptBatch = 16 << 10

func newLogTail(path, prefix string) *logTail {
	return &logTail{path: path, lines: cluster.Lines{Prefix: prefix}}
}

// logChunk is how much of a log one read takes: large enough that the
// per-write cost vanishes, small enough to be a fixed cost in memory.
const logChunk = 256 << 10

// drain writes what the log gained since the last call; final writes a
// last unended line too, ending it with a newline. It stops, with ctx's
// error, between two chunks when ctx is done.
func (t *logTail) drain(ctx context.Context, out func([]byte) error, final bool) error {
	f, err := os.Open(t.path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return err
	}
	bp := chunks.Get().(*[]byte)
	defer chunks.Put(bp)
	defer func() {
		if cap(t.batch) > maxKeptBatch {
			t.batch = nil
		}
	}()
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := f.Read(buf)
		t.off += int64(n)
		if n > 0 {
			if err := t.write(buf[:n], out); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if !final {
		return nil
	}
	b := t.lines.End(t.batch[:0])
	t.batch = b[:0]
	if len(b) == 0 {
		return nil
	}
	return out(b)
}

// write passes one chunk on: as it is without a prefix, else line by line.
func (t *logTail) write(chunk []byte, out func([]byte) error) error {
	b := t.lines.Append(t.batch[:0], chunk)
	t.batch = b[:0]
	if len(b) == 0 {
		return nil
	}
	return out(b)
}

// Cancel stops a run: in this process directly, else by signalling the
// process carrying it out. A run whose runner is gone is marked
// cancelled, and whatever its steps left running is stopped.
func (l *Local) Cancel(ctx context.Context, id string) error {
	dir, err := l.runDir(id)
	if err != nil {
		return err
	}
	l.mu.Lock()
	lr := l.live[id]
	l.mu.Unlock()
	if lr != nil {
		lr.cancel()
		<-lr.done
		return nil
	}
	st, err := readState(dir)
	if errors.Is(err, ErrDamaged) {
		killTree(0, id, "")
		return fmt.Errorf("cancel %s: %w; its processes are stopped, and `datainsight delete %s` removes it", id, err, id)
	}
	if err != nil {
		return err
	}
	if st.Phase.Done() {
		return nil
	}
	if st.alive() {
		if err := syscall.Kill(st.RunnerPID, syscall.SIGTERM); err != nil {
			return fmt.Errorf("cancel %s: signalling its runner (pid %d): %w", id, st.RunnerPID, err)
		}
		// The runner stops its steps (grace period included) and records
		// the outcome; wait for it so the caller sees the final state.
		deadline := time.Now().Add(l.grace() + drainAfterExit + 10*time.Second)
		for time.Now().Before(deadline) {
			if st, err := readState(dir); err == nil && (st.Phase.Done() || !st.alive()) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return fmt.Errorf("cancel %s: its runner (pid %d) did not stop in time", id, st.RunnerPID)
	}
	unlock, err := lockRun(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if st, err = readState(dir); err != nil {
		return err
	}
	if st.Phase.Done() || st.alive() {
		return nil // another command got there first, or a retry started it
	}
	// The runner died; what its steps started may not have.
	killTree(0, id, "")
	end := st.lastSeen()
	st.Phase, st.Message, st.Finished = cluster.Cancelled, "cancelled (its runner had died)", end
	for i := range st.Steps {
		if !st.Steps[i].Phase.Done() {
			st.Steps[i].Phase, st.Steps[i].Message = cluster.Cancelled, "cancelled"
			if !st.Steps[i].Started.IsZero() {
				st.Steps[i].Finished = end
			}
		}
	}
	if err := writeJSON(filepath.Join(dir, stateFile), st); err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	return nil
}

// Retry reruns the unsucceeded steps of a finished run in place.
func (l *Local) Retry(ctx context.Context, id string) (*cluster.Run, error) {
	return l.RetryCall(ctx, id, l.call())
}

// RetryCall is Retry with the call's own inputs (only Spawn counts: the
// run keeps its folder and notebook).
func (l *Local) RetryCall(ctx context.Context, id string, c Call) (*cluster.Run, error) {
	dir, err := l.runDir(id)
	if err != nil {
		return nil, err
	}
	unlock, err := lockRun(dir)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if err != nil {
		unlock()
		if errors.Is(err, ErrDamaged) {
			return nil, fmt.Errorf("retry %s: %w: it cannot be retried; `datainsight delete %s` removes it", id, err, id)
		}
		return nil, err
	}
	v := st.view()
	if !v.Phase.Done() {
		unlock()
		return nil, fmt.Errorf("retry %s: %w", id, cluster.ErrRunning)
	}
	n := 0
	for i := range st.Steps {
		if st.Steps[i].Phase != cluster.Succeeded {
			st.Steps[i] = cluster.StepStatus{Name: st.Steps[i].Name, Phase: cluster.Pending}
			n++
		}
	}
	if n == 0 {
		unlock()
		return nil, fmt.Errorf("retry %s: %w", id, cluster.ErrNothingToDo)
	}
	// Processes the steps of a runner that died left running must not
	// write into the new attempt.
	killTree(0, id, "")
	// The retry is a new attempt: its time is its own, not the time since
	// the run first started (which would count the time it lay dead or
	// failed), as its events are.
	st.Phase, st.Message, st.Started, st.Finished = cluster.Pending, "", time.Time{}, time.Time{}
	st.RunnerPID = os.Getpid()
	st.RunnerStart, _ = processStart(st.RunnerPID)
	// A watcher of the retried run starts from here, not from the events
	// of the attempt that failed.
	if fi, err := os.Stat(filepath.Join(dir, eventsFile)); err == nil {
		st.EventsFrom = fi.Size()
	}
	if err := writeJSON(filepath.Join(dir, stateFile), st); err != nil {
		unlock()
		return nil, fmt.Errorf("retry %s: %w", id, err)
	}
	ev, _ := json.Marshal(cluster.Event{Time: time.Now().UTC(), Run: id, Type: cluster.EventRun, Phase: cluster.Pending, Message: fmt.Sprintf("retrying %d steps", n)})
	// Best effort, as run.json (written above) is the record: a watcher
	// misses only this line, never reads half of it.
	appendLine(filepath.Join(dir, eventsFile), ev)
	err = l.start(dir, st, c.Spawn)
	unlock()
	if err != nil {
		return nil, err
	}
	if c.Spawn != nil {
		if err := l.awaitRunner(ctx, dir); err != nil {
			return nil, err
		}
	}
	return st.view(), nil
}

// Resubmit starts a new run of a finished run's pipeline and parameters,
// without the cache: every step runs again.
func (l *Local) Resubmit(ctx context.Context, id string) (*cluster.Run, error) {
	return l.ResubmitCall(ctx, id, l.call())
}

// ResubmitCall is Resubmit with the call's own inputs (only Spawn counts:
// the new run is of the earlier run's folder and notebook).
func (l *Local) ResubmitCall(ctx context.Context, id string, c Call) (*cluster.Run, error) {
	dir, st, err := l.load(id)
	if err != nil {
		return nil, err
	}
	if v := st.view(); !v.Phase.Done() {
		return nil, fmt.Errorf("resubmit %s: %w", id, cluster.ErrRunning)
	}
	p, err := readPipeline(dir)
	if err != nil {
		return nil, err
	}
	// The new run is of the same notebook as it was then.
	snap, _ := os.ReadFile(filepath.Join(dir, snapshotFile))
	// In the folder that run's steps ran in: the notebook's path as typed
	// then may be relative to another folder than this command's.
	return l.submit(ctx, p, cluster.SubmitOptions{Parameters: st.Parameters, NoCache: true, Parallelism: st.Parallelism}, Call{WorkDir: st.WorkDir, Snapshot: snap, Spawn: c.Spawn})
}

// List returns the runs under Dir, newest first. A run whose record is
// damaged is listed as such (an Error saying why), never left out: it
// still holds space, and delete removes it.
func (l *Local) List(ctx context.Context, opts cluster.ListOptions) ([]*cluster.Run, error) {
	entries, err := os.ReadDir(l.Dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var runs []*cluster.Run
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(l.Dir, e.Name())
		var r *cluster.Run
		st, err := readState(dir)
		switch {
		case errors.Is(err, ErrDamaged):
			r = damagedView(dir, err)
		case os.IsNotExist(err):
			continue // deleted meanwhile
		case err != nil:
			r = damagedView(dir, fmt.Errorf("%w: %v", ErrDamaged, err))
		default:
			r = st.view()
		}
		// A damaged run whose notebook is unknown is listed only when all
		// runs are.
		if opts.NotebookID != "" && r.NotebookID != opts.NotebookID {
			continue
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Created.After(runs[j].Created) })
	return runs, nil
}

// Delete removes a finished run's records, or a damaged run's. The cache
// keeps its own links to the outputs, so cached steps of other runs are
// unaffected.
func (l *Local) Delete(ctx context.Context, id string) error {
	dir, err := l.runDir(id)
	if err != nil {
		return err
	}
	unlock, err := lockRun(dir)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readState(dir)
	switch {
	case errors.Is(err, ErrDamaged):
	case err != nil:
		return fmt.Errorf("delete %s: %w", id, err)
	default:
		if v := st.view(); !v.Phase.Done() {
			return fmt.Errorf("delete %s: %w (cancel it first)", id, cluster.ErrRunning)
		}
	}
	// Nothing the run started may go on writing into it, or into its store.
	killTree(0, id, "")
	if err := l.deleteStored(ctx, id, st); err != nil {
		return err
	}
	// Rename first, so a half-deleted run is never listed.
	trash := filepath.Join(l.Dir, trashPrefix+id)
	os.RemoveAll(trash) // an earlier delete of a run with this id that was interrupted
	if err := os.Rename(dir, trash); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

func runName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-")
	if len(n) > 40 {
		n = strings.Trim(n[:40], "-")
	}
	if n == "" {
		n = "run"
	}
	return n
}

func lookPath(p string) (string, error) { return exec.LookPath(p) }

// appendLine appends one line to path (see writeLine).
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	err = writeLine(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeLine appends line and a newline to f, or nothing: a write cut short
// (the disk filled) is cut off again, which needs no space, so that half a
// line never spoils the next one.
func writeLine(f *os.File, line []byte) error {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Truncate(end)
		return err
	}
	return nil
}

// logger returns l.Log, or one that discards.
func (l *Local) logger() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.New(slog.DiscardHandler)
}
