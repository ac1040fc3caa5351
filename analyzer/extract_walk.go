package analyzer

import (
	"slices"
	"sort"
	"strings"
)

// maxDepth bounds the walker's recursion. CPython rejects far shallower
// nesting, so a deeper cell is a syntax error anyway; the bound keeps a
// pathological cell from exhausting the stack.
const maxDepth = 5000

// walker walks one cell's flat syntax tree and fills its cellFacts.
type walker struct {
	t      *symbolTable
	src    string // the rewritten source the tree was parsed from
	n      []tnode
	cf     *cellFacts
	ipy    *ipySource
	lines  []int
	intern map[string]string

	scope     *scope
	cond      bool  // the code being walked may not run
	region    int32 // the conditional region being walked (cellFacts.Regions)
	noBind    bool  // a %timeit statement: its bindings vanish
	noBindAll bool  // a %%timeit cell
	depth     int
	tooDeep   bool
	hasErrors bool
	errCount  int

	// The line whose characters runeCol counted last.
	colLine  int
	colASCII bool
	colTable []int32

	// lambdaFB, when set, is the summary the next lambda walked fills:
	// that lambda is bound to a module-level name.
	lambdaFB *funcBuilder
	// soft marks the read being emitted as a $name expansion.
	soft bool
	// gens names the generator functions defined so far in the cell, so
	// that `g = gen()` binds a generator.
	gens map[string]bool

	// aliases are the loop targets bound to the elements of a value, in
	// the loops being walked, innermost last (see loopAliases).
	aliases []loopAlias
	// useMethod and useWeak qualify the use being recorded (see useWith).
	useMethod string
	useWeak   bool
}

// Tree navigation. Node indices are int32; -1 is "none".

func (w *walker) kind(i int32) nodeKind { return w.t.kind(w.n[i].sym) }

func (w *walker) fieldOf(i int32) fieldKind { return w.t.field(w.n[i].field) }

func (w *walker) first(i int32) int32 {
	if j := i + 1; i >= 0 && int(j) < len(w.n) && w.n[j].parent == i {
		return j
	}
	return -1
}

func (w *walker) next(i int32) int32 { return w.n[i].next }

// isCode reports a named node that is not a comment or other extra.
func (w *walker) isCode(i int32) bool {
	nd := &w.n[i]
	return nd.flags&flagExtra == 0 && w.t.isNamed(nd.sym)
}

// firstCode returns the first named, non-extra child of i.
func (w *walker) firstCode(i int32) int32 {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) {
			return c
		}
	}
	return -1
}

func (w *walker) nextCode(i int32) int32 {
	if i < 0 {
		return -1
	}
	for c := w.next(i); c >= 0; c = w.next(c) {
		if w.isCode(c) {
			return c
		}
	}
	return -1
}

func (w *walker) child(i int32, f fieldKind) int32 {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.fieldOf(c) == f {
			return c
		}
	}
	return -1
}

// text is the source of node i; a substring, so it must be interned
// before it is kept.
func (w *walker) text(i int32) string {
	nd := &w.n[i]
	if int(nd.stop) > len(w.src) || nd.start > nd.stop {
		return ""
	}
	return w.src[nd.start:nd.stop]
}

func (w *walker) name(i int32) string {
	s := w.text(i)
	if v, ok := w.intern[s]; ok {
		return v
	}
	v := strings.Clone(s)
	w.intern[v] = v
	return v
}

// enter guards recursion depth; every enter is paired with leave.
func (w *walker) enter(i int32) bool {
	if w.depth >= maxDepth {
		if !w.tooDeep {
			w.tooDeep = true
			w.problemAt(w.n[i].start, "error", "syntax-error", "code nested too deeply to analyse")
		}
		return false
	}
	w.depth++
	return true
}

func (w *walker) leave() { w.depth-- }

// module walks the whole cell.
func (w *walker) module() {
	w.py3Syntax()
	w.scope = &scope{kind: scModule}
	w.noBind = w.noBindAll
	w.block(0)
}

// block walks the statements of a module or block. Tree-sitter accepts
// a statement indented differently from its block, which Python rejects,
// so block checks that too.
func (w *walker) block(i int32) {
	indent := -1
	if i == 0 {
		indent = 0
	}
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		if k := w.kind(c); k != kError {
			if col, first := w.indentOf(c); first {
				if indent < 0 {
					indent = col
				} else if col != indent {
					w.syntaxError(w.n[c].start, func() string { return "unexpected indentation" })
				}
			}
		}
		w.stmt(c)
	}
}

// condBlock walks i as code that may not run, in a region of its own.
func (w *walker) condBlock(i int32) {
	if i < 0 {
		return
	}
	saved := w.beginRegion()
	w.stmt(i)
	w.endRegion(saved)
}

// regionState is what beginRegion saves for endRegion.
type regionState struct {
	cond   bool
	region int32
}

// beginRegion starts code that may not run: a new region nested in the
// current one (see action.Region).
func (w *walker) beginRegion() regionState {
	saved := regionState{w.cond, w.region}
	if len(w.cf.Regions) == 0 {
		w.cf.Regions = append(w.cf.Regions, -1) // region 0, the top level
	}
	w.cf.Regions = append(w.cf.Regions, w.region)
	w.region = int32(len(w.cf.Regions) - 1)
	w.cond = true
	return saved
}

func (w *walker) endRegion(s regionState) { w.cond, w.region = s.cond, s.region }

func (w *walker) stmt(i int32) {
	if i < 0 {
		return
	}
	if !w.enter(i) {
		return
	}
	if len(w.ipy.noBind) > 0 && !w.noBind && w.onNoBindLine(i) {
		w.noBind = true
		w.stmtKind(i)
		w.noBind = w.noBindAll
	} else {
		w.stmtKind(i)
	}
	w.leave()
}

// onNoBindLine reports a statement on a %timeit line.
func (w *walker) onNoBindLine(i int32) bool {
	line := sort.SearchInts(w.lines, int(w.n[i].start)+1) - 1
	_, found := slices.BinarySearch(w.ipy.noBind, line)
	return found
}

func (w *walker) stmtKind(i int32) {
	switch w.kind(i) {
	case kBlock, kModule:
		w.block(i)
	case kExprStmt:
		w.setting(i)
		for c := w.first(i); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				w.expr(c)
			}
		}
	case kImport, kImportFrom, kFutureImport:
		w.importStmt(i)
	case kDelete:
		for c := w.first(i); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				w.delTarget(c)
			}
		}
	case kIf:
		w.ifStmt(i)
	case kFor:
		w.forStmt(i)
	case kWhile:
		w.expr(w.child(i, fCondition))
		w.condBlock(w.child(i, fBody))
		w.condBlock(w.child(i, fAlternative))
	case kElse, kFinally:
		for c := w.first(i); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				w.condBlock(c)
			}
		}
	case kTry:
		w.tryStmt(i)
	case kWith:
		w.withStmt(i)
	case kMatch:
		w.matchStmt(i)
	case kFuncDef:
		w.funcDef(i)
	case kClassDef:
		w.classDef(i)
	case kDecorated:
		w.decorated(i)
	case kGlobal, kNonlocal:
		w.declare(i, w.kind(i) == kNonlocal)
	case kTypeAlias:
		w.typeAlias(i)
	case kExecStmt:
		// Python 2's exec statement: a syntax error (py3Syntax), so the
		// cell never runs and reads nothing dynamically.
		w.exprChildren(i)
	case kError, kComment, kPass:
	default:
		// return, raise, assert, print: their expressions are reads.
		w.exprChildren(i)
	}
}

func (w *walker) exprChildren(i int32) {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) {
			w.expr(c)
		}
	}
}

func (w *walker) expr(i int32) {
	if i < 0 {
		return
	}
	if !w.enter(i) {
		return
	}
	switch w.kind(i) {
	case kIdentifier:
		w.readName(i)
	case kAttribute:
		// obj.attr reads obj; the attribute's name is no variable.
		w.expr(w.child(i, fObject))
	case kCall:
		w.call(i)
	case kKeywordArg:
		w.expr(w.child(i, fValue))
	case kAssign:
		w.assign(i)
	case kAugAssign:
		w.augAssign(i)
	case kNamedExpr:
		v := w.child(i, fValue)
		w.expr(v)
		if n := w.child(i, fName); n >= 0 && w.kind(n) == kIdentifier {
			s := w.scope
			for s.kind == scComp && s.parent != nil {
				// A walrus in a comprehension binds in the scope around it.
				s = s.parent
			}
			w.bind(s, n, uWrite, w.valueOf(v))
		}
	case kLambda:
		w.lambda(i)
	case kListComp, kSetComp, kGenExpr, kDictComp:
		w.comprehension(i)
	case kConditionalExpr:
		// a if c else b: c always runs, a or b may not.
		body := w.firstCode(i)
		test := int32(-1)
		if body >= 0 {
			test = w.nextCode(body)
		}
		w.expr(test)
		saved := w.beginRegion()
		w.expr(body)
		w.endRegion(saved)
		// The other branch runs only when this one does not.
		saved = w.beginRegion()
		for c := w.nextCode(test); c >= 0; c = w.nextCode(c) {
			w.expr(c)
		}
		w.endRegion(saved)
	case kBooleanOp:
		// a and b: b may not run.
		l := w.firstCode(i)
		w.expr(l)
		saved := w.beginRegion()
		for c := w.nextCode(l); c >= 0; c = w.nextCode(c) {
			w.expr(c)
		}
		w.endRegion(saved)
	case kYield:
		if s := w.scope; s.kind == scFunc && s.top && s.fb != nil {
			s.fb.generator = true
		}
		w.exprChildren(i)
	case kError, kComment, kKeywordSeparator, kStringStart, kStringContent, kStringEnd, kEscapeSeq:
	default:
		w.exprChildren(i)
	}
	w.leave()
}

func (w *walker) readName(i int32) {
	if w.n[i].start == w.n[i].stop {
		return // a MISSING identifier
	}
	if w.hasErrors && isPythonKeyword(w.text(i)) {
		return // error recovery made a keyword an identifier
	}
	if len(w.ipy.soft) > 0 && w.isSoft(i) {
		if w.funcScope() != nil {
			return // a summary has no soft reads; $name in a def is rare
		}
		w.soft = true
		w.use(w.name(i), uRead, i, nil)
		w.soft = false
		return
	}
	w.use(w.name(i), uRead, i, nil)
}

// isSoft reports an identifier that stands for a $name of IPython.
func (w *walker) isSoft(i int32) bool {
	o := int(w.n[i].start)
	l := sort.SearchInts(w.lines, o+1) - 1
	if l < 0 {
		return false
	}
	_, found := slices.BinarySearchFunc(w.ipy.soft, [2]int{l, w.runeCol(l, o)}, func(r softRef, t [2]int) int {
		if r.line != t[0] {
			return r.line - t[0]
		}
		return r.col - t[1]
	})
	return found
}

// use records a non-binding use of a name (read, call, mutation, file
// path) by the code being walked, resolving it through the scopes.
func (w *walker) use(name string, k useKind, at int32, call *callInfo) {
	var lam *scope
	for s := w.scope; s != nil; s = s.parent {
		switch s.kind {
		case scComp:
			if s.names.has(name) {
				return
			}
		case scLambda:
			if s.names.has(name) {
				return
			}
			if lam == nil {
				lam = s
			}
		case scClass:
			if s != w.scope {
				continue // invisible from nested scopes
			}
			if s.globals.has(name) {
				w.emitFromModuleScope(name, k, at, call, lam)
				return
			}
			if s.names.has(name) {
				return
			}
		case scFunc:
			s.pending = append(s.pending, pendingUse{name: name, kind: k, cond: w.cond || lam != nil,
				method: w.useMethod, weak: w.useWeak})
			return
		case scModule:
			w.emitFromModuleScope(name, k, at, call, lam)
			return
		}
	}
}

// isModuleName reports whether name, used by the code being walked,
// resolves to a module-level name rather than to a comprehension, lambda
// or class-body local.
func (w *walker) isModuleName(name string) bool {
	for s := w.scope; s != nil; s = s.parent {
		switch s.kind {
		case scComp, scLambda:
			if s.names.has(name) {
				return false
			}
		case scClass:
			if s == w.scope && !s.globals.has(name) && s.names.has(name) {
				return false
			}
		case scFunc:
			return false
		}
	}
	return true
}

// emitFromModuleScope handles a use that resolved to a module-level name
// outside any function. The body of a lambda (lam) does not run yet: in
// one bound to a name (its summary is in Funcs) the use waits for calls
// of that name; in another it counts as a plain read now, since such a
// lambda usually runs in the statement that makes it (sorted(key=…)).
func (w *walker) emitFromModuleScope(name string, k useKind, at int32, call *callInfo, lam *scope) {
	if lam != nil {
		if lam.fb != nil {
			lam.fb.record(pendingUse{name: name, kind: k})
		}
		if lam.deferred || k == uFileRead || k == uFileWrite {
			return
		}
		k, call = uRead, nil
	}
	a := action{Name: name, Cond: w.cond && lam == nil, Soft: w.soft}
	if call != nil {
		a.Args, a.Kwargs, a.ArgAliases = call.args, call.kwargs, call.aliases
	}
	if lam == nil {
		a.Method = w.useMethod
	}
	switch k {
	case uRead:
		a.Kind = actRead
	case uCall:
		a.Kind = actCall
	case uMutate, uAugWrite:
		a.Kind = actMutate
	case uDel:
		a.Kind = actDel
	case uFileRead:
		a.Kind = actFileRead
	case uFileWrite:
		a.Kind = actFileWrite
	default:
		return
	}
	w.emit(a, at)
}

func (w *walker) emit(a action, at int32) {
	if w.noBind {
		switch a.Kind {
		case actWrite, actDel, actUnbind:
			return
		}
	}
	a.Line, a.Col = w.pos(w.n[at].start)
	a.Region = w.region
	w.cf.Actions = append(w.cf.Actions, a)
}

// bind records a binding use of identifier i in scope s: a write, an
// augmented assignment, a del, or the end of an except handler.
func (w *walker) bind(s *scope, i int32, k useKind, v val) {
	if w.n[i].start == w.n[i].stop || (w.hasErrors && isPythonKeyword(w.text(i))) {
		return
	}
	name := w.name(i)
	for j := range w.aliases {
		if al := &w.aliases[j]; al.name == name && al.scope == s {
			al.dead = true // the target no longer holds the element
		}
	}
	switch s.kind {
	case scComp, scLambda:
		s.names.add(name)
	case scClass:
		if s.globals.has(name) {
			w.bindModule(name, k, i, v)
			return
		}
		if k == uAugWrite && !s.names.has(name) {
			// x += 1 in a class body reads the global x first.
			w.use(name, uRead, i, nil)
		}
		s.names.add(name)
	case scFunc:
		s.names.add(name)
		s.pending = append(s.pending, pendingUse{name: name, kind: k, cond: w.cond})
	case scModule:
		w.bindModule(name, k, i, v)
	}
}

func (w *walker) bindModule(name string, k useKind, at int32, v val) {
	a := action{Name: name, Cond: w.cond}
	switch k {
	case uWrite:
		a.Kind, a.Value, a.Str, a.More, a.From, a.Members = actWrite, v.kind, v.str, v.more, v.from, v.members
	case uAugWrite:
		a.Kind, a.Aug = actMutate, true
	case uDel:
		a.Kind = actDel
	case uUnbind:
		a.Kind = actUnbind
	default:
		return
	}
	w.emit(a, at)
}

// funcScope returns the function whose body is being walked, if any: the
// code then runs only when that function is called.
func (w *walker) funcScope() *scope {
	for s := w.scope; s != nil; s = s.parent {
		if s.kind == scFunc {
			return s
		}
	}
	return nil
}

// summary returns the summary that code being walked belongs to: the
// module-level definition around it (nil at module level).
func (w *walker) summary() *funcBuilder {
	for s := w.scope; s != nil; s = s.parent {
		if s.kind == scFunc || s.kind == scLambda {
			return s.fb
		}
	}
	return nil
}

// dynamic records globals()/exec/eval and friends at node i.
func (w *walker) dynamic(i int32) {
	for s := w.scope; s != nil; s = s.parent {
		if s.kind == scFunc || s.kind == scLambda {
			if s.fb != nil {
				s.fb.dynamic = true
			}
			if s.mfb != nil {
				s.mfb.dynamic = true
			}
			if s.kind == scFunc || s.deferred {
				return
			}
		}
	}
	w.emit(action{Kind: actDynamic, Cond: w.cond}, i)
}

// target binds an assignment target: names are written, attributes and
// subscripts mutate the object they hang from.
func (w *walker) target(i int32, v val) {
	if i < 0 {
		return
	}
	if !w.enter(i) {
		return
	}
	defer w.leave()
	switch w.kind(i) {
	case kIdentifier:
		w.bind(w.scope, i, uWrite, v)
	case kPatternList, kTuplePattern, kListPattern, kTuple, kList, kExprList, kParenExpr, kListSplatPattern, kListSplat, kAsPatternTarget:
		for c := w.first(i); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				w.target(c, val{})
			}
		}
	case kAttribute, kSubscript:
		if root := w.chain(i); root >= 0 {
			w.change(root, uMutate, "", false)
		}
	case kError, kComment:
	default:
		w.expr(i)
	}
}

// chain evaluates an attribute/subscript chain (a[i].b[j]) down to its
// root: the subscripts are read, and the root identifier is returned
// (-1 when the chain starts at some other expression, which is walked).
func (w *walker) chain(i int32) int32 {
	for {
		switch w.kind(i) {
		case kAttribute:
			o := w.child(i, fObject)
			if o < 0 {
				return -1
			}
			i = o
		case kSubscript:
			v := -1
			for c := w.first(i); c >= 0; c = w.next(c) {
				if !w.isCode(c) {
					continue
				}
				if w.fieldOf(c) == fValue {
					v = int(c)
				} else {
					w.expr(c)
				}
			}
			if v < 0 {
				return -1
			}
			i = int32(v)
		case kParenExpr:
			c := w.firstCode(i)
			if c < 0 || w.nextCode(c) >= 0 {
				w.expr(i)
				return -1
			}
			i = c
		case kIdentifier:
			if w.n[i].start == w.n[i].stop || (w.hasErrors && isPythonKeyword(w.text(i))) {
				return -1
			}
			return i
		default:
			w.expr(i)
			return -1
		}
	}
}

func (w *walker) assign(i int32) {
	// a = b = v: tree-sitter nests the chain to the right; Python
	// evaluates v first, then binds a and b, left to right.
	var targets [4]int32
	ts := targets[:0]
	v, ann := i, int32(-1)
	for v >= 0 && w.kind(v) == kAssign {
		ts = append(ts, w.child(v, fLeft))
		if t := w.child(v, fType); t >= 0 {
			ann = t
		}
		v = w.child(v, fRight)
	}
	// x: T = v evaluates v, binds x, then evaluates T.
	defer w.expr(ann)
	if v < 0 {
		// An annotation without a value binds nothing, but makes the
		// name local to a function.
		if len(ts) == 1 && ts[0] >= 0 && w.kind(ts[0]) == kIdentifier && w.scope.kind == scFunc {
			w.scope.names.add(w.name(ts[0]))
		}
		return
	}
	var fb *funcBuilder
	if w.scope.kind == scModule && len(ts) == 1 && ts[0] >= 0 && w.kind(ts[0]) == kIdentifier && w.kind(v) == kLambda {
		fb = &funcBuilder{name: w.name(ts[0])}
		w.lambdaFB = fb
	}
	w.expr(v)
	w.lambdaFB = nil
	value := w.valueOf(v)
	for _, t := range ts {
		w.target(t, value)
	}
	if fb != nil && !w.noBind {
		w.addFunc(fb)
	}
}

func (w *walker) augAssign(i int32) {
	w.expr(w.child(i, fRight))
	l := w.child(i, fLeft)
	if l < 0 {
		return
	}
	switch w.kind(l) {
	case kIdentifier:
		w.bind(w.scope, l, uAugWrite, val{})
	case kAttribute, kSubscript:
		if root := w.chain(l); root >= 0 {
			w.change(root, uMutate, "", false)
		}
	default:
		w.expr(l)
	}
}

func (w *walker) delTarget(i int32) {
	if !w.enter(i) {
		return
	}
	defer w.leave()
	switch w.kind(i) {
	case kIdentifier:
		w.bind(w.scope, i, uDel, val{})
	case kExprList, kTuple, kList, kParenExpr, kPatternList, kTuplePattern, kListPattern:
		for c := w.first(i); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				w.delTarget(c)
			}
		}
	case kAttribute, kSubscript:
		if root := w.chain(i); root >= 0 {
			w.change(root, uMutate, "", false)
		}
	case kError, kComment:
	default:
		w.expr(i)
	}
}

func (w *walker) ifStmt(i int32) {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.fieldOf(c) {
		case fCondition:
			w.expr(c)
		case fConsequence:
			w.condBlock(c)
		case fAlternative:
			saved := w.beginRegion()
			if w.kind(c) == kElif {
				w.expr(w.child(c, fCondition))
				w.stmt(w.child(c, fConsequence))
			} else {
				w.stmt(c)
			}
			w.endRegion(saved)
		default:
			w.stmt(c)
		}
	}
}

func (w *walker) forStmt(i int32) {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) && w.fieldOf(c) == fRight {
			w.expr(c)
		}
	}
	// The target is bound before each run of the body: one region. The
	// else clause runs after the loop, perhaps with no target bound.
	saved := w.beginRegion()
	left, right := w.child(i, fLeft), w.child(i, fRight)
	w.target(left, w.loopValue(right))
	n := len(w.aliases)
	w.aliases = w.loopAliases(left, right, w.aliases)
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) && w.fieldOf(c) == fBody {
			w.stmt(c)
		}
	}
	w.aliases = w.aliases[:n]
	w.endRegion(saved)
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) && w.fieldOf(c) == fAlternative {
			w.condBlock(c)
		}
	}
}

// tryStmt walks a try statement: its body, each handler and the finally
// clause are regions of their own; the else clause runs only when the
// body ran to its end, so its region is nested in the body's.
func (w *walker) tryStmt(i int32) {
	body := int32(-1)
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kExcept, kExceptGroup:
			saved := w.beginRegion()
			w.exceptClause(c)
			w.endRegion(saved)
		case kElse:
			if body < 0 {
				w.condBlock(c)
				continue
			}
			saved := regionState{w.cond, w.region}
			w.cond, w.region = true, body
			w.condBlock(c)
			w.endRegion(saved)
		case kBlock:
			saved := w.beginRegion()
			body = w.region
			w.stmt(c)
			w.endRegion(saved)
		default:
			w.condBlock(c)
		}
	}
}

// exceptClause binds `except E as name` for the handler and unbinds the
// name when the handler ends, as Python does.
func (w *walker) exceptClause(i int32) {
	alias := int32(-1)
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kAsPattern:
			for d := w.first(c); d >= 0; d = w.next(d) {
				if !w.isCode(d) {
					continue
				}
				if w.fieldOf(d) == fAlias {
					alias = d
					if id := w.firstCode(d); id >= 0 && w.kind(id) == kIdentifier {
						alias = id
					}
					if w.kind(alias) == kIdentifier {
						w.bind(w.scope, alias, uWrite, val{})
					} else {
						w.target(alias, val{})
						alias = -1
					}
				} else {
					w.expr(d)
				}
			}
		case kBlock:
			w.stmt(c)
		default:
			w.expr(c)
		}
	}
	if alias >= 0 {
		w.bind(w.scope, alias, uUnbind, val{})
	}
}

func (w *walker) withStmt(i int32) {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch {
		case w.fieldOf(c) == fBody:
			w.condBlock(c)
		case w.kind(c) == kWithItem:
			w.withItem(c)
		default:
			// with_clause, or parentheses around the items.
			for d := w.first(c); d >= 0; d = w.next(d) {
				if w.isCode(d) && w.kind(d) == kWithItem {
					w.withItem(d)
				} else if w.isCode(d) {
					w.expr(d)
				}
			}
		}
	}
}

func (w *walker) withItem(i int32) {
	v := w.child(i, fValue)
	if v < 0 {
		w.exprChildren(i)
		return
	}
	if w.kind(v) != kAsPattern {
		w.expr(v)
		return
	}
	for c := w.first(v); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		if w.fieldOf(c) == fAlias {
			w.target(c, val{})
		} else {
			w.expr(c)
		}
	}
}

func (w *walker) matchStmt(i int32) {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		if w.fieldOf(c) == fSubject {
			w.expr(c)
			continue
		}
		if w.kind(c) == kCase {
			saved := w.beginRegion()
			w.caseClause(c)
			w.endRegion(saved)
		} else {
			for d := w.first(c); d >= 0; d = w.next(d) {
				if w.isCode(d) && w.kind(d) == kCase {
					saved := w.beginRegion()
					w.caseClause(d)
					w.endRegion(saved)
				}
			}
		}
	}
}

func (w *walker) caseClause(i int32) {
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.fieldOf(c) {
		case fGuard:
			w.exprChildren(c)
		case fConsequence:
			w.stmt(c)
		default:
			w.pattern(c)
		}
	}
}

// pattern walks a match pattern: bare names capture (bind), dotted names
// and class names are values (read).
func (w *walker) pattern(i int32) {
	if !w.enter(i) {
		return
	}
	defer w.leave()
	switch w.kind(i) {
	case kIdentifier:
		w.bind(w.scope, i, uWrite, val{})
	case kDottedName:
		id := w.firstCode(i)
		if id < 0 {
			return
		}
		if w.nextCode(id) < 0 {
			w.bind(w.scope, id, uWrite, val{})
		} else {
			w.readName(id)
		}
	case kClassPattern:
		cls := w.firstCode(i)
		if cls >= 0 {
			if id := w.firstCode(cls); w.kind(cls) == kDottedName && id >= 0 {
				w.readName(id)
			} else {
				w.expr(cls)
			}
		}
		for c := w.nextCode(cls); c >= 0; c = w.nextCode(c) {
			w.pattern(c)
		}
	case kKeywordPattern:
		// name=pattern: the name is an attribute of the subject.
		k := w.firstCode(i)
		for c := w.nextCode(k); c >= 0; c = w.nextCode(c) {
			w.pattern(c)
		}
	case kDictPattern:
		for c := w.first(i); c >= 0; c = w.next(c) {
			if !w.isCode(c) {
				continue
			}
			if w.fieldOf(c) == fKey {
				if id := w.firstCode(c); w.kind(c) == kDottedName && id >= 0 {
					w.readName(id)
				}
				continue
			}
			w.pattern(c)
		}
	case kString, kConcatString, kError, kComment:
	default:
		for c := w.first(i); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				w.pattern(c)
			}
		}
	}
}

func (w *walker) declare(i int32, nonlocal bool) {
	s := w.scope
	if s.kind != scFunc && !(s.kind == scClass && !nonlocal) {
		return
	}
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) || w.kind(c) != kIdentifier {
			continue
		}
		if nonlocal {
			s.nonlocals.add(w.name(c))
		} else {
			s.globals.add(w.name(c))
		}
	}
}

func (w *walker) typeAlias(i int32) {
	name := w.firstCode(i)
	if name < 0 {
		return
	}
	for c := w.nextCode(name); c >= 0; c = w.nextCode(c) {
		w.expr(c)
	}
	if id := w.firstCode(name); id >= 0 && w.kind(id) == kIdentifier {
		w.bind(w.scope, id, uWrite, val{})
	} else if w.kind(name) == kIdentifier {
		w.bind(w.scope, name, uWrite, val{})
	}
}

func (w *walker) decorated(i int32) {
	def := w.child(i, fDefinition)
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) && w.kind(c) == kDecorator {
			w.decorator(c)
		}
	}
	switch {
	case def < 0:
	case w.kind(def) == kFuncDef:
		w.funcDef(def)
	case w.kind(def) == kClassDef:
		w.classDef(def)
	}
}

// decorator evaluates a decorator expression; applying it to the function
// calls it, which for a bare name is a call and for a.b a method call.
func (w *walker) decorator(i int32) {
	e := w.firstCode(i)
	if e < 0 {
		return
	}
	switch w.kind(e) {
	case kIdentifier:
		if w.n[e].start != w.n[e].stop {
			w.use(w.name(e), uCall, e, nil)
		}
	case kAttribute:
		attr := ""
		if a := w.child(e, fAttribute); a >= 0 {
			attr = w.text(a)
		}
		if root := w.chain(e); root >= 0 {
			w.use(w.name(root), w.methodUse(e, attr, -1), root, nil)
		}
	default:
		w.expr(e)
	}
}

// params walks a parameter list's defaults and annotations (evaluated
// where the function is defined) and returns the names it binds and the
// positional ones, in order.
func (w *walker) params(p int32) (all, positional []string) {
	if p < 0 {
		return nil, nil
	}
	kwOnly := false
	for c := w.first(p); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		var id int32 = -1
		switch w.kind(c) {
		case kIdentifier:
			id = c
		case kDefaultParam, kTypedDefaultParam:
			id = w.child(c, fName)
			w.expr(w.child(c, fType))
			w.expr(w.child(c, fValue))
		case kTypedParam:
			w.expr(w.child(c, fType))
			id = w.firstCode(c)
			if id >= 0 && w.kind(id) != kIdentifier {
				kwOnly = true
				id = w.firstCode(id)
			}
		case kListSplatPattern, kDictSplatPattern:
			kwOnly = true
			id = w.firstCode(c)
		case kKeywordSeparator:
			kwOnly = true
		}
		if id < 0 || w.kind(id) != kIdentifier || w.n[id].start == w.n[id].stop {
			continue
		}
		n := w.name(id)
		all = append(all, n)
		if !kwOnly {
			positional = append(positional, n)
		}
	}
	return all, positional
}

// funcDef handles a def (its decorators, if any, were already walked).
func (w *walker) funcDef(i int32) {
	nameNode := w.child(i, fName)
	all, positional := w.params(w.child(i, fParameters))
	w.expr(w.child(i, fReturnType))
	outer := w.scope
	top := outer.kind == scModule
	fb := outer.fb
	if top {
		fb = &funcBuilder{}
		if nameNode >= 0 {
			fb.name = w.name(nameNode)
		}
	}
	s := &scope{kind: scFunc, parent: outer, fb: fb, top: top, params: positional}
	if top {
		fb.paramNames = positional
	}
	method := !top && outer.kind == scClass && outer.parent != nil && outer.parent.kind == scModule && nameNode >= 0 && fb != nil
	if method && w.text(nameNode) == "__init__" {
		s.init = true
		if len(positional) > 0 {
			fb.paramNames = positional[1:]
		}
	}
	if method {
		// A method of a module-level class: its own summary, for calls
		// of it by name on any value (see graph.methodCall).
		s.mfb = &funcBuilder{name: w.name(nameNode)}
		if len(positional) > 0 {
			s.self = positional[0]
		}
	}
	for _, n := range all {
		s.names.add(n)
	}
	savedCond := w.cond
	w.scope, w.cond = s, false
	w.stmt(w.child(i, fBody))
	w.scope, w.cond = outer, savedCond
	w.closeFunc(s)
	if s.mfb != nil && !w.noBind && w.kind(nameNode) == kIdentifier {
		if fb.classMeths == nil {
			fb.classMeths = map[string]*funcBuilder{}
		}
		fb.classMeths[s.mfb.name] = s.mfb // the last definition wins
	}
	if nameNode < 0 || w.kind(nameNode) != kIdentifier {
		return
	}
	w.bind(outer, nameNode, uWrite, val{kind: valFunction})
	if top && !w.noBind {
		w.addFunc(fb)
		if w.gens == nil {
			w.gens = map[string]bool{}
		}
		w.gens[fb.name] = fb.generator
	}
}

func (w *walker) classDef(i int32) {
	nameNode := w.child(i, fName)
	w.expr(w.child(i, fSuperclasses))
	outer := w.scope
	top := outer.kind == scModule
	fb := outer.fb
	if top {
		fb = &funcBuilder{class: true}
		if nameNode >= 0 {
			fb.name = w.name(nameNode)
		}
	}
	s := &scope{kind: scClass, parent: outer, fb: fb}
	w.scope = s
	w.stmt(w.child(i, fBody))
	w.scope = outer
	if nameNode < 0 || w.kind(nameNode) != kIdentifier {
		return
	}
	w.bind(outer, nameNode, uWrite, val{kind: valClass})
	if top && !w.noBind {
		w.addFunc(fb)
		if w.gens != nil {
			delete(w.gens, fb.name)
		}
	}
}

func (w *walker) addFunc(fb *funcBuilder) {
	if fb.name == "" {
		return
	}
	if w.cf.Funcs == nil {
		w.cf.Funcs = map[string]*funcFacts{}
	}
	w.cf.Funcs[fb.name] = fb.build()
}

func (w *walker) lambda(i int32) {
	fb := w.lambdaFB
	w.lambdaFB = nil
	bound := fb != nil
	if fb == nil {
		fb = w.summary()
	}
	all, positional := w.params(w.child(i, fParameters))
	if bound {
		fb.paramNames = positional
	}
	s := &scope{kind: scLambda, parent: w.scope, fb: fb, deferred: bound}
	if p := w.scope; p.kind == scLambda || p.kind == scComp {
		// Inside the body of a bound lambda, nothing runs now either.
		for ; p != nil && (p.kind == scLambda || p.kind == scComp); p = p.parent {
			if p.deferred {
				s.deferred = true
				break
			}
		}
	}
	for _, n := range all {
		s.names.add(n)
	}
	outer, savedCond := w.scope, w.cond
	w.scope = s
	if w.funcScope() == nil {
		// At module level a lambda's free names count as reads now.
		w.cond = false
	}
	w.expr(w.child(i, fBody))
	w.scope, w.cond = outer, savedCond
}

// comprehension walks [body for x in it if c …] in evaluation order: the
// first iterable in the enclosing scope, the rest in the comprehension's
// own, where the loop variables live.
func (w *walker) comprehension(i int32) {
	var firstFor int32 = -1
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) && w.kind(c) == kForIn {
			firstFor = c
			break
		}
	}
	if firstFor >= 0 {
		w.expr(w.child(firstFor, fRight))
	}
	outer := w.scope
	w.scope = &scope{kind: scComp, parent: outer, fb: outer.fb}
	saved := w.beginRegion()
	n := len(w.aliases)
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kForIn:
			for d := w.first(c); d >= 0; d = w.next(d) {
				if w.isCode(d) && w.fieldOf(d) == fRight && c != firstFor {
					w.expr(d)
				}
			}
			left := w.child(c, fLeft)
			w.target(left, val{})
			w.aliases = w.loopAliases(left, w.child(c, fRight), w.aliases)
		case kIfClause:
			w.exprChildren(c)
		}
	}
	w.expr(w.child(i, fBody))
	w.aliases = w.aliases[:n]
	w.scope = outer
	w.endRegion(saved)
}

func (w *walker) importStmt(i int32) {
	var b strings.Builder
	var names []string
	star := false
	k := w.kind(i)
	if k == kImport {
		b.WriteString("import ")
	} else {
		b.WriteString("from ")
		if k == kFutureImport {
			b.WriteString("__future__")
		} else {
			w.moduleName(&b, w.child(i, fModuleName))
		}
		b.WriteString(" import ")
	}
	first := true
	for c := w.first(i); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		var bound int32 = -1
		switch {
		case w.kind(c) == kWildcardImport:
			star = true
			if !first {
				b.WriteString(", ")
			}
			b.WriteString("*")
			first = false
			continue
		case w.fieldOf(c) != fName:
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		switch w.kind(c) {
		case kAliasedImport:
			w.dotted(&b, w.child(c, fName))
			bound = w.child(c, fAlias)
			if bound >= 0 {
				b.WriteString(" as ")
				b.WriteString(w.text(bound))
			}
		case kDottedName:
			w.dotted(&b, c)
			bound = w.firstCode(c) // import a.b binds a
		}
		if bound >= 0 && w.kind(bound) == kIdentifier && w.n[bound].start != w.n[bound].stop {
			names = append(names, w.name(bound))
			w.bind(w.scope, bound, uWrite, val{kind: valModule})
		}
	}
	if star {
		w.dynamic(i)
	}
	if w.scope.kind != scModule || w.noBind || (len(names) == 0 && !star) {
		return
	}
	line, _ := w.pos(w.n[i].start)
	w.cf.Imports = append(w.cf.Imports, importStmt{Names: names, Star: star, Text: b.String(), Line: line, Cond: w.cond})
}

// dotted writes a dotted name without the spaces or comments the source
// may have between its parts.
func (w *walker) dotted(b *strings.Builder, i int32) {
	if i < 0 {
		return
	}
	if w.kind(i) == kIdentifier {
		b.WriteString(w.text(i))
		return
	}
	sep := false
	for c := w.first(i); c >= 0; c = w.next(c) {
		if w.isCode(c) && w.kind(c) == kIdentifier {
			if sep {
				b.WriteByte('.')
			}
			b.WriteString(w.text(c))
			sep = true
		}
	}
}

func (w *walker) moduleName(b *strings.Builder, i int32) {
	if i < 0 {
		return
	}
	if w.kind(i) != kRelativeImport {
		w.dotted(b, i)
		return
	}
	for c := w.first(i); c >= 0; c = w.next(c) {
		switch w.kind(c) {
		case kImportPrefix:
			b.WriteString(strings.Map(func(r rune) rune {
				if r == '.' {
					return r
				}
				return -1
			}, w.text(c)))
		case kDottedName:
			w.dotted(b, c)
		}
	}
}
