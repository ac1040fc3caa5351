package rpc_test

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// do sends a request with only the given headers: no token unless hdr has
// one.
func (s *testServer) do(t *testing.T, method, path, body string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if h := hdr.Get("Host"); h != "" {
		req.Host = h // the client sends req.Host, never a Host header
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
	return resp, string(b)
}

const addCall = `{"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1,"b":1}}`

func tokenHeader(tok string) http.Header { return http.Header{"Authorization": {"token " + tok}} }

// checkRefused checks an HTTP refusal: its status and its JSON-RPC error.
func checkRefused(t *testing.T, what string, resp *http.Response, body string, status, code int, msg string) {
	t.Helper()
	r := decode[rpcResponse](t, body)
	if resp.StatusCode != status || r.Error == nil || r.Error.Code != code || !strings.Contains(r.Error.Message, msg) {
		t.Errorf("%s: %d %s\nwant %d, code %d, a message with %q", what, resp.StatusCode, body, status, code, msg)
	}
}

func TestTokenAuth(t *testing.T) {
	s := newServer(t, nil)
	for _, tc := range []struct {
		what   string
		path   string
		hdr    http.Header
		status int
		msg    string
	}{
		{"no token", "/rpc", nil, 401, `no credentials; send the header "Authorization: token <token>"`},
		{"wrong token", "/rpc", tokenHeader("nope"), 401, "unauthorized: wrong token"},
		{"a prefix of the token", "/rpc", tokenHeader(testToken[:10]), 401, "wrong token"},
		{"another scheme", "/rpc", http.Header{"Authorization": {"Basic " + testToken}}, 401, "no credentials"},
		// Refused even with a good header: URLs leak into logs and history.
		{"token in the URL", "/rpc?token=" + testToken, nil, 401, "a token in the URL is not accepted"},
		{"token in the URL and header", "/rpc?token=" + testToken, tokenHeader(testToken), 401, "a token in the URL is not accepted"},
		{"good token", "/rpc", tokenHeader(testToken), 200, ""},
		{"bearer", "/rpc", http.Header{"Authorization": {"Bearer " + testToken}}, 200, ""},
	} {
		resp, body := s.do(t, http.MethodPost, tc.path, addCall, tc.hdr)
		if tc.status == 200 {
			if resp.StatusCode != 200 || !strings.Contains(body, `"result":2`) {
				t.Errorf("%s: %d %s", tc.what, resp.StatusCode, body)
			}
			continue
		}
		checkRefused(t, tc.what, resp, body, tc.status, rpc.CodeUnauthorized, tc.msg)
		if resp.Header.Get("WWW-Authenticate") != "token" {
			t.Errorf("%s: no WWW-Authenticate", tc.what)
		}
	}
	resp, body := s.do(t, http.MethodGet, "/rpc/methods", "", nil)
	checkRefused(t, "method list without token", resp, body, 401, rpc.CodeUnauthorized, "no credentials")
}

func TestTokenAuthRefusesEmpty(t *testing.T) {
	if _, err := rpc.TokenAuth(); err == nil {
		t.Error("no tokens accepted")
	}
	if _, err := rpc.TokenAuth("ok", " "); err == nil {
		t.Error("an empty token accepted")
	}
	if _, err := rpc.New(rpc.Config{}); err == nil {
		t.Error("a server without Auth")
	}
}

// TestDNSRebinding: a page whose name was made to resolve to 127.0.0.1 sends
// an Origin that matches the Host it asks for; only a host given as an
// address or localhost counts as the server's own origin.
func TestDNSRebinding(t *testing.T) {
	s := newServer(t, nil)
	port := s.ts.URL[strings.LastIndex(s.ts.URL, ":")+1:]
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"rebind.example:" + port, false},
		{"localhost:" + port, true},
		{"127.0.0.1:" + port, true},
	} {
		hdr := tokenHeader(testToken)
		hdr.Set("Host", tc.host)
		hdr.Set("Origin", "http://"+tc.host)
		resp, body := s.do(t, http.MethodPost, "/rpc", addCall, hdr)
		if tc.ok {
			if resp.StatusCode != 200 {
				t.Errorf("host %s: %d %s", tc.host, resp.StatusCode, body)
			}
			continue
		}
		checkRefused(t, "host "+tc.host, resp, body, 403, rpc.CodeForbidden, "is not allowed")
	}
}

func TestOriginHTTP(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) { c.AllowedOrigins = []string{"http://jupyter.example:8888"} })
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"http://evil.example", false},
		{"null", false},
		{"http://jupyter.example:8889", false},
		{"https://jupyter.example:8888", false},
		{"http://jupyter.example:8888", true},
		{"HTTP://Jupyter.Example:8888", true},
		{s.ts.URL, true}, // the same origin
	} {
		hdr := tokenHeader(testToken)
		hdr.Set("Origin", tc.origin)
		resp, body := s.do(t, http.MethodPost, "/rpc", addCall, hdr)
		if tc.ok {
			if resp.StatusCode != 200 {
				t.Errorf("origin %s: %d %s", tc.origin, resp.StatusCode, body)
			}
			continue
		}
		checkRefused(t, "origin "+tc.origin, resp, body, 403, rpc.CodeForbidden, "is not allowed")
	}
	if _, err := rpc.New(rpc.Config{Auth: rpc.AnyOf(), AllowedOrigins: []string{"jupyter.example"}}); err == nil {
		t.Error("an origin without scheme accepted in Config")
	}
}

func TestWebSocketAuthAndOrigin(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) { c.AllowedOrigins = []string{"http://jupyter.example:8888"} })
	for _, tc := range []struct {
		what   string
		url    string
		hdr    http.Header
		status int
	}{
		{"no token", s.wsURL(), nil, 401},
		{"wrong token", s.wsURL(), tokenHeader("nope"), 401},
		{"token in the URL", s.wsURL() + "?token=" + testToken, nil, 401},
		{"foreign origin", s.wsURL(), http.Header{"Authorization": {"token " + testToken}, "Origin": {"http://evil.example"}}, 403},
		{"null origin", s.wsURL(), http.Header{"Authorization": {"token " + testToken}, "Origin": {"null"}}, 403},
		{"allowed origin", s.wsURL(), http.Header{"Authorization": {"token " + testToken}, "Origin": {"http://jupyter.example:8888"}}, 101},
		{"same origin", s.wsURL(), http.Header{"Authorization": {"token " + testToken}, "Origin": {s.ts.URL}}, 101},
		{"no origin (not a browser)", s.wsURL(), tokenHeader(testToken), 101},
	} {
		c, resp, err := websocket.DefaultDialer.Dial(tc.url, tc.hdr)
		if resp == nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.what, resp.StatusCode, tc.status)
		}
		if c != nil {
			if r := call(t, c, 1, "add", map[string]int{"a": 2, "b": 3}); string(r.Result) != "5" {
				t.Errorf("%s: %+v", tc.what, r)
			}
			c.Close()
		}
	}
}

func TestBodyLimit(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) { c.MaxBodyBytes = 1024 })
	atLimit := addCall + strings.Repeat(" ", 1024-len(addCall))
	if status, body := s.post(t, atLimit, nil); status != 200 || !strings.Contains(body, `"result":2`) {
		t.Errorf("a body at the limit: %d %s", status, body)
	}
	resp, body := s.do(t, http.MethodPost, "/rpc", atLimit+" ", tokenHeader(testToken))
	checkRefused(t, "a body over the limit", resp, body, 413, rpc.CodeTooLarge, "request body larger than the limit of 1024 bytes")

	hdr := tokenHeader(testToken)
	hdr.Set("Content-Type", "text/plain")
	resp, body = s.do(t, http.MethodPost, "/rpc", addCall, hdr)
	checkRefused(t, "text/plain", resp, body, 415, rpc.CodeInvalidRequest, "Content-Type must be application/json")
}

// captureConns registers a method that hands the test the server's side
// of each WebSocket that calls it.
func captureConns(t *testing.T, s *testServer) chan *rpc.Conn {
	conns := make(chan *rpc.Conn, 16)
	must(t, rpc.Register(s.Server, "whoami", "", func(ctx context.Context, c *rpc.Conn, _ struct{}) (uint64, error) {
		conns <- c
		return c.ID(), nil
	}))
	return conns
}

func TestWebSocketMessageLimit(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) { c.MaxMessageBytes = 1024 })
	conns := captureConns(t, s)
	c := s.dial(t)
	call(t, c, 1, "whoami", nil)
	sc := <-conns

	atLimit := addCall + strings.Repeat(" ", 1024-len(addCall))
	if err := c.WriteMessage(websocket.TextMessage, []byte(atLimit)); err != nil {
		t.Fatal(err)
	}
	if r := read(t, c); string(r.Result) != "2" {
		t.Errorf("a message at the limit: %+v", r)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(atLimit+" ")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig || ce.Text != "message too large: larger than 1024 bytes" {
		t.Errorf("after a message over the limit: %v", err)
	}
	<-sc.Done()
	if !errors.Is(sc.Err(), rpc.ErrTooLarge) {
		t.Errorf("server side ended with %v", sc.Err())
	}
}

// sessionAuth stands in for a cookie authenticator (JupyterCookie asks a
// Jupyter server; see jupyter_test.go).
var sessionAuth = rpc.AuthenticatorFunc(func(r *http.Request) (rpc.Credentials, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return rpc.Credentials{}, rpc.ErrNoCredentials
	}
	if c.Value != "good" {
		return rpc.Credentials{}, errors.New("unknown session")
	}
	return rpc.Credentials{Scheme: "session", User: "alice", Ambient: true}, nil
})

// tornadoV2 encodes token as Tornado's version 2 XSRF value, masked.
func tornadoV2(token, mask []byte) string {
	masked := make([]byte, len(token))
	for i := range token {
		masked[i] = token[i] ^ mask[i%len(mask)]
	}
	return "2|" + hex.EncodeToString(mask) + "|" + hex.EncodeToString(masked) + "|1700000000"
}

func TestXSRF(t *testing.T) {
	s := newServer(t, func(c *rpc.Config) {
		tok, _ := rpc.TokenAuth(testToken)
		c.Auth = rpc.AnyOf(tok, sessionAuth)
	})
	tok := []byte("0123456789abcdef")
	v2a, v2b := tornadoV2(tok, []byte{1, 2, 3, 4}), tornadoV2(tok, []byte{9, 8, 7, 6})
	other := tornadoV2([]byte("fedcba9876543210"), []byte{1, 2, 3, 4})
	for _, tc := range []struct {
		what   string
		hdr    http.Header
		status int
		code   int
		msg    string
	}{
		{"cookie without XSRF", http.Header{"Cookie": {"session=good"}}, 403, rpc.CodeForbidden, "XSRF check failed"},
		{"_xsrf cookie without header", http.Header{"Cookie": {"session=good; _xsrf=abc"}}, 403, rpc.CodeForbidden, "XSRF"},
		{"header without _xsrf cookie", http.Header{"Cookie": {"session=good"}, "X-Xsrftoken": {"abc"}}, 403, rpc.CodeForbidden, "XSRF"},
		{"mismatched header", http.Header{"Cookie": {"session=good; _xsrf=abc"}, "X-Xsrftoken": {"abd"}}, 403, rpc.CodeForbidden, "XSRF"},
		{"matching header", http.Header{"Cookie": {"session=good; _xsrf=abc"}, "X-Xsrftoken": {"abc"}}, 200, 0, ""},
		{"X-CSRFToken", http.Header{"Cookie": {"session=good; _xsrf=abc"}, "X-Csrftoken": {"abc"}}, 200, 0, ""},
		{"Tornado v2, masked differently", http.Header{"Cookie": {"session=good; _xsrf=" + v2a}, "X-Xsrftoken": {v2b}}, 200, 0, ""},
		{"Tornado v2, another token", http.Header{"Cookie": {"session=good; _xsrf=" + v2a}, "X-Xsrftoken": {other}}, 403, rpc.CodeForbidden, "XSRF"},
		{"bad session", http.Header{"Cookie": {"session=bad; _xsrf=abc"}, "X-Xsrftoken": {"abc"}}, 401, rpc.CodeUnauthorized, "unknown session"},
		// A token is not ambient: no XSRF needed, cookie or not.
		{"token and cookie", http.Header{"Authorization": {"token " + testToken}, "Cookie": {"session=good"}}, 200, 0, ""},
		// A wrong token is not rescued by a good cookie.
		{"wrong token and cookie", http.Header{"Authorization": {"token x"}, "Cookie": {"session=good; _xsrf=a"}, "X-Xsrftoken": {"a"}},
			401, rpc.CodeUnauthorized, "wrong token"},
	} {
		resp, body := s.do(t, http.MethodPost, "/rpc", addCall, tc.hdr)
		if tc.status == 200 {
			if resp.StatusCode != 200 || !strings.Contains(body, `"result":2`) {
				t.Errorf("%s: %d %s", tc.what, resp.StatusCode, body)
			}
			continue
		}
		checkRefused(t, tc.what, resp, body, tc.status, tc.code, tc.msg)
	}
	// Reading the method list changes nothing: no XSRF needed.
	if resp, body := s.do(t, http.MethodGet, "/rpc/methods", "", http.Header{"Cookie": {"session=good"}}); resp.StatusCode != 200 {
		t.Errorf("method list by cookie: %d %s", resp.StatusCode, body)
	}
	// A WebSocket handshake is a GET: Origin, not XSRF, guards it.
	c, resp, err := websocket.DefaultDialer.Dial(s.wsURL(), http.Header{"Cookie": {"session=good"}, "Origin": {s.ts.URL}})
	if err != nil {
		t.Fatalf("websocket by cookie: %v %v", err, resp)
	}
	c.Close()
	_, resp, _ = websocket.DefaultDialer.Dial(s.wsURL(), http.Header{"Cookie": {"session=good"}, "Origin": {"http://evil.example"}})
	if resp == nil || resp.StatusCode != 403 {
		t.Errorf("websocket by cookie from a foreign origin: %v", resp)
	}
}

func TestListenDefaultsToLoopback(t *testing.T) {
	for _, addr := range []string{"", ":0", "127.0.0.1:0"} {
		l, err := rpc.Listen(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		if host := l.Addr().String(); !strings.HasPrefix(host, "127.0.0.1:") {
			t.Errorf("Listen(%q) listens on %s", addr, host)
		}
		l.Close()
	}
}
