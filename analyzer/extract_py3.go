package analyzer

import "strings"

// Tree-sitter's Python grammar also accepts Python 2 (print and exec
// statements, backquotes, `<>`, `ur''`, 0777, 10L, tuple parameters,
// `raise E, v`) and does not check where a statement may stand (return
// outside a function, break outside a loop). CPython 3, which runs the
// steps, refuses such a cell before running any of it (print >>f, x
// alone compiles, and raises TypeError whenever it runs), so each is a
// syntax-error here, at the offending line, rather than a failure found
// only when the step runs.

// py3Syntax reports what the grammar accepts but CPython 3 does not
// compile.
func (w *walker) py3Syntax() {
	for i := range w.n {
		nd := &w.n[i]
		if nd.flags&flagExtra != 0 {
			continue
		}
		if msg := w.py3Problem(int32(i)); msg != "" {
			w.syntaxError(nd.start, func() string { return msg })
		}
	}
}

// py3Problem says what is wrong with node i for Python 3, "" if nothing.
func (w *walker) py3Problem(i int32) string {
	switch w.kind(i) {
	case kPrintStmt:
		if c := w.firstCode(i); c >= 0 && w.t.name(w.n[c].sym) == "chevron" {
			// Python 3 parses print >>f, x as a tuple whose first item
			// shifts the print function: the line always raises.
			return "print >>file (Python 2): Python 3 raises TypeError here; call print(..., file=...) instead"
		}
		return "print statement (Python 2): call print(...) instead"
	case kExecStmt:
		return "exec statement (Python 2): call exec(...) instead"
	case kLtGt:
		return "`<>` (Python 2): write != instead"
	case kStringStart:
		return stringPrefixProblem(w.text(i))
	case kInteger:
		return integerProblem(w.text(i))
	case kRaise:
		if c := w.firstCode(i); c >= 0 && w.kind(c) == kExprList {
			return "`raise E, value` (Python 2): write raise E(value) instead"
		}
	case kTuplePattern:
		if p := w.n[i].parent; p >= 0 && (w.kind(p) == kParameters || w.kind(p) == kLambdaParams) {
			return "tuple parameter (Python 2): take one parameter and unpack it in the body"
		}
	case kReturn:
		if !w.inFunction(i, false) {
			return "'return' outside function"
		}
	case kYield:
		if !w.inFunction(i, true) {
			return "'yield' outside function"
		}
	case kBreak:
		if !w.inLoop(i) {
			return "'break' outside loop"
		}
	case kContinue:
		if !w.inLoop(i) {
			return "'continue' not properly in loop"
		}
	case kNonlocal:
		// A class body inside a def may say nonlocal too.
		for p := w.n[i].parent; p >= 0; p = w.n[p].parent {
			if w.kind(p) == kFuncDef {
				return ""
			}
		}
		return "nonlocal declaration not allowed at module level"
	case kWildcardImport:
		for p := w.n[i].parent; p >= 0; p = w.n[p].parent {
			if k := w.kind(p); k == kFuncDef || k == kClassDef {
				return "import * only allowed at module level"
			}
		}
	}
	return ""
}

// inFunction reports whether node i is inside a def (or, with lambdas,
// a lambda) rather than at module level or directly in a class body.
func (w *walker) inFunction(i int32, lambdas bool) bool {
	for p := w.n[i].parent; p >= 0; p = w.n[p].parent {
		switch w.kind(p) {
		case kFuncDef:
			return true
		case kLambda:
			if lambdas {
				return true
			}
		case kClassDef:
			return false
		}
	}
	return false
}

// inLoop reports whether node i is in the body of a for or while loop,
// with no def or class in between (a loop's else clause is not its body).
func (w *walker) inLoop(i int32) bool {
	c := i
	for p := w.n[i].parent; p >= 0; c, p = p, w.n[p].parent {
		switch w.kind(p) {
		case kFor, kWhile:
			if w.fieldOf(c) == fBody {
				return true
			}
		case kFuncDef, kClassDef, kLambda:
			return false
		}
	}
	return false
}

// stringPrefixProblem checks the opening of a string literal: its prefix
// letters must be a combination Python 3 knows.
func stringPrefixProblem(start string) string {
	if strings.HasPrefix(start, "`") {
		return "backquotes (Python 2): call repr(...) instead"
	}
	q := strings.IndexAny(start, `'"`)
	if q <= 0 {
		return ""
	}
	switch p := strings.ToLower(start[:q]); p {
	case "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt":
		return ""
	case "ur", "ru":
		return "string prefix " + start[:q] + " (Python 2): write r'' instead"
	}
	return "string prefix " + start[:q] + " is not Python 3"
}

// integerProblem checks an integer literal for Python 2 forms: a long
// suffix (10L) or an octal with a bare leading zero (0777).
func integerProblem(lit string) string {
	s := strings.ReplaceAll(lit, "_", "")
	if s == "" {
		return ""
	}
	switch s[len(s)-1] {
	case 'l', 'L':
		return "long integer suffix (Python 2): write " + strings.TrimRight(lit, "lL") + " instead"
	case 'j', 'J':
		return "" // an imaginary literal may have leading zeros
	}
	if len(s) < 2 || s[0] != '0' || s[1] < '0' || s[1] > '9' {
		return ""
	}
	if strings.Trim(s, "0") == "" {
		return "" // 00 is zero
	}
	return "octal literal (Python 2): write 0o" + strings.TrimLeft(s, "0") + " instead, or drop the leading zero"
}
