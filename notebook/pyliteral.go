package notebook

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseLiteral parses a Python literal as pipeline parameters and --param
// overrides allow: int, float, str, bool, None, negative numbers, and lists,
// tuples and dicts of those. It returns the Go value and the Python type
// name (see Literal).
//
// Only literals are accepted on purpose: a parameter's default must be known
// without running the notebook, as Kale requires.
func ParseLiteral(src string) (Literal, error) {
	p := &litParser{s: src}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return Literal{}, err
	}
	p.space()
	if p.i < len(p.s) {
		return Literal{}, fmt.Errorf("unexpected %q after the value", p.rest())
	}
	return v, nil
}

// Literal is a parsed Python literal.
type Literal struct {
	Type  string // Python type name: int, float, str, bool, NoneType, list, tuple, dict
	Value any    // int64 (*big.Int beyond int64), float64, string, bool, nil, []Literal, or []DictItem
}

// DictItem is one key: value pair of a dict literal, in source order.
type DictItem struct {
	Key, Value Literal
}

// Python renders the literal back as Python source, so a generated script can
// carry it verbatim.
func (l Literal) Python() string {
	var b strings.Builder
	l.writePython(&b)
	return b.String()
}

func (l Literal) writePython(b *strings.Builder) {
	switch v := l.Value.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case *big.Int:
		// Python refuses a decimal int literal past maxIntDigits but reads
		// hex of any length, which a literal given in hex may need.
		if d := v.String(); len(strings.TrimPrefix(d, "-")) <= maxIntDigits {
			b.WriteString(d)
		} else {
			if v.Sign() < 0 {
				b.WriteByte('-')
			}
			b.WriteString("0x")
			b.WriteString(new(big.Int).Abs(v).Text(16))
		}
	case float64:
		switch {
		case math.IsInf(v, 1):
			b.WriteString("float('inf')")
		case math.IsInf(v, -1):
			b.WriteString("float('-inf')")
		case math.IsNaN(v):
			b.WriteString("float('nan')")
		default:
			s := strconv.FormatFloat(v, 'g', -1, 64)
			if !strings.ContainsAny(s, ".eEn") {
				s += ".0"
			}
			b.WriteString(s)
		}
	case string:
		b.WriteString(PyQuote(v))
	case []Literal:
		open, close := "[", "]"
		if l.Type == "tuple" {
			open, close = "(", ")"
		}
		b.WriteString(open)
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			e.writePython(b)
		}
		if l.Type == "tuple" && len(v) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
	case []DictItem:
		b.WriteString("{")
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			e.Key.writePython(b)
			b.WriteString(": ")
			e.Value.writePython(b)
		}
		b.WriteString("}")
	}
}

// PyQuote quotes s as a Python string literal that evaluates to s.
func PyQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else if r == utf8.RuneError {
				// U+FFFD (also what invalid UTF-8 decodes to): \x takes
				// two hex digits only.
				b.WriteString(`\ufffd`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

type litParser struct {
	s string
	i int
}

const maxLiteralDepth = 64

func (p *litParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *litParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		case '\\':
			if p.i+1 < len(p.s) && p.s[p.i+1] == '\n' {
				p.i += 2
				continue
			}
			return
		default:
			return
		}
	}
}

func (p *litParser) value(depth int) (Literal, error) {
	if depth > maxLiteralDepth {
		return Literal{}, fmt.Errorf("literal nested too deeply")
	}
	if p.i >= len(p.s) {
		return Literal{}, fmt.Errorf("missing value")
	}
	c := p.s[p.i]
	switch {
	case c == '[':
		return p.seq(depth, ']', "list")
	case c == '(':
		return p.seq(depth, ')', "tuple")
	case c == '{':
		return p.dict(depth)
	case c == '"' || c == '\'':
		return p.str()
	case (c == 'r' || c == 'R' || c == 'u' || c == 'U' || c == 'b' || c == 'B' || c == 'f' || c == 'F') && p.strPrefix():
		return p.str()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		w := p.word()
		switch w {
		case "True":
			return Literal{Type: "bool", Value: true}, nil
		case "False":
			return Literal{Type: "bool", Value: false}, nil
		case "None":
			return Literal{Type: "NoneType", Value: nil}, nil
		case "":
			return Literal{}, fmt.Errorf("unexpected %q: not a literal", p.rest())
		}
		return Literal{}, fmt.Errorf("%q is not a literal (only numbers, strings, True/False/None, lists and dicts of them)", w+p.restOfExpr())
	}
}

func (p *litParser) restOfExpr() string {
	r := p.s[p.i:]
	if j := strings.IndexAny(r, "\n,]})"); j >= 0 {
		r = r[:j]
	}
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *litParser) word() string {
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 {
			j++
			continue
		}
		break
	}
	w := p.s[p.i:j]
	p.i = j
	return w
}

func (p *litParser) strPrefix() bool {
	j := p.i
	for j < len(p.s) && j-p.i < 2 && strings.IndexByte("rRuUbBfF", p.s[j]) >= 0 {
		j++
	}
	return j < len(p.s) && (p.s[j] == '"' || p.s[j] == '\'')
}

func (p *litParser) seq(depth int, end byte, typ string) (Literal, error) {
	p.i++ // opening bracket
	var items []Literal
	sawComma := false
	for {
		p.space()
		if p.i >= len(p.s) {
			return Literal{}, fmt.Errorf("unclosed %s", typ)
		}
		if p.s[p.i] == end {
			p.i++
			break
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return Literal{}, err
		}
		items = append(items, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			sawComma = true
			continue
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			break
		}
		return Literal{}, fmt.Errorf("expected ',' or %q in %s, found %q", end, typ, p.rest())
	}
	if typ == "tuple" && len(items) == 1 && !sawComma {
		return items[0], nil // (x) is just x
	}
	if items == nil {
		items = []Literal{}
	}
	return Literal{Type: typ, Value: items}, nil
}

func (p *litParser) dict(depth int) (Literal, error) {
	p.i++
	items := []DictItem{}
	for {
		p.space()
		if p.i >= len(p.s) {
			return Literal{}, fmt.Errorf("unclosed dict")
		}
		if p.s[p.i] == '}' {
			p.i++
			break
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return Literal{}, err
		}
		if t := unhashable(k); t != "" {
			return Literal{}, fmt.Errorf("a %s cannot be a dict key", t)
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return Literal{}, fmt.Errorf("expected ':' in dict, found %q", p.rest())
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return Literal{}, err
		}
		items = append(items, DictItem{Key: k, Value: v})
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			break
		}
		return Literal{}, fmt.Errorf("expected ',' or '}' in dict, found %q", p.rest())
	}
	return Literal{Type: "dict", Value: items}, nil
}

// unhashable names the list or dict that makes k unusable as a dict key,
// inside a tuple too (Python raises TypeError); "" when k is hashable.
func unhashable(k Literal) string {
	switch k.Type {
	case "list", "dict":
		return k.Type
	case "tuple":
		for _, e := range k.Value.([]Literal) {
			if t := unhashable(e); t != "" {
				return t
			}
		}
	}
	return ""
}

func (p *litParser) number() (Literal, error) {
	start := p.i
	neg := false
	for p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		if p.s[p.i] == '-' {
			neg = !neg
		}
		p.i++
		p.space()
	}
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' {
			j++
			continue
		}
		if (c == '-' || c == '+') && j > p.i && (p.s[j-1] == 'e' || p.s[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(p.s[p.i:j]), "0x") {
			j++
			continue
		}
		break
	}
	tok := p.s[p.i:j]
	p.i = j
	if tok == "" {
		return Literal{}, fmt.Errorf("%q is not a number", p.s[start:p.i]+p.rest())
	}
	clean := strings.ReplaceAll(tok, "_", "")
	if strings.HasSuffix(tok, "_") || strings.Contains(tok, "__") {
		return Literal{}, fmt.Errorf("%q is not a valid number", tok)
	}
	if isOctalLike(clean) && !strings.ContainsAny(clean, ".eE") && strings.Trim(clean, "0") != "" {
		return Literal{}, fmt.Errorf("%q: leading zeros are not allowed in Python 3 integers", tok)
	}
	// Python ints have no bound: an integer literal is an int however
	// long, never a float that has lost its digits.
	if len(clean) > maxIntDigits && strings.Trim(clean, "0123456789") == "" {
		return Literal{}, fmt.Errorf("%q has more than %d digits, the most Python reads in a decimal int", tok[:20]+"…", maxIntDigits)
	}
	if n, ok := new(big.Int).SetString(clean, 0); ok {
		if neg {
			n.Neg(n)
		}
		if n.IsInt64() {
			return Literal{Type: "int", Value: n.Int64()}, nil
		}
		return Literal{Type: "int", Value: n}, nil
	}
	lower := strings.ToLower(clean)
	if lower == "inf" || lower == "nan" || strings.HasPrefix(lower, "0x") || strings.ContainsAny(lower, "jl") {
		return Literal{}, fmt.Errorf("%q is not a supported number literal", tok)
	}
	f, err := strconv.ParseFloat(clean, 64)
	if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
		// Python would read inf, which no literal can carry back.
		return Literal{}, fmt.Errorf("%q is beyond a float's range", tok)
	}
	if err != nil {
		return Literal{}, fmt.Errorf("%q is not a valid number", tok)
	}
	if neg {
		f = -f
	}
	return Literal{Type: "float", Value: f}, nil
}

// maxIntDigits is Python's default bound (sys.get_int_max_str_digits) on
// the digits of a decimal int it converts, literal_eval included: a longer
// literal would be accepted here and refused by every step.
const maxIntDigits = 4300

// isOctalLike rejects Python 2 octals like 0755, which Python 3 refuses.
func isOctalLike(s string) bool {
	return len(s) > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

// str reads a string literal and those adjacent to it, which concatenate
// as in Python. It loops rather than recursing: each piece once recursed
// and copied the rest, so many adjacent pieces cost quadratic time and
// unbounded stack.
func (p *litParser) str() (Literal, error) {
	var b strings.Builder
	for {
		piece, err := p.strPiece()
		if err != nil {
			return Literal{}, err
		}
		b.WriteString(piece)
		save := p.i
		p.space()
		if p.i >= len(p.s) || !(p.s[p.i] == '"' || p.s[p.i] == '\'' || p.strPrefix()) {
			p.i = save
			return Literal{Type: "str", Value: b.String()}, nil
		}
	}
}

// strPiece reads one string literal, prefix and quotes included, and
// returns its value.
func (p *litParser) strPiece() (string, error) {
	raw, bytesLit := false, false
	for p.i < len(p.s) && p.s[p.i] != '"' && p.s[p.i] != '\'' {
		switch p.s[p.i] {
		case 'r', 'R':
			raw = true
		case 'b', 'B':
			bytesLit = true
		case 'f', 'F':
			return "", fmt.Errorf("an f-string is not a literal")
		}
		p.i++
	}
	if bytesLit {
		return "", fmt.Errorf("bytes literals are not supported")
	}
	q := p.s[p.i]
	triple := strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3))
	if triple {
		p.i += 3
	} else {
		p.i++
	}
	start := p.i
	var body string
	for {
		if p.i >= len(p.s) {
			return "", fmt.Errorf("unterminated string")
		}
		c := p.s[p.i]
		if triple && strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3)) {
			body = p.s[start:p.i]
			p.i += 3
			break
		}
		if !triple && c == q {
			body = p.s[start:p.i]
			p.i++
			break
		}
		if !triple && c == '\n' {
			return "", fmt.Errorf("unterminated string")
		}
		if c == '\\' && p.i+1 < len(p.s) {
			p.i += 2 // an escaped quote does not end the string, raw or not
			continue
		}
		p.i++
	}
	value := body
	if !raw {
		var err error
		if value, err = UnescapePython(body); err != nil {
			return "", err
		}
	}
	return value, nil
}

// UnescapePython decodes the backslash escapes in the body of a Python str
// literal (what lies between its quotes), as Python does: unknown escapes
// (and \N{...}, whose names are not known here) stay as written; a
// truncated or invalid \x, \u or \U escape is an error, as in Python.
func UnescapePython(body string) (string, error) {
	if !strings.Contains(body, `\`) {
		return body, nil
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case '\n': // a line continuation
		case '\r':
			if i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(body) && j < i+3 && body[j] >= '0' && body[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(body[i:j], 8, 32)
			b.WriteRune(rune(n))
			i = j - 1
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+1+width > len(body) {
				return "", fmt.Errorf("truncated \\%c escape", e)
			}
			n, err := strconv.ParseUint(body[i+1:i+1+width], 16, 32)
			if err != nil || n > utf8.MaxRune {
				return "", fmt.Errorf("bad \\%c escape", e)
			}
			b.WriteRune(rune(n))
			i += width
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}
