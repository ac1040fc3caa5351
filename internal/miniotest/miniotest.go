package miniotest

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

// Version is the MinIO server version hack/minio/build.sh installs (its
// version.sh holds the same pin): a pseudo-version, since the module
// proxy refuses MinIO's release tags.
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

// EnvBinary, when set, names the MinIO server binary to run instead of the
// one hack/minio/build.sh installs.
const EnvBinary = "DATAINSIGHT_MINIO"

// ErrMissing is wrapped by the error of Binary when no server is installed.
var ErrMissing = errors.New("minio server missing")

// Binary returns the path of the MinIO server to run: $DATAINSIGHT_MINIO,
// else where hack/minio/build.sh installs it.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrMissing, EnvBinary, p, err)
		}
		return p, nil
	}
	cache := os.Getenv("DATAINSIGHT_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%w: no home folder to find the cache in: %v", ErrMissing, err)
		}
		cache = filepath.Join(home, ".cache", "datainsight")
	}
	p := filepath.Join(cache, "minio-"+Version, "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: no %s: run hack/minio/build.sh (about 3 minutes, once per machine)", ErrMissing, p)
	}
	return p, nil
}

// Server is a MinIO server on loopback with a data folder and credentials
// of its own.
type Server struct {
	// Endpoint is host:port, as minio-go takes it.
	Endpoint  string
	AccessKey string
	SecretKey string
	// DataDir is where the server keeps its objects.
	DataDir string

	bin  string
	dir  string // the data folder's parent, with the log
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts a server for t with an empty data folder and no bucket,
// and stops it when t ends (logging the end of its log if t failed). It
// skips t under -short; a missing server binary skips it too, or fails it
// under DATAINSIGHT_REQUIRE_TOOLS (testenv.Missing).
func Start(t testing.TB) *Server {
	t.Helper()
	return StartIn(t, t.TempDir())
}

// StartIn is Start with the server's data and log under dir (a small file
// system, to fill it).
func StartIn(t testing.TB, dir string) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a MinIO server: not under -short")
	}
	bin, err := Binary()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := New(ctx, bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("minio log (end):\n%s", s.Log())
		}
		s.Stop()
	})
	return s
}

// New starts a server running bin with its data under dir, without a test
// to tie it to (benchmarks' TestMain); the caller must Stop it.
func New(ctx context.Context, bin, dir string) (*Server, error) {
	var key [12]byte
	rand.Read(key[:])
	s := &Server{
		AccessKey: "datainsight-test",
		SecretKey: hex.EncodeToString(key[:]),
		DataDir:   filepath.Join(dir, "data"),
		bin:       bin,
		dir:       dir,
	}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		return nil, err
	}
	var last error
	for try := 0; try < 5; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		s.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		s.Endpoint = "127.0.0.1:" + strconv.Itoa(s.port)
		if last = s.Restart(ctx); last == nil || ctx.Err() != nil {
			break
		}
	}
	return s, last
}

func (s *Server) logPath() string { return filepath.Join(s.dir, "minio.log") }

// Restart starts the server again after Kill or Stop, on the same port with
// the same data and credentials, as a restarted server would be; it
// returns once the server answers its health check.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("miniotest: server still running")
	}
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	start, _ := logf.Seek(0, 2)
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint, s.DataDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		// No web console (and so no second port), no update checks.
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Dies with the test binary rather than outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("miniotest: start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited

	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + s.Endpoint + "/minio/health/ready"
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			s.cmd, s.exited = nil, nil
			return fmt.Errorf("miniotest: minio exited before it answered on %s: %s\n%s", s.Endpoint, cmd.ProcessState, s.logSince(start))
		case <-ctx.Done():
			s.killLocked()
			return fmt.Errorf("miniotest: minio on %s did not answer: %w\n%s", s.Endpoint, ctx.Err(), s.logSince(start))
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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

// Kill kills the server as a crash would (SIGKILL); Restart starts it again.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

func (s *Server) killLocked() {
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 seconds).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		s.cmd, s.exited = nil, nil
	case <-time.After(10 * time.Second):
		s.killLocked()
	}
}

// Log returns the end of the server's log, over all its starts.
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
	return strings.TrimSpace(string(data))
}
