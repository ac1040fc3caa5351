package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/local"
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
	marshal     string
	kube        kubeFlags
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.backendName, "backend", "", "where runs happen: local (python3 processes here; the default) or argo (Argo Workflows on Kubernetes)")
	cmd.Flags().StringVar(&f.runsDir, "runs-dir", "", "where local runs are recorded (default $DATAINSIGHT_RUNS_DIR, else .datainsight/runs next to the notebook, or in the current folder)")
	cmd.Flags().StringVar(&f.python, "python", "", "the Python interpreter for local steps (default $DATAINSIGHT_PYTHON, else python3)")
	cmd.Flags().StringVar(&f.marshal, "marshal", "", "keep local runs' values in object storage too: s3://BUCKET[/PREFIX] (default $DATAINSIGHT_MARSHAL; endpoint and keys from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	f.kube.add(cmd)
}

// service returns the service for the flags (and rf's, when the command
// reads notebooks).
func (f *runFlags) service(rf *readFlags) (*service.Service, error) {
	if f.backendName != "" && f.backendName != service.BackendLocal && f.backendName != service.BackendArgo {
		return nil, usagef("unknown backend %q (local or argo)", f.backendName)
	}
	over := service.Config{Backend: f.backendName, RunsDir: f.runsDir, Python: f.python, Marshal: f.marshal}
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
