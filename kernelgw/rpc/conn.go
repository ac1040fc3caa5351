package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one WebSocket client. Handlers get it to push notifications and
// to manage the client's subscriptions; its methods are safe for
// concurrent use, never block on the client, and on a nil Conn (a call
// over HTTP) return an error.
//
// Each Conn has three goroutines: a reader that decodes requests and
// starts a goroutine per call (at most MaxInflight), a writer that owns the
// socket's writes (responses, notifications, pings) from a bounded queue,
// and a manager that ends the connection once, for whatever reason, and
// cleans up after it.
type Conn struct {
	s      *Server
	ws     *websocket.Conn
	id     uint64
	creds  Credentials
	remote string
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelCauseFunc

	send    chan []byte   // the send queue
	sem     chan struct{} // calls in flight
	done    chan struct{} // closed by fail: the connection is ending
	drainCh chan struct{} // closed by drain: the server is closing
	goodbye chan struct{} // closed when drained: the writer flushes and says goodbye

	failOnce  sync.Once
	drainOnce sync.Once
	err       error // why it ended; written before done is closed

	closeSent  atomic.Bool // the writer sent the close frame
	peerClosed atomic.Bool // the client sent one (gorilla answered it)
	readerDone chan struct{}
	writerDone chan struct{}

	mu       sync.Mutex
	inflight int
	idle     chan struct{} // closed when inflight drops to 0 while draining
	draining bool
	ending   bool // the manager owns the read deadline now

	// Guarded by s.mu, like the server's topic index they mirror.
	topics  map[string]struct{}
	removed bool
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		writeHTTPError(w, http.StatusServiceUnavailable, errUnavailable())
		return
	}
	defer s.callWG.Done()
	creds, ok := s.admit(w, r, false)
	if !ok {
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeHTTPError(w, http.StatusBadRequest, &Error{Code: CodeInvalidRequest, Message: "expected a WebSocket upgrade"})
		return
	}
	s.mu.RLock()
	full := len(s.conns) >= s.cfg.MaxClients
	s.mu.RUnlock()
	if full {
		writeHTTPError(w, http.StatusServiceUnavailable, &Error{Code: CodeUnavailable,
			Message: fmt.Sprintf("too many clients: the limit is %d", s.cfg.MaxClients)})
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("rpc: websocket handshake failed", "remote", r.RemoteAddr, "err", err)
		return // the upgrader answered
	}
	s.mu.Lock()
	refuse := ""
	switch {
	case s.closing:
		refuse = ErrShutdown.Error()
	case len(s.conns) >= s.cfg.MaxClients:
		refuse = "too many clients"
	}
	if refuse != "" {
		s.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, refuse),
			time.Now().Add(s.cfg.CloseGrace))
		ws.Close()
		return
	}
	s.nextID++
	c := &Conn{
		s: s, ws: ws, id: s.nextID, creds: creds, remote: r.RemoteAddr,
		send:       make(chan []byte, s.cfg.SendQueue),
		sem:        make(chan struct{}, s.cfg.MaxInflight),
		done:       make(chan struct{}),
		drainCh:    make(chan struct{}),
		goodbye:    make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
		topics:     map[string]struct{}{},
	}
	c.log = s.log.With("conn", c.id, "remote", c.remote)
	c.ctx, c.cancel = context.WithCancelCause(s.base)
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	c.log.Debug("rpc: websocket client connected", "auth", creds.Scheme)
	go c.run()
}

// ID identifies the connection in logs.
func (c *Conn) ID() uint64 { return c.id }

// Credentials says how the client authenticated.
func (c *Conn) Credentials() Credentials { return c.creds }

// Context ends when the connection does: for work a method leaves running
// on the client's behalf (a watch that publishes until the client leaves).
func (c *Conn) Context() context.Context { return c.ctx }

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (ErrSlowClient, ErrPingTimeout,
// ErrTooLarge, ErrShutdown, ErrClientGone, possibly wrapped), or nil while
// it lasts.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func errNoConn() *Error {
	return &Error{Code: CodeFailed, Message: "this needs a WebSocket connection (/ws), not HTTP"}
}

// Notify sends a notification to the client. It queues the message and
// returns; a client whose queue is full is dropped and ErrSlowClient
// returned.
func (c *Conn) Notify(method string, params any) error {
	if c == nil {
		return errNoConn()
	}
	b, err := encodeNotification(method, params)
	if err != nil {
		return err
	}
	return c.enqueue(b)
}

// Subscribe subscribes the client to topic, for Server.Publish.
func (c *Conn) Subscribe(topic string) error {
	if c == nil {
		return errNoConn()
	}
	if !validTopic(topic) {
		return Errorf(CodeFailed, "topic %s: a topic must have 1 to %d bytes", quote(topic), maxTopicLen)
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.removed {
		return ErrClosed
	}
	if _, ok := c.topics[topic]; ok {
		return nil
	}
	if len(c.topics) >= s.cfg.MaxTopics {
		return Errorf(CodeTooLarge, "too many subscriptions: the limit is %d", s.cfg.MaxTopics)
	}
	c.topics[topic] = struct{}{}
	if s.topics[topic] == nil {
		s.topics[topic] = map[*Conn]struct{}{}
	}
	s.topics[topic][c] = struct{}{}
	return nil
}

// maxTopicLen bounds a topic: the index holds every client's.
const maxTopicLen = 256

func validTopic(t string) bool { return t != "" && len(t) <= maxTopicLen }

// Unsubscribe ends the client's subscription to topic, if any.
func (c *Conn) Unsubscribe(topic string) {
	if c == nil {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := c.topics[topic]; !ok {
		return
	}
	delete(c.topics, topic)
	delete(s.topics[topic], c)
	if len(s.topics[topic]) == 0 {
		delete(s.topics, topic)
	}
}

// Topics returns the client's subscriptions, sorted.
func (c *Conn) Topics() []string {
	if c == nil {
		return nil
	}
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	ts := make([]string, 0, len(c.topics))
	for t := range c.topics {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// enqueue queues a message for the writer without waiting: a client that
// has let its queue fill is not reading, and waiting for it would stall
// whoever is sending — a publisher serving every other client.
func (c *Conn) enqueue(b []byte) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	select {
	case c.send <- b:
		return nil
	default:
		c.fail(ErrSlowClient)
		return ErrSlowClient
	}
}

// fail ends the connection for err; the first reason wins. It never
// blocks: the manager does the rest.
func (c *Conn) fail(err error) {
	c.failOnce.Do(func() {
		c.err = err
		c.cancel(err)
		close(c.done)
	})
}

// drain starts a graceful end, for Server.Close.
func (c *Conn) drain() {
	c.mu.Lock()
	c.draining = true
	c.mu.Unlock()
	c.drainOnce.Do(func() { close(c.drainCh) })
}

// startCall counts a call in, unless the connection is draining.
func (c *Conn) startCall() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining || !c.s.enter() {
		return false
	}
	c.inflight++
	return true
}

func (c *Conn) endCall() {
	c.s.callWG.Done()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	if c.inflight == 0 && c.idle != nil {
		close(c.idle)
		c.idle = nil
	}
}

// waitIdle waits until no call is in flight; false if the connection
// failed first.
func (c *Conn) waitIdle() bool {
	c.mu.Lock()
	if c.inflight == 0 {
		c.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	c.idle = ch
	c.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-c.done:
		return false
	}
}

// alive pushes the read deadline on: the client has shown it is there.
func (c *Conn) alive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ending {
		_ = c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
	}
}

// run is the manager: it waits for the end, says why to the client, and
// cleans up.
func (c *Conn) run() {
	defer c.s.connWG.Done()
	go c.readLoop()
	go c.writeLoop()
	select {
	case <-c.done:
	case <-c.drainCh:
		if c.waitIdle() {
			close(c.goodbye) // the writer delivers what is queued, then the close frame
		}
		select {
		case <-c.done:
		case <-c.writerDone:
		}
	}
	if !c.closeSent.Load() && !c.peerClosed.Load() {
		code, reason := closeCode(c.Err())
		c.closeSent.Store(true)
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.s.cfg.CloseGrace))
	}
	// Wait briefly for the client's close frame before closing the
	// socket: closing with unread data resets the connection, and the
	// client could lose our close frame, and with it the reason.
	c.mu.Lock()
	c.ending = true
	_ = c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.CloseGrace))
	c.mu.Unlock()
	select {
	case <-c.readerDone:
	case <-time.After(c.s.cfg.CloseGrace):
	}
	c.fail(ErrShutdown) // if nothing else ended it: a drain whose close went unanswered
	err := c.Err()
	c.ws.Close()
	<-c.readerDone
	<-c.writerDone
	c.s.removeConn(c)
	if errors.Is(err, ErrClientGone) {
		c.log.Debug("rpc: websocket client left", "reason", err)
	} else if errors.Is(err, ErrShutdown) {
		c.log.Debug("rpc: websocket client closed", "reason", err)
	} else {
		c.log.Warn("rpc: websocket client dropped", "reason", err)
	}
}

// closeCode picks the close frame for why a connection ends.
func closeCode(err error) (int, string) {
	code := websocket.CloseInternalServerErr
	switch {
	case errors.Is(err, ErrShutdown):
		code = websocket.CloseGoingAway
	case errors.Is(err, ErrTooLarge):
		code = websocket.CloseMessageTooBig
	case errors.Is(err, ErrSlowClient), errors.Is(err, ErrPingTimeout):
		code = websocket.ClosePolicyViolation
	case errors.Is(err, ErrClientGone):
		code = websocket.CloseNormalClosure
	}
	// A close frame's reason has at most 123 bytes, of UTF-8.
	return code, truncate(err.Error())
}

func (c *Conn) readLoop() {
	defer close(c.readerDone)
	max := c.s.cfg.MaxMessageBytes
	c.ws.SetPongHandler(func(string) error { c.alive(); return nil })
	c.alive()
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			c.readFailed(err)
			return
		}
		if c.closeSent.Load() {
			c.fail(ErrShutdown) // a no-op unless this is a drain's end
		}
		select {
		case <-c.done:
			// Ending: read only to see the client's close frame.
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			continue
		default:
		}
		// Read one byte past the limit to tell "at" from "over" without
		// ever holding more.
		data, err := io.ReadAll(io.LimitReader(r, max+1))
		if err != nil {
			c.readFailed(err)
			return
		}
		if int64(len(data)) > max {
			c.fail(fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, max))
			continue // to the client's close frame, or the deadline
		}
		c.alive()
		c.handle(data)
	}
}

func (c *Conn) readFailed(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		c.peerClosed.Store(true)
		if c.closeSent.Load() {
			c.fail(ErrShutdown)
		} else {
			c.fail(fmt.Errorf("%w: %v", ErrClientGone, err))
		}
	case errors.As(err, &ne) && ne.Timeout():
		c.fail(fmt.Errorf("%w: nothing heard for %v", ErrPingTimeout, c.s.cfg.PongTimeout))
	default:
		c.fail(fmt.Errorf("%w: %v", ErrClientGone, err))
	}
}

// handle runs what one message asked for. A single request runs on its
// own, so a long call does not hold up the client's others; a batch runs
// as one call, in order, answered with one array.
func (c *Conn) handle(data []byte) {
	reqs, batch, ferr := decodeFrame(data, c.s.cfg.MaxBatch)
	if ferr != nil {
		_ = c.enqueue(encodeResponses([]*response{errorResponse(nil, ferr)}, false))
		return
	}
	// Back-pressure: with MaxInflight calls running, stop reading.
	select {
	case c.sem <- struct{}{}:
	case <-c.done:
		return
	}
	if !c.startCall() {
		<-c.sem
		var resps []*response
		for _, r := range reqs {
			if !r.notification() {
				resps = append(resps, errorResponse(r.id, errUnavailable()))
			}
		}
		if b := encodeResponses(resps, batch); b != nil {
			_ = c.enqueue(b)
		}
		return
	}
	go func() {
		defer c.endCall()
		defer func() { <-c.sem }()
		var resps []*response
		for _, r := range reqs {
			if resp := c.s.call(c.ctx, c, r); resp != nil {
				resps = append(resps, resp)
			}
		}
		if b := encodeResponses(resps, batch); b != nil {
			_ = c.enqueue(b)
		}
	}()
}

func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.send:
			if !c.write(b) {
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
				c.writeFailed(err)
				return
			}
		case <-c.goodbye:
			for len(c.send) > 0 {
				if !c.write(<-c.send) {
					return
				}
			}
			code, reason := closeCode(ErrShutdown)
			c.closeSent.Store(true)
			if err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
				time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
				c.writeFailed(err)
			}
			return
		}
	}
}

func (c *Conn) write(b []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.writeFailed(err)
		return false
	}
	return true
}

func (c *Conn) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.fail(fmt.Errorf("%w: a write took longer than %v", ErrSlowClient, c.s.cfg.WriteTimeout))
		return
	}
	c.fail(fmt.Errorf("%w: %v", ErrClientGone, err))
}
