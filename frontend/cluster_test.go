package frontend_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/internal/kubestack"
	"github.com/datainsight/datainsight/internal/testenv"
)

// TestPanelRunsOnTheCluster drives the panel in headless Chromium
// (e2e/cluster.mjs) against a Jupyter server whose sidecar is configured
// for the real Kubernetes + Argo test stack: the run the user starts from
// the panel is an Argo Workflow, followed live to its end in the panel and
// in the cells. Here, and not in the UI tests, because the stack is
// started by Go.
func TestPanelRunsOnTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the test stack, a Jupyter server and Chromium")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not on PATH (Node.js 20 or later)")
	}
	for _, need := range []string{
		"/usr/bin/chromium",
		filepath.Join(repo, "frontend", "app", "build", "static", "bundle.js"),
		filepath.Join(repo, "frontend", "node_modules", "playwright-core", "package.json"),
	} {
		if _, err := os.Stat(need); err != nil {
			testenv.Missing(t, "%s is missing (hack/install-deps.sh and hack/frontend/build.sh make it)", need)
		}
	}

	stack := kubestack.Start(t)
	ns := stack.Namespace(t)
	stack.RunTaskResults(t, ns)

	bin := filepath.Join(t.TempDir(), "datainsight")
	build := exec.Command("go", "build", "-o", bin, "./cmd/datainsight")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	out := filepath.Join(repo, "frontend", "test-output", "ui-cluster")
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--test", "--test-concurrency=1", filepath.Join("frontend", "e2e", "cluster.mjs"))
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"DATAINSIGHT_BIN="+bin,
		"KUBECONFIG="+stack.Kubeconfig,
		"DATAINSIGHT_NAMESPACE="+ns,
		"DATAINSIGHT_UI_OUT="+out,
	)
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the browser test failed: %v\n%s", err, log)
	}
	if !strings.Contains(string(log), "# pass 1") || !strings.Contains(string(log), "# fail 0") {
		t.Fatalf("the browser test did not report one pass and no failure:\n%s", log)
	}
	t.Logf("%s\nscreenshots in %s", log, out)
}
