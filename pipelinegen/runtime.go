package pipelinegen

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

// RuntimeModule is the Python module name of the marshalling runtime that
// every step script imports.
const RuntimeModule = "datainsight_runtime"

//go:embed runtime/datainsight_runtime.py
var runtimeSource []byte

// RuntimeSource returns the runtime module's source. The slice is a copy:
// the embedded bytes are shared by every caller.
func RuntimeSource() []byte { return bytes.Clone(runtimeSource) }

// WriteRuntime writes the runtime module into dir as RuntimeModule+".py"
// and returns its path. The file is replaced atomically (temporary file,
// fsync, rename), so a step starting meanwhile imports either the old or the
// new module, never half of one. An identical file is left untouched, which
// keeps its mtime and so Python's cached bytecode.
func WriteRuntime(dir string) (path string, err error) {
	path = filepath.Join(dir, RuntimeModule+".py")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, runtimeSource) {
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+RuntimeModule+"-*.py")
	if err != nil {
		return "", fmt.Errorf("write runtime: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(runtimeSource); err != nil {
		return "", fmt.Errorf("write runtime %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; steps may run as another user (pods).
	if err = tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("write runtime %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return "", fmt.Errorf("write runtime %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return "", fmt.Errorf("write runtime %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write runtime %s: %w", path, err)
	}
	// The rename is durable only once the directory is synced.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return path, nil
}
