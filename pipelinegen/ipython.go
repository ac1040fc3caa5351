package pipelinegen

import (
	"fmt"
	"strings"

	"github.com/datainsight/datainsight/notebook"
)

// toPython rewrites a cell's IPython syntax into plain Python that the step
// runtime can execute, line for line, so tracebacks keep the cell's line
// numbers:
//
//	!cmd            → _di.sh("cmd")
//	x = !cmd        → x = _di.getoutput("cmd")
//	%time STMT      → STMT            (the timing is the step's own)
//	%timeit STMT    → STMT            (run once)
//	%env A=B        → _di.setenv("A=B")
//	%pip install X  → _di.sh("… -m pip install X")
//	%matplotlib …   → pass            (figures are captured by the runtime)
//	%other args     → _di.line_magic("other", "args", globals())
//	obj?            → pass
//
// Lines inside triple-quoted strings and continuation lines are left alone.
func toPython(src string) string {
	lines := strings.Split(src, "\n")
	inString := ""     // the triple quote we are inside, if any
	continued := false // previous line ended with a backslash or an open bracket
	depth := 0
	for i, line := range lines {
		if inString == "" && !continued && depth == 0 {
			lines[i] = rewriteLine(line)
		}
		inString, depth = scanLine(line, inString, depth)
		continued = strings.HasSuffix(strings.TrimRight(line, " \t\r"), "\\")
	}
	return strings.Join(lines, "\n")
}

func rewriteLine(line string) string {
	body := strings.TrimLeft(line, " \t")
	indent := line[:len(line)-len(body)]
	body = strings.TrimRight(body, "\r")
	switch {
	case strings.HasPrefix(body, "!"):
		return indent + "_di.sh(" + notebook.PyQuote(strings.TrimSpace(body[1:])) + ")"
	case strings.HasPrefix(body, "%%"):
		return line // cell magics are handled per cell
	case strings.HasPrefix(body, "%"):
		name, args, _ := strings.Cut(body[1:], " ")
		args = strings.TrimSpace(args)
		switch name {
		case "time", "timeit", "prun":
			if args == "" {
				return indent + "pass"
			}
			// %timeit options (-n 10 -r 3 -q) come before the statement.
			for strings.HasPrefix(args, "-") {
				opt, rest, _ := strings.Cut(args, " ")
				args = strings.TrimSpace(rest)
				if opt == "-n" || opt == "-r" || opt == "-p" {
					_, rest, _ = strings.Cut(args, " ")
					args = strings.TrimSpace(rest)
				}
			}
			return indent + args
		case "matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport", "precision", "pylab":
			return indent + "pass  # %" + name + " is not needed outside the kernel"
		case "env":
			return indent + "_di.setenv(" + notebook.PyQuote(args) + ")"
		case "pip", "conda":
			return indent + "_di.sh(" + notebook.PyQuote(fmt.Sprintf("\"$DATAINSIGHT_PYTHON_EXE\" -m %s %s", name, args)) + ")"
		case "cd":
			return indent + "_di.chdir(" + notebook.PyQuote(args) + ")"
		}
		return indent + "_di.line_magic(" + notebook.PyQuote(name) + ", " + notebook.PyQuote(args) + ", globals())"
	case strings.HasSuffix(body, "?") && !strings.ContainsAny(body, "=(#'\""):
		return indent + "pass  # help: " + body
	}
	// x = !cmd and x = %magic
	if lhs, rhs, ok := strings.Cut(body, "="); ok && !strings.ContainsAny(lhs, "([{'\"") && len(rhs) > 0 {
		r := strings.TrimSpace(rhs)
		switch {
		case strings.HasPrefix(r, "!"):
			return indent + strings.TrimSpace(lhs) + " = _di.getoutput(" + notebook.PyQuote(strings.TrimSpace(r[1:])) + ")"
		case strings.HasPrefix(r, "%") && !strings.HasPrefix(r, "%%"):
			name, args, _ := strings.Cut(r[1:], " ")
			return indent + strings.TrimSpace(lhs) + " = _di.line_magic(" + notebook.PyQuote(name) + ", " + notebook.PyQuote(strings.TrimSpace(args)) + ", globals())"
		}
	}
	return line
}

// scanLine tracks triple-quoted strings and bracket depth across lines, so
// that only the start of a logical line is taken for IPython syntax.
func scanLine(line, inString string, depth int) (string, int) {
	for i := 0; i < len(line); i++ {
		if inString != "" {
			if line[i] == '\\' {
				i++
				continue
			}
			if strings.HasPrefix(line[i:], inString) {
				i += len(inString) - 1
				inString = ""
			}
			continue
		}
		c := line[i]
		switch {
		case c == '#':
			return "", depth
		case strings.HasPrefix(line[i:], `"""`) || strings.HasPrefix(line[i:], `'''`):
			inString = line[i : i+3]
			i += 2
		case c == '"' || c == '\'':
			// A one-line string: skip to its end.
			for j := i + 1; j < len(line); j++ {
				if line[j] == '\\' {
					j++
					continue
				}
				if line[j] == c {
					i = j
					break
				}
			}
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return inString, depth
}

// cellMagic splits a cell that starts with a %% magic into its name,
// arguments and body.
func cellMagic(src string) (name, args, body string, ok bool) {
	first, rest, _ := strings.Cut(src, "\n")
	t := strings.TrimSpace(first)
	if !strings.HasPrefix(t, "%%") {
		return "", "", "", false
	}
	name, args, _ = strings.Cut(t[2:], " ")
	return name, strings.TrimSpace(args), rest, true
}
