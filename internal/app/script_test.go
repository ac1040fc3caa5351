package app

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

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
			"exits": cmdExits,
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
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "DATAINSIGHT_PYTHON", "DATAINSIGHT_RUNS_DIR"} {
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
