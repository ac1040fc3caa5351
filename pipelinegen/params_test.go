package pipelinegen

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/notebook"
)

// paramPipeline declares one parameter of each kind a default can have.
func paramPipeline(t testing.TB) *Pipeline {
	t.Helper()
	p := &Pipeline{}
	for _, d := range []struct{ name, def string }{
		{"N", "3"}, {"LR", "0.1"}, {"MODE", `"fast"`}, {"DEBUG", "False"}, {"SHAPE", "(1, 2)"},
		{"LAYERS", "[4, 2]"}, {"OPTS", `{"a": 1}`}, {"EXTRA", "None"},
	} {
		lit, err := notebook.ParseLiteral(d.def)
		if err != nil {
			t.Fatal(err)
		}
		p.Parameters = append(p.Parameters, Parameter{Name: d.name, Type: lit.Type, Default: lit.Python()})
	}
	return p
}

func TestParseParameterFlags(t *testing.T) {
	p := paramPipeline(t)
	for flag, want := range map[string]string{
		"N=7":                              "7",
		"N=-7":                             "-7",
		"N=123456789012345678901234567890": "123456789012345678901234567890", // Python ints are unbounded
		"LR=2":                             "2",
		"LR=1e-3":                          "0.001",
		"MODE='slow'":                      `"slow"`,
		"MODE=slow":                        `"slow"`, // a bare word is text
		"MODE=42":                          `"42"`,
		"DEBUG=True":                       "True",
		"SHAPE=[3, 4]":                     "(3, 4)", // the declared kind of sequence
		"SHAPE=[3]":                        "(3,)",
		"LAYERS=(8,)":                      "[8]",
		"OPTS={'b': [1]}":                  `{"b": [1]}`,
		"EXTRA=None":                       "None", // a None default takes anything
		"EXTRA=[1]":                        "[1]",
	} {
		got, err := ParseParameterFlags(p, []string{flag})
		name, _, _ := strings.Cut(flag, "=")
		if err != nil || got[name] != want {
			t.Errorf("--param %s = %q, %v; want %q", flag, got[name], err, want)
		}
	}
	for flag, want := range map[string]string{
		"N=None":                         "the steps would refuse None for N, an int parameter (default 3)",
		"N=1.5":                          "refuse a float for N",
		"N=True":                         "refuse a bool for N",
		"N=lots":                         `"lots" is not a literal`,
		"LR=None":                        "refuse None for LR",
		"LR='x'":                         "refuse a str",
		"MODE=None":                      "refuse None for MODE, a str parameter",
		"DEBUG=1":                        "refuse an int for DEBUG",
		"SHAPE=None":                     "refuse None",
		"OPTS=[1]":                       "refuse a list for OPTS, a dict parameter",
		"NOPE=1":                         `the notebook has no parameter "NOPE"`,
		"=1":                             "expected name=value",
		"N=" + strings.Repeat("9", 4301): "4300 digits",
	} {
		if got, err := ParseParameterFlags(p, []string{flag}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--param %.30s = %v, %v; want an error saying %q", flag, got, err, want)
		}
	}
}

// TestParameterValuesChecksOverrides: overrides from any caller, not only
// the CLI's flags, meet the steps' rule before a run starts.
func TestParameterValuesChecksOverrides(t *testing.T) {
	p := paramPipeline(t)
	if _, err := ParameterValues(p, map[string]string{"N": "None"}); err == nil || !strings.Contains(err.Error(), "refuse None for N") {
		t.Errorf("ParameterValues(N=None) = %v, want the steps' refusal", err)
	}
	if _, err := ParameterValues(p, map[string]string{"N": "not a literal"}); err == nil {
		t.Error("ParameterValues accepted a value that is not a literal")
	}
	vals, err := ParameterValues(p, map[string]string{"N": "5", "LR": "1"})
	if err != nil || vals["N"] != "5" || vals["LR"] != "1" || vals["MODE"] != `"fast"` {
		t.Errorf("ParameterValues = %v, %v", vals, err)
	}
}

// TestAcceptsIsTheRuntimeRule holds Accepts to the rule the step runtime
// applies to DATAINSIGHT_PARAM_<name> (_param_type_ok): for every pair of
// a default and an override, the CLI accepts exactly what the steps
// accept. They once differed on None and on list for tuple, so that a run
// the CLI started failed in every step.
func TestAcceptsIsTheRuntimeRule(t *testing.T) {
	needRuntimePython(t)
	literals := []string{"3", "123456789012345678901234567890", "0.5", `"s"`, "True", "None", "[1]", "(1,)", `{"a": 1}`, "-2", "[]", "()"}
	type pair struct {
		Default, Value string
		Go             bool
	}
	var pairs []pair
	for _, d := range literals {
		dl, err := notebook.ParseLiteral(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range literals {
			vl, err := notebook.ParseLiteral(v)
			if err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, pair{dl.Python(), vl.Python(), Accepts(dl.Type, vl.Type)})
		}
	}
	in, _ := json.Marshal(pairs)
	script := `
import ast, json, sys
from datainsight_runtime import _param_type_ok
out = []
for p in json.load(sys.stdin):
    ok, _ = _param_type_ok(ast.literal_eval(p["Default"]), ast.literal_eval(p["Value"]))
    out.append(ok)
json.dump(out, sys.stdout)
`
	dir := t.TempDir()
	if _, err := WriteRuntime(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rule.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(runtimePython, filepath.Join(dir, "rule.py"))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the runtime's rule: %v\n%s", err, out)
	}
	var py []bool
	if err := json.Unmarshal(out, &py); err != nil || len(py) != len(pairs) {
		t.Fatalf("the runtime answered %s (%v)", out, err)
	}
	for i, p := range pairs {
		if p.Go != py[i] {
			t.Errorf("default %s, override %s: Accepts says %v, the runtime %v", p.Default, p.Value, p.Go, py[i])
		}
	}
}

// FuzzParseParameterFlags: whatever a flag holds, a value the CLI accepts
// is a literal of a type the parameter's steps accept.
func FuzzParseParameterFlags(f *testing.F) {
	for _, s := range []string{"N=None", "N=123456789012345678901234567890", "MODE=fast", "SHAPE=[1]", "LR=2", "OPTS={(1,): [2]}",
		"EXTRA=((1,),)", "MODE=\"\xff\"", "N=0x_1f", "DEBUG=False", "LAYERS=()", "N= - 3"} {
		f.Add(s)
	}
	p := paramPipeline(f)
	f.Fuzz(func(t *testing.T, flag string) {
		got, err := ParseParameterFlags(p, []string{flag})
		if err != nil {
			return
		}
		for name, v := range got {
			prm := p.parameter(name)
			lit, err := notebook.ParseLiteral(v)
			if err != nil {
				t.Fatalf("--param %q gives %s=%q, not a literal: %v", flag, name, v, err)
			}
			if !Accepts(prm.Type, lit.Type) {
				t.Fatalf("--param %q gives %s=%s, a %s for a %s parameter", flag, name, v, lit.Type, prm.Type)
			}
		}
		if _, err := ParameterValues(p, got); err != nil {
			t.Fatalf("--param %q accepted, then refused at submission: %v", flag, err)
		}
	})
}
