package service

import (
	"fmt"
	"path/filepath"
	"testing"
)

// The local backends, one per runs folder, are bounded where forgetting
// one loses nothing (runs in processes of their own), and never otherwise.
func TestLocalBackendsBounded(t *testing.T) {
	root := t.TempDir()
	folder := func(i int) NotebookRef { return InFolder(filepath.Join(root, fmt.Sprint(i))) }

	detached := New(Config{}, Options{Spawn: func(string, string) error { return nil }})
	first, err := detached.local(folder(0))
	if err != nil {
		t.Fatal(err)
	}
	second, _ := detached.local(folder(1))
	for i := 2; i < maxLocals+5; i++ {
		if _, err := detached.local(folder(i)); err != nil {
			t.Fatal(err)
		}
		// Folder 1 is in use all along: never the least recently used.
		if again, _ := detached.local(folder(1)); again != second {
			t.Fatalf("after %d folders, folder 1 got a new backend", i+1)
		}
	}
	if n := len(detached.locals); n != maxLocals {
		t.Errorf("%d local backends kept, want %d", n, maxLocals)
	}
	if again, _ := detached.local(folder(0)); again == first {
		t.Error("folder 0, the least recently used, kept its backend")
	}

	inProcess := New(Config{}, Options{})
	for i := 0; i < maxLocals+5; i++ {
		if _, err := inProcess.local(folder(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(inProcess.locals); n != maxLocals+5 {
		t.Errorf("runs carried out in process: %d local backends kept, want all %d", n, maxLocals+5)
	}
}
