package rpc

import (
	"sort"
	"strconv"
	"strings"
)

// TypeScript renders a method list as TypeScript declarations for the
// panel: an interface or type per named Go type, the Methods and
// Notifications maps from name to params and result, and the error codes.
// The output is deterministic, so it can be checked in and diffed.
func TypeScript(ml MethodList) string {
	var b strings.Builder
	b.WriteString("// Code generated from the datainsight RPC method list by rpc.TypeScript. DO NOT EDIT.\n")

	b.WriteString("\n/** JSON-RPC error codes. */\nexport const ErrorCode = {\n")
	for _, e := range ml.Errors {
		writeDoc(&b, "  ", e.Description)
		b.WriteString("  " + tsKey(e.Name) + ": " + strconv.Itoa(e.Code) + ",\n")
	}
	b.WriteString("} as const;\nexport type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];\n")

	names := make([]string, 0, len(ml.Components.Schemas))
	for n := range ml.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := ml.Components.Schemas[n]
		b.WriteString("\n")
		writeDoc(&b, "", s.Description)
		if s.Type == "object" && s.AdditionalProperties == nil && len(s.Properties) > 0 && !s.Nullable {
			b.WriteString("export interface " + n + " " + tsObject(s, "") + "\n")
			continue
		}
		t, _ := tsType(s, "")
		b.WriteString("export type " + n + " = " + t + ";\n")
	}

	b.WriteString("\n/** The methods a client may call: params and result, by method name. */\nexport interface Methods {\n")
	for _, m := range ml.Methods {
		writeDoc(&b, "  ", m.Description)
		p, _ := tsType(m.Params, "  ")
		r, _ := tsType(m.Result, "  ")
		b.WriteString("  " + tsKey(m.Name) + ": { params: " + p + "; result: " + r + " };\n")
	}
	b.WriteString("}\n")

	b.WriteString("\n/** The notifications the server pushes over WebSocket: params, by method name. */\nexport interface Notifications {\n")
	for _, n := range ml.Notifications {
		writeDoc(&b, "  ", n.Description)
		p, _ := tsType(n.Params, "  ")
		b.WriteString("  " + tsKey(n.Name) + ": " + p + ";\n")
	}
	b.WriteString("}\n")
	b.WriteString("\nexport type MethodName = keyof Methods;\nexport type NotificationName = keyof Notifications;\n")
	return b.String()
}

// tsType renders a schema as a type expression; union reports whether the
// expression is a union, which needs parentheses inside an array type.
func tsType(s *Schema, indent string) (t string, union bool) {
	if s == nil {
		return "unknown", false
	}
	switch {
	case s.Ref != "":
		t = s.RefName()
	case len(s.Enum) > 0:
		q := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			q[i] = strconv.Quote(e)
		}
		t, union = strings.Join(q, " | "), len(q) > 1
	case s.Type == "string":
		t = "string"
	case s.Type == "integer", s.Type == "number":
		t = "number"
	case s.Type == "boolean":
		t = "boolean"
	case s.Type == "array" && s.MinItems != nil && s.MaxItems != nil && *s.MinItems == *s.MaxItems && *s.MinItems <= 8:
		// A Go array: a tuple of its length.
		e, _ := tsType(s.Items, indent)
		t = "[" + strings.TrimSuffix(strings.Repeat(e+", ", *s.MinItems), ", ") + "]"
	case s.Type == "array":
		e, u := tsType(s.Items, indent)
		if u {
			e = "(" + e + ")"
		}
		t = e + "[]"
	case s.Type == "object" && s.AdditionalProperties != nil:
		v, _ := tsType(s.AdditionalProperties, indent)
		if s.PropertyNames != nil {
			k, _ := tsType(s.PropertyNames, indent)
			t = "Partial<Record<" + k + ", " + v + ">>"
		} else {
			t = "Record<string, " + v + ">"
		}
	case s.Type == "object" && len(s.Properties) == 0:
		t = "Record<string, never>"
	case s.Type == "object":
		t = tsObject(s, indent)
	default:
		return "unknown", false // any value: null included
	}
	if s.Nullable {
		return t + " | null", true
	}
	return t, union
}

// tsObject renders an object's properties as a type literal: on one line
// if it is short and has no docs (an anonymous struct's), else one
// property a line.
func tsObject(s *Schema, indent string) string {
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	member := func(p Property, indent string) string {
		opt := "?"
		if required[p.Name] {
			opt = ""
		}
		t, _ := tsType(p.Schema, indent)
		return tsKey(p.Name) + opt + ": " + t
	}
	if indent != "" {
		var parts []string
		short := true
		for _, p := range s.Properties {
			m := member(p, indent)
			parts = append(parts, m)
			short = short && p.Schema.Description == "" && !strings.Contains(m, "\n")
		}
		if line := "{ " + strings.Join(parts, "; ") + " }"; short && len(line) <= 72 {
			return line
		}
	}
	inner := indent + "  "
	var b strings.Builder
	b.WriteString("{\n")
	for _, p := range s.Properties {
		writeDoc(&b, inner, p.Schema.Description)
		b.WriteString(inner + member(p, inner) + ";\n")
	}
	b.WriteString(indent + "}")
	return b.String()
}

// tsKey writes a property or method name, quoted unless it is an
// identifier ("run.get" is not).
func tsKey(s string) string {
	if isIdent(s) {
		return s
	}
	return strconv.Quote(s)
}

func writeDoc(b *strings.Builder, indent, doc string) {
	if doc == "" {
		return
	}
	doc = strings.ReplaceAll(doc, "*/", "*\\/")
	lines := strings.Split(strings.TrimSpace(doc), "\n")
	if len(lines) == 1 {
		b.WriteString(indent + "/** " + lines[0] + " */\n")
		return
	}
	b.WriteString(indent + "/**\n")
	for _, l := range lines {
		b.WriteString(strings.TrimRight(indent+" * "+l, " ") + "\n")
	}
	b.WriteString(indent + " */\n")
}
