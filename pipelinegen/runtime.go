package pipelinegen

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/datainsight/datainsight/internal/atomicfile"
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
	if err := atomicfile.Write(path, runtimeSource, 0o644); err != nil {
		return "", fmt.Errorf("write runtime: %w", err)
	}
	return path, nil
}
