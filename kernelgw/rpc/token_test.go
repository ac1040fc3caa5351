package rpc_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

func TestNewToken(t *testing.T) {
	a, err := rpc.NewToken()
	must(t, err)
	b, err := rpc.NewToken()
	must(t, err)
	if !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(a) || a == b {
		t.Errorf("tokens %q, %q", a, b)
	}
}

func TestRuntimeDir(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		env  func(string) string
		want string
	}{
		{env("DATAINSIGHT_RUNTIME_DIR", "/d", "XDG_RUNTIME_DIR", "/run/user/1", "HOME", "/h"), "/d"},
		{env("XDG_RUNTIME_DIR", "/run/user/1", "HOME", "/h"), "/run/user/1/datainsight"},
		{env("HOME", "/h"), "/h/.local/share/datainsight/runtime"},
		{env(), ""},
	} {
		got, err := rpc.RuntimeDir(tc.env)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("got %q, %v; want %q", got, err, tc.want)
		}
	}
}

func TestWriteRuntimeFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runtime")
	info := rpc.RuntimeInfo{URL: "http://127.0.0.1:4242/", Token: "t0k", PID: 4242, Root: "/nb"}
	// A link planted where the file goes is replaced, not written through.
	must(t, os.MkdirAll(dir, 0o700))
	victim := filepath.Join(t.TempDir(), "victim")
	must(t, os.WriteFile(victim, []byte("keep"), 0o644))
	must(t, os.Symlink(victim, filepath.Join(dir, "datainsight-4242.json")))

	path, err := rpc.WriteRuntimeFile(dir, info)
	must(t, err)
	if path != filepath.Join(dir, "datainsight-4242.json") {
		t.Errorf("path %s", path)
	}
	fi, err := os.Lstat(path)
	must(t, err)
	if fi.Mode() != 0o600 {
		t.Errorf("mode %v, want -rw-------", fi.Mode())
	}
	got, err := rpc.ReadRuntimeFile(path)
	must(t, err)
	if got != info {
		t.Errorf("read back %+v", got)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("wrote through a planted link: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d files behind", len(entries))
	}
	// A new folder is private.
	dir2 := filepath.Join(t.TempDir(), "a", "b")
	_, err = rpc.WriteRuntimeFile(dir2, info)
	must(t, err)
	if fi, _ := os.Stat(dir2); fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode().Perm())
	}
}

// A runtime folder others may write to is refused: they could swap the
// file that tells clients where the sidecar is.
func TestRuntimeFileRefusesASharedFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rt")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := rpc.WriteRuntimeFileNamed(dir, "datainsight-1.json", rpc.RuntimeInfo{URL: "http://127.0.0.1:1", Token: "t"}); err == nil || !strings.Contains(err.Error(), "written by others") {
		t.Errorf("a world-writable runtime folder: err = %v, want a refusal", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := rpc.WriteRuntimeFileNamed(dir, "datainsight-1.json", rpc.RuntimeInfo{URL: "http://127.0.0.1:1", Token: "t"}); err != nil {
		t.Errorf("a private runtime folder: %v", err)
	}
}
