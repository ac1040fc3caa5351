package analyzer

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/datainsight/datainsight/notebook"
)

// Diagnostic codes of the data-flow analysis.
const (
	CodeSyntaxError    = "syntax-error"
	CodeUndefinedName  = "undefined-name"
	CodeCycle          = "cycle"
	CodeDynamicScope   = "dynamic-scope"
	CodeParamReassign  = "param-reassigned"
	CodeUnmarshallable = "unmarshallable"
	CodeRoleRebound    = "shared-name-rebound"
	CodeNamesUnchecked = "names-unchecked"
	CodeDupParameter   = "duplicate-parameter"
)

// bindingKind says where the current value of a module-level name comes from.
type bindingKind uint8

const (
	bindValue   bindingKind = iota // an ordinary value a step wrote: marshalled
	bindModule                     // bound by an import statement in a step: replayed, never marshalled
	bindParam                      // a pipeline parameter: injected
	bindShared                     // bound by an imports/functions cell: prepended to every step
	bindDeleted                    // del'd, or an except-as name whose handler ended
)

// binding is the last writer of a name, as the simulation goes.
type binding struct {
	kind  bindingKind
	step  int // index of the writing step (bindValue, bindModule, bindDeleted)
	cell  int
	line  int
	col   int
	value valueKind
	imp   string     // bindModule: the import statement to replay
	fn    *funcFacts // a function or class: what calling it does
	class *funcFacts // an instance of a notebook class: what its methods do
	// group is the may-alias group the value is in (a display of names
	// and the names it holds), nil for none: see spread.
	group *aliasGroup
	// same is set on a member's binding made by a step that put the
	// member into a group without changing it: the binding (of an earlier
	// step) whose value this one equals. A plain read loads from there,
	// so that a step reading the member waits for no grouping step; a
	// change of the group loads from here, with the group (see spread).
	same *binding

	// A binding made by a write that may not happen (action.Cond) is
	// maybe until the step writes the name for sure: where the write did
	// not happen, the value from before the step is still there. prev is
	// that value's binding (nil if there was none), loaded is set once the
	// step loads it, and cover lists the regions where the write is known
	// to have happened (see loadPrev).
	maybe  bool
	loaded bool
	prev   *binding
	cover  []regionRef
}

// aliasGroup is a may-alias group: names bound to a list, tuple, set or
// dict display of plain names (combine = [train, test]) and those names
// (see spread). A name is in the group while its current binding points
// to it.
type aliasGroup struct {
	names []string // sorted
}

// regionRef is a conditional region of one cell (action.Region).
type regionRef struct {
	cell   int
	region int32
}

// graph replays the facts of every cell in notebook order.
type graph struct {
	nb       *notebook.Notebook
	spec     *notebook.Pipeline
	facts    []*cellFacts
	last     map[string]*binding
	strVal   map[string][]string // module-level names bound to string literals (for file paths)
	fileLast map[string]int      // path -> step that last wrote it
	dynamic  bool                // a star import in a shared cell: any name may exist
	steps    []*Step
	stepIdx  map[string]int
	slab     []binding               // bindings are many and small: allocated in chunks
	writes   map[int]map[string]bool // per step: names any of its cells binds (cycle check; computed when needed)
	final    []map[string]*binding   // per step: its bindings when it ended
	runs     []*stepRun              // per step: its state, kept so that a later step can make it load a value (loadPrev)
	diags    []notebook.Diagnostic
	edges    []FileEdge
	// methodIdx lists, for a method name, the classes defined in the
	// notebook (at module level) that define a method of that name.
	methodIdx map[string][]string
	// settings are the settings statements the steps replayed so far
	// ran, in notebook order: every later step replays them.
	settings []activeSetting
}

// stepRun is the state of one step while its cells are replayed.
type stepRun struct {
	idx       int
	local     map[string]*binding // names bound in this step so far
	ins       map[string]int
	params    map[string]bool
	imports   []string
	dynamic   bool
	reported  map[string]bool
	fileWrite map[string]bool
	fileRead  map[string]bool // files read that the step did not write first
	after     map[string]bool
	cell      int  // the cell being replayed
	spreading bool // mutate is passing a change on to an alias group
	grouping  bool // group is touching the members of a group it makes
	changing  bool // mutateOne is reading the value it changes
}

func build(nb *notebook.Notebook, spec *notebook.Pipeline, facts []*cellFacts) *Analysis {
	g := &graph{
		nb: nb, spec: spec, facts: facts,
		last:     make(map[string]*binding, len(facts)),
		strVal:   map[string][]string{},
		fileLast: map[string]int{},
		stepIdx:  map[string]int{},
	}
	g.indexMethods()
	g.problems()
	g.shared()
	for _, p := range spec.Parameters {
		b := &binding{kind: bindParam, cell: p.Cell, line: p.Line}
		if immutableParam(p.Default) {
			b.value = valImmutable
		}
		g.last[p.Name] = b
	}
	for i, s := range spec.Steps {
		g.stepIdx[s.Name] = i
		g.steps = append(g.steps, &Step{
			Name: s.Name, Cells: append([]int{}, s.Cells...), Settings: s.Settings,
			Ins: map[string]string{}, OutCells: map[string]int{}, OutKinds: map[string]string{},
		})
	}
	for i := range spec.Steps {
		g.runStep(i)
	}
	return g.finish()
}

// indexMethods fills methodIdx from the classes every cell defines.
func (g *graph) indexMethods() {
	for _, f := range g.facts {
		if f == nil {
			continue
		}
		for _, name := range sortedFuncs(f.Funcs) {
			fn := f.Funcs[name]
			if !fn.Class {
				continue
			}
			for m := range fn.Methods {
				if g.methodIdx == nil {
					g.methodIdx = map[string][]string{}
				}
				if !contains(g.methodIdx[m], name) {
					g.methodIdx[m] = append(g.methodIdx[m], name)
				}
			}
		}
	}
}

func sortedFuncs(m map[string]*funcFacts) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// problems turns each cell's own problems into positioned diagnostics.
func (g *graph) problems() {
	skipped := map[int]bool{}
	for _, c := range g.spec.Skipped {
		skipped[c] = true
	}
	for _, c := range append(append([]int{}, g.spec.ParameterCells...), g.spec.MetricsCells...) {
		skipped[c] = true // parsed by the notebook package, not as code
	}
	for i, f := range g.facts {
		if f == nil || skipped[i] {
			continue
		}
		for _, p := range f.Problems {
			g.diags = append(g.diags, notebook.CellDiag(notebook.Severity(p.Severity), i, p.Line, p.Col, p.Code, "%s", p.Message))
		}
	}
}

// shared replays the imports and functions cells: their names exist in every
// step and are never marshalled.
func (g *graph) shared() {
	for _, c := range append(append([]int{}, g.spec.Imports...), g.spec.Functions...) {
		f := g.facts[c]
		if f == nil {
			continue
		}
		for _, a := range f.Actions {
			switch a.Kind {
			case actWrite, actMutate:
				b := &binding{kind: bindShared, cell: c, line: a.Line, col: a.Col, value: a.Value}
				if a.Value == valFunction || a.Value == valClass {
					b.fn = f.Funcs[a.Name]
				}
				if prev := g.last[a.Name]; a.Kind == actMutate && prev != nil {
					continue
				}
				g.last[a.Name] = b
				g.setStr(a)
			case actDel, actUnbind:
				delete(g.last, a.Name)
			case actDynamic:
				g.dynamic = true
				g.uncheckedNames(c, f, a)
			}
		}
	}
}

// uncheckedNames says, at a star import (or exec, eval, globals()) in an
// imports or functions cell, that it silences undefined-name everywhere:
// such a cell runs before every step and may define any name, so a name
// no cell defines may still exist. Not a warning: the notebook may be
// right, and a star import there is replayed in every step.
func (g *graph) uncheckedNames(cell int, f *cellFacts, a action) {
	what := "exec, eval or globals() here"
	for _, imp := range f.Imports {
		if imp.Star && imp.Line == a.Line {
			what = "`" + imp.Text + "`"
			break
		}
	}
	g.diags = append(g.diags, notebook.CellDiag(notebook.Info, cell, a.Line, a.Col, CodeNamesUnchecked,
		"%s may define any name in every step, so names the steps use cannot be checked: no undefined-name is reported in this notebook", what))
}

func (g *graph) setStr(a action) {
	if a.Kind != actWrite {
		return
	}
	if a.Value == valString {
		g.strVal[a.Name] = append([]string{a.Str}, a.More...)
	} else {
		delete(g.strVal, a.Name)
	}
}

func (g *graph) runStep(i int) {
	s := g.spec.Steps[i]
	n := 0
	for _, c := range s.Cells {
		if f := g.facts[c]; f != nil {
			n += len(f.Actions)
		}
	}
	st := &stepRun{
		idx: i, local: make(map[string]*binding, n/2), ins: map[string]int{}, params: map[string]bool{},
		reported: map[string]bool{}, fileWrite: map[string]bool{}, fileRead: map[string]bool{}, after: map[string]bool{},
	}
	st.cell = s.Cells[0]
	g.replaySettings(st)
	for _, c := range s.Cells {
		f := g.facts[c]
		if f == nil {
			continue
		}
		st.cell = c
		for _, a := range f.Actions {
			g.apply(st, f, a)
		}
		for _, a := range f.RNGCalls {
			g.rngUse(st, f, a)
		}
		if len(f.Settings) > 0 {
			g.noteSettings(st, f, c)
		}
	}
	// Commit the step's bindings: later steps see this step as the last
	// writer of every name it bound.
	for name, b := range st.local {
		b.step = i
		g.last[name] = b
	}
	g.final = append(g.final, st.local)
	for p := range st.fileWrite {
		g.fileLast[p] = i
	}
	g.runs = append(g.runs, st)
}

// stepOut fills in step i's inputs, edges and parameters. It runs after
// every step was replayed: a later step, or a metric, may still make an
// earlier one load the value from before its maybe-write (loadPrev).
func (g *graph) stepOut(i int) {
	s, st := g.spec.Steps[i], g.runs[i]
	out := g.steps[i]
	for name, producer := range st.ins {
		out.Ins[name] = g.steps[producer].Name
		st.after[g.steps[producer].Name] = true
	}
	for _, p := range s.Prev {
		st.after[p] = true
	}
	delete(st.after, s.Name)
	out.After = sortedKeys(st.after)
	out.Params = sortedKeys(st.params)
	out.FilesRead = sortedKeys(st.fileRead)
	out.Imports = st.imports
}

func (g *graph) apply(st *stepRun, f *cellFacts, a action) {
	switch a.Kind {
	case actRead:
		if a.Method != "" && g.methodCall(st, a) {
			// x[k].m(…) (or t.m(…) for a loop target t walking x) where
			// a method m of the notebook changes its object: a change
			// of a value inside x.
			a.Kind = actMutate
			g.mutate(st, a.Name, a)
			return
		}
		g.read(st, a.Name, a, !a.Soft)
	case actWrite:
		g.write(st, f, a)
		if len(a.Members) > 0 {
			g.group(st, a)
		}
	case actMutate:
		if a.Method != "" {
			g.methodCall(st, a)
		}
		g.mutate(st, a.Name, a)
	case actMethod:
		g.methodCall(st, a)
	case actDel:
		g.read(st, a.Name, a, true)
		delete(g.strVal, a.Name)
		if a.Cond {
			g.maybeDel(st, a)
			return
		}
		st.local[a.Name] = g.bind(binding{kind: bindDeleted, cell: st.cell, line: a.Line, col: a.Col})
	case actUnbind:
		st.local[a.Name] = g.bind(binding{kind: bindDeleted, cell: st.cell, line: a.Line, col: a.Col})
	case actCall:
		g.read(st, a.Name, a, true)
		g.call(st, a)
	case actDynamic:
		if !st.dynamic {
			g.diags = append(g.diags, notebook.CellDiag(notebook.Warning, st.cell, a.Line, a.Col, CodeDynamicScope,
				"the names this code reads cannot be known before it runs (star import, globals(), exec or eval): step %q loads every value earlier steps wrote", g.steps[st.idx].Name))
		}
		st.dynamic = true
		// In name order, so that the imports a loadPrev adds come in a
		// stable order.
		for _, name := range sortedBindings(g.last) {
			if b := g.last[name]; b.kind == bindValue && st.local[name] == nil {
				st.ins[name] = b.step
				g.loadedFrom(name, b)
			}
		}
		for _, name := range sortedBindings(st.local) {
			g.loadPrev(st, name, st.local[name])
		}
	case actFileRead, actFileWrite:
		if a.Path != "" {
			g.file(st, a, a.Path)
			return
		}
		// A name holding a path: each literal it may hold (one, or those
		// of the list a for loop walks).
		for _, p := range g.strVal[a.Name] {
			g.file(st, a, p)
		}
	}
}

// file records that the step reads or writes the file at path p.
func (g *graph) file(st *stepRun, a action, p string) {
	p = path.Clean(p)
	if a.Kind == actFileWrite {
		st.fileWrite[p] = true
		return
	}
	if st.fileWrite[p] {
		return // the step reads what it wrote itself
	}
	st.fileRead[p] = true
	if w, ok := g.fileLast[p]; ok && w != st.idx {
		from := g.steps[w].Name
		if !st.after[from] || !g.hasEdge(from, g.steps[st.idx].Name, p) {
			g.edges = append(g.edges, FileEdge{From: from, To: g.steps[st.idx].Name, Path: p})
		}
		st.after[from] = true
	}
}

func (g *graph) hasEdge(from, to, p string) bool {
	for _, e := range g.edges {
		if e.From == from && e.To == to && e.Path == p {
			return true
		}
	}
	return false
}

// read resolves a read of name: from this step, or from its last writer
// before the step. strict reports a name nothing defines.
func (g *graph) read(st *stepRun, name string, a action, strict bool) {
	if b, ok := st.local[name]; ok {
		if b.kind == bindDeleted && strict {
			g.undefined(st, name, a, fmt.Sprintf("%q is used after it was deleted in cell %d", name, b.cell))
		}
		if b.maybe && !b.loaded && !g.covered(b, st.cell, a.Region) {
			// The write before this read may not have happened: the
			// read may see the value from before the step.
			g.cycleCheck(st, name, a)
			g.loadPrev(st, name, b)
		}
		return
	}
	g.cycleCheck(st, name, a)
	b, ok := g.last[name]
	switch {
	case !ok:
		if strict && !builtinNames[name] && !st.dynamic && !g.dynamic {
			g.undefined(st, name, a, fmt.Sprintf("%q is used but no earlier cell of the pipeline defines it", name))
		}
	case b.kind == bindDeleted:
		if strict && !builtinNames[name] {
			g.undefined(st, name, a, fmt.Sprintf("%q is used but was deleted (or unbound) in step %q, cell %d", name, g.steps[b.step].Name, b.cell))
		}
	case b.kind == bindParam:
		st.params[name] = true
	case b.kind == bindModule:
		if !contains(st.imports, b.imp) {
			st.imports = append(st.imports, b.imp)
		}
	case b.kind == bindValue:
		if b.same != nil && !st.changing {
			b = b.same
		}
		st.ins[name] = b.step
		g.loadedFrom(name, b)
	}
}

// The loading rule for maybe-writes: a step loads a
// name only if the value from before the step can be observed, that is
//
//   - the step reads the name (or mutates, deletes or calls it) where no
//     write of it in the step has surely happened: before its first write,
//     or after writes that may not happen (under if/for/while/try/with/
//     match, in a comprehension) when the read is outside the regions
//     those writes happened in (covered); or
//   - the step ends with a value that may still be the one from before
//     it (it wrote the name only conditionally) and that value is loaded
//     from the step by a later step or reported as a metric: the step must
//     save what it ends with, so it must start from the earlier value.
//
// So `for f in files: print(open(f).read())` loads no f from an earlier
// step (every read of f follows the loop's own binding), unless a later
// step reads f; then the step loads the earlier f, which stands if the
// loop did not run. The second case is found only when the later step is
// replayed, so loading is lazy: loadPrev adds the input to the step's
// run, and stepOut turns the runs into steps at the end. The rule applies
// in chains: a step loading from a maybe-writer makes that writer load
// from the one before it (loadedFrom).

// covered reports whether b's conditional write surely happened before
// code at region r of cell: r is one of the regions the write is in, or
// nested in one.
func (g *graph) covered(b *binding, cell int, r int32) bool {
	if len(b.cover) == 0 || cell < 0 || cell >= len(g.facts) || g.facts[cell] == nil {
		return false
	}
	parents := g.facts[cell].Regions
	for _, c := range b.cover {
		if c.cell != cell {
			continue
		}
		for x := r; x > 0 && int(x) < len(parents); x = parents[x] {
			if x == c.region {
				return true
			}
		}
	}
	return false
}

// loadPrev makes st, whose binding b of name may not have been written,
// load the value from before the step.
func (g *graph) loadPrev(st *stepRun, name string, b *binding) {
	if !b.maybe || b.loaded {
		return
	}
	b.loaded = true
	p := b.prev
	if p == nil {
		return
	}
	// The earlier value stands at the write, which for a repeated step
	// may come after a step placed between its cells: that is a cycle.
	cell := st.cell
	st.cell = b.cell
	g.cycleCheck(st, name, action{Line: b.line, Col: b.col})
	st.cell = cell
	switch p.kind {
	case bindValue:
		st.ins[name] = p.step
		g.loadedFrom(name, p)
	case bindParam:
		st.params[name] = true
	case bindModule:
		if !contains(st.imports, p.imp) {
			st.imports = append(st.imports, p.imp)
		}
	}
}

// loadedFrom notes that a later step loads name from binding b of an
// earlier step: if b may not have been written, that step must load the
// value from before it, so that what it saves is right.
func (g *graph) loadedFrom(name string, b *binding) {
	if b.maybe && !b.loaded && b.step < len(g.runs) {
		g.loadPrev(g.runs[b.step], name, b)
	}
}

// maybeDel handles a del that may not happen (if c: del x): the name may
// still be bound after it, so a later read is no error, and a later step
// loads whatever this step ends with (the step loaded it for the del).
func (g *graph) maybeDel(st *stepRun, a action) {
	if _, ok := st.local[a.Name]; ok {
		return
	}
	prev := g.last[a.Name]
	if prev == nil || prev.kind != bindValue {
		return // a parameter or shared name stays what every step has
	}
	nb := g.bind(*prev)
	nb.cell, nb.line, nb.col = st.cell, a.Line, a.Col
	nb.maybe, nb.loaded, nb.prev, nb.cover = false, false, nil, nil
	st.local[a.Name] = nb
}

func (g *graph) undefined(st *stepRun, name string, a action, msg string) {
	if st.reported[name] {
		return
	}
	st.reported[name] = true
	g.diags = append(g.diags, notebook.CellDiag(notebook.Error, st.cell, a.Line, a.Col, CodeUndefinedName, "%s", msg))
}

// bind returns a pointer to a copy of b, from the current chunk.
func (g *graph) bind(b binding) *binding {
	if len(g.slab) == cap(g.slab) {
		g.slab = make([]binding, 0, 256)
	}
	g.slab = append(g.slab, b)
	return &g.slab[len(g.slab)-1]
}

// stepWrites returns the names step j binds in any of its cells. Only a
// repeated step (cells split by another step's) needs it, so it is
// computed on demand.
func (g *graph) stepWrites(j int) map[string]bool {
	if w, ok := g.writes[j]; ok {
		return w
	}
	if g.writes == nil {
		g.writes = map[int]map[string]bool{}
	}
	w := map[string]bool{}
	for _, c := range g.spec.Steps[j].Cells {
		if f := g.facts[c]; f != nil {
			for _, a := range f.Actions {
				if a.Kind == actWrite || a.Kind == actMutate || a.Kind == actDel {
					w[a.Name] = true
				}
			}
		}
	}
	g.writes[j] = w
	return w
}

// cycleCheck reports a repeated step that reads, in a later cell, a name
// written by a step placed between its cells: steps run at their first
// cell, so that value cannot exist yet.
func (g *graph) cycleCheck(st *stepRun, name string, a action) {
	first := g.spec.Steps[st.idx].Cells[0]
	if st.cell == first {
		return
	}
	for j := st.idx + 1; j < len(g.spec.Steps); j++ {
		t := g.spec.Steps[j]
		if t.Cells[0] > st.cell {
			break
		}
		if g.stepWrites(j)[name] {
			key := "cycle:" + name
			if !st.reported[key] {
				st.reported[key] = true
				g.diags = append(g.diags, notebook.CellDiag(notebook.Error, st.cell, a.Line, a.Col, CodeCycle,
					"step %q reads %q here, but step %q (cell %d) writes it between the cells of %q: a step runs as one unit at its first cell, so this needs %q both before and after it; rename one of the steps",
					g.steps[st.idx].Name, name, t.Name, t.Cells[0], g.steps[st.idx].Name, t.Name))
			}
			return
		}
	}
}

func (g *graph) write(st *stepRun, f *cellFacts, a action) {
	name := a.Name
	g.rebindChecks(st, name, a, "reassigned")
	old, had := st.local[name]
	b := g.bind(binding{kind: bindValue, cell: st.cell, line: a.Line, col: a.Col, value: a.Value})
	if cur := g.current(st, name); a.Cond && cur != nil {
		// The name may still hold the value it held: a change through it
		// later in the step changes that value's group.
		b.group = cur.group
	}
	if a.Cond {
		// The write may not happen. Whether the step needs the value
		// from before it is decided later (see loadPrev).
		here := regionRef{st.cell, a.Region}
		switch {
		case !had:
			b.maybe, b.prev, b.cover = true, g.last[name], []regionRef{here}
		case old.kind == bindDeleted:
			b.maybe, b.cover = true, []regionRef{here} // unbound if the write does not happen
		case old.maybe:
			b.maybe, b.prev, b.loaded = true, old.prev, old.loaded
			b.cover = append(old.cover[:len(old.cover):len(old.cover)], here)
		}
		// Otherwise the step's own earlier value stands if the write
		// does not happen: nothing from before the step is needed.
	}
	switch a.Value {
	case valModule:
		b.kind = bindModule
		b.imp = importFor(f, name, a.Line)
	case valFunction, valClass, valLambda:
		b.fn = f.Funcs[name]
		g.importsFor(st, b.fn)
	}
	if a.From != "" {
		if c := g.funcOf(st, a.From); c != nil && c.Class {
			b.class = c
		}
	}
	st.local[name] = b
	g.setStr(a)
}

// importsFor replays, in the step defining fn, the earlier steps' imports
// of the modules fn's body uses. A function (or a class, or a value
// holding one) may be passed on and called where no step code names those
// modules; the runtime gives a step the module bindings of the steps it
// loads from, so they must be bound where the function is defined.
func (g *graph) importsFor(st *stepRun, fn *funcFacts) {
	if fn == nil {
		return
	}
	for _, name := range fn.Reads {
		if _, own := st.local[name]; own {
			continue
		}
		if b := g.last[name]; b != nil && b.kind == bindModule && !contains(st.imports, b.imp) {
			st.imports = append(st.imports, b.imp)
		}
	}
}

// rebindChecks warns when a step rebinds (how: "reassigned") or changes
// ("changed in place") a parameter, or rebinds a shared name.
func (g *graph) rebindChecks(st *stepRun, name string, a action, how string) {
	if _, ok := st.local[name]; ok {
		return
	}
	prev, ok := g.last[name]
	if !ok {
		return
	}
	switch prev.kind {
	case bindParam:
		g.diags = append(g.diags, notebook.CellDiag(notebook.Warning, st.cell, a.Line, a.Col, CodeParamReassign,
			"pipeline parameter %q is %s in step %q; later steps use this step's value, not the parameter", name, how, g.steps[st.idx].Name))
	case bindShared:
		g.diags = append(g.diags, notebook.CellDiag(notebook.Warning, st.cell, a.Line, a.Col, CodeRoleRebound,
			"%q from the imports/functions cells (cell %d) is rebound in step %q; from here on it is an ordinary variable passed between steps", name, prev.cell, g.steps[st.idx].Name))
	}
}

// mutate handles an in-place change: the step reads the value and, unless
// it is a module or a shared name, writes it back. x += … (a.Aug) rebinds
// x, so it makes even a shared name or an immutable value the step's own;
// a method call or item or attribute store cannot change a value of an
// immutable type (a str parameter's SIZES.split(",")), so on one it is a
// read only.
//
// A change of a name in an alias group changes the whole group: see
// spread.
func (g *graph) mutate(st *stepRun, name string, a action) {
	if !a.Aug && g.immutable(st, name) {
		g.read(st, name, a, true)
		return
	}
	g.mutateOne(st, name, a)
	if b := g.current(st, name); b != nil && b.group != nil {
		g.spread(st, b.group, name, a)
	}
}

// The alias-group rule. In Python, combine = [train, test] holds the very
// values train and test name: changing an element of combine (for d in
// combine: d["t"] = …) changes train and test, and changing train
// (train["t"] = …) changes combine's element. A step that changes one
// name of a group therefore changes them all: it loads each from the
// step before that touched the group and saves each, so that a later
// step loads the whole group from one step (whose save keeps the values
// that share objects together, as one pickle). The step making a group
// touches its members the same way, but it does not change them: a step
// that only reads a member loads it from the step that last changed it
// (binding.same), so that steps each putting the same earlier value in a
// container of their own (b = [a] beside d = [a]) stay parallel; and it
// touches only the display's own names, not those of a group it merges
// with. The price: after b = [a] and d = [a] in sibling steps, a step
// changing b[0] loads a from d and b from b, copies that share nothing.
// A name leaves its group when it is
// rebound (train = train[cols]: combine still holds the old train); a
// rebinding that may not happen keeps it in, so that a later change
// through the name still changes the group (the rebinding itself
// touches nothing: a loop target rebound in every run of its loop would
// otherwise tie each loop to the step that last grouped its name).
// Groups that share a name are merged: may-alias, not must-alias.

// spread applies a change of name, in group grp, to the group's other
// names.
func (g *graph) spread(st *stepRun, grp *aliasGroup, name string, a action) {
	if st.spreading {
		return
	}
	st.spreading = true
	for _, n := range grp.names {
		if c := g.current(st, n); n != name && c != nil && c.group == grp && c.kind != bindDeleted && !g.immutable(st, n) {
			g.mutateOne(st, n, action{Kind: actMutate, Name: n, Line: a.Line, Col: a.Col, Cond: a.Cond, Region: a.Region})
		}
	}
	st.spreading = false
}

// current returns name's binding as the code being replayed sees it.
func (g *graph) current(st *stepRun, name string) *binding {
	if b, ok := st.local[name]; ok {
		return b
	}
	return g.last[name]
}

// group makes container, just bound (by a) to a display holding members,
// one may-alias group with them, merged with any group one of them is in.
func (g *graph) group(st *stepRun, a action) {
	names := map[string]bool{a.Name: true}
	join := func(b *binding) {
		if old := b.group; old != nil {
			for _, n := range old.names {
				if c := g.current(st, n); c != nil && c.group == old {
					names[n] = true
				}
			}
		}
	}
	if b := g.current(st, a.Name); b != nil {
		join(b)
	}
	members := 0
	for _, m := range a.Members {
		b := g.current(st, m)
		if m == a.Name || b == nil || b.kind != bindValue || b.value == valModule {
			continue // a parameter or shared name: each step has its own
		}
		join(b)
		names[m] = true
		members++
	}
	if members == 0 {
		return
	}
	grp := &aliasGroup{names: sortedKeys(names)}
	for _, n := range grp.names {
		if b := g.current(st, n); b != nil {
			b.group = grp
		}
	}
	// Only the display's own members: the names of a group it merged
	// with are not touched (b = [a] then d = [a] must not order d after b).
	st.grouping = true
	for _, m := range a.Members {
		if c := g.current(st, m); m != a.Name && names[m] && c != nil && c.kind != bindDeleted && !g.immutable(st, m) {
			g.mutateOne(st, m, action{Kind: actMutate, Name: m, Line: a.Line, Col: a.Col, Cond: a.Cond, Region: a.Region})
		}
	}
	st.grouping = false
}

// mutateOne changes name in place, without the alias group.
func (g *graph) mutateOne(st *stepRun, name string, a action) {
	g.methods(st, name, a)
	// A change loads the value the group's other names were saved with;
	// making a group needs only the value.
	changing := st.changing
	st.changing = !st.grouping
	defer func() { st.changing = changing }()
	if b, ok := st.local[name]; ok {
		if !st.grouping {
			b.same = nil // changed now, not merely grouped
		}
		g.read(st, name, a, true)
		if b.kind == bindDeleted {
			return
		}
		if b.kind != bindModule {
			b.cell, b.line, b.col = st.cell, a.Line, a.Col
			if a.Aug {
				b.value = valOther
				delete(g.strVal, name)
			}
		}
		return
	}
	g.read(st, name, a, true)
	prev, ok := g.last[name]
	if !ok || prev.kind == bindModule || prev.kind == bindDeleted || (prev.kind == bindShared && !a.Aug) {
		return
	}
	switch {
	case prev.kind == bindParam && !a.Aug:
		g.rebindChecks(st, name, a, "changed in place")
	case prev.kind == bindParam || prev.kind == bindShared:
		g.rebindChecks(st, name, a, "reassigned")
	}
	nb := g.bind(*prev)
	nb.kind, nb.cell, nb.line, nb.col = bindValue, st.cell, a.Line, a.Col
	// The step loaded the value it changed: it surely holds it now.
	nb.maybe, nb.loaded, nb.prev, nb.cover = false, false, nil, nil
	nb.same = nil
	if st.grouping && prev.kind == bindValue {
		nb.same = prev
		if prev.same != nil {
			nb.same = prev.same
		}
	}
	if prev.kind == bindParam || a.Aug {
		nb.value = valOther
		delete(g.strVal, name)
	}
	st.local[name] = nb
}

// immutable reports whether name's current value is surely of an
// immutable type: a literal string, number, bool, None or tuple of such,
// or a parameter whose default is one (immutableParam).
func (g *graph) immutable(st *stepRun, name string) bool {
	b, ok := st.local[name]
	if !ok {
		b = g.last[name]
	}
	if b == nil || b.maybe || (b.kind != bindValue && b.kind != bindParam) {
		return false
	}
	return b.value == valString || b.value == valImmutable
}

// immutableParam reports a parameter default of an immutable type: str,
// int, float, bool, or a tuple of such. A None default is not one: a run
// may pass any type for it (pipelinegen's compatible), a list included.
func immutableParam(l notebook.Literal) bool {
	switch l.Type {
	case "str", "int", "float", "bool":
		return true
	case "tuple":
		items, _ := l.Value.([]notebook.Literal)
		for _, it := range items {
			if it.Type != "NoneType" && !immutableParam(it) {
				return false
			}
		}
		return true
	}
	return false
}

// methods applies, for a method call on an instance of a notebook class,
// what the class's methods read: they run now, with today's globals.
func (g *graph) methods(st *stepRun, name string, a action) {
	b, ok := st.local[name]
	if !ok {
		b = g.last[name]
	}
	if b == nil || b.class == nil {
		return
	}
	for _, r := range b.class.Reads {
		if r != name {
			g.read(st, r, a, false)
		}
	}
}

// call applies what calling a function does to module-level names,
// following the functions it calls in turn.
func (g *graph) call(st *stepRun, a action) {
	g.visit(st, a, g.funcOf(st, a.Name), a.Args, a.Kwargs, a.ArgAliases, map[*funcFacts]bool{}, false)
}

// visit applies what running fn (called with the plain names args and
// kwargs) does to module-level names, then what the functions and the
// notebook's methods it calls do. lenient marks a function that may well
// not run (a method of the notebook, called by name on some value): its
// reads are not checked, its writes may not happen, and a name not bound
// is not changed.
func (g *graph) visit(st *stepRun, a action, fn *funcFacts, args []string, kwargs map[string]string, aliases map[string][]aliasRef, seen map[*funcFacts]bool, lenient bool) {
	if fn == nil || seen[fn] {
		return
	}
	seen[fn] = true
	for _, r := range fn.Reads {
		g.read(st, r, a, !fn.Class && !lenient)
	}
	// The call's writes happen only if the call does.
	wa := action{Kind: actWrite, Line: a.Line, Col: a.Col, Cond: a.Cond || lenient, Region: a.Region}
	for _, w := range fn.ReadWrites {
		g.read(st, w, a, !lenient)
		wa.Name = w
		g.write(st, &cellFacts{}, wa)
	}
	for _, w := range fn.Writes {
		wa.Name = w
		g.write(st, &cellFacts{}, wa)
	}
	ma := action{Kind: actMutate, Line: a.Line, Col: a.Col, Cond: a.Cond, Region: a.Region}
	for _, m := range fn.Mutates {
		if lenient && g.current(st, m) == nil {
			continue
		}
		g.mutate(st, m, ma)
	}
	// A function changing its argument changes, for a loop target, what
	// the target aliases.
	for _, p := range fn.MutatesParams {
		arg := ""
		if p < len(args) {
			arg = args[p]
		} else if p < len(fn.Params) {
			arg = kwargs[fn.Params[p]]
		}
		if arg == "" {
			continue
		}
		g.mutate(st, arg, ma)
		for _, r := range aliases[arg] {
			g.mutate(st, r.Name, ma)
		}
	}
	for _, fa := range fn.Files {
		fa.Line, fa.Col = a.Line, a.Col
		g.apply(st, nil, fa)
	}
	if fn.Dynamic {
		g.apply(st, nil, action{Kind: actDynamic, Line: a.Line, Col: a.Col})
	}
	for _, c := range fn.Calls {
		g.visit(st, a, g.funcOf(st, c), nil, nil, nil, seen, lenient)
	}
	for _, m := range fn.MethodCalls {
		g.visitMethods(st, a, m, seen)
	}
}

// The method rule. A method call names a method, not a function: which
// one runs depends on the value it is called on, which the analysis does
// not know. So a call of a method m (x.m(…), x[k].m(…), f().m(…), in a
// step or in a function it calls) may run any method m of the classes
// the notebook defines (and bound when the call runs), with what that
// method does to module-level names (a class attribute it changes, a
// global list it appends to, a file it writes); and it changes the value
// it is called on if one of them changes its self (self.a = …,
// self.items[k] = …, self.log.append(…), a change through a loop over
// self's items, or a call of another such method on self): then
// x[k].m(…) changes x, and a loop target's t.m(…) the value t walks.

// methodCall applies a call of method a.Method on the value a.Name holds
// (or one inside it; on another value for actMethod), and reports whether
// a method of that name of the notebook changes its object.
func (g *graph) methodCall(st *stepRun, a action) bool {
	if a.Method == valueCall {
		g.visitMethods(st, a, valueCall, map[*funcFacts]bool{})
		return false
	}
	if len(g.methodIdx[a.Method]) == 0 {
		return false
	}
	if a.Name != "" {
		if b := g.current(st, a.Name); b != nil && (b.kind == bindModule || b.value == valModule) {
			return false // a module's function: np.save(…)
		}
	}
	g.visitMethods(st, a, a.Method, map[*funcFacts]bool{})
	return g.selfChanging(st, a.Method, map[string]bool{})
}

// visitMethods applies what each notebook method named m may do.
func (g *graph) visitMethods(st *stepRun, a action, m string, seen map[*funcFacts]bool) {
	if m == valueCall {
		g.visitValueFuncs(st, a, seen)
		return
	}
	for _, mf := range g.methodsNamed(st, m) {
		g.visit(st, a, mf, nil, nil, nil, seen, true)
	}
}

// methodsNamed returns the methods named m of the notebook's classes
// bound now.
func (g *graph) methodsNamed(st *stepRun, m string) []*funcFacts {
	if m == valueCall {
		return g.valueFuncs(st)
	}
	var out []*funcFacts
	for _, cls := range g.methodIdx[m] {
		if fn := g.funcOf(st, cls); fn != nil && fn.Class {
			if mf := fn.Methods[m]; mf != nil && !slices.Contains(out, mf) {
				out = append(out, mf)
			}
		}
	}
	return out
}

// visitValueFuncs applies what each function a value may hold may do,
// its reads of modules aside: the runtime gives a step the module
// bindings of the steps it loads values from, so a function kept in a
// value finds its modules without the step replaying their imports (r15).
func (g *graph) visitValueFuncs(st *stepRun, a action, seen map[*funcFacts]bool) {
	for _, fn := range g.valueFuncs(st) {
		if seen[fn] {
			continue
		}
		seen[fn] = true
		notModule := func(names []string) []string {
			var out []string
			for _, n := range names {
				if b := g.current(st, n); b == nil || b.kind != bindModule {
					out = append(out, n)
				}
			}
			return out
		}
		cp := *fn
		cp.Reads, cp.Mutates = notModule(fn.Reads), notModule(fn.Mutates)
		g.visit(st, a, &cp, nil, nil, nil, seen, true)
	}
}

// valueFuncs returns the notebook's functions bound now (not its
// classes), in the order of their names: what a call of a value no name
// holds may run.
func (g *graph) valueFuncs(st *stepRun) []*funcFacts {
	names := make([]string, 0, len(st.local)+len(g.last))
	for name, b := range st.local {
		if b.fn != nil && !b.fn.Class {
			names = append(names, name)
		}
	}
	for name, b := range g.last {
		if _, shadowed := st.local[name]; !shadowed && b.fn != nil && !b.fn.Class {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out []*funcFacts
	for _, name := range names {
		if fn := g.funcOf(st, name); fn != nil && !slices.Contains(out, fn) {
			out = append(out, fn)
		}
	}
	return out
}

// selfChanging reports whether a notebook method named m changes its
// self, itself or through another method it calls on self.
func (g *graph) selfChanging(st *stepRun, m string, seen map[string]bool) bool {
	if seen[m] {
		return false
	}
	seen[m] = true
	for _, mf := range g.methodsNamed(st, m) {
		if mf.MutatesSelf {
			return true
		}
		for _, c := range mf.SelfCalls {
			if g.selfChanging(st, c, seen) {
				return true
			}
		}
	}
	return false
}

// funcOf finds what name is bound to now, if it is a function or class.
func (g *graph) funcOf(st *stepRun, name string) *funcFacts {
	if b, ok := st.local[name]; ok {
		return b.fn
	}
	if b, ok := g.last[name]; ok {
		return b.fn
	}
	return nil
}

// importFor finds the import statement that bound name at line.
func importFor(f *cellFacts, name string, line int) string {
	for _, imp := range f.Imports {
		if imp.Line == line && contains(imp.Names, name) {
			return imp.Text
		}
	}
	for _, imp := range f.Imports {
		if contains(imp.Names, name) {
			return imp.Text
		}
	}
	return "import " + name
}

// finish computes outputs (what later steps load), metrics and warnings.
func (g *graph) finish() *Analysis {
	params := g.parameters()
	g.metrics()
	for i := range g.steps {
		g.stepOut(i)
	}
	for _, s := range g.steps {
		for name, producer := range s.Ins {
			p := g.steps[g.stepIdx[producer]]
			if !contains(p.Outs, name) {
				p.Outs = append(p.Outs, name)
			}
		}
	}
	for _, s := range g.steps {
		sort.Strings(s.Outs)
		if s.Outs == nil {
			s.Outs = []string{}
		}
		if s.Imports == nil {
			s.Imports = []string{}
		}
	}
	g.outInfo()
	an := &Analysis{
		Steps:        g.steps,
		FileEdges:    g.edges,
		Diagnostics:  g.diags,
		Pipeline:     g.spec,
		Language:     g.nb.Language,
		LocalModules: []LocalModule{},
		Parameters:   params,
	}
	for _, s := range an.Steps {
		sort.Strings(s.Metrics)
		if s.Metrics == nil {
			s.Metrics = []string{}
		}
		s.Langs = g.langs(s)
	}
	if an.FileEdges == nil {
		an.FileEdges = []FileEdge{}
	}
	if an.Steps == nil {
		an.Steps = []*Step{}
	}
	if an.Diagnostics == nil {
		an.Diagnostics = []notebook.Diagnostic{}
	}
	return an
}

// parameters lists the pipeline parameters, one per name. A name declared
// twice would give the Workflow two arguments of that name, which Argo
// rejects; running the cell, the later line wins, so the later default is
// kept, at the first declaration's place, with a warning at the later one.
func (g *graph) parameters() []Parameter {
	out := []Parameter{}
	at := map[string]int{}
	for i, p := range g.spec.Parameters {
		prm := Parameter{Name: p.Name, Type: p.Default.Type, Default: p.Default.Python()}
		j, dup := at[p.Name]
		if !dup {
			at[p.Name] = len(out)
			out = append(out, prm)
			continue
		}
		first := g.spec.Parameters[firstDecl(g.spec.Parameters[:i], p.Name)]
		g.diags = append(g.diags, notebook.CellDiag(notebook.Warning, p.Cell, p.Line, 1, CodeDupParameter,
			"pipeline parameter %q is declared again (first in cell %d, line %d): as when the cell runs, the later default %s is the one used",
			p.Name, first.Cell, first.Line, prm.Default))
		out[j] = prm
	}
	return out
}

func firstDecl(ps []notebook.Parameter, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return 0
}

// metrics gives each pipeline-metrics name to the step that reports it:
// the step that last wrote the value; for a pipeline parameter no step
// rebinds, or a value from the imports/functions cells, which every step
// has, the pipeline's last step (where Kale reports metrics too), which
// then lists the parameter among its params. A metric is no output.
func (g *graph) metrics() {
	for _, m := range g.spec.Metrics {
		b, ok := g.last[m.Name]
		at := -1
		switch {
		case !ok:
		case b.kind == bindValue:
			at = b.step
			g.loadedFrom(m.Name, b) // what the step ends with must be right
		case b.kind == bindParam && len(g.steps) > 0:
			at = len(g.steps) - 1
			g.runs[at].params[m.Name] = true
		case b.kind == bindShared && len(g.steps) > 0 && b.value != valModule && b.value != valFunction && b.value != valClass:
			at = len(g.steps) - 1
		}
		if at < 0 {
			g.diags = append(g.diags, notebook.CellDiag(notebook.Warning, m.Cell, m.Line, 1, "bad-metric",
				"metric %q is not a value any step computes", m.Name))
			continue
		}
		if s := g.steps[at]; !contains(s.Metrics, m.Name) {
			s.Metrics = append(s.Metrics, m.Name)
		}
	}
}

// outInfo records, for each output, the cell that last bound it in its
// producer and what kind of value it is, and warns about values that
// cannot be passed between processes.
func (g *graph) outInfo() {
	for i, out := range g.steps {
		for _, name := range out.Outs {
			b := g.final[i][name]
			if b == nil {
				continue
			}
			out.OutCells[name] = b.cell
			kind := ""
			switch b.value {
			case valFunction:
				kind = "function"
			case valClass:
				kind = "class"
			case valLambda:
				kind = "lambda"
			case valOpenFile, valGenerator, valLock:
				what := map[valueKind]string{valOpenFile: "an open file", valGenerator: "a generator", valLock: "a lock"}[b.value]
				g.diags = append(g.diags, notebook.CellDiag(notebook.Warning, b.cell, b.line, b.col, CodeUnmarshallable,
					"%q is %s, which cannot be passed to a later step (%s loads it); recompute it in the step that uses it", name, what, g.consumers(name, out.Name)))
			}
			if kind != "" {
				out.OutKinds[name] = kind
			}
		}
	}
}

func (g *graph) consumers(name, producer string) string {
	var cs []string
	for _, s := range g.steps {
		if s.Ins[name] == producer {
			cs = append(cs, s.Name)
		}
	}
	return strings.Join(cs, ", ")
}

func (g *graph) langs(s *Step) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range s.Cells {
		if f := g.facts[c]; f != nil && f.Lang != "" && !seen[f.Lang] {
			seen[f.Lang] = true
			out = append(out, f.Lang)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func sortedBindings(m map[string]*binding) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// importTopModule returns the top-level module an import statement loads
// from ("import a.b as c" → "a", "from x.y import z" → "x"); "" for relative
// imports.
func importTopModule(stmt string) string {
	f := strings.Fields(stmt)
	if len(f) < 2 {
		return ""
	}
	m := strings.TrimSuffix(f[1], ",")
	if strings.HasPrefix(m, ".") {
		return ""
	}
	top, _, _ := strings.Cut(m, ".")
	return top
}
