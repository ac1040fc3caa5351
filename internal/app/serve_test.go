package app

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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
	t.Setenv("DATAINSIGHT_TOKEN", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	nb := `{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:a"]}, "outputs": [], "source": ["print(1)"]}],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	if err := os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--root", root}, strings.NewReader(""), &out, &errOut)
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
	url, port, file := m[1], m[2], m[3]
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
	info, err := rpc.ReadRuntimeFile(file)
	if err != nil {
		t.Fatal(err)
	}
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

	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("serve exited %d after the signal, want 0:\n%s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after the signal")
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the runtime file is still there after serve stopped (%v)", err)
	}
	if out.String() != "" {
		t.Errorf("serve wrote to stdout: %q", out.String())
	}
}
