package kubestack

import (
	"os/exec"
	"strings"
	"testing"
)

// The build script and this package must agree on where the binaries are.
func TestBinDirMatchesEnvScript(t *testing.T) {
	for _, cache := range []string{"", "/tmp/kubestack-cache-test"} {
		t.Setenv("DATAINSIGHT_STACK_BIN", "")
		t.Setenv("DATAINSIGHT_CACHE", cache)
		out, err := exec.Command("bash", "-c", `unset DATAINSIGHT_STACK_BIN; [ -n "$DATAINSIGHT_CACHE" ] || unset DATAINSIGHT_CACHE; . ../../hack/stack/env.sh && echo "$STACK_BIN"`).Output()
		if err != nil {
			t.Fatalf("hack/stack/env.sh: %v", err)
		}
		if got, want := strings.TrimSpace(string(out)), BinDir(); got != want {
			t.Errorf("DATAINSIGHT_CACHE=%q: env.sh says %s, BinDir() %s", cache, got, want)
		}
	}
}

func TestNamespacePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"TestStack/Succeeded":   "teststack-succeeded-",
		"Test_x__y":             "test-x-y-",
		"///":                   "test-",
		strings.Repeat("a", 70): strings.Repeat("a", 50) + "-",
	} {
		if got := namespacePrefix(in); got != want {
			t.Errorf("namespacePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKillSignal(t *testing.T) {
	for _, c := range []struct {
		cmd  []string
		sig  int
		kill bool
	}{
		{[]string{"/var/run/argo/argoexec", "kill", "15", "1"}, 15, true},
		{[]string{"/bin/sh", "-c", "kill -9 1"}, 9, true},
		{[]string{"ls"}, 0, false},
		{[]string{"/bin/sh", "-c", "kill -9 12"}, 0, false},
	} {
		sig, ok := killSignal(c.cmd)
		if sig != c.sig || ok != c.kill {
			t.Errorf("killSignal(%q) = %d, %v; want %d, %v", c.cmd, sig, ok, c.sig, c.kill)
		}
	}
}
