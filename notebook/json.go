package notebook

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON scanner that keeps the byte span of every
// value, so that an edit can replace one value's bytes and leave the rest of
// the file exactly as the tool that wrote it left it. encoding/json cannot do
// that: it gives values, not where they were.

// SyntaxError is invalid JSON in a notebook, with its position.
type SyntaxError struct {
	Offset int64 // byte offset of the problem, from 0
	Line   int   // 1-based
	Col    int   // 1-based, in characters, not bytes
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid notebook JSON at line %d, column %d (byte %d): %s", e.Line, e.Col, e.Offset, e.Msg)
}

func newSyntaxError(src []byte, off int, msg string) *SyntaxError {
	before := src[:off]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return &SyntaxError{
		Offset: int64(off),
		Line:   1 + bytes.Count(before, []byte{'\n'}),
		Col:    1 + utf8.RuneCount(before[lineStart:]),
		Msg:    msg,
	}
}

type kind uint8

const (
	kindObject kind = iota + 1
	kindArray
	kindString
	kindNumber
	kindLiteral // true, false, null
)

func (k kind) String() string {
	switch k {
	case kindObject:
		return "an object"
	case kindArray:
		return "a list"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	}
	return "a literal"
}

// node is one JSON value: its span in the source and, for containers, its
// children. An object's children alternate key, value.
type node struct {
	start, end int // [start, end) in tree.src
	first, n   int // children are tree.kids[first : first+n]
	kind       kind
	escaped    bool // a string with backslash escapes: decode before use
}

// tree is a parsed JSON text. Nodes live in one slice and refer to each
// other by index, so a 1000-cell notebook costs a handful of allocations.
type tree struct {
	src   []byte
	nodes []node
	kids  []int
	// sorted reports whether every object's keys are in ascending order, as
	// Jupyter (json.dumps with sort_keys=True) writes them. Values written by
	// an edit then sort their keys too.
	sorted bool
}

// maxDepth bounds nesting so a hostile input cannot exhaust the stack;
// Python's json module gives up far earlier (about 1000), so no notebook
// Jupyter can read comes near it.
const maxDepth = 10000

type parser struct {
	tree
	pos     int
	depth   int
	pending []int // children of the containers being parsed
}

// parseJSON parses src, which must be exactly one JSON value with optional
// surrounding whitespace (and a leading UTF-8 byte order mark, which some
// Windows editors write). It returns the tree and the root node's index.
// NaN, Infinity and -Infinity are accepted as numbers because Python's json
// module writes them, so Jupyter can produce them in outputs.
func parseJSON(src []byte) (*tree, int, error) {
	p := &parser{tree: tree{src: src, sorted: true}}
	// Roughly one value per 16 bytes in real notebooks; sizing up front
	// avoids repeated growth of the two big slices.
	p.nodes = make([]node, 0, len(src)/16+8)
	p.kids = make([]int, 0, len(src)/16+8)
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		p.pos = 3
	}
	p.ws()
	if p.pos == len(src) {
		return nil, 0, newSyntaxError(src, p.pos, "the input is empty")
	}
	root, err := p.value()
	if err != nil {
		return nil, 0, err
	}
	p.ws()
	if p.pos < len(src) {
		return nil, 0, p.fail(p.pos, "unexpected "+p.describe(p.pos)+" after the end of the top-level value")
	}
	return &p.tree, root, nil
}

func (p *parser) fail(off int, msg string) error { return newSyntaxError(p.src, off, msg) }

// describe names the character at off for an error message.
func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.src[off:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", p.src[off])
	}
	return fmt.Sprintf("character %q", r)
}

func (p *parser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) add(n node) int {
	p.nodes = append(p.nodes, n)
	return len(p.nodes) - 1
}

func (p *parser) value() (int, error) {
	if p.pos >= len(p.src) {
		return 0, p.fail(p.pos, "unexpected end of input, expected a value")
	}
	switch c := p.src[p.pos]; {
	case c == '{' || c == '[':
		return p.container(c)
	case c == '"':
		return p.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, lit := range [...]string{"true", "false", "null", "NaN", "Infinity"} {
		if bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
			k := kindLiteral
			if lit[0] == 'N' || lit[0] == 'I' {
				k = kindNumber
			}
			start := p.pos
			p.pos += len(lit)
			return p.add(node{kind: k, start: start, end: p.pos}), nil
		}
	}
	return 0, p.fail(p.pos, "unexpected "+p.describe(p.pos)+", expected a value")
}

func (p *parser) container(open byte) (int, error) {
	start := p.pos
	p.depth++
	if p.depth > maxDepth {
		return 0, p.fail(start, fmt.Sprintf("nesting deeper than %d levels", maxDepth))
	}
	p.pos++
	k, closer, what := kindArray, byte(']'), "list"
	if open == '{' {
		k, closer, what = kindObject, '}', "object"
	}
	idx := p.add(node{kind: k, start: start})
	base := len(p.pending)
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == closer {
		p.pos++
	} else {
		prevKey := -1
		for {
			p.ws()
			if k == kindObject {
				if p.pos >= len(p.src) || p.src[p.pos] != '"' {
					return 0, p.fail(p.pos, "unexpected "+p.describe(p.pos)+", expected a string key")
				}
				key, err := p.string()
				if err != nil {
					return 0, err
				}
				if p.tree.sorted && prevKey >= 0 && p.tree.keyLess(key, prevKey) {
					p.tree.sorted = false
				}
				prevKey = key
				p.pending = append(p.pending, key)
				p.ws()
				if p.pos >= len(p.src) || p.src[p.pos] != ':' {
					return 0, p.fail(p.pos, "unexpected "+p.describe(p.pos)+", expected ':' after an object key")
				}
				p.pos++
				p.ws()
			}
			v, err := p.value()
			if err != nil {
				return 0, err
			}
			p.pending = append(p.pending, v)
			p.ws()
			if p.pos < len(p.src) && p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(p.src) && p.src[p.pos] == closer {
				p.pos++
				break
			}
			return 0, p.fail(p.pos, fmt.Sprintf("unexpected %s, expected ',' or '%c' in %s starting at byte %d", p.describe(p.pos), closer, what, start))
		}
	}
	n := &p.nodes[idx]
	n.end = p.pos
	n.first = len(p.kids)
	n.n = len(p.pending) - base
	p.kids = append(p.kids, p.pending[base:]...)
	p.pending = p.pending[:base]
	p.depth--
	return idx, nil
}

func (p *parser) string() (int, error) {
	start := p.pos
	escaped := false
	for i := start + 1; i < len(p.src); {
		switch c := p.src[i]; {
		case c == '"':
			p.pos = i + 1
			return p.add(node{kind: kindString, start: start, end: p.pos, escaped: escaped}), nil
		case c == '\\':
			escaped = true
			if i+1 >= len(p.src) {
				return 0, p.fail(start, "unterminated string")
			}
			switch p.src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(p.src) || !isHex4(p.src[i+2:i+6]) {
					return 0, p.fail(i, `invalid \u escape: want four hex digits`)
				}
				i += 6
			default:
				return 0, p.fail(i, "invalid escape \\"+strings.TrimPrefix(p.describe(i+1), "character "))
			}
		case c < 0x20:
			return 0, p.fail(i, fmt.Sprintf("control character U+%04X in a string (it must be escaped)", c))
		default:
			i++
		}
	}
	return 0, p.fail(start, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (p *parser) number() (int, error) {
	start := p.pos
	src := p.src
	i := start
	if src[i] == '-' {
		i++
		if bytes.HasPrefix(src[i:], []byte("Infinity")) {
			p.pos = i + len("Infinity")
			return p.add(node{kind: kindNumber, start: start, end: p.pos}), nil
		}
	}
	digits := func() int {
		j := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case digits() == 0:
		return 0, p.fail(i, "invalid number: unexpected "+p.describe(i)+", expected a digit")
	}
	if i < len(src) && src[i] == '.' {
		i++
		if digits() == 0 {
			return 0, p.fail(i, "invalid number: unexpected "+p.describe(i)+", expected a digit after '.'")
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, p.fail(i, "invalid number: unexpected "+p.describe(i)+", expected a digit in the exponent")
		}
	}
	p.pos = i
	return p.add(node{kind: kindNumber, start: start, end: i}), nil
}

// kid returns the i-th child of container n.
func (t *tree) kid(n, i int) int { return t.kids[t.nodes[n].first+i] }

// members returns the number of key/value pairs of object n.
func (t *tree) members(n int) int { return t.nodes[n].n / 2 }

// key and val return the key and value nodes of member i of object n.
func (t *tree) key(n, i int) int { return t.kid(n, 2*i) }
func (t *tree) val(n, i int) int { return t.kid(n, 2*i+1) }

// member returns the index of the last member of object n named key, or -1
// (also when n is -1, an absent object). The last one, because that is the
// one Python's json module keeps.
func (t *tree) member(n int, key string) int {
	if n < 0 {
		return -1
	}
	for i := t.members(n) - 1; i >= 0; i-- {
		if t.keyIs(t.key(n, i), key) {
			return i
		}
	}
	return -1
}

// lookup returns the value node of object n's member key, or -1.
func (t *tree) lookup(n int, key string) int {
	if i := t.member(n, key); i >= 0 {
		return t.val(n, i)
	}
	return -1
}

func (t *tree) keyIs(k int, key string) bool {
	n := &t.nodes[k]
	if !n.escaped {
		return string(t.src[n.start+1:n.end-1]) == key
	}
	return t.str(k) == key
}

// keyLess orders keys as Python's sort_keys does: by code point, which is
// the byte order of their UTF-8 encoding.
func (t *tree) keyLess(a, b int) bool {
	na, nb := &t.nodes[a], &t.nodes[b]
	if !na.escaped && !nb.escaped {
		return bytes.Compare(t.src[na.start+1:na.end-1], t.src[nb.start+1:nb.end-1]) < 0
	}
	return t.str(a) < t.str(b)
}

func (t *tree) raw(n int) []byte { return t.src[t.nodes[n].start:t.nodes[n].end] }

// str decodes string node n.
func (t *tree) str(n int) string {
	nd := &t.nodes[n]
	raw := t.src[nd.start+1 : nd.end-1]
	if !nd.escaped {
		return string(raw)
	}
	var b strings.Builder
	b.Grow(len(raw))
	t.appendStr(&b, n)
	return b.String()
}

// appendStr writes string node n's decoded text to b. Sources are mostly
// lines ending in an escaped "\n", so decoding straight into the builder
// that joins them saves an allocation per line.
func (t *tree) appendStr(b *strings.Builder, n int) {
	nd := &t.nodes[n]
	raw := t.src[nd.start+1 : nd.end-1]
	if !nd.escaped {
		b.Write(raw)
		return
	}
	unescape(b, raw)
}

// unescape decodes the inside of a string the parser accepted. A lone
// surrogate, which UTF-8 cannot carry, becomes U+FFFD, as in encoding/json.
func unescape(b *strings.Builder, raw []byte) {
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] != '\\' {
			j++
		}
		b.Write(raw[i:j])
		if j == len(raw) {
			return
		}
		e := raw[j+1]
		i = j + 2
		switch e {
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
		case 'u':
			r := hex4(raw[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				dec := utf8.RuneError
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if d := utf16.DecodeRune(r, hex4(raw[i+2:])); d != utf8.RuneError {
						dec = d
						i += 6
					}
				}
				r = dec
			}
			b.WriteRune(r)
		default: // '"', '\\', '/'
			b.WriteByte(e)
		}
	}
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c >= 'a':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// intValue returns number node n as an int when it is written as one.
func (t *tree) intValue(n int) (int, bool) {
	if t.nodes[n].kind != kindNumber {
		return 0, false
	}
	v, err := strconv.Atoi(string(t.raw(n)))
	return v, err == nil
}

// style is how new JSON text is laid out so that it matches its
// surroundings. Jupyter's own is indented, unit " ", colon ": ", sorted.
type style struct {
	indented bool   // one member or element per line
	nl       string // "\n" or "\r\n"
	unit     string // added per nesting level when indented
	colon    string // between a key and its value
	comma    string // between members when not indented
	sortKeys bool
}

var jupyterStyle = style{indented: true, nl: "\n", unit: " ", colon: ": ", comma: ", ", sortKeys: true}

// render appends node n of t to b as Python's json.dumps(ensure_ascii=False)
// would write it in style st, with indent the indentation of the line the
// value starts on.
func render(b []byte, t *tree, n int, st *style, indent string) []byte {
	nd := &t.nodes[n]
	switch nd.kind {
	case kindString:
		return appendPyString(b, t.str(n))
	case kindNumber:
		return appendPyNumber(b, string(t.raw(n)))
	case kindLiteral:
		return append(b, t.raw(n)...)
	}
	open, closer := byte('['), byte(']')
	order := make([]int, 0, nd.n)
	if nd.kind == kindObject {
		open, closer = '{', '}'
		for i := range t.members(n) {
			order = append(order, i)
		}
		if st.sortKeys {
			slices.SortStableFunc(order, func(i, j int) int {
				return strings.Compare(t.str(t.key(n, i)), t.str(t.key(n, j)))
			})
		}
	} else {
		for i := range nd.n {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return append(b, open, closer)
	}
	inner := indent + st.unit
	b = append(b, open)
	for j, i := range order {
		if j > 0 {
			b = append(b, ',')
			if !st.indented {
				b = append(b, st.comma[1:]...)
			}
		}
		if st.indented {
			b = append(b, st.nl...)
			b = append(b, inner...)
		}
		if nd.kind == kindObject {
			b = appendPyString(b, t.str(t.key(n, i)))
			b = append(b, st.colon...)
			b = render(b, t, t.val(n, i), st, inner)
		} else {
			b = render(b, t, t.kid(n, i), st, inner)
		}
	}
	if st.indented {
		b = append(b, st.nl...)
		b = append(b, indent...)
	}
	return append(b, closer)
}

// appendPyString writes s the way Python's json.dumps(ensure_ascii=False)
// does: only '"', '\\' and control characters are escaped, so non-ASCII text
// stays readable and <, >, & and U+2028 are written as they are (unlike
// encoding/json). Bytes that are not UTF-8 become U+FFFD.
func appendPyString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}

// appendPyNumber writes a JSON number token as Python would after loading
// it: integers keep their digits, other numbers become floats printed with
// repr (1.0, 1e-05, 1e+16), which differs from Go's formatting.
func appendPyNumber(b []byte, tok string) []byte {
	if !strings.ContainsAny(tok, ".eE") || strings.HasSuffix(tok, "Infinity") || tok == "NaN" {
		if tok == "-0" {
			return append(b, '0')
		}
		return append(b, tok...)
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil { // out of range: Python reads it as an infinity
		if f > 0 {
			return append(b, "Infinity"...)
		}
		if f < 0 {
			return append(b, "-Infinity"...)
		}
		return append(b, tok...)
	}
	return appendPyFloat(b, f)
}

// appendPyFloat writes f as Python's float repr: the shortest digits that
// read back as f, in positional notation when the decimal exponent is in
// [-4, 16), else in exponent notation with at least two exponent digits.
func appendPyFloat(b []byte, f float64) []byte {
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-1.2345e+02"
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if -4 <= x && x < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		b = append(b, s...)
		if !strings.Contains(s, ".") {
			b = append(b, ".0"...)
		}
		return b
	}
	b = append(b, mant...)
	b = append(b, 'e')
	if x < 0 {
		b = append(b, '-')
		x = -x
	} else {
		b = append(b, '+')
	}
	if x < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(x), 10)
}
