package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The image cannot be built here (no container engine), so this keeps the
// Dockerfile's build honest: it must build the binary exactly as the
// Makefile does.
func TestDockerfileBuildMatchesMakefile(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	makeLine := buildLine(t, string(mk), "Makefile")
	dockerLine := buildLine(t, strings.TrimPrefix(string(df), "RUN "), "Dockerfile")
	if makeLine != dockerLine {
		t.Errorf("the build commands differ:\n  Makefile:   %s\n  Dockerfile: %s", makeLine, dockerLine)
	}
	if !strings.Contains(makeLine, "CGO_ENABLED=1") {
		t.Errorf("tree-sitter needs cgo: %s", makeLine)
	}
}

var goBuildRE = regexp.MustCompile(`(?m)^\s*(?:RUN\s+)?(CGO_ENABLED=\S+\s+\S+\s+build\s.*)$`)

// buildLine finds the `go build` command of a file, with the spellings of
// make and shell variables made the same.
func buildLine(t *testing.T, text, name string) string {
	t.Helper()
	m := goBuildRE.FindAllStringSubmatch(text, -1)
	if len(m) != 1 {
		t.Fatalf("%s: want exactly one `CGO_ENABLED=… go build` line, found %d", name, len(m))
	}
	line := m[0][1]
	line = strings.ReplaceAll(line, "$(GO)", "go")
	line = regexp.MustCompile(`\$\((\w+)\)|\$\{(\w+)\}`).ReplaceAllString(line, "$$$1$2")
	return strings.Join(strings.Fields(line), " ")
}
