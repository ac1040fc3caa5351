// Package nbtest builds notebooks for tests from the "percent" text format
// (as jupytext writes it), so a test case reads as code, not as JSON:
//
//	# metadata: {"datainsight": {"name": "demo"}}
//	# %% [markdown]
//	# ## A heading
//	# %% tags=["block:train", "limit:memory:4Gi"]
//	model = fit(df)
//
// An optional first line "# metadata: JSON" sets the notebook metadata.
package nbtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var cellMarkRE = regexp.MustCompile(`^# %%(?:\s+\[(markdown|raw)\])?(?:\s+tags=(\[.*\]))?\s*$`)

// Cell is one cell of a percent-format notebook.
type Cell struct {
	Type   string   // code, markdown or raw
	Tags   []string // never nil
	Source string
}

// Parse splits a percent-format text into its metadata and cells.
func Parse(src string) (meta json.RawMessage, cells []Cell, err error) {
	meta = json.RawMessage("{}")
	var body [][]string // each cell's lines
	defer func() {
		for i := range cells {
			cells[i].Source = strings.Join(body[i], "\n")
		}
	}()
	for _, line := range strings.Split(strings.TrimRight(src, "\n"), "\n") {
		if m, ok := strings.CutPrefix(line, "# metadata: "); ok && len(cells) == 0 {
			if !json.Valid([]byte(m)) {
				return nil, nil, fmt.Errorf("metadata line is not JSON: %s", m)
			}
			meta = json.RawMessage(m)
			continue
		}
		if m := cellMarkRE.FindStringSubmatch(line); m != nil {
			c := Cell{Type: "code", Tags: []string{}}
			if m[1] != "" {
				c.Type = m[1]
			}
			if m[2] != "" {
				if err := json.Unmarshal([]byte(m[2]), &c.Tags); err != nil {
					return nil, nil, fmt.Errorf("bad tags %s: %v", m[2], err)
				}
			}
			cells = append(cells, c)
			body = append(body, nil)
			continue
		}
		if len(cells) == 0 {
			continue
		}
		if cells[len(cells)-1].Type == "markdown" {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		}
		body[len(body)-1] = append(body[len(body)-1], line)
	}
	return meta, cells, nil
}

// Notebook converts a percent-format text into nbformat 4.5 JSON, written
// as Jupyter writes notebooks (sorted keys, one-space indent).
func Notebook(src string) ([]byte, error) {
	meta, cells, err := Parse(src)
	if err != nil {
		return nil, err
	}
	var md map[string]any
	if err := json.Unmarshal(meta, &md); err != nil {
		return nil, err
	}
	if _, ok := md["kernelspec"]; !ok {
		md["kernelspec"] = map[string]any{"display_name": "Python 3", "language": "python", "name": "python3"}
	}
	var out []map[string]any
	for i, c := range cells {
		cell := map[string]any{
			"cell_type": c.Type,
			"id":        fmt.Sprintf("cell-%d", i),
			"metadata":  map[string]any{},
			"source":    lines(c.Source),
		}
		if len(c.Tags) > 0 {
			cell["metadata"] = map[string]any{"tags": c.Tags}
		}
		if c.Type == "code" {
			cell["execution_count"] = nil
			cell["outputs"] = []any{}
		}
		out = append(out, cell)
	}
	if out == nil {
		out = []map[string]any{}
	}
	doc := map[string]any{"cells": out, "metadata": md, "nbformat": 4, "nbformat_minor": 5}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// lines splits source the way nbformat stores it: each line keeps its "\n".
func lines(s string) []string {
	out := []string{}
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// WriteNotebooks converts every percent-format fixture matching pattern
// (e.g. "../analyzer/testdata/flow/*.py") into an .ipynb file of the same
// base name in dir and returns their paths, sorted. Tests that need
// notebook files (compilers, runners, nbclient) use the repository's own
// fixtures this way, so they need nothing from outside the repository.
func WriteNotebooks(pattern, dir string) ([]string, error) {
	srcs, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("no fixtures match %s", pattern)
	}
	var out []string
	for _, src := range srcs {
		text, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		data, err := Notebook(string(text))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		name := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src)) + ".ipynb"
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		out = append(out, path)
	}
	return out, nil
}
