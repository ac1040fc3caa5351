package rpc_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/internal/jupytertest"
	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// TestJupyterCookie reaches the server as the panel does through Jupyter's
// proxy: with the browser's Host (Jupyter's) and Jupyter's login cookie,
// which only a real Jupyter server can vouch for.
func TestJupyterCookie(t *testing.T) {
	jp := jupytertest.Start(t, nil)
	ju, err := url.Parse(jp.URL)
	must(t, err)

	// A browser logs in once with the token and keeps the cookie.
	req, _ := http.NewRequest(http.MethodGet, jp.URL+"api/status", nil)
	req.Header.Set("Authorization", "token "+jp.Token)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	var login *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "username-") {
			login = c
		}
	}
	if login == nil {
		t.Fatalf("Jupyter set no login cookie: %v", resp.Header["Set-Cookie"])
	}

	ja, err := rpc.NewJupyterCookie(rpc.JupyterCookieConfig{URL: jp.URL})
	must(t, err)
	s := newServer(t, func(c *rpc.Config) {
		tok, _ := rpc.TokenAuth(testToken)
		c.Auth = rpc.AnyOf(tok, ja)
	})
	viaProxy := func(cookie, xsrf string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, s.ts.URL+"/rpc", strings.NewReader(addCall))
		req.Host = ju.Host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://"+ju.Host) // the page is Jupyter's
		req.Header.Set("Cookie", cookie)
		if xsrf != "" {
			req.Header.Set("X-XSRFToken", xsrf)
		}
		resp, err := s.ts.Client().Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		must(t, err)
		return resp.StatusCode, string(b)
	}
	good := login.Name + "=" + login.Value + "; _xsrf=2|01020304|30313233|1"
	if status, body := viaProxy(good, "2|01020304|30313233|1"); status != 200 || !strings.Contains(body, `"result":2`) {
		t.Errorf("with Jupyter's cookie: %d %s", status, body)
	}
	if status, body := viaProxy(good, ""); status != 403 || !strings.Contains(body, "XSRF") {
		t.Errorf("without the XSRF header: %d %s", status, body)
	}
	forged := login.Name + "=" + strings.Replace(login.Value, "|", "|x", 1) + "; _xsrf=a"
	if status, body := viaProxy(forged, "a"); status != 401 || !strings.Contains(body, "Jupyter login cookie is not valid") {
		t.Errorf("with a forged cookie: %d %s", status, body)
	}

	// The WebSocket, as the panel opens it through the proxy.
	c, resp, err := websocket.DefaultDialer.Dial(s.wsURL(), http.Header{
		"Host": {ju.Host}, "Origin": {"http://" + ju.Host}, "Cookie": {login.Name + "=" + login.Value}})
	if err != nil {
		t.Fatalf("websocket with Jupyter's cookie: %v %v", err, resp)
	}
	defer c.Close()
	if r := call(t, c, 1, "add", map[string]int{"a": 20, "b": 22}); string(r.Result) != "42" {
		t.Errorf("over the WebSocket: %+v", r)
	}
}

// Jupyter Server 2 says who the user is at /api/me; the answer is
// remembered for the TTL. (A stand-in server: the Jupyter packaged here
// is 1.x.)
func TestJupyterCookieAPIMe(t *testing.T) {
	var asked atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.URL.Path != "/jupyter/api/me" || r.Host != "lab.example:8888" || r.Header.Get("Cookie") != "username-lab-example-8888=signed" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"identity":{"username":"alice"},"permissions":{}}`))
	}))
	defer fake.Close()
	ja, err := rpc.NewJupyterCookie(rpc.JupyterCookieConfig{URL: fake.URL + "/jupyter/"})
	must(t, err)
	r := httptest.NewRequest(http.MethodGet, "http://lab.example:8888/rpc/methods", nil)
	r.Header.Set("Cookie", "username-lab-example-8888=signed; other=site")
	for range 3 {
		creds, err := ja.Authenticate(r)
		if err != nil || creds.User != "alice" || !creds.Ambient || creds.Scheme != "jupyter-cookie" {
			t.Fatalf("got %+v, %v", creds, err)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("asked Jupyter %d times, want once", n)
	}
	r.Header.Set("Cookie", "username-lab-example-8888=forged")
	if _, err := ja.Authenticate(r); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("forged: %v", err)
	}
	r.Header.Set("Cookie", "other=site")
	if _, err := ja.Authenticate(r); err != rpc.ErrNoCredentials {
		t.Errorf("no login cookie: %v", err)
	}
}
