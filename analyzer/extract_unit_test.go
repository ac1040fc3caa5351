package analyzer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/python"

	"github.com/datainsight/datainsight/internal/nbtest"
)

// corpusCells returns the code cells of the flow fixtures and of the
// extractor's fixtures: inputs for the cross-checks and the fuzzer.
func corpusCells(tb testing.TB) []string {
	tb.Helper()
	var srcs []string
	flows, _ := filepath.Glob(filepath.Join("testdata", "flow", "*.py"))
	if len(flows) == 0 {
		tb.Fatal("no flow fixtures")
	}
	for _, f := range flows {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		_, cells, err := nbtest.Parse(string(raw))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		for _, c := range cells {
			if c.Type == "code" {
				srcs = append(srcs, c.Source)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "extract", "*.py"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, cell := range strings.Split(string(raw), "\n# %%") {
			if _, body, ok := strings.Cut(cell, "\n"); ok {
				srcs = append(srcs, body)
			}
		}
	}
	return srcs
}

// TestFlatTreeMatchesBinding checks the hand-declared C API and the flat
// copy against go-tree-sitter's own Go API on the same sources: same
// nodes in the same order, with the same types, fields, ranges, parents
// and MISSING flags.
func TestFlatTreeMatchesBinding(t *testing.T) {
	srcs := append(corpusCells(t), "", "x = (1 +\n", "def f(:\n  return", "é = 'ü'\n", strings.Repeat("(", 300))
	p := newTSParser()
	defer p.close()
	sp := sitter.NewParser()
	defer sp.Close()
	sp.SetLanguage(python.GetLanguage())
	tab := symbols()
	total := 0
	for _, src := range srcs {
		nodes, ok := p.parse(src, nil)
		if !ok {
			t.Fatalf("parse failed for %q", src)
		}
		tree, err := sp.ParseCtx(context.Background(), nil, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		c := sitter.NewTreeCursor(tree.RootNode())
		var parents []int
		i := 0
		for {
			n := c.CurrentNode()
			if i >= len(nodes) {
				t.Fatalf("%q: flat tree has %d nodes, the binding more", src, len(nodes))
			}
			got := nodes[i]
			parent := int32(-1)
			if len(parents) > 0 {
				parent = int32(parents[len(parents)-1])
			}
			fieldName := ""
			if int(got.field) < len(tab.fieldNames) {
				fieldName = tab.fieldNames[got.field]
			}
			wantField := c.CurrentFieldName()
			if tab.name(got.sym) != n.Type() || fieldName != wantField ||
				got.start != n.StartByte() || got.stop != n.EndByte() || got.parent != parent ||
				(got.flags&flagMissing != 0) != n.IsMissing() {
				t.Fatalf("%q node %d: flat {%s field=%q %d-%d parent=%d missing=%v}, binding {%s field=%q %d-%d parent=%d missing=%v}",
					src, i, tab.name(got.sym), fieldName, got.start, got.stop, got.parent, got.flags&flagMissing != 0,
					n.Type(), wantField, n.StartByte(), n.EndByte(), parent, n.IsMissing())
			}
			if c.GoToFirstChild() {
				parents = append(parents, i)
				i++
				continue
			}
			i++
			for !c.GoToNextSibling() {
				if !c.GoToParent() {
					goto done
				}
				parents = parents[:len(parents)-1]
			}
		}
	done:
		c.Close()
		tree.Close()
		if i != len(nodes) {
			t.Fatalf("%q: flat tree has %d nodes, the binding %d", src, len(nodes), i)
		}
		// next and end links agree with the parents.
		for j := range nodes {
			if e := nodes[j].end; e <= int32(j) || int(e) > len(nodes) {
				t.Fatalf("%q node %d: end %d out of range", src, j, e)
			}
			for k := int32(j) + 1; k < nodes[j].end; k++ {
				if nodes[k].parent < int32(j) {
					t.Fatalf("%q node %d: node %d inside its subtree has parent %d", src, j, k, nodes[k].parent)
				}
			}
			if nx := nodes[j].next; nx >= 0 && (nodes[nx].parent != nodes[j].parent || nx != nodes[j].end) {
				t.Fatalf("%q node %d: next %d is no sibling", src, j, nx)
			}
		}
		total += len(nodes)
	}
	if total < 1000 {
		t.Fatalf("only %d nodes compared", total)
	}
}

// TestParseGrowsBuffer walks into a buffer too small for the tree.
func TestParseGrowsBuffer(t *testing.T) {
	p := newTSParser()
	defer p.close()
	src := strings.Repeat("x = [a, b, c]\n", 200)
	big, ok := p.parse(src, nil)
	if !ok {
		t.Fatal("parse failed")
	}
	small, ok := p.parse(src, make([]tnode, 0, 7))
	if !ok || !reflect.DeepEqual(big, small) {
		t.Fatalf("walk with a small buffer differs: %d vs %d nodes", len(small), len(big))
	}
}

func render(cf *cellFacts) []string {
	var out []string
	for _, a := range cf.Actions {
		out = append(out, fmt.Sprintf("%d:%s", a.Line, formatAction(a, false)))
	}
	return out
}

// TestActionOrder checks whole action sequences where order across lines
// matters to the graph.
func TestActionOrder(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{"try:\n    f()\nexcept E as e:\n    print(e)\nprint(e)\n",
			[]string{"2:call f?", "3:read E?", "3:write e?", "4:read e?", "4:call print(e)?", "3:unbind e?", "5:read e", "5:call print(e)"}},
		{"for x in xs:\n    total += x\n", []string{"1:read xs", "1:write x?", "2:read x?", "2:mutate total?"}},
		{"x = [y for y in ys]\ny\n", []string{"1:read ys", "1:write x", "2:read y"}},
		{"@d\nclass C(B):\n    a = b\n", []string{"1:call d", "2:read B", "3:read b", "2:write C:class"}},
		{"def f(a=x):\n    return y\nf(z)\n", []string{"1:read x", "1:write f:function", "3:read z", "3:call f(z)"}},
		{"%%capture cap\nx = 1\n", []string{"2:write x", "1:write cap"}},
		{"with open('a') as f, open('b', 'w') as g:\n    g.write(f.read())\n",
			[]string{"1:call open(_)", "1:fileread \"a\"", "1:write f", "1:call open(_ _)", "1:filewrite \"b\"", "1:write g", "2:mutate f?", "2:mutate g?"}},
	}
	e := newExtractor()
	defer e.close()
	for _, c := range cases {
		got := render(e.extractCell(c.src, "python"))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got  %q\n want %q", c.src, got, c.want)
		}
	}
}

func TestCellLanguage(t *testing.T) {
	cases := []struct {
		src, kernel       string
		lang, magic, args string
	}{
		{"x = 1", "python", "Python", "", ""},
		{"x = 1", "", "Python", "", ""},
		{"x = 1", "python3", "Python", "", ""},
		{"x <- 1", "R", "R", "", ""},
		{"x <- 1", "r", "R", "", ""},
		{"%%bash\nls", "julia", "Julia", "", ""},
		{"%%bash\nls", "python", "Shell", "bash", ""},
		{"%%sh -e\nls", "python", "Shell", "sh", "-e"},
		{"%%sql sqlite://\nselect 1", "python", "SQL", "sql", "sqlite://"},
		{"%%R -i df\nsummary(df)", "python", "R", "R", ""},
		{"%%writefile a.py\nx = 1", "python", "Text", "writefile", "a.py"},
		{"%%html\n<b/>", "python", "HTML", "html", ""},
		{"%%javascript\n1", "python", "JavaScript", "javascript", ""},
		{"%%js\n1", "python", "JavaScript", "js", ""},
		{"%%latex\nx", "python", "TeX", "latex", ""},
		{"%%script bash\nls", "python", "Shell", "script", "bash"},
		{"%%script /usr/bin/perl\n1", "python", "Perl", "script", "/usr/bin/perl"},
		{"%%capture out\nx = 1", "python", "Python", "capture", "out"},
		{"%%time\nx = 1", "python", "Python", "time", ""},
		{"%%cython\ncdef int x", "python", "Cython", "cython", ""},
		{"%%nosuch\nx", "python", "Text", "nosuch", ""},
		{"\n\n  %%bash  \n  ls", "python", "Shell", "bash", ""},
		{"x = 1\n%%bash", "python", "Python", "", ""},
		{"%%\nx", "python", "Python", "", ""},
		// Content never decides: this looks like shell but is Python.
		{"echo = 1\nls = echo", "python", "Python", "", ""},
	}
	for _, c := range cases {
		lang, magic, args := cellLanguage(c.src, c.kernel)
		if lang != c.lang || magic != c.magic || (c.args != "" && args != c.args) {
			t.Errorf("cellLanguage(%q, %q) = %q, %q, %q; want %q, %q, %q", c.src, c.kernel, lang, magic, args, c.lang, c.magic, c.args)
		}
	}
}

// TestExtractAll checks that parallel extraction gives what sequential
// extraction does, for every worker count.
func TestExtractAll(t *testing.T) {
	srcs := corpusCells(t)
	e := newExtractor()
	var want []*cellFacts
	for _, s := range srcs {
		want = append(want, e.extract(s, "python"))
	}
	e.close()
	for _, workers := range []int{0, 1, 3, 64} {
		got := extractAll(srcs, "python", workers)
		if !reflect.DeepEqual(got, want) {
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("workers=%d: cell %d differs:\n%+v\n%+v", workers, i, got[i], want[i])
				}
			}
			t.Fatalf("workers=%d: results differ", workers)
		}
	}
	if got := extractAll(nil, "python", 0); len(got) != 0 {
		t.Fatalf("extractAll(nil) = %v", got)
	}
}

func TestExtractEdgeCases(t *testing.T) {
	e := newExtractor()
	for _, src := range []string{"", "\n\n", "# only a comment", "   ", "\t\n", "\x00", "\xff\xfe", "x = 1\r\ny = x\r\n"} {
		cf := e.extract(src, "python")
		for _, p := range cf.Problems {
			if p.Code == "internal-error" {
				t.Errorf("%q: %v", src, p)
			}
		}
	}
	got := render(e.extract("x = 1\r\ny = x\r\n", "python"))
	if want := []string{"1:write x", "2:read x", "2:write y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CRLF: got %q, want %q", got, want)
	}

	// Columns on a long non-ASCII line (counted from a table) match
	// counting characters directly.
	line := `x = "` + strings.Repeat("é", 300) + `"`
	for i := range 40 {
		line += fmt.Sprintf("; a%d = b%d", i, i)
	}
	cf0 := e.extract(line, "python")
	if len(cf0.Actions) != 81 {
		t.Fatalf("long line: %d actions", len(cf0.Actions))
	}
	for _, a := range cf0.Actions[1:] {
		idx := -1
		for _, after := range []string{" ", ";"} {
			if k := strings.Index(line, " "+a.Name+after); k >= 0 {
				idx = k + 1
			}
		}
		if strings.HasSuffix(line, " "+a.Name) {
			idx = len(line) - len(a.Name)
		}
		if want := utf8.RuneCountInString(line[:idx]) + 1; a.Col != want {
			t.Errorf("long line: %s at col %d, want %d", a.Name, a.Col, want)
		}
	}

	// Nesting beyond the walker's bound is reported, not a crash.
	deep := "x = " + strings.Repeat("[", maxDepth+10) + strings.Repeat("]", maxDepth+10)
	cf := e.extract(deep, "python")
	found := false
	for _, p := range cf.Problems {
		found = found || strings.Contains(p.Message, "nested too deeply")
	}
	if !found {
		t.Errorf("deep nesting: no problem reported: %v", cf.Problems)
	}

	// A closed extractor reports instead of crashing.
	e.close()
	e.close()
	cf = e.extract("x = 1", "python")
	if len(cf.Problems) == 0 || cf.Problems[0].Code != "syntax-error" {
		t.Errorf("closed extractor: %+v", cf)
	}
}

// TestRewriteKeepsLines checks that the IPython rewrite never changes the
// line count and maps the columns of moved text back.
func TestRewriteKeepsLines(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"!ls\nx = 1", "pass\nx = 1"},
		{"if a:\n    !ls {b}\n", "if a:\n    (    b,)\n"},
		{"%time x = 1", "x = 1"},
		{"x = %time f()", "x =       f()"},
		{"%timeit -n 2 y = 1", "y = 1"},
		{"x = !ls \\\n  -l\ny = 1", "x = None\n\ny = 1"},
		{"s = '''\n!not\n'''", "s = '''\n!not\n'''"},
		{"f(a,\n!b)", "f(a,\n!b)"},
		{"obj?\nobj??", "pass\npass"},
		{"  x = 1\n  y = 2", "x = 1\ny = 2"},
		{">>> x = 1\n... y", "x = 1\ny"},
	}
	for _, c := range cases {
		got := rewriteIPython(c.src)
		if got.text != c.want {
			t.Errorf("rewrite(%q) = %q, want %q", c.src, got.text, c.want)
		}
		if strings.Count(got.text, "\n") != strings.Count(c.src, "\n") {
			t.Errorf("rewrite(%q) changed the line count", c.src)
		}
	}
	ipy := rewriteIPython("  %time x = 1")
	if col := ipy.origCol(0, 0); col != 8 {
		t.Errorf("origCol after indent and %%time: %d, want 8", col)
	}
}
