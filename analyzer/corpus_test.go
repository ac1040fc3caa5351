package analyzer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/notebook"
)

// corpusDir is the shared conformance corpus, which a checkout may have
// beside the repository. Its cases are also in testdata/flow (the c*
// fixtures), so this test only adds a check where the folder exists.
var corpusDir = filepath.Join("..", "..", "shared", "corpus", "analysis")

type expectedCase struct {
	Steps []struct {
		Name   string            `json:"name"`
		Cells  []int             `json:"cells"`
		After  []string          `json:"after"`
		Ins    map[string]string `json:"ins"`
		Outs   []string          `json:"outs"`
		Params []string          `json:"params"`
	} `json:"steps"`
	Diagnostics []struct {
		Severity string `json:"severity"`
		Cell     *int   `json:"cell"`
		Code     string `json:"code"`
	} `json:"diagnostics"`
	Metrics   map[string]string `json:"_metrics"`
	FileEdges []FileEdge        `json:"_file_edges"`
}

// TestCorpus runs every case of the shared corpus and requires the exact
// steps, ins, outs, after and params, and every listed diagnostic.
func TestCorpus(t *testing.T) {
	nbs, _ := filepath.Glob(filepath.Join(corpusDir, "*.ipynb"))
	if len(nbs) == 0 {
		t.Skipf("no shared corpus at %s (optional; its cases are in testdata/flow)", corpusDir)
	}
	for _, path := range nbs {
		name := strings.TrimSuffix(filepath.Base(path), ".ipynb")
		t.Run(name, func(t *testing.T) {
			nb, err := notebook.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(strings.TrimSuffix(path, ".ipynb") + ".expected.json")
			if err != nil {
				t.Fatal(err)
			}
			var want expectedCase
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			an := Analyze(context.Background(), nb, Options{})
			checkCase(t, an, want)
		})
	}
}

func checkCase(t *testing.T, an *Analysis, want expectedCase) {
	t.Helper()
	type view struct {
		Name   string
		Cells  []int
		After  []string
		Ins    map[string]string
		Outs   []string
		Params []string
	}
	var got, exp []view
	for _, s := range an.Steps {
		got = append(got, view{s.Name, s.Cells, s.After, s.Ins, s.Outs, s.Params})
	}
	for _, s := range want.Steps {
		v := view{s.Name, s.Cells, s.After, s.Ins, s.Outs, s.Params}
		if v.Ins == nil {
			v.Ins = map[string]string{}
		}
		for _, p := range []*[]string{&v.After, &v.Outs, &v.Params} {
			if *p == nil {
				*p = []string{}
			}
		}
		exp = append(exp, v)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("steps differ")
		for i := 0; i < max(len(got), len(exp)); i++ {
			var g, e view
			if i < len(got) {
				g = got[i]
			}
			if i < len(exp) {
				e = exp[i]
			}
			if !reflect.DeepEqual(g, e) {
				t.Errorf(" got  %+v\n want %+v", g, e)
			}
		}
	}
	for _, wd := range want.Diagnostics {
		found := false
		for _, d := range an.Diagnostics {
			if string(d.Severity) == wd.Severity && d.Code == wd.Code && reflect.DeepEqual(d.Cell, wd.Cell) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing diagnostic %s %s at cell %s; got %v", wd.Severity, wd.Code, cellString(wd.Cell), an.Diagnostics)
		}
	}
	if want.Metrics != nil {
		got := map[string]string{}
		for _, s := range an.Steps {
			for _, m := range s.Metrics {
				got[m] = s.Name
			}
		}
		if !reflect.DeepEqual(got, want.Metrics) {
			t.Errorf("metrics = %v, want %v", got, want.Metrics)
		}
	}
	if want.FileEdges != nil {
		g := append([]FileEdge{}, an.FileEdges...)
		sort.Slice(g, func(i, j int) bool { return g[i].From+g[i].To+g[i].Path < g[j].From+g[j].To+g[j].Path })
		if !reflect.DeepEqual(g, want.FileEdges) {
			t.Errorf("file edges = %v, want %v", g, want.FileEdges)
		}
	}
}

func cellString(c *int) string {
	if c == nil {
		return "(notebook)"
	}
	b, _ := json.Marshal(*c)
	return string(b)
}
