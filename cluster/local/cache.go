package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// writtenFile records, in a step's output folder, the files the step wrote
// that later steps read (the analysis' file edges), with their checksums: a
// cached step is reused only while those files are still what it wrote.
const writtenFile = ".datainsight-files.json"

// cacheOrigin, in a cache entry, names the run that produced it.
const cacheOrigin = ".datainsight-run"

// cacheKey identifies what a step computes: its script, the runtime, the
// interpreter, the parameters it uses, the checksums of its inputs and the
// contents of the files it reads. Two runs with the same key compute the
// same outputs.
func (r *runner) cacheKey(s *pipelinegen.Step) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "datainsight step cache v1\nscript %d\n%s\n", len(s.Script), s.Script)
	fmt.Fprintf(h, "runtime %s\n", pipelinegen.ShortHash(string(pipelinegen.RuntimeSource())))
	fmt.Fprintf(h, "python %s\n", pythonIdentity(r.st.Python))
	params := append([]string(nil), s.Params...)
	sort.Strings(params)
	for _, p := range params {
		fmt.Fprintf(h, "param %s=%s\n", p, r.st.Parameters[p])
	}
	names := make([]string, 0, len(s.Ins))
	for n := range s.Ins {
		names = append(names, n)
	}
	sort.Strings(names)
	manifests := map[string]map[string]json.RawMessage{}
	for _, n := range names {
		producer := s.Ins[n]
		m, ok := manifests[producer]
		if !ok {
			var err error
			if m, err = manifestValues(filepath.Join(r.dir, producer)); err != nil {
				return "", err
			}
			manifests[producer] = m
		}
		var entry struct {
			Checksum string `json:"checksum"`
		}
		if err := json.Unmarshal(m[n], &entry); err != nil || entry.Checksum == "" {
			return "", fmt.Errorf("input %s of step %s has no checksum in %s's manifest", n, s.Name, producer)
		}
		fmt.Fprintf(h, "input %s from %s %s\n", n, producer, entry.Checksum)
	}
	for _, f := range s.FileReads {
		fmt.Fprintf(h, "file %s %s\n", f, fileSum(filepath.Join(r.st.WorkDir, f)))
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

func manifestValues(dir string) (map[string]json.RawMessage, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Values map[string]json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	return doc.Values, nil
}

// pythonIdentity names an interpreter by its real path, size and mtime:
// an upgrade of the interpreter changes it, without starting Python.
func pythonIdentity(python string) string {
	p := python
	if lp, err := lookPath(python); err == nil {
		p = lp
	}
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		p = rp
	}
	fi, err := os.Stat(p)
	if err != nil {
		return p
	}
	return fmt.Sprintf("%s %d %d", p, fi.Size(), fi.ModTime().UnixNano())
}

func fileSum(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "missing"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable"
	}
	return hex.EncodeToString(h.Sum(nil))
}

// reuse links the outputs of an identical earlier step into this run:
// from the run being resumed, or else from the cache. It reports where
// they came from.
func (r *runner) reuse(s *pipelinegen.Step, key string) (string, bool) {
	var src, from string
	if prev := r.st.ResumedFrom; prev != "" {
		if old, err := readState(filepath.Join(filepath.Dir(r.dir), prev)); err == nil {
			if ps := old.Step(s.Name); ps != nil && ps.Phase == cluster.Succeeded && ps.CacheKey == key {
				src, from = filepath.Join(filepath.Dir(r.dir), prev, s.Name), prev
			}
		}
	}
	if src == "" && !r.st.NoCache && !s.Settings.CacheOff {
		src = filepath.Join(r.l.cacheDir(), key)
		from = "cache"
		if data, err := os.ReadFile(filepath.Join(src, cacheOrigin)); err == nil {
			from = string(data)
		}
	}
	if src == "" || !r.writtenUnchanged(src) {
		return "", false
	}
	dst := filepath.Join(r.dir, s.Name)
	os.RemoveAll(dst)
	if err := linkTree(src, dst); err != nil {
		os.RemoveAll(dst)
		return "", false
	}
	os.Remove(filepath.Join(dst, cacheOrigin))
	return from, true
}

// writtenUnchanged checks that the files a cached step wrote are still
// there with the same contents (another step or the user may have changed
// them since).
func (r *runner) writtenUnchanged(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, writtenFile))
	if err != nil {
		return false
	}
	var sums map[string]string
	if json.Unmarshal(data, &sums) != nil {
		return false
	}
	for f, sum := range sums {
		if fileSum(filepath.Join(r.st.WorkDir, f)) != sum {
			return false
		}
	}
	return true
}

// store records a succeeded step: the files it wrote, and a copy of its
// outputs (hard links) in the cache under its key.
func (r *runner) store(s *pipelinegen.Step, key string) {
	dir := filepath.Join(r.dir, s.Name)
	sums := map[string]string{}
	for _, f := range s.FileWrites {
		sums[f] = fileSum(filepath.Join(r.st.WorkDir, f))
	}
	os.MkdirAll(dir, 0o755)
	if err := writeJSON(filepath.Join(dir, writtenFile), sums); err != nil {
		return
	}
	cache := r.l.cacheDir()
	final := filepath.Join(cache, key)
	if _, err := os.Stat(final); err == nil {
		return
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return
	}
	tmp, err := os.MkdirTemp(cache, ".tmp-")
	if err != nil {
		return
	}
	if linkTree(dir, tmp) != nil || os.WriteFile(filepath.Join(tmp, cacheOrigin), []byte(r.st.ID), 0o644) != nil || os.Rename(tmp, final) != nil {
		os.RemoveAll(tmp)
	}
}

// linkTree recreates src's files under dst as hard links (copies across
// file systems). Outputs are never modified in place — the runtime
// replaces files by rename — so sharing them is safe.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if err := os.Link(p, target); err == nil {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
