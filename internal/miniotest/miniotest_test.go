package miniotest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The server answers on its endpoint, keeps its data across a crash and a
// restart on the same port, and is gone once stopped.
func TestServerRestart(t *testing.T) {
	s := Start(t)
	get := func() (int, error) {
		resp, err := http.Get("http://" + s.Endpoint + "/minio/health/live")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("health check: %d, %v", code, err)
	}
	// A bucket is a folder of the data folder: it must survive the restart.
	if err := os.Mkdir(filepath.Join(s.DataDir, "kept"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if _, err := get(); err == nil {
		t.Fatal("the killed server still answers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("after the restart: %d, %v", code, err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "kept")); err != nil {
		t.Errorf("the data folder lost its bucket: %v", err)
	}
	if err := s.Restart(ctx); err == nil {
		t.Error("Restart of a running server did not fail")
	}
	s.Stop()
	if _, err := get(); err == nil {
		t.Error("the stopped server still answers")
	}
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv(EnvBinary, filepath.Join(t.TempDir(), "nope"))
	if _, err := Binary(); !errors.Is(err, ErrMissing) {
		t.Fatalf("Binary with %s naming no file: %v, want ErrMissing", EnvBinary, err)
	}
}

// The install script and this package pin one version.
func TestVersionMatchesScript(t *testing.T) {
	data, err := os.ReadFile("../../hack/minio/version.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "MINIO_VERSION="+Version+"\n") {
		t.Errorf("hack/minio/version.sh does not pin %s:\n%s", Version, data)
	}
}
