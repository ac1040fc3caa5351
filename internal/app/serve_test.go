package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/jupytertest"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the
// test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServe runs `datainsight serve` in-process on a free port: it prints
// its URL and the runtime file, which holds the generated token with mode
// 0600; requests need that token; and a signal (here, the context it
// cancels) stops it cleanly and removes the file.
func TestServe(t *testing.T) {
	runtimeDir := t.TempDir()
	t.Setenv("DATAINSIGHT_RUNTIME_DIR", runtimeDir)
	root := serveRoot(t)

	srv := startServe(t, "--addr", "127.0.0.1:0", "--root", root)
	url, port, file := srv.url, srv.port, srv.file
	if want := filepath.Join(runtimeDir, "datainsight-"+port+".json"); file != want {
		t.Errorf("runtime file %s, want %s", file, want)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("runtime file mode %v, want 0600", fi.Mode().Perm())
	}
	info := srv.info
	if info.URL != url || len(info.Token) < 32 || info.PID != os.Getpid() {
		t.Errorf("runtime file: %+v, want URL %s, a generated token and this pid", info, url)
	}

	post := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/rpc", strings.NewReader(`{"jsonrpc": "2.0", "id": 1, "method": "analyze", "params": {"path": "nb.ipynb"}}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "token "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if status, body := post(info.Token); status != http.StatusOK || !strings.Contains(body, `"name":"a"`) {
		t.Errorf("analyze with the token: %d %s", status, body)
	}
	if status, _ := post(""); status != http.StatusUnauthorized {
		t.Errorf("analyze without a token: status %d, want 401", status)
	}

	srv.stop(t)
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the runtime file is still there after serve stopped (%v)", err)
	}
}

// serveRoot is a notebook root holding nb.ipynb (one step, a), for a
// serve with a generated token and no config file.
func serveRoot(t *testing.T) string {
	t.Helper()
	t.Setenv("DATAINSIGHT_TOKEN", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	nb := `{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:a"]}, "outputs": [], "source": ["print(1)"]}],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	if err := os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// served is `datainsight serve` running in-process.
type served struct {
	url, port, file string
	info            rpc.RuntimeInfo
	errOut          *syncBuffer
	stop            func(t *testing.T)
}

// startServe runs `datainsight serve ARGS` in-process and waits for the
// URL and runtime file it prints. stop stops it as a signal would and
// checks it ended cleanly, having written nothing to stdout.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var out, errOut syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), &out, &errOut)
	}()
	re := regexp.MustCompile(`(?m)^\s+(http://127\.0\.0\.1:([0-9]+))\n\s+token: in (\S+)$`)
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; {
		select {
		case code := <-exit:
			t.Fatalf("serve exited %d:\n%s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URL and token file:\n%s", errOut.String())
		}
		m = re.FindStringSubmatch(errOut.String())
	}
	info, err := rpc.ReadRuntimeFile(m[3])
	if err != nil {
		t.Fatal(err)
	}
	s := &served{url: m[1], port: m[2], file: m[3], info: info, errOut: &errOut}
	s.stop = func(t *testing.T) {
		t.Helper()
		cancel()
		select {
		case code := <-exit:
			if code != exitOK {
				t.Errorf("serve exited %d after the signal, want 0:\n%s", code, errOut.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop after the signal")
		}
		if out.String() != "" {
			t.Errorf("serve wrote to stdout: %q", out.String())
		}
	}
	return s
}

// TestServeInFrontOfJupyter: `serve --jupyter` for users without the
// server extension. The browser talks to the sidecar's address only:
// Jupyter's API and a kernel's WebSocket pass through to a real Jupyter
// server, the sidecar answers under /datainsight/ to Jupyter's login
// cookie (XSRF rule included) or to Jupyter's token, and a client of
// Jupyter pointed at the sidecar runs code in a kernel.
func TestServeInFrontOfJupyter(t *testing.T) {
	t.Setenv("DATAINSIGHT_RUNTIME_DIR", t.TempDir())
	root := serveRoot(t)
	jp := jupytertest.Start(t, &jupytertest.Options{RootDir: root})
	srv := startServe(t, "--addr", "127.0.0.1:0", "--root", root, "--jupyter", "--jupyter-url", jp.URL, "--jupyter-token", jp.Token)
	defer srv.stop(t)
	if !strings.Contains(srv.errOut.String(), srv.url+"/\n") {
		t.Errorf("serve --jupyter does not say where to open Jupyter:\n%s", srv.errOut.String())
	}

	do := func(req *http.Request) (int, string, *http.Response) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp
	}
	// Jupyter's API through the sidecar, signing the browser in.
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/contents/nb.ipynb?content=0", nil)
	req.Header.Set("Authorization", "token "+jp.Token)
	status, body, resp := do(req)
	if status != http.StatusOK || !strings.Contains(body, `"name": "nb.ipynb"`) && !strings.Contains(body, `"name":"nb.ipynb"`) {
		t.Fatalf("Jupyter's contents API through the sidecar: %d %s", status, body)
	}
	var login *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "username-") {
			login = c
		}
	}
	if login == nil || !strings.HasSuffix(login.Name, "-"+srv.port) {
		t.Fatalf("login cookie %v: want one named after the sidecar's address (port %s)", login, srv.port)
	}

	analyze := `{"jsonrpc": "2.0", "id": 1, "method": "analyze", "params": {"path": "nb.ipynb"}}`
	rpcCall := func(header map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.url+"/datainsight/rpc", strings.NewReader(analyze))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", srv.url)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		status, body, _ := do(req)
		return status, body
	}
	const xsrf = "2|0a0b0c0d|61626364|1"
	cookie := login.Name + "=" + login.Value + "; _xsrf=" + xsrf
	if status, body := rpcCall(map[string]string{"Cookie": cookie, "X-XSRFToken": xsrf}); status != http.StatusOK || !strings.Contains(body, `"name":"a"`) {
		t.Errorf("the sidecar with Jupyter's cookie: %d %s", status, body)
	}
	if status, _ := rpcCall(map[string]string{"Cookie": cookie}); status != http.StatusForbidden {
		t.Errorf("the sidecar with Jupyter's cookie but no XSRF header: %d, want 403", status)
	}
	if status, body := rpcCall(map[string]string{"Authorization": "token " + jp.Token}); status != http.StatusOK {
		t.Errorf("the sidecar with Jupyter's token: %d %s", status, body)
	}
	if status, body := rpcCall(map[string]string{"Authorization": "token " + srv.info.Token}); status != http.StatusOK {
		t.Errorf("the sidecar with its own token: %d %s", status, body)
	}
	if status, _ := rpcCall(nil); status != http.StatusUnauthorized {
		t.Errorf("the sidecar with no credentials: %d, want 401", status)
	}
	// Jupyter refuses what it refuses: the sidecar adds no credentials.
	req, _ = http.NewRequest(http.MethodGet, srv.url+"/api/contents/nb.ipynb", nil)
	if status, _, _ := do(req); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Errorf("Jupyter's API through the sidecar without credentials: %d, want Jupyter's refusal", status)
	}

	// A kernel, started and run through the sidecar's address: its
	// WebSocket passes through the proxy.
	jc, err := jupyter.New(jupyter.Config{URL: srv.url + "/", Token: jp.Token})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	km, err := jc.StartKernel(ctx, "")
	if err != nil {
		t.Fatalf("start a kernel through the sidecar: %v", err)
	}
	defer jc.DeleteKernel(context.Background(), km.ID)
	k, err := jc.Connect(ctx, km.ID)
	if err != nil {
		t.Fatalf("connect to the kernel through the sidecar: %v", err)
	}
	defer k.Close()
	res, err := k.Execute(ctx, "print(6 * 7)", nil)
	if err != nil {
		t.Fatalf("execute through the sidecar: %v", err)
	}
	if out := res.Stdout(); strings.TrimSpace(out) != "42" {
		t.Errorf("the kernel printed %q through the sidecar, want 42", out)
	}
}
