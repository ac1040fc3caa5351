package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeFrame(t *testing.T) {
	for _, tc := range []struct {
		in      string
		batch   bool
		frame   int    // the frame's error code, if any
		errs    []int  // each request's error code (0: valid)
		methods string // valid requests' methods, comma-separated
	}{
		{in: `{"jsonrpc":"2.0","id":1,"method":"a","params":{}}`, errs: []int{0}, methods: "a"},
		{in: ` {"jsonrpc":"2.0","method":"a"} `, errs: []int{0}, methods: "a"},
		{in: `{"jsonrpc":"2.0","id":null,"method":"a","params":null}`, errs: []int{0}, methods: "a"},
		{in: `{"jsonrpc":"2.0","id":"x","method":"a","params":[1]}`, errs: []int{0}, methods: "a"},
		{in: ``, frame: CodeParseError},
		{in: `{"jsonrpc":"2.0",`, frame: CodeParseError},
		{in: `[{"jsonrpc":"2.0","method":"a"},`, frame: CodeParseError},
		{in: `[]`, frame: CodeInvalidRequest},
		{in: `1`, errs: []int{CodeInvalidRequest}},
		{in: `{"id":1,"method":"a"}`, errs: []int{CodeInvalidRequest}},
		{in: `{"jsonrpc":"1.0","id":1,"method":"a"}`, errs: []int{CodeInvalidRequest}},
		{in: `{"jsonrpc":"2.0","id":1,"method":""}`, errs: []int{CodeInvalidRequest}},
		{in: `{"jsonrpc":"2.0","id":1,"method":1}`, errs: []int{CodeInvalidRequest}},
		{in: `{"jsonrpc":"2.0","id":{},"method":"a"}`, errs: []int{CodeInvalidRequest}},
		{in: `{"jsonrpc":"2.0","id":1,"method":"a","params":"x"}`, errs: []int{CodeInvalidRequest}},
		{in: `{"jsonrpc":"2.0","id":1,"method":"a","param":{}}`, errs: []int{CodeInvalidRequest}},
		{in: `[{"jsonrpc":"2.0","id":1,"method":"a"},1,{"jsonrpc":"2.0","method":"b"}]`, batch: true,
			errs: []int{0, CodeInvalidRequest, 0}, methods: "a,b"},
	} {
		reqs, batch, ferr := decodeFrame([]byte(tc.in), 2+1)
		if tc.frame != 0 {
			if ferr == nil || ferr.Code != tc.frame {
				t.Errorf("%s: frame error %v, want code %d", tc.in, ferr, tc.frame)
			}
			continue
		}
		if ferr != nil {
			t.Errorf("%s: %v", tc.in, ferr)
			continue
		}
		if batch != tc.batch {
			t.Errorf("%s: batch %v", tc.in, batch)
		}
		var codes []int
		var methods []string
		for _, r := range reqs {
			if r.err != nil {
				codes = append(codes, r.err.Code)
			} else {
				codes = append(codes, 0)
				methods = append(methods, r.method)
			}
		}
		if !reflect.DeepEqual(codes, tc.errs) || strings.Join(methods, ",") != tc.methods {
			t.Errorf("%s: codes %v methods %q, want %v %q", tc.in, codes, methods, tc.errs, tc.methods)
		}
	}
	// A batch over the limit is refused whole.
	big := "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"a"},`, 4) + `{"jsonrpc":"2.0","method":"a"}]`
	if _, _, ferr := decodeFrame([]byte(big), 3); ferr == nil || ferr.Code != CodeTooLarge {
		t.Errorf("oversized batch: %v", ferr)
	}
}

func TestInvalidRequestEchoesID(t *testing.T) {
	reqs, _, _ := decodeFrame([]byte(`{"jsonrpc":"2.0","id":"abc","method":5}`), 1)
	resp := errorResponse(reqs[0].id, reqs[0].err)
	b := encodeResponses([]*response{resp}, false)
	want := `{"jsonrpc":"2.0","id":"abc","error":{"code":-32600,"message":"invalid request: member \"method\": expected a string, got a number"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestToError(t *testing.T) {
	base := errors.New("boom")
	wrapped := fmt.Errorf("analyze: %w", Errorf(CodeConflict, "run %s is running: %w", "r1", base))
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{errors.New("compile nb.ipynb: cell 4: unknown tag"), CodeFailed, "compile nb.ipynb: cell 4: unknown tag"},
		{wrapped, CodeConflict, "run r1 is running: boom"},
		{fmt.Errorf("open: %w", context.Canceled), CodeCanceled, "request canceled: open: context canceled"},
		{context.DeadlineExceeded, CodeTimeout, "request timed out: context deadline exceeded"},
		{fmt.Errorf("read x.ipynb: %w", fs.ErrNotExist), CodeNotFound, "read x.ipynb: file does not exist"},
	} {
		e := toError(tc.err)
		if e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("%v: got %d %q, want %d %q", tc.err, e.Code, e.Message, tc.code, tc.msg)
		}
		if CodeOf(tc.err) != tc.code {
			t.Errorf("CodeOf(%v) = %d", tc.err, CodeOf(tc.err))
		}
	}
	if !errors.Is(wrapped, base) {
		t.Error("Errorf lost the %w chain")
	}
}

// Cancellation says why: the client left, or the server is stopping.
func TestInvokeCanceled(t *testing.T) {
	s, err := New(Config{Auth: AuthenticatorFunc(func(r *http.Request) (Credentials, error) { return Credentials{}, nil })})
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(s, "wait", "", func(ctx context.Context, c *Conn, _ struct{}) (struct{}, error) {
		<-ctx.Done()
		return struct{}{}, fmt.Errorf("wait: %w", ctx.Err())
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrShutdown)
	_, e := s.invoke(ctx, nil, s.methods["wait"], nil)
	if e == nil || e.Code != CodeCanceled || e.Message != "request canceled: server shutting down" {
		t.Errorf("got %v", e)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"analyze","params":{"path":"a.ipynb","tags":[]}}`,
		`{"jsonrpc":"2.0","method":"analyze","params":{"path":"a","tags":null,"steps":[{"name":"x","gpus":1}]}}`,
		`[{"jsonrpc":"2.0","id":"a","method":"m"},{"jsonrpc":"2.0","method":"n","params":[]}]`,
		`{"jsonrpc":"2.0","id":1,"method":"analyze","params":{"path":"a","tags":[],"labels":{"a b":"c"},"counts":{"1":2}}}`,
		`{"jsonrpc":"2.0","id":1e400,"method":"x","params":{"since":"2025-01-01T00:00:00Z","data":"aGk="}}`,
		`[]`, `[1]`, `{"id":{}}`, `nul`, "{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	ti := decodeInfo(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, batch, ferr := decodeFrame(data, 8)
		if ferr != nil {
			if ferr.Code != CodeParseError && ferr.Code != CodeInvalidRequest && ferr.Code != CodeTooLarge {
				t.Fatalf("frame error code %d", ferr.Code)
			}
			if !json.Valid(encodeResponses([]*response{errorResponse(nil, ferr)}, false)) {
				t.Fatal("frame error response is not JSON")
			}
			return
		}
		if !json.Valid(data) {
			t.Fatal("accepted invalid JSON")
		}
		if batch != (bytes.Trim(data, " \t\r\n")[0] == '[') || len(reqs) == 0 || len(reqs) > 8 {
			t.Fatalf("batch %v with %d requests", batch, len(reqs))
		}
		var resps []*response
		for _, r := range reqs {
			if r.err != nil {
				if r.err.Code != CodeInvalidRequest {
					t.Fatalf("request error code %d", r.err.Code)
				}
				if len(r.err.Message) > 400 {
					t.Fatalf("message of %d bytes echoes too much", len(r.err.Message))
				}
				resps = append(resps, errorResponse(r.id, r.err))
				continue
			}
			if r.method == "" {
				t.Fatal("valid request without method")
			}
			if k := jsonKind(r.id); r.id != nil && k != "a string" && k != "a number" && k != "null" {
				t.Fatalf("id %s", r.id)
			}
			if k := jsonKind(r.params); r.params != nil && k != "an object" && k != "an array" {
				t.Fatalf("params %s", r.params)
			}
			// Re-encoded, the request decodes to the same.
			re := map[string]any{"jsonrpc": "2.0", "method": r.method}
			if r.id != nil {
				re["id"] = r.id
			}
			if r.params != nil {
				re["params"] = r.params
			}
			b, err := json.Marshal(re)
			if err != nil {
				t.Fatal(err)
			}
			r2 := decodeRequest(b)
			if r2.err != nil || r2.method != r.method || (r.params == nil) != (r2.params == nil) {
				t.Fatalf("round trip of %s: %+v vs %+v", b, r, r2)
			}
			// The params, checked strictly: an InvalidParams error, or
			// something encoding/json decodes too.
			var v decodeReq
			e := decodeParams(ti, r.params, &v)
			if e != nil {
				if e.Code != CodeInvalidParams {
					t.Fatalf("params error code %d: %s", e.Code, e.Message)
				}
				for _, g := range goNames {
					if strings.Contains(e.Message, g) && !bytes.Contains(data, []byte(g)) {
						t.Fatalf("message %q names Go's %q", e.Message, g)
					}
				}
				resps = append(resps, errorResponse(r.id, e))
			} else {
				p := r.params
				if p == nil || jsonKind(p) == "an array" {
					p = json.RawMessage("{}")
				}
				var w decodeReq
				if err := json.Unmarshal(p, &w); err != nil {
					t.Fatalf("strict decoding accepted what encoding/json refuses: %v", err)
				}
				if !reflect.DeepEqual(v, w) {
					t.Fatalf("strict decoding differs from encoding/json:\n%+v\n%+v", v, w)
				}
			}
		}
		if out := encodeResponses(resps, batch); out != nil && !json.Valid(out) {
			t.Fatalf("responses are not JSON: %s", out)
		}
	})
}
