package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/cluster"
)

// collect drains t into a buffer, recording the largest single write.
type collect struct {
	bytes.Buffer
	writes, largest int
}

func (c *collect) out(b []byte) error {
	c.writes++
	c.largest = max(c.largest, len(b))
	c.Write(b)
	return nil
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLogTailFollow feeds a log in pieces, as a running step writes it:
// with a prefix only whole lines come out until the end; without one the
// bytes pass as they come.
func TestLogTailFollow(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, prefix string
		pieces       []string
		after        []string // the output after each piece's drain
		final        string   // after the final drain
	}{
		{"prefixed", "a | ", []string{"one\ntw", "o\n", "three"},
			[]string{"a | one\n", "a | one\na | two\n", "a | one\na | two\n"},
			"a | one\na | two\na | three\n"},
		{"raw", "", []string{"one\ntw", "o\n", "three"},
			[]string{"one\ntw", "one\ntwo\n", "one\ntwo\nthree"},
			"one\ntwo\nthree\n"},
		{"empty lines", "s | ", []string{"\n\n", "x"},
			[]string{"s | \ns | \n", "s | \ns | \n"},
			"s | \ns | \ns | x\n"},
		{"ends with a newline", "s | ", []string{"x\n"}, []string{"s | x\n"}, "s | x\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.log")
			tail := newLogTail(path, c.prefix)
			var got collect
			if err := tail.drain(ctx, got.out, false); err != nil {
				t.Fatalf("drain of a log not yet created: %v", err)
			}
			for i, p := range c.pieces {
				appendFile(t, path, p)
				if err := tail.drain(ctx, got.out, false); err != nil {
					t.Fatal(err)
				}
				if got.String() != c.after[i] {
					t.Fatalf("after piece %d: %q, want %q", i, got.String(), c.after[i])
				}
			}
			if err := tail.drain(ctx, got.out, true); err != nil {
				t.Fatal(err)
			}
			if got.String() != c.final {
				t.Errorf("final: %q, want %q", got.String(), c.final)
			}
		})
	}
}

// TestLogTailLongLine: a line longer than what is held back comes out in
// pieces, prefixed once, so that a log without newlines needs no memory in
// proportion to its size.
func TestLogTailLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.log")
	long := strings.Repeat("x", 3*cluster.MaxPartial+5)
	appendFile(t, path, "short\n"+long)
	tail := newLogTail(path, "s | ")
	var got collect
	if err := tail.drain(context.Background(), got.out, false); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "\nnext\n")
	if err := tail.drain(context.Background(), got.out, true); err != nil {
		t.Fatal(err)
	}
	if want := "s | short\ns | " + long + "\ns | next\n"; got.String() != want {
		t.Errorf("got %d bytes, want %d: the long line is not whole and prefixed once", got.Len(), len(want))
	}
	if tail.lines.Held() > 2*cluster.MaxPartial {
		t.Errorf("held back %d bytes of an unended line, want at most about %d", tail.lines.Held(), cluster.MaxPartial)
	}
}

// TestLogTailStreams: a large log is written a chunk at a time, with work
// and memory independent of its size. It was once read whole, rescanned
// for every line (a 200 MB log took over 10 minutes) and written in one
// piece.
func TestLogTailStreams(t *testing.T) {
	const size = 16 << 20
	path := filepath.Join(t.TempDir(), "s.log")
	writeLog(t, path, size)
	for _, prefix := range []string{"", "step | "} {
		t.Run(fmt.Sprintf("prefix=%q", prefix), func(t *testing.T) {
			tail := newLogTail(path, prefix)
			var n, lines, largest int
			out := func(b []byte) error {
				n += len(b)
				lines += bytes.Count(b, []byte{'\n'})
				largest = max(largest, len(b))
				return nil
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if err := tail.drain(context.Background(), out, true); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			wantLines := size / len(logLine)
			if want := wantLines * (len(logLine) + len(prefix)); n != want || lines != wantLines {
				t.Errorf("wrote %d bytes in %d lines, want %d in %d", n, lines, want, wantLines)
			}
			if limit := 2 * logChunk * (1 + len(prefix)); largest > limit {
				t.Errorf("largest write %d bytes, want at most %d: the log is not streamed", largest, limit)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*logChunk*uint64(1+len(prefix)) {
				t.Errorf("allocated %d bytes for a %d-byte log, want a bound independent of its size", alloc, size)
			}
		})
	}
}

// TestLogTailStopsWhenCancelled: a cancelled context stops the drain
// between chunks, so logs of a large log stop on Ctrl-C.
func TestLogTailStopsWhenCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.log")
	writeLog(t, path, 8<<20)
	ctx, cancel := context.WithCancel(context.Background())
	tail := newLogTail(path, "s | ")
	n := 0
	err := tail.drain(ctx, func(b []byte) error {
		n += len(b)
		cancel() // as a signal arriving mid-log
		return nil
	}, true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("drain = %v, want context.Canceled", err)
	}
	if n > 2*logChunk*5 {
		t.Errorf("wrote %d bytes after the cancellation, want at most about one chunk", n)
	}
}

const logLine = "epoch 0001 step 000123 loss=0.123456 acc=0.987654 lr=0.000100\n"

// writeLog writes a log of whole lines of about size bytes.
func writeLog(t testing.TB, path string, size int) {
	t.Helper()
	data := bytes.Repeat([]byte(logLine), size/len(logLine))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLogTail is the core of `datainsight logs`: one step's log
// written raw, and prefixed as when every step's log is shown. hack/bench-logs.sh
// times the whole command beside cat.
func BenchmarkLogTail(b *testing.B) {
	const size = 64 << 20
	path := filepath.Join(b.TempDir(), "s.log")
	writeLog(b, path, size)
	for _, prefix := range []string{"", "train | "} {
		name := "raw"
		if prefix != "" {
			name = "prefixed"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size / len(logLine) * len(logLine)))
			b.ReportAllocs()
			for b.Loop() {
				tail := newLogTail(path, prefix)
				if err := tail.drain(context.Background(), func([]byte) error { return nil }, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
