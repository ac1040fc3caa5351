package pipelinegen

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/internal/testenv"
)

func TestToPython(t *testing.T) {
	cases := []struct{ in, want string }{
		{"!ls -l", `_di.sh("ls -l")`},
		{"  !pip list", `  _di.sh("pip list")`},
		{"files = !ls *.csv", `files = _di.getoutput("ls *.csv")`},
		{"%time x = f()", "x = f()"},
		{"%timeit -n 10 -r 3 f()", "f()"},
		{"%time", "pass"},
		{"%matplotlib inline", "pass  # %matplotlib is not needed outside the kernel"},
		{"%env MODE=fast", `_di.setenv("MODE=fast")`},
		{"%pip install -q pandas", `_di.sh("\"$DATAINSIGHT_PYTHON_EXE\" -m pip install -q pandas")`},
		{"%cd data", `_di.chdir("data")`},
		{"%who", `_di.line_magic("who", "", globals())`},
		{"names = %who_ls", `names = _di.line_magic("who_ls", "", globals())`},
		{"df?", "pass  # help: df?"},
		{"x = 1", "x = 1"},
		{"print('!not a shell line')", "print('!not a shell line')"},
		{"s = \"\"\"\n!inside a string\n%also\n\"\"\"", "s = \"\"\"\n!inside a string\n%also\n\"\"\""},
		{"total = (1 +\n  !2)", "total = (1 +\n  !2)"},
		{"if ok:\n    !echo yes\nelse:\n    %time y = 2", "if ok:\n    _di.sh(\"echo yes\")\nelse:\n    y = 2"},
		{"x = 5 % 3", "x = 5 % 3"},
	}
	for _, c := range cases {
		if got := toPython(c.in); got != c.want {
			t.Errorf("toPython(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if n, m := strings.Count(c.in, "\n"), strings.Count(toPython(c.in), "\n"); n != m {
			t.Errorf("toPython(%q) changed the line count (%d → %d): tracebacks would point at the wrong line", c.in, n, m)
		}
	}
}

func TestCellCodeCellMagics(t *testing.T) {
	cases := []struct{ in, want string }{
		{"%%bash\necho hi", `_di.run_cell_magic("bash", "", "echo hi", globals())`},
		{"%%writefile out.txt\nhello", `_di.run_cell_magic("writefile", "out.txt", "hello", globals())`},
		{"%%capture cap\nprint(1)", "with _di.capture(\"cap\") as cap:\n    print(1)"},
		{"%%time\nx = 1", "\nx = 1"},
	}
	for _, c := range cases {
		if got := cellCode(c.in); got != c.want {
			t.Errorf("cellCode(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestRewrittenCodeIsPython compiles every rewritten cell with a real
// interpreter: the step script must never fail on a syntax error the
// notebook did not have.
func TestRewrittenCodeIsPython(t *testing.T) {
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		testenv.Missing(t, "no /usr/bin/python3")
	}
	srcs := []string{
		"!ls\nfiles = !ls\n%time x = len(files)\n%matplotlib inline\nif x:\n    !echo $x\n    %env A=1\nobj?",
		"%%capture out\nprint('a')\n!echo b",
		"%%bash\nfor i in 1 2; do echo $i; done",
		"%%time\ny = [i for i in range(3)]\n%timeit -n 1 sum(y)",
	}
	for _, src := range srcs {
		code := cellCode(src)
		cmd := exec.Command(py, "-c", "import sys; compile(sys.stdin.read(), '<cell>', 'exec')")
		cmd.Stdin = strings.NewReader(code)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("rewritten cell does not compile: %v\n%s\n--- code:\n%s", err, out, code)
		}
	}
}
