package analyzer

import (
	"github.com/datainsight/datainsight/ipython"
)

// A cell's IPython input (shell lines, magics, help, pasted prompts, a cell
// indented as a whole) is translated into Python by package ipython, the
// same translation the step scripts run, so that what is analysed is what
// runs. ipySource is that translation as the walker reads it.
type ipySource struct {
	text     string
	t        *ipython.Translation
	soft     []softRef // sorted: names from $name, which IPython reads only if they exist
	noBind   []int     // sorted 0-based lines whose statement binds nothing (%timeit)
	problems []problem // 0-based lines and rewritten rune columns: see origCol
}

// softRef is the position of a $name reference in the rewritten text:
// 0-based line and rune column.
type softRef struct {
	line, col int
}

// cellMagic is a %% line as IPython finds it.
type cellMagic = ipython.CellMagic

func findCellMagic(src string) (cellMagic, bool) { return ipython.FindCellMagic(src) }

// rewriteIPython translates a cell for analysis.
func rewriteIPython(src string) ipySource {
	t := ipython.Translate(src)
	s := ipySource{text: t.Analysable, t: t, noBind: t.NoBind}
	for _, p := range t.Soft {
		s.soft = append(s.soft, softRef{line: p.Line, col: p.Col})
	}
	for _, n := range t.Notes {
		s.problems = append(s.problems, problem{Severity: "info", Code: n.Code, Line: n.Line, Col: n.Col, Message: n.Message})
	}
	return s
}

// mapped reports whether columns of the text differ from the cell's.
func (s *ipySource) mapped() bool { return s.t.Mapped() }

// origCol maps a 0-based rune column of rewritten line i to the original.
func (s *ipySource) origCol(line, col int) int { return s.t.OrigCol(line, col) }

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' }

// isPythonKeyword reports whether s is a keyword of Python 3 (not a name).
func isPythonKeyword(s string) bool { return ipython.IsKeyword(s) }
