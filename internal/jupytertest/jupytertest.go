// Package jupytertest starts real Jupyter servers (Debian's jupyter-server
// with the IPython kernel) for tests of code that talks to Jupyter: the
// kernel client, the sidecar's RPC, the proxy.
//
// Each server runs on 127.0.0.1 with a random port and token, a root
// directory, and its own Jupyter and IPython directories, so that nothing
// from the machine's configuration leaks in and nothing leaks out. A server
// can be stopped, killed and started again on the same port and root, as a
// restarted server would be. Kernels a killed server leaves behind are
// found by their connection files and killed too: tests leak no processes.
//
// Missing tools make tests skip (fail under DATAINSIGHT_REQUIRE_TOOLS, see
// internal/testenv); hack/install-deps.sh installs them. Under -short no
// server starts.
package jupytertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/testenv"
)

// The tools, by full path: a pyenv python3 earlier on PATH lacks Debian's
// Jupyter packages.
const (
	Jupyter = "/usr/bin/jupyter"
	Python  = "/usr/bin/python3"
)

// ErrMissing is wrapped by errors about tools that are not installed.
var ErrMissing = errors.New("jupyter tools missing")

var checked struct {
	once sync.Once
	err  error
}

// Check reports whether a Jupyter server and the IPython kernel can run
// here: nil, or an error wrapping ErrMissing that names what to install.
func Check() error {
	checked.once.Do(func() {
		const pkgs = "Debian packages jupyter-core jupyter-server python3-ipykernel (hack/install-deps.sh)"
		for _, p := range []string{Jupyter, Python, "/usr/bin/jupyter-server"} {
			if _, err := os.Stat(p); err != nil {
				checked.err = fmt.Errorf("%w: no %s: install the %s", ErrMissing, p, pkgs)
				return
			}
		}
		out, err := exec.Command(Python, "-c", "import ipykernel, jupyter_server").CombinedOutput()
		if err != nil {
			checked.err = fmt.Errorf("%w: %s cannot import ipykernel and jupyter_server (%v: %s): install the %s",
				ErrMissing, Python, err, strings.TrimSpace(string(out)), pkgs)
		}
	})
	return checked.err
}

// Options configures a server; the zero value is what most tests want.
type Options struct {
	Token   string        // default: random
	Port    int           // default: a free port
	RootDir string        // default: a new temporary directory
	Args    []string      // more command-line arguments for jupyter server
	Env     []string      // more KEY=VALUE environment for the server and its kernels (PYTHONPATH too)
	Timeout time.Duration // how long starting may take (default 2 min: a busy machine)
}

// Server is a running (or stopped) Jupyter server.
type Server struct {
	URL     string // http://127.0.0.1:PORT/
	Token   string
	Port    int
	RootDir string

	dir     string // runtime, config and IPython directories, and the log
	opts    Options
	ownPort bool // the port was picked here and may be picked again

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts a server for t and stops it when t ends, logging the end of
// the server's log if t failed. It skips t under -short and when the tools
// are missing (testenv.Missing).
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Jupyter server: not under -short")
	}
	if err := Check(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.RootDir == "" {
		o.RootDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout())
	defer cancel()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("jupyter server log (end):\n%s", s.Log())
		}
		s.Close()
	})
	return s
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 2 * time.Minute
}

// New starts a server without a test to tie it to (for TestMain); the
// caller must Close it. It does not check -short.
func New(ctx context.Context, opts Options) (*Server, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "jupytertest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Token: opts.Token, Port: opts.Port, RootDir: opts.RootDir, dir: dir, opts: opts}
	if s.Token == "" {
		var b [16]byte
		rand.Read(b[:])
		s.Token = hex.EncodeToString(b[:])
	}
	if s.RootDir == "" {
		s.RootDir = filepath.Join(dir, "root")
	}
	for _, d := range []string{s.RootDir, s.runtimeDir(), filepath.Join(dir, "config"), filepath.Join(dir, "data"), filepath.Join(dir, "ipython")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if s.Port == 0 {
		s.ownPort = true
	}
	if err := s.Restart(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) runtimeDir() string { return filepath.Join(s.dir, "runtime") }
func (s *Server) logPath() string    { return filepath.Join(s.dir, "server.log") }

// Restart starts the server again after Stop or Kill, on the same port
// with the same token and root (its kernels are gone, as after a real
// restart). New uses it for the first start.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("jupytertest: server still running")
	}
	var last error
	for try := 1; try <= 5; try++ {
		if s.ownPort && (s.Port == 0 || try > 1 && s.URL == "") {
			p, err := freePort()
			if err != nil {
				return err
			}
			s.Port = p
		}
		err := s.start(ctx)
		if err == nil {
			s.URL = fmt.Sprintf("http://127.0.0.1:%d/", s.Port)
			return nil
		}
		last = err
		if !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			break
		}
		// Someone took the port between picking and binding, or the old
		// server's socket lingers: pick again, or wait for it.
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return last
}

var errPortInUse = errors.New("port in use")

func (s *Server) start(ctx context.Context) error {
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	start, _ := logf.Seek(0, 2)
	args := append([]string{"server", "--no-browser",
		"--ip=127.0.0.1", "--port=" + strconv.Itoa(s.Port), "--ServerApp.port_retries=0",
		"--ServerApp.token=" + s.Token, "--ServerApp.root_dir=" + s.RootDir,
		"--ServerApp.allow_root=True",
	}, s.opts.Args...)
	cmd := exec.Command(Jupyter, args...)
	cmd.Dir = s.RootDir
	cmd.Env = append(cleanEnv(),
		"JUPYTER_CONFIG_DIR="+filepath.Join(s.dir, "config"),
		"JUPYTER_DATA_DIR="+filepath.Join(s.dir, "data"),
		"JUPYTER_RUNTIME_DIR="+s.runtimeDir(),
		"IPYTHONDIR="+filepath.Join(s.dir, "ipython"),
		"PYDEVD_DISABLE_FILE_VALIDATION=1",
	)
	cmd.Env = append(cmd.Env, s.opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so Kill reaches everything it spawned in it;
	// and a signal if the test binary dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("jupytertest: start %s: %w", Jupyter, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited

	url := fmt.Sprintf("http://127.0.0.1:%d/api/status", s.Port)
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			s.cmd, s.exited = nil, nil
			tail := s.logSince(start)
			if strings.Contains(tail, "already in use") || strings.Contains(tail, "Address already in use") {
				return fmt.Errorf("jupytertest: %w: %d", errPortInUse, s.Port)
			}
			return fmt.Errorf("jupytertest: jupyter server exited before it answered: %s\n%s", cmd.ProcessState, tail)
		case <-ctx.Done():
			s.killLocked()
			return fmt.Errorf("jupytertest: jupyter server on port %d did not answer: %w\n%s", s.Port, ctx.Err(), s.logSince(start))
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "token "+s.Token)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
}

// cleanEnv is the environment without anything pointing Jupyter or Python
// at other configuration.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "JUPYTER") || strings.HasPrefix(k, "IPYTHON") || strings.HasPrefix(k, "PYTHON") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop stops the server as an administrator would (SIGTERM: it shuts its
// kernels down), killing it if it takes too long.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
	}
	s.killLocked()
}

// Kill kills the server as a crash would (SIGKILL), then also the kernels
// it leaves running, which a test must not leak. The kernels are gone
// either way for a client: a new server does not know them.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

func (s *Server) killLocked() {
	if s.cmd != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		s.cmd, s.exited = nil, nil
	}
	killKernels(s.runtimeDir())
}

// Close stops the server and removes its directories (not RootDir when
// the caller chose it).
func (s *Server) Close() {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	os.RemoveAll(s.dir)
}

// killKernels kills processes started with a connection file in
// runtimeDir: the server's kernels (in sessions of their own, so outside
// its process group).
func killKernels(runtimeDir string) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := os.Getpid()
	var killed []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), runtimeDir+"/") {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
	}
	// A signal is delivered asynchronously: wait until they are dead (gone,
	// or zombies for whoever inherited them to reap).
	for deadline := time.Now().Add(10 * time.Second); len(killed) > 0 && time.Now().Before(deadline); {
		live := killed[:0]
		for _, pid := range killed {
			stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
			if i := strings.LastIndexByte(string(stat), ')'); err == nil && i >= 0 && !strings.HasPrefix(string(stat[i:]), ") Z") {
				live = append(live, pid)
			}
		}
		killed = live
		if len(killed) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Log returns the end of the server's log (all its starts).
func (s *Server) Log() string { return s.logSince(0) }

func (s *Server) logSince(off int64) string {
	data, err := os.ReadFile(s.logPath())
	if err != nil {
		return err.Error()
	}
	if off < int64(len(data)) {
		data = data[off:]
	}
	const max = 8 << 10
	if len(data) > max {
		data = append([]byte("…"), data[len(data)-max:]...)
	}
	return string(data)
}

var shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// Shared returns a server shared by the tests of one test binary, started
// on first use, for tests that only need some server: starting one costs
// seconds. Tests must not stop or restart it. TestMain calls StopShared
// after m.Run.
func Shared(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Jupyter server: not under -short")
	}
	if err := Check(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), Options{}.timeout())
		shared.srv, shared.err = New(ctx, Options{})
		cancel()
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// StopShared stops the server Shared started, if any.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.Close()
		shared.srv = nil
	}
}
