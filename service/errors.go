package service

import (
	"errors"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Sentinel errors callers branch on (errors.Is).
var (
	// ErrNotFound: no such run (where the runs were looked for is in the
	// message).
	ErrNotFound = cluster.ErrNotFound
	// ErrNoSteps: the notebook has no code in any step.
	ErrNoSteps = pipelinegen.ErrNoSteps
	// ErrResumeMismatch: a run to resume from is of another notebook.
	ErrResumeMismatch = errors.New("that run is of another notebook")
	// ErrNoNotebook: a Source names no notebook and carries none.
	ErrNoNotebook = errors.New("no notebook: give a path or a notebook body")
	// ErrNoSpawner: a detached run was asked of a service that cannot
	// start a runner process (Options.Spawn is nil).
	ErrNoSpawner = errors.New("detached runs are not available here")
)

// CompileError is a notebook that did not compile: its analysis has
// errors, or no steps. Analysis holds the diagnostics to show.
type CompileError struct {
	Name     string // the notebook as the caller named it
	Analysis *analyzer.Analysis
	Err      error
}

func (e *CompileError) Error() string { return "compile " + e.Name + ": " + e.Err.Error() }
func (e *CompileError) Unwrap() error { return e.Err }

// ResumeError is a run to resume from that cannot be: not found
// (ErrNotFound), of another notebook (ErrResumeMismatch), or not finished
// (cluster.ErrNotFinished).
type ResumeError struct {
	Run string
	Err error
}

func (e *ResumeError) Error() string { return "resume from " + e.Run + ": " + e.Err.Error() }
func (e *ResumeError) Unwrap() error { return e.Err }

// ParameterError is a parameter value the pipeline does not accept; the
// message names the parameter.
type ParameterError struct{ Err error }

func (e *ParameterError) Error() string { return e.Err.Error() }
func (e *ParameterError) Unwrap() error { return e.Err }

// ClusterError is a cluster the argo backend cannot reach as configured:
// no kubeconfig, no such context, no namespace.
type ClusterError struct{ Err error }

func (e *ClusterError) Error() string { return "argo backend: " + e.Err.Error() }
func (e *ClusterError) Unwrap() error { return e.Err }
