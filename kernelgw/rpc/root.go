package rpc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Root confines paths that clients send (a notebook to analyze, a folder to
// list) to the notebook root, the --root of `datainsight serve`: the
// sidecar can read and write as the user, and a client must not make it
// touch ~/.ssh through "../../.ssh" or through a link in the notebook
// folder that points there.
//
// Resolution is a check on the path at the time of the call. A caller that
// must also withstand links swapped between the check and the use (an
// adversary with write access inside the root) should open through
// os.OpenRoot(root.Dir()) as well.
type Root struct {
	dir string // absolute, symbolic links evaluated
}

// NewRoot returns the Root for dir, which must be an existing folder.
func NewRoot(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("notebook root %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("notebook root: %w", err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("notebook root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("notebook root %s: not a folder", dir)
	}
	return &Root{dir: real}, nil
}

// Dir returns the root, absolute and with symbolic links evaluated.
func (r *Root) Dir() string { return r.dir }

// ResolveUnder resolves userPath under root; see Root.Resolve.
func ResolveUnder(root, userPath string) (string, error) {
	r, err := NewRoot(root)
	if err != nil {
		return "", err
	}
	return r.Resolve(userPath)
}

// maxLinks bounds the symbolic links followed in one path, as the kernel's
// ELOOP does, so that a loop of links ends.
const maxLinks = 255

// Resolve returns the absolute path, links evaluated, that userPath names:
// relative to the root, or absolute (the kernel knows its notebook by its
// absolute path) but inside the root. The path need not exist (a file
// about to be written); what exists of it is resolved. A path that
// contains a NUL byte or a ".." element, or that is or leads (through
// links, dangling ones included) outside the root, is refused with a
// CodeForbiddenPath error naming it.
func (r *Root) Resolve(userPath string) (string, error) {
	forbid := func(why string) error {
		e := Errorf(CodeForbiddenPath, "path %s %s", quote(userPath), why)
		e.Data = map[string]string{"path": truncate(userPath)}
		return e
	}
	if strings.IndexByte(userPath, 0) >= 0 {
		return "", forbid("contains a NUL byte")
	}
	for _, el := range strings.Split(userPath, string(filepath.Separator)) {
		if el == ".." {
			// Refused even where it would stay inside: a client has no
			// need for it, and "inside" is easy to get wrong.
			return "", forbid(`contains ".."`)
		}
	}
	start := r.dir
	if filepath.IsAbs(userPath) {
		start = string(filepath.Separator)
	}
	resolved, err := resolveLinks(start, userPath)
	if err != nil {
		return "", forbid("cannot be resolved: " + err.Error())
	}
	if !within(r.dir, resolved) {
		if filepath.IsAbs(userPath) && !within(r.dir, filepath.Clean(userPath)) {
			return "", forbid("is outside the notebook root")
		}
		return "", forbid("leads outside the notebook root through a symbolic link")
	}
	return resolved, nil
}

// resolveLinks walks path from start one element at a time, following
// symbolic links, until an element does not exist; the rest is appended as
// written. cur never holds a link, so ".." in a link's target is simply
// its parent.
func resolveLinks(start, path string) (string, error) {
	cur := start
	todo := strings.Split(path, string(filepath.Separator))
	links := 0
	exists := true
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, name)
		if !exists {
			cur = next
			continue
		}
		fi, err := os.Lstat(next)
		// ENOTDIR: "nb.ipynb/x" where nb.ipynb is a file names nothing.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			exists = false
			cur = next
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", errors.New("too many levels of symbolic links")
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			cur = string(filepath.Separator)
		}
		todo = append(strings.Split(target, string(filepath.Separator)), todo...)
	}
	return cur, nil
}

func within(root, p string) bool {
	if root == string(filepath.Separator) {
		return true
	}
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}
