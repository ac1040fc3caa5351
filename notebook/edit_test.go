package notebook

import (
	"strings"
	"testing"
)

func TestEdited(t *testing.T) {
	src := `{"cells": [
 {"cell_type": "code", "id": "a", "metadata": {"tags": ["block:load"]}, "source": "x = 1", "outputs": [], "execution_count": null},
 {"cell_type": "code", "id": "b", "metadata": {}, "source": "y = x", "outputs": [], "execution_count": null}],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	nb, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tags := []string{"block:use", "prev:load"}
	ed, err := nb.Edited([]CellEdit{{ID: "b", Source: "y = x + 1", Tags: &tags}, {ID: "a", Source: "x = 2"}})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Cells[0].Source != "x = 2" || ed.Cells[1].Source != "y = x + 1" {
		t.Errorf("edited sources: %q, %q", ed.Cells[0].Source, ed.Cells[1].Source)
	}
	if got := strings.Join(ed.Cells[1].Tags, ","); got != "block:use,prev:load" {
		t.Errorf("edited tags: %s", got)
	}
	if got := strings.Join(ed.Cells[0].Tags, ","); got != "block:load" {
		t.Errorf("unedited tags changed: %s", got)
	}
	// The original is untouched, bytes included.
	if nb.Cells[0].Source != "x = 1" || nb.Cells[1].Source != "y = x" || len(nb.Cells[1].Tags) != 0 {
		t.Errorf("original changed: %+v", nb.Cells)
	}
	if string(nb.Bytes()) != src {
		t.Error("original bytes changed")
	}
	// The copy's bytes say what it holds.
	again, err := Parse(ed.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if again.Cells[1].Source != "y = x + 1" || again.Cells[1].ID != "b" {
		t.Errorf("copy's bytes: %+v", again.Cells[1])
	}

	if _, err := nb.Edited([]CellEdit{{ID: "a", Source: "x"}, {ID: "zz", Source: "q"}}); err == nil || !strings.Contains(err.Error(), `edit 1: no cell with id "zz"`) {
		t.Errorf("unknown id: %v", err)
	}
	if nb.Cells[0].Source != "x = 1" {
		t.Error("a failed edit changed the original")
	}
	if _, err := nb.Edited([]CellEdit{{ID: "a", Source: "\xff"}}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}
