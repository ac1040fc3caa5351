package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/datainsight/datainsight/pipelinegen"
)

// notebookRef is a notebook as the user named it on the command line,
// resolved once. Every command takes the runs folder, the steps' working
// directory and the notebook's identity from here, never from the raw
// argument: a relative argument is relative to the current folder, while
// steps run in the notebook's folder, so a path kept relative breaks as
// soon as the two differ.
type notebookRef struct {
	// Arg is the path as typed ("-" for standard input), for messages.
	Arg string
	// Path is the notebook's absolute, cleaned path; "" for standard input.
	Path string
	// Dir is the absolute folder the steps run in: the notebook's, or the
	// current folder for standard input.
	Dir string
}

// resolveNotebook resolves a notebook argument ("" when the command was
// given none, "-" for standard input).
func resolveNotebook(arg string) (notebookRef, error) {
	ref := notebookRef{Arg: arg}
	if arg == "" || arg == "-" {
		wd, err := os.Getwd()
		if err != nil {
			return ref, fmt.Errorf("the current folder: %w", err)
		}
		ref.Dir = wd
		return ref, nil
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return ref, fmt.Errorf("%s: %w", arg, err)
	}
	ref.Path, ref.Dir = abs, filepath.Dir(abs)
	return ref, nil
}

// stdin reports whether the notebook comes from standard input.
func (n notebookRef) stdin() bool { return n.Arg == "-" }

// ID is the notebook's identity across runs: a short hash of its absolute
// path ("" for standard input or no notebook).
func (n notebookRef) ID() string {
	if n.Path == "" {
		return ""
	}
	return pipelinegen.ShortHash(n.Path)
}

// analysisDir is the folder the analyzer looks in for the notebook's own
// modules: none for a notebook read from standard input.
func (n notebookRef) analysisDir() string {
	if n.Path == "" {
		return ""
	}
	return n.Dir
}

// runsDir is where local runs of the notebook are recorded by default:
// .datainsight/runs in its folder (or the current one).
func (n notebookRef) runsDir() string {
	return filepath.Join(n.Dir, ".datainsight", "runs")
}
