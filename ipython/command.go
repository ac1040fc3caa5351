package ipython

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/datainsight/datainsight/notebook"
)

func (rw *rewriter) transform(start int) {
	var st scanState
	for i := start; i < len(rw.ana); i++ {
		l := rw.ana[i]
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
			rw.replaceAna(i, indent, "pass")
			rw.run[i] = rw.run[i][:indent] + "pass"
			replaced = true
		default:
			if at, bang := assignMagic(body); at > 0 {
				replaced = rw.assignMagic(i, indent, indent+at, bang)
			}
		}
		if !replaced {
			st.scan(rw.ana[i])
			continue
		}
		// A trailing backslash carries the IPython command over to the
		// next lines, which it consumes: the runnable line already holds
		// their text (see command).
		for endsWithBackslash(l) && i+1 < len(rw.ana) {
			i++
			l = rw.ana[i]
			rw.ana[i] = ""
			rw.run[i] = ""
		}
	}
}

// command is the IPython command starting at byte at of line i, with
// the lines a trailing backslash carries it onto, joined as IPython joins
// them: each backslash dropped, the parts joined by a space.
func (rw *rewriter) command(i, at int) string {
	var b strings.Builder
	l := strings.TrimRight(rw.ana[i][at:], "\r")
	for endsWithBackslash(l) && i+1 < len(rw.ana) {
		part := strings.TrimRight(l, " \t\r")
		b.WriteString(part[:len(part)-1])
		b.WriteByte(' ')
		i++
		l = strings.TrimRight(rw.ana[i], "\r")
	}
	b.WriteString(l)
	return strings.TrimSpace(b.String())
}

// shellLine renders `!cmd` and `!!cmd`.
func (rw *rewriter) shellLine(i, indent int) {
	l := rw.ana[i]
	cmd := strings.TrimPrefix(rw.command(i, indent), "!")
	call := "_di.sh("
	if strings.HasPrefix(cmd, "!") {
		// !!cmd is IPython's getoutput: the lines are its value.
		cmd, call = cmd[1:], "_di.getoutput("
	}
	rw.notes = append(rw.notes, Note{
		Line:    i,
		Col:     utf8.RuneCountInString(l[:indent]),
		Code:    "shell-line",
		Message: fmt.Sprintf("shell command %s runs in a subshell, not as Python", quoteShort(strings.TrimSpace(l[indent:]))),
	})
	rw.replaceRest(i, indent, "pass", call+notebook.PyQuote(strings.TrimSpace(cmd))+")")
}

// magicName splits a line magic's text ("%name args", "%%name" counts as
// the name with one % for line magics written %%) into its name and the
// byte offset of its arguments.
func magicName(body string) (name string, restStart int) {
	nameEnd := 1
	for nameEnd < len(body) && body[nameEnd] == '%' {
		nameEnd++
	}
	for nameEnd < len(body) && isMagicNameByte(body[nameEnd]) {
		nameEnd++
	}
	name = strings.TrimLeft(body[1:nameEnd], "%")
	restStart = nameEnd
	for restStart < len(body) && isSpaceByte(body[restStart]) {
		restStart++
	}
	return name, restStart
}

// lineMagic renders a %magic line. It reports whether it replaced the line:
// %time and %timeit keep their statement for analysis instead.
func (rw *rewriter) lineMagic(i, indent int) bool {
	body := rw.ana[i][indent:]
	name, restStart := magicName(body)
	rest := strings.TrimRight(body[restStart:], "\r")
	args := rw.command(i, indent+restStart)
	switch name {
	case "time":
		if strings.TrimSpace(rest) != "" {
			// The statement runs in the user's namespace: it stays,
			// moved left onto the magic's indentation. The timing is the
			// step's own business.
			rw.removePrefix(i, indent, restStart)
			if endsWithBackslash(rest) {
				// Runnable: IPython's %time dedents the joined line.
				rw.run[i] = rw.run[i][:indent] + args
				for j := i; endsWithBackslash(rw.ana[j]) && j+1 < len(rw.run); j++ {
					rw.run[j+1] = ""
				}
			}
			return false
		}
	case "timeit":
		if off, ok := timeitStatement(rest); ok {
			// Analysed as the statement (reads count, bindings do not);
			// run by the runtime in a namespace of its own, as IPython
			// does.
			rw.removePrefix(i, indent, restStart+off)
			rw.noBind = append(rw.noBind, i)
			rw.run[i] = rw.run[i][:indent] + "_di.timeit(" + notebook.PyQuote(args) + ", globals())"
			// The analysable statement goes on over the continued
			// lines; the runnable call already holds them.
			for j := i; endsWithBackslash(rw.ana[j]) && j+1 < len(rw.run); j++ {
				rw.run[j+1] = ""
			}
			return false
		}
	}
	rw.replaceRest(i, indent, "pass", runMagic(name, args))
	return true
}

// runMagic is the runtime's rendering of %name args: what a step can do
// without a kernel is done by the runtime itself, the rest by IPython.
func runMagic(name, args string) string {
	switch name {
	case "matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport", "precision", "pylab", "time", "prun":
		return "pass  # %" + name + " is not needed outside the kernel"
	case "env", "set_env":
		return "_di.setenv(" + notebook.PyQuote(args) + ")"
	case "pip", "conda":
		return "_di.sh(" + notebook.PyQuote(fmt.Sprintf("\"$DATAINSIGHT_PYTHON_EXE\" -m %s %s", name, args)) + ")"
	case "cd":
		return "_di.chdir(" + notebook.PyQuote(args) + ")"
	case "timeit":
		return "_di.timeit(" + notebook.PyQuote(args) + ", globals())"
	case "sx", "system":
		return "_di.getoutput(" + notebook.PyQuote(args) + ")"
	}
	return "_di.line_magic(" + notebook.PyQuote(name) + ", " + notebook.PyQuote(args) + ", globals())"
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
			if j < len(body) && (body[j] == '!' || body[j] == '%') && !strings.HasPrefix(body[j:], "%%") {
				return j, body[j] == '!'
			}
			return 0, false
		}
	}
	return 0, false
}

// assignMagic renders `x = !cmd` and `x = %magic args`; `x = %time expr`
// keeps expr (IPython returns its value), blanking the magic's name. It
// reports whether the rest of the line was replaced.
func (rw *rewriter) assignMagic(i, indent, at int, bang bool) bool {
	l := rw.ana[i]
	if bang {
		rw.notes = append(rw.notes, Note{
			Line:    i,
			Col:     utf8.RuneCountInString(l[:at]),
			Code:    "shell-line",
			Message: fmt.Sprintf("shell command %s runs in a subshell, not as Python", quoteShort(strings.TrimSpace(l[at:]))),
		})
		cmd := strings.TrimPrefix(rw.command(i, at), "!")
		rw.replaceRest(i, at, "None", "_di.getoutput("+notebook.PyQuote(strings.TrimSpace(cmd))+")")
		return true
	}
	name, restStart := magicName(l[at:])
	if name == "time" && !endsWithBackslash(l) && strings.TrimSpace(l[at+restStart:]) != "" {
		blank := strings.Repeat(" ", restStart)
		rw.ana[i] = l[:at] + blank + l[at+restStart:]
		rw.run[i] = rw.run[i][:at] + blank + rw.run[i][at+restStart:]
		return false
	}
	rw.replaceRest(i, at, "None", runMagic(name, rw.command(i, at+restStart)))
	return true
}

// captureName is the variable %%capture binds ("_" when it names none).
func captureName(args string) string {
	name := "_"
	for _, f := range strings.Fields(args) {
		if !strings.HasPrefix(f, "-") {
			name = f
		}
	}
	return name
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
		if name == "" || IsKeyword(name) || len(refs) >= 64 {
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

// IsKeyword reports whether s is a keyword of Python 3, which no magic or
// assignment may take as a name.
func IsKeyword(s string) bool {
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
