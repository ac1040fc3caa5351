package analyzer

import (
	"strings"
)

// The process-wide state a notebook's kernel keeps from cell to cell, which
// a step (a fresh process) must be given: the state of the global random
// generators (a pseudo-value, see rngState) and session settings (replayed
// statements, see settingFor).

// RNG state pseudo-values: the state of a global random generator, as a
// value steps load and save. Each is a valid identifier and file name that
// no notebook binds; the runtime saves and loads it through the
// generator's own state API and never binds the name.
const (
	RNGNumpy  = "__rng_numpy__"  // numpy.random's legacy global RandomState
	RNGRandom = "__rng_random__" // the random module's hidden Random instance
	RNGTorch  = "__rng_torch__"  // torch's default generator (and CUDA's, where initialised)
)

// IsRNGState reports whether name is one of the RNG state pseudo-values.
func IsRNGState(name string) bool {
	return name == RNGNumpy || name == RNGRandom || name == RNGTorch
}

// torchRNG are torch's functions (torch.X, torch.random.X, torch.cuda.X)
// that use or set its global generator.
var torchRNG = map[string]bool{
	"manual_seed": true, "seed": true, "initial_seed": true, "get_rng_state": true, "set_rng_state": true,
	"rand": true, "randn": true, "randint": true, "randperm": true, "normal": true, "bernoulli": true,
	"multinomial": true, "rand_like": true, "randn_like": true, "randint_like": true, "poisson": true,
	"manual_seed_all": true,
}

// rngState returns the pseudo-value whose generator the fully qualified
// function q uses, "" for none: a module-level function of numpy.random
// (not a constructor such as default_rng or RandomState), of random (not
// random.Random), or torch's seeding and sampling functions.
func rngState(q string) string {
	last := q[strings.LastIndexByte(q, '.')+1:]
	mod := strings.TrimSuffix(q, "."+last)
	switch mod {
	case "numpy.random":
		if rngFuncs[last] {
			return RNGNumpy
		}
	case "random":
		if rngFuncs[last] {
			return RNGRandom
		}
	case "torch", "torch.random", "torch.cuda":
		if torchRNG[last] {
			return RNGTorch
		}
	}
	return ""
}

// settingCalls and settingStores are the qualified callees and store
// targets of session settings statements (a prefix ending in "." matches
// any attribute under it).
var settingCalls = map[string]bool{
	"pandas.set_option": true, "pandas.reset_option": true,
	"numpy.set_printoptions": true, "numpy.seterr": true,
	"torch.set_printoptions":  true,
	"warnings.filterwarnings": true, "warnings.simplefilter": true,
	"matplotlib.pyplot.style.use": true, "matplotlib.style.use": true,
	"matplotlib.pyplot.rcParams.update": true, "matplotlib.rcParams.update": true,
	"matplotlib.pyplot.rc": true, "matplotlib.rc": true,
	"seaborn.set": true, "seaborn.set_theme": true, "seaborn.set_style": true,
	"seaborn.set_context": true, "seaborn.set_palette": true,
}

func settingTarget(q string, assign bool) bool {
	if !assign {
		return settingCalls[q]
	}
	return strings.HasPrefix(q, "pandas.options.") || q == "matplotlib.pyplot.rcParams[]" || q == "matplotlib.rcParams[]"
}

// moduleOf returns the module (or module attribute) name is bound to by
// an import statement, fully qualified (np → numpy, npr → numpy.random
// for from numpy import random as npr, shuffle → random.shuffle), "" if
// name holds anything else now.
func (g *graph) moduleOf(st *stepRun, name string) string {
	b := g.current(st, name)
	if b == nil || b.value != valModule {
		return ""
	}
	imp := b.imp
	switch b.kind {
	case bindModule:
	case bindShared:
		if b.cell < 0 || b.cell >= len(g.facts) || g.facts[b.cell] == nil {
			return ""
		}
		imp = importFor(g.facts[b.cell], name, b.line)
	default:
		return ""
	}
	return qualifyImport(imp, name)
}

// qualifyImport returns what the import statement imp binds name to:
// import a.b as c → a.b for c; import a.b → a for a; from m import x as
// y → m.x for y. "" for a relative import or a name imp does not bind.
func qualifyImport(imp, name string) string {
	if rest, ok := strings.CutPrefix(imp, "from "); ok {
		mod, what, ok := strings.Cut(rest, " import ")
		if !ok || strings.HasPrefix(mod, ".") {
			return ""
		}
		for _, part := range strings.Split(what, ",") {
			x, y, as := strings.Cut(strings.TrimSpace(part), " as ")
			if !as {
				y = x
			}
			if strings.TrimSpace(y) == name {
				return mod + "." + strings.TrimSpace(x)
			}
		}
		return ""
	}
	rest, ok := strings.CutPrefix(imp, "import ")
	if !ok {
		return ""
	}
	for _, part := range strings.Split(rest, ",") {
		x, y, as := strings.Cut(strings.TrimSpace(part), " as ")
		x, y = strings.TrimSpace(x), strings.TrimSpace(y)
		if as && y == name {
			return x
		}
		if first, _, _ := strings.Cut(x, "."); !as && first == name {
			return first
		}
	}
	return ""
}

// qualify resolves a dotted name starting from root to a qualified one,
// "" when root is not bound to a module by an import.
func (g *graph) qualify(st *stepRun, root, dotted string) string {
	m := g.moduleOf(st, root)
	if m == "" {
		return ""
	}
	return m + strings.TrimPrefix(dotted, root)
}

// The RNG rule: a call of a function of a global random generator reads
// and changes that generator's state, the pseudo-value rngState names, as
// a method call changes its object: the steps drawing from one generator
// are ordered as in the notebook, each loading the state the one before
// left, and other steps stay independent of them. The first step to use
// a generator starts from a fresh process's state, as the kernel did.
func (g *graph) rngUse(st *stepRun, f *cellFacts, a action) {
	q := g.qualify(st, a.Name, a.Method)
	if q == "" {
		return
	}
	name := rngState(q)
	if name == "" {
		return
	}
	a.Name, a.Method = name, ""
	if g.current(st, name) == nil {
		a.Kind = actWrite
		g.write(st, f, a)
		return
	}
	g.mutateOne(st, name, action{Kind: actMutate, Name: name, Line: a.Line, Col: a.Col, Cond: a.Cond, Region: a.Region})
}

// activeSetting is a settings statement a step ran, which every later
// step replays.
type activeSetting struct {
	stmt settingStmt
	cell int
}

// The settings rule: a top-level statement of a step that only changes a
// process-wide setting (settingTarget: pd.set_option(…), pd.options.… =
// …, np.set_printoptions(…), torch.set_printoptions(…),
// warnings.filterwarnings/simplefilter(…), plt.style.use(…),
// plt.rcParams[…] = … and .update(…), matplotlib's, sns.set*(…)), whose
// arguments are literals, parameters or names bound by imports, is
// replayed at the start of every later step, in notebook order, after the
// imports it needs (Step.Imports), as the kernel keeps it set.

// noteSettings records the settings statements of cell c, just replayed in
// step st.
func (g *graph) noteSettings(st *stepRun, f *cellFacts, c int) {
	for _, s := range f.Settings {
		if q := g.qualify(st, s.Root, s.Dotted); q != "" && settingTarget(q, s.Assign) && g.replayable(st, s) {
			g.settings = append(g.settings, activeSetting{stmt: s, cell: c})
		}
	}
}

// replayable reports whether every name s reads is a module, a parameter,
// a shared name or a builtin: what any step has without loading a value.
func (g *graph) replayable(st *stepRun, s settingStmt) bool {
	for _, n := range append([]string{s.Root}, s.Names...) {
		b := g.current(st, n)
		switch {
		case b == nil:
			if !builtinNames[n] {
				return false
			}
		case b.kind == bindModule || b.kind == bindParam || b.kind == bindShared:
		default:
			return false
		}
	}
	return true
}

// replaySettings makes st replay the settings statements of earlier steps.
func (g *graph) replaySettings(st *stepRun) {
	for _, as := range g.settings {
		s := as.stmt
		if !g.replayable(st, s) {
			continue
		}
		for _, n := range append([]string{s.Root}, s.Names...) {
			g.read(st, n, action{Kind: actRead, Name: n, Line: s.Line}, false)
		}
		st.imports = append(st.imports, s.Text)
	}
}
