package jupyter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Messages as the real server sends them (IPython 8, jupyter_server 1.23).
var seedMessages = []string{
	`{"header": {"msg_id": "a1", "msg_type": "status", "username": "u", "session": "ks", "date": "2026-12-07T05:54:35.109411Z", "version": "5.3"}, "msg_id": "a1", "msg_type": "status", "parent_header": {"msg_id": "p1", "msg_type": "execute_request", "session": "cs", "username": "", "date": "2026-12-07T05:54:35.100000Z", "version": "5.3"}, "metadata": {}, "content": {"execution_state": "busy"}, "buffers": [], "channel": "iopub"}`,
	`{"header": {"msg_id": "a2", "msg_type": "stream", "session": "ks", "version": "5.3"}, "parent_header": {"msg_id": "p1"}, "metadata": {}, "content": {"name": "stdout", "text": "hi\n"}, "channel": "iopub"}`,
	`{"header": {"msg_id": "a3", "msg_type": "execute_result", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "metadata": {}, "content": {"data": {"text/plain": "42"}, "metadata": {}, "execution_count": 3}, "channel": "iopub"}`,
	`{"header": {"msg_id": "a4", "msg_type": "display_data", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "content": {"data": {"text/html": "<b>x</b>", "application/json": {"a": [1]}}, "metadata": {}, "transient": {"display_id": "d1"}}, "channel": "iopub"}`,
	`{"header": {"msg_id": "a5", "msg_type": "update_display_data", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "content": {"data": {"text/plain": "y"}, "metadata": {}, "transient": {"display_id": "d1"}}, "channel": "iopub"}`,
	`{"header": {"msg_id": "a6", "msg_type": "error", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "content": {"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": ["\u001b[0;31m---"]}, "channel": "iopub"}`,
	`{"header": {"msg_id": "a7", "msg_type": "execute_reply", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "content": {"status": "ok", "execution_count": 3, "user_expressions": {"v": {"status": "ok", "data": {"text/plain": "2"}}}, "payload": []}, "channel": "shell"}`,
	`{"header": {"msg_id": "a8", "msg_type": "execute_reply", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "content": {"status": "error", "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}, "channel": "shell"}`,
	`{"header": {"msg_id": "a9", "msg_type": "clear_output", "session": "ks"}, "parent_header": {"msg_id": "p1"}, "content": {"wait": true}, "channel": "iopub"}`,
	`{"header": {"msg_id": "b1", "msg_type": "kernel_info_reply", "session": "ks"}, "parent_header": {"msg_id": "p2"}, "content": {"status": "ok", "protocol_version": "5.3", "implementation": "ipython", "implementation_version": "8.5.0", "language_info": {"name": "python", "version": "3.11.2", "mimetype": "text/x-python", "file_extension": ".py"}, "banner": "Python"}, "channel": "shell"}`,
	`{"header": {"msg_id": "b2", "msg_type": "shutdown_reply", "session": "ks"}, "parent_header": {"msg_id": "p3", "msg_type": "shutdown_request"}, "content": {"status": "ok", "restart": true}, "channel": "iopub"}`,
	`{"header": {"msg_id": "b3", "msg_type": "status", "session": "cs"}, "parent_header": {}, "content": {"execution_state": "restarting"}, "channel": "iopub"}`,
	`{"header": {"msg_id": "b4", "msg_type": "status", "session": "cs"}, "parent_header": null, "content": {"execution_state": "dead"}, "channel": "iopub"}`,
	`{"header": {"msg_id": "b5", "msg_type": "status", "session": "ks2"}, "content": {"execution_state": "starting"}, "channel": "iopub"}`,
}

func binaryFrame(msg string, buffers ...string) []byte {
	parts := append([]string{msg}, buffers...)
	off := 4 + 4*len(parts)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(parts)))
	for _, p := range parts {
		frame = binary.BigEndian.AppendUint32(frame, uint32(off))
		off += len(p)
	}
	for _, p := range parts {
		frame = append(frame, p...)
	}
	return frame
}

// FuzzDecode feeds arbitrary frames to the decoders and what they accept
// to the state machine, as a hostile server could.
func FuzzDecode(f *testing.F) {
	for _, m := range seedMessages {
		f.Add([]byte(m))
		f.Add(binaryFrame(m, "buf"))
	}
	f.Add([]byte(`{"header": {"msg_type": "stream"}, "content": {"name": 1}}`))
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 12, 0, 0, 0, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, decode := range []func([]byte) (*Message, error){Decode, DecodeBinary} {
			m, err := decode(data)
			if err != nil {
				if m != nil {
					t.Fatal("message with error")
				}
				continue
			}
			if m.Header.MsgType == "" {
				t.Fatal("accepted a message without msg_type")
			}
			// What was accepted survives being sent on.
			enc, err := m.encode()
			if err != nil {
				t.Fatalf("encode decoded message: %v", err)
			}
			m2, err := Decode(enc)
			if err != nil || m2.Header != m.Header || m2.ParentHeader.MsgID != m.ParentHeader.MsgID {
				t.Fatalf("round trip: %v\n%s", err, enc)
			}
			ev, err := classify(m)
			if err == nil && ev.kind == eventOutput {
				var r Result
				r.add(ev.out, 1<<10)
				r.add(ev.out, 1<<10)
				r.clearOutput(true)
				r.add(ev.out, 1<<10)
				r.finish()
				r.Stdout()
				r.Value()
			}
			// As a stranger's message, and as one for the running execution.
			handleOne(t, m)
			m.ParentHeader.MsgID = "running"
			handleOne(t, m)
		}
	})
}

// handleOne runs m through a Kernel's message handling with an execution
// running, without a connection.
func handleOne(t *testing.T, m *Message) {
	c, err := New(Config{URL: "http://127.0.0.1:1/", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	k := &Kernel{c: c, id: fakeID, session: "cs", log: c.log, closing: make(chan struct{})}
	r := &request{msgID: "running", events: make(chan update, updateBuffer), abandoned: make(chan struct{})}
	close(r.abandoned) // nobody listens: delivering must not block
	queued := &request{events: make(chan update, 1), abandoned: make(chan struct{})}
	s := &loopState{running: r, queue: []*request{queued}, kernelSession: "ks", probes: map[string]time.Time{"p2": time.Now()}}
	defer s.stopAwait()
	k.handle(s, m)
	k.handle(s, m) // twice: replies and restarts repeat
	if s.held && s.holdTimer != nil {
		s.holdTimer.Stop()
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, in := range []string{"", "null", "[]", "{}", `{"header": null}`, `{"header": {"msg_id": "x"}}`, `{"header": []}`, `{"header": {"msg_type": "s"}, "parent_header": 3}`} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) accepted", in)
		}
	}
	for _, in := range [][]byte{nil, {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 3}, {0, 0, 0, 2, 0, 0, 0, 12, 0, 0, 0, 11}, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 8}} {
		if _, err := DecodeBinary(in); err == nil {
			t.Errorf("DecodeBinary(%v) accepted", in)
		}
	}
	m, err := DecodeBinary(binaryFrame(seedMessages[1], "b1", "b2"))
	if err != nil || m.Header.MsgType != "stream" {
		t.Errorf("binary frame: %v %+v", err, m)
	}
}

func TestEncode(t *testing.T) {
	m, err := newMessage(ChannelShell, "execute_request", "cs", executeRequest{Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	// An empty parent_header must be {}: a header of empty strings is taken
	// for a real parent.
	if string(raw["parent_header"]) != "{}" || string(raw["channel"]) != `"shell"` {
		t.Errorf("encoded: %s", data)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(m.Header.MsgID) {
		t.Errorf("msg_id %q is not a UUID-4", m.Header.MsgID)
	}
	if m.Header.Version != ProtocolVersion || !strings.HasSuffix(m.Header.Date, "Z") {
		t.Errorf("header %+v", m.Header)
	}
}

func TestResult(t *testing.T) {
	str := func(name, text string) Output { return Output{Type: OutputStream, Name: name, Text: text} }
	plain := func(s string) map[string]json.RawMessage {
		b, _ := json.Marshal(s)
		return map[string]json.RawMessage{"text/plain": b}
	}
	var r Result
	r.add(str("stdout", "a"), 100)
	r.add(str("stdout", "b"), 100)
	r.add(str("stderr", "e"), 100)
	r.add(str("stdout", "c"), 100)
	r.add(Output{Type: OutputDisplayData, Data: plain("old"), DisplayID: "d"}, 100)
	r.add(Output{Type: OutputUpdateDisplayData, Data: plain("new"), DisplayID: "d"}, 100)
	r.add(Output{Type: OutputExecuteResult, Data: plain("42")}, 100)
	r.finish()
	if len(r.Outputs) != 5 || r.Stdout() != "abc" || r.Stderr() != "e" || r.Outputs[0].Text != "ab" {
		t.Errorf("outputs %+v", r.Outputs)
	}
	if v, _ := r.Value(); v != "42" {
		t.Errorf("value %q", v)
	}
	if string(r.Outputs[3].Data["text/plain"]) != `"new"` {
		t.Errorf("display not updated: %s", r.Outputs[3].Data["text/plain"])
	}

	r = Result{}
	r.add(str("stdout", "a"), 100)
	r.clearOutput(true)
	if r.finish(); len(r.Outputs) != 1 {
		t.Errorf("clear_output(wait) cleared before the next output")
	}
	r.add(str("stdout", "b"), 100)
	r.finish()
	if r.Stdout() != "b" {
		t.Errorf("after clear: %q", r.Stdout())
	}

	r = Result{}
	for range 100 {
		r.add(str("stdout", "0123456789"), 95)
	}
	r.finish()
	if !r.Truncated || len(r.Stdout()) != 90 {
		t.Errorf("budget: truncated %v, kept %d", r.Truncated, len(r.Stdout()))
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, b.delay(n))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v", got)
		}
	}
	if b.Attempts != 20 {
		t.Errorf("default attempts %d", b.Attempts)
	}
}

func TestNewConfig(t *testing.T) {
	for _, bad := range []string{"", "ftp://h/", "http://", "http://u:p@h/", "http://h/?token=x", "::"} {
		if _, err := New(Config{URL: bad}); err == nil {
			t.Errorf("New accepted URL %q", bad)
		}
	}
	if _, err := New(Config{URL: "http://h/", MaxQueue: -1}); err == nil {
		t.Error("New accepted a negative limit")
	}
	c, err := New(Config{URL: "https://h/user/a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.endpoint("api", "kernels", "k1", "channels").String(); got != "https://h/user/a/api/kernels/k1/channels" {
		t.Errorf("endpoint %s", got)
	}
}

func TestHTTPError(t *testing.T) {
	e := httpError("GET", "/api/kernels/x", 404, []byte(`{"message": "Kernel does not exist: x", "reason": null}`))
	if e.Message != "Kernel does not exist: x" || !strings.Contains(e.Error(), "404 Not Found") {
		t.Errorf("%v", e)
	}
	e = httpError("GET", "/", 500, bytes.Repeat([]byte("é"), 1000))
	if len(e.Message) > 310 {
		t.Errorf("message not shortened: %d bytes", len(e.Message))
	}
	if e := httpError("GET", "/", 403, []byte("<html>")); e.Message != "" || !e.Is(ErrUnauthorized) {
		t.Errorf("%+v", e)
	}
}
