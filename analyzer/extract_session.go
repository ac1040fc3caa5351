package analyzer

import (
	"strings"
)

// This file finds, in one cell, the calls that may draw from a global
// random generator (rngCall) and the statements that only change a
// process-wide setting (sessionSetting). The extractor cannot tell what a
// name such as np stands for (it may be imported in another cell): it
// records the dotted callee, and the graph resolves its first name through
// the import statement that bound it (see session.go).

// settingStmt is a top-level statement that may only change a
// process-wide display or behaviour setting (pd.set_option(…),
// plt.rcParams["k"] = v, warnings.filterwarnings(…)); the graph decides,
// once it knows which module Root names, whether it is one.
type settingStmt struct {
	Root   string   // the name the statement's callee or target starts from
	Dotted string   // the callee or target as a dotted name (np.set_printoptions; plt.rcParams[] for a subscript store)
	Assign bool     // an assignment (pd.options.display.precision = 2), not a call
	Names  []string // plain names its arguments (or assigned value) read
	Text   string   // the statement's source
	Line   int
}

// rngFuncs are the last parts of the callees that may use a global random
// generator: numpy.random's, random's and torch's module-level functions.
// The graph checks the module (see rngState).
var rngFuncs = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`seed get_state set_state rand randn randint random random_sample
		random_integers ranf sample choice shuffle permutation bytes normal uniform binomial poisson
		beta chisquare dirichlet exponential gamma geometric gumbel hypergeometric laplace logistic
		lognormal logseries multinomial multivariate_normal negative_binomial noncentral_chisquare
		noncentral_f pareto power rayleigh standard_cauchy standard_exponential standard_gamma
		standard_normal standard_t triangular vonmises wald weibull zipf
		getstate setstate getrandbits randrange choices gauss normalvariate lognormvariate expovariate
		vonmisesvariate gammavariate betavariate paretovariate weibullvariate randbytes binomialvariate
		manual_seed initial_seed get_rng_state set_rng_state randperm bernoulli rand_like randn_like
		randint_like manual_seed_all`) {
		rngFuncs[f] = true
	}
}

// rngCall records a module-level call whose callee is a chain of plain
// names ending in a function of a global random generator (np.random.rand,
// shuffle after from random import shuffle): a cellFacts.RNGCalls entry
// the graph resolves (rngUse). Calls in functions are not followed.
func (w *walker) rngCall(fn int32) {
	if fn < 0 || w.funcScope() != nil {
		return
	}
	d := w.dottedName(fn)
	if d == "" {
		return
	}
	root, _, _ := strings.Cut(d, ".")
	if !rngFuncs[d[strings.LastIndexByte(d, '.')+1:]] || !w.isModuleName(root) {
		return
	}
	a := action{Kind: actCall, Name: w.intern1(root), Method: w.intern1(d), Cond: w.cond, Region: w.region}
	a.Line, a.Col = w.pos(w.n[fn].start)
	w.cf.RNGCalls = append(w.cf.RNGCalls, a)
}

func (w *walker) intern1(s string) string {
	if v, ok := w.intern[s]; ok {
		return v
	}
	v := strings.Clone(s)
	w.intern[v] = v
	return v
}

// settingsSuffixes are the dotted callees (after the module) and store
// targets a settings statement may have; the graph checks the module.
func settingCandidate(dotted string, assign bool) bool {
	_, rest, ok := strings.Cut(dotted, ".")
	if !ok {
		rest = dotted // from warnings import filterwarnings
	}
	if assign {
		return strings.Contains(dotted, "options.") || strings.HasSuffix(dotted, "rcParams[]")
	}
	switch rest[strings.LastIndexByte(rest, '.')+1:] {
	case "set_option", "reset_option", "set_printoptions", "seterr", "filterwarnings", "simplefilter",
		"use", "update", "rc", "set", "set_theme", "set_style", "set_context", "set_palette":
		return true
	}
	return false
}

// setting records a top-level expression statement that may be a
// settings statement: a call of a dotted callee, or a store into an
// attribute chain or a subscript of one, whose arguments (or value) are
// literals, displays of them, or plain names.
func (w *walker) setting(stmt int32) {
	if w.scope == nil || w.scope.kind != scModule || w.cond || w.noBind || w.hasErrors {
		return
	}
	var e int32 = -1
	for c := w.first(stmt); c >= 0; c = w.next(c) {
		if w.isCode(c) {
			if e >= 0 {
				return
			}
			e = c
		}
	}
	if e < 0 {
		return
	}
	var s settingStmt
	switch w.kind(e) {
	case kCall:
		s.Dotted = w.dottedName(w.child(e, fFunction))
		args := w.child(e, fArguments)
		if args < 0 || w.kind(args) != kArgList || !w.simpleArgs(args, &s.Names) {
			return
		}
	case kAssign:
		left, right := w.child(e, fLeft), w.child(e, fRight)
		if left < 0 || right < 0 || w.child(e, fType) >= 0 || !w.simpleValue(right, &s.Names, 0) {
			return
		}
		switch w.kind(left) {
		case kAttribute:
			s.Dotted = w.dottedName(left)
		case kSubscript:
			if d := w.dottedName(w.child(left, fValue)); d != "" && w.simpleValue(w.child(left, fSubscript), &s.Names, 0) {
				s.Dotted = d + "[]"
			}
		}
		s.Assign = true
	default:
		return
	}
	if s.Dotted == "" || !settingCandidate(s.Dotted, s.Assign) {
		return
	}
	s.Root, _, _ = strings.Cut(s.Dotted, ".")
	s.Root = strings.TrimSuffix(s.Root, "[]")
	if !isIdentifier(s.Root) {
		return
	}
	s.Text = strings.TrimSpace(w.text(e))
	s.Line, _ = w.pos(w.n[stmt].start)
	w.cf.Settings = append(w.cf.Settings, s)
}

func (w *walker) simpleArgs(args int32, names *[]string) bool {
	for c := w.first(args); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		v := c
		if w.kind(c) == kKeywordArg {
			v = w.child(c, fValue)
		}
		if !w.simpleValue(v, names, 0) {
			return false
		}
	}
	return true
}

// simpleValue reports a literal, a plain name (added to names), a
// dotted name (warnings category: UserWarning, np.inf), or a display or
// unary minus of such.
func (w *walker) simpleValue(v int32, names *[]string, depth int) bool {
	v = w.unparen(v)
	if v < 0 || depth > 8 {
		return false
	}
	switch w.kind(v) {
	case kString, kConcatString:
		for c := w.first(v); c >= 0; c = w.next(c) {
			if w.kind(c) == kInterpolation {
				return false
			}
		}
		return true
	case kInteger, kFloat, kTrue, kFalse, kNone:
		return true
	case kIdentifier, kAttribute:
		d := w.dottedName(v)
		if d == "" {
			return false
		}
		root, _, _ := strings.Cut(d, ".")
		*names = append(*names, w.intern1(root))
		return true
	case kUnaryOp, kList, kTuple, kSet, kDict, kPair:
		for c := w.first(v); c >= 0; c = w.next(c) {
			if !w.isCode(c) {
				continue // punctuation and operators
			}
			if !w.simpleValue(c, names, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
