package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Bytes returns the notebook's JSON: the bytes Parse read, with the edits
// made since spliced in. A Notebook built in memory rather than parsed is
// written as Jupyter writes a notebook.
func (nb *Notebook) Bytes() []byte {
	if nb == nil {
		return nil
	}
	if nb.doc == nil {
		return nb.generate()
	}
	return bytes.Clone(nb.doc.src)
}

// SetTags replaces metadata.tags of cells[cell]. Empty or nil tags remove
// the key. Only the bytes of that cell's tags (or of its metadata, when the
// key is added or removed) change.
func (nb *Notebook) SetTags(cell int, tags []string) error {
	if nb == nil {
		return errors.New("set tags: nil notebook")
	}
	n := len(nb.Cells)
	if nb.doc != nil {
		n = min(n, len(nb.doc.cells))
	}
	if cell < 0 || cell >= n {
		return fmt.Errorf("set tags: cell %d does not exist (the notebook has %d cells)", cell, n)
	}
	for _, tag := range tags {
		if !utf8.ValidString(tag) {
			return fmt.Errorf("set tags: cell %d: tag %q is not valid UTF-8", cell, tag)
		}
	}
	if len(tags) == 0 {
		tags = nil
	}
	d := nb.doc
	if d == nil {
		nb.Cells[cell].Tags = slices.Clone(tags)
		return nil
	}
	c := d.cells[cell]
	m := d.lookup(c, "metadata")
	var out []byte
	if tags == nil {
		if m >= 0 {
			out = d.removeMember(m, "tags")
		}
	} else {
		// Setting the tags a cell already has must not reformat them.
		if tv := d.lookup(m, "tags"); tv >= 0 {
			if old, ok := d.strings(tv); ok && slices.Equal(old, tags) {
				return nil
			}
		}
		var v any = tags
		if m < 0 {
			v = map[string][]string{"tags": tags}
		}
		val, err := valueOf(v)
		if err != nil {
			return fmt.Errorf("set tags: cell %d: %w", cell, err)
		}
		if m < 0 {
			out = d.setMember(c, "metadata", val)
		} else {
			out = d.setMember(m, "tags", val)
		}
	}
	if out == nil {
		nb.Cells[cell].Tags = nil
		return nil
	}
	nd, err := parseOwned(out)
	if err != nil {
		return fmt.Errorf("set tags: cell %d: the edit made the notebook unreadable (a bug in Datainsight): %w", cell, err)
	}
	nb.doc = nd.doc
	nb.Cells[cell].Tags = nd.Cells[cell].Tags
	return nil
}

// SetMetadata sets the notebook-level metadata[key] to value, marshalled
// with encoding/json and written in the file's own layout with Jupyter's
// string escaping. A nil value removes the key.
func (nb *Notebook) SetMetadata(key string, value any) error {
	if nb == nil {
		return errors.New("set metadata: nil notebook")
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("set metadata: key %q is not valid UTF-8", key)
	}
	var raw []byte
	if value != nil {
		var err error
		if raw, err = marshal(value); err != nil {
			return fmt.Errorf("set metadata %q: %w", key, err)
		}
	}
	d := nb.doc
	if d == nil {
		return nb.setMetadataInMemory(key, raw)
	}
	var out []byte
	switch {
	case raw == nil:
		if d.meta >= 0 {
			out = d.removeMember(d.meta, key)
		}
	case d.meta < 0:
		val, err := valueOf(map[string]json.RawMessage{key: raw})
		if err != nil {
			return fmt.Errorf("set metadata %q: %w", key, err)
		}
		out = d.setMember(d.root, "metadata", val)
	default:
		t, root, err := parseJSON(raw)
		if err != nil {
			return fmt.Errorf("set metadata %q: %w", key, err)
		}
		out = d.setMember(d.meta, key, jsonValue{t, root})
	}
	if out == nil {
		delete(nb.Metadata, key)
		return nil
	}
	nd, err := parseOwned(out)
	if err != nil {
		return fmt.Errorf("set metadata %q: the edit made the notebook unreadable (a bug in Datainsight): %w", key, err)
	}
	nb.doc = nd.doc
	if nb.Metadata == nil {
		nb.Metadata = make(map[string]json.RawMessage)
	}
	if v, ok := nd.Metadata[key]; ok {
		nb.Metadata[key] = v
	} else {
		delete(nb.Metadata, key)
	}
	nb.Language = nd.Language
	return nil
}

func (nb *Notebook) setMetadataInMemory(key string, raw []byte) error {
	if raw == nil {
		delete(nb.Metadata, key)
	} else {
		if nb.Metadata == nil {
			nb.Metadata = make(map[string]json.RawMessage)
		}
		nb.Metadata[key] = raw
	}
	if key == "kernelspec" || key == "language_info" {
		nb.Language = ""
		if v, err := valueOf(nb.validMetadata()); err == nil {
			nb.Language = (&document{tree: v.tree, meta: v.root}).language()
		}
	}
	return nil
}

// jsonValue is a parsed JSON value to be written into a document.
type jsonValue struct {
	tree *tree
	root int
}

// marshal encodes v as encoding/json does, minus the HTML escaping, which
// only adds noise: the text is decoded again before it is written.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func valueOf(v any) (jsonValue, error) {
	raw, err := marshal(v)
	if err != nil {
		return jsonValue{}, err
	}
	t, root, err := parseJSON(raw)
	return jsonValue{t, root}, err
}

// splice replaces src[start:end] with text.
type splice struct {
	start, end int
	text       []byte
}

// apply returns the document's bytes with the splices, which are in order
// and do not overlap, applied.
func (d *document) apply(sp ...splice) []byte {
	size := len(d.src)
	for _, s := range sp {
		size += len(s.text) - (s.end - s.start)
	}
	out := make([]byte, 0, size)
	at := 0
	for _, s := range sp {
		out = append(out, d.src[at:s.start]...)
		out = append(out, s.text...)
		at = s.end
	}
	return append(out, d.src[at:]...)
}

// lineIndent returns the blanks that start the line holding pos.
func (d *document) lineIndent(pos int) string {
	start := bytes.LastIndexByte(d.src[:pos], '\n') + 1
	end := start
	for end < pos && (d.src[end] == ' ' || d.src[end] == '\t') {
		end++
	}
	return string(d.src[start:end])
}

// layout returns how to write a member into object o: the object's own
// layout when it has members to copy from, else the file's (what Jupyter
// writes when a {} gains a key), and the indentation of its members' lines.
func (d *document) layout(o int) (style, string) {
	st := d.style
	container := d.lineIndent(d.nodes[o].start)
	if d.members(o) == 0 {
		if st.indented {
			return st, container + st.unit
		}
		return st, ""
	}
	k0, v0 := d.nodes[d.key(o, 0)], d.nodes[d.val(o, 0)]
	if c := d.src[k0.end:v0.start]; isBlank(bytes.Replace(c, []byte{':'}, nil, 1)) {
		st.colon = string(c)
	}
	lead := d.src[d.nodes[o].start+1 : k0.start]
	if i := bytes.LastIndexByte(lead, '\n'); i >= 0 {
		st.indented = true
		mi := string(lead[i+1:])
		if strings.HasPrefix(mi, container) && len(mi) > len(container) {
			st.unit = mi[len(container):]
		}
		return st, mi
	}
	st.indented = false
	if d.members(o) > 1 {
		c := d.src[v0.end:d.nodes[d.key(o, 1)].start]
		if c[0] == ',' && isBlank(c[1:]) && bytes.IndexByte(c, '\n') < 0 {
			st.comma = string(c)
		}
	}
	return st, ""
}

// setMember returns the document's bytes with object o's member key set to
// val: the old value's span replaced, or a new member inserted (in key
// order when o's keys are sorted, else last).
func (d *document) setMember(o int, key string, val jsonValue) []byte {
	st, mi := d.layout(o)
	if m := d.member(o, key); m >= 0 {
		v := &d.nodes[d.val(o, m)]
		text := render(nil, val.tree, val.root, &st, d.lineIndent(d.nodes[d.key(o, m)].start))
		return d.apply(splice{v.start, v.end, text})
	}
	member := appendPyString(nil, key)
	member = append(member, st.colon...)
	member = render(member, val.tree, val.root, &st, mi)

	n := d.members(o)
	if n == 0 {
		text := []byte{'{'}
		if st.indented {
			text = append(text, st.nl...)
			text = append(text, mi...)
			text = append(text, member...)
			text = append(text, st.nl...)
			text = append(text, d.lineIndent(d.nodes[o].start)...)
		} else {
			text = append(text, member...)
		}
		text = append(text, '}')
		return d.apply(splice{d.nodes[o].start, d.nodes[o].end, text})
	}

	var sep []byte
	switch {
	case n > 1:
		sep = d.src[d.nodes[d.val(o, 0)].end:d.nodes[d.key(o, 1)].start]
	case st.indented:
		sep = []byte("," + st.nl + mi)
	default:
		sep = []byte(st.comma)
	}
	at := n
	if d.keysSorted(o) {
		at = 0
		for at < n && d.str(d.key(o, at)) < key {
			at++
		}
	}
	if at < n {
		pos := d.nodes[d.key(o, at)].start
		return d.apply(splice{pos, pos, slices.Concat(member, sep)})
	}
	pos := d.nodes[d.val(o, n-1)].end
	return d.apply(splice{pos, pos, slices.Concat(sep, member)})
}

func (d *document) keysSorted(o int) bool {
	for i := 1; i < d.members(o); i++ {
		if d.keyLess(d.key(o, i), d.key(o, i-1)) {
			return false
		}
	}
	return true
}

// removeMember returns the document's bytes without object o's members
// named key (all of them: with a duplicate left behind, a reader would
// still see the key), or nil when o has none. Each member goes with the
// separator before it (after it, for leading members), so the layout of
// what stays is untouched; an object left empty becomes {}, as Jupyter
// writes it.
func (d *document) removeMember(o int, key string) []byte {
	n := d.members(o)
	drop := make([]bool, n)
	count := 0
	for i := range n {
		if d.keyIs(d.key(o, i), key) {
			drop[i] = true
			count++
		}
	}
	switch count {
	case 0:
		return nil
	case n:
		return d.apply(splice{d.nodes[o].start, d.nodes[o].end, []byte("{}")})
	}
	var sp []splice
	lead := 0
	for drop[lead] {
		lead++
	}
	if lead > 0 {
		sp = append(sp, splice{d.nodes[d.key(o, 0)].start, d.nodes[d.key(o, lead)].start, nil})
	}
	for i := lead + 1; i < n; i++ {
		if drop[i] {
			sp = append(sp, splice{d.nodes[d.val(o, i-1)].end, d.nodes[d.val(o, i)].end, nil})
		}
	}
	return d.apply(sp...)
}

// validMetadata returns the metadata entries that are valid JSON: a
// Notebook built in memory may hold anything.
func (nb *Notebook) validMetadata() map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(nb.Metadata))
	for k, v := range nb.Metadata {
		if json.Valid(v) {
			m[k] = v
		}
	}
	return m
}

// generate writes a Notebook that was built in memory as Jupyter would,
// from its fields. Invalid raw metadata is left out.
func (nb *Notebook) generate() []byte {
	format, minor := nb.Format, nb.FormatMinor
	if format == 0 {
		format, minor = 4, 5
	}
	cells := make([]map[string]any, len(nb.Cells))
	for i, c := range nb.Cells {
		typ := c.Type
		if typ == "" {
			typ = Code
		}
		meta := map[string]any{}
		if len(c.Tags) > 0 {
			meta["tags"] = c.Tags
		}
		cell := map[string]any{"cell_type": typ, "metadata": meta, "source": splitLines(c.Source)}
		if c.ID != "" {
			cell["id"] = c.ID
		}
		if typ == Code {
			cell["execution_count"] = nil
			cell["outputs"] = []any{}
		}
		cells[i] = cell
	}
	v, err := valueOf(map[string]any{
		"cells":          cells,
		"metadata":       nb.validMetadata(),
		"nbformat":       format,
		"nbformat_minor": minor,
	})
	if err != nil {
		// Unreachable: strings, numbers and valid raw JSON always marshal.
		return nil
	}
	return append(render(nil, v.tree, v.root, &jupyterStyle, ""), '\n')
}

// splitLines splits source into lines that keep their "\n", as nbformat
// stores it.
func splitLines(s string) []string {
	lines := []string{}
	for s != "" {
		i := strings.IndexByte(s, '\n') + 1
		if i == 0 {
			i = len(s)
		}
		lines = append(lines, s[:i])
		s = s[i:]
	}
	return lines
}

// WriteFile writes nb to path atomically: readers see the old notebook or
// the new one, never a mix, even after a crash. The data goes to a
// temporary file in the same directory, is synced and renamed over path,
// and the directory is synced so the rename itself survives a crash. An
// existing file keeps its permissions (a new one gets 0644); a symbolic
// link is kept and its target replaced.
func WriteFile(path string, nb *Notebook) error {
	if nb == nil {
		return fmt.Errorf("write notebook %s: nil notebook", path)
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(target); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := writeAtomic(target, nb.Bytes(), mode); err != nil {
		return fmt.Errorf("write notebook %s: %w", path, err)
	}
	return nil
}

func writeAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Some file systems cannot sync a
// directory; there the rename is as durable as it can be made.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
