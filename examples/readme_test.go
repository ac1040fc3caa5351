package examples_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datainsight/datainsight/internal/testenv"
)

// TestReadmeCommands types what README.md tells a user to type, exactly as
// written, in a fresh copy of the repository that sits in a folder whose
// name has a space, with nothing beside it: `make run` (twice: the second
// run comes from the cache), `make run EXAMPLE=…`, and every local
// `datainsight` command in the README's code blocks. Then the ways a user
// names a notebook: relative from another folder, absolute, with `..`,
// and `-` from standard input.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs notebooks")
	}
	for _, tool := range []string{"git", "make", python} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s not found: %v", tool, err)
		}
	}
	if err := exec.Command(python, "-c", "import numpy, pandas, sklearn").Run(); err != nil {
		testenv.Missing(t, "%s lacks numpy/pandas/scikit-learn (hack/install-deps.sh installs them): %v", python, err)
	}
	repo := freshCopy(t, filepath.Join(t.TempDir(), "a fresh clone"))

	out := shell(t, repo, "make run")
	wantSucceeded(t, "make run", out)
	if !strings.Contains(out, "iris") {
		t.Errorf("make run did not run examples/iris.ipynb:\n%s", out)
	}
	again := shell(t, repo, "make run")
	wantSucceeded(t, "make run (again)", again)
	if !strings.Contains(again, "(6 of 6 steps cached)") {
		t.Errorf("the second make run should reuse every step from the cache:\n%s", again)
	}
	wantSucceeded(t, "make run EXAMPLE=examples/wordcount.ipynb", shell(t, repo, "make run EXAMPLE=examples/wordcount.ipynb"))

	// The README's own examples. `datainsight` is what a user has on PATH
	// after `make build`; the Argo lines need a cluster and are run by the
	// cluster tests.
	bin := filepath.Join(repo, "bin")
	cmds := readmeCommands(t, filepath.Join(repo, "README.md"))
	ran := 0
	for _, c := range cmds {
		if strings.Contains(c.line, "--backend argo") {
			continue
		}
		ran++
		if strings.Contains(c.line, "datainsight serve") {
			readmeServe(t, repo, bin, c)
			continue
		}
		out := shell(t, repo, "PATH="+shellQuote(bin)+":$PATH "+c.line)
		for _, want := range c.output {
			if !strings.Contains(out, want) {
				t.Errorf("README: %s\nshows %q, but it printed:\n%s", c.line, want, out)
			}
		}
	}
	if ran < 2 {
		t.Fatalf("found only %d local datainsight commands in README.md: %v", ran, cmds)
	}

	// Other ways of naming a notebook. Each run must succeed in full, its
	// steps in the notebook's folder whatever the current one.
	abs := filepath.Join(repo, "examples", "wordcount.ipynb")
	for _, c := range []struct{ dir, cmd string }{
		{repo, "bin/datainsight run ./examples/wordcount.ipynb --python " + python},
		{repo, "bin/datainsight run " + shellQuote(abs) + " --python " + python},
		{filepath.Join(repo, "cmd"), "../bin/datainsight run ../examples/wordcount.ipynb --python " + python},
		{repo, "bin/datainsight run cmd/../examples/iris.ipynb --python " + python},
		{repo, "bin/datainsight run - --python " + python + " < examples/wordcount.ipynb"},
		{filepath.Join(repo, "examples"), "../bin/datainsight run --no-cache wordcount.ipynb --python " + python},
	} {
		wantSucceeded(t, c.cmd, shell(t, c.dir, c.cmd))
	}
	// Records go beside the notebook, for every spelling of its path.
	if _, err := os.Stat(filepath.Join(repo, "examples", ".datainsight", "runs")); err != nil {
		t.Errorf("no runs recorded beside the notebook: %v", err)
	}
	if _, err := os.Stat(filepath.Join(repo, "examples", "examples")); err == nil {
		t.Errorf("a run made examples/examples: a path was taken relative to the wrong folder")
	}
	out = shell(t, repo, "bin/datainsight runs examples/wordcount.ipynb")
	if n := strings.Count(out, "Succeeded"); n < 5 {
		t.Errorf("runs examples/wordcount.ipynb lists %d succeeded runs, want every run made under any spelling of its path (≥ 5):\n%s", n, out)
	}
}

// wantSucceeded fails t unless a run's output says it succeeded with no
// failed step.
// readmeServe runs the README's `datainsight serve` as a user would, in a
// home of its own (the README's /home/me, and /run/user/1000 its runtime
// folder), until it prints what the README shows; then Ctrl-C stops it,
// cleanly, and its token file goes with it.
func readmeServe(t *testing.T, repo, bin string, c readmeCommand) {
	t.Helper()
	home, runtime := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "notebooks"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", "exec "+c.line)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "HOME="+home, "XDG_RUNTIME_DIR="+runtime)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var want []string
	for _, l := range c.output {
		l = strings.ReplaceAll(l, "/home/me", home)
		want = append(want, strings.ReplaceAll(l, "/run/user/1000", runtime))
	}
	deadline := time.Now().Add(30 * time.Second)
	for !containsAll(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("README: %s\nshows %q, but it printed:\n%s", c.line, want, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	token := filepath.Join(runtime, "datainsight", "datainsight-8899.json")
	if _, err := os.Stat(token); err != nil {
		t.Errorf("README: %s: no token file where it says: %v", c.line, err)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("README: %s stopped with Ctrl-C: %v\n%s", c.line, err, out.String())
	}
	if _, err := os.Stat(token); err == nil {
		t.Errorf("README: %s left its token file behind", c.line)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// syncBuffer is a bytes.Buffer a running command writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func wantSucceeded(t *testing.T, what, out string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^run \S+ succeeded`).MatchString(out) || strings.Contains(out, "failed") {
		t.Errorf("%s: the run did not succeed:\n%s", what, out)
	}
}

// shell runs a command line as a user types it, in dir, and returns what
// it printed; a non-zero exit fails t.
func shell(t *testing.T, dir, line string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("(in %s) %s: %v\n%s", dir, line, err, out)
	}
	return string(out)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// freshCopy copies the repository's files (what a clone has: tracked and
// not ignored) into dir, nothing else.
func freshCopy(t *testing.T, dir string) string {
	t.Helper()
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		testenv.Missing(t, "the README test copies the repository with git: %v", err)
	}
	root := strings.TrimSpace(string(top))
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if err != nil {
			continue // deleted in the work tree, not yet in the index
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readmeCommand is a command line from the README's code blocks, with the
// output lines shown under it (a `$ ` example), up to a `...`.
type readmeCommand struct {
	line   string
	output []string
}

// readmeCommands returns the datainsight command lines a user would type
// from the README: every one in a ```sh block, and every `$ ` example
// line elsewhere (the synopsis block's lines, with their placeholders,
// are neither).
func readmeCommands(t *testing.T, path string) []readmeCommand {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmdLine := regexp.MustCompile(`^(\$ )?((bin/)?datainsight\s.*)$`)
	var cmds []readmeCommand
	inBlock, isSh, shown := false, false, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inBlock, isSh, shown = !inBlock, strings.TrimPrefix(line, "```") == "sh", false
			continue
		}
		if !inBlock {
			continue
		}
		m := cmdLine.FindStringSubmatch(line)
		if m == nil || (m[1] == "" && !isSh) {
			if shown && strings.TrimSpace(line) == "..." {
				shown = false
			} else if shown && strings.TrimSpace(line) != "" {
				c := &cmds[len(cmds)-1]
				c.output = append(c.output, line)
			}
			continue
		}
		c := m[2]
		if i := strings.Index(c, " #"); i >= 0 {
			c = c[:i]
		}
		cmds = append(cmds, readmeCommand{line: strings.TrimSpace(c)})
		shown = m[1] != ""
	}
	return cmds
}
