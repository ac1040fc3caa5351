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
	"github.com/datainsight/datainsight/pipelinegen"
)

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
	r := &runner{l: l, dir: dir, p: p, st: st, events: ev, grace: l.grace(), steps: map[string]*pipelinegen.Step{}, wake: make(chan struct{})}
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
	r.events.Write(append(line, '\n'))
	close(r.wake)
	r.wake = make(chan struct{})
}

// save writes run.json. Callers hold r.mu.
func (r *runner) save() {
	if err := writeJSON(filepath.Join(r.dir, stateFile), r.st); err != nil {
		fmt.Fprintf(os.Stderr, "datainsight: run %s: %v\n", r.st.ID, err)
	}
}

func (r *runner) setStep(name string, f func(s *cluster.StepStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.st.Step(name)
	before := s.Phase
	f(s)
	r.save()
	if s.Phase != before {
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
	r.save()
	r.emit(cluster.Event{Type: cluster.EventRun, Phase: phase, Message: msg})
}

// execute runs every step that is not Succeeded yet. ctx cancellation
// cancels the run: running steps get SIGTERM, then SIGKILL after the grace
// period, and are marked Cancelled.
func (r *runner) execute(ctx context.Context) {
	defer r.events.Close()
	r.mu.Lock()
	r.st.RunnerPID = os.Getpid()
	r.st.RunnerStart, _ = processStart(os.Getpid())
	r.mu.Unlock()
	r.setRun(cluster.Running, "")

	par := r.st.Parallelism
	if par <= 0 {
		par = 1
	}
	done := make(chan struct{})
	running := 0
	for {
		r.mu.Lock()
		launch, changed := r.schedule(ctx.Err() != nil, par-running)
		if changed {
			r.save()
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
	phase, msg := r.outcome()
	r.setRun(phase, msg)
}

// schedule marks steps that can no longer run and returns up to n steps
// whose dependencies all succeeded. Callers hold r.mu.
func (r *runner) schedule(cancelled bool, n int) (launch []*pipelinegen.Step, changed bool) {
	for progress := true; progress; {
		progress = false
		for i := range r.st.Steps {
			s := &r.st.Steps[i]
			if s.Phase != cluster.Pending {
				continue
			}
			if cancelled {
				s.Phase, s.Message = cluster.Cancelled, "the run was cancelled before it started"
				r.emit(cluster.Event{Type: cluster.EventStep, Step: s.Name, Phase: s.Phase, Message: s.Message})
				progress, changed = true, true
				continue
			}
			ready := true
			for _, dep := range r.steps[s.Name].After {
				switch r.st.Step(dep).Phase {
				case cluster.Succeeded:
				case cluster.Failed, cluster.Cancelled, cluster.Skipped, cluster.Error:
					s.Phase, s.Message = cluster.Skipped, fmt.Sprintf("step %s did not succeed", dep)
					r.emit(cluster.Event{Type: cluster.EventStep, Step: s.Name, Phase: s.Phase, Message: s.Message})
					progress, changed, ready = true, true, false
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
				r.emit(cluster.Event{Type: cluster.EventStep, Step: s.Name, Phase: s.Phase})
				changed = true
				launch = append(launch, r.steps[s.Name])
			}
		}
	}
	return launch, changed
}

func (r *runner) outcome() (cluster.Phase, string) {
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
			metrics := readMetrics(filepath.Join(r.dir, s.Name))
			r.setStep(s.Name, func(ss *cluster.StepStatus) {
				ss.Phase, ss.Cached, ss.Message = cluster.Succeeded, true, "cached from run "+from
				ss.Finished, ss.Metrics = time.Now().UTC(), metrics
				ss.Report = reportPath(r.dir, s.Name)
			})
			return
		}
	}
	var code int
	var msg string
	attempts := s.Settings.Retry + 1
	for attempt := 1; attempt <= attempts; attempt++ {
		r.setStep(s.Name, func(ss *cluster.StepStatus) { ss.Attempt = attempt })
		code, msg = r.exec(ctx, s, attempt)
		if code == 0 || ctx.Err() != nil {
			break
		}
	}
	now := time.Now().UTC()
	switch {
	case ctx.Err() != nil && code != 0:
		r.setStep(s.Name, func(ss *cluster.StepStatus) {
			ss.Phase, ss.Message, ss.Finished = cluster.Cancelled, "cancelled", now
		})
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

// exec runs a step's script once, its output appended to the step's log.
// It returns the exit code and, on failure, a one-line reason.
func (r *runner) exec(ctx context.Context, s *pipelinegen.Step, attempt int) (int, string) {
	logPath := filepath.Join(r.dir, logsDir, s.Name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return -1, err.Error()
	}
	defer logf.Close()
	if attempt > 1 {
		fmt.Fprintf(logf, "--- attempt %d ---\n", attempt)
	}
	// A failed attempt may have left a partial output folder; values are
	// written atomically and the manifest last, but start clean anyway.
	os.RemoveAll(filepath.Join(r.dir, s.Name))

	stepCtx := ctx
	var cancel context.CancelFunc = func() {}
	if t := time.Duration(s.Settings.Timeout); t > 0 {
		stepCtx, cancel = context.WithTimeout(ctx, t)
	}
	defer cancel()

	tail := &tailBuffer{max: 4096}
	cmd := exec.Command(r.st.Python, filepath.Join(r.dir, scriptsDir, s.Name+".py"))
	cmd.Dir = r.st.WorkDir
	cmd.Stdout = io.MultiWriter(logf, tail)
	cmd.Stderr = cmd.Stdout
	cmd.Env = append(os.Environ(), r.env(s)...)
	// Its own process group, so that cancelling also stops what the step
	// started (shell lines, subprocesses): no orphans.
	// Pdeathsig: if the runner itself dies, its steps die with it rather
	// than run on unsupervised.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Sprintf("cannot start %s: %v", r.st.Python, err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err = <-waitErr:
	case <-stepCtx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err = <-waitErr:
		case <-time.After(r.grace):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err = <-waitErr
		}
		// Whatever the step started in its group goes too.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if ctx.Err() == nil {
			fmt.Fprintf(logf, "datainsight: step %s timed out after %s\n", s.Name, time.Duration(s.Settings.Timeout))
			return 124, fmt.Sprintf("timed out after %s", time.Duration(s.Settings.Timeout))
		}
		return -1, "cancelled"
	}
	if err == nil {
		return 0, ""
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			return code, fmt.Sprintf("killed by %v", ee.Sys().(syscall.WaitStatus).Signal())
		}
		return code, lastLine(tail.Bytes(), fmt.Sprintf("exit code %d", code))
	}
	return -1, err.Error()
}

// env is what a step's process needs beyond the user's environment.
func (r *runner) env(s *pipelinegen.Step) []string {
	env := []string{
		"DATAINSIGHT_MARSHAL_ROOT=" + filepath.Dir(r.dir),
		"DATAINSIGHT_RUN_ID=" + r.st.ID,
		"DATAINSIGHT_RUNTIME_DIR=" + r.dir,
		"DATAINSIGHT_PYTHON_EXE=" + r.st.Python,
		"PYTHONUNBUFFERED=1",
		"PYTHONDONTWRITEBYTECODE=1",
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
