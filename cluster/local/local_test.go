package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/clustertest"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/notebook"
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
		t.Skipf("no Python interpreter at %s: %v", p, err)
	}
	return p
}

var pipelines atomic.Int64

// compile builds a pipeline from a percent-format notebook through the
// real analyzer and generator.
func compile(t *testing.T, src, path string) *pipelinegen.Pipeline {
	t.Helper()
	data, err := nbtest.Notebook(src)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	p, err := pipelinegen.Compile(nb, an, pipelinegen.Options{NotebookPath: path})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// specNotebook writes a notebook whose steps behave as specs say; each
// step loads a value from every step it depends on.
func specNotebook(specs []clustertest.StepSpec, marker string) string {
	var b strings.Builder
	for _, s := range specs {
		fmt.Fprintf(&b, "# %%%% tags=[\"block:%s\"]\n", s.Name)
		var deps []string
		for _, a := range s.After {
			deps = append(deps, "v_"+a)
		}
		fmt.Fprintf(&b, "v_%s = [%s]\nprint(\"hello from %s\")\n", s.Name, strings.Join(deps, ", "), s.Name)
		switch s.Behavior {
		case clustertest.Fail:
			fmt.Fprintf(&b, "raise RuntimeError(\"step %s fails on purpose\")\n", s.Name)
		case clustertest.FailOnce:
			fmt.Fprintf(&b, "import os\nif not os.path.exists(%q):\n    open(%q, \"w\").close()\n    raise RuntimeError(\"first attempt fails\")\n", marker+s.Name, marker+s.Name)
		case clustertest.Hold:
			b.WriteString("import time\ntime.sleep(600)\n")
		case clustertest.Slow:
			b.WriteString("import time\ntime.sleep(1)\n")
		}
	}
	return b.String()
}

func fixture() clustertest.Fixture {
	return clustertest.Fixture{
		New: func(t *testing.T) cluster.Backend {
			return &Local{Dir: filepath.Join(t.TempDir(), "runs"), Python: python(t), WorkDir: t.TempDir(), Grace: 2 * time.Second}
		},
		Pipeline: func(t *testing.T, specs []clustertest.StepSpec) *pipelinegen.Pipeline {
			n := pipelines.Add(1)
			marker := filepath.Join(t.TempDir(), "failed-once-")
			return compile(t, specNotebook(specs, marker), fmt.Sprintf("nb-%d.ipynb", n))
		},
		Parallel: true, Retry: true, Resume: true, Cache: true, Logs: true,
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
