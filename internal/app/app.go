package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130 // as shells report a process that SIGINT ended
)

// version is set at build time with -ldflags "-X .../internal/app.version=…".
var version = "dev"

// Main runs the command line with the process's arguments and streams and
// returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels ctx and the command winds down (run stops
	// its steps, which may take their grace period); stopping the relay
	// then gives a second signal its default effect: the process ends at
	// once, whatever it is blocked in.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// streams are the command's standard streams.
type streams struct {
	in          io.Reader
	out, errOut io.Writer
}

// usageError marks a bad invocation (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries an exit code chosen by a command (e.g. 1 when an
// analysis has errors but its output was still printed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Run runs the command line with the given arguments and streams.
func Run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	s := &streams{in: in, out: out, errOut: errOut}
	root := newRoot(s)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	err = cliError(err)
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintf(errOut, "datainsight: stopped: %v\n", context.Cause(ctx))
		return exitInterrupted
	}
	fmt.Fprintf(errOut, "datainsight: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		fmt.Fprintln(errOut, "Run 'datainsight --help' for usage.")
		return exitUsage
	}
	return exitFailure
}

func newRoot(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "datainsight",
		Short: "Turn annotated Jupyter notebooks into pipelines and run them",
		Long: `Datainsight turns a Jupyter notebook into a pipeline. It reads Kale-style cell
tags (block:NAME, prev:NAME, imports, functions, pipeline-parameters, ...),
infers which values flow between steps from the code itself, and runs the
steps locally as python3 processes or on Kubernetes as an Argo Workflow.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		newAnalyzeCmd(s),
		newCompileCmd(s),
		newRunCmd(s),
		newRunsCmd(s),
		newLogsCmd(s),
		newReportCmd(s),
		newCancelCmd(s),
		newRetryCmd(s),
		newResubmitCmd(s),
		newDeleteCmd(s),
		newPruneCmd(s),
		newPullCmd(s),
		newRunnerCmd(s),
		newServeCmd(s),
		newVersionCmd(s),
	)
	return root
}

// exactArgs is cobra.ExactArgs with a usage error naming what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: expected %s, got %d argument(s)", cmd.Name(), what, len(args))
		}
		return nil
	}
}
