package cluster

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/datainsight/datainsight/pipelinegen"
)

// Phase is the state of a run or of one of its steps. The names follow
// Argo's node phases, plus Cancelled and Skipped (Argo's Omitted).
type Phase string

const (
	Pending   Phase = "Pending"
	Running   Phase = "Running"
	Succeeded Phase = "Succeeded"
	Failed    Phase = "Failed"
	Error     Phase = "Error"     // the run could not be carried out (its runner died, the cluster refused it)
	Cancelled Phase = "Cancelled" // stopped by the user
	Skipped   Phase = "Skipped"   // not run because a step it depends on did not succeed
)

// Done reports whether a phase is final.
func (p Phase) Done() bool {
	switch p {
	case Succeeded, Failed, Error, Cancelled, Skipped:
		return true
	}
	return false
}

// Run is what a backend knows of one run.
type Run struct {
	ID         string            `json:"id"`
	Backend    string            `json:"backend"`
	Pipeline   string            `json:"pipeline"`
	Notebook   string            `json:"notebook"`
	NotebookID string            `json:"notebook_id"`
	Phase      Phase             `json:"phase"`
	Message    string            `json:"message,omitempty"`
	Parameters map[string]string `json:"parameters"` // name -> Python literal
	Created    time.Time         `json:"created"`
	Started    time.Time         `json:"started,omitzero"`
	Finished   time.Time         `json:"finished,omitzero"`
	Steps      []StepStatus      `json:"steps"`
	// ResumedFrom names the run whose unchanged steps this run reused.
	ResumedFrom string `json:"resumed_from,omitempty"`
}

// StepStatus is the state of one step of a run.
type StepStatus struct {
	Name     string         `json:"name"`
	Phase    Phase          `json:"phase"`
	Message  string         `json:"message,omitempty"`
	Started  time.Time      `json:"started,omitzero"`
	Finished time.Time      `json:"finished,omitzero"`
	ExitCode *int           `json:"exit_code,omitempty"`
	Cached   bool           `json:"cached,omitempty"`
	CacheKey string         `json:"cache_key,omitempty"`
	Metrics  map[string]any `json:"metrics,omitempty"`
	// Report is where the step's executed-cell report is, when there is one.
	Report string `json:"report,omitempty"`
	// Attempt counts how many times the step ran in this run (retries).
	Attempt int `json:"attempt,omitempty"`
}

// Step returns the status of the named step, or nil.
func (r *Run) Step(name string) *StepStatus {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Event is one change of a run, as `run --json` prints it and the sidecar
// pushes it to the panel.
type Event struct {
	Time    time.Time `json:"time"`
	Run     string    `json:"run"`
	Step    string    `json:"step,omitempty"`
	Type    string    `json:"type"` // "run", "step" or "log"
	Phase   Phase     `json:"phase,omitempty"`
	Message string    `json:"message,omitempty"`
	Cached  bool      `json:"cached,omitempty"`
}

// Event types.
const (
	EventRun  = "run"
	EventStep = "step"
	EventLog  = "log"
)

// SubmitOptions tune a new run.
type SubmitOptions struct {
	// Parameters override pipeline parameters: name -> Python literal,
	// already checked against the declared types (see CheckParameters).
	Parameters map[string]string
	// NoCache runs every step even if an identical one ran before.
	NoCache bool
	// ResumeFrom is a run whose unchanged, succeeded steps this run reuses.
	ResumeFrom string
	// Parallelism bounds concurrent steps (0: the backend's default).
	Parallelism int
}

// ListOptions filter List.
type ListOptions struct {
	NotebookID string // only runs of this notebook ("" for all)
}

// LogOptions tune Logs.
type LogOptions struct {
	Step   string // "" for every step, each line prefixed "STEP | "
	Follow bool   // keep streaming until the run ends
}

// ReportOptions choose a step's report.
type ReportOptions struct {
	Step string
	HTML bool // the rendered page instead of the executed notebook (.ipynb)
}

// Backend runs compiled pipelines. Every method that may block takes a
// context; errors wrap ErrNotFound and the other sentinels so callers can
// branch on them.
type Backend interface {
	// Submit starts a run and returns it as soon as it exists.
	Submit(ctx context.Context, p *pipelinegen.Pipeline, opts SubmitOptions) (*Run, error)
	// Get returns the current state of a run.
	Get(ctx context.Context, id string) (*Run, error)
	// Watch streams the run's events, starting with its current state,
	// until the run ends or ctx is done; the channel is then closed.
	Watch(ctx context.Context, id string) (<-chan Event, error)
	// Logs writes a step's output (or every step's) to w.
	Logs(ctx context.Context, id string, opts LogOptions, w io.Writer) error
	// Report writes a step's report — its cells as executed, with their
	// outputs — to w; ErrNoReport when the step left none.
	Report(ctx context.Context, id string, opts ReportOptions, w io.Writer) error
	// Definition returns what the run carries out, as the backend keeps it.
	Definition(ctx context.Context, id string) (*Definition, error)
	// Cancel stops a run's running steps and marks them Cancelled.
	Cancel(ctx context.Context, id string) error
	// Retry reruns the failed, cancelled and skipped steps of a finished
	// run in place, reusing its succeeded steps.
	Retry(ctx context.Context, id string) (*Run, error)
	// Resubmit starts a new run of a finished run's pipeline, with the
	// same parameters; every step runs again.
	Resubmit(ctx context.Context, id string) (*Run, error)
	// List returns runs, newest first.
	List(ctx context.Context, opts ListOptions) ([]*Run, error)
	// Delete removes a finished run and its records.
	Delete(ctx context.Context, id string) error
}

// Sentinel errors.
var (
	ErrNotFound    = errors.New("run not found")
	ErrRunning     = errors.New("run is still running")
	ErrNotFinished = errors.New("run has not finished")
	ErrNothingToDo = errors.New("nothing to retry: every step succeeded")
	ErrNoReport    = errors.New("no report")
)

// Definition is what a run carried out, as its backend has it: for Argo
// the Workflow object (its spec, without status), for the local backend
// the pipeline it ran (steps, their scripts, images and resources).
type Definition struct {
	// Kind is "Workflow" (Argo) or "Pipeline" (local).
	Kind string `json:"kind"`
	// YAML is the definition as YAML.
	YAML []byte `json:"-"`
}
