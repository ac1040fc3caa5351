package jupyter_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/jupytertest"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
)

// dropProxy stands between the client and the server, and can drop every
// connection (WebSockets included) and refuse new ones, then come back on
// the same address: a network blip, or a proxy restarting.
type dropProxy struct {
	t      *testing.T
	target *url.URL
	addr   string

	mu    sync.Mutex
	srv   *http.Server
	conns map[net.Conn]bool
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{t: t, target: u, addr: "127.0.0.1:0"}
	p.open()
	t.Cleanup(p.drop)
	return p
}

func (p *dropProxy) URL() string { return "http://" + p.addr + "/" }

// open listens (again) on the proxy's address.
func (p *dropProxy) open() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	quiet := log.New(io.Discard, "", 0)
	rp := httputil.NewSingleHostReverseProxy(p.target)
	rp.ErrorLog = quiet
	p.conns = map[net.Conn]bool{}
	p.srv = &http.Server{Handler: rp, ErrorLog: quiet}
	go p.srv.Serve(&trackingListener{Listener: ln, p: p})
}

// drop closes the listener and every connection, hijacked ones included
// (http.Server forgets those, and the WebSocket is one).
func (p *dropProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	p.srv.Close()
	for c := range p.conns {
		c.Close()
	}
	p.srv, p.conns = nil, nil
}

type trackingListener struct {
	net.Listener
	p *dropProxy
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.conns == nil {
		c.Close()
		return nil, net.ErrClosed
	}
	l.p.conns[c] = true
	return c, nil
}

const sleeper = "import time\nprint('sleeping', flush=True)\ntime.sleep(%s)\nprint('woke')"

// The WebSocket drops but the kernel lives: the execution in flight fails,
// the client reconnects, and the kernel's state is still there.
func TestReconnect(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	p := newDropProxy(t, srv.URL)
	c := newClient(t, p.URL(), srv.Token, func(cfg *jupyter.Config) {
		cfg.Reconnect = jupyter.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond, Attempts: 200}
	})
	k := startKernel(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	run(t, k, "x = 41")
	onOut, running := started("sleeping")
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, strings.Replace(sleeper, "%s", "3", 1), &jupyter.ExecuteOptions{OnOutput: onOut})
		done <- err
	}()
	wait(t, running, "the sleep to start")
	p.drop()
	if err := <-done; !errors.Is(err, jupyter.ErrDisconnected) {
		t.Fatalf("execution in flight when the connection dropped: %v, want ErrDisconnected", err)
	}

	// Submitted while disconnected, it waits for the reconnection.
	later := make(chan string, 1)
	go func() {
		res, err := k.Execute(ctx, "x + 1", nil)
		v, _ := res.Value()
		if err != nil {
			v = err.Error()
		}
		later <- v
	}()
	time.Sleep(300 * time.Millisecond) // a few failed attempts
	p.open()
	if v := <-later; v != "42" {
		t.Fatalf("execution after reconnecting: %s, want 42 (the kernel's state kept)", v)
	}
	if err := k.Err(); err != nil {
		t.Fatalf("connection ended: %v", err)
	}
	if v := value(t, k, "x"); v != "41" {
		t.Errorf("x = %s", v)
	}

	// Reconnecting is bounded: with the proxy gone for good, it gives up.
	impatient := newClient(t, p.URL(), srv.Token, func(cfg *jupyter.Config) {
		cfg.Reconnect = jupyter.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 3}
	})
	k2, err := impatient.Connect(ctx, k.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	p.drop()
	wait(t, k2.Done(), "the connection to give up")
	if err := k2.Err(); !errors.Is(err, jupyter.ErrDisconnected) || !strings.Contains(err.Error(), "gave up") {
		t.Errorf("connection ended with %v, want ErrDisconnected after giving up", err)
	}
	if _, err := k2.Execute(ctx, "1", nil); !errors.Is(err, jupyter.ErrDisconnected) {
		t.Errorf("execute on an ended connection: %v", err)
	}
	p.open() // for the kernel's deletion
	if v := value(t, k, "x"); v != "41" {
		t.Errorf("x = %s after the second drop", v)
	}
}

// The server restarts (crashes, and comes back on the same port): its
// kernels are gone, and the client says so.
func TestServerRestart(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Start(t, nil)
	c := newClient(t, srv.URL, srv.Token, func(cfg *jupyter.Config) {
		cfg.Reconnect = jupyter.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Attempts: 120}
	})
	k := startKernel(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	onOut, running := started("sleeping")
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, strings.Replace(sleeper, "%s", "60", 1), &jupyter.ExecuteOptions{OnOutput: onOut})
		done <- err
	}()
	wait(t, running, "the sleep to start")
	srv.Kill()
	if err := <-done; !errors.Is(err, jupyter.ErrDisconnected) {
		t.Fatalf("execution in flight when the server died: %v, want ErrDisconnected", err)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	wait(t, k.Done(), "the client to notice the kernel is gone")
	if err := k.Err(); !errors.Is(err, jupyter.ErrKernelLost) {
		t.Fatalf("connection ended with %v, want ErrKernelLost", err)
	}
	if _, err := k.Execute(ctx, "1", nil); !errors.Is(err, jupyter.ErrKernelLost) {
		t.Errorf("execute after the kernel was lost: %v", err)
	}
	// The new server works, for a new kernel.
	k2 := startKernel(t, c)
	if v := value(t, k2, "1 + 1"); v != "2" {
		t.Errorf("new kernel: %s", v)
	}
}

// Someone deletes the kernel (shuts it down in JupyterLab).
func TestDeleteKernel(t *testing.T) {
	noLeaks(t)
	srv := jupytertest.Shared(t)
	c := newClient(t, srv.URL, srv.Token, nil)
	k := startKernel(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	onOut, running := started("sleeping")
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, strings.Replace(sleeper, "%s", "60", 1), &jupyter.ExecuteOptions{OnOutput: onOut})
		done <- err
	}()
	wait(t, running, "the sleep to start")
	if err := c.DeleteKernel(ctx, k.ID()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, jupyter.ErrKernelLost) {
		t.Errorf("execution when the kernel was deleted: %v, want ErrKernelLost", err)
	}
	wait(t, k.Done(), "the client to notice the kernel is gone")
	if err := k.Err(); !errors.Is(err, jupyter.ErrKernelLost) {
		t.Errorf("connection ended with %v, want ErrKernelLost", err)
	}
}
