package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/atomicfile"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

const (
	// drainAfterExit is how long a step's output is still read after its
	// process has exited, for what the processes it left behind hold open
	// (a server started with `!cmd &`): then the step ends, and they are
	// killed, as the pod's end kills them on a cluster. The runtime's log
	// copier waits as long.
	drainAfterExit = 2 * time.Second
	// heartbeat is how often a runner touches run.json: the mtime of a
	// dead runner's run.json says, this closely, when it died.
	heartbeat = 2 * time.Second
)

// errDiskFull is the cause of a run stopped because the disk is full.
var errDiskFull = errors.New("the disk is full")

// runner carries out one run: it schedules the steps in DAG order, runs
// each as a python3 process, and records every change in run.json and
// events.jsonl as it happens.
type runner struct {
	l      *Local
	dir    string
	p      *pipelinegen.Pipeline
	steps  map[string]*pipelinegen.Step
	grace  time.Duration
	mu     sync.Mutex // guards st and events
	st     *state
	events *os.File
	wake   chan struct{} // closed and replaced on every event (in-process watchers)
	sums   *fileSums
	// spare is room set aside for the last run.json when the disk fills.
	spare *atomicfile.Spare
	stop  context.CancelCauseFunc

	fullMu sync.Mutex
	full   error // the first write the disk refused: the run stops, and says so

	// The run's object store, when it has one (openStore).
	storeOnce sync.Once
	store3    *s3store.Store
	storeErr  error
}

func newRunner(l *Local, dir string) (*runner, error) {
	// Absolute: the steps run in the notebook's folder, and every path
	// handed to them (their script, the marshal root) must hold there.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	p, err := readPipeline(dir)
	if err != nil {
		return nil, err
	}
	ev, err := os.OpenFile(filepath.Join(dir, eventsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	r := &runner{l: l, dir: dir, p: p, st: st, events: ev, grace: l.grace(), steps: map[string]*pipelinegen.Step{}, wake: make(chan struct{}),
		sums: loadSums(filepath.Join(l.cacheDir(), sumsFile)), stop: func(error) {}}
	for _, s := range p.Steps {
		r.steps[s.Name] = s
	}
	return r, nil
}

// emit records an event and wakes in-process watchers. Callers hold r.mu.
func (r *runner) emit(ev cluster.Event) {
	ev.Time = time.Now().UTC()
	ev.Run = r.st.ID
	line, _ := json.Marshal(ev)
	err := r.l.inject("event")
	if err == nil {
		err = writeLine(r.events, line)
	}
	r.noteNoSpace(err)
	close(r.wake)
	r.wake = make(chan struct{})
}

// save writes run.json. Callers hold r.mu. A save the disk refuses stops
// the run: it can no longer be followed.
func (r *runner) save() bool {
	err := r.l.inject("state")
	if err == nil {
		err = writeJSON(filepath.Join(r.dir, stateFile), r.st)
	}
	if err != nil {
		r.l.logger().Error("run state not recorded", "run", r.st.ID, "err", err)
		r.noteNoSpace(err)
		return false
	}
	return true
}

// noteNoSpace stops the run, the first time a write is refused for want of
// space; other errors are the caller's to report.
func (r *runner) noteNoSpace(err error) {
	if err == nil || !noSpace(err) {
		return
	}
	r.fullMu.Lock()
	first := r.full == nil
	if first {
		r.full = err
	}
	r.fullMu.Unlock()
	if first {
		r.stop(errDiskFull)
	}
}

func (r *runner) diskFull() error {
	r.fullMu.Lock()
	defer r.fullMu.Unlock()
	return r.full
}

func (r *runner) setStep(name string, f func(s *cluster.StepStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.st.Step(name)
	before := s.Phase
	f(s)
	if r.save() && s.Phase != before {
		r.emit(cluster.Event{Type: cluster.EventStep, Step: name, Phase: s.Phase, Message: s.Message, Cached: s.Cached})
	}
}

func (r *runner) setRun(phase cluster.Phase, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Phase, r.st.Message = phase, msg
	now := time.Now().UTC()
	if phase == cluster.Running && r.st.Started.IsZero() {
		r.st.Started = now
	}
	if phase.Done() {
		r.st.Finished = now
	}
	if phase.Done() {
		// The last word: when the disk is full, in the space set aside
		// for it. An event says no more than run.json does: without
		// this record there is no final event either, and readers see
		// what run.json says.
		if !r.save() && !r.saveSpare() {
			return
		}
	} else if !r.save() {
		return
	}
	r.emit(cluster.Event{Type: cluster.EventRun, Phase: phase, Message: msg})
}

// saveSpare writes run.json into the space set aside for it. Callers hold
// r.mu.
func (r *runner) saveSpare() bool {
	data, err := json.MarshalIndent(r.st, "", "  ")
	if err == nil {
		err = r.spare.Write(append(data, '\n'), 0o644)
	}
	if err != nil {
		r.l.logger().Error("run's final state not recorded", "run", r.st.ID, "err", err)
		return false
	}
	return true
}

// takeOver records this process as the run's runner, under the run's
// lock: after the process that started it (which recorded itself until
// then), never before.
func (r *runner) takeOver() {
	unlock, err := lockRun(r.dir)
	if err == nil {
		defer unlock()
	}
	r.mu.Lock()
	r.st.RunnerPID = os.Getpid()
	r.st.RunnerStart, _ = processStart(os.Getpid())
	r.mu.Unlock()
	r.setRun(cluster.Running, "")
}

// execute runs every step that is not Succeeded yet. ctx cancellation
// cancels the run: running steps get SIGTERM, then SIGKILL after the grace
// period, and are marked Cancelled. A disk that fills stops the run the
// same way, and the run ends as an Error saying so.
func (r *runner) execute(ctx context.Context) {
	defer r.events.Close()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop
	// What the steps of an earlier runner of this run left running (its
	// runner was killed) must not write into this attempt.
	killTree(0, r.st.ID, "")
	statePath := filepath.Join(r.dir, stateFile)
	spareSize := 64 << 10
	if fi, err := os.Stat(statePath); err == nil {
		spareSize += 4 * int(fi.Size())
	}
	var err error
	if r.spare, err = atomicfile.NewSpare(statePath, spareSize); err != nil {
		r.noteNoSpace(err)
	}
	defer r.spare.Release()
	r.takeOver()
	beat := make(chan struct{})
	defer close(beat)
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-beat:
				return
			case <-t.C:
				now := time.Now()
				os.Chtimes(statePath, now, now)
			}
		}
	}()

	par := r.st.Parallelism
	if par <= 0 {
		par = 1
	}
	done := make(chan struct{})
	running := 0
	for {
		r.mu.Lock()
		launch, events := r.schedule(context.Cause(ctx), par-running)
		// Recorded, then told: an event never says more than run.json.
		if len(events) > 0 && r.save() {
			for _, ev := range events {
				r.emit(ev)
			}
		}
		r.mu.Unlock()
		for _, s := range launch {
			running++
			go func(s *pipelinegen.Step) {
				r.runStep(ctx, s)
				done <- struct{}{}
			}(s)
		}
		if running == 0 {
			break
		}
		<-done
		running--
	}
	// Before the run's end, which is the last thing it writes: whoever
	// waits for it may remove the folders at once.
	r.sums.save()
	r.l.sweep()
	phase, msg := r.outcome()
	r.setRun(phase, msg)
}

// schedule marks steps that can no longer run and returns up to n steps
// whose dependencies all succeeded. stopped is why the run stops (nil while
// it goes on). Callers hold r.mu.
func (r *runner) schedule(stopped error, n int) (launch []*pipelinegen.Step, events []cluster.Event) {
	changed := func(s *cluster.StepStatus) {
		events = append(events, cluster.Event{Type: cluster.EventStep, Step: s.Name, Phase: s.Phase, Message: s.Message})
	}
	for progress := true; progress; {
		progress = false
		for i := range r.st.Steps {
			s := &r.st.Steps[i]
			if s.Phase != cluster.Pending {
				continue
			}
			if stopped != nil {
				s.Phase, s.Message = cluster.Cancelled, "the run was cancelled before it started"
				if errors.Is(stopped, errDiskFull) {
					s.Phase, s.Message = cluster.Error, "not started: the disk is full"
				}
				changed(s)
				progress = true
				continue
			}
			ready := true
			for _, dep := range r.steps[s.Name].After {
				switch r.st.Step(dep).Phase {
				case cluster.Succeeded:
				case cluster.Failed, cluster.Cancelled, cluster.Skipped, cluster.Error:
					s.Phase, s.Message = cluster.Skipped, fmt.Sprintf("step %s did not succeed", dep)
					changed(s)
					progress, ready = true, false
				default:
					ready = false
				}
				if s.Phase == cluster.Skipped {
					break
				}
			}
			if ready && s.Phase == cluster.Pending && len(launch) < n {
				// Claimed: Running is set by runStep; mark it so the next
				// schedule pass does not launch it again.
				s.Phase = cluster.Running
				s.Started = time.Now().UTC()
				changed(s)
				launch = append(launch, r.steps[s.Name])
			}
		}
	}
	return launch, events
}

func (r *runner) outcome() (cluster.Phase, string) {
	if err := r.diskFull(); err != nil {
		return cluster.Error, fmt.Sprintf("disk full: %v; free some space, then `datainsight retry %s`", err, r.st.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var failed, cancelled []string
	for _, s := range r.st.Steps {
		switch s.Phase {
		case cluster.Failed, cluster.Error:
			failed = append(failed, s.Name)
		case cluster.Cancelled:
			cancelled = append(cancelled, s.Name)
		}
	}
	switch {
	case len(cancelled) > 0:
		return cluster.Cancelled, "cancelled"
	case len(failed) > 0:
		return cluster.Failed, "failed: " + strings.Join(failed, ", ")
	}
	return cluster.Succeeded, ""
}

// runStep runs one step: from the cache when an identical step ran
// before, else as a python3 process, retried as its retry: tag says.
func (r *runner) runStep(ctx context.Context, s *pipelinegen.Step) {
	key, keyErr := r.cacheKey(s)
	r.setStep(s.Name, func(ss *cluster.StepStatus) {
		ss.Phase, ss.Message, ss.CacheKey, ss.Cached = cluster.Running, "", key, false
		ss.Finished, ss.ExitCode = time.Time{}, nil
	})
	if keyErr == nil && key != "" {
		if from, ok := r.reuse(s, key); ok {
			if r.st.Store != nil {
				if err := r.uploadOutputs(ctx, s); err != nil {
					r.setStep(s.Name, func(ss *cluster.StepStatus) {
						ss.Phase, ss.Message, ss.Finished = cluster.Failed, "outputs not uploaded: "+err.Error(), time.Now().UTC()
					})
					return
				}
			}
			metrics := readMetrics(filepath.Join(r.dir, s.Name))
			r.setStep(s.Name, func(ss *cluster.StepStatus) {
				ss.Phase, ss.Cached, ss.Message = cluster.Succeeded, true, "cached from run "+from
				ss.Finished, ss.Metrics = time.Now().UTC(), metrics
				ss.Report = reportPath(r.dir, s.Name)
			})
			return
		}
	}
	var res execResult
	attempts := s.Settings.Retry + 1
	for attempt := 1; attempt <= attempts; attempt++ {
		r.setStep(s.Name, func(ss *cluster.StepStatus) { ss.Attempt = attempt })
		res = r.exec(ctx, s, attempt)
		if res.code != 0 && res.noSpace {
			// Another attempt would meet the same full disk.
			r.noteNoSpace(stepFull{step: s.Name, msg: res.msg})
		}
		if res.code == 0 || ctx.Err() != nil {
			break
		}
	}
	code, msg := res.code, res.msg
	now := time.Now().UTC()
	switch {
	case ctx.Err() != nil && code != 0 && errors.Is(context.Cause(ctx), errDiskFull) && !res.noSpace:
		r.setStep(s.Name, func(ss *cluster.StepStatus) {
			ss.Phase, ss.Message, ss.Finished = cluster.Error, "stopped: the disk is full", now
		})
	case ctx.Err() != nil && code != 0 && !res.noSpace:
		r.setStep(s.Name, func(ss *cluster.StepStatus) {
			ss.Phase, ss.Message, ss.Finished = cluster.Cancelled, "cancelled", now
		})
	case code == 0 && r.st.Store != nil && r.uploadFailed(ctx, s, code):
	case code == 0:
		outDir := filepath.Join(r.dir, s.Name)
		metrics := readMetrics(outDir)
		if key != "" {
			r.store(s, key)
		}
		r.setStep(s.Name, func(ss *cluster.StepStatus) {
			ss.Phase, ss.Finished, ss.ExitCode, ss.Metrics = cluster.Succeeded, now, &code, metrics
			ss.Report = reportPath(r.dir, s.Name)
		})
	default:
		r.setStep(s.Name, func(ss *cluster.StepStatus) {
			ss.Phase, ss.Message, ss.Finished, ss.ExitCode = cluster.Failed, msg, now, &code
			ss.Report = reportPath(r.dir, s.Name)
		})
	}
}

// uploadFailed uploads the outputs of a step that exited with code 0 and
// reports whether that failed, in which case the step is marked Failed,
// saying why: a later step or run could not load what was not stored.
func (r *runner) uploadFailed(ctx context.Context, s *pipelinegen.Step, code int) bool {
	err := r.uploadOutputs(ctx, s)
	if err == nil {
		return false
	}
	r.setStep(s.Name, func(ss *cluster.StepStatus) {
		ss.Phase, ss.Message, ss.Finished, ss.ExitCode = cluster.Failed, "outputs not uploaded: "+err.Error(), time.Now().UTC(), &code
		ss.Report = reportPath(r.dir, s.Name)
	})
	return true
}

// stepFull is a step that failed for want of space, as its output says.
type stepFull struct{ step, msg string }

func (e stepFull) Error() string        { return "step " + e.step + ": " + e.msg }
func (e stepFull) Is(target error) bool { return target == syscall.ENOSPC }

// execResult is how one attempt of a step ended.
type execResult struct {
	code    int
	msg     string // on failure, a one-line reason
	noSpace bool   // its output says a write failed for want of space
}

// exec runs a step's script once, its output appended to the step's log.
func (r *runner) exec(ctx context.Context, s *pipelinegen.Step, attempt int) execResult {
	logPath := filepath.Join(r.dir, logsDir, s.Name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return execResult{code: -1, msg: err.Error(), noSpace: noSpace(err)}
	}
	defer logf.Close()
	log := &stepLog{f: logf, r: r}
	if attempt > 1 {
		fmt.Fprintf(log, "--- attempt %d ---\n", attempt)
	}
	// A failed attempt may have left a partial output folder; values are
	// written atomically and the manifest last, but start clean anyway.
	os.RemoveAll(filepath.Join(r.dir, s.Name))
	root := filepath.Dir(r.dir)
	if r.st.Store != nil {
		staged, err := r.stageInputs(ctx, s, log)
		defer os.RemoveAll(stageDir(r.dir, s.Name))
		if err != nil {
			msg := "inputs not downloaded: " + err.Error()
			fmt.Fprintf(log, "datainsight: step %s: %s\n", s.Name, msg)
			return execResult{code: -1, msg: msg}
		}
		root = staged
	}

	stepCtx := ctx
	var cancel context.CancelFunc = func() {}
	if t := time.Duration(s.Settings.Timeout); t > 0 {
		stepCtx, cancel = context.WithTimeout(ctx, t)
	}
	defer cancel()

	tail := &tailBuffer{max: 4096}
	cmd := exec.Command(r.st.Python, filepath.Join(r.dir, scriptsDir, s.Name+".py"))
	cmd.Dir = r.st.WorkDir
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = cmd.Stdout
	cmd.Env = append(os.Environ(), r.env(s, root)...)
	// A session of its own (a group too), so that cancelling also stops
	// what the step started (shell lines, subprocesses): no orphans; and
	// the marker in its environment finds those that left it.
	// Pdeathsig: if the runner itself dies, its steps die with it rather
	// than run on unsupervised.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	// Its output is read until it exits, and then only as long as this:
	// a background child holding the pipe must not hold the step.
	cmd.WaitDelay = drainAfterExit
	if err := cmd.Start(); err != nil {
		return execResult{code: -1, msg: fmt.Sprintf("cannot start %s: %v", r.st.Python, err)}
	}
	pgid := cmd.Process.Pid
	// Whatever the step left running ends with it, as a pod's end ends it.
	defer killTree(pgid, r.st.ID, s.Name)
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err = <-waitErr:
	case <-stepCtx.Done():
		signalTree(pgid, r.st.ID, s.Name, syscall.SIGTERM)
		select {
		case err = <-waitErr:
		case <-time.After(r.grace):
			signalTree(pgid, r.st.ID, s.Name, syscall.SIGKILL)
			err = <-waitErr
		}
		killTree(pgid, r.st.ID, s.Name)
		if ctx.Err() == nil {
			fmt.Fprintf(log, "datainsight: step %s timed out after %s\n", s.Name, time.Duration(s.Settings.Timeout))
			return execResult{code: 124, msg: fmt.Sprintf("timed out after %s", time.Duration(s.Settings.Timeout))}
		}
		return execResult{code: -1, msg: "cancelled", noSpace: mentionsNoSpace(tail.Bytes())}
	}
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		// (ErrWaitDelay: it succeeded; what it left running held its
		// output, and is stopped.)
		return execResult{}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		out := tail.Bytes()
		if code < 0 {
			return execResult{code: code, msg: fmt.Sprintf("killed by %v", ee.Sys().(syscall.WaitStatus).Signal()), noSpace: mentionsNoSpace(out)}
		}
		return execResult{code: code, msg: lastLine(out, fmt.Sprintf("exit code %d", code)), noSpace: mentionsNoSpace(out)}
	}
	return execResult{code: -1, msg: err.Error()}
}

// stepLog writes a step's output to its log file. A write the disk
// refuses stops the run (once), but is never the step's error: its output
// pipe must keep flowing, or the step would die of a broken pipe.
type stepLog struct {
	f      *os.File
	r      *runner
	failed bool
}

func (l *stepLog) Write(p []byte) (int, error) {
	if !l.failed {
		err := l.r.l.inject("log")
		if err == nil {
			_, err = l.f.Write(p)
		}
		if err != nil {
			l.failed = true
			l.r.noteNoSpace(err)
		}
	}
	return len(p), nil
}

var noSpaceRE = regexp.MustCompile(`No space left on device|\[Errno 28\]|Disk quota exceeded|\[Errno 122\]`)

// mentionsNoSpace reports whether a step's last output says a write failed
// for want of space.
func mentionsNoSpace(out []byte) bool { return noSpaceRE.Match(out) }

// env is what a step's process needs beyond the user's environment; root
// is the marshal root it loads from and saves to.
func (r *runner) env(s *pipelinegen.Step, root string) []string {
	env := []string{
		"DATAINSIGHT_MARSHAL_ROOT=" + root,
		"DATAINSIGHT_RUN_ID=" + r.st.ID,
		"DATAINSIGHT_RUNTIME_DIR=" + r.dir,
		"DATAINSIGHT_PYTHON_EXE=" + r.st.Python,
		"PYTHONUNBUFFERED=1",
		"PYTHONDONTWRITEBYTECODE=1",
		stepEnv + "=" + stepMarker(r.st.ID, s.Name),
	}
	if r.st.Store != nil {
		// The step's output goes to the store with its folder, for
		// readers that have only the store.
		env = append(env, "DATAINSIGHT_KEEP_LOG=1")
	}
	for name, v := range r.st.Parameters {
		env = append(env, "DATAINSIGHT_PARAM_"+name+"="+v)
	}
	for _, e := range s.Settings.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	return env
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}

var runtimeFailRE = regexp.MustCompile(`^datainsight: step \S+ failed in [0-9.]+ s: (.+)$`)

// lastLine returns the last non-empty line of a step's output: the
// runtime ends a failed step with a line saying why.
func lastLine(out []byte, fallback string) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	last := ""
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		return fallback
	}
	// The runtime's closing line repeats the step's name and time.
	if m := runtimeFailRE.FindStringSubmatch(last); m != nil {
		last = m[1]
	}
	if len(last) > 300 {
		last = last[:300] + "…"
	}
	return last
}

func readMetrics(dir string) map[string]any {
	data, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		return nil
	}
	var doc struct {
		Metrics []struct {
			Name  string `json:"name"`
			Value any    `json:"value"`
		} `json:"metrics"`
	}
	if json.Unmarshal(data, &doc) != nil || len(doc.Metrics) == 0 {
		return nil
	}
	m := map[string]any{}
	for _, e := range doc.Metrics {
		m[e.Name] = e.Value
	}
	return m
}

func reportPath(dir, step string) string {
	p := filepath.Join(dir, step, pipelinegen.StepReportHTML)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
