package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/notebook"
)

// maxBytesEnv sets the notebook size limit when the flag does not.
const maxBytesEnv = "DATAINSIGHT_MAX_NOTEBOOK_BYTES"

// readFlags say how a command that reads a notebook reads it: no larger
// than maxBytes (the flag, else the environment, else the default).
type readFlags struct {
	maxBytes int64
}

func (f *readFlags) add(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&f.maxBytes, "max-notebook-bytes", 0,
		fmt.Sprintf("refuse a notebook larger than this many bytes (default $%s, else %d: 256 MiB)", maxBytesEnv, notebook.DefaultMaxBytes))
}

// limit is the size limit the flags and the environment set, validated.
func (f *readFlags) limit() (int64, error) {
	if f.maxBytes < 0 {
		return 0, usagef("--max-notebook-bytes %d: must be a positive number of bytes", f.maxBytes)
	}
	if f.maxBytes > 0 {
		return f.maxBytes, nil
	}
	v := os.Getenv(maxBytesEnv)
	if v == "" {
		return notebook.DefaultMaxBytes, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, usagef("%s=%q: must be a positive number of bytes", maxBytesEnv, v)
	}
	return n, nil
}

// loadNotebook reads a notebook from its path, or from stdin for "-",
// no larger than the flags allow. Ctrl-C stops it even while a read
// blocks (an idle pipe): the read is then abandoned to end with the
// process.
func loadNotebook(ctx context.Context, s *streams, ref notebookRef, rf *readFlags) (*notebook.Notebook, error) {
	limit, err := rf.limit()
	if err != nil {
		return nil, err
	}
	type result struct {
		nb  *notebook.Notebook
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if ref.stdin() {
			r.nb, r.err = notebook.Read(ctx, s.in, "<stdin>", limit)
		} else {
			r.nb, r.err = notebook.Load(ctx, ref.Arg, limit)
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("reading %s: %w", ref.Arg, ctx.Err())
	}
	if errors.Is(r.err, notebook.ErrTooLarge) {
		return nil, fmt.Errorf("%w (raise it with --max-notebook-bytes or %s)", r.err, maxBytesEnv)
	}
	return r.nb, r.err
}
