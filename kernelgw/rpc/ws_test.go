package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

func TestWebSocketCalls(t *testing.T) {
	s := newServer(t, nil)
	c := s.dial(t)
	if r := call(t, c, 1, "echo", map[string]any{"text": "ab", "times": 3}); string(r.Result) != `{"text":"ababab"}` {
		t.Errorf("echo: %+v", r)
	}
	// A notification gets no response: the next message is the call's.
	send(t, c, map[string]any{"jsonrpc": "2.0", "method": "add", "params": map[string]int{"a": 1, "b": 1}})
	send(t, c, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "add", "params": map[string]int{"a": 2, "b": 2}})
	if r := read(t, c); string(r.ID) != "2" || string(r.Result) != "4" {
		t.Errorf("after a notification: %+v", r)
	}
	// A batch is answered with one array.
	must(t, c.WriteMessage(websocket.TextMessage, []byte(`[{"jsonrpc":"2.0","id":3,"method":"add","params":{"a":1,"b":2}},{"jsonrpc":"2.0","id":4,"method":"nope"}]`)))
	_, b, err := c.ReadMessage()
	must(t, err)
	resps := decode[[]rpcResponse](t, string(b))
	if len(resps) != 2 || string(resps[0].Result) != "3" || resps[1].Error.Code != rpc.CodeMethodNotFound {
		t.Errorf("batch: %s", b)
	}
	// Broken JSON is answered, and the connection stays.
	must(t, c.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":`)))
	if r := read(t, c); r.Error == nil || r.Error.Code != rpc.CodeParseError || string(r.ID) != "null" {
		t.Errorf("parse error: %+v", r)
	}
	// Strict params, over WebSocket too.
	if r := call(t, c, 5, "echo", map[string]any{"txt": "x"}); r.Error == nil || r.Error.Message != `invalid params: field "txt": unknown field` {
		t.Errorf("bad params: %+v", r.Error)
	}
	// A handler's notification comes before its response.
	send(t, c, map[string]any{"jsonrpc": "2.0", "id": 6, "method": "notify", "params": map[string]any{"text": "hello"}})
	if n := read(t, c); n.Method != "greeting" || string(n.Params) != `{"text":"hello"}` || n.ID != nil {
		t.Errorf("notification: %+v", n)
	}
	if r := read(t, c); string(r.ID) != "6" || string(r.Result) != `{"text":"sent"}` {
		t.Errorf("after the notification: %+v", r)
	}
}

func TestNotifyOverHTTP(t *testing.T) {
	s := newServer(t, nil)
	_, body := s.post(t, `{"jsonrpc":"2.0","id":1,"method":"notify","params":{"text":"x"}}`, nil)
	r := decode[rpcResponse](t, body)
	if r.Error == nil || !strings.Contains(r.Error.Message, "needs a WebSocket connection") {
		t.Errorf("got %s", body)
	}
}

func TestSubscriptions(t *testing.T) {
	s := newServer(t, nil)
	must(t, rpc.RegisterSubscriptions(s.Server, func(ctx context.Context, c *rpc.Conn, topic string) error {
		if strings.HasPrefix(topic, "admin") {
			return rpc.Errorf(rpc.CodeForbidden, "topic %q is not for clients", topic)
		}
		return nil
	}))
	a, b, other := s.dial(t), s.dial(t), s.dial(t)
	for i, c := range []*websocket.Conn{a, b} {
		r := call(t, c, 1, "rpc.subscribe", map[string]any{"topics": []string{"runs", fmt.Sprint("client", i)}})
		if want := fmt.Sprintf(`{"topics":["client%d","runs"]}`, i); string(r.Result) != want {
			t.Errorf("subscribe: %+v, want %s", r, want)
		}
	}
	call(t, other, 1, "rpc.subscribe", map[string]any{"topics": []string{"other"}})
	must(t, s.Publish("runs", "run.status", map[string]string{"run": "r1", "status": "running"}))
	for _, c := range []*websocket.Conn{a, b} {
		if n := read(t, c); n.Method != "run.status" || string(n.Params) != `{"run":"r1","status":"running"}` {
			t.Errorf("published: %+v", n)
		}
	}
	// The client subscribed elsewhere got nothing: its next message is
	// the response to a call made after the publishing.
	send(t, other, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "add", "params": map[string]int{"a": 1, "b": 1}})
	if r := read(t, other); r.Method != "" || string(r.ID) != "2" {
		t.Errorf("other: %+v", r)
	}
	// Unsubscribing stops delivery.
	if r := call(t, a, 3, "rpc.unsubscribe", map[string]any{"topics": []string{"runs"}}); string(r.Result) != `{"topics":["client0"]}` {
		t.Errorf("unsubscribe: %+v", r)
	}
	must(t, s.Publish("runs", "run.status", map[string]string{"run": "r2"}))
	if n := read(t, b); string(n.Params) != `{"run":"r2"}` {
		t.Errorf("b: %+v", n)
	}
	send(t, a, map[string]any{"jsonrpc": "2.0", "id": 4, "method": "add", "params": map[string]int{"a": 0, "b": 0}})
	if r := read(t, a); string(r.ID) != "4" {
		t.Errorf("a still got a notification after unsubscribing: %+v", r)
	}
	// The allow function decides.
	if r := call(t, a, 5, "rpc.subscribe", map[string]any{"topics": []string{"admin.keys"}}); r.Error == nil || r.Error.Code != rpc.CodeForbidden {
		t.Errorf("forbidden topic: %+v", r)
	}
	if r := call(t, a, 6, "rpc.subscribe", map[string]any{"topics": []string{""}}); r.Error == nil || r.Error.Message != `invalid params: field "topics[0]": a topic must have 1 to 256 bytes` {
		t.Errorf("empty topic: %+v", r.Error)
	}
	// Over HTTP there is nothing to subscribe with.
	_, body := s.post(t, `{"jsonrpc":"2.0","id":1,"method":"rpc.subscribe","params":{"topics":["runs"]}}`, nil)
	if !strings.Contains(body, "needs a WebSocket connection") {
		t.Errorf("over HTTP: %s", body)
	}
}

func TestManyClients(t *testing.T) {
	s := newServer(t, nil)
	const clients, calls = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := s.dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Pipelined: all requests out before the first response is read.
			for j := range calls {
				b := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"add","params":{"a":%d,"b":%d}}`, j, i, j)
				if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
					errs <- err
					return
				}
			}
			seen := map[string]string{}
			for range calls {
				c.SetReadDeadline(time.Now().Add(waitLimit))
				var r rpcResponse
				if err := c.ReadJSON(&r); err != nil {
					errs <- err
					return
				}
				seen[string(r.ID)] = string(r.Result)
			}
			for j := range calls {
				if got, want := seen[fmt.Sprint(j)], fmt.Sprint(i+j); got != want {
					errs <- fmt.Errorf("client %d call %d: %q, want %q", i, j, got, want)
					return
				}
			}
		}()
	}
	// HTTP clients at the same time.
	for j := range calls {
		if _, body := s.post(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"add","params":{"a":%d,"b":1}}`, j), nil); !strings.Contains(body, fmt.Sprintf(`"result":%d`, j+1)) {
			t.Errorf("http: %s", body)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTooManyClients(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) { c.MaxClients = 1 })
	c := s.dial(t)
	call(t, c, 1, "add", map[string]int{"a": 1, "b": 1})
	_, resp, err := websocket.DefaultDialer.Dial(s.wsURL(), tokenHeader(testToken))
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a second client: %v %v", err, resp)
	}
}

// smallBuffers shrinks the kernel's socket buffers of the first
// connection it accepts, so that a client there that does not read backs
// up into the server after a few messages rather than megabytes. Later
// connections keep the defaults: small buffers make a reading client slow
// too.
type smallBuffers struct {
	net.Listener
	first *atomic.Bool
}

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && l.first.CompareAndSwap(true, false) {
		tc.SetWriteBuffer(4096)
		tc.SetReadBuffer(4096)
	}
	return c, err
}

func TestSlowClientDropped(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) {
		c.SendQueue = 4
		c.CloseGrace = 50 * time.Millisecond
	})
	// The same server on a listener with small buffers.
	ts := httptest.NewUnstartedServer(s.Server)
	first := &atomic.Bool{}
	first.Store(true)
	ts.Listener = smallBuffers{ts.Listener, first}
	ts.Start()
	defer ts.Close()
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	conns := captureConns(t, s)
	must(t, rpc.RegisterSubscriptions(s.Server, nil))
	dial := func(small bool) (*websocket.Conn, *rpc.Conn) {
		dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if tc, ok := c.(*net.TCPConn); ok && small {
				tc.SetReadBuffer(4096)
			}
			return c, err
		}}
		c, _, err := dialer.Dial(wsURL, tokenHeader(testToken))
		must(t, err)
		t.Cleanup(func() { c.Close() })
		call(t, c, 1, "rpc.subscribe", map[string]any{"topics": []string{"logs"}})
		call(t, c, 2, "whoami", nil)
		return c, <-conns
	}
	slow, slowServer := dial(true)
	fast, fastServer := dial(false)
	_ = slow // subscribed, never reads again

	// Publish until the slow client is dropped, each message read by the
	// fast client before the next is published: the fast one never has
	// more than one message queued, so only the slow one can fill its
	// queue. The bound is what the buffers can hold, many times over.
	payload := strings.Repeat("x", 16<<10)
	const bound = 2000
	n := 0
	for ; n < bound && slowServer.Err() == nil; n++ {
		must(t, s.Publish("logs", "log", map[string]any{"seq": n, "line": payload}))
		msg := read(t, fast)
		if want := fmt.Sprintf(`{"line":"%s","seq":%d}`, payload, n); msg.Method != "log" || string(msg.Params) != want {
			t.Fatalf("fast client, message %d: %.80s", n, msg.Params)
		}
	}
	if !errors.Is(slowServer.Err(), rpc.ErrSlowClient) {
		t.Fatalf("after %d messages, the slow client is not dropped: %v", n, slowServer.Err())
	}
	t.Logf("slow client dropped after %d messages", n)
	// Publishing goes on; the fast client gets everything, still.
	for i := range 10 {
		must(t, s.Publish("logs", "log", map[string]int{"after": i}))
		if msg := read(t, fast); string(msg.Params) != fmt.Sprintf(`{"after":%d}`, i) {
			t.Fatalf("fast client after the drop: %s", msg.Params)
		}
	}
	if fastServer.Err() != nil {
		t.Errorf("the fast client was dropped too: %v", fastServer.Err())
	}
	// The slow client's connection ends (a close frame, if it could be
	// sent, else a reset).
	slow.SetReadDeadline(time.Now().Add(waitLimit))
	for {
		if _, _, err := slow.NextReader(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the slow client's connection was not closed")
			}
			break
		}
	}
	eventually(t, "the drop logged", func() bool { return strings.Contains(s.logs.String(), "websocket client dropped") })
}

func TestPingTimeout(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) {
		c.PingInterval = 20 * time.Millisecond
		c.PongTimeout = 2 * time.Second // generous: a busy machine may delay a pong
		c.CloseGrace = 50 * time.Millisecond
	})
	conns := captureConns(t, s)

	// A client that answers pings stays, however many pings go by.
	alive := s.dial(t)
	var pings atomic.Int32
	alive.SetPingHandler(func(data string) error {
		pings.Add(1)
		return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(waitLimit))
	})
	call(t, alive, 1, "whoami", nil)
	aliveServer := <-conns

	// One that does not is dropped.
	dead := s.dial(t)
	dead.SetPingHandler(func(string) error { return nil })
	call(t, dead, 1, "whoami", nil)
	deadServer := <-conns
	go func() { // read, so that pings arrive and are ignored
		for {
			if _, _, err := dead.NextReader(); err != nil {
				return
			}
		}
	}()
	// Keep the live client reading: control frames are handled in reads.
	go func() {
		for {
			if _, _, err := alive.NextReader(); err != nil {
				return
			}
		}
	}()
	<-deadServer.Done()
	if !errors.Is(deadServer.Err(), rpc.ErrPingTimeout) {
		t.Errorf("the silent client ended with %v", deadServer.Err())
	}
	eventually(t, "pings to the live client", func() bool { return pings.Load() >= 3 })
	if err := aliveServer.Err(); err != nil {
		t.Errorf("the live client was dropped: %v", err)
	}
}

func TestCloseGraceful(t *testing.T) {
	s := newServer(t, nil)
	must(t, rpc.RegisterSubscriptions(s.Server, nil))
	idle := s.dial(t)
	call(t, idle, 1, "rpc.subscribe", map[string]any{"topics": []string{"t"}})
	busy := s.dial(t)
	send(t, busy, map[string]any{"jsonrpc": "2.0", "id": 9, "method": "block"})
	<-s.started

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		closed <- s.Close(ctx)
	}()
	// Once closing, new requests are refused...
	eventually(t, "HTTP refused while closing", func() bool {
		status, _ := s.post(t, addCall, nil)
		return status == http.StatusServiceUnavailable
	})
	// ...and the idle client is told goodbye.
	idle.SetReadDeadline(time.Now().Add(waitLimit))
	_, _, err := idle.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "server shutting down" {
		t.Errorf("idle client: %v", err)
	}
	// The call in flight finishes and its response is delivered before
	// the close frame.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with a call in flight", err)
	default:
	}
	close(s.release)
	if r := read(t, busy); string(r.ID) != "9" || string(r.Result) != `"released"` {
		t.Errorf("the call in flight: %+v", r)
	}
	_, _, err = busy.ReadMessage()
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("busy client after its response: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	noGoroutinesLeft(t)
	// Closed is closed: a second Close returns at once.
	must(t, s.Close(context.Background()))
}

func TestCloseForced(t *testing.T) {
	s := newServer(t, nil)
	var cause atomic.Value
	must(t, rpc.Register(s.Server, "stubborn", "", func(ctx context.Context, c *rpc.Conn, _ struct{}) (struct{}, error) {
		s.started <- struct{}{}
		<-ctx.Done() // ends only when canceled
		cause.Store(context.Cause(ctx))
		return struct{}{}, ctx.Err()
	}))
	c := s.dial(t)
	send(t, c, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "stubborn"})
	<-s.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no patience at all
	if err := s.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close: %v", err)
	}
	eventually(t, "the call canceled", func() bool { return cause.Load() != nil })
	if err := cause.Load().(error); !errors.Is(err, rpc.ErrShutdown) {
		t.Errorf("the call's context ended with %v", err)
	}
	c.SetReadDeadline(time.Now().Add(waitLimit))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Error("the client's connection is still open")
	}
	noGoroutinesLeft(t)
}

func TestServeAndClose(t *testing.T) {
	auth, _ := rpc.TokenAuth(testToken)
	s, err := rpc.New(rpc.Config{Auth: auth})
	must(t, err)
	must(t, rpc.Register(s, "add", "", func(ctx context.Context, c *rpc.Conn, p addParams) (int, error) { return p.A + p.B, nil }))
	l, err := rpc.Listen(context.Background(), "")
	must(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	url := "http://" + l.Addr().String()
	req, _ := http.NewRequest(http.MethodPost, url+"/rpc", strings.NewReader(addCall))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token "+testToken)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+l.Addr().String()+"/ws", tokenHeader(testToken))
	must(t, err)
	defer c.Close()
	call(t, c, 1, "add", map[string]int{"a": 1, "b": 2})
	readErr := make(chan error, 1)
	go func() { // reading answers the server's close frame
		_, _, err := c.ReadMessage()
		readErr <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	must(t, s.Close(ctx))
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := <-readErr; !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("the WebSocket after Close: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
	noGoroutinesLeft(t)
}
