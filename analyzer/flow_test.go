package analyzer

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/notebook"
)

// Flow fixtures are notebooks written in the "percent" format (as jupytext
// writes them) so that a case and its answer read together:
//
//	# %% [markdown]
//	# ## A heading
//	# %% tags=["block:train"]
//	# ins: df(load)  outs: model  params: LR  after: load
//	model = fit(df)
//	print(nope)  # want: error undefined-name
//
// The first code cell of every step carries `# ins: … outs: …` (params and
// after optional: after defaults to the producers of ins). A `# want:
// SEVERITY CODE` comment expects that diagnostic on its cell and line, and
// `# want-cell: SEVERITY CODE` one about the cell's tags (no line); any
// other error or warning fails the case.

var (
	expectRE  = regexp.MustCompile(`^#\s*ins:(.*?)\s+outs:(.*?)(?:\s+params:(.*?))?(?:\s+after:(.*?))?\s*$`)
	wantRE    = regexp.MustCompile(`#\s*want(-cell)?:\s*(error|warning|info)\s+([a-z-]+)\s*$`)
	insItemRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\(([a-z_0-9]+)\)$`)
)

type flowCase struct {
	nb      *notebook.Notebook
	expects map[int]string // first code cell of a step -> its "# ins:" line
	wants   []flowWant
}

type flowWant struct {
	cell, line     int
	severity, code string
}

// parsePercent turns a percent-format fixture into a notebook and its
// expectations.
func parsePercent(t *testing.T, src string) flowCase {
	t.Helper()
	_, cells, err := nbtest.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	fc := flowCase{expects: map[int]string{}}
	for i, c := range cells {
		for j, l := range strings.Split(c.Source, "\n") {
			if m := wantRE.FindStringSubmatch(l); m != nil {
				line := j + 1
				if m[1] != "" {
					line = 0 // want-cell: a problem of the cell's tags, with no position in its source
				}
				fc.wants = append(fc.wants, flowWant{cell: i, line: line, severity: m[2], code: m[3]})
			}
			if expectRE.MatchString(strings.TrimSpace(l)) {
				fc.expects[i] = strings.TrimSpace(l)
			}
		}
	}
	data, err := nbtest.Notebook(src)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		t.Fatalf("fixture does not make a notebook: %v", err)
	}
	fc.nb = nb
	return fc
}

func splitList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return []string{}
	}
	f := strings.Fields(s)
	sort.Strings(f)
	return f
}

func TestFlowFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "flow", "*.py"))
	if len(files) == 0 {
		t.Fatal("no flow fixtures")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".py"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fc := parsePercent(t, string(src))
			an := Analyze(context.Background(), fc.nb, Options{})
			checkFlow(t, fc, an)
		})
	}
}

func checkFlow(t *testing.T, fc flowCase, an *Analysis) {
	t.Helper()
	for _, s := range an.Steps {
		line, ok := fc.expects[s.Cells[0]]
		if !ok {
			t.Errorf("step %s (cell %d) has no `# ins: … outs: …` line in its first cell", s.Name, s.Cells[0])
			continue
		}
		m := expectRE.FindStringSubmatch(line)
		wantIns := map[string]string{}
		var producers []string
		for _, it := range splitList(m[1]) {
			im := insItemRE.FindStringSubmatch(it)
			if im == nil {
				t.Fatalf("bad ins item %q in %q", it, line)
			}
			wantIns[im[1]] = im[2]
			producers = append(producers, im[2])
		}
		wantAfter := uniqSorted(producers)
		if m[4] != "" {
			wantAfter = splitList(m[4])
		}
		if !reflect.DeepEqual(s.Ins, wantIns) {
			t.Errorf("step %s: ins = %v, want %v", s.Name, s.Ins, wantIns)
		}
		if got, want := s.Outs, splitList(m[2]); !reflect.DeepEqual(got, want) {
			t.Errorf("step %s: outs = %v, want %v", s.Name, got, want)
		}
		if got, want := s.Params, splitList(m[3]); !reflect.DeepEqual(got, want) {
			t.Errorf("step %s: params = %v, want %v", s.Name, got, want)
		}
		if !reflect.DeepEqual(s.After, wantAfter) {
			t.Errorf("step %s: after = %v, want %v", s.Name, s.After, wantAfter)
		}
		delete(fc.expects, s.Cells[0])
	}
	for cell, line := range fc.expects {
		t.Errorf("cell %d expects a step (%s) but starts none", cell, line)
	}
	matched := make([]bool, len(an.Diagnostics))
	for _, w := range fc.wants {
		found := false
		for i, d := range an.Diagnostics {
			if !matched[i] && d.Cell != nil && *d.Cell == w.cell && d.Line == w.line && string(d.Severity) == w.severity && d.Code == w.code {
				matched[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing %s %s at cell %d line %d", w.severity, w.code, w.cell, w.line)
		}
	}
	for i, d := range an.Diagnostics {
		if !matched[i] && d.Severity != notebook.Info {
			t.Errorf("unexpected diagnostic: %s", d)
		}
	}
}

func uniqSorted(xs []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
