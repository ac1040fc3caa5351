package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzSeeds are the seed notebooks plus the shared corpus; the large bench
// notebooks are left out, as they would slow every execution.
func fuzzSeeds(f *testing.F) [][]byte {
	files := seedNotebooks(f)
	more, _ := filepath.Glob(filepath.Join(sharedDir, "corpus", "analysis", "*.ipynb"))
	files = append(files, more...)
	files = append(files, filepath.Join(sharedDir, "bench", "synth_s10_c50.ipynb"))
	var seeds [][]byte
	for _, path := range files {
		if data, err := os.ReadFile(path); err == nil {
			seeds = append(seeds, data)
		}
	}
	return seeds
}

// maxFuzzEdits bounds the edits per input, so one large input cannot stall
// the fuzzer.
const maxFuzzEdits = 8

func FuzzParse(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	for _, s := range []string{
		nbWith(okCell),
		`{"nbformat":4,"cells":[{"cell_type":"raw","source":[]}]}`,
		`{"nbformat":4,"cells":[{"cell_type":"code","source":"","metadata":{"tags":["a"],"tags":["b"]}}],"metadata":{"a":1,"a":2}}`,
		"\ufeff{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"markdown\", \"source\": \"\\ud800\"}]}",
		"{\r\n\t\"cells\": [{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\r\n\t}}],\r\n\t\"nbformat\": 4\r\n}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) && (se.Offset < 0 || se.Offset > int64(len(data)) || se.Line < 1 || se.Col < 1) {
				t.Fatalf("syntax error out of range: %+v", se)
			}
			return
		}
		if !bytes.Equal(nb.Bytes(), data) {
			t.Fatal("Bytes() of an unedited notebook differs from the input")
		}
		orig := mustParse(t, data)
		want := slices.Clone(orig.Cells)
		for i := range min(len(nb.Cells), maxFuzzEdits) {
			before := nb.Bytes()
			span := nb.doc.nodes[nb.doc.cells[i]]
			tags := []string{"step:x", "é\"\\\n\u2028"}
			if i%3 == 2 {
				tags = nil
			}
			if err := nb.SetTags(i, tags); err != nil {
				t.Fatalf("SetTags(%d): %v", i, err)
			}
			checkConfined(t, "SetTags", before, nb.Bytes(), span.start, span.end)
			want[i].Tags = tags
			re, err := Parse(nb.Bytes())
			if err != nil {
				t.Fatalf("after SetTags(%d): %v\n%s", i, err, nb.Bytes())
			}
			for j, c := range re.Cells {
				if c.Source != want[j].Source || !slices.Equal(c.Tags, want[j].Tags) {
					t.Fatalf("after SetTags(%d): cell %d = %+v, want %+v", i, j, c, want[j])
				}
			}
		}

		before := nb.Bytes()
		span := nb.doc.nodes[nb.doc.root]
		if nb.doc.meta >= 0 {
			span = nb.doc.nodes[nb.doc.meta]
		}
		if err := nb.SetMetadata("datainsight", map[string]any{"name": "p<&>\x00", "n": 1.5}); err != nil {
			t.Fatalf("SetMetadata: %v", err)
		}
		checkConfined(t, "SetMetadata", before, nb.Bytes(), span.start, span.end)
		re, err := Parse(nb.Bytes())
		if err != nil {
			t.Fatalf("after SetMetadata: %v\n%s", err, nb.Bytes())
		}
		var got map[string]any
		if err := json.Unmarshal(re.Metadata["datainsight"], &got); err != nil || got["name"] != "p<&>\x00" || got["n"] != 1.5 {
			t.Fatalf("after SetMetadata: datainsight = %s (%v)", re.Metadata["datainsight"], err)
		}
		for j, c := range re.Cells {
			if c.Source != want[j].Source || !slices.Equal(c.Tags, want[j].Tags) {
				t.Fatalf("after SetMetadata: cell %d changed", j)
			}
		}
		if err := nb.SetMetadata("datainsight", nil); err != nil {
			t.Fatal(err)
		}
		if _, ok := nb.Metadata["datainsight"]; ok {
			t.Fatal("SetMetadata(nil) left the key")
		}
		if _, err := Parse(nb.Bytes()); err != nil {
			t.Fatalf("after removing metadata: %v", err)
		}
	})
}

func FuzzSetTags(f *testing.F) {
	var docs []*Notebook
	for _, path := range seedNotebooks(f) {
		docs = append(docs, mustParse(f, readTestFile(f, path)))
	}
	f.Add(uint8(0), uint8(0), "step:train", "limit:nvidia.com/gpu:1", "")
	f.Add(uint8(1), uint8(2), "q\"\\", "\x00\x1f\x7f", "é数🚀\u2028\u2029")
	f.Add(uint8(3), uint8(4), "", "<&>", "\xff")
	f.Add(uint8(6), uint8(6), "\xed\xa0\x80", "\t\r\n", "a\"b")
	f.Fuzz(func(t *testing.T, doc, cell uint8, a, b, c string) {
		nb := docs[int(doc)%len(docs)]
		data := nb.Bytes()
		nb = mustParse(t, data)
		i := int(cell) % len(nb.Cells)
		tags := []string{a, b, c}[:1+int(cell)%3]
		valid := !slices.ContainsFunc(tags, func(s string) bool { return !utf8.ValidString(s) })
		err := nb.SetTags(i, tags)
		if !valid {
			if err == nil {
				t.Fatalf("SetTags(%q) accepted invalid UTF-8", tags)
			}
			if !bytes.Equal(nb.Bytes(), data) {
				t.Fatal("a refused edit changed the notebook")
			}
			return
		}
		if err != nil {
			t.Fatalf("SetTags(%d, %q): %v", i, tags, err)
		}
		d := mustParse(t, data).doc
		checkConfined(t, "SetTags", data, nb.Bytes(), d.nodes[d.cells[i]].start, d.nodes[d.cells[i]].end)
		re, err := Parse(nb.Bytes())
		if err != nil {
			t.Fatalf("after SetTags(%q): %v", tags, err)
		}
		if !slices.Equal(re.Cells[i].Tags, tags) {
			t.Fatalf("re-read tags %q, want %q", re.Cells[i].Tags, tags)
		}
		var check []string
		if err := json.Unmarshal(re.doc.raw(re.doc.lookup(re.doc.lookup(re.doc.cells[i], "metadata"), "tags")), &check); err != nil || !slices.Equal(check, tags) {
			t.Fatalf("encoding/json reads the tags as %q (%v), want %q", check, err, tags)
		}
		if err := nb.SetMetadata(a, b); err != nil {
			if !utf8.ValidString(a) {
				return
			}
			t.Fatalf("SetMetadata(%q): %v", a, err)
		}
		re, err = Parse(nb.Bytes())
		if err != nil {
			t.Fatalf("after SetMetadata(%q): %v", a, err)
		}
		// encoding/json makes b valid UTF-8 before it is written.
		var want, got string
		raw, _ := json.Marshal(b)
		_ = json.Unmarshal(raw, &want)
		if err := json.Unmarshal(re.Metadata[a], &got); err != nil || got != want {
			t.Fatalf("metadata[%q] = %s (%v), want %q", a, re.Metadata[a], err, b)
		}
	})
}

// FuzzParseDuration: any input is parsed or refused without a panic; a
// parsed duration is never negative, reads back from its own printing, and
// agrees with time.ParseDuration where that reads the input.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h30m", "2d", "1d12h", "1.5d", "200000d", "106752d", "NaNd", "-1d", "1d-5h",
		"2562047h47m16.854775807s", "0", "+3m", "1e300", "infd", ".5d", "1µs", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if strings.Contains(err.Error(), "negative") && !strings.HasPrefix(s, "-") {
				t.Fatalf("ParseDuration(%q) says negative: %v", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %d, negative", s, int64(d))
		}
		back, err := ParseDuration(time.Duration(d).String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, which reads back as %v, %v", s, time.Duration(d), time.Duration(back), err)
		}
		if !strings.Contains(s, "d") {
			if want, err := time.ParseDuration(s); err == nil && want != time.Duration(d) {
				t.Fatalf("ParseDuration(%q) = %v, time.ParseDuration says %v", s, time.Duration(d), want)
			}
		}
	})
}

// FuzzParseLiteral: any input is parsed or refused without a panic, and a
// parsed literal printed back (what a step script and DATAINSIGHT_PARAM_
// carry) parses to the same type and the same printing.
func FuzzParseLiteral(f *testing.F) {
	for _, s := range []string{"1_000", "-2.5e3", "'single'", `"a" 'b'`, `r"C:\path"`, `"tab\there\u00e9"`, "(1,)", "(1)", "[]",
		"{1: [True, None]}", "\"\"\"multi\nline\"\"\"", "0x1F", ".5", "123456789012345678901234567890", "-9223372036854775808",
		"{(1, 2): 'x'}", "\"\xff\ufffd\"", "[[[[", "1e999", "0755", "- 5", "None", "0o17", "0b101", "1__0", "{(1, [2]): 3}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLiteral(s)
		if err != nil {
			return
		}
		py := l.Python()
		again, err := ParseLiteral(py)
		if err != nil {
			t.Fatalf("ParseLiteral(%q) prints as %q, which does not parse: %v", s, py, err)
		}
		if again.Type != l.Type || again.Python() != py {
			t.Fatalf("ParseLiteral(%q) = %s %s, which reads back as %s %s", s, l.Type, py, again.Type, again.Python())
		}
	})
}
