package local

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// A step's output folder, and the cache entry made of it, carry records of
// what the step depended on beyond its cache key, checked before it is
// reused; and a reused step's folder says where it came from.
const (
	// writtenFile: the files the step wrote that later steps read (the
	// analysis' file edges), with their checksums: a cached step is reused
	// only while those files are still what it wrote.
	writtenFile = ".datainsight-files.json"
	// readSumsFile: every file the step read (as the runtime saw it open
	// them), with its checksum then: a cached step is reused only while
	// they still hold what it read.
	readSumsFile = ".datainsight-reads.json"
	// readsRecord is the runtime's own record of the files a step opened
	// for reading (pipelinegen/runtime: READS).
	readsRecord = "files-read.json"
	// cacheOrigin names the run that computed the outputs: in a cache
	// entry, and in the folder of a step that reused them.
	cacheOrigin = ".datainsight-run"
	// cacheLog is the output of the run that computed them.
	cacheLog = ".datainsight-log"
)

// cachedBanner starts the log of a reused step, before the output it had
// when it was computed.
func cachedBanner(origin string) string { return "# cached: output of run " + origin + "\n" }

// cacheKey identifies what a step computes: its script, the runtime, the
// interpreter, the parameters it uses, the checksums of its inputs and the
// contents of the files the analysis sees it read. Two runs with the same
// key compute the same outputs, as long as the files the step was seen to
// open when it ran are unchanged too (checked in reusable).
func (r *runner) cacheKey(s *pipelinegen.Step) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "datainsight step cache v2\nscript %d\n%s\n", len(s.Script), s.Script)
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
	for _, f := range inputFiles(s) {
		fmt.Fprintf(h, "file %s %s\n", f, r.sums.sum(r.workPath(f)))
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// inputFiles are the files the analysis sees a step read: the file edges'
// and the user's own data files alike (pipelines compiled before the
// latter were recorded have the former only).
func inputFiles(s *pipelinegen.Step) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range append(append([]string(nil), s.FileReads...), s.InputFiles...) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// workPath resolves a path a step names: relative ones against the folder
// the steps run in.
func (r *runner) workPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.st.WorkDir, filepath.FromSlash(p))
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

// reuse links the outputs of an identical earlier step into this run:
// from the run being resumed, or else from the cache. It reports the run
// that computed them. The step's log becomes a line naming that run and
// the output the step had then.
func (r *runner) reuse(s *pipelinegen.Step, key string) (string, bool) {
	var src, from, prevRun string
	if prev := r.st.ResumedFrom; prev != "" {
		if old, err := readState(filepath.Join(filepath.Dir(r.dir), prev)); err == nil {
			if ps := old.Step(s.Name); ps != nil && ps.Phase == cluster.Succeeded && ps.CacheKey == key {
				src, from, prevRun = filepath.Join(filepath.Dir(r.dir), prev, s.Name), prev, prev
			}
		}
	}
	if src == "" && !r.st.NoCache && !s.Settings.CacheOff {
		src = filepath.Join(r.l.cacheDir(), key)
		from = "cache"
	}
	if src == "" || !r.reusable(src) {
		return "", false
	}
	dst := filepath.Join(r.dir, s.Name)
	os.RemoveAll(dst)
	if err := linkTree(src, dst); err != nil {
		r.noteNoSpace(err)
		os.RemoveAll(dst)
		return "", false
	}
	// The run that computed the outputs: named by the entry, else it is
	// the resumed run itself, whose log is then in its own folder.
	origin := cachedFrom(dst)
	if origin == "" {
		origin = from
		if err := os.WriteFile(filepath.Join(dst, cacheOrigin), []byte(origin), 0o644); err != nil {
			r.noteNoSpace(err)
			os.RemoveAll(dst)
			return "", false
		}
	}
	if _, err := os.Stat(filepath.Join(dst, cacheLog)); err != nil && prevRun != "" {
		linkOrCopy(filepath.Join(filepath.Dir(r.dir), prevRun, logsDir, s.Name+".log"), filepath.Join(dst, cacheLog))
	}
	// Appended, as attempts are: a retried run keeps the failed attempt's
	// output before it.
	old, _ := os.ReadFile(filepath.Join(dst, cacheLog))
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	logf, err := os.OpenFile(filepath.Join(r.dir, logsDir, s.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		_, err = logf.Write(append([]byte(cachedBanner(origin)), old...))
		if cerr := logf.Close(); err == nil {
			err = cerr
		}
	}
	r.noteNoSpace(err)
	return origin, true
}

// cachedFrom names the run whose outputs a step's folder holds when the
// step reused them ("" when it computed them itself).
func cachedFrom(stepDir string) string {
	data, err := os.ReadFile(filepath.Join(stepDir, cacheOrigin))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// reusable checks that an earlier step's outputs may stand for this one's:
// they are whole (a manifest naming values of the sizes it says), the
// files the step wrote are still what it wrote, and the files it read
// still hold what it read (another step or the user may have changed them
// since).
func (r *runner) reusable(dir string) bool {
	if !wholeOutputs(dir) {
		return false
	}
	for _, rec := range []string{writtenFile, readSumsFile} {
		data, err := os.ReadFile(filepath.Join(dir, rec))
		if err != nil {
			return false
		}
		var sums map[string]string
		if json.Unmarshal(data, &sums) != nil {
			return false
		}
		for f, sum := range sums {
			if r.sums.sum(r.workPath(f)) != sum {
				return false
			}
		}
	}
	return true
}

// wholeOutputs checks a step folder's values against its manifest: a
// damaged entry must be computed again, not handed to the next step.
func wholeOutputs(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if os.IsNotExist(err) {
		return true // a step that saves nothing
	}
	if err != nil {
		return false
	}
	var doc struct {
		Values map[string]struct {
			File string `json:"file"`
			Size int64  `json:"size"`
		} `json:"values"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	for _, v := range doc.Values {
		if v.File == "" || strings.ContainsAny(v.File, `/\`) {
			return false
		}
		fi, err := os.Stat(filepath.Join(dir, v.File))
		if err != nil || fi.Size() != v.Size {
			return false
		}
	}
	return true
}

// store records a succeeded step — the files it wrote and the files it
// read, with their checksums — and keeps its outputs and its log (hard
// links) in the cache under its key. A step that read a file which
// changed while it ran is not cached: which version it read is unknown.
func (r *runner) store(s *pipelinegen.Step, key string) {
	dir := filepath.Join(r.dir, s.Name)
	written := map[string]string{}
	for _, f := range s.FileWrites {
		written[f] = r.sums.sum(r.workPath(f))
	}
	read, ok := r.readSums(dir)
	if !ok {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.noteNoSpace(err)
		return
	}
	for name, sums := range map[string]map[string]string{writtenFile: written, readSumsFile: read} {
		if err := writeJSON(filepath.Join(dir, name), sums); err != nil {
			r.noteNoSpace(err)
			return
		}
	}
	cache := r.l.cacheDir()
	final := filepath.Join(cache, key)
	if _, err := os.Stat(final); err == nil && r.reusable(final) {
		return
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		r.noteNoSpace(err)
		return
	}
	tmp, err := os.MkdirTemp(cache, ".tmp-")
	if err != nil {
		r.noteNoSpace(err)
		return
	}
	err = linkTree(dir, tmp)
	if err == nil {
		err = linkOrCopy(filepath.Join(r.dir, logsDir, s.Name+".log"), filepath.Join(tmp, cacheLog))
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, cacheOrigin), []byte(r.st.ID), 0o644)
	}
	if err != nil {
		r.noteNoSpace(err)
		os.RemoveAll(tmp)
		return
	}
	// An entry under the same key that no longer holds (the files its
	// step read have changed since) makes way for this one.
	if _, err := os.Stat(final); err == nil {
		stale, err := os.MkdirTemp(cache, ".stale-")
		if err == nil && os.Rename(final, filepath.Join(stale, "entry")) == nil {
			defer os.RemoveAll(stale)
		} else if err == nil {
			os.Remove(stale)
		}
	}
	if os.Rename(tmp, final) != nil {
		os.RemoveAll(tmp) // another run stored it meanwhile
	}
}

// staleAfter is how old a half-made entry of the cache or the runs folder
// must be to be taken for one whose maker was killed (none takes longer
// to make).
const staleAfter = time.Hour

// sweep removes what killed runners and submits left half made: cache
// entries being stored or replaced, runs being recorded.
func (l *Local) sweep() {
	for dir, prefixes := range map[string][]string{
		l.cacheDir(): {".tmp-", ".stale-"},
		l.Dir:        {stagingPrefix, trashPrefix},
	} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			for _, prefix := range prefixes {
				if !strings.HasPrefix(e.Name(), prefix) {
					continue
				}
				if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
					os.RemoveAll(filepath.Join(dir, e.Name()))
				}
			}
		}
	}
}

// readSums turns the runtime's record of the files a step opened for
// reading into their checksums. It reports false — do not cache — when
// there is no record or a file changed after the step first opened it.
func (r *runner) readSums(dir string) (map[string]string, bool) {
	data, err := os.ReadFile(filepath.Join(dir, readsRecord))
	if err != nil {
		return nil, false
	}
	var rec struct {
		Workdir string `json:"workdir"`
		Files   []struct {
			Path    string `json:"path"`
			Missing bool   `json:"missing"`
			Size    int64  `json:"size"`
			MtimeNs int64  `json:"mtime_ns"`
		} `json:"files"`
	}
	if json.Unmarshal(data, &rec) != nil {
		return nil, false
	}
	sums := map[string]string{}
	for _, f := range rec.Files {
		p := f.Path
		abs := p
		if !filepath.IsAbs(p) {
			base := rec.Workdir
			if base == "" {
				base = r.st.WorkDir
			}
			abs = filepath.Join(base, filepath.FromSlash(p))
		}
		fi, err := os.Stat(abs)
		switch {
		case f.Missing && os.IsNotExist(err):
			sums[p] = sumMissing
			continue
		case f.Missing || err != nil:
			return nil, false
		case fi.Size() != f.Size || fi.ModTime().UnixNano() != f.MtimeNs:
			return nil, false
		}
		sums[p] = r.sums.sum(abs)
		if sums[p] == sumUnreadable {
			return nil, false
		}
	}
	return sums, true
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
		return linkOrCopy(p, target)
	})
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return copyFile(src, dst)
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

// markNotebookReport adds, at the top of a reused step's report.ipynb, a
// cell naming the run it came from (and says so in its metadata).
func markNotebookReport(data []byte, origin string) []byte {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return data
	}
	cells, _ := doc["cells"].([]any)
	note := map[string]any{
		"id": "datainsight-cached", "cell_type": "markdown", "metadata": map[string]any{},
		"source": strings.TrimSuffix(cachedBanner(origin), "\n"),
	}
	doc["cells"] = append([]any{note}, cells...)
	if meta, ok := doc["metadata"].(map[string]any); ok {
		if di, ok := meta["datainsight"].(map[string]any); ok {
			di["cached_from"] = origin
		}
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return data
	}
	return append(out, '\n')
}

// markHTMLReport adds the same line at the top of report.html.
func markHTMLReport(data []byte, origin string) []byte {
	line := fmt.Sprintf("<p class=\"cached\"><b>%s</b></p>\n", html.EscapeString(strings.TrimSuffix(cachedBanner(origin), "\n")))
	i := bytes.Index(data, []byte("<body>"))
	if i < 0 {
		return append([]byte(line), data...)
	}
	i += len("<body>")
	return append(append(append([]byte(nil), data[:i]...), line...), data[i:]...)
}
