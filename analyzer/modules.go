package analyzer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-enry/go-enry/v2"
)

// LocalModule is one of the user's own Python modules, found in the
// notebook's folder and imported by the notebook: it ships with the steps.
type LocalModule struct {
	Name  string   `json:"name"`  // the top-level module name the notebook imports
	Path  string   `json:"path"`  // name.py or name (a package), relative to the notebook's folder, slash-separated
	Files []string `json:"files"` // the files to ship, relative to the notebook's folder, slash-separated, sorted
}

// binarySniffLen is how much of a file go-enry looks at to call it binary
// (the same prefix git uses).
const binarySniffLen = 8000

// findLocalModules returns the modules among imports (top-level names; a
// dotted name counts by its first part) that the notebook's folder dir
// provides, the way Python's path finder resolves them from the script's
// folder: a package (name/__init__.py) first, then a module (name.py),
// then a namespace package (a plain name/ directory holding .py files).
// A package ships its Python files and data, less what go-enry marks as
// vendored or binary, dot files, generated files other than Python source
// (a generated _pb2.py is still imported), and __pycache__. Symbolic links
// are not followed: they may point anywhere. Modules that are found are
// returned, sorted by name, even when reading some of their files failed;
// those failures are joined into the error.
func findLocalModules(dir string, imports []string) ([]LocalModule, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("find local modules: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("find local modules: %s is not a directory", dir)
	}
	seen := map[string]bool{}
	var mods []LocalModule
	var errs []error
	for _, imp := range imports {
		name, _, _ := strings.Cut(strings.TrimSpace(imp), ".")
		if !isIdentifier(name) || seen[name] {
			continue
		}
		seen[name] = true
		m, ok, err := findModule(dir, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("module %s: %w", name, err))
		}
		if ok {
			mods = append(mods, m)
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Name < mods[j].Name })
	return mods, errors.Join(errs...)
}

func findModule(dir, name string) (LocalModule, bool, error) {
	pkgDir := filepath.Join(dir, name)
	isDir := false
	if st, err := os.Lstat(pkgDir); err == nil && st.IsDir() {
		isDir = true
		if isRegularFile(filepath.Join(pkgDir, "__init__.py")) {
			files, err := moduleFiles(dir, name)
			return LocalModule{Name: name, Path: name, Files: files}, true, err
		}
	}
	if isRegularFile(filepath.Join(dir, name+".py")) {
		return LocalModule{Name: name, Path: name + ".py", Files: []string{name + ".py"}}, true, nil
	}
	if isDir {
		files, err := moduleFiles(dir, name)
		for _, f := range files {
			if strings.HasSuffix(f, ".py") {
				return LocalModule{Name: name, Path: name, Files: files}, true, err
			}
		}
		return LocalModule{}, false, err
	}
	return LocalModule{}, false, nil
}

func isRegularFile(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode().IsRegular()
}

// moduleFiles lists the files of package directory name under dir that
// ship with it.
func moduleFiles(dir, name string) ([]string, error) {
	root := filepath.Join(dir, name)
	files := []string{}
	var errs []error
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		rel, relErr := filepath.Rel(root, p)
		if relErr != nil {
			return nil
		}
		inner := filepath.ToSlash(rel) // path inside the package: the package's own name never counts as vendored
		if d.IsDir() {
			if p == root {
				return nil
			}
			if d.Name() == "__pycache__" || enry.IsDotFile(inner) || enry.IsVendor(inner+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || enry.IsDotFile(inner) || enry.IsVendor(inner) {
			return nil
		}
		head, err := readHead(p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if enry.IsBinary(head) {
			return nil
		}
		if !strings.HasSuffix(inner, ".py") && enry.IsGenerated(inner, head) {
			return nil
		}
		files = append(files, path.Join(name, inner))
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	sort.Strings(files)
	return files, errors.Join(errs...)
}

func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, binarySniffLen)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	return buf[:n], nil
}
