package service

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/datainsight/datainsight/pipelinegen"
)

// NotebookRef is a notebook as a caller named it, resolved once. Every
// operation takes the runs folder, the steps' working directory and the
// notebook's identity from here, never from the raw name: a relative name
// is relative to the current folder, while steps run in the notebook's
// folder, so a path kept relative breaks as soon as the two differ.
type NotebookRef struct {
	// Arg is the path as given ("-" for standard input), for messages.
	Arg string
	// Path is the notebook's absolute, cleaned path; "" for standard input
	// or no notebook.
	Path string
	// Dir is the absolute folder the steps run in: the notebook's, or the
	// current folder when there is no notebook path.
	Dir string
}

// ResolveNotebook resolves a notebook's name ("" for none, "-" for
// standard input).
func ResolveNotebook(arg string) (NotebookRef, error) {
	ref := NotebookRef{Arg: arg}
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

// InFolder is the reference for no notebook in particular, in dir: the
// runs recorded there.
func InFolder(dir string) NotebookRef { return NotebookRef{Dir: dir} }

// Stdin reports whether the notebook comes from standard input.
func (n NotebookRef) Stdin() bool { return n.Arg == "-" }

// ID is the notebook's identity across runs: a short hash of its absolute
// path ("" for standard input or no notebook).
func (n NotebookRef) ID() string {
	if n.Path == "" {
		return ""
	}
	return pipelinegen.ShortHash(n.Path)
}

// AnalysisDir is the folder the analyzer looks in for the notebook's own
// modules: none for a notebook with no path.
func (n NotebookRef) AnalysisDir() string {
	if n.Path == "" {
		return ""
	}
	return n.Dir
}

// RunsDir is where local runs of the notebook are recorded by default:
// .datainsight/runs in its folder (or the current one).
func (n NotebookRef) RunsDir() string {
	return filepath.Join(n.Dir, ".datainsight", "runs")
}
