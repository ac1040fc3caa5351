package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// sumsFile, in the cache folder, remembers the content hashes of the files
// steps read, with what the file system said of each file then.
const sumsFile = "file-sums.json"

// Hashing a large data file on every run of every step that reads it would
// cost more than many steps. A file whose size, mtime, ctime and inode are
// what they were when it was hashed has the same contents — ctime cannot be
// set back by a user (cp -p, tar and rsync restore mtime, not ctime) — except
// when it was written again within the file system's timestamp granularity
// of being hashed: so only hashes taken well after the file's last change are
// trusted without reading it.
const racyWindow = 2 * time.Second

type sumEntry struct {
	Size   int64  `json:"size"`
	Mtime  int64  `json:"mtime_ns"`
	Ctime  int64  `json:"ctime_ns"`
	Ino    uint64 `json:"ino"`
	Sum    string `json:"sha256"`
	Hashed int64  `json:"hashed_ns"`
}

// Sums of files that are not regular files.
const (
	sumMissing    = "missing"
	sumUnreadable = "unreadable"
	sumNotFile    = "not-a-file"
)

// fileSums hashes files, with a fast path for ones unchanged since they
// were last hashed. It is shared by a runner's steps.
type fileSums struct {
	path string // "" keeps them in memory only
	mu   sync.Mutex
	m    map[string]sumEntry
	new  bool
}

func loadSums(path string) *fileSums {
	s := &fileSums{path: path, m: map[string]sumEntry{}}
	if data, err := os.ReadFile(path); err == nil {
		json.Unmarshal(data, &s.m) // a damaged file only costs hashing again
	}
	return s
}

// sum returns the SHA-256 of the file at path (absolute), or sumMissing,
// sumUnreadable or sumNotFile.
func (s *fileSums) sum(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return sumMissing
		}
		return sumUnreadable
	}
	if !fi.Mode().IsRegular() {
		return sumNotFile
	}
	e := statEntry(fi)
	s.mu.Lock()
	old, ok := s.m[path]
	s.mu.Unlock()
	if ok && old.Size == e.Size && old.Mtime == e.Mtime && old.Ctime == e.Ctime && old.Ino == e.Ino &&
		old.Hashed-max(e.Mtime, e.Ctime) > int64(racyWindow) {
		return old.Sum
	}
	e.Hashed = time.Now().UnixNano()
	f, err := os.Open(path)
	if err != nil {
		return sumUnreadable
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sumUnreadable
	}
	e.Sum = hex.EncodeToString(h.Sum(nil))
	// Changed while it was read: the hash is of no one version.
	if fi2, err := f.Stat(); err != nil || statEntry(fi2) != statEntry(fi) {
		return sumUnreadable
	}
	s.mu.Lock()
	s.m[path], s.new = e, true
	s.mu.Unlock()
	return e.Sum
}

func statEntry(fi os.FileInfo) sumEntry {
	e := sumEntry{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Ctime = st.Ctim.Nano()
		e.Ino = st.Ino
	}
	return e
}

// save keeps the sums for the next run. Runs save concurrently; the last
// one wins, which costs the others' entries only a hash next time.
func (s *fileSums) save() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" || !s.new {
		return
	}
	for p := range s.m {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			delete(s.m, p)
		}
	}
	os.MkdirAll(filepath.Dir(s.path), 0o755)
	if writeJSON(s.path, s.m) == nil {
		s.new = false
	}
}
