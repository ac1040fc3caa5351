package app

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/datainsight/datainsight/cluster"
)

// progress renders a run's events: a live view on a terminal (one line per
// step with a spinner and elapsed time), plain lines otherwise, or one JSON
// object per event with --json.
type progress struct {
	w      io.Writer
	json   bool
	tty    bool
	mu     sync.Mutex
	order  []string
	steps  map[string]*stepLine
	drawn  int // lines of the live view on screen
	frame  int
	header string
	stop   chan struct{}
	done   chan struct{}
}

type stepLine struct {
	phase    cluster.Phase
	started  time.Time
	finished time.Time
	cached   bool
	message  string
}

func newProgress(w io.Writer, asJSON bool, steps []string) *progress {
	p := &progress{w: w, json: asJSON, order: steps, steps: map[string]*stepLine{}, stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range steps {
		p.steps[s] = &stepLine{phase: cluster.Pending}
	}
	if f, ok := w.(*os.File); ok && !asJSON && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		p.tty = true
		go p.animate()
	} else {
		close(p.done)
	}
	return p
}

func (p *progress) animate() {
	defer close(p.done)
	t := time.NewTicker(120 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			p.mu.Lock()
			p.redraw()
			p.mu.Unlock()
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.redraw()
			p.mu.Unlock()
		}
	}
}

// close stops the live view, leaving its final state on screen.
func (p *progress) close() {
	if p.tty {
		close(p.stop)
	}
	<-p.done
}

func (p *progress) event(ev cluster.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	if ev.Type == cluster.EventRun {
		if ev.Phase == cluster.Pending && ev.Message != "" {
			p.header = ev.Message
			if !p.tty {
				fmt.Fprintln(p.w, ev.Message)
			}
		}
		return
	}
	s, ok := p.steps[ev.Step]
	if !ok || ev.Type != cluster.EventStep {
		return
	}
	s.phase, s.cached, s.message = ev.Phase, ev.Cached, ev.Message
	switch {
	case ev.Phase == cluster.Running:
		s.started, s.finished = ev.Time, time.Time{}
	case ev.Phase.Done():
		s.finished = ev.Time
	}
	if !p.tty {
		fmt.Fprintln(p.w, p.line(ev.Step, s, false))
	}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) line(name string, s *stepLine, tty bool) string {
	mark := map[cluster.Phase]string{
		cluster.Pending: "·", cluster.Succeeded: "✓", cluster.Failed: "✗", cluster.Error: "✗",
		cluster.Cancelled: "⊘", cluster.Skipped: "-",
	}[s.phase]
	if s.phase == cluster.Running {
		mark = "▸"
		if tty {
			mark = spinner[p.frame%len(spinner)]
		}
	}
	width := 0
	for _, n := range p.order {
		width = max(width, len(n))
	}
	state := strings.ToLower(string(s.phase))
	if s.cached {
		state = "cached"
	}
	elapsed := ""
	switch {
	case !s.started.IsZero() && !s.finished.IsZero():
		elapsed = s.finished.Sub(s.started).Round(100 * time.Millisecond).String()
	case !s.started.IsZero():
		elapsed = time.Since(s.started).Round(100 * time.Millisecond).String()
	}
	out := fmt.Sprintf("%s %-*s  %-9s %6s", mark, width, name, state, elapsed)
	if s.message != "" && (s.phase == cluster.Failed || s.phase == cluster.Error || s.phase == cluster.Skipped) {
		out += "  " + s.message
	}
	return strings.TrimRight(out, " ")
}

// redraw rewrites the live view in place. Callers hold p.mu.
func (p *progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	lines := 0
	if p.header != "" {
		fmt.Fprintf(&b, "\x1b[2K%s\n", p.header)
		lines++
	}
	for _, n := range p.order {
		fmt.Fprintf(&b, "\x1b[2K%s\n", p.line(n, p.steps[n], true))
		lines++
	}
	p.drawn = lines
	io.WriteString(p.w, b.String())
}
