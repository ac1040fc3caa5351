package notebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// CellType is a cell's nbformat cell_type.
type CellType string

const (
	Code     CellType = "code"
	Markdown CellType = "markdown"
	Raw      CellType = "raw"
)

// Cell is the part of a notebook cell Datainsight reads. The cell's full JSON
// (outputs, attachments, unknown metadata) stays in the Notebook's bytes.
type Cell struct {
	Index  int      // position in the notebook's cells array, markdown included
	ID     string   // nbformat 4.5 cell id; "" in older notebooks
	Type   CellType //
	Source string   // the joined source
	Tags   []string // metadata.tags, in order
}

// Notebook is a parsed nbformat v4 notebook. Parse keeps the original bytes:
// Bytes returns them unchanged until SetTags or SetMetadata edits a part, and
// then only that part's bytes change.
type Notebook struct {
	Format      int // nbformat
	FormatMinor int // nbformat_minor
	Cells       []Cell

	// Language is the notebook's kernel language, lower-case ("python", "r",
	// ...), from metadata.kernelspec.language or metadata.language_info.name;
	// "" when the notebook names none.
	Language string

	// Metadata holds the notebook-level metadata object, key by key, raw.
	Metadata map[string]json.RawMessage

	doc *document // the original bytes and the spans edits replace
}

// DefaultMaxBytes is how large a notebook Load, Read and ReadFile accept
// unless told otherwise. Real notebooks, embedded images and outputs
// included, stay far below it; without a bound, a path like /dev/zero or
// an endless pipe would be read until memory ran out.
const DefaultMaxBytes int64 = 256 << 20

// ErrTooLarge is matched (errors.Is) by the error for a notebook larger
// than the limit it was read with.
var ErrTooLarge = errors.New("notebook too large")

// TooLargeError is the error for a notebook larger than the limit.
type TooLargeError struct {
	Name  string // the path, or what the notebook was read from
	Limit int64  // bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: the notebook is larger than the limit of %s", e.Name, byteSize(e.Limit))
}

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// byteSize prints n exactly, with a readable size beside it when it is a
// whole number of KiB, MiB or GiB.
func byteSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d bytes (%d %s)", n, n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// Load reads and parses the notebook at path, refusing one larger than
// limit bytes (DefaultMaxBytes when limit <= 0).
func Load(ctx context.Context, path string, limit int64) (*Notebook, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read notebook: %w", err)
	}
	defer f.Close()
	return Read(ctx, f, path, limit)
}

// Read reads a notebook from r and parses it; name (a path, or "<stdin>")
// starts its errors. A notebook larger than limit bytes (DefaultMaxBytes
// when limit <= 0) is refused as soon as the limit is passed, without
// reading the rest. ctx is checked between reads; a read that blocks (an
// idle pipe) is the caller's to abandon.
func Read(ctx context.Context, r io.Reader, name string, limit int64) (*Notebook, error) {
	data, err := readLimited(ctx, r, name, limit)
	if err != nil {
		return nil, err
	}
	nb, err := parseOwned(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return nb, nil
}

// readChunk is how much one read asks for: a bound on how late a
// cancellation is seen, and on how much more than needed is allocated.
const readChunk = 1 << 20

func readLimited(ctx context.Context, r io.Reader, name string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	// A regular file says its size: allocate once, or refuse before reading.
	var buf []byte
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if fi.Size() > limit {
				return nil, &TooLargeError{Name: name, Limit: limit}
			}
			buf = make([]byte, 0, fi.Size()+1) // +1: room to see the end
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if len(buf) == cap(buf) {
			// Grow by doubling, but never past limit+1: one byte beyond the
			// limit is all it takes to know the notebook is too large.
			buf = slices.Grow(buf, int(min(max(int64(cap(buf)), readChunk), limit+1-int64(len(buf)))))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+readChunk)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{Name: name, Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
	}
}
