package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingChild is what TestMissing runs in a child process.
func TestMissingChild(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "" {
		return
	}
	Missing(t, "no %s here", "frobnicator")
}

func TestMissing(t *testing.T) {
	for _, c := range []struct {
		require bool
		want    string
	}{
		{false, "--- SKIP: TestMissingChild"},
		{true, "--- FAIL: TestMissingChild"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingChild$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", RequireTools+"=")
		if c.require {
			cmd.Env = append(cmd.Env, RequireTools+"=1")
		}
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "no frobnicator here") {
			t.Errorf("required=%v: want %q:\n%s", c.require, c.want, out)
		}
	}
}
