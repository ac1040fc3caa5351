package jupytertest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, s *Server, method, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, nil)
	req.Header.Set("Authorization", "token "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// kernelProcs counts live processes started with a connection file of s.
func kernelProcs(s *Server) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		// A zombie is dead already; its parent reaps it.
		if strings.Contains(string(cmdline), s.runtimeDir()+"/") && !strings.Contains(string(stat), ") Z") {
			n++
		}
	}
	return n
}

// A killed server takes its kernels with it, and comes back on its port.
func TestKillRestart(t *testing.T) {
	s := Start(t, nil)
	var k struct{ ID string }
	if code := call(t, s, http.MethodPost, "api/kernels", &k); code != http.StatusCreated || k.ID == "" {
		t.Fatalf("start kernel: %d %+v", code, k)
	}
	deadline := time.Now().Add(30 * time.Second)
	for kernelProcs(s) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if kernelProcs(s) == 0 {
		t.Fatal("no kernel process found by its connection file")
	}
	url := s.URL
	s.Kill()
	if n := kernelProcs(s); n != 0 {
		t.Errorf("%d kernel processes survive Kill", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if s.URL != url {
		t.Errorf("restarted on %s, was %s", s.URL, url)
	}
	if code := call(t, s, http.MethodGet, "api/kernels/"+k.ID, nil); code != http.StatusNotFound {
		t.Errorf("old kernel after restart: %d, want 404", code)
	}
	if code := call(t, s, http.MethodGet, "api/status", nil); code != http.StatusOK {
		t.Errorf("status: %d", code)
	}
}
