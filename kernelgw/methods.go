package kernelgw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

// Backend names a backend in requests.
type Backend string

// EnumValues lists the backends, for the method list and the decoder.
func (Backend) EnumValues() []string { return []string{service.BackendLocal, service.BackendArgo} }

// NotebookParams name a notebook: a path under the notebook root, and
// its unsaved content when the client has it.
type NotebookParams struct {
	Path string          `json:"path,omitempty" doc:"The notebook's path, relative to the notebook root (or absolute, inside it)."`
	Body json.RawMessage `json:"body,omitempty" doc:"The notebook's JSON as edited, when it differs from the saved file; path then says where it lives."`
}

// AnalyzeResult is the analysis of a notebook.
type AnalyzeResult struct {
	Analysis *analyzer.Analysis `json:"analysis" doc:"Steps, edges, ins/outs, parameters and diagnostics (as analyze --json prints them)."`
	Revision string             `json:"revision,omitempty" doc:"Over a WebSocket, for a notebook given as a body or as edits: names this version of it, the base of the next call's edits."`
}

// CompileParams are compile's params.
type CompileParams struct {
	NotebookParams
	NotebookDir        string `json:"notebook_dir,omitempty" doc:"The notebook's folder as the notebook server sees it (default: its folder here)."`
	ArtifactRepository bool   `json:"artifact_repository,omitempty" doc:"Keep step reports as output artifacts."`
}

// CompileResult is a compiled notebook.
type CompileResult struct {
	Workflow    string                `json:"workflow" doc:"The Argo Workflow, in YAML."`
	Diagnostics []notebook.Diagnostic `json:"diagnostics" doc:"The analysis' warnings and notes."`
}

// RunParams are run's params.
type RunParams struct {
	NotebookParams
	Params      map[string]string `json:"params,omitempty" doc:"Pipeline parameter overrides: name -> value, a Python literal (for a str parameter, any text)."`
	NoCache     bool              `json:"no_cache,omitempty" doc:"Run every step, even ones whose outputs are cached."`
	Resume      string            `json:"resume,omitempty" doc:"An earlier run of this notebook whose unchanged steps' outputs the new run reuses."`
	Parallelism int               `json:"parallelism,omitempty" doc:"How many steps may run at once (default: one per core)."`
	Backend     Backend           `json:"backend,omitempty" doc:"Where the run happens (default: the sidecar's configuration)."`
	Subscribe   bool              `json:"subscribe,omitempty" doc:"Also subscribe this WebSocket client to the run's progress (run.event, run.log), from its start."`
}

// RunResult is a run just started.
type RunResult struct {
	ID  string       `json:"id" doc:"The run's id."`
	Run *cluster.Run `json:"run" doc:"Its state when it started."`
}

// RunsParams are runs' params.
type RunsParams struct {
	Path    string  `json:"path,omitempty" doc:"Only this notebook's runs (local runs are recorded beside it); default: the runs of the notebook root."`
	Backend Backend `json:"backend,omitempty" doc:"Whose runs (default: the sidecar's configuration)."`
}

// RunsResult lists runs, newest first.
type RunsResult struct {
	Runs []*cluster.Run `json:"runs"`
}

// RunRef names a run, and where its records are.
type RunRef struct {
	Run     string  `json:"run" doc:"The run's id."`
	Path    string  `json:"path,omitempty" doc:"The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs)."`
	Backend Backend `json:"backend,omitempty" doc:"The run's backend (default: the sidecar's configuration)."`
}

// LogsParams are run.logs' params.
type LogsParams struct {
	RunRef
	Step string `json:"step,omitempty" doc:"One step's output; default: every step's, each line prefixed \"STEP | \"."`
}

// LogsResult is a run's output so far.
type LogsResult struct {
	Logs      string `json:"logs"`
	Truncated bool   `json:"truncated,omitempty" doc:"The output was longer than the limit; the rest is left out."`
}

// ReportParams are run.report's params.
type ReportParams struct {
	RunRef
	Step string `json:"step" doc:"The step whose report to return."`
	HTML bool   `json:"html,omitempty" doc:"The report as an HTML page instead of a notebook."`
}

// ReportResult is a step's report.
type ReportResult struct {
	Report string `json:"report" doc:"The executed notebook's JSON, or the page."`
	Format string `json:"format" doc:"ipynb or html."`
}

// RerunParams are run.retry's and run.resubmit's params.
type RerunParams struct {
	RunRef
	Subscribe bool `json:"subscribe,omitempty" doc:"Also subscribe this WebSocket client to the run's progress."`
}

// DeleteResult says what was deleted.
type DeleteResult struct {
	Deleted string `json:"deleted"`
}

// SubscribeResult is a subscription to a run's progress.
type SubscribeResult struct {
	Topic string       `json:"topic" doc:"The topic the run's notifications are published to."`
	Run   *cluster.Run `json:"run" doc:"The run's state now; a run that has ended sends nothing more."`
}

// LogLine is one line of a step's output (the run.log notification).
type LogLine struct {
	Run  string `json:"run"`
	Step string `json:"step"`
	Line string `json:"line"`
}

// Bounds on what one call returns.
const (
	maxLogBytes    = 4 << 20
	maxReportBytes = 64 << 20
)

func (s *Sidecar) register() error {
	srv := s.rpc
	errs := []error{
		rpc.Register(srv, "analyze", "Analyses a notebook (saved, or as edited): its steps, the values that flow between them, and its diagnostics.", s.analyze),
		rpc.Register(srv, "compile", "Compiles a notebook into an Argo Workflow (YAML). A notebook with errors is refused; data.diagnostics has them.", s.compile),
		rpc.Register(srv, "run", "Runs a notebook as a pipeline and returns at once with the run's id; follow it with subscribe, or run.subscribe.", s.run),
		rpc.Register(srv, "check", "Checks, in a running kernel of the notebook, that every value a step outputs can be passed to the steps that use it: lists those the runtime cannot save (open files, generators, locks, ...).", s.check),
		rpc.Register(srv, "explore", "Loads into a running kernel the inputs a step of a past local run loaded (the values, from the steps that saved them, and the step's parameters), bound under their names: the step can then be run, or its values inspected, as the run saw them.", s.explore),
		rpc.Register(srv, "env", "Describes a running kernel's Python (version, executable, installed distributions) and how the interpreter local runs use differs from it.", s.env),
		rpc.Register(srv, "settings.get", "Returns a notebook's pipeline settings (its metadata.datainsight), those in effect, and their problems.", s.settingsGet),
		rpc.Register(srv, "settings.set", "Replaces a notebook's pipeline settings (its metadata.datainsight), changing nothing else in the file; settings with errors are refused, naming their fields, and nothing is written.", s.settingsSet),
		rpc.Register(srv, "runs", "Lists runs, newest first.", s.runs),
		rpc.Register(srv, "run.get", "Returns a run's state: its phase and each step's.", s.runGet),
		rpc.Register(srv, "run.logs", "Returns a run's output so far: one step's, or every step's with each line prefixed \"STEP | \".", s.runLogs),
		rpc.Register(srv, "config", "Returns the sidecar's configuration as a client shows it: the default backend, the namespace (read-only), the object stores.", s.config),
		rpc.Register(srv, "run.definition", "Returns what a run carries out: its Argo Workflow as the cluster keeps it, or the pipeline a local run ran, in YAML.", s.runDefinition),
		rpc.Register(srv, "run.report", "Returns a step's report: its cells as executed, with their outputs.", s.runReport),
		rpc.Register(srv, "run.cancel", "Cancels a run: its running steps are stopped.", s.runCancel),
		rpc.Register(srv, "run.retry", "Reruns the failed and downstream steps of a finished run, in place.", s.runRetry),
		rpc.Register(srv, "run.resubmit", "Starts a new run of a finished run's pipeline, with the same parameters; every step runs again.", s.runResubmit),
		rpc.Register(srv, "run.delete", "Deletes a finished run and its records.", s.runDelete),
		rpc.Register(srv, "run.subscribe", "Subscribes this WebSocket client to a run's progress: run.event for the run's and its steps' state changes (from the run's start), run.log for its steps' output lines.", s.runSubscribe),
		rpc.Register(srv, "run.unsubscribe", "Ends this WebSocket client's subscription to a run.", s.runUnsubscribe),
		rpc.Register(srv, "notebook.subscribe", "Subscribes this WebSocket client to a saved notebook's analysis: notebook.analysis each time its file changes on disk. Returns the analysis now.", s.notebookSubscribe),
		rpc.Register(srv, "notebook.unsubscribe", "Ends this WebSocket client's subscription to a notebook's analysis.", s.notebookUnsubscribe),
		rpc.DeclareNotification[NotebookAnalysis](srv, "notebook.analysis", "A subscribed notebook changed on disk: its analysis now."),
		rpc.DeclareNotification[cluster.Event](srv, "run.event", "A run's or a step's state changed (type run or step), as `run --json` prints it."),
		rpc.DeclareNotification[LogLine](srv, "run.log", "A line a step printed."),
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sidecar: %w", err)
	}
	return nil
}

// resolve confines a client's path to the notebook root; the error names
// the field that held it.
func (s *Sidecar) resolve(field, p string) (string, error) {
	abs, err := s.root.Resolve(p)
	if err != nil {
		var re *rpc.Error
		if errors.As(err, &re) {
			return "", &rpc.Error{Code: re.Code, Message: fmt.Sprintf("field %q: %s", field, re.Message),
				Data: map[string]string{"field": field, "path": p}}
		}
		return "", err
	}
	return abs, nil
}

// source is the notebook a request names.
func (s *Sidecar) source(p NotebookParams, needPath bool) (service.Source, error) {
	var src service.Source
	body := bytes.TrimSpace(p.Body)
	if len(body) > 0 && !bytes.Equal(body, []byte("null")) {
		src.Body = body
	}
	switch {
	case p.Path == "" && needPath:
		return src, rpc.FieldError("path", "required: the steps run in the notebook's folder")
	case p.Path == "" && src.Body == nil:
		return src, rpc.FieldError("path", "required unless body is given")
	case p.Path != "":
		abs, err := s.resolve("path", p.Path)
		if err != nil {
			return src, err
		}
		src.Path = abs
	}
	return src, nil
}

// place is where a request's runs are.
func (s *Sidecar) place(path string, b Backend) (service.Place, error) {
	at := service.Place{Notebook: service.InFolder(s.root.Dir()), Backend: string(b)}
	if path == "" {
		return at, nil
	}
	abs, err := s.resolve("path", path)
	if err != nil {
		return at, err
	}
	if at.Notebook, err = service.ResolveNotebook(abs); err != nil {
		return at, err
	}
	return at, nil
}

func (s *Sidecar) compile(ctx context.Context, _ *rpc.Conn, p CompileParams) (CompileResult, error) {
	src, err := s.source(p.NotebookParams, false)
	if err != nil {
		return CompileResult{}, err
	}
	c, err := s.svc.Compile(ctx, src)
	if err != nil {
		return CompileResult{}, rpcError(err)
	}
	opts := service.WorkflowOptions{ArtifactRepository: p.ArtifactRepository}
	if p.NotebookDir != "" {
		// A folder as the notebook server sees it, not one here: not
		// confined to the root, but it must be a plain absolute path.
		if !strings.HasPrefix(p.NotebookDir, "/") || strings.ContainsRune(p.NotebookDir, 0) {
			return CompileResult{}, rpc.FieldError("notebook_dir", "must be an absolute path")
		}
		opts.NotebookDir = p.NotebookDir
	}
	y, err := s.svc.Workflow(c, opts)
	if err != nil {
		return CompileResult{}, rpcError(err)
	}
	return CompileResult{Workflow: string(y), Diagnostics: notes(c.Analysis)}, nil
}

// notes are an analysis' diagnostics, never null.
func notes(an *analyzer.Analysis) []notebook.Diagnostic {
	if an.Diagnostics == nil {
		return []notebook.Diagnostic{}
	}
	return an.Diagnostics
}

func (s *Sidecar) run(ctx context.Context, c *rpc.Conn, p RunParams) (RunResult, error) {
	if p.Subscribe && c == nil {
		return RunResult{}, noConn("subscribe")
	}
	if p.Parallelism < 0 {
		return RunResult{}, rpc.FieldError("parallelism", "must be 0 (one per core) or more")
	}
	src, err := s.source(p.NotebookParams, true)
	if err != nil {
		return RunResult{}, err
	}
	comp, err := s.svc.Compile(ctx, src)
	if err != nil {
		return RunResult{}, rpcError(err)
	}
	r, err := s.svc.Submit(ctx, comp, service.SubmitOptions{
		Backend: string(p.Backend), Parameters: p.Params, NoCache: p.NoCache, ResumeFrom: p.Resume,
		Parallelism: p.Parallelism, Snapshot: true, Detach: s.detach,
	})
	if err != nil {
		return RunResult{}, rpcError(err)
	}
	if p.Subscribe {
		if err := s.subscribe(c, service.Place{Notebook: comp.Ref, Backend: string(p.Backend)}, r.ID); err != nil {
			return RunResult{}, err
		}
	}
	return RunResult{ID: r.ID, Run: r}, nil
}

func (s *Sidecar) runs(ctx context.Context, _ *rpc.Conn, p RunsParams) (RunsResult, error) {
	at, err := s.place(p.Path, p.Backend)
	if err != nil {
		return RunsResult{}, err
	}
	runs, err := s.svc.List(ctx, at)
	if err != nil {
		return RunsResult{}, rpcError(err)
	}
	if runs == nil {
		runs = []*cluster.Run{}
	}
	return RunsResult{Runs: runs}, nil
}

// runPlace checks a RunRef and returns where its run is.
func (s *Sidecar) runPlace(r RunRef) (service.Place, error) {
	if r.Run == "" {
		return service.Place{}, rpc.FieldError("run", "required: a run id")
	}
	return s.place(r.Path, r.Backend)
}

func (s *Sidecar) runGet(ctx context.Context, _ *rpc.Conn, p RunRef) (*cluster.Run, error) {
	at, err := s.runPlace(p)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.Get(ctx, at, p.Run)
	return r, rpcError(err)
}

// ConfigResult is the sidecar's configuration, as a client shows it.
type ConfigResult struct {
	Backend        string `json:"backend" doc:"Where runs go unless a call says otherwise: local or argo."`
	Namespace      string `json:"namespace,omitempty" doc:"The Kubernetes namespace Argo runs go to (the configuration's, else the kubeconfig context's): read-only, never taken from a request or a notebook."`
	NamespaceError string `json:"namespace_error,omitempty" doc:"Why there is no namespace: no cluster configuration, for one."`
	Marshal        string `json:"marshal,omitempty" doc:"The object store local runs keep their values in too, s3://BUCKET[/PREFIX], if any."`
	ArtifactStore  string `json:"artifact_store,omitempty" doc:"The artifact repository's bucket as the sidecar reaches it, for Argo runs in marshal mode artifacts, if any."`
	Jupyter        bool   `json:"jupyter" doc:"Whether the sidecar reaches the Jupyter server the kernels run in (check and explore with a kernel id need it)."`
}

func (s *Sidecar) config(_ context.Context, _ *rpc.Conn, _ struct{}) (ConfigResult, error) {
	cfg := s.svc.Config()
	res := ConfigResult{Backend: cfg.Backend, Marshal: cfg.Marshal, ArtifactStore: cfg.ArtifactStore, Jupyter: s.jupyter != nil}
	if ns, err := s.svc.Namespace(); err != nil {
		res.NamespaceError = err.Error()
	} else {
		res.Namespace = ns
	}
	return res, nil
}

// DefinitionResult is what a run carries out.
type DefinitionResult struct {
	Kind string `json:"kind" doc:"Workflow (an Argo run: the Workflow as the cluster keeps it, without its status) or Pipeline (a local run: the pipeline it ran)."`
	YAML string `json:"yaml" doc:"The definition, in YAML."`
}

func (s *Sidecar) runDefinition(ctx context.Context, _ *rpc.Conn, p RunRef) (DefinitionResult, error) {
	at, err := s.runPlace(p)
	if err != nil {
		return DefinitionResult{}, err
	}
	d, err := s.svc.Definition(ctx, at, p.Run)
	if err != nil {
		return DefinitionResult{}, rpcError(err)
	}
	return DefinitionResult{Kind: d.Kind, YAML: string(d.YAML)}, nil
}

func (s *Sidecar) runLogs(ctx context.Context, _ *rpc.Conn, p LogsParams) (LogsResult, error) {
	at, err := s.runPlace(p.RunRef)
	if err != nil {
		return LogsResult{}, err
	}
	w := &limitBuffer{max: maxLogBytes}
	err = s.svc.Logs(ctx, at, p.Run, cluster.LogOptions{Step: p.Step}, w)
	if err != nil && !errors.Is(err, errFull) {
		return LogsResult{}, rpcError(err)
	}
	return LogsResult{Logs: w.buf.String(), Truncated: w.full}, nil
}

func (s *Sidecar) runReport(ctx context.Context, _ *rpc.Conn, p ReportParams) (ReportResult, error) {
	at, err := s.runPlace(p.RunRef)
	if err != nil {
		return ReportResult{}, err
	}
	if p.Step == "" {
		return ReportResult{}, rpc.FieldError("step", "required: a step of the run")
	}
	w := &limitBuffer{max: maxReportBytes}
	if err := s.svc.Report(ctx, at, p.Run, cluster.ReportOptions{Step: p.Step, HTML: p.HTML}, w); err != nil {
		if errors.Is(err, errFull) {
			return ReportResult{}, rpc.Errorf(rpc.CodeTooLarge, "the report of step %s is larger than %d bytes: read it with `datainsight report`", p.Step, maxReportBytes)
		}
		return ReportResult{}, rpcError(err)
	}
	format := "ipynb"
	if p.HTML {
		format = "html"
	}
	return ReportResult{Report: w.buf.String(), Format: format}, nil
}

func (s *Sidecar) runCancel(ctx context.Context, _ *rpc.Conn, p RunRef) (*cluster.Run, error) {
	at, err := s.runPlace(p)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.Cancel(ctx, at, p.Run)
	return r, rpcError(err)
}

func (s *Sidecar) runRetry(ctx context.Context, c *rpc.Conn, p RerunParams) (*cluster.Run, error) {
	return s.rerun(ctx, c, p, s.svc.Retry)
}

func (s *Sidecar) runResubmit(ctx context.Context, c *rpc.Conn, p RerunParams) (*cluster.Run, error) {
	return s.rerun(ctx, c, p, s.svc.Resubmit)
}

func (s *Sidecar) rerun(ctx context.Context, c *rpc.Conn, p RerunParams, start func(context.Context, service.Place, string, service.RerunOptions) (*cluster.Run, error)) (*cluster.Run, error) {
	if p.Subscribe && c == nil {
		return nil, noConn("subscribe")
	}
	at, err := s.runPlace(p.RunRef)
	if err != nil {
		return nil, err
	}
	r, err := start(ctx, at, p.Run, service.RerunOptions{Detach: s.detach})
	if err != nil {
		return nil, rpcError(err)
	}
	if p.Subscribe {
		if err := s.subscribe(c, at, r.ID); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (s *Sidecar) runDelete(ctx context.Context, _ *rpc.Conn, p RunRef) (DeleteResult, error) {
	at, err := s.runPlace(p)
	if err != nil {
		return DeleteResult{}, err
	}
	if err := s.svc.Delete(ctx, at, p.Run); err != nil {
		return DeleteResult{}, rpcError(err)
	}
	return DeleteResult{Deleted: p.Run}, nil
}

func (s *Sidecar) runSubscribe(ctx context.Context, c *rpc.Conn, p RunRef) (SubscribeResult, error) {
	if c == nil {
		return SubscribeResult{}, noConn("run.subscribe")
	}
	at, err := s.runPlace(p)
	if err != nil {
		return SubscribeResult{}, err
	}
	r, err := s.svc.Get(ctx, at, p.Run)
	if err != nil {
		return SubscribeResult{}, rpcError(err)
	}
	if err := s.subscribe(c, at, r.ID); err != nil {
		return SubscribeResult{}, err
	}
	return SubscribeResult{Topic: runTopic(r.ID), Run: r}, nil
}

func (s *Sidecar) runUnsubscribe(ctx context.Context, c *rpc.Conn, p RunRef) (SubscribeResult, error) {
	if c == nil {
		return SubscribeResult{}, noConn("run.unsubscribe")
	}
	if p.Run == "" {
		return SubscribeResult{}, rpc.FieldError("run", "required: a run id")
	}
	c.Unsubscribe(runTopic(p.Run))
	return SubscribeResult{Topic: runTopic(p.Run)}, nil
}

func noConn(what string) error {
	return rpc.Errorf(rpc.CodeFailed, "%s needs a WebSocket connection (/ws), not HTTP", what)
}

// rpcError gives the service's errors the codes clients branch on.
func rpcError(err error) error {
	if err == nil {
		return nil
	}
	var (
		re *service.ResumeError
		pe *service.ParameterError
		ce *service.CompileError
	)
	switch {
	case errors.As(err, &re):
		return rpc.FieldError("resume", "%v", re)
	case errors.As(err, &pe):
		return rpc.FieldError("params", "%v", pe)
	case errors.As(err, &ce):
		return &rpc.Error{Code: rpc.CodeFailed, Message: ce.Error(), Data: map[string]any{"diagnostics": notes(ce.Analysis)}}
	case errors.Is(err, service.ErrNotFound):
		return rpc.Errorf(rpc.CodeNotFound, "%w", err)
	case errors.Is(err, cluster.ErrRunning), errors.Is(err, cluster.ErrNotFinished), errors.Is(err, cluster.ErrNothingToDo):
		return rpc.Errorf(rpc.CodeConflict, "%w", err)
	case errors.Is(err, cluster.ErrNoReport):
		return rpc.Errorf(rpc.CodeNotFound, "%w", err)
	case errors.Is(err, notebook.ErrTooLarge):
		return rpc.Errorf(rpc.CodeTooLarge, "%w", err)
	}
	return err
}

// errFull ends a write past a limitBuffer's limit.
var errFull = errors.New("output over the limit")

// limitBuffer keeps up to max bytes.
type limitBuffer struct {
	buf  bytes.Buffer
	max  int
	full bool
}

func (b *limitBuffer) Write(p []byte) (int, error) {
	if room := max(b.max-b.buf.Len(), 0); len(p) > room {
		b.buf.Write(p[:room])
		b.full = true
		return room, errFull
	}
	return b.buf.Write(p)
}

var _ io.Writer = (*limitBuffer)(nil)
