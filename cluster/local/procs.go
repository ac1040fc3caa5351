package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// stepEnv marks every process a step starts: its value is "RUN/STEP". A
// step's process group does not hold all it started — a child may make a
// session of its own (start_new_session=True, setsid, a daemon), and once
// the step or the runner is gone its orphans belong to no one — but they
// all inherit the environment, so the marker finds the whole tree, even
// after the runner that started it was killed.
const stepEnv = "DATAINSIGHT_LOCAL_STEP"

func stepMarker(run, step string) string { return run + "/" + step }

// markedProcs returns the processes whose environment says they belong to
// a step of run (step "" for any step of it).
func markedProcs(run, step string) []int {
	want := []byte(stepEnv + "=" + stepMarker(run, step))
	prefix := step == ""
	self := os.Getpid()
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) || prefix && bytes.HasPrefix(kv, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// signalTree sends sig to a step's process group (pgid > 0; what it
// started that cleared its environment is still in it) and to every
// process marked as the step's. It reports how many marked processes it
// found.
func signalTree(pgid int, run, step string, sig syscall.Signal) int {
	if pgid > 0 {
		syscall.Kill(-pgid, sig)
	}
	pids := markedProcs(run, step)
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
	return len(pids)
}

// killTree kills a step's processes (or a run's, with step "") and waits
// a little for them to be gone: a process may fork while it is being
// killed, so it looks again until it finds none.
func killTree(pgid int, run, step string) {
	for i := 0; i < 50; i++ {
		if signalTree(pgid, run, step, syscall.SIGKILL) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
