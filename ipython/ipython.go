// Package ipython translates a notebook cell's IPython input into Python,
// the way IPython 8's input transformers do before the kernel compiles it:
// leading blank lines and a cell indented as a whole, pasted `>>>`/`...`
// and `In [n]:` prompts, cell magics (`%%capture`, `%%timeit`, …), line
// magics, `!cmd` and `x = !cmd`, `x = %magic`, `obj?` help, and
// backslash continuations of those.
//
// One translation serves both readers of a cell, so that what the analyzer
// reads is what the step runs: [Translate] returns the cell once as Python
// for the step runtime (IPython commands become calls on the runtime
// module, bound as `_di` in the step script) and once as Python for
// static analysis (each command becomes a placeholder reading the names
// IPython would expand in it). Both keep the cell's lines, so tracebacks
// and diagnostics point at the cell as written; [Translation.OrigCol] maps
// a column of the analysable text back to the cell.
package ipython

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/datainsight/datainsight/notebook"
)

// Translation is a cell translated into Python.
type Translation struct {
	// Python is what the step runtime executes.
	Python string
	// Analysable is what the analyzer parses: the same statements, with
	// each IPython command replaced by an expression reading the names it
	// expands.
	Analysable string
	// Magic is the cell magic, when the cell is one.
	Magic *CellMagic
	// NoBind lists the 0-based lines of Analysable whose statement binds
	// nothing in the user's namespace (`%timeit STMT` runs STMT in a
	// namespace of its own; a `%%timeit` cell's wrapper).
	NoBind []int
	// Soft lists the positions of $name references: IPython reads them
	// only if such a variable exists (they are most often shell variables).
	Soft []Pos
	// Notes are facts about commands worth telling the user (shell lines).
	Notes []Note

	shifts       []colShift    // sorted by line, in the order applied within a line
	placeholders []placeholder // sorted by line
}

// Pos is a 0-based line and rune column of Analysable.
type Pos struct {
	Line, Col int
}

// Note is a positioned remark on the cell: 0-based line, rune column of
// Analysable (map it with OrigCol).
type Note struct {
	Line, Col     int
	Code, Message string
}

// CellMagic is a %% line as IPython finds it: on the first line that is
// not blank, after the cell's common indentation.
type CellMagic struct {
	Line    int // 0-based
	Col     int // 0-based rune column of the first %
	Name    string
	Args    string
	ArgsCol int // rune column where Args start
}

// PythonBody reports a cell magic whose body is Python run in the user's
// namespace (as opposed to a shell script, a file's text or another
// language).
func PythonBody(name string) bool {
	switch name {
	case "capture", "time", "timeit", "prun", "debug":
		return true
	}
	return false
}

// timeitClass is the class a %%timeit cell's body is wrapped in for
// analysis: a class body runs at once and keeps its bindings to itself, as
// %%timeit's own function does.
const timeitClass = "class _di_timeit:"

// placeholder records Python that replaced an IPython command from rune
// column at of a line to its end, originally end runes long: a position in
// it past the original text (only syntax errors land there; the names it
// reads keep their own columns) is the command's start.
type placeholder struct {
	line, at, end int
}

// colShift says that on line (0-based), runes at rewritten column >= at
// (0-based) sit n runes further right in the original.
type colShift struct {
	line, at, n int
}

// FindCellMagic returns the cell magic of src, if any.
func FindCellMagic(src string) (CellMagic, bool) {
	line := 0
	rest := src
	for {
		l, tail, more := strings.Cut(rest, "\n")
		if strings.TrimSpace(l) != "" {
			indent := len(l) - len(strings.TrimLeft(l, " \t"))
			body := strings.TrimRight(l[indent:], "\r")
			if !strings.HasPrefix(body, "%%") {
				return CellMagic{}, false
			}
			nameEnd := 2
			for nameEnd < len(body) && !isSpaceByte(body[nameEnd]) {
				nameEnd++
			}
			if nameEnd == 2 {
				return CellMagic{}, false
			}
			argStart := nameEnd
			for argStart < len(body) && isSpaceByte(body[argStart]) {
				argStart++
			}
			return CellMagic{
				Line:    line,
				Col:     utf8.RuneCountInString(l[:indent]),
				Name:    body[2:nameEnd],
				Args:    strings.TrimRight(body[argStart:], " \t"),
				ArgsCol: utf8.RuneCountInString(l[:indent+argStart]),
			}, true
		}
		if !more {
			return CellMagic{}, false
		}
		rest = tail
		line++
	}
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' }

// plain is a fast screen: a cell without these bytes and without a
// leading indent or prompt is Python as it stands.
func plain(src string) bool {
	if strings.ContainsAny(src, "!%?") {
		return false
	}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case ' ', '\t':
			// The first non-blank line is indented only if a non-space
			// byte follows on the same line.
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
				j++
			}
			if j < len(src) && src[j] != '\n' {
				return false
			}
			i = j
		case '\n', '\r':
		default:
			return !strings.HasPrefix(src[i:], ">>>") && !strings.HasPrefix(src[i:], "In [")
		}
	}
	return true
}

// Translate translates a cell. It never fails: what is not IPython syntax
// is left for the Python parser to judge.
func Translate(src string) *Translation {
	if plain(src) {
		return &Translation{Python: src, Analysable: src}
	}
	lines := strings.Split(src, "\n")
	rw := &rewriter{ana: lines, run: slices.Clone(lines)}
	rw.stripCommonIndent(0)
	rw.stripPrompts(0)
	t := &Translation{}
	if m, ok := FindCellMagic(src); ok {
		t.Magic = &m
		rw.cellMagic(m)
	} else {
		rw.transform(0)
	}
	// Each pass went down the lines: a stable sort by line keeps the order
	// the shifts were applied in within a line.
	slices.SortStableFunc(rw.shifts, func(a, b colShift) int { return a.line - b.line })
	slices.SortStableFunc(rw.placeholders, func(a, b placeholder) int { return a.line - b.line })
	slices.Sort(rw.noBind)
	slices.SortFunc(rw.soft, func(a, b Pos) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	t.Python = strings.Join(rw.run, "\n")
	t.Analysable = strings.Join(rw.ana, "\n")
	t.NoBind = rw.noBind
	t.Soft = rw.soft
	t.Notes = rw.notes
	t.shifts = rw.shifts
	t.placeholders = rw.placeholders
	return t
}

// rewriter holds the cell's lines twice, as the runtime and the analyzer
// will read them: the same decisions, rendered two ways.
type rewriter struct {
	ana, run     []string
	shifts       []colShift
	placeholders []placeholder
	soft         []Pos
	noBind       []int
	notes        []Note
}

// cellMagic renders a cell magic. A Python body is translated as a cell of
// its own, as IPython's magics do when they run it (run_cell applies the
// transformers again); other bodies go to IPython unchanged.
func (rw *rewriter) cellMagic(m CellMagic) {
	// IPython hands a magic its body with a final newline.
	body := strings.Join(rw.run[m.Line+1:], "\n")
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	rw.ana[m.Line] = ""
	switch m.Name {
	case "capture":
		rw.pythonBody(m.Line + 1)
		rw.run[m.Line] = fmt.Sprintf("with _di.capture(%s) as %s:", notebook.PyQuote(m.Args), captureName(m.Args))
		rw.indentRun(m.Line+1, "    ")
	case "timeit":
		// The body runs in a function of its own, many times: nothing
		// it binds reaches the notebook's namespace.
		rw.pythonBody(m.Line + 1)
		rw.run[m.Line] = fmt.Sprintf("_di.timeit_cell(%s, %s, globals())", notebook.PyQuote(m.Args), notebook.PyQuote(body))
		for i := m.Line + 1; i < len(rw.run); i++ {
			rw.run[i] = ""
		}
		rw.ana[m.Line] = timeitClass
		rw.noBind = append(rw.noBind, m.Line)
		empty := true
		for i := m.Line + 1; i < len(rw.ana); i++ {
			if strings.TrimSpace(rw.ana[i]) != "" {
				empty = false
				rw.ana[i] = " " + rw.ana[i]
				rw.shifts = append(rw.shifts, colShift{line: i, at: 0, n: -1})
			}
		}
		if empty {
			rw.ana[m.Line] += " pass"
		}
	case "time", "prun", "debug":
		// The body runs in the notebook's namespace; the timing or
		// profile is the step's own business.
		rw.pythonBody(m.Line + 1)
		rw.run[m.Line] = ""
	default:
		rw.run[m.Line] = fmt.Sprintf("_di.run_cell_magic(%s, %s, %s, globals())", notebook.PyQuote(m.Name), notebook.PyQuote(m.Args), notebook.PyQuote(body))
		for i := m.Line + 1; i < len(rw.run); i++ {
			rw.run[i] = ""
			rw.ana[i] = ""
		}
	}
}

// pythonBody translates lines from start on as a cell of their own.
func (rw *rewriter) pythonBody(start int) {
	rw.stripCommonIndent(start)
	rw.stripPrompts(start)
	rw.transform(start)
}

// indentRun indents the runnable lines from start on (a with block's body);
// a body with no code gets a pass.
func (rw *rewriter) indentRun(start int, prefix string) {
	code := false
	for i := start; i < len(rw.run); i++ {
		if strings.TrimSpace(rw.run[i]) != "" {
			rw.run[i] = prefix + rw.run[i]
			code = true
		}
	}
	if !code {
		rw.run[start-1] += " pass"
	}
}

// replaceRest replaces line i of the analysable text from byte offset at
// with a placeholder reading the names IPython expands there (or empty,
// when none), and of the runnable text with python.
func (rw *rewriter) replaceRest(i, at int, empty, python string) {
	ana, soft := readsPlaceholder(rw.ana[i], at, empty)
	for _, c := range soft {
		rw.soft = append(rw.soft, Pos{Line: i, Col: c})
	}
	rw.replaceAna(i, at, ana)
	rw.run[i] = rw.run[i][:at] + python
}

func (rw *rewriter) replaceAna(i, at int, python string) {
	l := rw.ana[i]
	rw.placeholders = append(rw.placeholders, placeholder{
		line: i,
		at:   utf8.RuneCountInString(l[:at]),
		end:  utf8.RuneCountInString(l),
	})
	rw.ana[i] = l[:at] + python
}

// removePrefix drops n bytes at byte offset at of line i, in both texts.
func (rw *rewriter) removePrefix(i, at, n int) {
	l := rw.ana[i]
	if n <= 0 || at+n > len(l) {
		return
	}
	rw.shifts = append(rw.shifts, colShift{
		line: i,
		at:   utf8.RuneCountInString(l[:at]),
		n:    utf8.RuneCountInString(l[at : at+n]),
	})
	rw.ana[i] = l[:at] + l[at+n:]
	rw.run[i] = rw.run[i][:at] + rw.run[i][at+n:]
}

// OrigCol maps a 0-based rune column of line (0-based) of Analysable to
// the cell as written.
func (t *Translation) OrigCol(line, col int) int {
	if k, ok := slices.BinarySearchFunc(t.placeholders, line, func(p placeholder, l int) int { return p.line - l }); ok {
		if p := t.placeholders[k]; col >= p.end && col > p.at {
			col = p.at
		}
	}
	k, _ := slices.BinarySearchFunc(t.shifts, line+1, func(sh colShift, l int) int { return sh.line - l })
	for k--; k >= 0 && t.shifts[k].line == line; k-- {
		if col >= t.shifts[k].at {
			col += t.shifts[k].n
		}
	}
	return max(col, 0)
}

// firstNonBlank is the index of the first line with code from start on,
// or -1.
func (rw *rewriter) firstNonBlank(start int) int {
	for i := start; i < len(rw.ana); i++ {
		if strings.TrimSpace(rw.ana[i]) != "" {
			return i
		}
	}
	return -1
}

// stripCommonIndent does what IPython's leading_indent does: when the first
// non-blank line is indented, that indentation is removed from every line
// that starts with it.
func (rw *rewriter) stripCommonIndent(start int) {
	first := rw.firstNonBlank(start)
	if first < 0 {
		return
	}
	l := rw.ana[first]
	n := len(l) - len(strings.TrimLeft(l, " \t"))
	if n == 0 {
		return
	}
	prefix := l[:n]
	for i := first; i < len(rw.ana); i++ {
		if strings.HasPrefix(rw.ana[i], prefix) {
			rw.removePrefix(i, 0, n)
		}
	}
}

// stripPrompts removes pasted ">>> "/"... " and "In [n]: "/"   ...: "
// prompts, as IPython's classic_prompt and ipython_prompt do: only when
// the first line (or, for continuation prompts, the second) carries one.
func (rw *rewriter) stripPrompts(start int) {
	first := rw.firstNonBlank(start)
	if first < 0 {
		return
	}
	lines := rw.ana[first:]
	classic := func(l string) int {
		if strings.HasPrefix(l, ">>>") || strings.HasPrefix(l, "...") {
			if len(l) == 3 {
				return 3
			}
			if l[3] == ' ' {
				return 4
			}
		}
		return 0
	}
	ipyInitial := func(l string) int {
		if !strings.HasPrefix(l, "In [") {
			return 0
		}
		j := 4
		for j < len(l) && l[j] >= '0' && l[j] <= '9' {
			j++
		}
		if j == 4 || !strings.HasPrefix(l[j:], "]: ") {
			return 0
		}
		return j + 3
	}
	ipyCont := func(l string) int {
		if n := ipyInitial(l); n > 0 {
			return n
		}
		j := 0
		for j < len(l) && isSpaceByte(l[j]) {
			j++
		}
		if !strings.HasPrefix(l[j:], "...") {
			return 0
		}
		j += 3
		if j < len(l) && l[j] == ':' {
			j++
		}
		if j < len(l) && l[j] == ' ' {
			j++
		}
		return j
	}
	for _, p := range []struct{ initial, any func(string) int }{{classic, classic}, {ipyInitial, ipyCont}} {
		if p.initial(lines[0]) > 0 || (len(lines) > 1 && p.any(lines[1]) > 0) {
			for i := range lines {
				if n := p.any(rw.ana[first+i]); n > 0 {
					rw.removePrefix(first+i, 0, n)
				}
			}
			return
		}
	}
}

// scanState follows Python's tokenizer far enough to know whether a line
// starts a new logical line: open brackets, strings and backslash
// continuations carry a statement over to the next line.
type scanState struct {
	depth  int
	quote  byte // the open string's quote, 0 when none
	triple bool
	cont   bool
}

func (st *scanState) inLogicalLine() bool {
	return st.depth > 0 || st.quote != 0 || st.cont
}

func (st *scanState) scan(l string) {
	st.cont = false
	i := 0
	for i < len(l) {
		c := l[i]
		if st.quote != 0 {
			switch {
			case c == '\\':
				if i+1 >= len(l) || (i+2 == len(l) && l[i+1] == '\r') {
					// A backslash-newline inside a string continues it.
					return
				}
				i += 2
				continue
			case c == st.quote:
				if !st.triple {
					st.quote = 0
				} else if strings.HasPrefix(l[i:], strings.Repeat(string(c), 3)) {
					st.quote = 0
					i += 3
					continue
				}
			}
			i++
			continue
		}
		switch c {
		case '#':
			return
		case '\'', '"':
			st.quote = c
			st.triple = strings.HasPrefix(l[i:], strings.Repeat(string(c), 3))
			if st.triple {
				i += 3
				continue
			}
		case '(', '[', '{':
			st.depth++
		case ')', ']', '}':
			if st.depth > 0 {
				st.depth--
			}
		case '\\':
			if rest := strings.TrimRight(l[i+1:], "\r"); rest == "" {
				st.cont = true
				return
			}
		}
		i++
	}
	if st.quote != 0 && !st.triple {
		// An unterminated single-quoted string ends with its line.
		st.quote = 0
	}
}

// endsWithBackslash reports a line continued by a trailing backslash.
func endsWithBackslash(l string) bool {
	return strings.HasSuffix(strings.TrimRight(l, "\r"), "\\")
}

// Mapped reports whether any column of Analysable differs from the cell's:
// when not, OrigCol is the identity.
func (t *Translation) Mapped() bool {
	return len(t.shifts) > 0 || len(t.placeholders) > 0
}
