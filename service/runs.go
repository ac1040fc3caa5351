package service

import (
	"context"
	"fmt"
	"io"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/local"
	"github.com/datainsight/datainsight/pipelinegen"
)

// SubmitOptions tune a new run.
type SubmitOptions struct {
	// Backend is "local" or "argo"; "" for the configured one.
	Backend string
	// Parameters override pipeline parameters: name -> value, read as the
	// command line reads --param (a Python literal; for a str parameter,
	// any text) and checked against the declared types.
	Parameters map[string]string
	// NoCache runs every step, even ones whose outputs are cached.
	NoCache bool
	// ResumeFrom is an earlier run of the same notebook whose unchanged
	// steps' outputs the new run reuses.
	ResumeFrom string
	// Parallelism bounds concurrent steps (0: the backend's default).
	Parallelism int
	// Snapshot saves the notebook as it was compiled with a local run.
	Snapshot bool
	// Detach carries out a local run in a process of its own (see
	// Options.Spawn), which outlives this one.
	Detach bool
}

// Submit starts a run of a compiled notebook and returns it as soon as it
// exists: it goes on in the background (follow it with Watch).
func (s *Service) Submit(ctx context.Context, c *Compiled, opts SubmitOptions) (*cluster.Run, error) {
	at := Place{Notebook: c.Ref, Backend: opts.Backend}
	overrides, err := pipelinegen.ParseParameterValues(c.Pipeline, opts.Parameters)
	if err != nil {
		return nil, &ParameterError{Err: err}
	}
	b, lb, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	if opts.ResumeFrom != "" {
		if err := s.checkResume(ctx, b, c, opts.ResumeFrom); err != nil {
			return nil, err
		}
	}
	copts := cluster.SubmitOptions{Parameters: overrides, NoCache: opts.NoCache, ResumeFrom: opts.ResumeFrom, Parallelism: opts.Parallelism}
	if lb == nil {
		r, err := b.Submit(ctx, c.Pipeline, copts)
		if err == nil {
			s.log.Info("run submitted", "run", r.ID, "backend", r.Backend, "notebook", c.Pipeline.Notebook)
		}
		return r, err
	}
	var snapshot []byte
	if opts.Snapshot {
		snapshot = c.Notebook.Bytes()
	}
	spawn, err := s.spawner(lb, opts.Detach)
	if err != nil {
		return nil, err
	}
	r, err := lb.l.SubmitCall(ctx, c.Pipeline, copts, local.Call{WorkDir: c.Ref.Dir, Snapshot: snapshot, Spawn: spawn})
	if err == nil {
		s.log.Info("run submitted", "run", r.ID, "backend", r.Backend, "notebook", c.Pipeline.Notebook, "detached", opts.Detach)
	}
	return r, err
}

// checkResume checks, before anything is recorded, that a run can be
// resumed from: it exists and is of the same notebook.
func (s *Service) checkResume(ctx context.Context, b cluster.Backend, c *Compiled, id string) error {
	prev, err := b.Get(ctx, id)
	if err != nil {
		return &ResumeError{Run: id, Err: err}
	}
	if prev.NotebookID != "" && c.Pipeline.NotebookID != "" && prev.NotebookID != c.Pipeline.NotebookID {
		return &ResumeError{Run: id, Err: fmt.Errorf("%w (%s, not %s)", ErrResumeMismatch, prev.Notebook, c.Pipeline.Notebook)}
	}
	return nil
}

// spawner returns what starts a detached runner, or nil.
func (s *Service) spawner(lb *localBackend, detach bool) (func(string) error, error) {
	if !detach {
		return nil, nil
	}
	if s.spawn == nil {
		return nil, ErrNoSpawner
	}
	python := lb.l.Python
	return func(runDir string) error { return s.spawn(python, runDir) }, nil
}

// Get returns a run's current state.
func (s *Service) Get(ctx context.Context, at Place, id string) (*cluster.Run, error) {
	b, _, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	return b.Get(ctx, id)
}

// Definition returns what a run carries out: its Workflow on Argo, its
// pipeline locally.
func (s *Service) Definition(ctx context.Context, at Place, id string) (*cluster.Definition, error) {
	b, _, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	return b.Definition(ctx, id)
}

// Watch streams a run's events, from its start, until it ends or ctx is
// done; the channel is then closed.
func (s *Service) Watch(ctx context.Context, at Place, id string) (<-chan cluster.Event, error) {
	b, _, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	return b.Watch(ctx, id)
}

// Logs writes a step's output (or every step's, each line prefixed
// "STEP | ") to w, following it until the run ends if asked.
func (s *Service) Logs(ctx context.Context, at Place, id string, opts cluster.LogOptions, w io.Writer) error {
	b, _, err := s.backend(at)
	if err != nil {
		return err
	}
	return b.Logs(ctx, id, opts, w)
}

// Report writes a step's report (the executed notebook, or the page) to w.
func (s *Service) Report(ctx context.Context, at Place, id string, opts cluster.ReportOptions, w io.Writer) error {
	b, _, err := s.backend(at)
	if err != nil {
		return err
	}
	return b.Report(ctx, id, opts, w)
}

// Cancel stops a run and returns its state after.
func (s *Service) Cancel(ctx context.Context, at Place, id string) (*cluster.Run, error) {
	b, _, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	if err := b.Cancel(ctx, id); err != nil {
		return nil, err
	}
	s.log.Info("run cancelled", "run", id)
	return b.Get(ctx, id)
}

// RerunOptions tune Retry and Resubmit.
type RerunOptions struct {
	// Detach carries out a local run in a process of its own.
	Detach bool
}

// Retry reruns the failed and downstream steps of a finished run, in
// place, and returns it as soon as it has restarted.
func (s *Service) Retry(ctx context.Context, at Place, id string, opts RerunOptions) (*cluster.Run, error) {
	return s.rerun(ctx, at, id, opts, false)
}

// Resubmit starts a new run of a finished run's pipeline with the same
// parameters, every step run again.
func (s *Service) Resubmit(ctx context.Context, at Place, id string, opts RerunOptions) (*cluster.Run, error) {
	return s.rerun(ctx, at, id, opts, true)
}

func (s *Service) rerun(ctx context.Context, at Place, id string, opts RerunOptions, resubmit bool) (*cluster.Run, error) {
	b, lb, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	if lb == nil {
		if resubmit {
			return b.Resubmit(ctx, id)
		}
		return b.Retry(ctx, id)
	}
	spawn, err := s.spawner(lb, opts.Detach)
	if err != nil {
		return nil, err
	}
	if resubmit {
		return lb.l.ResubmitCall(ctx, id, local.Call{Spawn: spawn})
	}
	return lb.l.RetryCall(ctx, id, local.Call{Spawn: spawn})
}

// List returns runs, newest first: those of at's notebook when it names
// one, else all of the place's.
func (s *Service) List(ctx context.Context, at Place) ([]*cluster.Run, error) {
	b, _, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	return b.List(ctx, cluster.ListOptions{NotebookID: at.Notebook.ID()})
}

// Delete removes a finished run and its records.
func (s *Service) Delete(ctx context.Context, at Place, id string) error {
	b, _, err := s.backend(at)
	if err != nil {
		return err
	}
	if err := b.Delete(ctx, id); err != nil {
		return err
	}
	s.log.Info("run deleted", "run", id)
	return nil
}
