package notebook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupportedFormat is wrapped by Parse's error for a notebook whose
// nbformat is not 4.
var ErrUnsupportedFormat = errors.New("Datainsight reads nbformat 4 (open and save it in Jupyter to upgrade)")

// document is a notebook's bytes as parsed, with the nodes edits need.
type document struct {
	*tree
	root  int   // the top-level object
	meta  int   // the top-level metadata object; -1 when absent
	cells []int // each cell's object, in order
	style style // the file's own layout, for text an edit inserts
}

// ReadFile reads and parses the notebook at path, refusing one larger than
// DefaultMaxBytes (Load takes a limit and a context).
func ReadFile(path string) (*Notebook, error) {
	return Load(context.Background(), path, DefaultMaxBytes)
}

// Parse parses an nbformat 4 notebook. It keeps its own copy of data, which
// Bytes returns unchanged until an edit. Invalid JSON is a *SyntaxError; a
// notebook whose structure is wrong gets an error naming the cell and field.
func Parse(data []byte) (*Notebook, error) {
	return parseOwned(bytes.Clone(data))
}

// parseOwned parses src, which it keeps: the caller must not change it.
func parseOwned(src []byte) (*Notebook, error) {
	t, root, err := parseJSON(src)
	if err != nil {
		return nil, err
	}
	if k := t.nodes[root].kind; k != kindObject {
		return nil, fmt.Errorf("a notebook is a JSON object, not %s", k)
	}
	d := &document{tree: t, root: root, meta: -1}
	nb := &Notebook{doc: d}

	v := t.lookup(root, "nbformat")
	if v < 0 {
		return nil, errors.New(`"nbformat" is missing`)
	}
	if nb.Format, err = d.intField(v, `"nbformat"`); err != nil {
		return nil, err
	}
	if nb.Format != 4 {
		return nil, fmt.Errorf("nbformat %d is not supported: %w", nb.Format, ErrUnsupportedFormat)
	}
	// nbformat_minor is required by the schema, but nothing here depends on
	// it, so a notebook that lacks it is still read.
	if v := t.lookup(root, "nbformat_minor"); v >= 0 {
		if nb.FormatMinor, err = d.intField(v, `"nbformat_minor"`); err != nil {
			return nil, err
		}
	}

	if v := t.lookup(root, "metadata"); v >= 0 {
		if k := t.nodes[v].kind; k != kindObject {
			return nil, fmt.Errorf(`"metadata" must be an object, not %s`, k)
		}
		d.meta = v
		nb.Metadata = make(map[string]json.RawMessage, t.members(v))
		for i := range t.members(v) {
			// Copies: the caller may keep or change these without touching
			// the bytes later edits splice into.
			nb.Metadata[t.str(t.key(v, i))] = bytes.Clone(t.raw(t.val(v, i)))
		}
		nb.Language = d.language()
	}

	v = t.lookup(root, "cells")
	if v < 0 {
		return nil, errors.New(`"cells" is missing`)
	}
	if k := t.nodes[v].kind; k != kindArray {
		return nil, fmt.Errorf(`"cells" must be a list, not %s`, k)
	}
	n := t.nodes[v].n
	d.cells = make([]int, n)
	nb.Cells = make([]Cell, n)
	for i := range n {
		c := t.kid(v, i)
		d.cells[i] = c
		if err := d.cell(c, &nb.Cells[i]); err != nil {
			return nil, fmt.Errorf("cell %d: %w", i, err)
		}
		nb.Cells[i].Index = i
	}
	d.style = d.detectStyle()
	return nb, nil
}

func (d *document) intField(v int, what string) (int, error) {
	n, ok := d.intValue(v)
	if !ok {
		return 0, fmt.Errorf("%s must be an integer, not %s", what, d.raw(v))
	}
	return n, nil
}

// language is the kernel's language from the notebook metadata, lower-case.
// The kernelspec is what Jupyter starts, so it wins over language_info,
// which the kernel reports after a run and which may be stale.
func (d *document) language() string {
	for _, path := range [...][2]string{{"kernelspec", "language"}, {"language_info", "name"}} {
		o := d.lookup(d.meta, path[0])
		if o < 0 || d.nodes[o].kind != kindObject {
			continue
		}
		if s := d.lookup(o, path[1]); s >= 0 && d.nodes[s].kind == kindString {
			if lang := d.str(s); lang != "" {
				return strings.ToLower(lang)
			}
		}
	}
	return ""
}

func (d *document) cell(c int, out *Cell) error {
	t := d.tree
	if k := t.nodes[c].kind; k != kindObject {
		return fmt.Errorf("a cell must be an object, not %s", k)
	}
	v := t.lookup(c, "cell_type")
	if v < 0 {
		return errors.New(`"cell_type" is missing`)
	}
	if k := t.nodes[v].kind; k != kindString {
		return fmt.Errorf(`"cell_type" must be a string, not %s`, k)
	}
	switch ct := CellType(t.str(v)); ct {
	case Code, Markdown, Raw:
		out.Type = ct
	default:
		return fmt.Errorf(`unknown cell_type %q (want "code", "markdown" or "raw")`, string(ct))
	}

	if v := t.lookup(c, "id"); v >= 0 {
		if k := t.nodes[v].kind; k != kindString {
			return fmt.Errorf(`"id" must be a string, not %s`, k)
		}
		out.ID = t.str(v)
	}

	v = t.lookup(c, "source")
	if v < 0 {
		return errors.New(`"source" is missing`)
	}
	src, ok := d.source(v)
	if !ok {
		return errors.New(`"source" must be a string or a list of strings`)
	}
	out.Source = src

	// The schema requires metadata, but a cell without it has no tags;
	// SetTags adds it.
	if m := t.lookup(c, "metadata"); m >= 0 {
		if k := t.nodes[m].kind; k != kindObject {
			return fmt.Errorf(`"metadata" must be an object, not %s`, k)
		}
		if tv := t.lookup(m, "tags"); tv >= 0 {
			tags, ok := d.strings(tv)
			if !ok {
				return errors.New("metadata.tags must be a list of strings")
			}
			out.Tags = tags
		}
	}
	return nil
}

// source joins a cell's source, which nbformat stores as a string or as a
// list of lines that keep their "\n".
func (d *document) source(v int) (string, bool) {
	switch d.nodes[v].kind {
	case kindString:
		return d.str(v), true
	case kindArray:
	default:
		return "", false
	}
	n := d.nodes[v].n
	if n == 1 { // the common case needs no builder
		k := d.kid(v, 0)
		if d.nodes[k].kind != kindString {
			return "", false
		}
		return d.str(k), true
	}
	var b strings.Builder
	b.Grow(d.nodes[v].end - d.nodes[v].start)
	for i := range n {
		k := d.kid(v, i)
		if d.nodes[k].kind != kindString {
			return "", false
		}
		d.appendStr(&b, k)
	}
	return b.String(), true
}

// strings returns list v's strings, nil for an empty list.
func (d *document) strings(v int) ([]string, bool) {
	if d.nodes[v].kind != kindArray {
		return nil, false
	}
	n := d.nodes[v].n
	if n == 0 {
		return nil, true
	}
	out := make([]string, n)
	for i := range n {
		k := d.kid(v, i)
		if d.nodes[k].kind != kindString {
			return nil, false
		}
		out[i] = d.str(k)
	}
	return out, true
}

// detectStyle reads the file's layout from its top-level object, for the
// text an edit writes where the surroundings show nothing (an empty {}).
func (d *document) detectStyle() style {
	st := style{nl: "\n", colon: ": ", comma: ", ", sortKeys: d.sorted}
	if i := bytes.IndexByte(d.src, '\n'); i > 0 && d.src[i-1] == '\r' {
		st.nl = "\r\n"
	}
	r := d.root
	if d.members(r) == 0 {
		return st
	}
	k0 := d.nodes[d.key(r, 0)]
	if lead := d.src[d.nodes[r].start+1 : k0.start]; bytes.IndexByte(lead, '\n') >= 0 {
		st.indented = true
		st.unit = string(lead[bytes.LastIndexByte(lead, '\n')+1:])
	}
	if c := d.src[k0.end:d.nodes[d.val(r, 0)].start]; isBlank(bytes.Replace(c, []byte{':'}, nil, 1)) {
		st.colon = string(c)
	}
	if d.members(r) > 1 && !st.indented {
		c := d.src[d.nodes[d.val(r, 0)].end:d.nodes[d.key(r, 1)].start]
		if c[0] == ',' && isBlank(c[1:]) && bytes.IndexByte(c, '\n') < 0 {
			st.comma = string(c)
		}
	}
	return st
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
