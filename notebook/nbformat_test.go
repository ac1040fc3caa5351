package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/internal/synth"
	"github.com/datainsight/datainsight/internal/testenv"
)

// sharedDir is the project's shared test material, which a checkout may
// have beside the module: its notebooks add cases where it exists.
var sharedDir = filepath.Join("..", "..", "shared")

// seedNotebooks lists the style variants in testdata (see testdata/gen.py).
func seedNotebooks(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.ipynb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata notebooks: %v", err)
	}
	return files
}

// allNotebooks adds the analyzer's flow fixtures and a synthetic notebook
// (all in the repository), and the shared corpus and benchmark notebooks
// when this checkout has them beside it.
func allNotebooks(t testing.TB) []string {
	files := seedNotebooks(t)
	dir := t.TempDir()
	flows, err := nbtest.WriteNotebooks(filepath.Join("..", "analyzer", "testdata", "flow", "*.py"), dir)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, flows...)
	o := synth.Options{Steps: 10, Cells: 50}
	path := filepath.Join(dir, o.Name())
	if err := os.WriteFile(path, synth.Notebook(o), 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, path)
	for _, dir := range []string{filepath.Join(sharedDir, "corpus", "analysis"), filepath.Join(sharedDir, "bench")} {
		more, _ := filepath.Glob(filepath.Join(dir, "*.ipynb"))
		files = append(files, more...)
	}
	return files
}

func readTestFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, data []byte) *Notebook {
	t.Helper()
	nb, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return nb
}

func TestRoundTripUnedited(t *testing.T) {
	for _, path := range allNotebooks(t) {
		data := readTestFile(t, path)
		nb, err := ReadFile(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := nb.Bytes(); !bytes.Equal(got, data) {
			p, s := diffBounds(data, got)
			t.Errorf("%s: Bytes() differs from the file at bytes [%d, %d)", path, p, len(data)-s)
		}
		if len(nb.Cells) == 0 {
			t.Errorf("%s: no cells", path)
		}
	}
}

func TestParseIsACopy(t *testing.T) {
	data := readTestFile(t, "testdata/empty_metadata.ipynb")
	orig := bytes.Clone(data)
	nb := mustParse(t, data)
	data[0] = 'X'
	if !bytes.Equal(nb.Bytes(), orig) {
		t.Fatal("changing the caller's slice changed the notebook")
	}
	nb.Bytes()[0] = 'Y'
	if !bytes.Equal(nb.Bytes(), orig) {
		t.Fatal("changing Bytes()'s result changed the notebook")
	}
}

// Every style variant in testdata holds the same notebook, so all must read
// to the same cells.
func TestParseFieldsAcrossStyles(t *testing.T) {
	want := mustParse(t, readTestFile(t, "testdata/jupyter.ipynb"))
	if want.Format != 4 || want.FormatMinor != 5 || want.Language != "python" || len(want.Cells) != 7 {
		t.Fatalf("jupyter.ipynb: format %d.%d, language %q, %d cells", want.Format, want.FormatMinor, want.Language, len(want.Cells))
	}
	c0 := want.Cells[0]
	if c0.Type != Markdown || c0.ID != "md-0" || c0.Tags != nil ||
		c0.Source != "# Démo — 数据 ✓ 🚀\n\nText with \"quotes\", \\backslash\\ and\ttab, U+2028 [\u2028]." {
		t.Errorf("cell 0 = %+v", c0)
	}
	if c := want.Cells[4]; c.Type != Code || c.Source != "" || !slices.Equal(c.Tags, []string{"step:train", "limit:nvidia.com/gpu:1"}) {
		t.Errorf("cell 4 = %+v", c)
	}
	if c := want.Cells[2]; c.Source != "x = np.arange(3)  # ins: -  outs: x\nplt.plot(x)\nprint('loaded 3 rows')" {
		t.Errorf("cell 2 source = %q", c.Source)
	}
	if c := want.Cells[3]; c.Tags != nil { // "tags": [] in the file
		t.Errorf("cell 3 tags = %#v, want nil", c.Tags)
	}
	if c := want.Cells[5]; c.Type != Raw || c.Index != 5 {
		t.Errorf("cell 5 = %+v", c)
	}
	var keys []string
	for k := range want.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if fmt.Sprint(keys) != "[celltoolbar kernelspec kubeflow_notebook language_info zz_unknown]" {
		t.Errorf("metadata keys = %v", keys)
	}
	if got := string(want.Metadata["celltoolbar"]); got != `"Tags"` {
		t.Errorf("metadata.celltoolbar = %s", got)
	}

	for _, path := range seedNotebooks(t) {
		nb := mustParse(t, readTestFile(t, path))
		switch filepath.Base(path) {
		case "empty_metadata.ipynb":
			continue
		case "bom_indent4_r.ipynb":
			if nb.Language != "r" || len(nb.Metadata) != 1 {
				t.Errorf("%s: language %q, metadata %v", path, nb.Language, nb.Metadata)
			}
		default:
			if nb.Language != "python" || len(nb.Metadata) != len(want.Metadata) {
				t.Errorf("%s: language %q, %d metadata keys", path, nb.Language, len(nb.Metadata))
			}
		}
		for i, c := range nb.Cells {
			w := want.Cells[i]
			if filepath.Base(path) == "v44_tabs.ipynb" {
				w.ID = ""
			}
			if c.Index != w.Index || c.ID != w.ID || c.Type != w.Type || c.Source != w.Source || !slices.Equal(c.Tags, w.Tags) {
				t.Errorf("%s: cell %d = %+v, want %+v", path, i, c, w)
			}
		}
	}
}

func TestLanguage(t *testing.T) {
	for _, tc := range []struct{ meta, want string }{
		{`{}`, ""},
		{`{"kernelspec": {"language": "Python"}}`, "python"},
		{`{"language_info": {"name": "R"}}`, "r"},
		{`{"kernelspec": {"language": "Julia"}, "language_info": {"name": "python"}}`, "julia"},
		{`{"kernelspec": {"name": "x"}, "language_info": {"name": "Scala"}}`, "scala"},
		{`{"kernelspec": "odd", "language_info": 3}`, ""},
	} {
		nb := mustParse(t, []byte(`{"cells": [], "metadata": `+tc.meta+`, "nbformat": 4, "nbformat_minor": 5}`))
		if nb.Language != tc.want {
			t.Errorf("metadata %s: Language = %q, want %q", tc.meta, nb.Language, tc.want)
		}
	}
	nb := mustParse(t, readTestFile(t, "testdata/jupyter.ipynb"))
	if err := nb.SetMetadata("kernelspec", map[string]string{"language": "R", "name": "ir"}); err != nil {
		t.Fatal(err)
	}
	if nb.Language != "r" || string(nb.Metadata["kernelspec"]) != "{\n   \"language\": \"R\",\n   \"name\": \"ir\"\n  }" {
		t.Errorf("after SetMetadata: Language %q, kernelspec %s", nb.Language, nb.Metadata["kernelspec"])
	}
}

// nbWith builds a minimal notebook around the given cell objects.
func nbWith(cells ...string) string {
	return `{"cells": [` + strings.Join(cells, ", ") + `], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
}

const okCell = `{"cell_type": "code", "metadata": {}, "source": "x"}`

func TestParseStructuralErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[]`, `a notebook is a JSON object, not a list`},
		{`"x"`, `a notebook is a JSON object, not a string`},
		{`{"cells": []}`, `"nbformat" is missing`},
		{`{"nbformat": "4", "cells": []}`, `"nbformat" must be an integer, not "4"`},
		{`{"nbformat": 4.0, "cells": []}`, `"nbformat" must be an integer, not 4.0`},
		{`{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}`, `nbformat 3 is not supported: Datainsight reads nbformat 4 (open and save it in Jupyter to upgrade)`},
		{`{"nbformat": 4, "nbformat_minor": "5", "cells": []}`, `"nbformat_minor" must be an integer, not "5"`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}`, `"cells" is missing`},
		{`{"nbformat": 4, "cells": {}}`, `"cells" must be a list, not an object`},
		{`{"nbformat": 4, "cells": [], "metadata": []}`, `"metadata" must be an object, not a list`},
		{nbWith(okCell, `7`), `cell 1: a cell must be an object, not a number`},
		{nbWith(okCell, okCell, okCell, `{"metadata": {}, "source": ""}`), `cell 3: "cell_type" is missing`},
		{nbWith(`{"cell_type": null, "source": ""}`), `cell 0: "cell_type" must be a string, not a literal`},
		{nbWith(okCell, `{"cell_type": "heading", "source": ""}`), `cell 1: unknown cell_type "heading" (want "code", "markdown" or "raw")`},
		{nbWith(`{"cell_type": "code", "id": 5, "source": ""}`), `cell 0: "id" must be a string, not a number`},
		{nbWith(okCell, `{"cell_type": "code", "metadata": {}}`), `cell 1: "source" is missing`},
		{nbWith(okCell, okCell, `{"cell_type": "code", "source": 5}`), `cell 2: "source" must be a string or a list of strings`},
		{nbWith(`{"cell_type": "code", "source": ["a\n", null]}`), `cell 0: "source" must be a string or a list of strings`},
		{nbWith(`{"cell_type": "code", "source": [{}]}`), `cell 0: "source" must be a string or a list of strings`},
		{nbWith(`{"cell_type": "code", "source": "", "metadata": "tags"}`), `cell 0: "metadata" must be an object, not a string`},
		{nbWith(okCell, okCell, okCell, okCell, okCell, `{"cell_type": "code", "source": "", "metadata": {"tags": "a"}}`), `cell 5: metadata.tags must be a list of strings`},
		{nbWith(`{"cell_type": "code", "source": "", "metadata": {"tags": ["a", 1]}}`), `cell 0: metadata.tags must be a list of strings`},
		{nbWith(`{"cell_type": "code", "source": "", "metadata": {"tags": null}}`), `cell 0: metadata.tags must be a list of strings`},
	} {
		nb, err := Parse([]byte(tc.in))
		if err == nil {
			t.Errorf("Parse(%s) = %+v, want error %q", tc.in, nb, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%s):\n got %q\nwant %q", tc.in, err, tc.want)
		}
		var se *SyntaxError
		if errors.As(err, &se) {
			t.Errorf("Parse(%s): a structural error must not be a *SyntaxError", tc.in)
		}
		if got := errors.Is(err, ErrUnsupportedFormat); got != strings.Contains(tc.want, "not supported") {
			t.Errorf("Parse(%s): errors.Is(err, ErrUnsupportedFormat) = %v", tc.in, got)
		}
	}
}

// Python's json module keeps the last of duplicate keys; so does Parse, so
// both read the same notebook.
func TestDuplicateKeysLastWins(t *testing.T) {
	nb := mustParse(t, []byte(`{"nbformat": 3, "cells": [{"cell_type": "code", "source": "a", "source": "b",
		"metadata": {"tags": 5, "tags": ["x"]}}], "nbformat": 4}`))
	if c := nb.Cells[0]; c.Source != "b" || !slices.Equal(c.Tags, []string{"x"}) {
		t.Fatalf("cell = %+v", c)
	}
	// Removing the tags removes every copy: a copy left behind would be
	// what a reader sees.
	if err := nb.SetTags(0, nil); err != nil {
		t.Fatal(err)
	}
	if got := string(nb.Bytes()); strings.Contains(got, "tags") || !strings.Contains(got, `"metadata": {}`) {
		t.Fatalf("after removing tags: %s", got)
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	valid := nbWith(okCell)
	for _, tc := range []struct {
		in        string
		off       int64
		line, col int
		msg       string
	}{
		{"", 0, 1, 1, "the input is empty"},
		{" \n\t", 3, 2, 2, "the input is empty"},
		{"{", 1, 1, 2, "unexpected end of input, expected a string key"},
		{`{"cells": [}`, 11, 1, 12, `unexpected character '}', expected a value`},
		{"{\n \"é\": x}", 9, 2, 7, `unexpected character 'x', expected a value`},
		{"{\r\n \"数据\": 1,\r\n \"b\" 2}", 23, 3, 6, `unexpected character '2', expected ':' after an object key`},
		{`{"a": 1 "b": 2}`, 8, 1, 9, `unexpected character '"', expected ',' or '}' in object starting at byte 0`},
		{`{"a": [1, 2}`, 11, 1, 12, `unexpected character '}', expected ',' or ']' in list starting at byte 6`},
		{`{"a": 1,}`, 8, 1, 9, `unexpected character '}', expected a string key`},
		{`{1: 2}`, 1, 1, 2, `unexpected character '1', expected a string key`},
		{`{"a": "x`, 6, 1, 7, `unterminated string`},
		{"{\"a\": \"x\ty\"}", 8, 1, 9, `control character U+0009 in a string (it must be escaped)`},
		{`{"a": "\q"}`, 7, 1, 8, `invalid escape \'q'`},
		{`{"a": "\u12g4"}`, 7, 1, 8, `invalid \u escape: want four hex digits`},
		{`{"a": 01}`, 7, 1, 8, `unexpected character '1', expected ',' or '}' in object starting at byte 0`},
		{`{"a": -}`, 7, 1, 8, `invalid number: unexpected character '}', expected a digit`},
		{`{"a": 1.}`, 8, 1, 9, `invalid number: unexpected character '}', expected a digit after '.'`},
		{`{"a": 1e+}`, 9, 1, 10, `invalid number: unexpected character '}', expected a digit in the exponent`},
		{`{"a": tru}`, 6, 1, 7, `unexpected character 't', expected a value`},
		{"{\"a\": \xff}", 6, 1, 7, `unexpected byte 0xff, expected a value`},
		{valid + " x", int64(len(valid) + 1), 1, len(valid) + 2, `unexpected character 'x' after the end of the top-level value`},
		{valid + "\n{}", int64(len(valid) + 1), 2, 1, `unexpected character '{' after the end of the top-level value`},
		{strings.Repeat("[", maxDepth+1), maxDepth, 1, maxDepth + 1, fmt.Sprintf("nesting deeper than %d levels", maxDepth)},
	} {
		_, err := Parse([]byte(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%.40q) = %v, want a *SyntaxError", tc.in, err)
			continue
		}
		want := SyntaxError{Offset: tc.off, Line: tc.line, Col: tc.col, Msg: tc.msg}
		if *se != want {
			t.Errorf("Parse(%.40q):\n got %+v\nwant %+v", tc.in, *se, want)
		}
		wantText := fmt.Sprintf("invalid notebook JSON at line %d, column %d (byte %d): %s", tc.line, tc.col, tc.off, tc.msg)
		if err.Error() != wantText {
			t.Errorf("Error() = %q, want %q", err, wantText)
		}
	}
}

// What Python's json module writes must read back: NaN and Infinity (in
// outputs), a byte order mark, escapes, deep but sane nesting.
func TestParseAcceptsWhatPythonWrites(t *testing.T) {
	for _, extra := range []string{
		`{"x": [NaN, Infinity, -Infinity, -0, 1E+2, 0.5e-3]}`,
		`{"s": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude80\ud800"}`,
		strings.Repeat("[", 500) + strings.Repeat("]", 500),
	} {
		in := `{"cells": [], "metadata": {"x": ` + extra + `}, "nbformat": 4, "nbformat_minor": 5}`
		for _, data := range []string{in, "\ufeff" + in} {
			nb, err := Parse([]byte(data))
			if err != nil {
				t.Errorf("Parse(%.60s...): %v", data, err)
				continue
			}
			if string(nb.Bytes()) != data {
				t.Errorf("round trip changed %.60s...", data)
			}
		}
	}
	var d *document
	{
		nb := mustParse(t, []byte(`{"cells": [{"cell_type": "code", "source": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude80\ud800\u0041"}], "nbformat": 4}`))
		if got, want := nb.Cells[0].Source, "\"\\/\b\f\n\r\té🚀\uFFFDA"; got != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
		d = nb.doc
	}
	if d.meta != -1 {
		t.Errorf("meta = %d for a notebook without metadata", d.meta)
	}
}

// diffBounds returns the lengths of the common prefix and suffix of a and b,
// the suffix not overlapping the prefix in either.
func diffBounds(a, b []byte) (prefix, suffix int) {
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	return prefix, suffix
}

// checkConfined fails unless new is old with at most old[start:end]
// replaced: the bytes before and after the edited span are kept.
func checkConfined(t testing.TB, what string, old, new []byte, start, end int) {
	t.Helper()
	tail := old[end:]
	if len(new) < start+len(tail) || !bytes.Equal(new[:start], old[:start]) || !bytes.Equal(new[len(new)-len(tail):], tail) {
		p, s := diffBounds(old, new)
		t.Errorf("%s: bytes [%d, %d) changed, outside the edited span [%d, %d):\n%s", what, p, len(old)-s, start, end, new)
	}
}

func TestSetTagsChangesOnlyThatCell(t *testing.T) {
	files := seedNotebooks(t)
	flows, err := nbtest.WriteNotebooks(filepath.Join("..", "analyzer", "testdata", "flow", "c01-*.py"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, flows...)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Log(err)
			continue
		}
		orig := mustParse(t, data)
		for i := range orig.Cells {
			nb := mustParse(t, data)
			d := nb.doc
			span := d.nodes[d.cells[i]]
			if m := d.lookup(d.cells[i], "metadata"); m >= 0 {
				span = d.nodes[m]
			}
			tags := []string{"step:x", `q"uote \back` + "\t\x01é数🚀\u2028<&>"}
			if err := nb.SetTags(i, tags); err != nil {
				t.Fatalf("%s: SetTags(%d): %v", path, i, err)
			}
			edited := nb.Bytes()
			what := fmt.Sprintf("%s cell %d", filepath.Base(path), i)
			checkConfined(t, what, data, edited, span.start, span.end)
			if !slices.Equal(nb.Cells[i].Tags, tags) {
				t.Errorf("%s: Cells[%d].Tags = %q", what, i, nb.Cells[i].Tags)
			}
			re := mustParse(t, edited)
			for j, c := range re.Cells {
				w := orig.Cells[j]
				if j == i {
					w.Tags = tags
				}
				if c.Source != w.Source || c.ID != w.ID || c.Type != w.Type || !slices.Equal(c.Tags, w.Tags) {
					t.Errorf("%s: re-read cell %d = %+v, want %+v", what, j, c, w)
				}
			}
			if fmt.Sprint(re.Metadata) != fmt.Sprint(orig.Metadata) {
				t.Errorf("%s: notebook metadata changed", what)
			}

			// Undo: the original bytes come back when the file's layout is
			// regular, which it is in every seed.
			if err := nb.SetTags(i, orig.Cells[i].Tags); err != nil {
				t.Fatal(err)
			}
			hadEmptyList := orig.Cells[i].Tags == nil && d.lookup(d.lookup(d.cells[i], "metadata"), "tags") >= 0
			if !hadEmptyList && !bytes.Equal(nb.Bytes(), data) {
				p, s := diffBounds(data, nb.Bytes())
				t.Errorf("%s: setting the old tags back left a difference at [%d, %d):\n%s", what, p, len(data)-s, nb.Bytes())
			}
		}
	}
}

func TestSetTagsNoopKeepsBytes(t *testing.T) {
	data := []byte(nbWith(`{"cell_type": "code", "metadata": {"tags": [ "a" ,"b"]}, "source": ""}`))
	nb := mustParse(t, data)
	if err := nb.SetTags(0, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := nb.SetMetadata("absent", nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(nb.Bytes(), data) {
		t.Fatalf("a no-op edit changed the bytes:\n%s", nb.Bytes())
	}
}

// Exact results in layouts Jupyter does not write, where Python cannot
// serve as the oracle.
func TestEditLayouts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		edit     func(*Notebook) error
		want     string
	}{{
		name: "compact object, compact result",
		in:   `{"cells":[{"cell_type":"code","metadata":{"a":1},"source":""}],"metadata":{},"nbformat":4}`,
		edit: func(nb *Notebook) error { return nb.SetTags(0, []string{"x", "y"}) },
		want: `{"cells":[{"cell_type":"code","metadata":{"a":1,"tags":["x","y"]},"source":""}],"metadata":{},"nbformat":4}`,
	}, {
		name: "unsorted object: append",
		in:   "{\n  \"nbformat\": 4,\n  \"metadata\": {\n    \"z\": 1,\n    \"a\": 2\n  },\n  \"cells\": []\n}",
		edit: func(nb *Notebook) error { return nb.SetMetadata("m", []int{1}) },
		want: "{\n  \"nbformat\": 4,\n  \"metadata\": {\n    \"z\": 1,\n    \"a\": 2,\n    \"m\": [\n      1\n    ]\n  },\n  \"cells\": []\n}",
	}, {
		name: "sorted object: sorted position, CRLF and tabs kept",
		in:   "{\r\n\t\"cells\": [],\r\n\t\"metadata\": {\r\n\t\t\"a\": 1,\r\n\t\t\"z\": 2\r\n\t},\r\n\t\"nbformat\": 4\r\n}\r\n",
		edit: func(nb *Notebook) error { return nb.SetMetadata("m", map[string]any{"k": "v"}) },
		want: "{\r\n\t\"cells\": [],\r\n\t\"metadata\": {\r\n\t\t\"a\": 1,\r\n\t\t\"m\": {\r\n\t\t\t\"k\": \"v\"\r\n\t\t},\r\n\t\t\"z\": 2\r\n\t},\r\n\t\"nbformat\": 4\r\n}\r\n",
	}, {
		name: "empty object in a 2-space file",
		in:   "{\n  \"cells\": [\n    {\n      \"cell_type\": \"code\",\n      \"metadata\": {},\n      \"source\": \"\"\n    }\n  ],\n  \"nbformat\": 4\n}",
		edit: func(nb *Notebook) error { return nb.SetTags(0, []string{"t"}) },
		want: "{\n  \"cells\": [\n    {\n      \"cell_type\": \"code\",\n      \"metadata\": {\n        \"tags\": [\n          \"t\"\n        ]\n      },\n      \"source\": \"\"\n    }\n  ],\n  \"nbformat\": 4\n}",
	}, {
		name: "cell without metadata gains one",
		in:   "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"source\": \"\"\n  }\n ],\n \"nbformat\": 4\n}",
		edit: func(nb *Notebook) error { return nb.SetTags(0, []string{"t"}) },
		want: "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"metadata\": {\n    \"tags\": [\n     \"t\"\n    ]\n   },\n   \"source\": \"\"\n  }\n ],\n \"nbformat\": 4\n}",
	}, {
		name: "notebook without metadata gains one",
		in:   "{\"nbformat\": 4, \"cells\": []}",
		edit: func(nb *Notebook) error { return nb.SetMetadata("k", "v") },
		want: "{\"nbformat\": 4, \"cells\": [], \"metadata\": {\"k\": \"v\"}}",
	}, {
		name: "remove the first of several members",
		in:   "{\"nbformat\": 4, \"cells\": [], \"metadata\": {\"a\": 1, \"b\": 2, \"a\": 3, \"c\": 4}}",
		edit: func(nb *Notebook) error { return nb.SetMetadata("a", nil) },
		want: "{\"nbformat\": 4, \"cells\": [], \"metadata\": {\"b\": 2, \"c\": 4}}",
	}, {
		name: "remove the last member",
		in:   "{\"nbformat\": 4, \"cells\": [], \"metadata\": {\n \"a\": 1,\n \"b\": 2\n}}",
		edit: func(nb *Notebook) error { return nb.SetMetadata("b", nil) },
		want: "{\"nbformat\": 4, \"cells\": [], \"metadata\": {\n \"a\": 1\n}}",
	}} {
		nb := mustParse(t, []byte(tc.in))
		if err := tc.edit(nb); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := string(nb.Bytes()); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
		if _, err := Parse(nb.Bytes()); err != nil {
			t.Errorf("%s: result does not parse: %v", tc.name, err)
		}
	}
}

type pyJob struct {
	Path   string `json:"path"`
	Indent any    `json:"indent"`
	CRLF   bool   `json:"crlf"`
	BOM    bool   `json:"bom"`
}

// pythonRewrite has Python load each job's file and write it back the way
// the tool that made it would (sort_keys, ensure_ascii=False, the file's
// indent), into path + ".py". One process for all jobs keeps it cheap.
func pythonRewrite(t *testing.T, jobs []pyJob) {
	t.Helper()
	const script = `
import json, sys
for job in json.load(sys.stdin):
    with open(job["path"], encoding="utf-8-sig", newline="") as f:
        nb = json.load(f)
    text = json.dumps(nb, sort_keys=True, indent=job["indent"], ensure_ascii=False) + "\n"
    if job["crlf"]:
        text = text.replace("\n", "\r\n")
    if job["bom"]:
        text = "\ufeff" + text
    with open(job["path"] + ".py", "w", encoding="utf-8", newline="") as f:
        f.write(text)
`
	in, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
}

// metadataValue exercises what encoding/json and Python write differently:
// HTML characters, U+2028, control characters, float formatting, key order.
var metadataValue = map[string]any{
	"name":        `démo "pipeline" <&> \ ` + "\u2028\u2029\x01\x1f\x7f\t\n🚀",
	"floats":      []float64{1.0, 0.5, 1e-7, 0.0001, 0.00001, 1e15, 1e16, 1e21, 123456789.125, -2.5e-300, 1.7976931348623157e308},
	"ints":        []int64{0, -1, 1 << 53},
	"nested":      map[string]any{"z": []any{}, "a": map[string]any{}, "m": nil, "b": true},
	"struct":      struct{ Zeta, Alpha string }{"z", "a"},
	"raw":         json.RawMessage(`{"y": [1.0, 2E3, -0], "x": "\u003c"}`),
	"step_limits": []string{"limit:nvidia.com/gpu:1"},
}

// Edits on a notebook Jupyter wrote must leave exactly what Jupyter would
// write: Python loads each result and writes it back; nothing may change.
func TestEditsMatchPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		testenv.Missing(t, "no /usr/bin/python3")
	}
	edits := []struct {
		name string
		fn   func(*Notebook) error
	}{
		{"unedited", func(*Notebook) error { return nil }},
		{"tags into {}", func(nb *Notebook) error { return nb.SetTags(0, []string{"step:a", `q"\` + "\x01é🚀\u2028<&>"}) }},
		{"tags replaced", func(nb *Notebook) error { return nb.SetTags(1, []string{"imports", "x"}) }},
		{"tags inserted among keys", func(nb *Notebook) error { return nb.SetTags(2%len(nb.Cells), []string{"z"}) }},
		{"only key removed", func(nb *Notebook) error { return nb.SetTags(1, nil) }},
		{"tags removed", func(nb *Notebook) error { return nb.SetTags(len(nb.Cells)-1, []string{}) }},
		{"metadata inserted", func(nb *Notebook) error { return nb.SetMetadata("datainsight", metadataValue) }},
		{"metadata first", func(nb *Notebook) error { return nb.SetMetadata("aaa", 1) }},
		{"metadata last", func(nb *Notebook) error { return nb.SetMetadata("zzzz", []any{"last", 2.0}) }},
		{"metadata replaced", func(nb *Notebook) error {
			return nb.SetMetadata("kernelspec", map[string]string{"language": "python", "name": "py"})
		}},
		{"metadata removed", func(nb *Notebook) error { return nb.SetMetadata("celltoolbar", nil) }},
		{"metadata key escaped", func(nb *Notebook) error { return nb.SetMetadata("k\"é\x02", "v") }},
		{"tags on every cell", func(nb *Notebook) error {
			for i := range nb.Cells {
				if err := nb.SetTags(i, []string{fmt.Sprint("c", i)}); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	sources := []struct {
		file   string
		indent any
		crlf   bool
		bom    bool
	}{
		{"jupyter.ipynb", 1, false, false},
		{"empty_metadata.ipynb", 1, false, false},
		{"crlf.ipynb", 1, true, false},
		{"v44_tabs.ipynb", "\t", false, false},
		{"bom_indent4_r.ipynb", 4, false, true},
	}
	dir := t.TempDir()
	var jobs []pyJob
	var results [][]byte
	for _, src := range sources {
		nb := mustParse(t, readTestFile(t, filepath.Join("testdata", src.file)))
		for _, e := range edits {
			if err := e.fn(nb); err != nil {
				t.Fatalf("%s: %s: %v", src.file, e.name, err)
			}
			path := filepath.Join(dir, fmt.Sprintf("%d.ipynb", len(jobs)))
			out := nb.Bytes()
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, pyJob{path, src.indent, src.crlf, src.bom})
			results = append(results, out)
		}
	}
	// A notebook built in memory is written as Jupyter writes one.
	mem := &Notebook{Cells: []Cell{
		{ID: "a", Type: Code, Source: "x = 1\ny = 2\n", Tags: []string{"t"}},
		{Type: Markdown, Source: "# é"},
		{Source: ""},
	}, Metadata: map[string]json.RawMessage{"k": json.RawMessage(`{"b": 1.50, "a": "<"}`), "bad": json.RawMessage(`{`)}}
	if err := mem.SetTags(2, []string{"u"}); err != nil {
		t.Fatal(err)
	}
	if err := mem.SetMetadata("kernelspec", map[string]string{"language": "Python"}); err != nil || mem.Language != "python" {
		t.Fatalf("in-memory SetMetadata: %v, language %q", err, mem.Language)
	}
	path := filepath.Join(dir, "memory.ipynb")
	if err := os.WriteFile(path, mem.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	jobs = append(jobs, pyJob{Path: path, Indent: 1})
	results = append(results, mem.Bytes())
	if re := mustParse(t, mem.Bytes()); len(re.Cells) != 3 || re.Cells[0].Source != "x = 1\ny = 2\n" || !slices.Equal(re.Cells[2].Tags, []string{"u"}) {
		t.Errorf("in-memory notebook re-read as %+v", re.Cells)
	}

	pythonRewrite(t, jobs)
	for i, job := range jobs {
		want := readTestFile(t, job.Path+".py")
		if !bytes.Equal(results[i], want) {
			src, e := i/len(edits), i%len(edits)
			name := "in-memory notebook"
			if src < len(sources) {
				name = sources[src].file + " after " + edits[e].name
			}
			p, s := diffBounds(want, results[i])
			t.Errorf("%s: differs from Python's rewrite at byte %d:\n ours: %q\n python: %q", name, p,
				results[i][max(0, p-80):len(results[i])-s], want[max(0, p-80):len(want)-s])
		}
	}
	// The cases above must really have been exercised.
	for _, want := range []string{"\n    1e-07,\n", "\n     2000.0,\n", `<&>`, "\u2028\u2029\\u0001", `"k\"é\u0002": "v"`} {
		if !bytes.Contains(results[len(edits)-1], []byte(want)) {
			t.Errorf("%q is not in the result:\n%s", want, results[len(edits)-1])
		}
	}
}

func TestAppendPyFloat(t *testing.T) {
	// Python's repr() of each.
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -1.5: "-1.5", 0.1: "0.1", 1e-4: "0.0001", 1e-5: "1e-05", 1.5e-7: "1.5e-07",
		1e15: "1000000000000000.0", 1e16: "1e+16", 1.2345e17: "1.2345e+17", 1e100: "1e+100",
		5e-324: "5e-324", 123456.789: "123456.789", 2.5e-300: "2.5e-300",
	} {
		if got := string(appendPyFloat(nil, f)); got != want {
			t.Errorf("appendPyFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestSetTagsErrors(t *testing.T) {
	nb := mustParse(t, readTestFile(t, "testdata/empty_metadata.ipynb"))
	before := nb.Bytes()
	for _, tc := range []struct {
		cell int
		tags []string
		want string
	}{
		{2, []string{"a"}, "set tags: cell 2 does not exist (the notebook has 2 cells)"},
		{-1, []string{"a"}, "set tags: cell -1 does not exist (the notebook has 2 cells)"},
		{0, []string{"ok", "bad\xff"}, `set tags: cell 0: tag "bad\xff" is not valid UTF-8`},
	} {
		if err := nb.SetTags(tc.cell, tc.tags); err == nil || err.Error() != tc.want {
			t.Errorf("SetTags(%d, %q) = %v, want %q", tc.cell, tc.tags, err, tc.want)
		}
	}
	if err := nb.SetMetadata("bad", make(chan int)); err == nil || !strings.HasPrefix(err.Error(), `set metadata "bad": json: unsupported type`) {
		t.Errorf("SetMetadata(chan) = %v", err)
	}
	if err := nb.SetMetadata("\xff", 1); err == nil || err.Error() != `set metadata: key "\xff" is not valid UTF-8` {
		t.Errorf("SetMetadata(bad key) = %v", err)
	}
	if !bytes.Equal(nb.Bytes(), before) {
		t.Error("a failed edit changed the notebook")
	}
	var none *Notebook
	if none.SetTags(0, nil) == nil || none.SetMetadata("k", 1) == nil || none.Bytes() != nil {
		t.Error("nil notebook: want errors and nil bytes")
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.ipynb")
	if _, err := ReadFile(missing); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadFile(missing) = %v", err)
	}
	bad := filepath.Join(dir, "bad.ipynb")
	if err := os.WriteFile(bad, []byte("{\n \"cells\": [,]}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(bad)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || se.Col != 12 ||
		err.Error() != bad+`: invalid notebook JSON at line 2, column 12 (byte 13): unexpected character ',', expected a value` {
		t.Errorf("ReadFile(bad) = %v", err)
	}
	v3 := filepath.Join(dir, "v3.ipynb")
	if err := os.WriteFile(v3, []byte(`{"nbformat": 3, "worksheets": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(v3); !errors.Is(err, ErrUnsupportedFormat) || !strings.HasPrefix(err.Error(), v3+": nbformat 3 is not supported") {
		t.Errorf("ReadFile(v3) = %v", err)
	}
}

// tempFiles lists what WriteFile may have left behind in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	nb := mustParse(t, readTestFile(t, "testdata/jupyter.ipynb"))
	if err := nb.SetTags(0, []string{"new"}); err != nil {
		t.Fatal(err)
	}
	want := nb.Bytes()

	t.Run("new file", func(t *testing.T) {
		path := filepath.Join(dir, "new.ipynb")
		if err := WriteFile(path, nb); err != nil {
			t.Fatal(err)
		}
		if got := readTestFile(t, path); !bytes.Equal(got, want) {
			t.Error("content differs")
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", fi.Mode())
		}
	})

	t.Run("mode kept", func(t *testing.T) {
		for _, mode := range []fs.FileMode{0o600, 0o640, 0o755} {
			path := filepath.Join(dir, fmt.Sprintf("m%o.ipynb", mode))
			if err := os.WriteFile(path, []byte("old"), mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil { // past the umask
				t.Fatal(err)
			}
			if err := WriteFile(path, nb); err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != mode {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), mode)
			}
			if !bytes.Equal(readTestFile(t, path), want) {
				t.Error("content differs")
			}
		}
	})

	t.Run("symlink kept", func(t *testing.T) {
		target := filepath.Join(dir, "target.ipynb")
		link := filepath.Join(dir, "link.ipynb")
		if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("target.ipynb", link); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(link, nb); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v", err)
		}
		if !bytes.Equal(readTestFile(t, target), want) {
			t.Error("the link's target was not written")
		}
	})

	t.Run("path is a directory", func(t *testing.T) {
		sub := filepath.Join(dir, "sub.ipynb")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		err := WriteFile(sub, nb)
		if err == nil || err.Error() != "write notebook "+sub+": "+sub+" is a directory" {
			t.Errorf("WriteFile(dir) = %v", err)
		}
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(dir, "no", "such", "nb.ipynb")
		if err := WriteFile(path, nb); err == nil || !strings.HasPrefix(err.Error(), "write notebook "+path+": ") {
			t.Errorf("WriteFile = %v", err)
		}
	})

	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A notebook in a folder the user may not write to keeps its content, and
// no temporary file is left. (As root, where permissions stop nothing, the
// test runs as user nobody.)
func TestWriteFileReadOnlyDirectory(t *testing.T) {
	if !testenv.Unprivileged(t) {
		return
	}
	nb := mustParse(t, []byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ro, "nb.ipynb")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o755)
	if err := WriteFile(path, nb); err == nil {
		t.Error("WriteFile into a read-only directory succeeded")
	}
	if got := readTestFile(t, path); string(got) != "old" {
		t.Errorf("content = %q, want the old one", got)
	}
	if left := tempFiles(t, ro); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A reader racing the writer sees the old notebook or the new one, whole.
func TestWriteFileAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nb.ipynb")
	a := mustParse(t, readTestFile(t, "testdata/jupyter.ipynb"))
	b := mustParse(t, readTestFile(t, "testdata/jupyter.ipynb"))
	if err := b.SetMetadata("datainsight", map[string]string{"pad": strings.Repeat("x", 1<<16)}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, bad atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			got, err := os.ReadFile(path)
			reads.Add(1)
			if err != nil || (!bytes.Equal(got, a.Bytes()) && !bytes.Equal(got, b.Bytes())) {
				bad.Add(1)
			}
		}
	}()
	for i := range 40 {
		nb := a
		if i%2 == 0 {
			nb = b
		}
		if err := WriteFile(path, nb); err != nil {
			t.Error(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d of %d reads saw a missing or partial notebook", bad.Load(), reads.Load())
	}
	if left := tempFiles(t, filepath.Dir(path)); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"synth_s100_c500.ipynb", "synth_s200_c1000.ipynb"} {
		o, err := synth.ByName(name)
		if err != nil {
			b.Fatal(err)
		}
		data := synth.Notebook(o)
		b.Run(strings.TrimSuffix(name, ".ipynb"), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSetTags(b *testing.B) {
	nb := mustParse(b, synth.Notebook(synth.Options{Steps: 200, Cells: 1000}))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := nb.SetTags(i%len(nb.Cells), []string{"step:s", fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// relayout rewrites the whitespace between JSON tokens at random: the
// layouts no tool writes, where an edit must still keep the rest intact.
func relayout(src []byte, rnd *rand.Rand) []byte {
	blanks := []string{"", "", " ", "\n", "\r\n", "\n   ", "\t", "\n\t\t"}
	out := make([]byte, 0, len(src)*2)
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString:
			out = append(out, c)
			if c == '\\' {
				i++
				out = append(out, src[i])
			} else if c == '"' {
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			// dropped: replaced after each token below
		default:
			out = append(out, c)
			inString = c == '"'
			if strings.IndexByte("{}[],:", c) >= 0 {
				out = append(out, blanks[rnd.IntN(len(blanks))]...)
			}
		}
	}
	return out
}

func TestEditsUnderRandomLayouts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, path := range seedNotebooks(t) {
		data := readTestFile(t, path)
		want := mustParse(t, data)
		for range 30 {
			src := relayout(bytes.TrimPrefix(data, []byte("\ufeff")), rnd)
			nb, err := Parse(src)
			if err != nil {
				t.Fatalf("%s relaid out: %v\n%s", path, err, src)
			}
			for i := range nb.Cells {
				if nb.Cells[i].Source != want.Cells[i].Source {
					t.Fatalf("%s relaid out: cell %d source differs", path, i)
				}
			}
			i := rnd.IntN(len(nb.Cells))
			before, span := nb.Bytes(), nb.doc.nodes[nb.doc.cells[i]]
			tags := []string{"t", fmt.Sprint(i)}
			if err := nb.SetTags(i, tags); err != nil {
				t.Fatal(err)
			}
			checkConfined(t, path, before, nb.Bytes(), span.start, span.end)
			before, span = nb.Bytes(), nb.doc.nodes[nb.doc.meta]
			if err := nb.SetMetadata("datainsight", map[string]any{"a": []int{1}, "b": map[string]int{}}); err != nil {
				t.Fatal(err)
			}
			checkConfined(t, path, before, nb.Bytes(), span.start, span.end)
			re, err := Parse(nb.Bytes())
			if err != nil {
				t.Fatalf("%s: edited notebook does not parse: %v\n%s", path, err, nb.Bytes())
			}
			if !slices.Equal(re.Cells[i].Tags, tags) || string(re.Metadata["datainsight"]) == "" {
				t.Fatalf("%s: edits lost", path)
			}
		}
	}
}
