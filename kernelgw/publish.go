package kernelgw

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/service"
)

// runTopic is the topic a run's progress is published to.
func runTopic(id string) string { return "run:" + id }

// subscribe subscribes c to a run's progress and makes sure it is being
// published. The client is subscribed first, and a publisher replays the
// run's events from its start, so a client that subscribes as it starts
// a run misses none of them. A second client that subscribes while the
// run is under way gets what follows (and has the state so far from
// run.subscribe's result).
func (s *Sidecar) subscribe(c *rpc.Conn, at service.Place, id string) error {
	if err := c.Subscribe(runTopic(id)); err != nil {
		return err
	}
	s.publish(at, id)
	return nil
}

// publish starts publishing a run's events (run.event) and its steps'
// output (run.log) to the run's topic, unless that is already under way;
// it goes on until the run ends or the sidecar closes.
func (s *Sidecar) publish(at service.Place, id string) {
	topic := runTopic(id)
	log := s.log.With("run", id)
	s.goOnce(topic, func() {
		defer func() {
			s.mu.Lock()
			delete(s.watching, topic)
			s.mu.Unlock()
		}()
		var wg sync.WaitGroup
		wg.Add(2)
		logsDone := make(chan struct{})
		go func() {
			defer wg.Done()
			events, err := s.svc.Watch(s.ctx, at, id)
			if err != nil {
				log.Warn("sidecar: watch a run", "err", err)
				return
			}
			for ev := range events {
				if ev.Type == cluster.EventRun && ev.Phase.Done() {
					// The run's end is the last thing its topic says: its
					// steps' last lines go first, so that a client that
					// stops listening at the end has them all.
					select {
					case <-logsDone:
					case <-time.After(lastLinesWait):
					case <-s.ctx.Done():
					}
				}
				if err := s.rpc.Publish(topic, "run.event", ev); err != nil {
					log.Error("sidecar: publish a run event", "err", err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			defer close(logsDone)
			w := &lineWriter{emit: func(step, line string) {
				if err := s.rpc.Publish(topic, "run.log", LogLine{Run: id, Step: step, Line: line}); err != nil {
					log.Error("sidecar: publish a log line", "err", err)
				}
			}}
			err := s.svc.Logs(s.ctx, at, id, cluster.LogOptions{Follow: true}, w)
			w.flush()
			if err != nil && s.ctx.Err() == nil {
				log.Warn("sidecar: follow a run's output", "err", err)
			}
		}()
		wg.Wait()
	})
}

// goOnce runs f in a goroutine that Close waits for, unless the sidecar is
// closing or, for a topic other than "", a goroutine for that topic is
// under way: it marks the topic watched, and f unmarks it (under s.mu)
// when it ends, unless the sidecar is closing and nothing starts again.
func (s *Sidecar) goOnce(topic string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil || topic != "" && s.watching[topic] {
		return // closing: Close waits for s.wg, so no Add after it
	}
	if topic != "" {
		s.watching[topic] = true
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// lastLinesWait bounds how long a run's end waits for its last output
// lines to be published.
const lastLinesWait = 5 * time.Second

// lineWriter splits the output of every step ("STEP | line" lines) into
// lines, each with its step. A line longer than maxLine is sent in pieces,
// each with the step its start named, so that a step printing without
// newlines holds no more than maxLine of the sidecar's memory (the
// backends' log writers bound their partial lines the same way, writing
// the rest of a long line without its prefix).
type lineWriter struct {
	partial []byte
	cont    *string // the step of the long line being sent in pieces
	emit    func(step, line string)
}

const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) >= maxLine {
				w.piece(string(w.partial))
				w.partial = w.partial[:0]
			}
			return n, nil
		}
		line := append(w.partial, p[:i]...)
		w.partial = w.partial[:0]
		if w.cont != nil {
			w.emit(*w.cont, string(line))
			w.cont = nil
		} else {
			w.line(string(line))
		}
		p = p[i+1:]
	}
	return n, nil
}

// piece sends part of a long line: the first with its step parsed, the
// rest with that step.
func (w *lineWriter) piece(l string) {
	if w.cont != nil {
		w.emit(*w.cont, l)
		return
	}
	step, text, ok := strings.Cut(l, " | ")
	if !ok {
		step, text = "", l
	}
	w.cont = &step
	w.emit(step, text)
}

// flush sends a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		if w.cont != nil {
			w.emit(*w.cont, string(w.partial))
		} else {
			w.line(string(w.partial))
		}
	}
	w.partial, w.cont = w.partial[:0], nil
}

func (w *lineWriter) line(l string) {
	// Step names are identifiers: the first " | " ends the name.
	step, text, ok := strings.Cut(l, " | ")
	if !ok {
		step, text = "", l
	}
	w.emit(step, text)
}
