package cluster

import "bytes"

// MaxPartial bounds how much of an unended line Lines holds back.
const MaxPartial = 64 << 10

// Lines turns a step's output into what a log of several steps shows:
// with a Prefix ("STEP | "), each line starts with it and goes out whole,
// so that steps followed side by side do not cut into each other's lines;
// an unended line is held back up to MaxPartial bytes, then written in
// pieces (its rest unprefixed), so that memory stays bounded on output
// without newlines. Without a prefix, bytes pass as they come (a progress
// bar redrawn with \r shows as it moves). Both backends' logs use it.
type Lines struct {
	Prefix  string
	partial []byte // with a prefix: the start of a line not yet ended
	open    bool   // part of a line is written and its rest is not
}

// Append appends to dst what chunk adds to the output and returns it.
func (l *Lines) Append(dst, chunk []byte) []byte {
	if len(chunk) == 0 {
		return dst
	}
	if l.Prefix == "" {
		l.open = chunk[len(chunk)-1] != '\n'
		return append(dst, chunk...)
	}
	for {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			break
		}
		if !l.open {
			dst = append(dst, l.Prefix...)
		}
		dst = append(append(dst, l.partial...), chunk[:i+1]...)
		l.partial, l.open, chunk = l.partial[:0], false, chunk[i+1:]
	}
	if len(l.partial)+len(chunk) > MaxPartial {
		if !l.open {
			dst = append(dst, l.Prefix...)
		}
		dst = append(append(dst, l.partial...), chunk...)
		l.partial, l.open = l.partial[:0], true
	} else {
		l.partial = append(l.partial, chunk...)
	}
	return dst
}

// End appends the end of a last line that has no newline, if any, and
// returns dst.
func (l *Lines) End(dst []byte) []byte {
	switch {
	case l.open:
		dst = append(append(dst, l.partial...), '\n')
	case len(l.partial) > 0:
		dst = append(append(append(dst, l.Prefix...), l.partial...), '\n')
	}
	l.partial, l.open = l.partial[:0], false
	return dst
}

// Held is how much memory the unended line held back takes.
func (l *Lines) Held() int { return cap(l.partial) }
