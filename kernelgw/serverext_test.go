package kernelgw_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/internal/app"
	"github.com/datainsight/datainsight/internal/jupytertest"
)

// Tests of the Jupyter server extension (python/datainsight/serverext.py)
// in a real Jupyter server: it runs `datainsight serve` beside the server,
// proxies it under /datainsight/ behind Jupyter's own authentication, hands
// its address to the kernels, and restarts it when it dies.

// asCLI makes this test binary the datainsight command, for the extension
// to start as its sidecar (as testscript does in internal/app).
const asCLI = "DATAINSIGHT_KERNELGW_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		os.Exit(app.Main())
	}
	if os.Getenv(benchDriver) != "" {
		if err := runsDriver(); err != nil {
			fmt.Fprintln(os.Stderr, "runs driver:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// datainsightOnPath returns a folder holding "datainsight": this test
// binary, which runs the command under asCLI.
func datainsightOnPath(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "datainsight")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// extServer is a Jupyter server with the extension enabled.
type extServer struct {
	*jupytertest.Server
	runtimeDir string // the sidecar's runtime files (its URL and token)
}

func startWithExtension(t *testing.T, args ...string) *extServer {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	python := os.Getenv("DATAINSIGHT_PYTHON")
	if python == "" {
		python = jupytertest.Python
	}
	rt := t.TempDir()
	srv := jupytertest.Start(t, &jupytertest.Options{
		RootDir: root,
		Args:    append([]string{"--ServerApp.jpserver_extensions=datainsight=True"}, args...),
		Env: []string{
			"PATH=" + datainsightOnPath(t) + string(os.PathListSeparator) + os.Getenv("PATH"),
			"PYTHONPATH=" + pythonPackage(t),
			"DATAINSIGHT_PYTHON=" + python,
			"DATAINSIGHT_RUNTIME_DIR=" + rt,
			asCLI + "=1",
		},
	})
	return &extServer{Server: srv, runtimeDir: rt}
}

// do makes a request of the Jupyter server with auth as the Authorization
// header ("" for none) and returns the status and body.
func (s *extServer) do(t *testing.T, method, path, auth string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// rpc calls a method through the proxy with Jupyter's token and decodes
// its result into out.
func (s *extServer) rpc(t *testing.T, method string, params, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	status, b := s.do(t, http.MethodPost, "/datainsight/rpc", "token "+s.Token, body)
	var r response
	if err := json.Unmarshal(b, &r); err != nil || status != http.StatusOK || r.Error != nil {
		t.Fatalf("%s through Jupyter: status %d, %s (%v)", method, status, b, err)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		t.Fatalf("%s: result %s: %v", method, r.Result, err)
	}
}

type extStatus struct {
	Running bool   `json:"running"`
	PID     int    `json:"pid"`
	Starts  int    `json:"starts"`
	Error   string `json:"error"`
}

func (s *extServer) status(t *testing.T) extStatus {
	t.Helper()
	code, b := s.do(t, http.MethodGet, "/datainsight/status", "token "+s.Token, nil)
	var st extStatus
	if code != http.StatusOK || json.Unmarshal(b, &st) != nil {
		t.Fatalf("GET /datainsight/status: %d %s", code, b)
	}
	return st
}

// waitRunning waits until the sidecar runs (and, if not 0, is not pid).
func (s *extServer) waitRunning(t *testing.T, notPID int) extStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := s.status(t)
		if st.Running && st.PID != 0 && st.PID != notPID {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar is not running after a minute: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sidecarToken reads the sidecar's own token from its runtime file.
func (s *extServer) sidecarToken(t *testing.T) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.runtimeDir, "datainsight-*.json"))
	if len(files) == 0 {
		t.Fatalf("no runtime file in %s", s.runtimeDir)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &info); err != nil || info.Token == "" {
		t.Fatalf("runtime file %s: %s (%v)", files[0], b, err)
	}
	return info.Token
}

// dialWS opens /datainsight/ws through Jupyter with header h.
func (s *extServer) dialWS(t *testing.T, h http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(strings.TrimSuffix(s.URL, "/"), "http")+"/datainsight/ws", h)
	if err != nil {
		return nil, resp, err
	}
	return readAll(t, conn), resp, nil
}

// runOverWS runs nb.ipynb over c and reads run.event notifications until
// the run has ended; it returns the run's id.
func runOverWS(t *testing.T, c *wsClient, id int) string {
	t.Helper()
	c.send(id, "run", map[string]any{"path": "nb.ipynb", "subscribe": true})
	runID, phases := followRun(t, c, "")
	if !strings.HasSuffix(phases[len(phases)-1], ":Succeeded") {
		t.Fatalf("run %s: %s", runID, strings.Join(phases, " "))
	}
	t.Logf("run.event through the proxy: %s", strings.Join(phases, " "))
	return runID
}

// followRun reads c's messages until run (the first run to end, for "")
// has ended, and returns its id and its events as "type:step:phase". A call
// answered with an error fails the test.
func followRun(t *testing.T, c *wsClient, run string) (string, []string) {
	t.Helper()
	var phases []string
	for {
		m := c.next()
		if m.Method == "" && m.Error != nil {
			t.Fatalf("over the proxied WebSocket: %+v", m.Error)
		}
		if m.Method != "run.event" {
			continue
		}
		var ev struct{ Run, Type, Step, Phase string }
		if err := json.Unmarshal(m.Params, &ev); err != nil {
			t.Fatal(err)
		}
		if run != "" && ev.Run != run {
			continue
		}
		phases = append(phases, ev.Type+":"+ev.Step+":"+ev.Phase)
		if ev.Type == "run" && (ev.Phase == "Succeeded" || ev.Phase == "Failed" || ev.Phase == "Error") {
			return ev.Run, phases
		}
	}
}

func TestServerExtension(t *testing.T) {
	s := startWithExtension(t)
	first := s.waitRunning(t, 0)
	sidecarToken := s.sidecarToken(t)
	if sidecarToken == s.Token {
		t.Fatal("the sidecar was given Jupyter's token as its own")
	}
	// What the browser gets back never holds the sidecar's token.
	noToken := func(what string, b []byte) {
		if bytes.Contains(b, []byte(sidecarToken)) {
			t.Errorf("%s holds the sidecar's token: %s", what, b)
		}
	}

	// (a) JSON-RPC over HTTP with Jupyter's token; refused without it.
	var runs struct {
		Runs []json.RawMessage `json:"runs"`
	}
	s.rpc(t, "runs", map[string]any{}, &runs)
	var an struct {
		Analysis struct {
			Steps []struct{ Name string } `json:"steps"`
		} `json:"analysis"`
	}
	s.rpc(t, "analyze", map[string]any{"path": "nb.ipynb"}, &an)
	if len(an.Analysis.Steps) != 3 {
		t.Errorf("analyze through Jupyter: %+v, want 3 steps", an)
	}
	code, b := s.do(t, http.MethodGet, "/datainsight/rpc/methods", "token "+s.Token, nil)
	if code != http.StatusOK || !bytes.Contains(b, []byte(`"analyze"`)) {
		t.Errorf("GET /datainsight/rpc/methods: %d %.200s", code, b)
	}
	noToken("/rpc/methods", b)
	_, b = s.do(t, http.MethodGet, "/datainsight/status", "token "+s.Token, nil)
	noToken("/status", b)
	call := []byte(`{"jsonrpc":"2.0","id":1,"method":"runs","params":{}}`)
	for _, auth := range []string{"", "token wrong-token-0123456789", "token " + sidecarToken} {
		code, b := s.do(t, http.MethodPost, "/datainsight/rpc", auth, call)
		if code != http.StatusForbidden && code != http.StatusUnauthorized {
			t.Errorf("POST /datainsight/rpc with Authorization %q: %d %s, want 401 or 403", auth, code, b)
		}
	}
	if code, b := s.do(t, http.MethodGet, "/datainsight/status", "", nil); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("GET /datainsight/status without a token: %d %s", code, b)
	}
	// Bodies are bounded (8 MiB by default).
	big := append(append([]byte(`{"jsonrpc":"2.0","id":1,"method":"runs","params":{"x":"`), bytes.Repeat([]byte("x"), 9<<20)...), `"}}`...)
	if code, b := s.do(t, http.MethodPost, "/datainsight/rpc", "token "+s.Token, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 9 MiB body: %d %.200s, want 413", code, b)
	}

	// A browser: Jupyter's login cookie, and its XSRF token for POSTs.
	cookieLogin(t, s)

	// (b) The WebSocket, with Jupyter's token: a run's notifications come
	// through. Without the token, the handshake is refused.
	if _, resp, err := s.dialWS(t, nil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket without a token: %v (%v), want a 403", err, resp)
	}
	c, _, err := s.dialWS(t, http.Header{"Authorization": {"token " + s.Token}})
	if err != nil {
		t.Fatalf("WebSocket through Jupyter: %v", err)
	}
	runID := runOverWS(t, c, 1)

	// (3) Kernels the server starts find the sidecar: %datainsight in a
	// kernel, with nothing set by hand.
	k := kernel(t, jupyterClient(t, s.Server))
	execute(t, k, "%load_ext datainsight", nil, time.Minute)
	if out := outputText(execute(t, k, "%datainsight status "+runID, nil, time.Minute)); !strings.Contains(out, "Succeeded") {
		t.Errorf("%%datainsight status %s in a kernel of the server: %q", runID, out)
	}
	// A run started from the kernel with %datainsight run: its progress
	// reaches a WebSocket client through Jupyter's proxy, as the panel
	// follows a run the notebook's own magic started.
	started := outputText(execute(t, k, "%datainsight run nb.ipynb -d --no-cache", nil, time.Minute))
	m := regexp.MustCompile(`run (\S+) started`).FindStringSubmatch(started)
	if m == nil {
		t.Fatalf("%%datainsight run -d printed no run id: %q", started)
	}
	c.send(2, "run.subscribe", map[string]any{"run": m[1], "path": "nb.ipynb"})
	if _, seen := followRun(t, c, m[1]); seen[len(seen)-1] != "run::Succeeded" || len(seen) < 4 {
		t.Errorf("the kernel's run %s through the proxy: %s", m[1], strings.Join(seen, " "))
	}
	env := execute(t, k, "import os; print(os.environ.get('DATAINSIGHT_URL'))", nil, time.Minute).Stdout()
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+\s*$`).MatchString(env) {
		t.Errorf("DATAINSIGHT_URL in the kernel: %q", env)
	}

	// (c) The sidecar dies: the extension starts it again, and calls
	// succeed again — through the proxy, and from the kernel started
	// before (the sidecar comes back on the same port).
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the sidecar (pid %d): %v", first.PID, err)
	}
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for range c.msgs { // the proxied WebSocket closes with the sidecar
	}
	second := s.waitRunning(t, first.PID)
	if second.Starts != first.Starts+1 {
		t.Errorf("after the kill: %+v, want start %d", second, first.Starts+1)
	}
	s.rpc(t, "runs", map[string]any{"path": "nb.ipynb"}, &runs)
	if len(runs.Runs) == 0 {
		t.Errorf("runs after the restart: none, want run %s", runID)
	}
	c2, _, err := s.dialWS(t, http.Header{"Authorization": {"token " + s.Token}})
	if err != nil {
		t.Fatalf("WebSocket after the restart: %v", err)
	}
	runOverWS(t, c2, 2)
	if out := outputText(execute(t, k, "%datainsight status "+runID, nil, time.Minute)); !strings.Contains(out, "Succeeded") {
		t.Errorf("%%datainsight status %s after the restart: %q", runID, out)
	}

	// The server stops: so does the sidecar.
	k.Close()
	s.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if !alive(second.PID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar (pid %d) still runs 30 s after the server stopped", second.PID)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is no zombie (a zombie may
// wait for a reaper that a container lacks).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// pid (comm) S ...: the state follows the last ')'.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

// cookieLogin checks the proxy as a browser uses it: logged in to Jupyter by
// its cookie, a POST needs Jupyter's XSRF token (header X-XSRFToken, from
// the _xsrf cookie), and the WebSocket works with the cookie alone from
// Jupyter's own origin.
func cookieLogin(t *testing.T, s *extServer) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	base := strings.TrimSuffix(s.URL, "/")
	for _, path := range []string{"/login", "/api/status?token=" + s.Token} { // the _xsrf cookie, then the login cookie
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	u, _ := url.Parse(base + "/")
	var xsrf string
	var cookies []string
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
		if c.Name == "_xsrf" {
			xsrf = c.Value
		}
	}
	if xsrf == "" || len(cookies) < 2 {
		t.Fatalf("no login and _xsrf cookies from Jupyter: %v", cookies)
	}
	post := func(withXSRF bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/datainsight/rpc", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"runs","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		if withXSRF {
			req.Header.Set("X-XSRFToken", xsrf)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := post(false); code != http.StatusForbidden {
		t.Errorf("POST with Jupyter's cookie and no XSRF token: %d %s, want 403", code, b)
	}
	if code, b := post(true); code != http.StatusOK || !strings.Contains(b, `"runs"`) {
		t.Errorf("POST with Jupyter's cookie and XSRF token: %d %s", code, b)
	}
	h := http.Header{"Cookie": {strings.Join(cookies, "; ")}, "Origin": {base}}
	c, resp, err := s.dialWS(t, h)
	if err != nil {
		t.Fatalf("WebSocket with Jupyter's cookie: %v (%v)", err, resp)
	}
	c.send(7, "runs", map[string]any{})
	var runs struct {
		Runs []json.RawMessage `json:"runs"`
	}
	c.result(7, &runs)
	c.conn.Close()
	h.Set("Origin", "http://evil.example")
	if _, resp, err := s.dialWS(t, h); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket with Jupyter's cookie from a foreign origin: %v (%v), want a 403", err, resp)
	}
}

// TestExtensionPingsBrowsers: a browser's WebSocket that stops answering
// pings (a tab gone without closing) is closed by the proxy; one that
// answers stays open.
func TestExtensionPingsBrowsers(t *testing.T) {
	s := startWithExtension(t, "--DatainsightExtension.ping_interval=0.2", "--DatainsightExtension.ping_timeout=0.5")
	url := "ws" + strings.TrimPrefix(strings.TrimSuffix(s.URL, "/"), "http") + "/datainsight/ws"
	h := http.Header{"Authorization": {"token " + s.Token}}
	silent, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("WebSocket through Jupyter: %v (%v)", err, resp)
	}
	defer silent.Close()
	live, _, err := s.dialWS(t, h) // reads all the time, so answers pings
	if err != nil {
		t.Fatal(err)
	}
	// The silent one reads nothing, so answers no ping, for a while.
	time.Sleep(3 * time.Second)
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := silent.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatal("the proxy kept open a WebSocket that answered no ping")
			}
			break
		}
	}
	live.send(1, "runs", map[string]any{})
	if m := live.next(); m.Error != nil || string(m.ID) != "1" {
		t.Errorf("the WebSocket that answered pings: %+v", m)
	}
}
