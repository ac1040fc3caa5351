package analyzer

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The fixtures under testdata/extract are Python files cut into cells by
// `# %%` lines (jupytext's percent format). Each cell states what the
// extractor must find, in comments on the lines concerned:
//
//	y = x + 1  # want: read x, write y
//
// lists the actions positioned on that line, in order; a line without a
// `want` must have none. An action is
//
//	KIND [NAME | "PATH"] [(ARG … KW=NAME …)] [<-FROM] [:VALUE] [?] [~] [@COL]
//
// (`# want@L: …` on another line, for a line that cannot hold a comment.)
// KIND is read, write, mutate, del, unbind, call, dynamic, fileread,
// filewrite or method (an actMethod, with the method's name for NAME); (ARGS) are a call's Args, _ for "", then its Kwargs; <-FROM
// is a write's From; VALUE is function, class, module, lambda, open, gen,
// lock or a quoted string (valString); ? marks Cond, ~ Soft; @COL checks
// the 1-based character column. Other directives:
//
//	# func NAME: args=p,q reads=a,b calls=… writes=… readwrites=… mutates=… params=0,1 files=w"p",rNAME class dynamic
//	# import NAME NAME: TEXT      (an import statement on this line; import? for Cond, import* for Star)
//	# problem SEVERITY CODE@[LINE:]COL: MESSAGE-SUBSTRING
//	# cell lang=LANG magic=NAME args=ARGS
//	# kernel LANG
//
// Funcs, Imports and Problems must be exactly the ones listed. Several
// directives on one line are separated by ";;".

var directiveRe = regexp.MustCompile(`#\s*(want(@\d+)?:|func |import[?*]* |problem |cell |kernel )`)

type fixtureCell struct {
	file, title string
	line        int // line of the file where the cell's source starts
	src         string
}

func readFixtureCells(t *testing.T, path string) []fixtureCell {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cells []fixtureCell
	var cur *fixtureCell
	var lines []string
	flush := func() {
		if cur != nil {
			cur.src = strings.Join(lines, "\n")
			cells = append(cells, *cur)
		}
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		if strings.HasPrefix(l, "# %%") {
			flush()
			cur = &fixtureCell{file: filepath.Base(path), title: strings.TrimSpace(strings.TrimPrefix(l, "# %%")), line: i + 2}
			lines = nil
			continue
		}
		if cur == nil {
			continue // the file's preamble
		}
		lines = append(lines, l)
	}
	flush()
	return cells
}

type cellWant struct {
	actions  map[int][]string // line → actions
	funcs    map[string]string
	imports  map[int]string
	problems []string
	lang     string
	magic    string
	args     string
	kernel   string
}

func parseWant(t *testing.T, c fixtureCell) cellWant {
	t.Helper()
	w := cellWant{actions: map[int][]string{}, funcs: map[string]string{}, imports: map[int]string{}, lang: "Python", kernel: "python"}
	for i, l := range strings.Split(c.src, "\n") {
		line := i + 1
		loc := directiveRe.FindStringIndex(l)
		if loc == nil {
			continue
		}
		body := strings.TrimSpace(l[loc[0]+1:])
		for _, d := range strings.Split(body, ";;") {
			d = strings.TrimSpace(d)
			switch {
			case strings.HasPrefix(d, "want"):
				// want@L: puts the actions on line L, for a line that
				// cannot carry a comment.
				head, list, _ := strings.Cut(d, ":")
				at := line
				if n, err := strconv.Atoi(strings.TrimPrefix(head, "want@")); err == nil {
					at = n
				}
				w.actions[at] = splitActions(strings.TrimSpace(list))
			case strings.HasPrefix(d, "func "):
				name, spec, ok := strings.Cut(strings.TrimPrefix(d, "func "), ":")
				if !ok {
					t.Fatalf("%s:%d: func directive without ':'", c.file, c.line+i)
				}
				w.funcs[strings.TrimSpace(name)] = normFuncSpec(spec)
			case strings.HasPrefix(d, "import"):
				head, text, ok := strings.Cut(d, ":")
				if !ok {
					t.Fatalf("%s:%d: import directive without ':'", c.file, c.line+i)
				}
				kw, names, _ := strings.Cut(head, " ")
				w.imports[line] = fmt.Sprintf("%s [%s] %s", kw, strings.Join(strings.Fields(names), " "), strings.TrimSpace(text))
			case strings.HasPrefix(d, "problem "):
				head, msg, _ := strings.Cut(strings.TrimPrefix(d, "problem "), ": ")
				f := strings.Fields(head)
				if len(f) != 2 {
					t.Fatalf("%s:%d: problem directive wants SEVERITY CODE@COL", c.file, c.line+i)
				}
				code, at, _ := strings.Cut(f[1], "@")
				if !strings.Contains(at, ":") {
					at = strconv.Itoa(line) + ":" + at
				}
				w.problems = append(w.problems, fmt.Sprintf("%s %s@%s: %s", f[0], code, at, strings.TrimSpace(msg)))
			case strings.HasPrefix(d, "cell "):
				for _, kv := range splitFields(strings.TrimPrefix(d, "cell ")) {
					k, v, _ := strings.Cut(kv, "=")
					if uq, err := strconv.Unquote(v); err == nil {
						v = uq
					}
					switch k {
					case "lang":
						w.lang = v
					case "magic":
						w.magic = v
					case "args":
						w.args = v
					}
				}
			case strings.HasPrefix(d, "kernel "):
				w.kernel = strings.TrimSpace(strings.TrimPrefix(d, "kernel "))
			}
		}
	}
	return w
}

// splitFields splits on spaces outside double quotes.
func splitFields(s string) []string {
	var out []string
	quoted, start := false, -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || (s[i] == ' ' && !quoted) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if s[i] == '"' {
			quoted = !quoted
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// splitActions splits on commas outside quotes and parentheses.
func splitActions(s string) []string {
	if s == "" || s == "-" {
		return nil
	}
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case '(':
			if !quoted {
				depth++
			}
		case ')':
			if !quoted {
				depth--
			}
		case ',':
			if !quoted && depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

var kindNames = map[actionKind]string{
	actRead: "read", actWrite: "write", actMutate: "mutate", actDel: "del", actUnbind: "unbind",
	actCall: "call", actDynamic: "dynamic", actFileRead: "fileread", actFileWrite: "filewrite",
	actMethod: "method",
}

var valueNames = map[valueKind]string{
	valModule: "module", valFunction: "function", valClass: "class", valLambda: "lambda",
	valOpenFile: "open", valGenerator: "gen", valLock: "lock",
}

// formatAction renders an action in the fixtures' notation.
func formatAction(a action, withCol bool) string {
	var b strings.Builder
	b.WriteString(kindNames[a.Kind])
	switch {
	case a.Path != "":
		b.WriteString(" " + strconv.Quote(a.Path))
	case a.Name != "":
		b.WriteString(" " + a.Name)
	case a.Kind == actMethod:
		b.WriteString(" " + a.Method)
	}
	if a.Kind == actCall && len(a.Args)+len(a.Kwargs) > 0 {
		var args []string
		for _, x := range a.Args {
			if x == "" {
				x = "_"
			}
			args = append(args, x)
		}
		var kws []string
		for k, v := range a.Kwargs {
			kws = append(kws, k+"="+v)
		}
		sort.Strings(kws)
		b.WriteString("(" + strings.Join(append(args, kws...), " ") + ")")
	}
	if a.From != "" {
		b.WriteString("<-" + a.From)
	}
	if a.Value == valString {
		b.WriteString(":" + strconv.Quote(a.Str))
	} else if v, ok := valueNames[a.Value]; ok {
		b.WriteString(":" + v)
	}
	if a.Cond {
		b.WriteString("?")
	}
	if a.Soft {
		b.WriteString("~")
	}
	if withCol {
		b.WriteString("@" + strconv.Itoa(a.Col))
	}
	return b.String()
}

func formatFunc(f *funcFacts) string {
	var parts []string
	add := func(k string, v []string) {
		if len(v) > 0 {
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
	}
	add("args", f.Params)
	add("reads", f.Reads)
	add("calls", f.Calls)
	add("writes", f.Writes)
	add("readwrites", f.ReadWrites)
	add("mutates", f.Mutates)
	var ps []string
	for _, p := range f.MutatesParams {
		ps = append(ps, strconv.Itoa(p))
	}
	add("params", ps)
	var files []string
	for _, a := range f.Files {
		k := "r"
		if a.Kind == actFileWrite {
			k = "w"
		}
		if a.Path != "" {
			files = append(files, k+strconv.Quote(a.Path))
		} else {
			files = append(files, k+a.Name)
		}
	}
	add("files", files)
	if f.Class {
		parts = append(parts, "class")
	}
	if f.Dynamic {
		parts = append(parts, "dynamic")
	}
	return strings.Join(parts, " ")
}

// normFuncSpec orders a func directive's fields as formatFunc does.
func normFuncSpec(spec string) string {
	order := []string{"args", "reads", "calls", "writes", "readwrites", "mutates", "params", "files", "class", "dynamic"}
	fields := strings.Fields(spec)
	sort.SliceStable(fields, func(i, j int) bool {
		ki, _, _ := strings.Cut(fields[i], "=")
		kj, _, _ := strings.Cut(fields[j], "=")
		return slices.Index(order, ki) < slices.Index(order, kj)
	})
	return strings.Join(fields, " ")
}

func checkCell(t *testing.T, c fixtureCell, cf *cellFacts) {
	t.Helper()
	want := parseWant(t, c)
	if cf.Lang != want.lang || cf.CellMagic != want.magic || (want.args != "" && cf.CellMagicArgs != want.args) {
		t.Errorf("cell: lang=%q magic=%q args=%q, want lang=%q magic=%q args=%q", cf.Lang, cf.CellMagic, cf.CellMagicArgs, want.lang, want.magic, want.args)
	}
	got := map[int][]action{}
	for _, a := range cf.Actions {
		got[a.Line] = append(got[a.Line], a)
	}
	var lines []int
	for l := range got {
		lines = append(lines, l)
	}
	for l := range want.actions {
		if _, ok := got[l]; !ok {
			lines = append(lines, l)
		}
	}
	sort.Ints(lines)
	srcLines := strings.Split(c.src, "\n")
	for _, l := range lines {
		w := want.actions[l]
		g := got[l]
		ok := len(g) == len(w)
		var rendered []string
		for i, a := range g {
			withCol := i < len(w) && strings.Contains(w[i], "@")
			s := formatAction(a, withCol)
			rendered = append(rendered, s)
			if i < len(w) && s != w[i] {
				ok = false
			}
		}
		if !ok {
			src := ""
			if l-1 < len(srcLines) && l > 0 {
				src = strings.TrimSpace(srcLines[l-1])
			}
			t.Errorf("%s:%d (cell line %d) %q:\n  got:  %s\n  want: %s", c.file, c.line+l-1, l, src, strings.Join(rendered, ", "), strings.Join(w, ", "))
		}
	}

	gotFuncs := map[string]string{}
	for n, f := range cf.Funcs {
		gotFuncs[n] = formatFunc(f)
		if f.Name != n {
			t.Errorf("Funcs[%q].Name = %q", n, f.Name)
		}
	}
	if !reflect.DeepEqual(gotFuncs, want.funcs) {
		t.Errorf("%s:%d: funcs:\n  got:  %v\n  want: %v", c.file, c.line, gotFuncs, want.funcs)
	}

	gotImports := map[int]string{}
	for _, imp := range cf.Imports {
		kw := "import"
		if imp.Cond {
			kw += "?"
		}
		if imp.Star {
			kw += "*"
		}
		if _, dup := gotImports[imp.Line]; dup {
			t.Errorf("%s: two imports on cell line %d", c.file, imp.Line)
		}
		gotImports[imp.Line] = fmt.Sprintf("%s [%s] %s", kw, strings.Join(imp.Names, " "), imp.Text)
	}
	if !reflect.DeepEqual(gotImports, want.imports) {
		t.Errorf("%s:%d: imports:\n  got:  %v\n  want: %v", c.file, c.line, gotImports, want.imports)
	}

	var gotProblems []string
	for _, p := range cf.Problems {
		gotProblems = append(gotProblems, fmt.Sprintf("%s %s@%d:%d: %s", p.Severity, p.Code, p.Line, p.Col, p.Message))
	}
	matched := make([]bool, len(gotProblems))
	for _, wp := range want.problems {
		head, msg, _ := strings.Cut(wp, ": ")
		found := false
		for i, gp := range gotProblems {
			gh, gm, _ := strings.Cut(gp, ": ")
			if !matched[i] && gh == head && strings.Contains(gm, msg) {
				matched[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("%s:%d: missing problem %q; got %q", c.file, c.line, wp, gotProblems)
		}
	}
	for i, gp := range gotProblems {
		if !matched[i] {
			t.Errorf("%s:%d: unexpected problem %q", c.file, c.line, gp)
		}
	}
}

// TestExtractFixtures runs every cell of testdata/extract/*.py.
func TestExtractFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "extract", "*.py"))
	if len(files) == 0 {
		t.Fatal("no fixtures under testdata/extract")
	}
	e := newExtractor()
	defer e.close()
	for _, f := range files {
		for _, c := range readFixtureCells(t, f) {
			t.Run(strings.TrimSuffix(c.file, ".py")+"/"+c.title, func(t *testing.T) {
				want := parseWant(t, c)
				checkCell(t, c, e.extractCell(c.src, want.kernel))
			})
		}
	}
}
