package kernelgw

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

// AnalyzeParams are analyze's params: a notebook, whole (a path, a body),
// or as edits to the one this connection's last analyze was given.
type AnalyzeParams struct {
	NotebookParams
	Base  string     `json:"base,omitempty" doc:"With edits: the revision of this WebSocket connection's latest analyze of the notebook (its result's revision), which the edits change. A base that is no longer the latest is refused (code -32004, data.field base): send the whole body again."`
	Edits []CellEdit `json:"edits,omitempty" doc:"Cells changed since base, by id: what the panel sends on a keystroke instead of the notebook's whole body. Cells added, removed or moved need the whole body."`
}

// CellEdit is a cell's new content.
type CellEdit struct {
	ID     string    `json:"id" doc:"The cell's id."`
	Source string    `json:"source" doc:"Its whole source, as edited."`
	Tags   *[]string `json:"tags,omitempty" doc:"Its tags, when they changed too."`
}

// drafts holds, per WebSocket connection, the notebooks its analyze calls
// were given (a body, then edits), so that a keystroke sends one cell
// rather than the whole notebook: decoding a 200 KB body three times over
// cost more than the analysis it asked for. A connection holds at most
// maxDrafts notebooks; its drafts go when it closes.
type drafts struct {
	mu     sync.Mutex
	seq    uint64
	byConn map[*rpc.Conn]map[string]*draft // by the notebook's path ("" for none)
}

type draft struct {
	rev  string
	nb   *notebook.Notebook
	used uint64
}

// maxDrafts bounds the notebooks one connection's drafts hold: a panel
// has a few open at once.
const maxDrafts = 8

// latest returns the draft of path that c's analyze last returned as rev.
func (d *drafts) latest(c *rpc.Conn, path, rev string) (*notebook.Notebook, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dr := d.byConn[c][path]
	if dr == nil || dr.rev != rev {
		return nil, false
	}
	d.seq++
	dr.used = d.seq
	return dr.nb, true
}

// put keeps nb as c's draft of path and returns its revision. It reports
// whether c had no drafts before, for the caller to drop them when c
// closes.
func (d *drafts) put(c *rpc.Conn, path string, nb *notebook.Notebook) (rev string, first bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byConn == nil {
		d.byConn = map[*rpc.Conn]map[string]*draft{}
	}
	m := d.byConn[c]
	if m == nil {
		m = map[string]*draft{}
		d.byConn[c] = m
		first = true
	}
	if _, ok := m[path]; !ok && len(m) >= maxDrafts {
		var oldest *draft
		at := ""
		for p, dr := range m {
			if oldest == nil || dr.used < oldest.used {
				oldest, at = dr, p
			}
		}
		delete(m, at)
	}
	d.seq++
	rev = strconv.FormatUint(d.seq, 10)
	m[path] = &draft{rev: rev, nb: nb, used: d.seq}
	return rev, first
}

// drop forgets c's drafts.
func (d *drafts) drop(c *rpc.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.byConn, c)
}

// editIndex finds the edit a notebook.Edited error is about.
var editIndex = regexp.MustCompile(`^edit (\d+): `)

func (s *Sidecar) analyze(ctx context.Context, c *rpc.Conn, p AnalyzeParams) (AnalyzeResult, error) {
	var (
		src service.Source
		err error
	)
	if p.Base != "" || len(p.Edits) > 0 {
		src, err = s.edited(c, p)
	} else {
		src, err = s.source(p.NotebookParams, false)
	}
	if err != nil {
		return AnalyzeResult{}, err
	}
	a, err := s.svc.Analyze(ctx, src)
	if err != nil {
		return AnalyzeResult{}, rpcError(err)
	}
	res := AnalyzeResult{Analysis: a.Analysis}
	// A notebook as the client has it is kept for its next edits; a
	// saved one the client can send edits of only after sending a body.
	if c != nil && (src.Notebook != nil || src.Body != nil) {
		rev, first := s.drafts.put(c, src.Path, a.Notebook)
		if first {
			s.dropDraftsAtEnd(c)
		}
		res.Revision = rev
	}
	return res, nil
}

// dropDraftsAtEnd forgets c's drafts when c closes (or the sidecar does).
func (s *Sidecar) dropDraftsAtEnd(c *rpc.Conn) {
	s.goOnce("", func() {
		select {
		case <-c.Done():
		case <-s.ctx.Done():
		}
		s.drafts.drop(c)
	})
}

// edited is the notebook an analyze with edits names: this connection's
// latest draft of it, edited.
func (s *Sidecar) edited(c *rpc.Conn, p AnalyzeParams) (service.Source, error) {
	var src service.Source
	switch {
	case c == nil:
		return src, noConn("analyze with edits")
	case len(p.Body) > 0:
		return src, rpc.FieldError("edits", "give either body or edits, not both")
	case p.Base == "":
		return src, rpc.FieldError("base", "required with edits: the revision of the analysis the edits follow")
	}
	if p.Path != "" {
		abs, err := s.resolve("path", p.Path)
		if err != nil {
			return src, err
		}
		src.Path = abs
	}
	base, ok := s.drafts.latest(c, src.Path, p.Base)
	if !ok {
		return src, &rpc.Error{Code: rpc.CodeConflict,
			Message: fmt.Sprintf("field %q: revision %q is not this connection's latest analysis of the notebook: send its whole body", "base", p.Base),
			Data:    map[string]string{"field": "base"}}
	}
	edits := make([]notebook.CellEdit, len(p.Edits))
	for i, e := range p.Edits {
		edits[i] = notebook.CellEdit{ID: e.ID, Source: e.Source, Tags: e.Tags}
	}
	nb, err := base.Edited(edits)
	if err != nil {
		field := "edits"
		if m := editIndex.FindStringSubmatch(err.Error()); m != nil {
			field = "edits[" + m[1] + "]"
		}
		return src, rpc.FieldError(field, "%s", editIndex.ReplaceAllString(err.Error(), ""))
	}
	src.Notebook = nb
	return src, nil
}
