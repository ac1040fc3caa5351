package ipython

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/internal/testenv"
)

const python = "/usr/bin/python3"

// cases are IPython inputs as users write them; each must translate, in
// both renderings, with the cell's line count.
var cases = []string{
	"!ls -l",
	"  !pip list",
	"files = !ls *.csv",
	"lines = !!cat /etc/hostname",
	"!!echo hi",
	"!ls \\\n  -la",
	"%time x = f()",
	"%time",
	"t = %time f()",
	"%time \\\n    total = 1",
	"%timeit -n 10 -r 3 f()",
	"%timeit y = g()\nprint(y if 'y' in dir() else 'unbound')",
	"y = 5\n%timeit y = g()\nprint(y)",
	"%matplotlib inline",
	"%load_ext autoreload\n%autoreload 2",
	"%env MODE=fast",
	"%pip install -q pandas",
	"%cd data",
	"%who",
	"names = %who_ls",
	"obj?",
	"obj??",
	"?obj",
	"x = 1",
	"print('!not a shell line')",
	"s = \"\"\"\n!inside a string\n%also\n\"\"\"\nprint(s)",
	"total = (1 +\n  2)\nprint(total)",
	"if x:\n    !echo yes\nelse:\n    %time y = 2",
	"z = 5 % 3\nprint(z)",
	"  x = 1\n  print(x)",
	"\tx = 2\n\tif x:\n\t\tprint(x)",
	">>> x = 1\n>>> print(x)",
	">>> for i in range(2):\n...     print(i)",
	"In [1]: x = 3\n   ...: print(x)",
	"\n\n%%capture cap\nx = 1\nprint(x)",
	"%%capture --no-stderr out\nprint('a')\n!echo b",
	"%%capture\n",
	"%%capture c\n  y = 2\n  print(y)",
	"%%time\ny = [i for i in range(3)]\nprint(y)",
	"%%timeit\ntotal = 0\nfor i in range(10):\n    total += i",
	"%%timeit -n 2 setup = 1\nsetup + 1",
	"%%timeit\n",
	"%%bash\nfor i in 1 2; do echo $i; done",
	"%%writefile out.txt\nhello\n",
	"  %%capture cap\n  print('indented magic')",
	"x = %env HOME",
	"def f():\n    !echo inside\n    return 1\nprint(f())",
	"print(x); %time y = 1",
}

func TestLineCountKept(t *testing.T) {
	for _, src := range cases {
		tr := Translate(src)
		n := strings.Count(src, "\n")
		if a, p := strings.Count(tr.Analysable, "\n"), strings.Count(tr.Python, "\n"); a != n || p != n {
			t.Errorf("Translate(%q) changed the line count %d: analysable %d, python %d", src, n, a, p)
		}
	}
}

// TestBehavesAsIPython runs every case through IPython's own
// TransformerManager and through Translate, with stand-ins for the kernel
// and the step runtime, and requires the same output, the same names
// bound and the same commands run (testdata/differential.py).
func TestBehavesAsIPython(t *testing.T) {
	if testing.Short() {
		t.Skip("starts python3 with IPython")
	}
	if err := exec.Command(python, "-c", "import IPython").Run(); err != nil {
		testenv.Missing(t, "%s lacks IPython (hack/install-deps.sh installs python3-ipykernel): %v", python, err)
	}
	type in struct {
		Src    string `json:"src"`
		Python string `json:"python"`
	}
	var ins []in
	for _, src := range cases {
		ins = append(ins, in{src, Translate(src).Python})
	}
	data, err := json.Marshal(ins)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/differential.py")
	cmd.Stdin = strings.NewReader(string(data))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("differential.py: %v\n%s", err, out)
	}
	var failures []json.RawMessage
	if err := json.Unmarshal(out, &failures); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range failures {
		t.Errorf("behaves differently from IPython:\n%s", f)
	}
}

func TestAnalysable(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"!ls {x}", "(    x,)"},
		{"%timeit -n 2 y = 1", "y = 1"},
		{"%%timeit\ntotal = 0\ntotal += 1", timeitClass + "\n total = 0\n total += 1"},
		{"%%timeit", timeitClass + " pass"},
		{"\n%%capture cap\n  x = 1", "\n\nx = 1"},
		{">>> x = 1\n... y", "x = 1\ny"},
		{"x = %time f()", "x =       f()"},
	} {
		if got := Translate(c.src).Analysable; got != c.want {
			t.Errorf("Translate(%q).Analysable = %q, want %q", c.src, got, c.want)
		}
	}
	tr := Translate("%%timeit\ntotal = 0")
	if len(tr.NoBind) != 1 || tr.NoBind[0] != 0 {
		t.Errorf("%%%%timeit's wrapper line must bind nothing: NoBind = %v", tr.NoBind)
	}
	if c := tr.OrigCol(1, 1); c != 0 {
		t.Errorf("OrigCol in a %%%%timeit body = %d, want 0", c)
	}
	if c := Translate("  %time x = 1").OrigCol(0, 0); c != 8 {
		t.Errorf("OrigCol after indent and %%time = %d, want 8", c)
	}
}

func FuzzTranslate(f *testing.F) {
	for _, c := range cases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tr := Translate(src)
		n := strings.Count(src, "\n")
		if strings.Count(tr.Analysable, "\n") != n || strings.Count(tr.Python, "\n") != n {
			t.Fatalf("line count changed: %q → %q / %q", src, tr.Analysable, tr.Python)
		}
		for l := range n + 1 {
			if c := tr.OrigCol(l, 0); c < 0 {
				t.Fatalf("OrigCol(%d, 0) = %d", l, c)
			}
		}
	})
}
