package pipelinegen

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/datainsight/datainsight/notebook"
)

// ParseParameterFlags turns --param name=value flags into Python literals,
// checked against the declared parameters with the rule the steps apply
// (Accepts), so that a value accepted here is never refused by every step
// at run time. The value is a Python literal (3, 0.5, "x", [1, 2],
// {"a": 1}); for a str parameter a value that is not a str literal is
// taken as the text itself (mode=fast, tag=42), and for a list or tuple
// parameter the other kind of sequence becomes the declared one. An error
// names the parameter.
func ParseParameterFlags(p *Pipeline, flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		name, raw, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("--param %q: expected name=value", f)
		}
		lit, err := parseParameter(p, name, raw)
		if err != nil {
			return nil, fmt.Errorf("--param %w", err)
		}
		out[name] = lit
	}
	return out, nil
}

// ParseParameterValues is ParseParameterFlags for values that come as a
// map (name -> value, read by the same rules), from callers other than
// the command line; an error names the parameter.
func ParseParameterValues(p *Pipeline, values map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		lit, err := parseParameter(p, name, values[name])
		if err != nil {
			return nil, fmt.Errorf("parameter %w", err)
		}
		out[name] = lit
	}
	return out, nil
}

// parseParameter reads one value for the declared parameter name as a
// Python literal; its error starts with the parameter ("N=x: ...").
func parseParameter(p *Pipeline, name, raw string) (string, error) {
	var prm Parameter
	found := false
	for _, d := range p.Parameters {
		if d.Name == name {
			prm, found = d, true
			break
		}
	}
	if !found {
		return "", fmt.Errorf("%s: the notebook has no parameter %q (it has: %s)", name, name, declared(p))
	}
	lit, err := notebook.ParseLiteral(raw)
	switch {
	case prm.Type == "str" && (err != nil || lit.Type != "str" && lit.Type != "NoneType"):
		lit = notebook.Literal{Type: "str", Value: raw}
	case err != nil:
		return "", fmt.Errorf("%s=%s: %v (the parameter is %s, default %s)", name, raw, err, typeName(prm.Type), prm.Default)
	case (prm.Type == "list" || prm.Type == "tuple") && (lit.Type == "list" || lit.Type == "tuple"):
		lit.Type = prm.Type
	}
	if !Accepts(prm.Type, lit.Type) {
		return "", fmt.Errorf("%s=%s: %s", name, raw, refusal(prm, lit.Type))
	}
	return lit.Python(), nil
}

// Accepts says whether a value of Python type got may override a parameter
// whose default is of type want. It is the rule the step runtime applies to
// DATAINSIGHT_PARAM_<name> (_param_type_ok in runtime/datainsight_runtime.py),
// and TestAcceptsIsTheRuntimeRule holds the two together: the same type,
// an int for a float (the runtime converts it), anything for a None default
// (it declares no type). None does not replace a typed default: the steps
// refuse it.
func Accepts(want, got string) bool {
	switch {
	case want == "NoneType", want == got:
		return true
	case want == "float" && got == "int":
		return true
	}
	return false
}

// refusal says why a value of type got cannot override prm.
func refusal(prm Parameter, got string) string {
	return fmt.Sprintf("the steps would refuse %s for %s, %s parameter (default %s)", typeName(got), prm.Name, typeName(prm.Type), prm.Default)
}

// typeName names a Python type for a message: "an int", "None", ...
func typeName(t string) string {
	switch t {
	case "NoneType":
		return "None"
	case "int":
		return "an int"
	}
	return "a " + t
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
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		v := overrides[name]
		if _, ok := vals[name]; !ok {
			return nil, fmt.Errorf("parameter %q: the pipeline has no such parameter (it has: %s)", name, declared(p))
		}
		// Checked here too, for callers other than ParseParameterFlags: a
		// value the steps would refuse fails the submission, not every step.
		prm := p.parameter(name)
		lit, err := notebook.ParseLiteral(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s=%s: %v", name, v, err)
		}
		if !Accepts(prm.Type, lit.Type) {
			return nil, fmt.Errorf("parameter %s=%s: %s", name, v, refusal(prm, lit.Type))
		}
		vals[name] = v
	}
	return vals, nil
}

// parameter returns the declared parameter name; the zero Parameter when
// there is none.
func (p *Pipeline) parameter(name string) Parameter {
	for _, prm := range p.Parameters {
		if prm.Name == name {
			return prm
		}
	}
	return Parameter{}
}
