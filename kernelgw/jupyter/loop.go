package jupyter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// reconnected is a reconnect attempt's outcome.
type reconnected struct {
	conn *wsConn
	hs   handshake
	err  error // terminal
}

const (
	// interruptGrace is how long an execution that ended in a
	// KeyboardInterrupt this client did not ask for is held back: the
	// server interrupts a kernel before it shuts it down to restart it,
	// and the signs of the restart may trail the interrupted execution's
	// reply (by milliseconds, or by a second or more on a loaded machine).
	// Within the grace it fails with ErrKernelRestarted instead. During a
	// Restart of this client's, it waits for the restart's outcome.
	interruptGrace = 2 * time.Second
	// awaitEvery is how often a kernel that is restarting is asked who it
	// is, until a new one answers.
	awaitEvery = 500 * time.Millisecond
)

// loopState is the loop goroutine's; nothing else touches it.
type loopState struct {
	conn    *wsConn // nil while reconnecting
	queue   []*request
	running *request // sent, not yet done; also while held

	// kernelSession is the kernel process's session id: a message from
	// another one means the kernel restarted. "" until learnt (again).
	kernelSession string
	// awaiting: the kernel is restarting or shutting down; nothing is sent
	// until a kernel with a session other than awaitNot speaks on iopub.
	// Hearing it on the shell is not enough: the server's iopub
	// subscription reconnects to a restarted kernel only after a while,
	// and output sent before then is lost.
	awaiting   bool
	awaitNot   string
	awaitOurs  bool // started by Restart
	awaitSince time.Time
	awaitTick  *time.Ticker

	held      bool // running has its reply but waits out interruptGrace
	holdTimer *time.Timer

	probes   map[string]time.Time // kernel_info requests of ours, by msg_id
	checking bool                 // asking the server whether the kernel exists
	ended    bool

	helpers     sync.WaitGroup
	helperCtx   context.Context
	reconnected chan reconnected
	checked     chan error
}

// loop owns the connection and the executions: every event is handled
// here, one at a time, which is what keeps matching replies simple.
func (k *Kernel) loop(conn *wsConn, kernelSession string) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &loopState{
		conn: conn, kernelSession: kernelSession,
		probes:    map[string]time.Time{},
		helperCtx: ctx,
		// Buffered: a helper finishing as the loop stops must not block.
		reconnected: make(chan reconnected, 1),
		checked:     make(chan error, 1),
	}
	defer func() {
		cancel()
		s.helpers.Wait()
		select {
		case r := <-s.reconnected:
			if r.conn != nil {
				r.conn.close()
			}
		default:
		}
		if s.conn != nil {
			s.conn.close()
		}
		s.stopAwait()
		if s.holdTimer != nil {
			s.holdTimer.Stop()
		}
		close(k.done)
	}()

	var probeTick <-chan time.Time
	if every := k.c.cfg.ProbeInterval; every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		probeTick = t.C
	}
	for !s.ended {
		var msgs <-chan *Message
		var dropped <-chan struct{}
		if s.conn != nil {
			msgs, dropped = s.conn.msgs, s.conn.done
		}
		var awaitTick <-chan time.Time
		if s.awaitTick != nil {
			awaitTick = s.awaitTick.C
		}
		var holdEnd <-chan time.Time
		if s.held {
			holdEnd = s.holdTimer.C
		}
		select {
		case <-k.closing:
			k.end(s, ErrClosed)
		case r := <-k.submit:
			k.enqueue(s, r)
		case m := <-msgs:
			k.handle(s, m)
		case <-dropped:
			k.disconnected(s, s.conn.err)
		case r := <-s.reconnected:
			k.onReconnect(s, r)
		case err := <-s.checked:
			s.checking = false
			if errors.Is(err, ErrKernelNotFound) {
				k.end(s, fmt.Errorf("kernel %s: %w: %w", k.id, ErrKernelLost, err))
			}
		case err := <-k.restarts:
			switch err {
			case nil:
				if !s.awaiting {
					s.startAwait(s.kernelSession)
					s.awaitOurs = true
				}
			case errRestarted:
				k.restart(s, "restarted through this client")
			default: // the server refused: carry on with the same kernel
				if s.awaitOurs {
					s.stopAwait()
				}
			}
		case <-k.interrupting:
			if s.running != nil {
				s.running.interrupted = true
			}
		case <-probeTick:
			k.probe(s)
		case <-awaitTick:
			k.askAwaited(s)
		case <-holdEnd:
			switch r := s.running; {
			case r == nil || !s.held:
			case s.awaitOurs:
				// Restart is under way: its outcome decides.
				s.holdTimer.Reset(interruptGrace)
			default:
				s.running, s.held = nil, false
				k.deliver(r, update{final: true, reply: r.reply})
			}
		}
		if !s.ended {
			k.pump(s)
		}
		k.pending.Store(int32(s.pending()))
	}
}

func (s *loopState) pending() int {
	n := 0
	if s.running != nil {
		n++
	}
	for _, r := range s.queue {
		if !abandoned(r) {
			n++
		}
	}
	return n
}

func (k *Kernel) enqueue(s *loopState, r *request) {
	if len(s.queue) >= k.c.cfg.MaxQueue {
		live := s.queue[:0]
		for _, q := range s.queue {
			if !abandoned(q) {
				live = append(live, q)
			}
		}
		clear(s.queue[len(live):])
		s.queue = live
	}
	if len(s.queue) >= k.c.cfg.MaxQueue {
		k.fail(r, fmt.Errorf("kernel %s: %w (%d waiting)", k.id, ErrQueueFull, len(s.queue)))
		return
	}
	s.queue = append(s.queue, r)
}

func abandoned(r *request) bool {
	select {
	case <-r.abandoned:
		return true
	default:
		return false
	}
}

// pump sends the next execution when the kernel is free of ours.
func (k *Kernel) pump(s *loopState) {
	for s.running == nil && s.conn != nil && !s.awaiting && len(s.queue) > 0 {
		r := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if abandoned(r) {
			continue
		}
		ue := r.opts.UserExpressions
		if ue == nil {
			ue = map[string]string{}
		}
		m, err := newMessage(ChannelShell, "execute_request", k.session, executeRequest{
			Code: r.code, Silent: r.opts.Silent, StoreHistory: r.opts.StoreHistory,
			UserExpressions: ue, StopOnError: r.opts.StopOnError,
		})
		if err != nil {
			k.fail(r, fmt.Errorf("kernel %s: execute: %w", k.id, err))
			continue
		}
		r.msgID = m.Header.MsgID
		s.running = r // in flight as far as anyone can tell, even if the write fails
		if err := s.conn.send(m); err != nil {
			k.disconnected(s, err)
			return
		}
	}
}

// handle routes one message from the kernel. Only messages whose parent is
// the running execution touch it: the same channels carry other clients'
// output and the server's kernel_info traffic.
func (k *Kernel) handle(s *loopState, m *Message) {
	ev, err := classify(m)
	if err != nil {
		k.log.Debug("dropped undecodable kernel message", "err", err)
		return
	}
	r := s.running
	mine := r != nil && !s.held && ev.parent != "" && ev.parent == r.msgID
	switch ev.kind {
	case eventStatus:
		switch ev.state {
		case "restarting":
			// The server's word (its restarter revived a dead kernel).
			k.restart(s, "the server restarted the kernel")
			s.startAwait(s.kernelSession)
			return
		case "dead":
			k.end(s, fmt.Errorf("kernel %s: %w: it died and the server could not restart it", k.id, ErrKernelLost))
			return
		case "starting", "busy", "idle":
			// Ours, if the server sent it on our behalf; the kernel's else.
			if ev.session != k.session && k.observe(s, ev.session, true) {
				return
			}
		}
		if mine && ev.state == "idle" {
			r.gotIdle = true
			k.maybeDone(s)
		}
	case eventShutdownReply:
		if s.awaiting && ev.session == s.awaitNot {
			return // said again; nothing new
		}
		if ev.restart {
			k.restart(s, "the kernel is shutting down to restart")
		} else {
			k.log.Info("kernel shutting down")
			k.failAll(s, fmt.Errorf("kernel %s: %w: it is shutting down", k.id, ErrKernelLost))
		}
		// Whatever comes next (a new kernel, the server forgetting this
		// one), nothing more goes to this one.
		s.startAwait(ev.session)
	case eventOutput, eventClear:
		if mine {
			u := update{out: ev.out}
			if ev.kind == eventClear {
				u = update{out: Output{Type: OutputClear}, wait: ev.clear}
			}
			k.deliver(r, u)
		}
	case eventExecuteReply:
		if mine && m.Channel == ChannelShell {
			r.gotReply, r.reply = true, ev.reply
			k.maybeDone(s)
		}
	case eventKernelInfoReply:
		if _, ok := s.probes[ev.parent]; ok {
			delete(s.probes, ev.parent)
			k.observe(s, ev.session, false)
			if ev.session == s.kernelSession {
				k.mu.Lock()
				k.info = ev.info
				k.mu.Unlock()
			}
		}
	}
}

// observe notes the session of a message the kernel sent (on iopub, or
// not) and reports whether it revealed a restart: a new kernel process has
// a new session id, and the server does not announce restarts it was
// asked for.
func (k *Kernel) observe(s *loopState, session string, iopub bool) bool {
	switch {
	case session == "":
		return false
	case s.awaiting:
		if session != s.awaitNot && iopub {
			// The successor speaks, and its output reaches us: pending
			// work was failed when the restart showed; what waits may go.
			s.kernelSession = session
			s.stopAwait()
		}
		return false
	case s.kernelSession == "":
		s.kernelSession = session
		return false
	case session == s.kernelSession:
		return false
	}
	old := s.kernelSession
	s.kernelSession = session
	k.restart(s, "the kernel's session changed")
	if !iopub {
		s.startAwait(old)
	}
	return true
}

// maybeDone completes the running execution once both its execute_reply
// and its idle status are in: they travel on different channels, in
// either order, and outputs may trail the reply until idle.
func (k *Kernel) maybeDone(s *loopState) {
	r := s.running
	if r == nil || !r.gotReply || !r.gotIdle {
		return
	}
	clear(s.probes)
	if r.reply.Status == "error" && r.reply.EName == "KeyboardInterrupt" && !r.interrupted {
		s.held = true
		if s.holdTimer == nil {
			s.holdTimer = time.NewTimer(interruptGrace)
		} else {
			s.holdTimer.Reset(interruptGrace)
		}
		return
	}
	s.running = nil
	k.deliver(r, update{final: true, reply: r.reply})
}

// restart fails everything pending: it was meant for a kernel state that
// no longer exists.
func (k *Kernel) restart(s *loopState, why string) {
	n := len(s.queue)
	if s.running != nil {
		n++
	}
	k.log.Info("kernel restarted", "why", why, "failed", n)
	k.failAll(s, fmt.Errorf("kernel %s: %w (%s)", k.id, ErrKernelRestarted, why))
}

func (k *Kernel) failAll(s *loopState, err error) {
	if s.running != nil {
		k.fail(s.running, err)
		s.running, s.held = nil, false
	}
	for _, r := range s.queue {
		k.fail(r, err)
	}
	clear(s.queue)
	s.queue = s.queue[:0]
	clear(s.probes)
}

func (s *loopState) startAwait(old string) {
	if s.awaiting {
		return
	}
	s.awaiting, s.awaitNot, s.awaitSince = true, old, time.Now()
	s.awaitTick = time.NewTicker(awaitEvery)
}

func (s *loopState) stopAwait() {
	if s.awaitTick != nil {
		s.awaitTick.Stop()
		s.awaitTick = nil
	}
	s.awaiting, s.awaitOurs = false, false
}

// askAwaited asks a restarting kernel who it is, in case its successor's
// first words were missed (iopub drops what is sent before the server's
// subscription reconnects), and the server whether the kernel still
// exists. After HandshakeTimeout it stops waiting.
func (k *Kernel) askAwaited(s *loopState) {
	if time.Since(s.awaitSince) > k.c.cfg.HandshakeTimeout {
		k.log.Warn("no new kernel answered after a shutdown; carrying on")
		s.stopAwait()
		k.check(s)
		return
	}
	if s.conn != nil && len(s.probes) < 8 {
		k.sendProbe(s, ChannelShell)
	}
	// A kernel shut down for good stays silent, and the server keeps the
	// WebSocket open: only the server can say it is gone.
	if time.Since(s.awaitSince) >= time.Second {
		k.check(s)
	}
}

// disconnected handles a dropped WebSocket: what was in flight fails (it
// may or may not have run), what waits stays queued for the reconnection.
func (k *Kernel) disconnected(s *loopState, cause error) {
	cause = dropCause(cause)
	k.log.Warn("kernel websocket dropped; reconnecting", "err", cause)
	s.conn.close()
	s.conn = nil
	clear(s.probes)
	if s.running != nil {
		k.fail(s.running, fmt.Errorf("kernel %s: %w: %w", k.id, ErrDisconnected, cause))
		s.running, s.held = nil, false
	}
	s.helpers.Add(1)
	go func() {
		defer s.helpers.Done()
		s.reconnected <- k.reconnect(s.helperCtx)
	}()
}

// reconnect tries, with bounded backoff, to reach the kernel again. It
// asks the server about the kernel first: a 404 means there is nothing to
// reconnect to (the server restarted, or the kernel was deleted).
func (k *Kernel) reconnect(ctx context.Context) reconnected {
	b := k.c.cfg.Reconnect
	var last error
	for n := 1; n <= b.Attempts; n++ {
		t := time.NewTimer(b.delay(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return reconnected{err: ErrClosed}
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, k.c.cfg.HandshakeTimeout)
		_, err := k.c.Kernel(actx, k.id)
		if err == nil {
			var conn *wsConn
			var hs handshake
			conn, hs, err = k.c.dialer.dial(actx, k.id, k.session)
			if err == nil {
				cancel()
				k.log.Info("kernel websocket reconnected", "attempt", n)
				return reconnected{conn: conn, hs: hs}
			}
		}
		cancel()
		switch {
		case errors.Is(err, ErrKernelNotFound):
			return reconnected{err: fmt.Errorf("kernel %s: %w: the server no longer has it: %w", k.id, ErrKernelLost, err)}
		case errors.Is(err, ErrUnauthorized):
			return reconnected{err: fmt.Errorf("kernel %s: %w: %w", k.id, ErrDisconnected, err)}
		}
		last = err
		k.log.Debug("kernel reconnect attempt failed", "attempt", n, "err", err)
	}
	return reconnected{err: fmt.Errorf("kernel %s: %w: gave up reconnecting after %d attempts: %w", k.id, ErrDisconnected, b.Attempts, last)}
}

func (k *Kernel) onReconnect(s *loopState, r reconnected) {
	if r.err != nil {
		k.end(s, r.err)
		return
	}
	s.conn = r.conn
	k.mu.Lock()
	k.info = r.hs.info
	k.mu.Unlock()
	// A new session: it restarted meanwhile. The server opens a WebSocket
	// only once iopub works, so the shell's word is enough here.
	k.observe(s, r.hs.session, true)
}

// probe asks the kernel, on the control channel (answered even while the
// shell is busy), who it is: an answer from a new session reveals a
// restart whose signs were missed. An unanswered probe has the server
// asked whether the kernel still exists.
func (k *Kernel) probe(s *loopState) {
	if s.awaiting {
		return
	}
	if s.running == nil || s.held || s.conn == nil {
		clear(s.probes)
		return
	}
	for _, sent := range s.probes {
		if time.Since(sent) >= k.c.cfg.ProbeInterval {
			k.check(s)
		}
	}
	if len(s.probes) == 0 {
		k.sendProbe(s, ChannelControl)
	}
}

func (k *Kernel) sendProbe(s *loopState, channel string) {
	m, err := newMessage(channel, "kernel_info_request", k.session, struct{}{})
	if err != nil {
		return
	}
	if err := s.conn.send(m); err != nil {
		k.disconnected(s, err)
		return
	}
	s.probes[m.Header.MsgID] = time.Now()
}

// check asks the server, in the background, whether the kernel exists.
func (k *Kernel) check(s *loopState) {
	if s.checking {
		return
	}
	s.checking = true
	s.helpers.Add(1)
	go func() {
		defer s.helpers.Done()
		ctx, cancel := context.WithTimeout(s.helperCtx, k.c.cfg.HandshakeTimeout)
		defer cancel()
		_, err := k.c.Kernel(ctx, k.id)
		s.checked <- err
	}()
}

// end stops the loop for good with err.
func (k *Kernel) end(s *loopState, err error) {
	if !errors.Is(err, ErrClosed) {
		k.log.Warn("kernel connection ended", "err", err)
	}
	k.err = err
	k.failAll(s, err)
	s.ended = true
}

func (k *Kernel) fail(r *request, err error) {
	k.deliver(r, update{final: true, err: err})
}

// deliver hands u to r's caller, waiting while its OnOutput catches up,
// unless the caller has gone or the connection is closing.
func (k *Kernel) deliver(r *request, u update) {
	select {
	case r.events <- u:
		return
	default:
	}
	select {
	case r.events <- u:
	case <-r.abandoned:
	case <-k.closing:
		// Close must not wait on a stuck OnOutput; the caller gets Err.
	}
}
