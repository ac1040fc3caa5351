package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/local"
	"github.com/datainsight/datainsight/internal/atomicfile"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

// The commands that look at and manage runs already started: runs, logs,
// report, cancel, retry, resubmit, delete and prune. Each is a thin layer
// over the service's operation of the same name.

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
