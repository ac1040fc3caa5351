package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/datainsight/datainsight/internal/testenv"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := Write(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil || string(data) != "two" {
		t.Fatalf("content %q, %v", data, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	// A path that cannot be written (a folder is in the way) fails and
	// leaves no temporary file behind.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "sub"), []byte("x"), 0o644); err == nil {
		t.Error("writing over a folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestSpare(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := Write(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewSpare(p, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(make([]byte, 65), 0o644); err == nil {
		t.Error("a write larger than the spare succeeded")
	}
	if data, _ := os.ReadFile(p); string(data) != "old" {
		t.Errorf("a refused write changed the file: %q", data)
	}
	if err := s.Write([]byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(p); string(data) != "new" {
		t.Errorf("content %q, want new", data)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if err := s.Write([]byte("again"), 0o644); err == nil {
		t.Error("a used spare wrote again")
	}
	s.Release()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	var none *Spare
	if err := none.Write([]byte("x"), 0o644); err == nil {
		t.Error("no spare wrote")
	}
	none.Release()
}

// On a disk that is full, Write fails and leaves the old file; the spare
// still writes the new one.
func TestSpareOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		// make test runs as root, which may mount one.
		testenv.Missing(t, "cannot mount a tmpfs here (%v: %s); TestSpare covers the rest", err, out)
	}
	defer exec.Command("umount", "-l", dir).Run()
	p := filepath.Join(dir, "state.json")
	if err := Write(p, []byte("running"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewSpare(p, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()
	final := bytes.Repeat([]byte("failed: disk full\n"), 100)
	if err := Write(p, final, 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write on a full disk: %v, want ENOSPC", err)
	}
	if data, _ := os.ReadFile(p); string(data) != "running" {
		t.Errorf("a failed write changed the file: %q", data)
	}
	if err := s.Write(final, 0o644); err != nil {
		t.Fatalf("the spare's write on a full disk: %v", err)
	}
	if data, _ := os.ReadFile(p); !bytes.Equal(data, final) {
		t.Errorf("content %q", data)
	}
}
