package jupyter

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeKernel is a scripted stand-in for a Jupyter server with one kernel,
// for what a real one will not do on demand: send garbage, answer in odd
// orders, stop answering. The real server's behaviour is tested in
// kernel_test.go and reconnect_test.go.
type fakeKernel struct {
	t   *testing.T
	srv *httptest.Server
	id  string

	mu      sync.Mutex
	session string // the kernel process's session id
	gone    bool   // the server no longer knows the kernel
	silent  bool   // the kernel answers nothing (the WebSocket stays up)
	deaf    bool   // iopub messages are lost (the server's subscription lags)
	stop    chan struct{}
	conns   []*websocket.Conn
	codes   []string // code of every execute_request received
	// script answers an execute_request; default: stdout "ran <code>", ok.
	script func(c *fakeConn, req *Message)
}

// fakeConn is the server side of one WebSocket.
type fakeConn struct {
	k   *fakeKernel
	ws  *websocket.Conn
	wmu sync.Mutex
}

const fakeID = "0f0f0f0f-0000-4000-8000-000000000001"

func newFakeKernel(t *testing.T) *fakeKernel {
	f := &fakeKernel{t: t, id: fakeID, session: "kernel-session-1", stop: make(chan struct{})}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/kernels/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		gone := f.gone || r.PathValue("id") != f.id
		f.mu.Unlock()
		if gone {
			http.Error(w, `{"message": "Kernel does not exist"}`, http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"id": %q, "name": "python3"}`, f.id)
	})
	mux.HandleFunc("POST /api/kernels/{id}/restart", func(w http.ResponseWriter, r *http.Request) {
		// A new kernel process, whose iopub reaches the server late.
		f.mu.Lock()
		f.session = newID()
		f.deaf = true
		f.mu.Unlock()
		time.AfterFunc(300*time.Millisecond, func() {
			f.mu.Lock()
			f.deaf = false
			f.mu.Unlock()
		})
		fmt.Fprintf(w, `{"id": %q, "name": "python3"}`, f.id)
	})
	mux.HandleFunc("GET /api/kernels/{id}/channels", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		gone := f.gone || r.PathValue("id") != f.id
		f.mu.Unlock()
		if gone {
			http.Error(w, "no kernel", http.StatusNotFound)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, ws)
		f.mu.Unlock()
		c := &fakeConn{k: f, ws: ws}
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			m, err := Decode(data)
			if err != nil {
				t.Errorf("fake kernel: client sent an undecodable message: %v\n%s", err, data)
				return
			}
			f.mu.Lock()
			silent := f.silent
			f.mu.Unlock()
			if silent {
				continue
			}
			switch m.Header.MsgType {
			case "kernel_info_request":
				// As real kernels do, with status around every request.
				c.status(m, "busy")
				c.send(m.Channel, "kernel_info_reply", m, KernelInfo{
					ProtocolVersion: "5.3", Implementation: "fake",
					LanguageInfo: LanguageInfo{Name: "python", Version: "3.11.2"},
				})
				c.status(m, "idle")
			case "execute_request":
				var req executeRequest
				json.Unmarshal(m.Content, &req)
				f.mu.Lock()
				f.codes = append(f.codes, req.Code)
				script := f.script
				f.mu.Unlock()
				if req.Code == "freeze" {
					// Stop reading, so that pings go unanswered.
					<-f.stop
					return
				}
				if script == nil {
					script = okScript
				}
				go script(c, m)
			}
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.stop)
		f.dropAll()
		f.srv.Close()
	})
	return f
}

// okScript is a well-behaved kernel: busy, output, reply, idle.
func okScript(c *fakeConn, req *Message) {
	var r executeRequest
	json.Unmarshal(req.Content, &r)
	c.status(req, "busy")
	c.send(ChannelIOPub, "stream", req, streamContent{Name: "stdout", Text: "ran " + r.Code})
	c.reply(req, "ok")
	c.status(req, "idle")
}

func (c *fakeConn) send(channel, msgType string, parent *Message, content any) {
	c.k.mu.Lock()
	session, deaf := c.k.session, c.k.deaf
	c.k.mu.Unlock()
	if deaf && channel == ChannelIOPub {
		return
	}
	m, err := newMessage(channel, msgType, session, content)
	if err != nil {
		panic(err)
	}
	if parent != nil {
		m.ParentHeader = parent.Header
	}
	data, _ := m.encode()
	c.raw(websocket.TextMessage, data)
}

func (c *fakeConn) raw(typ int, data []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.WriteMessage(typ, data)
}

func (c *fakeConn) status(parent *Message, state string) {
	c.send(ChannelIOPub, "status", parent, statusContent{ExecutionState: state})
}

func (c *fakeConn) reply(parent *Message, status string) {
	n := 1
	c.send(ChannelShell, "execute_reply", parent, executeReply{Status: status, ExecutionCount: &n})
}

func (f *fakeKernel) setScript(s func(c *fakeConn, req *Message)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = s
}

func (f *fakeKernel) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ws := range f.conns {
		ws.Close()
	}
	f.conns = nil
}

func (f *fakeKernel) connect(t *testing.T, tune func(*Config)) *Kernel {
	t.Helper()
	cfg := Config{
		URL: f.srv.URL, Token: "t",
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Reconnect: Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 50},
	}
	if tune != nil {
		tune(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, err := c.Connect(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func fakeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connGoroutines reports whether stacks show goroutines a connection
// starts (not its callers').
func connGoroutines(stacks string) bool {
	for _, f := range []string{"jupyter.(*Kernel).loop", "jupyter.(*Kernel).disconnected", "jupyter.(*Kernel).check", "jupyter.(*wsConn)"} {
		if strings.Contains(stacks, f) {
			return true
		}
	}
	return false
}

// checkNoLeaks, registered first, runs last: after every Close.
func checkNoLeaks(t *testing.T) {
	t.Cleanup(func() {
		var stacks string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			buf := make([]byte, 1<<20)
			stacks = string(buf[:runtime.Stack(buf, true)])
			if !connGoroutines(stacks) {
				return
			}
		}
		t.Errorf("kernel connection goroutines still running:\n%s", stacks)
	})
}

// The reply and the idle status come in either order; outputs between
// them belong to the execution.
func TestFakeReplyOrder(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, nil)
	ctx := fakeCtx(t)

	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		c.reply(req, "ok")
		c.send(ChannelIOPub, "stream", req, streamContent{Name: "stdout", Text: "after reply\n"})
		c.status(req, "idle")
	})
	res, err := k.Execute(ctx, "a", nil)
	if err != nil || res.Stdout() != "after reply\n" {
		t.Errorf("reply first: %v, stdout %q", err, res.Stdout())
	}

	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		c.send(ChannelIOPub, "stream", req, streamContent{Name: "stdout", Text: "before idle\n"})
		c.status(req, "idle")
		time.Sleep(50 * time.Millisecond)
		c.reply(req, "ok")
	})
	res, err = k.Execute(ctx, "b", nil)
	if err != nil || res.Stdout() != "before idle\n" || res.ExecutionCount != 1 {
		t.Errorf("idle first: %v, stdout %q, count %d", err, res.Stdout(), res.ExecutionCount)
	}

	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		c.reply(req, "aborted")
		c.status(req, "idle")
	})
	if _, err := k.Execute(ctx, "c", nil); !errors.Is(err, ErrAborted) {
		t.Errorf("aborted: %v", err)
	}
}

// Garbage from the server is dropped; the execution still completes.
func TestFakeHostileMessages(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, nil)
	ctx := fakeCtx(t)

	f.setScript(func(c *fakeConn, req *Message) {
		id := req.Header.MsgID
		for _, junk := range []string{
			"", "null", "[]", "{", "42", `"str"`, `{"header": 5}`, `{"header": {}}`,
			`{"header": {"msg_type": "status"}, "channel": "iopub", "content": null, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "status"}, "channel": "iopub", "content": {"execution_state": 7}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "stream"}, "channel": "iopub", "content": {"name": 5}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "execute_result"}, "channel": "iopub", "content": {"data": [1]}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "error"}, "channel": "iopub", "content": {"traceback": "x"}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "execute_reply"}, "channel": "shell", "content": {"execution_count": 1e999}, "parent_header": {"msg_id": "` + id + `"}}`,
			// A reply on the wrong channel, and output on the shell: ignored.
			`{"header": {"msg_type": "execute_reply"}, "channel": "iopub", "content": {"status": "ok"}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "stream"}, "channel": "shell", "content": {"name": "stdout", "text": "wrong channel"}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "stream"}, "channel": "nowhere", "content": {"name": "stdout", "text": "no channel"}, "parent_header": {"msg_id": "` + id + `"}}`,
			`{"header": {"msg_type": "kernel_info_reply"}, "channel": "shell", "content": {"protocol_version": []}, "parent_header": {"msg_id": "unknown"}}`,
			strings.Repeat("[", 100000),
		} {
			c.raw(websocket.TextMessage, []byte(junk))
		}
		for _, junk := range [][]byte{{}, {0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1}, {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}} {
			c.raw(websocket.BinaryMessage, junk)
		}
		// A real message in a binary frame (with one buffer) counts.
		m, _ := newMessage(ChannelIOPub, "stream", "kernel-session-1", streamContent{Name: "stdout", Text: "binary\n"})
		m.ParentHeader = req.Header
		js, _ := m.encode()
		frame := binary.BigEndian.AppendUint32(nil, 2)
		frame = binary.BigEndian.AppendUint32(frame, 12)
		frame = binary.BigEndian.AppendUint32(frame, uint32(12+len(js)))
		frame = append(append(frame, js...), "buffer"...)
		c.status(req, "busy")
		c.raw(websocket.BinaryMessage, frame)
		c.reply(req, "ok")
		c.status(req, "idle")
	})
	res, err := k.Execute(ctx, "x", nil)
	if err != nil || res.Stdout() != "binary\n" {
		t.Fatalf("after garbage: %v, outputs %+v", err, res.Outputs)
	}
	f.setScript(nil)
	if res, err := k.Execute(ctx, "y", nil); err != nil || res.Stdout() != "ran y" {
		t.Errorf("next execution: %v, %q", err, res.Stdout())
	}
}

// A message over the limit drops the connection, which comes back.
func TestFakeMessageTooLarge(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, func(c *Config) { c.MaxMessageBytes = 4096 })
	ctx := fakeCtx(t)

	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		c.send(ChannelIOPub, "stream", req, streamContent{Name: "stdout", Text: strings.Repeat("x", 10000)})
	})
	_, err := k.Execute(ctx, "big", nil)
	if !errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversized output: %v, want ErrDisconnected and ErrMessageTooLarge", err)
	}
	f.setScript(nil)
	if res, err := k.Execute(ctx, "small", nil); err != nil || res.Stdout() != "ran small" {
		t.Errorf("after reconnecting: %v, %q", err, res.Stdout())
	}
}

// block is a script that waits for release before answering.
func block(release <-chan struct{}) func(c *fakeConn, req *Message) {
	return func(c *fakeConn, req *Message) {
		var r executeRequest
		json.Unmarshal(req.Content, &r)
		c.status(req, "busy")
		if r.Code == "block" {
			<-release
		}
		okScript(c, req)
	}
}

// running returns a channel closed when f has received n executions.
func (f *fakeKernel) received(n int) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			f.mu.Lock()
			got := len(f.codes)
			f.mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return ch
}

func waitPending(t *testing.T, k *Kernel, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); k.Pending() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pending %d, want %d", k.Pending(), n)
		}
	}
}

// Executions wait in order; one given up while waiting is never sent; the
// queue is bounded.
func TestFakeQueue(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, func(c *Config) { c.MaxQueue = 2 })
	ctx := fakeCtx(t)
	release := make(chan struct{})
	f.setScript(block(release))

	results := make(chan string, 3)
	exec := func(ctx context.Context, code string) {
		res, err := k.Execute(ctx, code, nil)
		if err != nil {
			results <- code + ": " + err.Error()
			return
		}
		results <- res.Stdout()
	}
	go exec(ctx, "block")
	<-f.received(1)
	cctx, cancel := context.WithCancel(ctx)
	go exec(cctx, "cancelled")
	waitPending(t, k, 2)
	go exec(ctx, "second")
	waitPending(t, k, 3)
	if _, err := k.Execute(ctx, "third", nil); !errors.Is(err, ErrQueueFull) {
		t.Errorf("over the queue limit: %v, want ErrQueueFull", err)
	}
	cancel()
	if got := <-results; !strings.Contains(got, "cancelled: ") || !strings.Contains(got, "context canceled") {
		t.Errorf("cancelled while waiting: %s", got)
	}
	close(release)
	for _, want := range []string{"ran block", "ran second"} {
		if got := <-results; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	f.mu.Lock()
	codes := strings.Join(f.codes, ",")
	f.mu.Unlock()
	if codes != "block,second" {
		t.Errorf("kernel received %s, want block,second", codes)
	}
}

// Close fails what runs and what waits, and stops every goroutine, even
// with an OnOutput that is stuck.
func TestFakeClose(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, nil)
	ctx := fakeCtx(t)
	release := make(chan struct{})
	defer close(release)
	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		for i := 0; i < 200; i++ {
			c.send(ChannelIOPub, "stream", req, streamContent{Name: "stdout", Text: "x"})
		}
		<-release
	})
	stuck := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		_, err := k.Execute(ctx, "first", &ExecuteOptions{OnOutput: func(Output) { <-stuck }})
		errs <- err
	}()
	<-f.received(1)
	go func() {
		// Queued, or stuck handing itself to the loop, which waits on the
		// stuck OnOutput: either way Close ends it.
		_, err := k.Execute(ctx, "second", nil)
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond)
	k.Close()
	close(stuck)
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("pending at Close: %v, want ErrClosed", err)
		}
	}
	if !errors.Is(k.Err(), ErrClosed) {
		t.Errorf("Err after Close: %v", k.Err())
	}
	if _, err := k.Execute(ctx, "later", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("execute after Close: %v", err)
	}
}

// Outputs reach a slow OnOutput all, in order.
func TestFakeSlowOnOutput(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, nil)
	const n = 300
	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		for i := range n {
			c.send(ChannelIOPub, "stream", req, streamContent{Name: "stdout", Text: fmt.Sprintf("%d\n", i)})
		}
		c.reply(req, "ok")
		c.status(req, "idle")
	})
	var seen strings.Builder
	res, err := k.Execute(fakeCtx(t), "chatty", &ExecuteOptions{OnOutput: func(o Output) {
		time.Sleep(100 * time.Microsecond)
		seen.WriteString(o.Text)
	}})
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "%d\n", i)
	}
	if err != nil || res.Stdout() != want.String() || seen.String() != want.String() {
		t.Errorf("err %v; result and live view differ from what was sent", err)
	}
}

// A KeyboardInterrupt this client did not ask for, followed by the signs
// of a restart, is the restart; alone, it is a KeyboardInterrupt.
func TestFakeInterruptBeforeRestart(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, nil)
	ctx := fakeCtx(t)
	interrupted := func(then func(c *fakeConn, req *Message)) func(c *fakeConn, req *Message) {
		return func(c *fakeConn, req *Message) {
			c.status(req, "busy")
			n := 2
			c.send(ChannelIOPub, "error", req, errorContent{EName: "KeyboardInterrupt"})
			c.send(ChannelShell, "execute_reply", req, executeReply{Status: "error", ExecutionCount: &n, errorContent: errorContent{EName: "KeyboardInterrupt"}})
			c.status(req, "idle")
			then(c, req)
		}
	}
	f.setScript(interrupted(func(c *fakeConn, req *Message) {
		time.Sleep(200 * time.Millisecond)
		shutdown := &Message{Header: Header{MsgID: "sd", MsgType: "shutdown_request"}}
		c.send(ChannelIOPub, "shutdown_reply", shutdown, map[string]any{"status": "ok", "restart": true})
		f.mu.Lock()
		f.session = "kernel-session-2"
		f.mu.Unlock()
		c.send(ChannelIOPub, "status", nil, statusContent{ExecutionState: "starting"})
	}))
	if _, err := k.Execute(ctx, "sleep", nil); !errors.Is(err, ErrKernelRestarted) {
		t.Errorf("interrupted by a restart: %v, want ErrKernelRestarted", err)
	}
	f.setScript(interrupted(func(*fakeConn, *Message) {}))
	_, err := k.Execute(ctx, "sleep", nil)
	var ee *ExecError
	if !errors.As(err, &ee) || ee.EName != "KeyboardInterrupt" {
		t.Errorf("interrupted by someone: %v, want KeyboardInterrupt", err)
	}
}

// A kernel that answers from a new session has restarted, even if no one
// said so; one whose server forgot it is lost, even if the WebSocket
// stays open.
func TestFakeProbes(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, func(c *Config) { c.ProbeInterval = 50 * time.Millisecond })
	ctx := fakeCtx(t)
	release := make(chan struct{})
	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		f.mu.Lock()
		f.session = "kernel-session-2" // the next kernel_info reply tells
		f.mu.Unlock()
		<-release
	})
	if _, err := k.Execute(ctx, "a", nil); !errors.Is(err, ErrKernelRestarted) {
		t.Errorf("restart seen by a probe: %v, want ErrKernelRestarted", err)
	}
	f.setScript(nil)
	if res, err := k.Execute(ctx, "b", nil); err != nil || res.Stdout() != "ran b" {
		t.Errorf("after the restart: %v, %q", err, res.Stdout())
	}

	// Now the kernel goes silent and the server forgets it, but the
	// WebSocket stays up (as the real server's does).
	f.setScript(func(c *fakeConn, req *Message) {
		c.status(req, "busy")
		f.mu.Lock()
		f.gone, f.silent = true, true
		f.mu.Unlock()
	})
	if _, err := k.Execute(ctx, "c", nil); !errors.Is(err, ErrKernelLost) {
		t.Errorf("kernel forgotten: %v, want ErrKernelLost", err)
	}
	wait := time.After(10 * time.Second)
	select {
	case <-k.Done():
	case <-wait:
		t.Fatal("connection did not end")
	}
	if !errors.Is(k.Err(), ErrKernelLost) {
		t.Errorf("ended with %v, want ErrKernelLost", k.Err())
	}
	close(release)
}

// A peer that stops answering pings is dropped, and reconnected to.
func TestFakeKeepalive(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, func(c *Config) {
		c.PingInterval, c.PongTimeout = 30*time.Millisecond, 60*time.Millisecond
	})
	ctx := fakeCtx(t)
	_, err := k.Execute(ctx, "freeze", nil)
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("silent peer: %v, want ErrDisconnected", err)
	}
	if res, err := k.Execute(ctx, "after", nil); err != nil || res.Stdout() != "ran after" {
		t.Errorf("after reconnecting: %v, %q", err, res.Stdout())
	}
}

// After a restart the server hears the new kernel's iopub only after a
// while; executions wait for it instead of losing their output.
func TestFakeRestartIOPubLag(t *testing.T) {
	checkNoLeaks(t)
	f := newFakeKernel(t)
	k := f.connect(t, nil)
	ctx := fakeCtx(t)
	release := make(chan struct{})
	defer close(release)
	f.setScript(block(release))
	running := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, "block", nil)
		running <- err
	}()
	<-f.received(1)
	if err := k.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-running; !errors.Is(err, ErrKernelRestarted) {
		t.Errorf("running at restart: %v, want ErrKernelRestarted", err)
	}
	f.setScript(nil)
	if res, err := k.Execute(ctx, "after", nil); err != nil || res.Stdout() != "ran after" {
		t.Errorf("right after the restart: %v, %q", err, res.Stdout())
	}
}
