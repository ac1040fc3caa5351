package service

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Source is a notebook to work on: a saved file, an unsaved body (the
// panel's notebook as edited), or a stream (standard input).
type Source struct {
	// Path names the notebook, relative to the current folder or
	// absolute; "-" is standard input. It is read unless Body or Reader
	// gives the notebook; then it still says where the notebook lives
	// (where its steps run, its identity across runs), or "" for nowhere
	// in particular.
	Path string
	// Body is the notebook's JSON, for a notebook not (yet) saved.
	Body []byte
	// Reader gives the notebook when Body does not and Path is "-" or "".
	Reader io.Reader
	// Notebook is the notebook already parsed (an editor's draft, kept
	// between edits), used before anything else.
	Notebook *notebook.Notebook
}

// name is how messages name the notebook.
func (src Source) name() string {
	switch {
	case src.Path != "":
		return src.Path
	case src.Body != nil || src.Notebook != nil:
		return "<unsaved notebook>"
	}
	return "<stdin>"
}

// Analyzed is a notebook read and analysed.
type Analyzed struct {
	Ref      NotebookRef
	Notebook *notebook.Notebook
	Analysis *analyzer.Analysis
}

// Compiled is a notebook compiled into a pipeline.
type Compiled struct {
	Analyzed
	Pipeline *pipelinegen.Pipeline
}

// Load reads a notebook, no larger than the configured limit. A read
// that blocks (an idle pipe) does not hold ctx up: it is abandoned, to end
// with the process.
func (s *Service) Load(ctx context.Context, src Source) (NotebookRef, *notebook.Notebook, error) {
	ref, err := ResolveNotebook(src.Path)
	if err != nil {
		return ref, nil, err
	}
	if src.Notebook != nil {
		return ref, src.Notebook, nil
	}
	if src.Path == "" && src.Body == nil && src.Reader == nil {
		return ref, nil, ErrNoNotebook
	}
	limit := s.cfg.MaxNotebookBytes
	type result struct {
		nb  *notebook.Notebook
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		switch {
		case src.Body != nil:
			r.nb, r.err = notebook.Read(ctx, bytes.NewReader(src.Body), src.name(), limit)
		case src.Reader != nil && (src.Path == "" || src.Path == "-"):
			r.nb, r.err = notebook.Read(ctx, src.Reader, "<stdin>", limit)
		case src.Path == "-":
			r.err = fmt.Errorf("reading -: %w", ErrNoNotebook)
		default:
			r.nb, r.err = notebook.Load(ctx, src.Path, limit)
		}
		done <- r
	}()
	select {
	case r := <-done:
		return ref, r.nb, r.err
	case <-ctx.Done():
		return ref, nil, fmt.Errorf("reading %s: %w", src.name(), ctx.Err())
	}
}

// Analyze reads and analyses a notebook. Problems in the notebook are in
// the analysis' diagnostics, not in the error, which is about reading it.
// Unchanged cells of notebooks analysed before are not parsed again.
func (s *Service) Analyze(ctx context.Context, src Source) (*Analyzed, error) {
	ref, nb, err := s.Load(ctx, src)
	if err != nil {
		return nil, err
	}
	an := s.analyzer(ref.Path).Analyze(ctx, nb, analyzer.Options{Dir: ref.AnalysisDir()})
	return &Analyzed{Ref: ref, Notebook: nb, Analysis: an}, nil
}

// Compile reads, analyses and compiles a notebook. A notebook that does
// not compile is a *CompileError carrying the analysis.
func (s *Service) Compile(ctx context.Context, src Source) (*Compiled, error) {
	a, err := s.Analyze(ctx, src)
	if err != nil {
		return nil, err
	}
	p, err := pipelinegen.Compile(a.Notebook, a.Analysis, pipelinegen.Options{NotebookPath: src.name(), NotebookID: a.Ref.ID()})
	if err != nil {
		return nil, &CompileError{Name: src.name(), Analysis: a.Analysis, Err: err}
	}
	return &Compiled{Analyzed: *a, Pipeline: p}, nil
}

// WorkflowOptions tune Workflow.
type WorkflowOptions struct {
	// NotebookDir is the notebook's folder as the notebook server sees it
	// (default: its folder here).
	NotebookDir string
	// ArtifactRepository keeps step reports as output artifacts (also
	// when the configuration says the cluster has a repository).
	ArtifactRepository bool
}

// Workflow renders a compiled notebook as an Argo Workflow in YAML.
func (s *Service) Workflow(c *Compiled, opts WorkflowOptions) ([]byte, error) {
	if opts.NotebookDir == "" {
		opts.NotebookDir = c.Ref.AnalysisDir()
	}
	wf, err := pipelinegen.Workflow(c.Pipeline, pipelinegen.WorkflowOptions{
		NotebookDir: opts.NotebookDir, ArtifactRepository: opts.ArtifactRepository || s.cfg.ArtifactRepository,
	})
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", c.Pipeline.Notebook, err)
	}
	return pipelinegen.YAML(wf)
}
