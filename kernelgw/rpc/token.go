package rpc

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// NewToken returns a new random token: 24 bytes from crypto/rand in hex,
// the size of Jupyter's own.
func NewToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// RuntimeDir returns the folder for runtime files, as Jupyter places its
// own: $DATAINSIGHT_RUNTIME_DIR if set, else $XDG_RUNTIME_DIR/datainsight
// (private to the user and cleared at logout where the system has one),
// else ~/.local/share/datainsight/runtime. getenv is os.Getenv outside
// tests.
func RuntimeDir(getenv func(string) string) (string, error) {
	if d := getenv("DATAINSIGHT_RUNTIME_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "datainsight"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("runtime dir: neither XDG_RUNTIME_DIR nor HOME is set")
	}
	return filepath.Join(home, ".local", "share", "datainsight", "runtime"), nil
}

// RuntimeInfo is what a running sidecar tells local clients (the kernel's
// magics, the CLI) about itself, like Jupyter's jpserver-PID.json.
type RuntimeInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
	Root  string `json:"root,omitempty"`
}

// WriteRuntimeFile writes info to dir/datainsight-PID.json and returns the
// file's path, for the caller to print and to remove at exit. The file
// holds the token, so it is created with mode 0600 (and dir, if new, with
// 0700) before anything is written, and it replaces an old file by rename:
// it is never readable by others, not even half-written, and a link
// planted at its name is replaced, not followed.
func WriteRuntimeFile(dir string, info RuntimeInfo) (string, error) {
	return WriteRuntimeFileNamed(dir, "datainsight-"+strconv.Itoa(info.PID)+".json", info)
}

// WriteRuntimeFileNamed is WriteRuntimeFile with the file's name chosen by
// the caller (a sidecar names its file for its port, which clients know
// from its URL).
func WriteRuntimeFileNamed(dir, name string, info RuntimeInfo) (string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", fmt.Errorf("write runtime file: %q is not a file name", name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	path := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".datainsight-*.json") // mode 0600
	if err != nil {
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write runtime file: %w", err)
	}
	return path, nil
}

// ReadRuntimeFile reads a file WriteRuntimeFile wrote.
func ReadRuntimeFile(path string) (RuntimeInfo, error) {
	var info RuntimeInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return info, fmt.Errorf("read runtime file: %w", err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("read runtime file %s: %w", path, err)
	}
	return info, nil
}

// checkPrivateDir refuses a runtime folder that another user could change:
// one of theirs (made before us in a shared temporary folder), or one that
// others may write to. There they could swap the file that tells clients
// where the sidecar is, and read the token a client then sends.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d)", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s may be written by others (mode %v): make it 0700", dir, fi.Mode().Perm())
	}
	return nil
}
