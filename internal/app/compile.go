package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/internal/atomicfile"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
	"github.com/datainsight/datainsight/service"
)

func newCompileCmd(s *streams) *cobra.Command {
	var out, scripts, notebookDir string
	var artifacts bool
	var rf readFlags
	cmd := &cobra.Command{
		Use:   "compile NOTEBOOK",
		Short: "Compile a notebook into an Argo Workflow",
		Long: `Compile analyses a notebook and writes the Argo Workflow that runs it as a
pipeline: one script template per step, a DAG of their dependencies, the
marshal volume that carries values between steps, and every step setting
(image, resources and GPUs, env and secrets, node selectors, tolerations,
retries, timeouts, labels and annotations).

The workflow goes to standard output, or to the file named by -o (written
atomically). A notebook with errors is not compiled: the errors are printed.`,
		Example: `  datainsight compile examples/iris.ipynb -o iris.yaml
  datainsight compile examples/iris.ipynb | kubectl create -n pipelines -f -
  datainsight compile examples/iris.ipynb --scripts build/steps`,
		Args: exactArgs(1, "one notebook path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := readService(&rf)
			if err != nil {
				return err
			}
			c, err := compileNotebook(cmd.Context(), s, svc, args[0])
			if err != nil {
				return err
			}
			y, err := svc.Workflow(c, service.WorkflowOptions{NotebookDir: notebookDir, ArtifactRepository: artifacts})
			if err != nil {
				return err
			}
			if scripts != "" {
				if err := writeScripts(scripts, c.Pipeline); err != nil {
					return err
				}
				fmt.Fprintf(s.errOut, "wrote %d step scripts and the runtime to %s\n", len(c.Pipeline.Steps), scripts)
			}
			if out == "" || out == "-" {
				_, err = s.out.Write(y)
				return err
			}
			return writeFileAtomic(out, y)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the workflow to this file instead of standard output")
	cmd.Flags().StringVar(&scripts, "scripts", "", "also write each step's Python script and the runtime into this folder")
	cmd.Flags().StringVar(&notebookDir, "notebook-dir", "", "the notebook's folder as the notebook server sees it (default: its folder here)")
	cmd.Flags().BoolVar(&artifacts, "artifact-repository", false, "the cluster has an artifact repository: keep step reports as output artifacts")
	rf.add(cmd)
	return cmd
}

// readService returns the service for a command that only reads
// notebooks.
func readService(rf *readFlags) (*service.Service, error) {
	var over service.Config
	if err := rf.config(&over); err != nil {
		return nil, err
	}
	return openService(over)
}

// compileNotebook reads, analyses and compiles a notebook ("-": standard
// input), printing the analysis' warnings and errors.
func compileNotebook(ctx context.Context, s *streams, svc *service.Service, arg string) (*service.Compiled, error) {
	c, err := svc.Compile(ctx, service.Source{Path: arg, Reader: s.in})
	var ce *service.CompileError
	switch {
	case errors.As(err, &ce):
		printDiagnostics(s, arg, ce.Analysis)
		return nil, err
	case err != nil:
		return nil, err
	}
	printDiagnostics(s, arg, c.Analysis)
	return c, nil
}

func printDiagnostics(s *streams, name string, an *analyzer.Analysis) {
	for _, d := range an.Diagnostics {
		if d.Severity != notebook.Info {
			fmt.Fprintf(s.errOut, "%s: %s\n", name, d)
		}
	}
}

// writeScripts writes each step's script as STEP.py, plus the runtime.
func writeScripts(dir string, p *pipelinegen.Pipeline) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := pipelinegen.WriteRuntime(dir); err != nil {
		return err
	}
	for _, st := range p.Steps {
		if err := writeFileAtomic(filepath.Join(dir, st.Name+".py"), []byte(st.Script)); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes data to path so that a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}
