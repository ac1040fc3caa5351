package analyzer

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IPython accepts more than Python: shell lines (!cmd), line magics
// (%time …), help (obj?), cell magics (%%bash), pasted prompts and a cell
// indented as a whole. Before parsing, a cell is rewritten into Python with
// the same lines: each IPython construct becomes a placeholder statement or
// expression, and where a prefix had to be removed (to keep indentation
// valid) colShift records how far the rest of the line moved, so positions
// map back to the original cell.

// ipySource is a cell rewritten into Python.
type ipySource struct {
	text         string
	shifts       []colShift    // sorted by line, in the order applied within a line
	placeholders []placeholder // sorted by line
	soft         []softRef     // sorted: names from $name, which IPython reads only if they exist
	noBind       []int         // 0-based lines of %timeit statements: they bind nothing
	problems     []problem     // 0-based lines and rewritten rune columns: see origCol
}

// softRef is the position of a $name reference in the rewritten text:
// 0-based line and rune column.
type softRef struct {
	line, col int
}

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

// cellMagic is a %% line as IPython finds it: on the first line that is
// not blank, after the cell's common indentation.
type cellMagic struct {
	line    int // 0-based
	col     int // 0-based rune column of the first %
	name    string
	args    string
	argsCol int // rune column where args start
}

// findCellMagic returns the cell magic of src, if any.
func findCellMagic(src string) (cellMagic, bool) {
	line := 0
	rest := src
	for {
		l, tail, more := strings.Cut(rest, "\n")
		if strings.TrimSpace(l) != "" {
			indent := len(l) - len(strings.TrimLeft(l, " \t"))
			body := strings.TrimRight(l[indent:], "\r")
			if !strings.HasPrefix(body, "%%") {
				return cellMagic{}, false
			}
			nameEnd := 2
			for nameEnd < len(body) && !isSpaceByte(body[nameEnd]) {
				nameEnd++
			}
			if nameEnd == 2 {
				return cellMagic{}, false
			}
			argStart := nameEnd
			for argStart < len(body) && isSpaceByte(body[argStart]) {
				argStart++
			}
			return cellMagic{
				line:    line,
				col:     indent,
				name:    body[2:nameEnd],
				args:    strings.TrimRight(body[argStart:], " \t"),
				argsCol: indent + utf8.RuneCountInString(body[:argStart]),
			}, true
		}
		if !more {
			return cellMagic{}, false
		}
		rest = tail
		line++
	}
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' }

// needsRewrite is a fast screen: a cell without these bytes and without a
// leading indent or prompt is plain Python.
func needsRewrite(src string) bool {
	if strings.ContainsAny(src, "!%?") {
		return true
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
				return true
			}
			i = j
		case '\n', '\r':
		default:
			return strings.HasPrefix(src[i:], ">>>") || strings.HasPrefix(src[i:], "In [")
		}
	}
	return false
}

// rewriteIPython turns the cell into Python. A cell magic's line, already
// handled by the caller, becomes blank.
func rewriteIPython(src string, magic *cellMagic) ipySource {
	if magic == nil && !needsRewrite(src) {
		return ipySource{text: src}
	}
	rw := rewriter{lines: strings.Split(src, "\n")}
	rw.stripCommonIndent()
	rw.stripPrompts()
	start := 0
	if magic != nil {
		rw.lines[magic.line] = ""
		start = magic.line + 1
	}
	rw.transform(start)
	// Each pass went down the lines: a stable sort by line keeps the order
	// the shifts were applied in within a line.
	slices.SortStableFunc(rw.shifts, func(a, b colShift) int { return a.line - b.line })
	return ipySource{
		text:         strings.Join(rw.lines, "\n"),
		shifts:       rw.shifts,
		placeholders: rw.placeholders,
		soft:         rw.soft,
		noBind:       rw.noBind,
		problems:     rw.problems,
	}
}

type rewriter struct {
	lines        []string
	shifts       []colShift
	placeholders []placeholder
	soft         []softRef
	noBind       []int
	problems     []problem // 0-based lines, rune columns of the rewritten line
}

// replaceRest replaces line i from byte offset at with a placeholder
// reading the names IPython expands there, or with empty when none.
func (rw *rewriter) replaceRest(i, at int, empty string) {
	python, soft := readsPlaceholder(rw.lines[i], at, empty)
	for _, c := range soft {
		rw.soft = append(rw.soft, softRef{line: i, col: c})
	}
	rw.replaceRestWith(i, at, python)
}

func (rw *rewriter) replaceRestWith(i, at int, python string) {
	l := rw.lines[i]
	rw.placeholders = append(rw.placeholders, placeholder{
		line: i,
		at:   utf8.RuneCountInString(l[:at]),
		end:  utf8.RuneCountInString(l),
	})
	rw.lines[i] = l[:at] + python
}

// removePrefix drops n bytes at byte offset at of line i.
func (rw *rewriter) removePrefix(i, at, n int) {
	l := rw.lines[i]
	if n <= 0 || at+n > len(l) {
		return
	}
	rw.shifts = append(rw.shifts, colShift{
		line: i,
		at:   utf8.RuneCountInString(l[:at]),
		n:    utf8.RuneCountInString(l[at : at+n]),
	})
	rw.lines[i] = l[:at] + l[at+n:]
}

// origCol maps a 0-based rune column of rewritten line i to the original.
func (s *ipySource) origCol(line, col int) int {
	if k, ok := slices.BinarySearchFunc(s.placeholders, line, func(p placeholder, l int) int { return p.line - l }); ok {
		if p := s.placeholders[k]; col >= p.end && col > p.at {
			col = p.at
		}
	}
	// shifts are sorted by line, in the order applied within a line.
	k, _ := slices.BinarySearchFunc(s.shifts, line+1, func(sh colShift, l int) int { return sh.line - l })
	for k--; k >= 0 && s.shifts[k].line == line; k-- {
		if col >= s.shifts[k].at {
			col += s.shifts[k].n
		}
	}
	return col
}

// firstNonBlank is the index of the cell's first line with code, or -1.
func (rw *rewriter) firstNonBlank() int {
	for i, l := range rw.lines {
		if strings.TrimSpace(l) != "" {
			return i
		}
	}
	return -1
}

// stripCommonIndent does what IPython's leading_indent does: when the first
// non-blank line is indented, that indentation is removed from every line
// that starts with it.
func (rw *rewriter) stripCommonIndent() {
	first := rw.firstNonBlank()
	if first < 0 {
		return
	}
	l := rw.lines[first]
	n := len(l) - len(strings.TrimLeft(l, " \t"))
	if n == 0 {
		return
	}
	prefix := l[:n]
	for i := first; i < len(rw.lines); i++ {
		if strings.HasPrefix(rw.lines[i], prefix) {
			rw.removePrefix(i, 0, n)
		}
	}
}

// stripPrompts removes pasted ">>> "/"... " and "In [n]: "/"   ...: "
// prompts, as IPython's classic_prompt and ipython_prompt do: only when
// the first line (or, for continuation prompts, the second) carries one.
func (rw *rewriter) stripPrompts() {
	first := rw.firstNonBlank()
	if first < 0 {
		return
	}
	lines := rw.lines[first:]
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
				if n := p.any(rw.lines[first+i]); n > 0 {
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

func (rw *rewriter) transform(start int) {
	var st scanState
	for i := start; i < len(rw.lines); i++ {
		l := rw.lines[i]
		if st.inLogicalLine() {
			st.scan(l)
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " \t"))
		body := l[indent:]
		replaced := false
		switch {
		case strings.HasPrefix(body, "!"):
			rw.shellLine(i, indent)
			replaced = true
		case strings.HasPrefix(body, "%"):
			replaced = rw.lineMagic(i, indent)
		case strings.HasPrefix(body, "?") || isHelpEnd(body):
			rw.replaceRestWith(i, indent, "pass")
			replaced = true
		default:
			if at, bang := assignMagic(body); at > 0 {
				rw.assignMagic(i, indent, indent+at, bang)
				replaced = true
			}
		}
		if !replaced {
			st.scan(rw.lines[i])
			continue
		}
		// A trailing backslash carries the IPython command over to the
		// next lines, which it consumes.
		for endsWithBackslash(l) && i+1 < len(rw.lines) {
			i++
			l = rw.lines[i]
			rw.lines[i] = ""
		}
	}
}

// shellLine replaces `!cmd` with an expression reading the names IPython
// would expand into the command.
func (rw *rewriter) shellLine(i, indent int) {
	l := rw.lines[i]
	col := utf8.RuneCountInString(l[:indent])
	rw.problems = append(rw.problems, problem{
		Severity: "info",
		Code:     "shell-line",
		Line:     i,
		Col:      col,
		Message:  fmt.Sprintf("shell command %s runs in a subshell, not as Python", quoteShort(strings.TrimSpace(l[indent:]))),
	})
	rw.replaceRest(i, indent, "pass")
}

// lineMagic rewrites a %magic line. It reports whether it replaced the
// line: %time and %timeit keep their statement as Python instead.
func (rw *rewriter) lineMagic(i, indent int) bool {
	l := rw.lines[i]
	body := l[indent:]
	nameEnd := 1
	for nameEnd < len(body) && body[nameEnd] == '%' {
		nameEnd++
	}
	for nameEnd < len(body) && isMagicNameByte(body[nameEnd]) {
		nameEnd++
	}
	name := body[1:nameEnd]
	restStart := nameEnd
	for restStart < len(body) && isSpaceByte(body[restStart]) {
		restStart++
	}
	rest := strings.TrimRight(body[restStart:], "\r")
	switch name {
	case "time":
		if strings.TrimSpace(rest) != "" {
			// The rest runs in the user namespace: keep it as the
			// statement, moved left onto the magic's indentation.
			rw.removePrefix(i, indent, restStart)
			return false
		}
	case "timeit":
		if off, ok := timeitStatement(rest); ok {
			rw.removePrefix(i, indent, restStart+off)
			rw.noBind = append(rw.noBind, i)
			return false
		}
	}
	rw.replaceRest(i, indent, "pass")
	return true
}

func isMagicNameByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// timeitStatement skips %timeit's options (-n N -r R -p P -t -c -q -o -v)
// and returns the byte offset of the statement in rest.
func timeitStatement(rest string) (int, bool) {
	off := 0
	for {
		s := rest[off:]
		if !strings.HasPrefix(s, "-") {
			break
		}
		end := 0
		for end < len(s) && !isSpaceByte(s[end]) {
			end++
		}
		opt := s[:end]
		off += end
		for off < len(rest) && isSpaceByte(rest[off]) {
			off++
		}
		if len(opt) == 2 && strings.ContainsRune("nrp", rune(opt[1])) {
			// The option's value is the next word.
			s = rest[off:]
			end = 0
			for end < len(s) && !isSpaceByte(s[end]) {
				end++
			}
			off += end
			for off < len(rest) && isSpaceByte(rest[off]) {
				off++
			}
		}
	}
	return off, strings.TrimSpace(rest[off:]) != ""
}

// isHelpEnd recognises IPython's `obj?` and `obj??` help lines.
func isHelpEnd(body string) bool {
	s := strings.TrimRight(body, " \t\r")
	if !strings.HasSuffix(s, "?") {
		return false
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "?"), "?")
	s = strings.TrimLeft(s, "%")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80) {
			return false
		}
	}
	return true
}

// assignMagic recognises `lhs = !cmd` and `lhs = %magic …` the way
// IPython's SystemAssign and MagicAssign do (the first plain = outside
// brackets, followed by ! or %); it returns the byte offset in body of the
// ! or % (0 when the line is not one) and whether it is a !.
func assignMagic(body string) (int, bool) {
	depth := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth < 0 {
				return 0, false
			}
		case '\'', '"', '#':
			return 0, false
		case '=':
			if depth != 0 {
				continue
			}
			if i == 0 || strings.IndexByte("=<>!+-*/%&|^@:", body[i-1]) >= 0 || i+1 < len(body) && body[i+1] == '=' {
				return 0, false
			}
			j := i + 1
			for j < len(body) && isSpaceByte(body[j]) {
				j++
			}
			if j < len(body) && (body[j] == '!' || body[j] == '%') {
				return j, body[j] == '!'
			}
			return 0, false
		}
	}
	return 0, false
}

// assignMagic rewrites `x = !cmd` / `x = %magic args` into `x = (reads)`,
// and `x = %time expr` into `x =       expr`.
func (rw *rewriter) assignMagic(i, indent, at int, bang bool) {
	l := rw.lines[i]
	if bang {
		rw.problems = append(rw.problems, problem{
			Severity: "info",
			Code:     "shell-line",
			Line:     i,
			Col:      utf8.RuneCountInString(l[:at]),
			Message:  fmt.Sprintf("shell command %s runs in a subshell, not as Python", quoteShort(strings.TrimSpace(l[at:]))),
		})
	} else if strings.HasPrefix(l[at:], "%time ") {
		// %time returns its expression's value: blanking the magic's
		// name leaves that expression in place.
		rw.lines[i] = l[:at] + "     " + l[at+5:]
		return
	}
	rw.replaceRest(i, at, "None")
}

// readsPlaceholder builds the Python that replaces an IPython command
// starting at byte offset at of line l: a tuple holding the names IPython
// expands in it (the root name of {name…} and of $name…), each at its
// original rune column so positions stay right; empty when there are
// none. soft lists the columns of the $name ones (also ${name}): IPython
// leaves those as they are when no such variable exists, and they are
// most often shell variables ($HOME).
func readsPlaceholder(l string, at int, empty string) (python string, soft []int) {
	type ref struct {
		name string
		col  int
	}
	var refs []ref
	add := func(name string, col int, isSoft bool) {
		if name == "" || isPythonKeyword(name) || len(refs) >= 64 {
			return
		}
		if len(refs) > 0 && col <= refs[len(refs)-1].col+utf8.RuneCountInString(refs[len(refs)-1].name) {
			return // no room for the comma
		}
		refs = append(refs, ref{name, col})
		if isSoft {
			soft = append(soft, col)
		}
	}
	// ident returns the identifier at byte j of l and its byte length.
	ident := func(j int) string {
		k := j
		for k < len(l) {
			c, n := utf8.DecodeRuneInString(l[k:])
			if !(c == '_' || unicode.IsLetter(c) || k > j && unicode.IsDigit(c)) {
				break
			}
			k += n
		}
		return l[j:k]
	}
	col := utf8.RuneCountInString(l[:at])
	startCol := col
	quoted := false // IPython does not expand $name inside single quotes
	for j := at; j < len(l); {
		r, size := utf8.DecodeRuneInString(l[j:])
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '{' && strings.HasPrefix(l[j:], "{{"), r == '$' && strings.HasPrefix(l[j:], "$$"):
			// Escapes for a literal { or $.
			j += 2
			col += 2
			continue
		case r == '{':
			// IPython evaluates the whole field: {x}, {x.y}, {f(x)} read
			// x or f; {print $1} (awk) is no Python and stays as it is.
			if name := ident(j + 1); name != "" && j+1+len(name) < len(l) && strings.IndexByte("}.[(!:", l[j+1+len(name)]) >= 0 {
				add(name, col+1, j > 0 && l[j-1] == '$')
			}
		case r == '$' && !quoted:
			add(ident(j+1), col+1, true)
		}
		j += size
		col++
	}
	if len(refs) == 0 {
		return empty, nil
	}
	var b strings.Builder
	b.WriteByte('(')
	pos := startCol + 1
	for k, r := range refs {
		if k > 0 {
			b.WriteByte(',')
			pos++
		}
		for pos < r.col {
			b.WriteByte(' ')
			pos++
		}
		b.WriteString(r.name)
		pos += utf8.RuneCountInString(r.name)
	}
	if len(refs) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String(), soft
}

func quoteShort(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

func isPythonKeyword(s string) bool {
	switch s {
	case "False", "None", "True", "and", "as", "assert", "async", "await",
		"break", "class", "continue", "def", "del", "elif", "else", "except",
		"finally", "for", "from", "global", "if", "import", "in", "is",
		"lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
		"while", "with", "yield":
		return true
	}
	return false
}
