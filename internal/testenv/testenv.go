// Package testenv says what tests need from the machine they run on.
//
// A test whose optional tool is missing (Debian's python3 and its
// packages, the Kubernetes test stack) skips, so that `go test` works on a
// bare machine; but a skip is not a pass. `make test` and CI install
// everything first and set RequireTools, and there a missing tool fails
// the test instead.
//
// Tests about permissions cannot see them as root, where CI runs:
// Unprivileged runs such a test again as an unprivileged user.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// RequireTools, set in the environment, turns Missing's skips into failures.
const RequireTools = "DATAINSIGHT_REQUIRE_TOOLS"

// childEnv marks the process Unprivileged starts.
const childEnv = "DATAINSIGHT_TESTENV_UNPRIVILEGED"

// Missing skips t because a tool it needs is missing, or fails it where
// the tools are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireTools) != "" {
		t.Fatalf(format+" (%s is set: hack/install-deps.sh and hack/stack/build.sh install what the tests need)", append(args, RequireTools)...)
	}
	t.Skipf(format, args...)
}

// Unprivileged reports whether the caller should run its test body: yes
// when the process is not root. As root, it runs the test (a subtest
// included) again in a copy of the test binary as user nobody, fails t
// with the child's output unless it passed, and reports no.
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	if os.Getenv(childEnv) != "" {
		t.Fatal("testenv: the child meant to run as user nobody still runs as root")
	}
	// The test binary lives in Go's private build folder: nobody needs a
	// copy it can reach, in a folder of its own to run in.
	dir, err := os.MkdirTemp("", "datainsight-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "test")
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, part := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(bin, "-test.run="+strings.Join(run, "/"), "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "TMPDIR="+dir, childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	// "--- PASS: <name>" and no skip: the test really ran, as nobody.
	passed := strings.Contains(string(out), "--- PASS: "+t.Name()+" ") && !strings.Contains(string(out), "--- SKIP")
	if err != nil || !passed {
		t.Fatalf("as user nobody (uid 65534), %s did not pass (%v):\n%s", t.Name(), err, out)
	}
	return false
}
