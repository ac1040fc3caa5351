package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// blocked is an input that never yields a byte, like a terminal or a pipe
// nobody writes to.
type blocked struct{ never chan struct{} }

func (b blocked) Read([]byte) (int, error) {
	<-b.never
	return 0, nil
}

// TestInterruptStopsABlockedRead: a signal (here, the context it cancels)
// stops a command even while it waits for input that does not come. The
// notebook was once read from standard input with nothing watching the
// context, so Ctrl-C, diverted to the context, did nothing at all.
func TestInterruptStopsABlockedRead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := blocked{make(chan struct{})}
	defer close(in.never)
	for _, args := range [][]string{{"analyze", "-"}, {"compile", "-"}} {
		var out, errOut bytes.Buffer
		code := Run(ctx, args, in, &out, &errOut)
		if code != exitInterrupted || !strings.Contains(errOut.String(), "datainsight: stopped") {
			t.Errorf("%s with a cancelled context: exit %d, stderr %q; want %d and a line saying it stopped", args, code, errOut.String(), exitInterrupted)
		}
	}
}
