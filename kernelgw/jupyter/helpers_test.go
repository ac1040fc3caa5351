package jupyter_test

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/jupytertest"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jupytertest.StopShared()
	os.Exit(code)
}

// newClient returns a client of url (a server, or a proxy in front of one)
// that logs into the test's output.
func newClient(t *testing.T, url, token string, tune func(*jupyter.Config)) *jupyter.Client {
	t.Helper()
	cfg := jupyter.Config{
		URL: url, Token: token,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tune != nil {
		tune(&cfg)
	}
	c, err := jupyter.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
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

// startKernel starts a kernel and connects to it; both end with t.
func startKernel(t *testing.T, c *jupyter.Client) *jupyter.Kernel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	km, err := c.StartKernel(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.DeleteKernel(ctx, km.ID) // may be gone already: the test's business
	})
	k, err := c.Connect(ctx, km.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// run executes code and fails t unless it succeeds.
func run(t *testing.T, k *jupyter.Kernel, code string) *jupyter.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := k.Execute(ctx, code, nil)
	if err != nil {
		t.Fatalf("execute %q: %v\noutputs: %+v", code, err, res.Outputs)
	}
	return res
}

// value executes an expression and returns its text/plain value.
func value(t *testing.T, k *jupyter.Kernel, expr string) string {
	t.Helper()
	res := run(t, k, expr)
	v, ok := res.Value()
	if !ok {
		t.Fatalf("execute %q: no value; outputs: %+v", expr, res.Outputs)
	}
	return v
}

// noLeaks, registered first, checks last that every goroutine of the
// package's connections has ended.
func noLeaks(t *testing.T) {
	t.Cleanup(func() {
		var stacks string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			buf := make([]byte, 1<<20)
			stacks = string(buf[:runtime.Stack(buf, true)])
			if !connGoroutines(stacks) {
				return
			}
		}
		t.Errorf("goroutines of kernel connections still running after Close:\n%s", stacks)
	})
}

// started returns an OnOutput that closes the returned channel when the
// execution prints marker: the code is then known to be running.
func started(marker string) (func(jupyter.Output), <-chan struct{}) {
	ch := make(chan struct{})
	seen := false
	return func(o jupyter.Output) {
		if !seen && o.Type == jupyter.OutputStream && strings.Contains(o.Text, marker) {
			seen = true
			close(ch)
		}
	}, ch
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
}
