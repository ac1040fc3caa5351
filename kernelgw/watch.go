package kernelgw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"time"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/service"
)

// NotebookRef names a saved notebook.
type NotebookRef struct {
	Path string `json:"path" doc:"The notebook's path, relative to the notebook root (or absolute, inside it)."`
}

// NotebookSubscription is a subscription to a notebook's analysis.
type NotebookSubscription struct {
	Topic    string             `json:"topic" doc:"The topic notebook.analysis notifications about this notebook are published to."`
	Path     string             `json:"path" doc:"The notebook's path relative to the notebook root, as the notifications name it."`
	Analysis *analyzer.Analysis `json:"analysis,omitempty" doc:"The saved notebook's analysis now (absent from notebook.unsubscribe's result)."`
}

// NotebookAnalysis is the notebook.analysis notification: a saved
// notebook changed on disk, and this is its analysis now.
type NotebookAnalysis struct {
	Path     string             `json:"path" doc:"The notebook's path relative to the notebook root."`
	Analysis *analyzer.Analysis `json:"analysis,omitempty" doc:"Its analysis; absent when the file could not be read."`
	Error    string             `json:"error,omitempty" doc:"Why the file could not be read or parsed (it was deleted, or is being written)."`
}

// notebookPoll is how often a subscribed notebook's file is looked at.
// Polling, as JupyterLab's own "file changed on disk" check does, works
// on every filesystem (network ones included) and costs one stat.
const notebookPoll = 500 * time.Millisecond

// notebookTopic is the topic of a notebook's analyses: a hash, since a
// path may be longer than a topic can be.
func notebookTopic(abs string) string {
	h := sha256.Sum256([]byte(abs))
	return "notebook:" + hex.EncodeToString(h[:12])
}

func (s *Sidecar) notebookSubscribe(ctx context.Context, c *rpc.Conn, p NotebookRef) (NotebookSubscription, error) {
	if c == nil {
		return NotebookSubscription{}, noConn("notebook.subscribe")
	}
	if p.Path == "" {
		return NotebookSubscription{}, rpc.FieldError("path", "required: the notebook to follow")
	}
	abs, err := s.resolve("path", p.Path)
	if err != nil {
		return NotebookSubscription{}, err
	}
	// The file as analysed now: what the watcher compares with, so that
	// a save right after this call is not taken for the state it saw.
	seen := stamp(abs)
	a, err := s.svc.Analyze(ctx, service.Source{Path: abs})
	if err != nil {
		return NotebookSubscription{}, rpcError(err)
	}
	topic := notebookTopic(abs)
	if err := c.Subscribe(topic); err != nil {
		return NotebookSubscription{}, err
	}
	rel := s.relative(abs)
	s.watchNotebook(abs, rel, topic, seen)
	return NotebookSubscription{Topic: topic, Path: rel, Analysis: a.Analysis}, nil
}

func (s *Sidecar) notebookUnsubscribe(_ context.Context, c *rpc.Conn, p NotebookRef) (NotebookSubscription, error) {
	if c == nil {
		return NotebookSubscription{}, noConn("notebook.unsubscribe")
	}
	abs, err := s.resolve("path", p.Path)
	if err != nil {
		return NotebookSubscription{}, err
	}
	topic := notebookTopic(abs)
	c.Unsubscribe(topic)
	return NotebookSubscription{Topic: topic, Path: s.relative(abs)}, nil
}

// relative is abs as the root's clients name it.
func (s *Sidecar) relative(abs string) string {
	if rel, err := filepath.Rel(s.root.Dir(), abs); err == nil {
		return filepath.ToSlash(rel)
	}
	return abs
}

// watchNotebook publishes the notebook's analysis to topic each time its
// file changes (from last, as the subscriber saw it), until no client is
// subscribed any more or the sidecar closes; one watcher per notebook,
// whatever the number of clients.
func (s *Sidecar) watchNotebook(abs, rel, topic string, last fileStamp) {
	s.goOnce(topic, func() {
		// Whether anyone still listens is decided under s.mu, as
		// watchNotebook decides to start a watcher, after its client has
		// subscribed: a watcher never ends unseen by a new subscriber.
		unwatched := func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.rpc.Subscribers(topic) > 0 {
				return false
			}
			delete(s.watching, topic)
			return true
		}
		t := time.NewTicker(notebookPoll)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return // the sidecar is closing: no watcher starts again
			case <-t.C:
			}
			if unwatched() {
				return
			}
			now := stamp(abs)
			if now == last {
				continue
			}
			last = now
			n := NotebookAnalysis{Path: rel}
			if a, err := s.svc.Analyze(s.ctx, service.Source{Path: abs}); err != nil {
				n.Error = err.Error()
			} else {
				n.Analysis = a.Analysis
			}
			if err := s.rpc.Publish(topic, "notebook.analysis", n); err != nil {
				s.log.Error("sidecar: publish a notebook's analysis", "path", rel, "err", err)
			}
		}
	})
}

// fileStamp tells a file's versions apart without reading it.
type fileStamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ok: true}
}
