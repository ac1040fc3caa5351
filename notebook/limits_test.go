package notebook

import (
	"context"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestParseDurationRange: durations beyond time.Duration's range, NaN and
// negative ones are each named as such. They were once converted blindly
// and came out "negative" (200000d, 106752d, NaNd, 1e300 seconds).
func TestParseDurationRange(t *testing.T) {
	for in, want := range map[string]string{
		"200000d":                  "too long",
		"106752d":                  "too long",
		"2562048h":                 "too long",
		"2562047h47m16.854775808s": "too long",
		"106751d24h":               "too long",
		"99999999999999999999999999999999999999999999d": "too long",
		"infd":  "too long",
		"NaNd":  "NaN is not a number of days",
		"nand":  "NaN is not a number of days",
		"-1d":   "negative",
		"-5m":   "negative",
		"1d-5h": "use e.g.",
		"1e3d":  "use e.g.",
		"0x10d": "use e.g.",
		"d":     "use e.g.",
		"":      "use e.g.",
		"-":     "use e.g.",
		"5":     "use e.g.",
		"1..5d": "use e.g.",
	} {
		d, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want an error saying %q", in, time.Duration(d), err, want)
		}
	}
	for in, want := range map[string]time.Duration{
		"2d":                         48 * time.Hour,
		"1.5d":                       36 * time.Hour,
		".5d":                        12 * time.Hour,
		"1d12h":                      36 * time.Hour,
		"90s":                        90 * time.Second,
		"+1h":                        time.Hour,
		"0":                          0,
		"-0s":                        0,
		"0d":                         0,
		"2562047h47m16.854775807s":   math.MaxInt64,
		"106751d23h47m16.854775807s": math.MaxInt64,
	} {
		if d, err := ParseDuration(in); err != nil || time.Duration(d) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
}

// TestDurationJSONRange: a number of seconds in metadata is checked
// before it is converted (1e300 came out negative).
func TestDurationJSONRange(t *testing.T) {
	for in, want := range map[string]string{
		"1e300":  "too long",
		"1e999":  "too long",
		"9.3e9":  "too long",
		"-1":     "negative",
		"-1e300": "negative",
	} {
		var d Duration
		if err := d.UnmarshalJSON([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("UnmarshalJSON(%s) = %v, %v; want an error saying %q", in, time.Duration(d), err, want)
		}
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte("90.5")); err != nil || time.Duration(d) != 90500*time.Millisecond {
		t.Errorf("UnmarshalJSON(90.5) = %v, %v", time.Duration(d), err)
	}
}

// TestDurationSecondsNearTheLimit: rounding up must not overflow into a
// negative number of seconds (what a workflow's timeout is made of).
func TestDurationSecondsNearTheLimit(t *testing.T) {
	for d, want := range map[Duration]int64{
		Duration(math.MaxInt64):   math.MaxInt64/int64(time.Second) + 1,
		Duration(time.Second):     1,
		Duration(time.Second + 1): 2,
		Duration(1):               1,
		0:                         0,
	} {
		if got := d.Seconds(); got != want {
			t.Errorf("Duration(%d).Seconds() = %d, want %d", int64(d), got, want)
		}
	}
}

// TestParseLiteralBigInt: Python ints are unbounded, so an integer literal
// stays an int with every digit (it was read as a float and lost them),
// within the 4300 decimal digits Python itself reads.
func TestParseLiteralBigInt(t *testing.T) {
	for src, want := range map[string]string{
		"123456789012345678901234567890":  "123456789012345678901234567890",
		"-123456789012345678901234567890": "-123456789012345678901234567890",
		"9223372036854775807":             "9223372036854775807",
		"9223372036854775808":             "9223372036854775808",
		"-9223372036854775808":            "-9223372036854775808",
		"1_000_000_000_000_000_000_000":   "1000000000000000000000",
		"0xFFFFFFFFFFFFFFFFFFFF":          "1208925819614629174706175",
		"[1, 99999999999999999999999]":    "[1, 99999999999999999999999]",
		strings.Repeat("9", maxIntDigits): strings.Repeat("9", maxIntDigits),
	} {
		l, err := ParseLiteral(src)
		if err != nil || l.Type != "int" && l.Type != "list" || l.Python() != want {
			t.Errorf("ParseLiteral(%.40q) = %s %.40s, %v; want int %.40s", src, l.Type, l.Python(), err, want)
		}
	}
	if l, _ := ParseLiteral("-9223372036854775808"); l.Value != int64(math.MinInt64) {
		t.Errorf("-2^63 is %T, want int64", l.Value)
	}
	// Past Python's digit limit a decimal int is refused, as the steps
	// would refuse it; a hex one is printed back in hex, which Python reads
	// at any length.
	if _, err := ParseLiteral(strings.Repeat("9", maxIntDigits+1)); err == nil || !strings.Contains(err.Error(), "4300 digits") {
		t.Errorf("a %d-digit int: %v, want an error naming the limit", maxIntDigits+1, err)
	}
	hex := "0x" + strings.Repeat("f", 4000)
	l, err := ParseLiteral(hex)
	if err != nil || l.Python() != hex {
		t.Errorf("ParseLiteral(4000 hex digits) = %.20s…, %v; want it back in hex", l.Python(), err)
	}
	if n, ok := l.Value.(*big.Int); !ok || n.BitLen() != 16000 {
		t.Errorf("value %T, want a 16000-bit *big.Int", l.Value)
	}
}

func TestParseLiteralRefusesWhatPythonRefuses(t *testing.T) {
	for _, src := range []string{
		`{(1, [2]): 3}`, // unhashable key inside a tuple: TypeError in Python
		`{((1,), {}): 3}`,
		`1e999`, // Python reads inf, which no literal can carry back
		`-1e999`,
	} {
		if l, err := ParseLiteral(src); err == nil {
			t.Errorf("ParseLiteral(%q) = %s, want an error", src, l.Python())
		}
	}
	if l, err := ParseLiteral(`{(1, (2, "x")): 3}`); err != nil {
		t.Errorf("a tuple of hashables as a key: %v (%s)", err, l.Python())
	}
}

// endless is an input that never ends, like /dev/zero or `yes`.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "y\n"[i%2]
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestReadLimit: an endless input is refused once it passes the limit,
// with an error naming it and the limit, and is not read much further.
func TestReadLimit(t *testing.T) {
	const limit = 3<<20 + 7
	in := &endless{}
	_, err := Read(context.Background(), in, "<stdin>", limit)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) || tl.Limit != limit || tl.Name != "<stdin>" {
		t.Fatalf("Read(endless) = %v, want a TooLargeError for <stdin> at %d", err, limit)
	}
	if !strings.Contains(err.Error(), "<stdin>") || !strings.Contains(err.Error(), "3145735 bytes") {
		t.Errorf("message %q names neither the input nor the limit", err)
	}
	if in.n > limit+readChunk {
		t.Errorf("read %d bytes for a limit of %d", in.n, limit)
	}

	// A file says its size: refused before it is read.
	path := filepath.Join(t.TempDir(), "big.ipynb")
	nb := []byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)
	if err := os.WriteFile(path, append(nb, strings.Repeat(" ", 1<<20)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), path, 1<<20); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "(1 MiB)") {
		t.Errorf("Load(2 MiB file, 1 MiB limit) = %v, want ErrTooLarge naming the path and 1 MiB", err)
	}
	if _, err := Load(context.Background(), path, 2<<20); err != nil {
		t.Errorf("Load within the limit: %v", err)
	}
	// Exactly at the limit is within it.
	exact := int64(len(nb) + 1<<20)
	if _, err := Read(context.Background(), strings.NewReader(string(nb)+strings.Repeat(" ", 1<<20)), "x", exact); err != nil {
		t.Errorf("Read of exactly the limit: %v", err)
	}
	if _, err := Read(context.Background(), strings.NewReader(string(nb)+strings.Repeat(" ", 1<<20)), "x", exact-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read of one byte over the limit: %v", err)
	}
	// The default applies when no limit is given, to ReadFile too.
	if _, err := Read(context.Background(), &endless{}, "y", 0); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "(256 MiB)") {
		t.Errorf("Read without a limit = %v, want the 256 MiB default", err)
	}
}

func TestReadStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, &endless{}, "<stdin>", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %v", err)
	}
}

// TestParseLiteralAdjacentStrings: adjacent string literals concatenate in
// work proportional to their length. Each piece once recursed and copied
// all that followed it: quadratic in the number of pieces.
func TestParseLiteralAdjacentStrings(t *testing.T) {
	const n = 20000
	src := strings.Repeat(`"ab" 'c'`+"\\\n", n) + `r"\d"`
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := ParseLiteral(src)
	runtime.ReadMemStats(&after)
	if err != nil || l.Value != strings.Repeat("abc", n)+`\d` {
		t.Fatalf("ParseLiteral(%d adjacent strings) = %.20q…, %v", 2*n+1, l.Value, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64*uint64(len(src)) {
		t.Errorf("allocated %d bytes for %d bytes of literal: not linear", alloc, len(src))
	}
}
