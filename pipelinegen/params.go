package pipelinegen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/datainsight/datainsight/notebook"
)

// ParseParameterFlags turns --param name=value flags into Python literals,
// checked against the declared parameters: the value is a Python literal
// (None, 3, 0.5, "x", [1, 2], {"a": 1}); a bare word is taken as a string
// when the default is a string. An error names the parameter.
func ParseParameterFlags(p *Pipeline, flags []string) (map[string]string, error) {
	decl := map[string]Parameter{}
	for _, prm := range p.Parameters {
		decl[prm.Name] = prm
	}
	out := map[string]string{}
	for _, f := range flags {
		name, raw, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("--param %q: expected name=value", f)
		}
		prm, ok := decl[name]
		if !ok {
			return nil, fmt.Errorf("--param %s: the notebook has no parameter %q (it has: %s)", name, name, declared(p))
		}
		lit, err := notebook.ParseLiteral(raw)
		if err != nil {
			if prm.Type != "str" {
				return nil, fmt.Errorf("--param %s=%s: %v (the default %s is a %s)", name, raw, err, prm.Default, prm.Type)
			}
			lit = notebook.Literal{Type: "str", Value: raw}
		}
		if !compatible(prm.Type, lit.Type) {
			if prm.Type == "str" && lit.Type != "NoneType" {
				// --param name=42 for a string parameter means "42".
				lit = notebook.Literal{Type: "str", Value: raw}
			} else {
				return nil, fmt.Errorf("--param %s=%s: expected a %s like the default %s, got a %s", name, raw, prm.Type, prm.Default, lit.Type)
			}
		}
		out[name] = lit.Python()
	}
	return out, nil
}

// compatible says whether a value of type got may replace a default of
// type want (an int for a float, anything for a None default, None for
// anything: Python code often checks `if X is None`).
func compatible(want, got string) bool {
	switch {
	case want == got, want == "NoneType", got == "NoneType":
		return true
	case want == "float" && got == "int":
		return true
	case want == "list" && got == "tuple", want == "tuple" && got == "list":
		return true
	}
	return false
}

func declared(p *Pipeline) string {
	var names []string
	for _, prm := range p.Parameters {
		names = append(names, prm.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ParameterValues returns every parameter's value for a run: the
// overrides (name -> Python literal, from ParseParameterFlags) over the
// defaults.
func ParameterValues(p *Pipeline, overrides map[string]string) (map[string]string, error) {
	vals := map[string]string{}
	for _, prm := range p.Parameters {
		vals[prm.Name] = prm.Default
	}
	for name, v := range overrides {
		if _, ok := vals[name]; !ok {
			return nil, fmt.Errorf("parameter %q: the pipeline has no such parameter (it has: %s)", name, declared(p))
		}
		vals[name] = v
	}
	return vals, nil
}
