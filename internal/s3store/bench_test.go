package s3store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/minio/minio-go/v7"
)

// benchSize is the value the benchmarks move: DATAINSIGHT_BENCH_S3_BYTES,
// else 1 GiB.
func benchSize(b *testing.B) int64 {
	if v := os.Getenv("DATAINSIGHT_BENCH_S3_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("DATAINSIGHT_BENCH_S3_BYTES=%q: want a number of bytes", v)
		}
		return n
	}
	return 1 << 30
}

// BenchmarkTransfer moves one large value through the store (PutStep,
// GetStep: manifest, checksum, temporary file, fsync, rename) and the same
// bytes with minio-go's own PutObject and GetObject to a file, against one
// MinIO on loopback, so the two can be compared in one run.
func BenchmarkTransfer(b *testing.B) {
	s, _ := newStore(b, "bench", "runs")
	ctx := context.Background()
	size := benchSize(b)
	src := b.TempDir()
	f, err := os.Create(filepath.Join(src, "big.npy"))
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	manifest, _ := json.Marshal(map[string]any{"version": 1, "values": map[string]any{
		"big": map[string]any{"file": "big.npy", "size": size, "checksum": "sha256:" + hex.EncodeToString(h.Sum(nil)), "format": "npy"},
	}})
	if err := os.WriteFile(filepath.Join(src, ManifestFile), manifest, 0o644); err != nil {
		b.Fatal(err)
	}
	dst := b.TempDir()
	client := s.Client()

	b.Run("put/store", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			if err := s.PutStep(ctx, "r1", "a", src, TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("put/raw", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			if _, err := client.FPutObject(ctx, "bench", "raw/big.npy", filepath.Join(src, "big.npy"), minio.PutObjectOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get/store", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			os.RemoveAll(filepath.Join(dst, "store"))
			if _, err := s.GetStep(ctx, "r1", "a", filepath.Join(dst, "store"), nil, TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get/raw", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			obj, err := client.GetObject(ctx, "bench", "raw/big.npy", minio.GetObjectOptions{})
			if err != nil {
				b.Fatal(err)
			}
			out, err := os.Create(filepath.Join(dst, "raw.npy"))
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(out, obj)
			obj.Close()
			out.Close()
			if err != nil || n != size {
				b.Fatalf("raw get: %d bytes, %v", n, err)
			}
		}
	})
}
