package s3store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"
)

// download fetches key into path: into a temporary file beside it, resumed
// with a range request when the transfer breaks off (the object must still
// be the one it started with: same ETag), checked against size and
// checksum, fsynced and renamed into place. The checksum is computed as
// the bytes arrive, by a goroutine of its own, so a large value is read
// once.
func (s *Store) download(ctx context.Context, key, dst string, size int64, checksum string, opts TransferOptions) (err error) {
	tmp := filepath.Join(filepath.Dir(dst), tmpPrefix+filepath.Base(dst)+"."+randomSuffix())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	h := newAsyncHash(sha256.New())
	defer h.stop()
	var (
		done     int64
		etag     string
		resumes  int
		backoff  = 100 * time.Millisecond
		resumed  bool
		lastFail error
	)
	buf := make([]byte, 1<<20)
	for {
		o := minio.GetObjectOptions{}
		if etag != "" {
			o.SetMatchETag(etag)
		}
		if done > 0 {
			o.SetRange(done, 0)
		}
		body, info, _, gerr := s.core.GetObject(ctx, s.cfg.Bucket, key, o)
		if gerr == nil {
			if etag == "" {
				etag = info.ETag
			}
			if resumed {
				opts.report(Update{Key: key, File: dst, Done: done, Total: size, Resumed: true})
				resumed = false
			}
			var n int64
			n, gerr = copyHashed(ctx, f, body, h, buf, func(n int64) {
				opts.report(Update{Key: key, File: dst, Done: done + n, Total: size})
			})
			body.Close()
			done += n
			if n > 0 {
				resumes, backoff = 0, 100*time.Millisecond
			}
			if gerr == nil && done >= size {
				break
			}
			if gerr == nil {
				// The body ended before the object did: the connection
				// was cut. Resume.
				gerr = io.ErrUnexpectedEOF
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if code := minio.ToErrorResponse(gerr).Code; code == "PreconditionFailed" {
			return fmt.Errorf("download s3://%s/%s: the object changed while it was being downloaded (a step of the run was uploaded again?)", s.cfg.Bucket, key)
		} else if code != "" && code != "InternalError" && code != "SlowDown" && code != "ServiceUnavailable" && code != "XMinioServerNotInitialized" {
			// The server answered, and not with a passing trouble.
			return s.wrap("download", key, gerr)
		}
		lastFail = gerr
		resumes++
		limit := s.Resumes
		if limit <= 0 {
			limit = 8
		}
		if resumes > limit {
			return fmt.Errorf("download s3://%s/%s: %d tries in a row made no progress (%d of %d bytes): %w", s.cfg.Bucket, key, resumes, done, size, s.wrap("download", key, lastFail))
		}
		resumed = true
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	sum := h.sum()
	if done != size {
		return fmt.Errorf("download s3://%s/%s: %w: %d bytes, the manifest says %d", s.cfg.Bucket, key, ErrDamaged, done, size)
	}
	if got := "sha256:" + hex.EncodeToString(sum); checksum != "" && got != checksum {
		return fmt.Errorf("download s3://%s/%s: %w: its checksum is %s, the manifest says %s", s.cfg.Bucket, key, ErrDamaged, got, checksum)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		f = nil
		return err
	}
	f = nil
	return os.Rename(tmp, dst)
}

// copyHashed copies src to the end of f, feeding what it writes to h, and
// calls progress with the bytes copied so far.
func copyHashed(ctx context.Context, f *os.File, src io.Reader, h *asyncHash, buf []byte, progress func(int64)) (int64, error) {
	var n int64
	for {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		// ReadFull: whole buffers, so the hash and the disk see few large
		// writes however the network delivers the bytes.
		r, rerr := io.ReadFull(src, buf)
		if r > 0 {
			if _, err := f.Write(buf[:r]); err != nil {
				return n, err
			}
			h.write(buf[:r])
			n += int64(r)
			progress(n)
		}
		switch rerr {
		case nil:
		case io.EOF:
			return n, nil
		case io.ErrUnexpectedEOF:
			// ReadFull's short last read, or a body cut short (the
			// server died): the caller tells them apart by the size.
			return n, nil
		default:
			return n, rerr
		}
	}
}

// asyncHash hashes in a goroutine of its own what write gives it (copies),
// so that hashing overlaps the network and the disk.
type asyncHash struct {
	h    hash.Hash
	in   chan []byte
	free chan []byte
	done chan struct{}
}

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{h: h, in: make(chan []byte, 4), free: make(chan []byte, 4), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.in {
			a.h.Write(b)
			select {
			case a.free <- b:
			default:
			}
		}
	}()
	return a
}

func (a *asyncHash) write(p []byte) {
	var b []byte
	select {
	case b = <-a.free:
	default:
	}
	b = append(b[:0], p...)
	a.in <- b
}

// sum waits for what was written to be hashed and returns the sum.
func (a *asyncHash) sum() []byte {
	close(a.in)
	<-a.done
	a.in = nil
	return a.h.Sum(nil)
}

// stop ends the goroutine if sum was not called.
func (a *asyncHash) stop() {
	if a.in != nil {
		close(a.in)
		<-a.done
	}
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
