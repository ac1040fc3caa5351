package rpc_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

func TestResolveUnder(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "notebooks")
	outside := filepath.Join(base, "secret")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte("{}"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "key"), []byte("x"), 0o600))
	link := func(target, name string) { must(t, os.Symlink(target, filepath.Join(root, name))) }
	link("sub", "in")                               // a link inside
	link("../secret", "out")                        // a folder outside
	link(filepath.Join(outside, "key"), "key")      // a file outside, absolute
	link(filepath.Join(outside, "nothing"), "dang") // dangling, pointing outside
	link("sub/../nb.ipynb", "up")                   // ".." in a target, staying inside
	link("loop", "loop")
	// The root reached through a link is the same root.
	rootLink := filepath.Join(base, "rootlink")
	must(t, os.Symlink(root, rootLink))

	r, err := rpc.NewRoot(rootLink)
	if err != nil {
		t.Fatal(err)
	}
	realRoot, _ := filepath.EvalSymlinks(root)
	if r.Dir() != realRoot {
		t.Errorf("Dir() = %s, want %s", r.Dir(), realRoot)
	}
	in := func(p string) string { return filepath.Join(realRoot, p) }
	for _, tc := range []struct {
		path string
		want string // "" for refused
		why  string
	}{
		{"nb.ipynb", in("nb.ipynb"), ""},
		{"", realRoot, ""},
		{".", realRoot, ""},
		{"sub/new.ipynb", in("sub/new.ipynb"), ""}, // need not exist
		{"new/deeper/x.ipynb", in("new/deeper/x.ipynb"), ""},
		{"in/x.ipynb", in("sub/x.ipynb"), ""},
		{"up", in("nb.ipynb"), ""},
		{"./sub//x", in("sub/x"), ""},
		{filepath.Join(realRoot, "nb.ipynb"), in("nb.ipynb"), ""}, // absolute, inside
		{filepath.Join(rootLink, "nb.ipynb"), in("nb.ipynb"), ""}, // absolute, through the link to the root
		{"nb.ipynb/x", in("nb.ipynb/x"), ""},                      // under a file: names nothing, harmlessly
		{"../secret/key", "", `contains ".."`},
		{"sub/../nb.ipynb", "", `contains ".."`},
		{"..", "", `contains ".."`},
		{filepath.Join(outside, "key"), "", "is outside the notebook root"},
		{"/etc/passwd", "", "is outside the notebook root"},
		{"out/key", "", "leads outside the notebook root through a symbolic link"},
		{"out", "", "leads outside"},
		{"key", "", "leads outside"},
		{"dang", "", "leads outside"},
		{"loop/x", "", "too many levels of symbolic links"},
		{"nb\x00.ipynb", "", "contains a NUL byte"},
	} {
		got, err := r.Resolve(tc.path)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
			continue
		}
		var e *rpc.Error
		if !errors.As(err, &e) || e.Code != rpc.CodeForbiddenPath || !strings.Contains(e.Message, tc.why) {
			t.Errorf("Resolve(%q) = %q, %v; want a forbidden-path error saying %q", tc.path, got, err, tc.why)
			continue
		}
		if !strings.Contains(e.Message, strings.ReplaceAll(tc.path, "\x00", `\x00`)) {
			t.Errorf("Resolve(%q): the message does not name the path: %s", tc.path, e.Message)
		}
		if rpc.CodeOf(err) != rpc.CodeForbiddenPath {
			t.Errorf("CodeOf = %d", rpc.CodeOf(err))
		}
	}
	if got, err := rpc.ResolveUnder(root, "sub"); err != nil || got != in("sub") {
		t.Errorf("ResolveUnder: %q, %v", got, err)
	}
	if _, err := rpc.NewRoot(filepath.Join(root, "nb.ipynb")); err == nil {
		t.Error("a file as the root")
	}
}
