package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the datainsight command in the test binary
// itself, so scripts exercise exactly what users run.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"datainsight": func() { os.Exit(Main()) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DATAINSIGHT_PYTHON", "/usr/bin/python3")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":      cmdExits,
			"waitfile":   cmdWaitFile,
			"noproc":     cmdNoProc,
			"killrunner": cmdKillRunner,
		},
		UpdateScripts: os.Getenv("UPDATE_GOLDEN") != "",
	})
}

// cmdExits runs a program and checks its exit code, which `exec` and
// `! exec` cannot tell apart beyond zero and non-zero:
//
//	exits 2 datainsight analyze a.ipynb b.ipynb
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "DATAINSIGHT_PYTHON", "DATAINSIGHT_RUNS_DIR", "KUBECONFIG", "DATAINSIGHT_NAMESPACE", "DATAINSIGHT_MAX_NOTEBOOK_BYTES"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	ts.Stdout().Write(stdout.Bytes())
	ts.Stderr().Write(stderr.Bytes())
	if got != want {
		ts.Fatalf("exit code %d, want %d\nstderr: %s", got, want, stderr.String())
	}
}

// cmdWaitFile waits (up to 30s) until a file matching a glob contains a
// match of a regular expression:
//
//	waitfile runs/*/run.json '"phase": "Running"'
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile GLOB REGEXP")
	}
	re := regexp.MustCompile(args[1])
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		paths, _ := filepath.Glob(ts.MkAbs(args[0]))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil && re.Match(data) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("no file matching %s contains %q after 30s", args[0], args[1])
}

// cmdNoProc fails if a process whose command line contains the text is
// running (after a short grace for exits in flight).
func cmdNoProc(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: noproc TEXT")
	}
	text := ts.MkAbs(args[0])
	var found string
	for i := 0; i < 40; i++ {
		found = ""
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), text) {
				found = p + ": " + strings.ReplaceAll(string(data), "\x00", " ")
			}
		}
		if found == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("a process is still running: %s", found)
}

// cmdKillRunner SIGKILLs the runner process of a local run, as a crash
// would, and waits for it to be gone.
func cmdKillRunner(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: killrunner RUN_DIR")
	}
	data, err := os.ReadFile(filepath.Join(ts.MkAbs(args[0]), "run.json"))
	ts.Check(err)
	var st struct {
		PID int `json:"runner_pid"`
	}
	ts.Check(json.Unmarshal(data, &st))
	if st.PID == 0 {
		ts.Fatalf("run has no runner pid")
	}
	ts.Check(syscall.Kill(st.PID, syscall.SIGKILL))
	for i := 0; i < 100; i++ {
		if syscall.Kill(st.PID, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
