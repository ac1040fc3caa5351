package notebook

import "fmt"

// Severity of a Diagnostic.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Diagnostic is a positioned problem found in a notebook. Cell is nil for a
// notebook-level problem; Line and Col are 1-based (Col in characters) and 0
// when the problem has no position inside the cell (a tag, say).
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Cell     *int     `json:"cell"`
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

func (d Diagnostic) String() string {
	where := "notebook"
	if d.Cell != nil {
		where = fmt.Sprintf("cell %d", *d.Cell)
		if d.Line > 0 {
			where += fmt.Sprintf(":%d:%d", d.Line, d.Col)
		}
	}
	return fmt.Sprintf("%s: %s: %s [%s]", where, d.Severity, d.Message, d.Code)
}

// CellDiag returns a Diagnostic positioned at a cell.
func CellDiag(sev Severity, cell, line, col int, code, format string, args ...any) Diagnostic {
	c := cell
	return Diagnostic{Severity: sev, Cell: &c, Line: line, Col: col, Code: code, Message: fmt.Sprintf(format, args...)}
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}
