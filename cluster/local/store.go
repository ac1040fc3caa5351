package local

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/atomicfile"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

// A run directory holds everything about one run. Step names match
// [_a-z][_a-z0-9]*, so the run's own entries use names no step can have
// (a dot or a hyphen) and each step's outputs sit in <run>/<step>/, which is
// exactly the marshal runtime's <root>/<run>/<step>/ layout.
const (
	stateFile    = "run.json"
	pipelineFile = "pipeline.json"
	eventsFile   = "events.jsonl"
	snapshotFile = "notebook.ipynb"
	scriptsDir   = "step-scripts"
	logsDir      = "step-logs"
	cacheDir     = ".cache"
	lockFile     = ".lock"
	// A new run is written under a hidden name and renamed into place
	// whole, so a run folder without a readable run.json is always a
	// damaged one, never one being made; a deleted one is renamed away
	// first, so it is never listed half gone.
	stagingPrefix = ".new-"
	trashPrefix   = ".deleting-"
)

// state is run.json: the run as the backend reports it, plus what only
// the local backend needs.
type state struct {
	cluster.Run
	// Runner identifies the process carrying the run out; a run whose
	// runner is gone is reported as such, never as running forever.
	RunnerPID   int    `json:"runner_pid,omitempty"`
	RunnerStart uint64 `json:"runner_start,omitempty"`
	Python      string `json:"python"`
	WorkDir     string `json:"work_dir"`
	Parallelism int    `json:"parallelism"`
	NoCache     bool   `json:"no_cache,omitempty"`
	// Store is where the run keeps its values besides its folder
	// (Local.Store), without the keys.
	Store *s3store.Config `json:"store,omitempty"`
	// EventsFrom is where the current attempt's events start in
	// events.jsonl (a retry appends to the log of the failed attempt).
	EventsFrom int64 `json:"events_from,omitempty"`

	// seen is when run.json last changed. A runner touches it every
	// heartbeat, so for a runner that died it says about when.
	seen time.Time
}

// ErrDamaged is the error of a run whose record (run.json) cannot be read:
// the run is listed as such, and can only be deleted.
var ErrDamaged = errors.New("the run's record is damaged")

// damagedPrefix starts the message of a damaged run, as List shows it.
const damagedPrefix = "damaged: "

// IsDamaged reports whether a run listed by the local backend is one whose
// record is damaged.
func IsDamaged(r *cluster.Run) bool {
	return r.Backend == "local" && r.Phase == cluster.Error && strings.HasPrefix(r.Message, damagedPrefix)
}

// writeJSON writes v to path atomically: a reader sees the old or the new
// file, never half of one.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(data, '\n'))
}

func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}

// readState reads a run's run.json. A missing or unreadable one is
// ErrDamaged (with why), since a run folder is only ever listed whole.
func readState(dir string) (*state, error) {
	path := filepath.Join(dir, stateFile)
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%w: %s is missing", ErrDamaged, stateFile)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, stateFile, err)
	}
	if st.ID == "" || st.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("%w: %s is of run %q, not of %s", ErrDamaged, stateFile, st.ID, filepath.Base(dir))
	}
	st.seen = fi.ModTime()
	return &st, nil
}

// damagedView is how a run whose run.json cannot be read is shown: an
// Error saying so and why, with what its other records still tell (the
// pipeline, and when it was created).
func damagedView(dir string, cause error) *cluster.Run {
	id := filepath.Base(dir)
	why := strings.TrimPrefix(cause.Error(), ErrDamaged.Error()+": ")
	r := &cluster.Run{
		ID: id, Backend: "local", Phase: cluster.Error, Parameters: map[string]string{},
		Message: fmt.Sprintf("%s%s; `datainsight delete %s` removes it", damagedPrefix, why, id),
	}
	if p, err := readPipeline(dir); err == nil {
		r.Pipeline, r.Notebook, r.NotebookID = p.Name, p.Notebook, p.NotebookID
		for _, s := range p.Steps {
			r.Steps = append(r.Steps, cluster.StepStatus{Name: s.Name, Phase: cluster.Error, Message: "unknown: the run's record is damaged"})
		}
	}
	// The first event is the run's creation.
	if f, err := os.Open(filepath.Join(dir, eventsFile)); err == nil {
		var ev cluster.Event
		if line, err := bufio.NewReader(f).ReadBytes('\n'); err == nil && json.Unmarshal(line, &ev) == nil {
			r.Created = ev.Time
		}
		f.Close()
	}
	if r.Created.IsZero() {
		if fi, err := os.Stat(dir); err == nil {
			r.Created = fi.ModTime().UTC()
		}
	}
	return r
}

// lockRun takes a run's lock, so that commands which look at a run and
// then change it (retry, cancel of a run whose runner died, delete, a
// runner taking the run over) do so one at a time, whichever process they
// run in. Closing the file releases it, as does the process's death.
func lockRun(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		// A read-only or full disk: an existing lock file still locks;
		// without one nothing else can change the run either.
		if f, err = os.Open(path); err != nil {
			return func() {}, nil
		}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking run %s: %w", filepath.Base(dir), err)
	}
	return func() { f.Close() }, nil
}

// noSpace reports whether err is a write the disk refused for want of
// space (or of quota).
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func readPipeline(dir string) (*pipelinegen.Pipeline, error) {
	data, err := os.ReadFile(filepath.Join(dir, pipelineFile))
	if err != nil {
		return nil, err
	}
	var p pipelinegen.Pipeline
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, pipelineFile), err)
	}
	return &p, nil
}

// newRunID makes a run id like Argo's generated names: the pipeline name
// and five random characters.
func newRunID(name string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return name + "-" + string(b)
}

// processStart returns a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), which tells a live runner from a new
// process that reused its pid. A zombie (dead, not yet reaped) is not
// running: ok is false.
func processStart(pid int) (uint64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces and parentheses: fields
	// are counted after its closing parenthesis.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, err == nil
}

// alive reports whether the runner recorded in st still runs.
func (st *state) alive() bool {
	if st.RunnerPID == 0 {
		return false
	}
	if err := syscall.Kill(st.RunnerPID, 0); err != nil && err != syscall.EPERM {
		return false
	}
	start, ok := processStart(st.RunnerPID)
	if !ok {
		return false
	}
	return st.RunnerStart == 0 || start == st.RunnerStart
}

// view returns the run as users see it: a run whose runner died while it
// was unfinished is an Error, with a message saying what to do, that ended
// when its runner was last seen (its duration stops growing).
func (st *state) view() *cluster.Run {
	r := st.Run
	r.Steps = append([]cluster.StepStatus(nil), st.Steps...)
	if !r.Phase.Done() && !st.alive() {
		r.Phase = cluster.Error
		r.Message = fmt.Sprintf("the process running it (pid %d) is gone; `datainsight retry %s` reruns its unfinished steps", st.RunnerPID, r.ID)
		r.Finished = st.lastSeen()
		for i := range r.Steps {
			if !r.Steps[i].Phase.Done() {
				r.Steps[i].Phase = cluster.Error
				r.Steps[i].Message = "interrupted: the runner died"
				if !r.Steps[i].Started.IsZero() {
					r.Steps[i].Finished = r.Finished
				}
			}
		}
	}
	return &r
}

// lastSeen is the last sign of life of a run's runner: never before the
// run started.
func (st *state) lastSeen() time.Time {
	t := st.seen.UTC()
	for _, s := range []time.Time{st.Started, st.Created} {
		if !s.IsZero() && t.Before(s) {
			t = s
		}
	}
	return t
}
