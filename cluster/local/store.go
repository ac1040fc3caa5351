package local

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/atomicfile"
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
	// EventsFrom is where the current attempt's events start in
	// events.jsonl (a retry appends to the log of the failed attempt).
	EventsFrom int64 `json:"events_from,omitempty"`
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

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &st, nil
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
// was unfinished is an Error, with a message saying what to do.
func (st *state) view() *cluster.Run {
	r := st.Run
	r.Steps = append([]cluster.StepStatus(nil), st.Steps...)
	if !r.Phase.Done() && !st.alive() {
		r.Phase = cluster.Error
		r.Message = fmt.Sprintf("the process running it (pid %d) is gone; `datainsight retry %s` reruns its unfinished steps", st.RunnerPID, r.ID)
		for i := range r.Steps {
			if !r.Steps[i].Phase.Done() {
				r.Steps[i].Phase = cluster.Error
				r.Steps[i].Message = "interrupted: the runner died"
			}
		}
	}
	return &r
}
