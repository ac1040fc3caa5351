// Package atomicfile writes files so that a reader sees the old content or
// the new, never half of it, and a crash leaves no partial file behind.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write writes data to path through a temporary file in the same folder:
// write, set perm, fsync, rename, then fsync the folder so the rename
// itself survives a crash. On error the temporary file is removed.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; readers may be other users (pods).
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // not every file system can sync a folder; the rename is done
		d.Close()
	}
	return nil
}

// Spare is disk space set aside, while there is some, for one last atomic
// write of a file when the disk has filled up: a record that must say how
// things ended ("disk full") can still be written then. The space is a
// hidden file of allocated blocks beside the file; Write overwrites those
// blocks in place (no new ones are needed on file systems that update in
// place: ext4, xfs, tmpfs), cuts the file to length, syncs it and renames it
// over the file, so readers still see the old content or the new.
type Spare struct {
	path string // the file the spare is for
	tmp  string
	size int
}

// NewSpare sets aside size bytes for a last write of path.
func NewSpare(path string, size int) (*Spare, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".spare")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("setting space aside for %s: %w", path, err)
	}
	// Written, not just truncated: a sparse file would hold no blocks.
	_, err = f.Write(make([]byte, size))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("setting space aside for %s: %w", path, err)
	}
	return &Spare{path: path, tmp: tmp, size: size}, nil
}

// Write replaces the file with data using the spare's space; the spare is
// used up. data must fit in it.
func (s *Spare) Write(data []byte, perm os.FileMode) error {
	if s == nil {
		return errors.New("no space set aside")
	}
	if s.tmp == "" {
		return fmt.Errorf("writing %s: no space set aside (it was used)", s.path)
	}
	if len(data) > s.size {
		return fmt.Errorf("writing %s: %d bytes do not fit in the %d set aside", s.path, len(data), s.size)
	}
	f, err := os.OpenFile(s.tmp, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp, s.path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	s.tmp = ""
	if d, derr := os.Open(filepath.Dir(s.path)); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Release gives the space back.
func (s *Spare) Release() {
	if s != nil && s.tmp != "" {
		os.Remove(s.tmp)
		s.tmp = ""
	}
}
