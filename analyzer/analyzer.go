package analyzer

import (
	"context"
	"sort"
	"strconv"
	"sync"

	"github.com/datainsight/datainsight/notebook"
)

// Analysis is the data flow of one notebook: the JSON of `analyze --json`
// and the input of pipeline generation.
type Analysis struct {
	Steps        []*Step               `json:"steps"`
	FileEdges    []FileEdge            `json:"file_edges"`
	Parameters   []Parameter           `json:"parameters"`
	LocalModules []LocalModule         `json:"local_modules"`
	Diagnostics  []notebook.Diagnostic `json:"diagnostics"`

	// Language is the notebook's kernel language ("python", "r", ...).
	Language string `json:"language"`

	// Pipeline is the annotation spec the analysis was computed from.
	Pipeline *notebook.Pipeline `json:"-"`
}

// Step is one step with its data flow.
type Step struct {
	Name    string            `json:"name"`
	Cells   []int             `json:"cells"`
	After   []string          `json:"after"`
	Ins     map[string]string `json:"ins"`  // name -> producer step
	Outs    []string          `json:"outs"` // names a later step loads from this one
	Params  []string          `json:"params"`
	Metrics []string          `json:"metrics"`
	// Imports are import statements of earlier steps this step replays
	// because it uses a name they bind (modules are never marshalled),
	// and the session settings statements of earlier steps, each after
	// the imports it needs (see the settings rule).
	Imports  []string              `json:"imports"`
	Settings notebook.StepSettings `json:"settings"`

	// OutCells says, for each output, the cell that last defined it (for
	// error messages at run time).
	OutCells map[string]int `json:"-"`
	// OutKinds says what kind of value an output holds where the analysis
	// can tell ("function", "class", "lambda", ...); "" otherwise.
	OutKinds map[string]string `json:"-"`
	// Langs lists the languages of the step's cells (go-enry names).
	Langs []string `json:"langs"`
	// FilesRead are the literal paths the step reads and did not write
	// first, whoever wrote them: with no file edge (a data file of the
	// user's) too. A local run's cache key hashes their contents.
	FilesRead []string `json:"-"`
}

// FileEdge is an edge added because a step reads a file an earlier one wrote.
type FileEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Path string `json:"path"`
}

// Parameter is a pipeline parameter with its default.
type Parameter struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default string `json:"default"` // Python literal
}

// Options tune an analysis.
type Options struct {
	// Dir is the notebook's folder, where the user's own modules are looked
	// for; "" skips that search (an unsaved notebook body).
	Dir string
	// Workers bounds parallel parsing; 0 means GOMAXPROCS.
	Workers int
}

// Analyzer analyses notebooks, caching each code cell's facts by cell id
// and source so that re-analysing after an edit reparses only the edited
// cells. It is safe for concurrent use.
type Analyzer struct {
	mu    sync.Mutex
	cache map[string]cachedFacts // by cell id (or index when the notebook has none)
}

// cachedFacts is a cell's facts with the source and language they were
// extracted from: a string comparison tells an edit (no hashing needed).
type cachedFacts struct {
	lang  string
	src   string
	facts *cellFacts
}

// New returns an Analyzer with an empty cache.
func New() *Analyzer { return &Analyzer{cache: map[string]cachedFacts{}} }

// Analyze computes the data flow of nb. It never fails: problems are
// diagnostics. ctx is checked between stages.
func Analyze(ctx context.Context, nb *notebook.Notebook, opts Options) *Analysis {
	return New().Analyze(ctx, nb, opts)
}

// Analyze computes the data flow of nb, reusing cached facts of unchanged cells.
func (a *Analyzer) Analyze(ctx context.Context, nb *notebook.Notebook, opts Options) *Analysis {
	spec, diags := notebook.ParsePipeline(nb)
	facts := a.cellFacts(nb, opts.Workers)
	if ctx.Err() != nil {
		return &Analysis{Pipeline: spec, Diagnostics: append(diags, notebook.Diagnostic{Severity: notebook.Error, Code: "cancelled", Message: ctx.Err().Error()})}
	}
	an := build(nb, spec, facts)
	an.Diagnostics = append(diags, an.Diagnostics...)
	if opts.Dir != "" {
		mods, err := findLocalModules(opts.Dir, importedModules(facts))
		if err != nil {
			an.Diagnostics = append(an.Diagnostics, notebook.Diagnostic{Severity: notebook.Warning, Code: "local-modules", Message: "looking for the notebook's own modules: " + err.Error()})
		}
		an.LocalModules = append(an.LocalModules, mods...)
	}
	sortDiagnostics(an.Diagnostics)
	if an.Diagnostics == nil {
		// "diagnostics": [] in JSON: a client iterates it without a check.
		an.Diagnostics = []notebook.Diagnostic{}
	}
	return an
}

// cellFacts returns the facts of every code cell (nil for other cells),
// extracting only the cells whose source changed since the last call.
func (a *Analyzer) cellFacts(nb *notebook.Notebook, workers int) []*cellFacts {
	out := make([]*cellFacts, len(nb.Cells))
	keys := make([]string, len(nb.Cells))
	var todo []int
	a.mu.Lock()
	for i, c := range nb.Cells {
		if c.Type != notebook.Code {
			continue
		}
		keys[i] = c.ID
		if keys[i] == "" {
			keys[i] = "#" + strconv.Itoa(i)
		}
		if cf, ok := a.cache[keys[i]]; ok && cf.src == c.Source && cf.lang == nb.Language {
			out[i] = cf.facts
			continue
		}
		todo = append(todo, i)
	}
	a.mu.Unlock()
	if len(todo) > 0 {
		srcs := make([]string, len(todo))
		for j, i := range todo {
			srcs[j] = nb.Cells[i].Source
		}
		got := extractAll(srcs, nb.Language, workers)
		a.mu.Lock()
		for j, i := range todo {
			out[i] = got[j]
			a.cache[keys[i]] = cachedFacts{lang: nb.Language, src: nb.Cells[i].Source, facts: got[j]}
		}
		a.mu.Unlock()
	}
	return out
}

// importedModules lists the top-level module names of every import statement.
func importedModules(facts []*cellFacts) []string {
	seen := map[string]bool{}
	var names []string
	for _, f := range facts {
		if f == nil {
			continue
		}
		for _, imp := range f.Imports {
			m := importTopModule(imp.Text)
			if m != "" && !seen[m] {
				seen[m] = true
				names = append(names, m)
			}
		}
	}
	sort.Strings(names)
	return names
}

func sortDiagnostics(ds []notebook.Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		ac, bc := -1, -1
		if a.Cell != nil {
			ac = *a.Cell
		}
		if b.Cell != nil {
			bc = *b.Cell
		}
		if ac != bc {
			return ac < bc
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
