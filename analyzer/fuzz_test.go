package analyzer

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract feeds arbitrary cell sources to the extractor (without the
// recover that extract adds) and checks what must hold for any input: no
// panic, the IPython rewrite keeps the lines, every position lies in the
// source, names are present where the kind needs one, summaries are
// sorted, and extraction is deterministic.
func FuzzExtract(f *testing.F) {
	for _, s := range corpusCells(f) {
		f.Add(s)
	}
	for _, s := range []string{
		"!ls {x}\nx = !echo {y} \\\n  more\n%time z = x\n%timeit -n 3 w = z\nobj??\n",
		"%%capture out\nprint(1)\n", "%%writefile 'a b.py'\nx\n", "%%bash\nls\n",
		"  >>> x = 1\n  ... y\n", "In [1]: a = 1\n   ...: b = a\n",
		"match x:\n    case {'k': v, **r} if v: pass\n", "def f(a, /, b, *, c): global g; g += a\n",
		"x = (1 +\n", "é = f'{ü!r:>{w}}'\n", "class C:\n    def __init__(self, d): d.x = 1\n",
		"with (open('a') as f, open('b', 'w') as g): pass\n", "del a[b], c.d, (e, f)\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e := newExtractor()
		defer e.close()
		cf := e.extractCell(src, "python")
		checkFacts(t, src, cf)
		if again := e.extractCell(src, "python"); !reflect.DeepEqual(cf, again) {
			t.Fatalf("extraction is not deterministic:\n%+v\n%+v", cf, again)
		}
		if rw := rewriteIPython(src); strings.Count(rw.text, "\n") != strings.Count(src, "\n") || strings.Count(rw.t.Python, "\n") != strings.Count(src, "\n") {
			t.Fatalf("translation changed the line count: %q / %q", rw.text, rw.t.Python)
		}
	})
}

func checkFacts(t *testing.T, src string, cf *cellFacts) {
	t.Helper()
	lines := strings.Split(src, "\n")
	inSource := func(what string, line, col int) {
		if line < 1 || line > len(lines) {
			t.Fatalf("%s: line %d outside 1..%d", what, line, len(lines))
		}
		if n := utf8.RuneCountInString(lines[line-1]); col < 1 || col > n+1 {
			t.Fatalf("%s: col %d outside 1..%d of line %d %q", what, col, n+1, line, lines[line-1])
		}
	}
	for _, a := range cf.Actions {
		inSource(formatAction(a, true), a.Line, a.Col)
		switch a.Kind {
		case actRead, actWrite, actMutate, actDel, actUnbind, actCall:
			if a.Name == "" || a.Path != "" {
				t.Fatalf("%+v: a name is needed", a)
			}
		case actFileRead, actFileWrite:
			if (a.Name == "") == (a.Path == "") {
				t.Fatalf("%+v: a file action needs a name or a path", a)
			}
		case actMethod:
			if a.Method == "" || a.Name != "" {
				t.Fatalf("%+v: a method call needs the method's name only", a)
			}
		case actDynamic:
		default:
			t.Fatalf("%+v: unknown kind", a)
		}
		if a.Value != valOther && a.Kind != actWrite {
			t.Fatalf("%+v: a value on a non-write", a)
		}
	}
	for _, p := range cf.Problems {
		inSource(p.Code, p.Line, p.Col)
		if p.Severity != "error" && p.Severity != "warning" && p.Severity != "info" {
			t.Fatalf("%+v: bad severity", p)
		}
	}
	for _, imp := range cf.Imports {
		if imp.Line < 1 || imp.Line > len(lines) || imp.Text == "" {
			t.Fatalf("bad import %+v", imp)
		}
	}
	for name, fn := range cf.Funcs {
		if fn.Name != name {
			t.Fatalf("Funcs[%q].Name = %q", name, fn.Name)
		}
		for _, s := range [][]string{fn.Reads, fn.Calls, fn.Writes, fn.ReadWrites, fn.Mutates, fn.MethodCalls, fn.SelfCalls} {
			if !slices.IsSorted(s) || len(slices.Compact(slices.Clone(s))) != len(s) {
				t.Fatalf("%s: unsorted or repeated names %q", name, s)
			}
		}
		for _, a := range fn.Files {
			if (a.Name == "") == (a.Path == "") || (a.Kind != actFileRead && a.Kind != actFileWrite) {
				t.Fatalf("%s: bad file action %+v", name, a)
			}
		}
		for _, c := range fn.Calls {
			if !slices.Contains(fn.Reads, c) {
				t.Fatalf("%s: call %q not among reads", name, c)
			}
		}
	}
}
