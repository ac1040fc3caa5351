package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/local"
	"github.com/datainsight/datainsight/internal/atomicfile"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
	"github.com/datainsight/datainsight/service"
)

// runFlags are the flags every run-related command shares: which backend,
// where local runs are recorded, which interpreter runs local steps, and
// which cluster and namespace Argo runs go to. What a flag leaves unset
// comes from the environment, then the config file.
type runFlags struct {
	backendName string
	runsDir     string
	python      string
	kube        kubeFlags
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.backendName, "backend", "", "where runs happen: local (python3 processes here; the default) or argo (Argo Workflows on Kubernetes)")
	cmd.Flags().StringVar(&f.runsDir, "runs-dir", "", "where local runs are recorded (default $DATAINSIGHT_RUNS_DIR, else .datainsight/runs next to the notebook, or in the current folder)")
	cmd.Flags().StringVar(&f.python, "python", "", "the Python interpreter for local steps (default $DATAINSIGHT_PYTHON, else python3)")
	f.kube.add(cmd)
}

// service returns the service for the flags (and rf's, when the command
// reads notebooks).
func (f *runFlags) service(rf *readFlags) (*service.Service, error) {
	if f.backendName != "" && f.backendName != service.BackendLocal && f.backendName != service.BackendArgo {
		return nil, usagef("unknown backend %q (local or argo)", f.backendName)
	}
	over := service.Config{Backend: f.backendName, RunsDir: f.runsDir, Python: f.python}
	f.kube.config(&over)
	if rf != nil {
		if err := rf.config(&over); err != nil {
			return nil, err
		}
	}
	return openService(over)
}

func newRunCmd(s *streams) *cobra.Command {
	var rf runFlags
	var resume string
	var params []string
	var detach, asJSON, verbose, noCache bool
	var parallelism int
	var readf readFlags
	cmd := &cobra.Command{
		Use:   "run NOTEBOOK",
		Short: "Run a notebook as a pipeline (locally by default)",
		Long: `Run analyses and compiles a notebook and runs it as a pipeline. The embedded
local backend runs each step as a python3 process in the notebook's folder,
independent steps in parallel, and records the run under .datainsight/runs
next to the notebook. run blocks until the run ends, showing each step's
state; Ctrl-C cancels it.

Steps whose code, parameters, interpreter, inputs and files read are
unchanged since an earlier run reuse that run's outputs (cache:off or
--no-cache runs them anyway). --resume RUN starts a new run that reuses
RUN's unchanged steps. On Argo it shares RUN's volume; a step is reused when
it succeeded there with the same code, image and parameter values, reads no
files, and every step before it is reused too.`,
		Example: `  datainsight run examples/iris.ipynb
  datainsight run examples/iris.ipynb --param N_ESTIMATORS=200 --param TEST_SIZE=0.2
  datainsight run examples/iris.ipynb --detach
  datainsight run examples/iris.ipynb --resume iris-x7k2q`,
		Args: exactArgs(1, "one notebook path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rf.backendName != "" && rf.backendName != service.BackendLocal && rf.backendName != service.BackendArgo {
				return usagef("run: unknown backend %q (local or argo)", rf.backendName)
			}
			if parallelism < 0 {
				return usagef("run: --parallelism must be 0 (one per core) or more")
			}
			svc, err := rf.service(&readf)
			if err != nil {
				return err
			}
			c, err := compileNotebook(cmd.Context(), s, svc, args[0])
			if err != nil {
				return err
			}
			overrides, err := pipelinegen.ParseParameterFlags(c.Pipeline, params)
			if err != nil {
				return usageError{err}
			}
			r, err := svc.Submit(cmd.Context(), c, service.SubmitOptions{
				Parameters: overrides, NoCache: noCache, ResumeFrom: resume, Parallelism: parallelism,
				Snapshot: true, Detach: detach,
			})
			var (
				re  *service.ResumeError
				ce  *service.ConfigError
				cle *service.ClusterError
			)
			switch {
			case errors.As(err, &re):
				return fmt.Errorf("run %s: --resume: %w", args[0], re.Err)
			case errors.As(err, &ce), errors.As(err, &cle):
				return err // about the flags, not this run
			case err != nil:
				return fmt.Errorf("run %s: %w", args[0], err)
			}
			if detach {
				fmt.Fprintln(s.out, r.ID)
				return nil
			}
			return follow(cmd.Context(), s, svc, service.Place{Notebook: c.Ref}, r.ID, stepNames(c.Pipeline), asJSON, verbose, true)
		},
	}
	rf.add(cmd)
	cmd.Flags().StringArrayVarP(&params, "param", "p", nil, "override a pipeline parameter: NAME=VALUE (a Python literal; repeatable)")
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "print the run id and return; the run goes on in the background")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON event per line instead of the live view")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "stream the steps' output, each line prefixed with its step")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "run every step, even ones whose outputs are cached")
	cmd.Flags().StringVar(&resume, "resume", "", "reuse the unchanged steps' outputs of this earlier run")
	cmd.Flags().IntVar(&parallelism, "parallelism", 0, "how many steps may run at once (default: one per core)")
	readf.add(cmd)
	return cmd
}

func stepNames(p *pipelinegen.Pipeline) []string {
	var names []string
	for _, st := range p.Steps {
		names = append(names, st.Name)
	}
	return names
}

// spawnRunner starts the run in a detached process of its own session, so
// that it survives this one (and its terminal).
func spawnRunner(python, runDir string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(runDir, "runner.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "__runner", "--python", python, runDir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the detached runner: %w", err)
	}
	// Reaped when it ends: a long-lived parent (serve) must not collect
	// zombies; a short one exits first, and init reaps.
	go cmd.Wait()
	return nil
}

// newRunnerCmd is the hidden command a detached run executes in.
func newRunnerCmd(s *streams) *cobra.Command {
	var python string
	cmd := &cobra.Command{
		Use:    "__runner RUN_DIR",
		Hidden: true,
		Args:   exactArgs(1, "a run directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := filepath.Clean(args[0])
			// Its stderr is the run's runner.log.
			b := &local.Local{Dir: filepath.Dir(dir), Python: python, Log: slog.New(slog.NewTextHandler(s.errOut, nil))}
			return b.Execute(cmd.Context(), dir)
		},
	}
	cmd.Flags().StringVar(&python, "python", "python3", "")
	return cmd
}

// follow shows a run's progress until it ends, then a summary. Ctrl-C
// cancels the run when this command started it (own); a mere watcher
// stops watching and leaves the run going, as kubectl's watches do.
func follow(ctx context.Context, s *streams, svc *service.Service, at service.Place, id string, steps []string, asJSON, verbose, own bool) error {
	// The watch outlives ctx (a cancelled run still reports its end), but
	// not this function.
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	events, err := svc.Watch(wctx, at, id)
	if err != nil {
		return err
	}
	var view io.Writer = s.errOut
	if asJSON {
		view = s.out
	}
	pg := newProgress(view, asJSON, steps)
	logsDone := make(chan struct{})
	if verbose {
		go func() {
			defer close(logsDone)
			svc.Logs(context.WithoutCancel(ctx), at, id, cluster.LogOptions{Follow: true}, s.out)
		}()
	} else {
		close(logsDone)
	}
	cancelled := false
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				goto done
			}
			pg.event(ev)
		case <-ctx.Done():
			if !own {
				pg.close()
				fmt.Fprintf(s.errOut, "\nstopped watching %s; it goes on (`datainsight runs --watch %s` follows it again)\n", id, id)
				return exitError{exitInterrupted}
			}
			if !cancelled {
				cancelled = true
				fmt.Fprintf(s.errOut, "\ncancelling %s…\n", id)
				go svc.Cancel(context.Background(), at, id)
			}
			ctx = context.Background()
		}
	}
done:
	pg.close()
	<-logsDone
	r, err := svc.Get(context.Background(), at, id)
	if err != nil {
		return err
	}
	if !asJSON {
		summary(s.errOut, r)
	}
	if r.Phase != cluster.Succeeded {
		return exitError{exitFailure}
	}
	return nil
}

// summary prints how a run ended: duration, metrics, where the reports
// are, and what to do about a failure.
func summary(w io.Writer, r *cluster.Run) {
	took := ""
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		took = " in " + r.Finished.Sub(r.Started).Round(10*time.Millisecond).String()
	}
	cached := 0
	for _, st := range r.Steps {
		if st.Cached {
			cached++
		}
	}
	extra := ""
	if cached > 0 {
		extra = fmt.Sprintf(" (%d of %d steps cached)", cached, len(r.Steps))
	}
	fmt.Fprintf(w, "\nrun %s %s%s%s\n", r.ID, strings.ToLower(string(r.Phase)), took, extra)
	if r.Message != "" && r.Phase != cluster.Succeeded {
		fmt.Fprintf(w, "  %s\n", r.Message)
	}
	for _, st := range r.Steps {
		for _, k := range sortedMapKeys(st.Metrics) {
			fmt.Fprintf(w, "  metric %s.%s = %v\n", st.Name, k, st.Metrics[k])
		}
	}
	// Commands to copy: on Argo they need the flag that found the run.
	flag := ""
	if r.Backend == "argo" {
		flag = " --backend argo"
	}
	for _, st := range r.Steps {
		if st.Phase == cluster.Failed || st.Phase == cluster.Error {
			fmt.Fprintf(w, "  step %s failed: %s\n    datainsight logs%s %s %s\n", st.Name, st.Message, flag, r.ID, st.Name)
		}
	}
	for _, st := range r.Steps {
		if st.Report != "" {
			fmt.Fprintf(w, "  reports: %s\n", filepath.Dir(filepath.Dir(st.Report)))
			break
		}
		if r.Backend == "argo" && (st.Phase == cluster.Succeeded || st.Phase == cluster.Failed) {
			fmt.Fprintf(w, "  reports: datainsight report%s %s STEP [--html]\n", flag, r.ID)
			break
		}
	}
}

func newRunsCmd(s *streams) *cobra.Command {
	var rf runFlags
	var asJSON, watch bool
	cmd := &cobra.Command{
		Use:   "runs [NOTEBOOK | --watch RUN]",
		Short: "List runs, newest first, or follow one (--watch)",
		Long: `Runs lists the runs: local ones recorded in the runs directory (all of them,
or only those of NOTEBOOK, whose runs live next to it), or Argo ones in the
configured namespace with --backend argo. --watch RUN follows one run to its
end with the same live view as run.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if watch {
				if len(args) != 1 {
					return usagef("runs --watch: expected one run id")
				}
				svc, err := rf.service(nil)
				if err != nil {
					return err
				}
				r, err := svc.Get(cmd.Context(), service.Place{}, args[0])
				if err != nil {
					return notFoundHint(err)
				}
				var steps []string
				for _, st := range r.Steps {
					steps = append(steps, st.Name)
				}
				return follow(cmd.Context(), s, svc, service.Place{}, r.ID, steps, asJSON, false, false)
			}
			var at service.Place
			if len(args) == 1 {
				var err error
				if at.Notebook, err = service.ResolveNotebook(args[0]); err != nil {
					return err
				}
			}
			svc, err := rf.service(nil)
			if err != nil {
				return err
			}
			runs, err := svc.List(cmd.Context(), at)
			if err != nil {
				return err
			}
			if asJSON {
				if runs == nil {
					runs = []*cluster.Run{}
				}
				return writeJSON(s.out, runs)
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tNOTEBOOK\tPHASE\tSTEPS\tCREATED\tDURATION")
			var damaged []*cluster.Run
			for _, r := range runs {
				phase := string(r.Phase)
				if local.IsDamaged(r) {
					phase, damaged = "Damaged", append(damaged, r)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Notebook, phase, stepCounts(r), age(r.Created), duration(r))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			// The table has no room for why; a damaged run must say it.
			for _, r := range damaged {
				fmt.Fprintf(s.errOut, "run %s is %s\n", r.ID, r.Message)
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the runs as JSON (with --watch: one event per line)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the run given as argument until it ends")
	return cmd
}

func stepCounts(r *cluster.Run) string {
	ok := 0
	for _, st := range r.Steps {
		if st.Phase == cluster.Succeeded {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d", ok, len(r.Steps))
}

func age(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func duration(r *cluster.Run) string {
	if r.Started.IsZero() {
		return "-"
	}
	end := r.Finished
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(r.Started).Round(100 * time.Millisecond).String()
}

func newLogsCmd(s *streams) *cobra.Command {
	var rf runFlags
	var followLogs bool
	cmd := &cobra.Command{
		Use:   "logs RUN [STEP]",
		Short: "Print a run's step output",
		Long: `Logs prints the raw output of one step of a run, or of every step with each
line prefixed "STEP | ". -f keeps following until the run ends.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := cluster.LogOptions{Follow: followLogs}
			if len(args) == 2 {
				opts.Step = args[1]
			}
			svc, err := rf.service(nil)
			if err != nil {
				return err
			}
			return notFoundHint(svc.Logs(cmd.Context(), service.Place{}, args[0], opts, s.out))
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVarP(&followLogs, "follow", "f", false, "keep printing output until the run ends")
	return cmd
}

func newReportCmd(s *streams) *cobra.Command {
	var rf runFlags
	var html bool
	var output string
	cmd := &cobra.Command{
		Use:   "report RUN STEP",
		Short: "Print a step's report: its cells as executed, with their outputs",
		Long: `Report prints the report a step of a run left: a notebook (.ipynb) of the
step's cells as they ran, with their outputs, or with --html the same as a
page. -o writes it to a file instead. On Argo the report is read from the
run's marshal volume (by a short-lived pod), so it is there after the step's
pod is gone, until the run is deleted.`,
		Example: `  datainsight report wordcount-x7k2p count -o count.ipynb
  datainsight report train-b4n9q train --html --backend argo -o train.html`,
		Args: exactArgs(2, "a run id and a step"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := rf.service(nil)
			if err != nil {
				return err
			}
			opts := cluster.ReportOptions{Step: args[1], HTML: html}
			if output == "" || output == "-" {
				return notFoundHint(svc.Report(cmd.Context(), service.Place{}, args[0], opts, s.out))
			}
			// A file is written whole or not at all.
			var buf bytes.Buffer
			if err := svc.Report(cmd.Context(), service.Place{}, args[0], opts, &buf); err != nil {
				return notFoundHint(err)
			}
			if err := atomicfile.Write(output, buf.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(s.errOut, "wrote %s (%d bytes)\n", output, buf.Len())
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVar(&html, "html", false, "the report as an HTML page instead of a notebook")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to this file (\"-\": standard output)")
	return cmd
}

func newCancelCmd(s *streams) *cobra.Command {
	var rf runFlags
	cmd := &cobra.Command{
		Use:   "cancel RUN",
		Short: "Cancel a run: its running steps are stopped",
		Args:  exactArgs(1, "a run id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := rf.service(nil)
			if err != nil {
				return err
			}
			r, err := svc.Cancel(cmd.Context(), service.Place{}, args[0])
			if err != nil {
				return notFoundHint(err)
			}
			fmt.Fprintf(s.out, "run %s %s\n", r.ID, strings.ToLower(string(r.Phase)))
			return nil
		},
	}
	rf.add(cmd)
	return cmd
}

func newRetryCmd(s *streams) *cobra.Command {
	return rerunCmd(s, &cobra.Command{
		Use:   "retry RUN",
		Short: "Rerun the failed and downstream steps of a run, in place",
	}, (*service.Service).Retry, "return at once; the retry goes on in the background")
}

func newResubmitCmd(s *streams) *cobra.Command {
	return rerunCmd(s, &cobra.Command{
		Use:   "resubmit RUN",
		Short: "Start a new run of a finished run's pipeline, with the same parameters",
		Long: `Resubmit starts a new run of the pipeline a finished run ran — as it was
compiled then, with the same parameter values — and runs every step again
(no cache). To run the notebook as it is now, use run.`,
	}, (*service.Service).Resubmit, "print the new run's id and return")
}

// rerunCmd completes a command that starts work from an earlier run (retry,
// resubmit) and then follows it as run does, or returns at once with -d.
func rerunCmd(s *streams, cmd *cobra.Command, start func(*service.Service, context.Context, service.Place, string, service.RerunOptions) (*cluster.Run, error), detachHelp string) *cobra.Command {
	var rf runFlags
	var detach, asJSON, verbose bool
	cmd.Args = exactArgs(1, "a run id")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		svc, err := rf.service(nil)
		if err != nil {
			return err
		}
		r, err := start(svc, cmd.Context(), service.Place{}, args[0], service.RerunOptions{Detach: detach})
		if err != nil {
			return notFoundHint(err)
		}
		if detach {
			fmt.Fprintln(s.out, r.ID)
			return nil
		}
		var steps []string
		for _, st := range r.Steps {
			steps = append(steps, st.Name)
		}
		return follow(cmd.Context(), s, svc, service.Place{}, r.ID, steps, asJSON, verbose, true)
	}
	rf.add(cmd)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, detachHelp)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON event per line")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "stream the steps' output")
	return cmd
}

func newDeleteCmd(s *streams) *cobra.Command {
	var rf runFlags
	cmd := &cobra.Command{
		Use:   "delete RUN...",
		Short: "Delete finished runs and their records",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := rf.service(nil)
			if err != nil {
				return err
			}
			var errs []error
			for _, id := range args {
				if err := svc.Delete(cmd.Context(), service.Place{}, id); err != nil {
					errs = append(errs, notFoundHint(err))
					continue
				}
				fmt.Fprintf(s.out, "deleted %s\n", id)
			}
			return errors.Join(errs...)
		},
	}
	rf.add(cmd)
	return cmd
}

func newPruneCmd(s *streams) *cobra.Command {
	var rf runFlags
	var olderThan string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune --older-than DURATION",
		Short: "Delete finished runs older than a duration",
		Example: `  datainsight prune --older-than 7d
  datainsight prune --older-than 12h --dry-run`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if olderThan == "" {
				return usagef("prune: --older-than is required (e.g. 7d, 12h)")
			}
			d, err := notebook.ParseDuration(olderThan)
			if err != nil {
				return usagef("prune: --older-than: %v", err)
			}
			svc, err := rf.service(nil)
			if err != nil {
				return err
			}
			runs, err := svc.List(cmd.Context(), service.Place{})
			if err != nil {
				return err
			}
			cutoff := time.Now().Add(-time.Duration(d))
			sort.Slice(runs, func(i, j int) bool { return runs[i].Created.Before(runs[j].Created) })
			n := 0
			var errs []error
			for _, r := range runs {
				if !r.Phase.Done() || r.Created.After(cutoff) {
					continue
				}
				if dryRun {
					fmt.Fprintf(s.out, "would delete %s\n", r.ID)
					n++
					continue
				}
				// One run that cannot go does not keep the others.
				if err := svc.Delete(cmd.Context(), service.Place{}, r.ID); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(s.out, "deleted %s\n", r.ID)
				n++
			}
			if dryRun {
				fmt.Fprintf(s.errOut, "%d runs would be deleted (dry run)\n", n)
			}
			return errors.Join(errs...)
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&olderThan, "older-than", "", "delete finished runs created longer ago than this (e.g. 7d, 12h)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print what would be deleted")
	return cmd
}
