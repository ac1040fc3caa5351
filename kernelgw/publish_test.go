package kernelgw

import (
	"strings"
	"testing"
)

// TestLineWriterBoundsALongLine: a step printing without newlines holds at
// most about maxLine of memory, and every piece keeps the step its line
// began with, even where the rest carries no "STEP | " prefix.
func TestLineWriterBoundsALongLine(t *testing.T) {
	type got struct{ step, text string }
	var lines []got
	w := &lineWriter{emit: func(step, text string) { lines = append(lines, got{step, text}) }}
	long := strings.Repeat("x | y ", maxLine) // " | " inside: not a step name
	w.Write([]byte("train | short\ntrain | "))
	for i := 0; i < len(long); i += 4096 {
		w.Write([]byte(long[i:min(i+4096, len(long))]))
		if cap(w.partial) > 2*maxLine+4096 {
			t.Fatalf("held back %d bytes of an unended line", cap(w.partial))
		}
	}
	w.Write([]byte("\nevaluate | next\nevaluate | end"))
	w.flush()
	var text strings.Builder
	for i, l := range lines {
		if i == 0 || i >= len(lines)-2 {
			continue
		}
		if l.step != "train" {
			t.Fatalf("piece %d of the long line has step %q, want train", i, l.step)
		}
		text.WriteString(l.text)
	}
	if lines[0] != (got{"train", "short"}) || text.String() != long {
		t.Errorf("the long line did not come through whole: first %v, %d of %d bytes", lines[0], text.Len(), len(long))
	}
	if last := lines[len(lines)-2:]; last[0] != (got{"evaluate", "next"}) || last[1] != (got{"evaluate", "end"}) {
		t.Errorf("lines after the long one: %v", last)
	}
}
