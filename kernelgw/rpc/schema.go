package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"
)

// MethodList describes the API, drawn from the Go types of the registered
// methods: served as JSON at GET /rpc/methods and rendered by TypeScript.
// Its shapes follow OpenAPI 3.0's schema objects (type, properties,
// required, items, additionalProperties, enum, format, nullable, and $ref
// into components.schemas) so that existing tools can read it.
//
// Each field of a request or response is required unless its json tag says
// omitempty or omitzero; a required field that is a pointer, slice or map
// may be null. The decoder enforces exactly this.
type MethodList struct {
	JSONRPC       string         `json:"jsonrpc"`
	Methods       []Method       `json:"methods"`
	Notifications []Notification `json:"notifications"`
	Errors        []ErrorCode    `json:"errors"`
	Components    Components     `json:"components"`
}

// Components holds the named types, by name.
type Components struct {
	Schemas map[string]*Schema `json:"schemas"`
}

// Method is one method a client may call.
type Method struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Params      *Schema `json:"params"`
	Result      *Schema `json:"result"`
}

// Notification is one notification the server may push to WebSocket
// clients (declared with DeclareNotification).
type Notification struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Params      *Schema `json:"params"`
}

// Schema describes a JSON value. An empty Schema is any value.
type Schema struct {
	Ref                  string     `json:"$ref,omitempty"`
	Type                 string     `json:"type,omitempty"` // string, integer, number, boolean, array, object
	Format               string     `json:"format,omitempty"`
	Description          string     `json:"description,omitempty"`
	Enum                 []string   `json:"enum,omitempty"`
	Nullable             bool       `json:"nullable,omitempty"`
	Properties           Properties `json:"properties,omitempty"`
	Required             []string   `json:"required,omitempty"`
	Items                *Schema    `json:"items,omitempty"`
	MinItems             *int       `json:"minItems,omitempty"`
	MaxItems             *int       `json:"maxItems,omitempty"`
	AdditionalProperties *Schema    `json:"additionalProperties,omitempty"`
	PropertyNames        *Schema    `json:"propertyNames,omitempty"`
}

// refPrefix starts every $ref.
const refPrefix = "#/components/schemas/"

// RefName returns the component a $ref schema names, or "".
func (s *Schema) RefName() string { return strings.TrimPrefix(s.Ref, refPrefix) }

// Property is one member of an object.
type Property struct {
	Name   string
	Schema *Schema
}

// Properties are an object's members in the Go struct's order, which a JSON
// object (and so a map) would lose: the generated TypeScript reads like the
// Go type.
type Properties []Property

// MarshalJSON encodes the properties as a JSON object, in order.
func (ps Properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Name)
		v, err := json.Marshal(p.Schema)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes a JSON object, keeping its order, so that a tool
// that fetched the list from a server renders the same TypeScript.
func (ps *Properties) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return fmt.Errorf("properties: expected an object")
	}
	*ps = nil
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var s Schema
		if err := dec.Decode(&s); err != nil {
			return fmt.Errorf("property %s: %w", t, err)
		}
		*ps = append(*ps, Property{Name: t.(string), Schema: &s})
	}
	_, err = dec.Token()
	return err
}

// schemaGen renders typeInfos as Schemas, naming the named types.
type schemaGen struct {
	names   map[reflect.Type]string
	schemas map[string]*Schema
}

// describeAPI builds the method list for methods and notifications, both
// sorted by name.
func describeAPI(methods []*method, notes []*notification) MethodList {
	var roots []*typeInfo
	for _, m := range methods {
		roots = append(roots, m.params, m.result)
	}
	for _, n := range notes {
		roots = append(roots, n.params)
	}
	names, infos := nameTypes(roots)
	g := &schemaGen{names: names, schemas: map[string]*Schema{}}
	for t, name := range g.names {
		g.schemas[name] = g.inline(infos[t], false)
	}
	ml := MethodList{
		JSONRPC:       "2.0",
		Methods:       []Method{},
		Notifications: []Notification{},
		Errors:        ErrorCodes(),
		Components:    Components{Schemas: g.schemas},
	}
	for _, m := range methods {
		ml.Methods = append(ml.Methods, Method{
			Name: m.name, Description: m.doc,
			Params: g.schema(m.params, false),
			Result: g.schema(m.result, true),
		})
	}
	for _, n := range notes {
		ml.Notifications = append(ml.Notifications, Notification{
			Name: n.name, Description: n.doc, Params: g.schema(n.params, false),
		})
	}
	return ml
}

// named reports whether a type gets a component of its own: named structs,
// and named enums, which the panel wants to name too.
func named(ti *typeInfo) bool {
	if ti.t.Name() == "" {
		return false
	}
	return ti.kind == kStruct || (ti.kind == kString || ti.kind == kText) && len(ti.enum) > 0
}

// nameTypes walks the types reachable from roots and names those that get
// a component: the Go type's name, qualified by its package's name where
// two packages' types share one, so that adding a method never renames
// an unrelated type unless it collides with it.
func nameTypes(roots []*typeInfo) (map[reflect.Type]string, map[reflect.Type]*typeInfo) {
	seen := map[*typeInfo]bool{}
	infos := map[reflect.Type]*typeInfo{}
	var order []*typeInfo
	var walk func(*typeInfo)
	walk = func(ti *typeInfo) {
		if ti == nil || seen[ti] {
			return
		}
		seen[ti] = true
		// A type may have more than one typeInfo (as a map's key and as
		// a value): it is one component.
		if named(ti) && infos[ti.t] == nil {
			infos[ti.t] = ti
			order = append(order, ti)
		}
		walk(ti.elem)
		walk(ti.key)
		for _, f := range ti.fields {
			walk(f.typ)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	byBase := map[string][]*typeInfo{}
	for _, ti := range order {
		b := typeName(ti.t.Name())
		byBase[b] = append(byBase[b], ti)
	}
	names := map[reflect.Type]string{}
	taken := map[string]bool{}
	bases := make([]string, 0, len(byBase))
	for b := range byBase {
		bases = append(bases, b)
	}
	sort.Strings(bases)
	for _, b := range bases {
		tis := byBase[b]
		if len(tis) == 1 {
			names[tis[0].t] = b
			taken[b] = true
		}
	}
	for _, b := range bases {
		tis := byBase[b]
		if len(tis) == 1 {
			continue
		}
		sort.Slice(tis, func(i, j int) bool { return tis[i].t.PkgPath() < tis[j].t.PkgPath() })
		for _, ti := range tis {
			pkg := ti.t.PkgPath()
			pkg = pkg[strings.LastIndex(pkg, "/")+1:]
			n := typeName(pkg) + b
			for i := 2; taken[n]; i++ {
				n = fmt.Sprintf("%s%s%d", typeName(pkg), b, i)
			}
			names[ti.t] = n
			taken[n] = true
		}
	}
	return names, infos
}

// typeName turns a Go type name (generic instantiations included:
// "Page[example.com/x.Run]") into an identifier: "PageRun".
func typeName(s string) string {
	var b strings.Builder
	for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return strings.ContainsRune("[],* ", r) }) {
		part = part[strings.LastIndexAny(part, "./")+1:]
		upper := true // at the start of each word: "rpc_test" is "RpcTest"
		for _, r := range part {
			switch {
			case !unicode.IsLetter(r) && !unicode.IsDigit(r):
				upper = true
			case upper:
				b.WriteRune(unicode.ToUpper(r))
				upper = false
			default:
				b.WriteRune(r)
			}
		}
	}
	if b.Len() == 0 {
		return "T"
	}
	return b.String()
}

// schema returns a $ref for a named type, else the type's schema. canNull
// says whether null can stand for the value here (it cannot where a field
// is optional: a nil value is left out instead).
func (g *schemaGen) schema(ti *typeInfo, canNull bool) *Schema {
	if name, ok := g.names[ti.t]; ok && named(ti) {
		return &Schema{Ref: refPrefix + name}
	}
	return g.inline(ti, canNull)
}

func (g *schemaGen) inline(ti *typeInfo, canNull bool) *Schema {
	var s *Schema
	switch ti.kind {
	case kAny:
		return &Schema{}
	case kPtr:
		s = g.schema(ti.elem, false)
	case kString, kText:
		s = &Schema{Type: "string", Enum: ti.enum}
	case kTime:
		s = &Schema{Type: "string", Format: "date-time"}
	case kBytes:
		s = &Schema{Type: "string", Format: "byte"}
	case kBool:
		s = &Schema{Type: "boolean"}
	case kInt:
		s = &Schema{Type: "integer", Format: fmt.Sprintf("int%d", ti.bits)}
	case kUint:
		s = &Schema{Type: "integer", Format: fmt.Sprintf("uint%d", ti.bits)}
	case kFloat:
		s = &Schema{Type: "number", Format: map[int]string{32: "float", 64: "double"}[ti.bits]}
	case kSlice:
		s = &Schema{Type: "array", Items: g.schema(ti.elem, true)}
	case kArray:
		n := ti.length
		s = &Schema{Type: "array", Items: g.schema(ti.elem, true), MinItems: &n, MaxItems: &n}
	case kMap:
		s = &Schema{Type: "object", AdditionalProperties: g.schema(ti.elem, true)}
		if len(ti.key.enum) > 0 {
			s.PropertyNames = g.schema(ti.key, false)
		}
	case kStruct:
		s = &Schema{Type: "object"}
		for _, f := range ti.fields {
			ps := g.schema(f.typ, !f.optional)
			if f.doc != "" {
				ps.Description = f.doc
			}
			s.Properties = append(s.Properties, Property{Name: f.name, Schema: ps})
			if !f.optional {
				s.Required = append(s.Required, f.name)
			}
		}
	}
	if canNull && ti.nullable() {
		s.Nullable = true
	}
	return s
}
