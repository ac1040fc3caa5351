package kubestack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/testenv"
)

// One stack per test binary, for packages with many tests: starting one
// takes 15–30 s here, a namespace per test keeps them apart.
var shared struct {
	once  sync.Once
	stack *Stack
	err   error
}

// Shared returns the test binary's one stack, starting it on first use; it
// skips and fails as Start does. Call Main from TestMain to stop it after the
// tests (else its processes die with the test binary and its directory is
// removed by the next stack started on this machine).
func Shared(t testing.TB) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("kubestack: a real Kubernetes + Argo stack is skipped with -short")
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.stack, shared.err = New(ctx, Options{})
	})
	if errors.Is(shared.err, ErrNotBuilt) {
		testenv.Missing(t, "kubestack: %v", shared.err)
	}
	if shared.err != nil {
		t.Fatalf("kubestack: %v", shared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kubestack: the shared stack's logs:%s", shared.stack.LogTails())
		}
	})
	return shared.stack
}

// Main runs the tests, then stops the shared stack if one was started:
//
//	func TestMain(m *testing.M) { kubestack.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.stack != nil {
		if err := shared.stack.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "kubestack: stop: %v\n", err)
		}
	}
	os.Exit(code)
}
