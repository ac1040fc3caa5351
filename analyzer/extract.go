package analyzer

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/datainsight/datainsight/ipython"
)

// extractor turns the source of one code cell into its facts. It owns a
// tree-sitter parser and reusable buffers, so it is not safe for
// concurrent use: extractAll gives each worker its own.
type extractor struct {
	ts       *tsParser
	nodes    []tnode
	lines    []int
	colTable []int32
	intern   map[string]string
	cleanup  runtime.Cleanup
}

func newExtractor() *extractor {
	e := &extractor{ts: newTSParser(), intern: map[string]string{}}
	// A safety net only: close frees the parser deterministically.
	e.cleanup = runtime.AddCleanup(e, func(p *tsParser) { p.close() }, e.ts)
	return e
}

func (e *extractor) close() {
	e.cleanup.Stop()
	e.ts.close()
}

// extractAll extracts every source in parallel on up to workers goroutines
// (GOMAXPROCS when workers <= 0); result i is for srcs[i].
func extractAll(srcs []string, nbLang string, workers int) []*cellFacts {
	out := make([]*cellFacts, len(srcs))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(srcs))
	if workers <= 1 {
		e := newExtractor()
		defer e.close()
		for i, s := range srcs {
			out[i] = e.extract(s, nbLang)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			e := newExtractor()
			defer e.close()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(srcs) {
					return
				}
				out[i] = e.extract(srcs[i], nbLang)
			}
		})
	}
	wg.Wait()
	return out
}

// extract returns the facts of one cell. nbLang is the kernel's language
// ("python", "" for Python, "r", …). It never panics: an internal failure
// becomes an error problem on the cell.
func (e *extractor) extract(src, nbLang string) (cf *cellFacts) {
	defer func() {
		if r := recover(); r != nil {
			cf = &cellFacts{Lang: kernelLanguage(nbLang), Problems: []problem{{
				Severity: "error", Code: "internal-error", Line: 1, Col: 1,
				Message: fmt.Sprintf("analysing this cell failed: %v", r),
			}}}
		}
	}()
	return e.extractCell(src, nbLang)
}

// extractCell is extract without the recover, for tests and fuzzing.
func (e *extractor) extractCell(src, nbLang string) *cellFacts {
	cf := &cellFacts{}
	cf.Lang, cf.CellMagic, cf.CellMagicArgs = cellLanguage(src, nbLang)
	if kernelLanguage(nbLang) != "Python" {
		return cf
	}
	noBindAll := false
	var capture *action
	if cf.CellMagic != "" {
		m, _ := findCellMagic(src)
		switch {
		case ipython.PythonBody(m.Name):
			if m.Name == "capture" {
				if name, off, ok := captureName(m.Args); ok {
					capture = &action{Kind: actWrite, Name: name, Line: m.Line + 1, Col: m.ArgsCol + utf8.RuneCountInString(m.Args[:off]) + 1}
				}
			}
		case shellCellMagics[m.Name] && cf.Lang == "Shell":
			return cf
		default:
			cf.Problems = append(cf.Problems, problem{
				Severity: "warning", Code: "cell-magic", Line: m.Line + 1, Col: m.Col + 1,
				Message: fmt.Sprintf("cell magic %%%%%s is not Python: the step script runs it through IPython's run_cell_magic, which needs IPython importable in the step's interpreter", m.Name),
			})
			if m.Name == "writefile" || m.Name == "file" {
				if p, off, ok := writefilePath(m.Args); ok {
					cf.Actions = append(cf.Actions, action{Kind: actFileWrite, Path: p, Line: m.Line + 1, Col: m.ArgsCol + utf8.RuneCountInString(m.Args[:off]) + 1})
				}
			}
			return cf
		}
	}

	ipy := rewriteIPython(src)
	nodes, ok := e.ts.parse(ipy.text, e.nodes[:0])
	e.nodes = nodes[:0]
	e.lines = lineStarts(ipy.text, e.lines[:0])
	clear(e.intern)
	w := &walker{
		t: symbols(), src: ipy.text, n: nodes, cf: cf, ipy: &ipy,
		lines: e.lines, intern: e.intern, noBindAll: noBindAll,
		colLine: -1, colTable: e.colTable[:0],
	}
	defer func() { e.colTable = w.colTable[:0] }()
	for _, p := range ipy.problems {
		p.Line, p.Col = p.Line+1, ipy.origCol(p.Line, p.Col)+1
		cf.Problems = append(cf.Problems, p)
	}
	if !ok || len(nodes) == 0 {
		cf.Problems = append(cf.Problems, problem{Severity: "error", Code: "syntax-error", Line: 1, Col: 1, Message: "the cell could not be parsed (too large, or parsing timed out)"})
		return cf
	}
	w.syntaxErrors()
	w.module()
	if capture != nil {
		cf.Actions = append(cf.Actions, *capture)
	}
	sort.SliceStable(cf.Problems, func(i, j int) bool {
		a, b := cf.Problems[i], cf.Problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return cf
}

// captureName finds %%capture's output variable: the argument that is not
// an option. off is its byte offset in args.
func captureName(args string) (name string, off int, ok bool) {
	for _, f := range fieldsWithOffsets(args) {
		if strings.HasPrefix(f.s, "-") {
			continue
		}
		if isIdentifier(f.s) {
			name, off, ok = f.s, f.off, true
		}
	}
	return name, off, ok
}

// writefilePath finds %%writefile's file name, unquoted.
func writefilePath(args string) (p string, off int, ok bool) {
	for _, f := range fieldsWithOffsets(args) {
		if strings.HasPrefix(f.s, "-") {
			continue
		}
		s := f.s
		if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
			s = s[1 : len(s)-1]
		}
		if s == "" || strings.ContainsAny(s, "{}$") {
			// IPython expands variables here; the value is unknown.
			return "", 0, false
		}
		return s, f.off, true
	}
	return "", 0, false
}

type field struct {
	s   string
	off int
}

func fieldsWithOffsets(s string) []field {
	var out []field
	i := 0
	for i < len(s) {
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpaceByte(s[j]) {
			j++
		}
		if j > i {
			out = append(out, field{s[i:j], i})
		}
		i = j
	}
	return out
}

func isIdentifier(s string) bool {
	if s == "" || isPythonKeyword(s) {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80 || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return false
	}
	return true
}

// lineStarts returns the byte offset of each line of s.
func lineStarts(s string, buf []int) []int {
	buf = append(buf, 0)
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return buf
		}
		i += j + 1
		buf = append(buf, i)
	}
}

// pos returns the 1-based line and character column in the original cell
// of byte offset off of the rewritten source.
func (w *walker) pos(off uint32) (line, col int) {
	o := int(off)
	if o > len(w.src) {
		o = len(w.src)
	}
	l := sort.SearchInts(w.lines, o+1) - 1
	if l < 0 {
		l = 0
	}
	c := w.runeCol(l, o)
	if w.ipy.mapped() {
		c = w.ipy.origCol(l, c)
	}
	return l + 1, c + 1
}

// runeCol counts the characters between the start of line l and byte
// offset o. Positions arrive roughly in order, so the last line's answer
// is cached: ASCII lines need no counting, and other long lines get a
// table, so that a long line with many names stays linear.
func (w *walker) runeCol(l, o int) int {
	start := w.lines[l]
	if l != w.colLine {
		w.colLine, w.colTable = l, w.colTable[:0]
		end := len(w.src)
		if l+1 < len(w.lines) {
			end = w.lines[l+1]
		}
		w.colASCII = true
		for i := start; i < end; i++ {
			if w.src[i] >= utf8.RuneSelf {
				w.colASCII = false
				break
			}
		}
		if !w.colASCII && end-start > 256 {
			// table[b] is the character count before byte b, counting
			// as utf8.RuneCountInString does (an invalid byte is one).
			n := int32(0)
			for i := start; i < end; {
				_, size := utf8.DecodeRuneInString(w.src[i:end])
				w.colTable = append(w.colTable, n)
				for k := 1; k < size; k++ {
					w.colTable = append(w.colTable, n+1)
				}
				n++
				i += size
			}
			w.colTable = append(w.colTable, n)
		}
	}
	switch {
	case w.colASCII:
		return o - start
	case len(w.colTable) > 0 && o-start < len(w.colTable):
		return int(w.colTable[o-start])
	default:
		return utf8.RuneCountInString(w.src[start:o])
	}
}

// maxSyntaxErrors caps the syntax errors reported per cell: after the
// first few, error recovery mostly reports its own confusion.
const maxSyntaxErrors = 5

// syntaxErrors reports ERROR and MISSING nodes.
func (w *walker) syntaxErrors() {
	for i := 0; i < len(w.n); {
		nd := &w.n[i]
		switch {
		case nd.sym == symError:
			w.hasErrors = true
			text := w.src[nd.start:nd.stop]
			// The node may begin with the whitespace before the
			// offending text; point at the text.
			at := nd.start + uint32(len(text)-len(strings.TrimLeft(text, " \t\r\n\f\\")))
			w.syntaxError(at, func() string { return errorMessage(text) })
			i = int(nd.end)
			continue
		case nd.flags&flagMissing != 0:
			w.hasErrors = true
			what := w.t.name(nd.sym)
			if !w.t.isNamed(nd.sym) {
				what = fmt.Sprintf("%q", what)
			}
			w.syntaxError(nd.start, func() string { return "missing " + what })
		}
		i++
	}
}

func (w *walker) syntaxError(off uint32, msg func() string) {
	if w.errCount < maxSyntaxErrors {
		w.problemAt(off, "error", "syntax-error", msg())
	}
	w.errCount++
}

// indentOf returns the byte column of node i and whether it is the first
// thing on its line.
func (w *walker) indentOf(i int32) (int, bool) {
	o := int(w.n[i].start)
	if o > len(w.src) {
		return 0, false
	}
	l := sort.SearchInts(w.lines, o+1) - 1
	if l < 0 {
		return 0, false
	}
	start := w.lines[l]
	for j := o - 1; j >= start; j-- {
		if c := w.src[j]; c != ' ' && c != '\t' && c != '\f' {
			return o - start, false
		}
	}
	if l > 0 && strings.HasSuffix(strings.TrimRight(w.src[w.lines[l-1]:w.lines[l]], "\r\n"), "\\") {
		return o - start, false // a backslash continues the line above
	}
	return o - start, true
}

func errorMessage(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	if text == "" {
		return "invalid syntax"
	}
	const max = 20
	if utf8.RuneCountInString(text) > max {
		text = string([]rune(text)[:max]) + "…"
	}
	return fmt.Sprintf("invalid syntax near %q", text)
}

func (w *walker) problemAt(off uint32, severity, code, msg string) {
	line, col := w.pos(off)
	w.cf.Problems = append(w.cf.Problems, problem{Severity: severity, Code: code, Line: line, Col: col, Message: msg})
}
