package analyzer

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/notebook"
)

func TestIncrementalReparsesOnlyTheEditedCell(t *testing.T) {
	data, err := nbtest.Notebook(`# %% tags=["block:a"]
x = 1
# %% tags=["block:b"]
y = x + 1
# %% tags=["block:c"]
print(y)
`)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	a := New()
	a.Analyze(context.Background(), nb, Options{})
	before := map[string]*cellFacts{}
	for k, v := range a.cache {
		before[k] = v.facts
	}

	// Edit cell 1: b no longer reads x, so the graph changes too.
	nb.Cells[1].Source = "y = 41 + 1"
	got := a.Analyze(context.Background(), nb, Options{})

	for k, v := range a.cache {
		same := before[k] == v.facts
		if edited := k == nb.Cells[1].ID; edited == same {
			t.Errorf("cell %s: reparsed=%v, want reparsed only for the edited cell", k, !same)
		}
	}
	// The incremental result is exactly a fresh analysis of the edit.
	want := Analyze(context.Background(), nb, Options{})
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("incremental analysis differs from a fresh one:\n got %s\nwant %s", gj, wj)
	}
	if len(got.Steps[1].Ins) != 0 {
		t.Errorf("after the edit b loads %v, want nothing", got.Steps[1].Ins)
	}
}
