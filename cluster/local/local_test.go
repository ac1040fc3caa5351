package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/clustertest"
	"github.com/datainsight/datainsight/internal/testenv"
	"github.com/datainsight/datainsight/pipelinegen"
)

// python is the interpreter the tests run steps with: Debian's, as CI
// installs it (the pyenv python3 first on PATH starts slowly).
func python(t *testing.T) string {
	t.Helper()
	p := os.Getenv("DATAINSIGHT_PYTHON")
	if p == "" {
		p = "/usr/bin/python3"
	}
	if _, err := exec.LookPath(p); err != nil {
		testenv.Missing(t, "no Python interpreter at %s: %v", p, err)
	}
	return p
}

var pipelines atomic.Int64

// compile builds a pipeline from a percent-format notebook at path.
func compile(t *testing.T, src, path string) *pipelinegen.Pipeline {
	t.Helper()
	return clustertest.Compile(t, src, path)
}

func fixture() clustertest.Fixture {
	return clustertest.Fixture{
		New: func(t *testing.T) cluster.Backend {
			return &Local{Dir: filepath.Join(t.TempDir(), "runs"), Python: python(t), WorkDir: t.TempDir(), Grace: 2 * time.Second}
		},
		Pipeline: func(t *testing.T, specs []clustertest.StepSpec) *pipelinegen.Pipeline {
			n := pipelines.Add(1)
			marker := filepath.Join(t.TempDir(), "failed-once-")
			return compile(t, clustertest.Notebook(specs, nil, marker), fmt.Sprintf("nb-%d.ipynb", n))
		},
		Parallel: true, Retry: true, Resume: true, Cache: true, Logs: true, Reports: true,
		AfterCancel: func(t *testing.T, r *cluster.Run) {
			// No process of the run may be left: look for any command
			// line mentioning its step scripts.
			time.Sleep(100 * time.Millisecond)
			procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range procs {
				data, err := os.ReadFile(p)
				if err == nil && strings.Contains(string(data), r.ID+"/"+scriptsDir) {
					t.Errorf("process %s of cancelled run %s still running: %q", p, r.ID, data)
				}
			}
		},
	}
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 processes")
	}
	clustertest.Run(t, fixture())
}
