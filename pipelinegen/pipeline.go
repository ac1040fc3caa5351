package pipelinegen

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/notebook"
)

// Pipeline is a compiled notebook: what a backend needs to run it, as plain
// data. Backends never look at the notebook itself.
type Pipeline struct {
	Name        string
	Description string
	// Notebook is the notebook's path as the user gave it (for labels and
	// messages); NotebookID is a short stable hash of its absolute path.
	Notebook   string
	NotebookID string
	Parameters []Parameter
	Steps      []*Step
	Settings   notebook.Settings
}

// Step returns the named step, or nil.
func (p *Pipeline) Step(name string) *Step {
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Parameter is a pipeline parameter: its default is a Python literal.
type Parameter struct {
	Name    string
	Type    string
	Default string
}

// Step is one step of a compiled pipeline.
type Step struct {
	Name     string
	After    []string          // steps that must finish first
	Ins      map[string]string // value name -> producer step
	Outs     []string          // values this step saves
	Params   []string          // parameters the step uses (its cache key includes their values)
	Metrics  []string
	Script   string // the step's Python script
	Settings notebook.StepSettings
	// FileReads and FileWrites are the literal paths of the analysis' file
	// edges that touch this step (part of its cache key).
	FileReads  []string
	FileWrites []string
	// InputFiles are all the literal paths the analysis sees the step read
	// (file edges or not): a local run's cache key hashes their contents.
	InputFiles []string `json:",omitempty"`
}

// ErrNotebookHasErrors is returned by Compile for a notebook whose analysis
// found errors: a pipeline built from it would not compute what the
// notebook does.
var ErrNotebookHasErrors = errors.New("the notebook has errors")

// ErrNoSteps is returned by Compile for a notebook none of whose code is in
// a step: its pipeline would run nothing and report success. analyze says
// the same, so that every command agrees on what is not a pipeline.
var ErrNoSteps = errors.New("no steps: the notebook has no code cells in a step")

// Options tune compilation.
type Options struct {
	// NotebookPath is the notebook's path as given by the user.
	NotebookPath string
	// NotebookID identifies the notebook across runs (a short hash of its
	// absolute path); computed from NotebookPath when empty.
	NotebookID string
}

// Compile turns an analysed notebook into a Pipeline. It refuses a notebook
// whose analysis has errors, naming the first few.
func Compile(nb *notebook.Notebook, an *analyzer.Analysis, opts Options) (*Pipeline, error) {
	if notebook.HasErrors(an.Diagnostics) {
		var msgs []string
		for _, d := range an.Diagnostics {
			if d.Severity == notebook.Error && len(msgs) < 5 {
				msgs = append(msgs, d.String())
			}
		}
		return nil, fmt.Errorf("%w:\n  %s", ErrNotebookHasErrors, strings.Join(msgs, "\n  "))
	}
	if len(an.Steps) == 0 {
		return nil, ErrNoSteps
	}
	spec := an.Pipeline
	p := &Pipeline{
		Name:        spec.Settings.Name,
		Description: spec.Settings.Description,
		Notebook:    opts.NotebookPath,
		NotebookID:  opts.NotebookID,
		Settings:    spec.Settings,
	}
	if p.NotebookID == "" {
		p.NotebookID = ShortHash(opts.NotebookPath)
	}
	if p.Name == "" {
		p.Name = defaultName(opts.NotebookPath)
	}
	for _, prm := range an.Parameters {
		p.Parameters = append(p.Parameters, Parameter{Name: prm.Name, Type: prm.Type, Default: prm.Default})
	}
	for _, s := range an.Steps {
		st := &Step{
			Name: s.Name, After: s.After, Ins: s.Ins, Outs: s.Outs, Params: s.Params, Metrics: s.Metrics,
			Settings: s.Settings, InputFiles: s.FilesRead,
		}
		for _, e := range an.FileEdges {
			if e.To == s.Name {
				st.FileReads = appendUnique(st.FileReads, e.Path)
			}
			if e.From == s.Name {
				st.FileWrites = appendUnique(st.FileWrites, e.Path)
			}
		}
		st.Script = stepScript(nb, an, s, p)
		p.Steps = append(p.Steps, st)
	}
	return p, nil
}

// ShortHash is the first 10 hex digits of the SHA-256 of s: short enough for
// a Kubernetes label value, long enough not to collide in one namespace.
func ShortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// defaultName makes a pipeline name from the notebook's file name.
func defaultName(path string) string {
	base := path
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	base = strings.TrimSuffix(base, ".ipynb")
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "pipeline"
	}
	return name
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	xs = append(xs, x)
	sort.Strings(xs)
	return xs
}
