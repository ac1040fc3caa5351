package kernelgw

import "testing"

func TestCompareEnvs(t *testing.T) {
	kernel := &PythonEnv{Version: "3.12.1", Implementation: "CPython", Packages: []Distribution{
		{"numpy", "2.0.0"}, {"Pandas", "2.2.0"}, {"scikit_learn", "1.5.0"}, {"only-here", "1.0"}}}
	local := &PythonEnv{Version: "3.11.2", Implementation: "CPython", Executable: "/usr/bin/python3", Packages: []Distribution{
		{"numpy", "1.24.2"}, {"pandas", "2.2.0"}, {"scikit-learn", "1.5.0"}, {"extra", "1"}}}
	got := compareEnvs(kernel, local)
	want := []EnvWarning{
		{Kind: "version", Kernel: "CPython 3.12.1", Local: "CPython 3.11.2"},
		{Kind: "other-version", Package: "numpy", Kernel: "2.0.0", Local: "1.24.2"},
		{Kind: "missing", Package: "only-here", Kernel: "1.0"},
	}
	if len(got) != len(want) {
		t.Fatalf("compareEnvs: %+v, want %+v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || g.Package != w.Package || g.Kernel != w.Kernel || g.Local != w.Local || g.Message == "" {
			t.Errorf("compareEnvs[%d]: %+v, want %+v with a message", i, g, w)
		}
	}
	if n := compareEnvs(kernel, kernel); len(n) != 0 {
		t.Errorf("compareEnvs of an environment with itself: %+v", n)
	}
}
