package app

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
	"github.com/datainsight/datainsight/service"
)

func newAnalyzeCmd(s *streams) *cobra.Command {
	var asJSON, asDot bool
	var rf readFlags
	cmd := &cobra.Command{
		Use:   "analyze NOTEBOOK",
		Short: "Show the steps of a notebook and the values that flow between them",
		Long: `Analyze reads a notebook's tags and code and shows its pipeline: each step's
cells, the values it loads and from which step (ins), the values later steps
load from it (outs), the parameters it uses, its edges, and every problem
found, positioned at its cell, line and column.

NOTEBOOK may be "-" to read the notebook from standard input.
The exit code is 1 when the analysis found errors, or no code in any step
(compile and run refuse such a notebook too); the output is printed anyway.`,
		Example: `  datainsight analyze examples/iris.ipynb
  datainsight analyze --json examples/iris.ipynb | jq '.steps[].ins'
  datainsight analyze examples/iris.ipynb --dot | dot -Tsvg > pipeline.svg`,
		Args: exactArgs(1, "one notebook path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asDot {
				return usagef("analyze: --json and --dot cannot be used together")
			}
			svc, err := readService(&rf)
			if err != nil {
				return err
			}
			a, err := svc.Analyze(cmd.Context(), service.Source{Path: args[0], Reader: s.in})
			if err != nil {
				return err
			}
			an := a.Analysis
			switch {
			case asJSON:
				err = writeJSON(s.out, an)
			case asDot:
				err = writeDot(s.out, an)
			default:
				err = writeTable(s.out, args[0], an)
			}
			if err != nil {
				return err
			}
			if notebook.HasErrors(an.Diagnostics) {
				if asJSON || asDot {
					fmt.Fprintf(s.errOut, "datainsight: %s: %s\n", args[0], countErrors(an.Diagnostics))
				}
				return exitError{exitFailure}
			}
			// Errors first, as compile does: they are often why no code
			// is left in a step.
			if len(an.Steps) == 0 {
				return fmt.Errorf("%s: %w", args[0], pipelinegen.ErrNoSteps)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the analysis as JSON")
	cmd.Flags().BoolVar(&asDot, "dot", false, "print the step graph in Graphviz dot")
	rf.add(cmd)
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func countErrors(ds []notebook.Diagnostic) string {
	n := 0
	for _, d := range ds {
		if d.Severity == notebook.Error {
			n++
		}
	}
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}

func dashIfEmpty(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, " ")
}

// writeTable prints one block per step: its cells and edges on the first
// line, then what it loads (grouped by producer), saves, uses and reports.
func writeTable(w io.Writer, name string, an *analyzer.Analysis) error {
	var b strings.Builder
	for _, st := range an.Steps {
		var cells []string
		for _, c := range st.Cells {
			cells = append(cells, fmt.Sprint(c))
		}
		word := "cell"
		if len(cells) > 1 {
			word = "cells"
		}
		fmt.Fprintf(&b, "%s  [%s %s]", st.Name, word, strings.Join(cells, ", "))
		if len(st.After) > 0 {
			fmt.Fprintf(&b, "  after %s", strings.Join(st.After, ", "))
		}
		b.WriteString("\n")
		byProducer := map[string][]string{}
		for _, n := range sortedMapKeys(st.Ins) {
			byProducer[st.Ins[n]] = append(byProducer[st.Ins[n]], n)
		}
		var ins []string
		for _, p := range sortedMapKeys(byProducer) {
			ins = append(ins, fmt.Sprintf("%s (%s)", strings.Join(byProducer[p], ", "), p))
		}
		row := func(label string, items []string, sep string) {
			if len(items) > 0 {
				fmt.Fprintf(&b, "    %-9s %s\n", label, strings.Join(items, sep))
			}
		}
		row("ins", ins, "; ")
		row("outs", st.Outs, ", ")
		row("params", st.Params, ", ")
		row("metrics", st.Metrics, ", ")
		row("imports", st.Imports, "; ")
		if line := describeSettings(st.Settings); line != "" {
			row("settings", []string{line}, "")
		}
	}
	if len(an.Parameters) > 0 {
		b.WriteString("\nparameters:\n")
		for _, p := range an.Parameters {
			fmt.Fprintf(&b, "    %s = %s  (%s)\n", p.Name, p.Default, p.Type)
		}
	}
	if len(an.FileEdges) > 0 {
		b.WriteString("\nfile edges:\n")
		for _, e := range an.FileEdges {
			fmt.Fprintf(&b, "    %s -> %s  %s\n", e.From, e.To, e.Path)
		}
	}
	if len(an.LocalModules) > 0 {
		b.WriteString("\nlocal modules:\n")
		for _, m := range an.LocalModules {
			fmt.Fprintf(&b, "    %s  %s\n", m.Name, m.Path)
		}
	}
	if len(an.Diagnostics) > 0 {
		b.WriteString("\ndiagnostics:\n")
		for _, d := range an.Diagnostics {
			fmt.Fprintf(&b, "    %s: %s\n", name, d)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describeSettings renders a step's non-default settings on one line.
func describeSettings(s notebook.StepSettings) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if s.Image != "" {
		add("image %s", s.Image)
	}
	for _, k := range sortedMapKeys(s.Requests) {
		add("request %s=%s", k, s.Requests[k])
	}
	for _, k := range sortedMapKeys(s.Limits) {
		add("limit %s=%s", k, s.Limits[k])
	}
	for _, e := range s.Env {
		add("env %s", e.Name)
	}
	for _, e := range s.Secrets {
		add("secret %s/%s→%s", e.Secret, e.Key, e.Env)
	}
	for _, k := range sortedMapKeys(s.NodeSelector) {
		add("node %s=%s", k, s.NodeSelector[k])
	}
	for _, t := range s.Tolerations {
		add("toleration %s=%s:%s", t.Key, t.Value, t.Effect)
	}
	if s.Retry > 0 {
		add("retry %d", s.Retry)
	}
	if s.Timeout > 0 {
		add("timeout %s", notebookDuration(s.Timeout))
	}
	if s.CacheOff {
		add("cache off")
	}
	for _, k := range sortedMapKeys(s.Labels) {
		add("label %s=%s", k, s.Labels[k])
	}
	for _, k := range sortedMapKeys(s.Annotations) {
		add("annotation %s", k)
	}
	return strings.Join(parts, ", ")
}

func notebookDuration(d notebook.Duration) string {
	b, _ := d.MarshalJSON()
	return strings.Trim(string(b), `"`)
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeDot prints the step graph for Graphviz: data edges labelled with the
// names they carry, file edges dashed, prev: edges dotted.
func writeDot(w io.Writer, an *analyzer.Analysis) error {
	var b strings.Builder
	b.WriteString("digraph pipeline {\n  rankdir=TB;\n  node [shape=box, style=rounded];\n")
	for _, st := range an.Steps {
		fmt.Fprintf(&b, "  %q;\n", st.Name)
	}
	for _, st := range an.Steps {
		carried := map[string][]string{}
		for _, n := range sortedMapKeys(st.Ins) {
			carried[st.Ins[n]] = append(carried[st.Ins[n]], n)
		}
		files := map[string][]string{}
		for _, e := range an.FileEdges {
			if e.To == st.Name {
				files[e.From] = append(files[e.From], e.Path)
			}
		}
		for _, from := range st.After {
			switch {
			case len(carried[from]) > 0:
				fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", from, st.Name, strings.Join(carried[from], ", "))
			case len(files[from]) > 0:
				fmt.Fprintf(&b, "  %q -> %q [style=dashed, label=%q];\n", from, st.Name, strings.Join(files[from], ", "))
			default:
				fmt.Fprintf(&b, "  %q -> %q [style=dotted];\n", from, st.Name)
			}
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
