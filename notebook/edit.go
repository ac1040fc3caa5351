package notebook

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// CellEdit changes one cell, found by its id: its source, and its tags
// when Tags is not nil.
type CellEdit struct {
	ID     string
	Source string
	Tags   *[]string
}

// Edited returns a copy of nb with edits applied, leaving nb as it was. The
// copy is detached from the bytes nb was parsed from: its Bytes are
// generated from its fields. It is what an editor has in memory between
// saves, to analyse, not to write over the file. An edit naming no cell
// of nb is an error naming it, and nothing is applied.
func (nb *Notebook) Edited(edits []CellEdit) (*Notebook, error) {
	if nb == nil {
		return nil, fmt.Errorf("edit: nil notebook")
	}
	at := make(map[string]int, len(nb.Cells))
	for i, c := range nb.Cells {
		if c.ID != "" {
			at[c.ID] = i
		}
	}
	cp := *nb
	cp.doc = nil
	cp.Cells = slices.Clone(nb.Cells)
	for i, e := range edits {
		j, ok := at[e.ID]
		if !ok {
			return nil, fmt.Errorf("edit %d: no cell with id %q", i, e.ID)
		}
		if !utf8.ValidString(e.Source) {
			return nil, fmt.Errorf("edit %d: cell %q: source is not valid UTF-8", i, e.ID)
		}
		cp.Cells[j].Source = e.Source
		if e.Tags != nil {
			for _, t := range *e.Tags {
				if !utf8.ValidString(t) {
					return nil, fmt.Errorf("edit %d: cell %q: tag %q is not valid UTF-8", i, e.ID, t)
				}
			}
			cp.Cells[j].Tags = slices.Clone(*e.Tags)
		}
	}
	return &cp, nil
}
