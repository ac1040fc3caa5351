package jupyter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsDialer opens a kernel's channels WebSocket.
type wsDialer struct {
	c *Client
	d websocket.Dialer
}

func newDialer(c *Client) wsDialer {
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: c.cfg.HandshakeTimeout}
	// The WebSocket should go where the REST calls go, the same way.
	if t, ok := c.http.Transport.(*http.Transport); ok {
		d.Proxy = t.Proxy
		if t.TLSClientConfig != nil {
			d.TLSClientConfig = t.TLSClientConfig.Clone()
		}
	}
	return wsDialer{c: c, d: d}
}

// handshake is what a new connection learned from the kernel.
type handshake struct {
	info    KernelInfo
	session string // the kernel's own session id: it changes when the kernel restarts
}

// dial connects to kernel id's channels as session and exchanges
// kernel_info, so that a returned connection is known to reach a live kernel.
func (w wsDialer) dial(ctx context.Context, id, session string) (*wsConn, handshake, error) {
	c := w.c
	u := c.endpoint("api", "kernels", id, "channels")
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.RawQuery = "session_id=" + session
	h := http.Header{}
	c.authorize(h)
	ws, resp, err := w.d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, handshake{}, kernelErr(httpError(http.MethodGet, u.Path, resp.StatusCode, body))
		}
		return nil, handshake{}, fmt.Errorf("open %s: %w", u.Path, err)
	}
	ws.SetReadLimit(c.cfg.MaxMessageBytes)

	// Reads below do not watch ctx; closing the socket interrupts them.
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	hs, err := kernelInfoHandshake(ws, session, c.cfg.HandshakeTimeout)
	if err != nil {
		ws.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, handshake{}, fmt.Errorf("kernel_info on %s: %w", u.Path, err)
	}
	if !stop() {
		ws.Close()
		return nil, handshake{}, ctx.Err()
	}
	return newWSConn(ws, c.log.With("kernel", id), c.cfg), hs, nil
}

// kernelInfoHandshake sends kernel_info_request and waits for its reply,
// dropping whatever else arrives meanwhile (the server's own kernel_info
// traffic, other clients' output): nothing is waiting for it yet.
func kernelInfoHandshake(ws *websocket.Conn, session string, timeout time.Duration) (handshake, error) {
	req, err := newMessage(ChannelShell, "kernel_info_request", session, struct{}{})
	if err != nil {
		return handshake{}, err
	}
	data, err := req.encode()
	if err != nil {
		return handshake{}, err
	}
	deadline := time.Now().Add(timeout)
	ws.SetWriteDeadline(deadline)
	if err := ws.WriteMessage(websocket.TextMessage, data); err != nil {
		return handshake{}, err
	}
	ws.SetReadDeadline(deadline)
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			return handshake{}, err
		}
		if typ != websocket.TextMessage {
			continue
		}
		m, err := Decode(data)
		if err != nil || m.ParentHeader.MsgID != req.Header.MsgID {
			continue
		}
		ev, err := classify(m)
		if err != nil {
			return handshake{}, err
		}
		if ev.kind == eventKernelInfoReply {
			return handshake{info: ev.info, session: ev.session}, nil
		}
	}
}

// wsConn is one live channels WebSocket: a reader goroutine hands decoded
// messages over, a pinger keeps the connection honest, send writes.
type wsConn struct {
	ws       *websocket.Conn
	log      *slog.Logger
	idle     time.Duration // how long a read may wait for any frame
	wtimeout time.Duration

	msgs chan *Message
	done chan struct{} // closed when the reader stops; err says why
	err  error

	wmu      sync.Mutex
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// msgBuffer is how many decoded messages may wait for the kernel's loop;
// beyond it the reader stops reading and TCP pushes back on the server.
const msgBuffer = 64

func newWSConn(ws *websocket.Conn, log *slog.Logger, cfg Config) *wsConn {
	c := &wsConn{
		ws: ws, log: log,
		idle:     cfg.PingInterval + cfg.PongTimeout,
		wtimeout: cfg.PongTimeout,
		msgs:     make(chan *Message, msgBuffer),
		done:     make(chan struct{}),
		stop:     make(chan struct{}),
	}
	// A pong proves the peer alive even when the kernel has nothing to say.
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(c.idle))
	})
	c.wg.Add(2)
	go c.read()
	go c.ping(cfg.PingInterval)
	return c
}

func (c *wsConn) read() {
	defer c.wg.Done()
	defer close(c.done)
	for {
		// The deadline starts with each read, so time spent waiting for
		// the loop to take a message does not count against the peer.
		c.ws.SetReadDeadline(time.Now().Add(c.idle))
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		var m *Message
		switch typ {
		case websocket.TextMessage:
			m, err = Decode(data)
		case websocket.BinaryMessage:
			m, err = DecodeBinary(data)
		}
		if err != nil {
			c.log.Debug("dropped malformed kernel message", "err", err, "bytes", len(data))
			continue
		}
		select {
		case c.msgs <- m:
		case <-c.stop:
			c.err = ErrClosed
			return
		}
	}
}

func (c *wsConn) ping(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.wtimeout)); err != nil {
				c.log.Debug("kernel websocket ping failed", "err", err)
				c.ws.Close() // the reader sees it and reports the drop
				return
			}
		}
	}
}

// send writes m. A failed write closes the socket: a half-written frame
// leaves nothing worth keeping.
func (c *wsConn) send(m *Message) error {
	data, err := m.encode()
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(c.wtimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		c.ws.Close()
		return err
	}
	return nil
}

// close ends the connection and waits for its goroutines.
func (c *wsConn) close() {
	c.stopOnce.Do(func() {
		close(c.stop)
		c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.ws.Close()
	})
	c.wg.Wait()
}

// dropCause says why the reader stopped, in this package's terms.
func dropCause(err error) error {
	if errors.Is(err, websocket.ErrReadLimit) {
		return ErrMessageTooLarge
	}
	return err
}
