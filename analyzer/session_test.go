package analyzer

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sessionFixture(t *testing.T, name string) map[string]*Step {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "flow", name))
	if err != nil {
		t.Fatal(err)
	}
	an := Analyze(context.Background(), parsePercent(t, string(src)).nb, Options{})
	steps := map[string]*Step{}
	for _, s := range an.Steps {
		steps[s.Name] = s
	}
	return steps
}

// Settings statements of a step are replayed, after the imports they
// need, in every later step; one reading a computed value is not.
func TestSettingsReplayed(t *testing.T) {
	steps := sessionFixture(t, "r14-session-settings-replayed.py")
	want := []string{
		"import pandas as pd",
		`pd.set_option("display.precision", 2)`,
		"pd.options.display.max_columns = 4",
		"import numpy as np",
		"np.set_printoptions(precision=3, suppress=True)",
		"import warnings",
		`warnings.filterwarnings("ignore", category=UserWarning)`,
	}
	for _, name := range []string{"report", "table"} {
		if got := steps[name].Imports; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: imports\n%q, want\n%q", name, got, want)
		}
	}
	if got := steps["setup"].Imports; len(got) != 0 {
		t.Errorf("setup replays %q, want nothing", got)
	}
}

func TestQualifyImport(t *testing.T) {
	for _, c := range []struct{ imp, name, want string }{
		{"import numpy as np", "np", "numpy"},
		{"import numpy.random", "numpy", "numpy"},
		{"import numpy.random as npr", "npr", "numpy.random"},
		{"from numpy import random as npr", "npr", "numpy.random"},
		{"from random import shuffle, seed as s", "s", "random.seed"},
		{"from random import shuffle, seed as s", "shuffle", "random.shuffle"},
		{"import os, random", "random", "random"},
		{"from . import random", "random", ""},
		{"import numpy as np", "numpy", ""},
	} {
		if got := qualifyImport(c.imp, c.name); got != c.want {
			t.Errorf("qualifyImport(%q, %q) = %q, want %q", c.imp, c.name, got, c.want)
		}
	}
	for q, want := range map[string]string{
		"numpy.random.randint": RNGNumpy, "numpy.random.seed": RNGNumpy, "numpy.random.default_rng": "",
		"numpy.random.RandomState": "", "random.shuffle": RNGRandom, "random.Random": "",
		"torch.manual_seed": RNGTorch, "torch.randn": RNGTorch, "torch.zeros": "", "numpy.randint": "",
	} {
		if got := rngState(q); got != want {
			t.Errorf("rngState(%q) = %q, want %q", q, got, want)
		}
	}
}
