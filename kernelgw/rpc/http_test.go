package rpc_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

func TestHTTPCall(t *testing.T) {
	s := newServer(t, nil)
	status, body := s.post(t, `{"jsonrpc":"2.0","id":7,"method":"echo","params":{"text":"hi","times":2}}`, nil)
	want := `{"jsonrpc":"2.0","id":7,"result":{"text":"hihi"}}`
	if status != http.StatusOK || body != want {
		t.Errorf("got %d %s\nwant %s", status, body, want)
	}
}

func TestHTTPBatch(t *testing.T) {
	s := newServer(t, nil)
	status, body := s.post(t, `[
		{"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1,"b":2}},
		{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2}},
		{"jsonrpc":"2.0","id":"x","method":"nope"},
		7,
		{"jsonrpc":"2.0","id":3,"method":"add","params":{"a":1,"c":2}}
	]`, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	resps := decode[[]rpcResponse](t, body)
	if len(resps) != 4 {
		t.Fatalf("%d responses, want 4 (the notification gets none): %s", len(resps), body)
	}
	if string(resps[0].ID) != "1" || string(resps[0].Result) != "3" {
		t.Errorf("call: %s", body)
	}
	if string(resps[1].ID) != `"x"` || resps[1].Error.Code != rpc.CodeMethodNotFound || resps[1].Error.Message != `method "nope" not found` {
		t.Errorf("unknown method: %+v", resps[1].Error)
	}
	if string(resps[2].ID) != "null" || resps[2].Error.Code != rpc.CodeInvalidRequest {
		t.Errorf("invalid element: %s", body)
	}
	if string(resps[3].ID) != "3" || resps[3].Error.Code != rpc.CodeInvalidParams ||
		resps[3].Error.Message != `invalid params: field "c": unknown field` {
		t.Errorf("bad params: %+v", resps[3].Error)
	}
}

func TestHTTPNotifications(t *testing.T) {
	s := newServer(t, nil)
	close(s.release) // block returns at once
	// A notification is run but not answered; a batch of them gets no
	// body at all.
	status, body := s.post(t, `{"jsonrpc":"2.0","method":"block"}`+"\n", nil)
	if status != http.StatusNoContent || body != "" {
		t.Errorf("notification: %d %q", status, body)
	}
	select {
	case <-s.started:
	default:
		t.Error("the notification's method did not run")
	}
	status, body = s.post(t, `[{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2}},{"jsonrpc":"2.0","method":"nope"}]`, nil)
	if status != http.StatusNoContent || body != "" {
		t.Errorf("batch of notifications: %d %q", status, body)
	}
}

func TestHTTPFrameErrors(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) { c.MaxBatch = 2 })
	for _, tc := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"jsonrpc":"2.0","id":1,`, rpc.CodeParseError, "parse error: unexpected end of JSON input"},
		{`[]`, rpc.CodeInvalidRequest, "invalid request: empty batch"},
		{`[1,2,3]`, rpc.CodeTooLarge, "batch of 3 requests exceeds the limit of 2"},
		{`{"jsonrpc":"2.0","id":1,"method":"add","param":{}}`, rpc.CodeInvalidRequest, `invalid request: unknown member "param"`},
		{`{"id":1,"method":"add"}`, rpc.CodeInvalidRequest, `invalid request: member "jsonrpc" is missing: expected "2.0"`},
	} {
		status, body := s.post(t, tc.body, nil)
		r := decode[rpcResponse](t, body)
		if status != http.StatusOK || r.Error == nil || r.Error.Code != tc.code || r.Error.Message != tc.msg {
			t.Errorf("%s: %d %s\nwant code %d %q", tc.body, status, body, tc.code, tc.msg)
		}
	}
}

func TestHandlerErrors(t *testing.T) {
	s := newServer(t, nil)
	for _, tc := range []struct {
		how  string
		code int
		msg  string
		data string
	}{
		{"plain", rpc.CodeFailed, `compile nb.ipynb: cell 4: unknown tag "blok:x"`, ""},
		{"rpc", rpc.CodeConflict, "run r1 is already running", `{"run":"r1"}`},
		{"notfound", rpc.CodeNotFound, "read nb.ipynb: open nb.ipynb: file does not exist", ""},
		{"timeout", rpc.CodeTimeout, "request timed out: compile: context deadline exceeded", ""},
		{"field", rpc.CodeInvalidParams, `invalid params: field "how": must not be "field"`, `{"field":"how"}`},
		{"panic", rpc.CodeInternal, "internal error in method fail (the server's log has the details)", ""},
	} {
		_, body := s.post(t, `{"jsonrpc":"2.0","id":1,"method":"fail","params":{"how":"`+tc.how+`"}}`, nil)
		r := decode[rpcResponse](t, body)
		var data string
		if r.Error != nil && r.Error.Data != nil {
			b, _ := json.Marshal(r.Error.Data)
			data = string(b)
		}
		if r.Error == nil || r.Error.Code != tc.code || r.Error.Message != tc.msg || data != tc.data {
			t.Errorf("%s: %s\nwant %d %q %s", tc.how, body, tc.code, tc.msg, tc.data)
		}
	}
	if logs := s.logs.String(); !strings.Contains(logs, "method panicked") || !strings.Contains(logs, "assignment to entry in nil map") {
		t.Errorf("the panic was not logged with its cause:\n%s", logs)
	}
	// The server survived the panic.
	if _, body := s.post(t, `{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":2,"b":2}}`, nil); !strings.Contains(body, `"result":4`) {
		t.Errorf("after the panic: %s", body)
	}
}

func TestHTTPMethodAndPath(t *testing.T) {
	s := newServer(t, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/rpc", http.StatusMethodNotAllowed},
		{http.MethodPost, "/rpc/methods", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/ws", http.StatusBadRequest}, // not an upgrade
	} {
		req, _ := http.NewRequest(tc.method, s.ts.URL+tc.path, nil)
		req.Header.Set("Authorization", "token "+testToken)
		resp, err := s.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}
