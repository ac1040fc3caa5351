package analyzer

import "sort"

// Name resolution follows Python's scoping rules. Module-level code (and
// class bodies, comprehensions and lambdas met there) resolves each name
// as it is met and emits actions in order. A function body cannot: a name
// is local to a function if it is bound anywhere in it, even after the use,
// so uses inside functions wait in the function's scope until its end,
// and the ones still free then move out to the enclosing function, or to
// the summary (funcFacts) of the module-level definition being walked.

type scopeKind uint8

const (
	scModule scopeKind = iota
	scClass
	scFunc
	scLambda
	scComp
)

type useKind uint8

const (
	uRead useKind = iota
	uCall
	uMutate
	uWrite
	uAugWrite // x += …: reads x and rebinds it
	uDel
	uUnbind
	uFileRead   // the path held by a name is read
	uFileWrite  // … or written
	uMethodCall // a method named pendingUse.method is called (on any value)
)

// binds reports whether a use of this kind makes the name local to the
// scope it happens in.
func (k useKind) binds() bool {
	return k == uWrite || k == uAugWrite || k == uDel || k == uUnbind
}

type scope struct {
	kind      scopeKind
	parent    *scope
	names     nameSet // bound here: parameters, targets, and, for a class, names bound so far
	globals   nameSet
	nonlocals nameSet
	params    []string     // scFunc: positional parameters, in order
	pending   []pendingUse // scFunc: uses resolved when the function ends
	fb        *funcBuilder // the module-level def/class/lambda being summarised (nil outside one)
	top       bool         // scFunc: the module-level def itself, whose parameters MutatesParams indexes
	init      bool         // scFunc: __init__ of a module-level class (its parameters shift by self)
	deferred  bool         // scLambda: bound to a module-level name, or inside such a lambda: runs when called
	// mfb (scFunc) is the summary of a method of a module-level class,
	// kept beside the class's merged one (fb); self names its first
	// parameter.
	mfb  *funcBuilder
	self string
}

type pendingUse struct {
	name string
	path string // uFileRead/uFileWrite of a literal path (name is "")
	kind useKind
	cond bool // conditional within the function: under if/for/…, or in a nested scope
	// method is the method a use's method call calls (action.Method),
	// or, for uMethodCall, the method called; weak marks x.m(…) with a
	// method not known to change its object (see useWith).
	method string
	weak   bool
}

// enclosingFunc returns the nearest function scope around s, skipping
// classes: a class body's names are invisible to the functions inside it.
func (s *scope) enclosingFunc() *scope {
	for p := s.parent; p != nil; p = p.parent {
		if p.kind == scFunc {
			return p
		}
	}
	return nil
}

func (s *scope) paramIndex(name string) int {
	for i, p := range s.params {
		if p == name {
			return i
		}
	}
	return -1
}

// nameSet is a small set of names: a slice while small, a map beyond.
type nameSet struct {
	list []string
	m    map[string]struct{}
}

func (n *nameSet) has(s string) bool {
	if n.m != nil {
		_, ok := n.m[s]
		return ok
	}
	for _, x := range n.list {
		if x == s {
			return true
		}
	}
	return false
}

func (n *nameSet) add(s string) {
	if n.has(s) {
		return
	}
	if n.m != nil {
		n.m[s] = struct{}{}
		return
	}
	n.list = append(n.list, s)
	if len(n.list) > 16 {
		n.m = make(map[string]struct{}, 2*len(n.list))
		for _, x := range n.list {
			n.m[x] = struct{}{}
		}
		n.list = nil
	}
}

// funcBuilder collects a module-level definition's summary.
type funcBuilder struct {
	name       string
	class      bool
	paramNames []string
	reads      nameSet
	calls      nameSet
	mutates    nameSet
	writes     map[string]bool // global names rebound: true when also read, or conditional
	params     map[int]bool
	files      []action
	dynamic    bool
	generator  bool
	methods    nameSet                 // methods called on any value (funcFacts.MethodCalls)
	classMeths map[string]*funcBuilder // a class: its methods' own summaries
	selfMut    bool                    // a method: changes self in place
	selfCalls  nameSet                 // a method: methods called on self without a known change
}

// record adds a use that resolved to a module-level name.
func (b *funcBuilder) record(p pendingUse) {
	switch p.kind {
	case uRead:
		b.reads.add(p.name)
	case uCall:
		b.reads.add(p.name)
		b.calls.add(p.name)
	case uMutate:
		b.reads.add(p.name)
		b.mutates.add(p.name)
	case uWrite, uAugWrite, uDel, uUnbind:
		if b.writes == nil {
			b.writes = map[string]bool{}
		}
		readAlso := p.kind == uAugWrite || p.kind == uDel || p.cond
		if readAlso {
			b.reads.add(p.name)
		}
		b.writes[p.name] = b.writes[p.name] || readAlso
	case uMethodCall:
		b.methods.add(p.method)
	case uFileRead, uFileWrite:
		k := actFileRead
		if p.kind == uFileWrite {
			k = actFileWrite
		}
		if p.path != "" {
			b.files = append(b.files, action{Kind: k, Path: p.path})
			return
		}
		b.reads.add(p.name)
		b.files = append(b.files, action{Kind: k, Name: p.name})
	}
}

func (b *funcBuilder) build() *funcFacts {
	f := &funcFacts{
		Name:    b.name,
		Class:   b.class,
		Reads:   b.reads.sorted(),
		Calls:   b.calls.sorted(),
		Mutates: b.mutates.sorted(),
		Files:   b.files,
		Dynamic: b.dynamic,
		Params:  b.paramNames,

		MethodCalls: b.methods.sorted(),
		MutatesSelf: b.selfMut,
		SelfCalls:   b.selfCalls.sorted(),
	}
	if len(b.classMeths) > 0 {
		f.Methods = make(map[string]*funcFacts, len(b.classMeths))
		for name, m := range b.classMeths {
			f.Methods[name] = m.build()
		}
	}
	for name, rw := range b.writes {
		if rw || b.reads.has(name) {
			f.ReadWrites = append(f.ReadWrites, name)
		} else {
			f.Writes = append(f.Writes, name)
		}
	}
	sort.Strings(f.Writes)
	sort.Strings(f.ReadWrites)
	for i := range b.params {
		f.MutatesParams = append(f.MutatesParams, i)
	}
	sort.Ints(f.MutatesParams)
	return f
}

func (n *nameSet) sorted() []string {
	var out []string
	if n.m != nil {
		out = make([]string, 0, len(n.m))
		for s := range n.m {
			out = append(out, s)
		}
	} else if len(n.list) > 0 {
		out = append([]string(nil), n.list...)
	}
	sort.Strings(out)
	return out
}

// closeFunc resolves the uses a function body left pending.
func (w *walker) closeFunc(s *scope) {
	for _, p := range s.pending {
		switch {
		case p.path != "" || p.kind == uMethodCall:
			// A literal file path or a method's name: nothing to resolve.
			if outer := s.enclosingFunc(); outer != nil {
				outer.pending = append(outer.pending, p)
			} else {
				s.recordFree(p)
			}
		case s.globals.has(p.name):
			if s.mfb != nil {
				s.mfb.record(p)
			}
			if !s.top {
				// A nested function or a method may not run when
				// the summarised definition is called.
				p.cond = true
			}
			if s.fb != nil {
				s.fb.record(p)
			}
		case s.nonlocals.has(p.name):
			// A local of an enclosing function.
		case s.names.has(p.name):
			if p.kind == uMutate || p.kind == uAugWrite {
				w.paramMutated(s, p.name)
			}
			if s.mfb != nil && p.name == s.self {
				selfUse(s.mfb, p)
			}
		default:
			if outer := s.enclosingFunc(); outer != nil {
				p.cond = true // the nested function may never run
				outer.pending = append(outer.pending, p)
			} else {
				s.recordFree(p)
			}
		}
	}
	s.pending = nil
}

// recordFree adds a use resolved to a module-level name (or a literal
// path, or a method call) to the summaries of the definition: the
// module-level one and, for a method, the method's own.
func (s *scope) recordFree(p pendingUse) {
	if s.fb != nil {
		s.fb.record(p)
	}
	if s.mfb != nil {
		s.mfb.record(p)
	}
}

// selfUse notes what a method does with its self parameter: a change
// known to happen (self.a = …, self.items.append(…), x += … through a
// loop over self's items) makes the method change its object; a method
// called on self, or on a value inside it, without a known change
// (self.refill(), self.items[k].bump()) does if that method does (the
// graph decides, by name, among the notebook's classes).
func selfUse(mfb *funcBuilder, p pendingUse) {
	switch {
	case p.kind == uMutate && !p.weak:
		mfb.selfMut = true
	case p.method != "" && (p.kind == uRead || p.kind == uMutate):
		mfb.selfCalls.add(p.method)
	}
}

// paramMutated notes an in-place change of a parameter of the summarised
// definition: a call site's argument in that position is mutated too.
func (w *walker) paramMutated(s *scope, name string) {
	if s.fb == nil || (!s.top && !s.init) {
		return
	}
	i := s.paramIndex(name)
	if s.init {
		i-- // C(x) passes x to __init__(self, x)
	}
	if i < 0 {
		return
	}
	if s.fb.params == nil {
		s.fb.params = map[int]bool{}
	}
	s.fb.params[i] = true
}
