package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

const testToken = "0123456789abcdef-test-token"

// logBuffer collects a server's logs for tests that check what it logged;
// the logs also go to the test's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	*rpc.Server
	ts   *httptest.Server
	logs *logBuffer
	// block's calls wait for release; started says they began.
	started chan struct{}
	release chan struct{}
}

type echoParams struct {
	Text  string `json:"text"`
	Times int    `json:"times,omitempty"`
}

type echoResult struct {
	Text string `json:"text"`
}

type addParams struct {
	A int `json:"a"`
	B int `json:"b"`
}

type failParams struct {
	How string `json:"how"`
}

// newServer starts a server with the test methods on a real HTTP server;
// both end with the test, and the test fails if Close does not return
// cleanly.
func newServer(t *testing.T, tune func(*rpc.Config)) *testServer {
	t.Helper()
	auth, err := rpc.TokenAuth(testToken)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cfg := rpc.Config{
		Auth:   auth,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tune != nil {
		tune(&cfg)
	}
	s, err := rpc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tsv := &testServer{Server: s, logs: logs, started: make(chan struct{}, 100), release: make(chan struct{})}
	must(t, rpc.Register(s, "echo", "Echoes text.", func(ctx context.Context, c *rpc.Conn, p echoParams) (echoResult, error) {
		return echoResult{Text: strings.Repeat(p.Text, max(p.Times, 1))}, nil
	}))
	must(t, rpc.Register(s, "add", "Adds.", func(ctx context.Context, c *rpc.Conn, p addParams) (int, error) {
		return p.A + p.B, nil
	}))
	must(t, rpc.Register(s, "fail", "Fails as asked.", func(ctx context.Context, c *rpc.Conn, p failParams) (struct{}, error) {
		switch p.How {
		case "rpc":
			return struct{}{}, fmt.Errorf("lookup: %w", &rpc.Error{Code: rpc.CodeConflict, Message: "run r1 is already running", Data: map[string]string{"run": "r1"}})
		case "notfound":
			return struct{}{}, fmt.Errorf("read nb.ipynb: %w", errNotExist)
		case "timeout":
			ctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
			defer cancel()
			<-ctx.Done()
			return struct{}{}, fmt.Errorf("compile: %w", ctx.Err())
		case "panic":
			var m map[string]int
			m["boom"]++ // a nil map: a real bug, not a panic(string)
		case "field":
			return struct{}{}, rpc.FieldError("how", "must not be %q", p.How)
		}
		return struct{}{}, errors.New("compile nb.ipynb: cell 4: unknown tag \"blok:x\"")
	}))
	must(t, rpc.Register(s, "notify", "Sends a notification, then answers.", func(ctx context.Context, c *rpc.Conn, p echoParams) (echoResult, error) {
		if err := c.Notify("greeting", echoResult{Text: p.Text}); err != nil {
			return echoResult{}, err
		}
		return echoResult{Text: "sent"}, nil
	}))
	must(t, rpc.Register(s, "block", "Waits for the test.", func(ctx context.Context, c *rpc.Conn, _ struct{}) (string, error) {
		tsv.started <- struct{}{}
		select {
		case <-tsv.release:
			return "released", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	tsv.ts = httptest.NewServer(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		tsv.ts.Close()
	})
	return tsv
}

var errNotExist = fmt.Errorf("open nb.ipynb: %w", fs.ErrNotExist)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (s *testServer) wsURL() string { return "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/ws" }

// post sends body to /rpc with the token unless hdr says otherwise.
func (s *testServer) post(t *testing.T, body string, hdr http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.ts.URL+"/rpc", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token "+testToken)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// rpcResponse is a response as a client sees it.
type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *rpc.Error      `json:"error"`
	Method  string          `json:"method"` // set on notifications
	Params  json.RawMessage `json:"params"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// dial opens a WebSocket with the token.
func (s *testServer) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(s.wsURL(), http.Header{"Authorization": {"token " + testToken}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitLimit bounds how long a test waits for something that must happen;
// it is a guard against hanging, never an assertion about speed.
const waitLimit = time.Minute

// read reads one message.
func read(t *testing.T, c *websocket.Conn) rpcResponse {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLimit))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return decode[rpcResponse](t, string(b))
}

// call sends a request and reads messages until its response.
func call(t *testing.T, c *websocket.Conn, id int, method string, params any) rpcResponse {
	t.Helper()
	send(t, c, map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	for {
		r := read(t, c)
		if r.Method == "" && string(r.ID) == fmt.Sprint(id) {
			return r
		}
	}
}

func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(waitLimit))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// eventually polls cond until it holds, failing t after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serverGoroutines returns the stacks of goroutines running the package's
// code (not its tests').
func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "datainsight/kernelgw/rpc.") {
			found = append(found, g)
		}
	}
	return found
}

// noGoroutinesLeft fails t unless the package's goroutines all end (they
// may take a moment to return after Close saw them finish).
func noGoroutinesLeft(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		left := serverGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
