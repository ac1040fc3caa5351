package analyzer

import "slices"

// Aliasing the extractor can see in one cell: a loop target bound to the
// elements of a value (for clf in classifiers), so that changing the
// target changes that value; the plain names a list, tuple, set or dict
// display holds (combine = [train, test]), for the graph's alias groups;
// and the methods called by name, for the graph to apply the notebook
// classes' methods of that name.

// loopAlias is a loop target, in the body of its loop, bound to the
// elements of each of srcs (or to srcs' values themselves, for a loop
// over a display of names).
type loopAlias struct {
	name  string
	scope *scope // where the target is bound
	srcs  []aliasRef
	dead  bool // the target was rebound in the body: it no longer holds an element
}

// loopAliases adds the aliases that the target t of a loop over iterable
// it makes: for t in x (x a name, or an attribute or subscript chain
// from one: its root), for t in [a, b] (t is a, then b), for k, t in
// x.items(), for t in x.values(), for i, t in enumerate(x), for a, b in
// zip(x, y), for t in reversed(x). Other iterables (a call, such as
// df.iterrows() or range(n), a comprehension) make none: their elements
// are new values, or unknown.
func (w *walker) loopAliases(t, it int32, out []loopAlias) []loopAlias {
	t, it = w.unparen(t), w.unparen(it)
	if t < 0 || it < 0 {
		return out
	}
	if w.kind(it) != kCall {
		return w.aliasTarget(t, w.elementsOf(it), out)
	}
	fn, args := w.child(it, fFunction), w.child(it, fArguments)
	switch {
	case fn < 0:
	case w.kind(fn) == kIdentifier:
		switch w.text(fn) {
		case "enumerate":
			if parts := w.targetParts(t); len(parts) == 2 {
				return w.loopAliases(parts[1], w.argAt(args, 0, "iterable"), out)
			}
		case "zip":
			if parts := w.targetParts(t); len(parts) > 0 && w.positionalCount(args) == len(parts) {
				for k, p := range parts {
					out = w.loopAliases(p, w.argAt(args, k), out)
				}
			}
		case "reversed":
			return w.loopAliases(t, w.argAt(args, 0), out)
		}
	case w.kind(fn) == kAttribute && !w.hasArgs(args):
		a := w.child(fn, fAttribute)
		if a < 0 {
			break
		}
		switch w.text(a) {
		case "values":
			return w.aliasTarget(t, w.elementsOf(w.child(fn, fObject)), out)
		case "items":
			if parts := w.targetParts(t); len(parts) == 2 {
				return w.aliasTarget(parts[1], w.elementsOf(w.child(fn, fObject)), out)
			}
		}
	}
	return out
}

// targetParts returns the parts of an unpacking target (k, v), nil for
// another target or one with a starred part.
func (w *walker) targetParts(t int32) []int32 {
	switch w.kind(t) {
	case kPatternList, kTuplePattern, kListPattern, kTuple, kList, kExprList:
	default:
		return nil
	}
	var parts []int32
	for c := w.first(t); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kListSplatPattern, kListSplat, kError:
			return nil
		}
		parts = append(parts, c)
	}
	return parts
}

// elementsOf says what the elements of iterable x are: those of the name
// a chain starts from (Elem), or, for a display, the plain names it holds
// (and the roots of the chains it holds, Elem).
func (w *walker) elementsOf(x int32) []aliasRef {
	x = w.unparen(x)
	if x < 0 {
		return nil
	}
	switch w.kind(x) {
	case kIdentifier, kAttribute, kSubscript:
		if r := w.rootName(x); r >= 0 {
			return []aliasRef{{w.name(r), true}}
		}
	case kList, kTuple, kSet:
		var out []aliasRef
		for c := w.first(x); c >= 0; c = w.next(c) {
			if !w.isCode(c) {
				continue
			}
			c = w.unparen(c)
			elem := w.kind(c) != kIdentifier
			if w.kind(c) == kListSplat {
				c = w.unparen(w.firstCode(c))
			}
			if r := w.rootName(c); r >= 0 {
				out = append(out, aliasRef{w.name(r), elem})
			}
		}
		return out
	}
	return nil
}

// aliasTarget records that target t holds an element of srcs: a name
// aliases them; each part of an unpacking target (a, b) holds a value
// inside such an element.
func (w *walker) aliasTarget(t int32, srcs []aliasRef, out []loopAlias) []loopAlias {
	if len(srcs) == 0 || t < 0 {
		return out
	}
	t = w.unparen(t)
	if w.kind(t) == kIdentifier {
		if w.n[t].start == w.n[t].stop {
			return out
		}
		name := w.name(t)
		var keep []aliasRef
		for _, s := range srcs {
			if s.Name != name {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			return out
		}
		return append(out, loopAlias{name: name, scope: w.scope, srcs: keep})
	}
	parts := w.targetParts(t)
	if parts == nil {
		return out
	}
	inner := make([]aliasRef, len(srcs))
	for k, s := range srcs {
		inner[k] = aliasRef{s.Name, true}
	}
	for _, p := range parts {
		out = w.aliasTarget(p, inner, out)
	}
	return out
}

// aliasOf returns the live loop alias that name, used by the code being
// walked, is: the target of an enclosing loop, not rebound since, seen
// from the loop's own scope or a comprehension in it that does not bind
// the name (a def, lambda or class body in the loop runs later, or
// elsewhere).
func (w *walker) aliasOf(name string) *loopAlias {
	for j := len(w.aliases) - 1; j >= 0; j-- {
		al := &w.aliases[j]
		if al.name != name {
			continue
		}
		if al.dead {
			return nil
		}
		for s := w.scope; s != al.scope; s = s.parent {
			if s == nil || s.kind != scComp || s.names.has(name) {
				return nil
			}
		}
		return al
	}
	return nil
}

// useWith records a use made by a call of method (action.Method), weak
// when it is x.m(…) with a method not known to change x (a mutation of
// x, but no known one: it is not passed on to the values a loop target
// walks, and a method doing it to self is no known change of self).
func (w *walker) useWith(name string, k useKind, at int32, method string, weak bool) {
	w.useMethod, w.useWeak = method, weak
	w.use(name, k, at, nil)
	w.useMethod, w.useWeak = "", false
}

// change records a use of the name identifier root stands for by a store
// into it, a change known to happen (k uMutate, not weak) or a method
// call (method), and passes it on when the name is a loop target: a
// known change of the target changes each value whose elements it walks,
// and a method call on it is, for those values, a call on a value inside
// them (a read, which a notebook method changing its object makes a
// change; see graph.methodCall). For a loop over a display of names (for
// df in [a, b]), the target is each of those values: what it does, they
// do.
func (w *walker) change(root int32, k useKind, method string, weak bool) {
	name := w.name(root)
	w.useWith(name, k, root, method, weak)
	al := w.aliasOf(name)
	if al == nil {
		return
	}
	for _, src := range al.srcs {
		switch {
		case !src.Elem:
			w.useWith(src.Name, k, root, method, weak)
		case k == uMutate && !weak:
			w.useWith(src.Name, uMutate, root, method, false)
		case method != "":
			w.useWith(src.Name, uRead, root, method, false)
		}
	}
}

// argAliases maps the arguments of a module-level call that are live
// loop targets to what they alias; nil when none is.
func (w *walker) argAliases(info *callInfo) map[string][]aliasRef {
	if len(w.aliases) == 0 {
		return nil
	}
	var out map[string][]aliasRef
	add := func(n string) {
		if n == "" {
			return
		}
		if al := w.aliasOf(n); al != nil {
			if out == nil {
				out = map[string][]aliasRef{}
			}
			out[n] = al.srcs
		}
	}
	for _, n := range info.args {
		add(n)
	}
	for _, n := range info.kwargs {
		add(n)
	}
	return out
}

// methodCalled records that the code being walked calls a method named
// m: in a function or a lambda bound to a name, for its summary
// (funcFacts.MethodCalls); in code that runs now, as an actMethod unless
// the receiver is a module-level name whose own action carries Method
// (named; a lambda's uses carry none).
func (w *walker) methodCalled(m string, at int32, named bool) {
	inLambda := false
	for s := w.scope; s != nil; s = s.parent {
		switch s.kind {
		case scFunc:
			s.pending = append(s.pending, pendingUse{kind: uMethodCall, method: m})
			return
		case scLambda:
			if w.funcScope() != nil {
				continue // the enclosing function's summary records it
			}
			if s.fb != nil {
				s.fb.record(pendingUse{kind: uMethodCall, method: m})
			}
			if s.deferred {
				return
			}
			inLambda = true
		}
	}
	if !named || inLambda {
		w.emit(action{Kind: actMethod, Method: m, Cond: w.cond}, at)
	}
}

// displayMembers returns the plain module-level names a list, tuple or
// set display holds as elements, or a dict display as values, in order.
func (w *walker) displayMembers(v int32) []string {
	var out []string
	add := func(c int32) {
		c = w.unparen(c)
		if c < 0 || w.kind(c) != kIdentifier || w.n[c].start == w.n[c].stop {
			return
		}
		if t := w.text(c); isPythonKeyword(t) || !w.isModuleName(t) {
			return
		}
		if n := w.name(c); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	dict := w.kind(v) == kDict
	for c := w.first(v); c >= 0; c = w.next(c) {
		switch {
		case !w.isCode(c):
		case dict && w.kind(c) == kPair:
			add(w.child(c, fValue))
		case !dict:
			add(c)
		}
	}
	return out
}
