package rpc

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The type model: what a Go type looks like as JSON, worked out once per
// type at registration. The strict decoder checks params against it and the
// method list is drawn from it, so what the list promises is what the
// decoder enforces.

// Enum is implemented by string types whose values form a closed set (a
// run's status, a backend's name). The method list shows the values and the
// decoder refuses any other. EnumValues is called on the zero value.
type Enum interface {
	EnumValues() []string
}

type kind uint8

const (
	kAny    kind = iota // interface{}, json.RawMessage, types with their own JSON methods
	kString             // string kinds
	kText               // encoding.TextMarshaler/TextUnmarshaler: a string in JSON
	kTime               // time.Time: an RFC 3339 string
	kBytes              // []byte: a base64 string
	kBool
	kInt
	kUint
	kFloat
	kPtr
	kSlice
	kArray
	kMap
	kStruct
)

type typeInfo struct {
	t      reflect.Type
	kind   kind
	bits   int      // kInt, kUint, kFloat
	enum   []string // kString, kText
	elem   *typeInfo
	key    *typeInfo // kMap: kString, kText, kInt or kUint
	length int       // kArray
	fields []*fieldInfo
	byName map[string]*fieldInfo
}

type fieldInfo struct {
	name     string
	optional bool // omitempty or omitzero: may be absent on the wire
	doc      string
	typ      *typeInfo
	index    []int
	tagged   bool
}

// nullable reports whether JSON null is a value of the type rather than a
// type error: encoding/json would accept null anywhere and leave the zero
// value, which hides a client's bug where a string or number was meant.
func (ti *typeInfo) nullable() bool {
	switch ti.kind {
	case kAny, kPtr, kSlice, kMap, kBytes:
		return true
	}
	return false
}

var (
	rawMessageType       = reflect.TypeFor[json.RawMessage]()
	timeType             = reflect.TypeFor[time.Time]()
	jsonMarshalerType    = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType  = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType    = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType  = reflect.TypeFor[encoding.TextUnmarshaler]()
	enumType             = reflect.TypeFor[Enum]()
	errUnsupportedOption = errors.New(`the ",string" option is not supported`)
)

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}

// typeModel builds and caches typeInfos. One belongs to each Server: types
// are worked out at registration, not in a package-level cache.
type typeModel struct {
	cache map[reflect.Type]*typeInfo
}

func (m *typeModel) info(t reflect.Type) (*typeInfo, error) {
	if m.cache == nil {
		m.cache = map[reflect.Type]*typeInfo{}
	}
	// Building may fail half way; keep the cache free of half-built types.
	added := map[reflect.Type]bool{}
	ti, err := m.build(t, added)
	if err != nil {
		for t := range added {
			delete(m.cache, t)
		}
		return nil, err
	}
	return ti, nil
}

func (m *typeModel) build(t reflect.Type, added map[reflect.Type]bool) (*typeInfo, error) {
	if ti, ok := m.cache[t]; ok {
		return ti, nil
	}
	ti := &typeInfo{t: t}
	// Cached before the fields are built, so that recursive types
	// (a tree of steps) end in a reference to themselves.
	m.cache[t] = ti
	added[t] = true
	if err := m.fill(ti, added); err != nil {
		return nil, err
	}
	return ti, nil
}

func (m *typeModel) fill(ti *typeInfo, added map[reflect.Type]bool) error {
	t := ti.t
	switch {
	case t.Kind() == reflect.Pointer:
		// Before the method checks: *T has T's methods, and encoding/json
		// allocates the T and then asks it.
		ti.kind = kPtr
		return m.elem(ti, t.Elem(), added)
	case t == rawMessageType:
		ti.kind = kAny
		return nil
	case t == timeType:
		ti.kind = kTime
		return nil
	case implements(t, jsonMarshalerType) || implements(t, jsonUnmarshalerType):
		// Its JSON is whatever its methods say: nothing to check here,
		// and the method list can only call it "any value".
		ti.kind = kAny
		return nil
	case implements(t, textMarshalerType) || implements(t, textUnmarshalerType):
		ti.kind = kText
		return m.enum(ti)
	}
	switch t.Kind() {
	case reflect.Bool:
		ti.kind = kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		ti.kind, ti.bits = kInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		ti.kind, ti.bits = kUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		ti.kind, ti.bits = kFloat, t.Bits()
	case reflect.String:
		ti.kind = kString
		return m.enum(ti)
	case reflect.Interface:
		if t.NumMethod() > 0 {
			return fmt.Errorf("type %v: an interface with methods cannot be decoded from JSON", t)
		}
		ti.kind = kAny
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonMarshalerType) && !implements(t.Elem(), textMarshalerType) {
			ti.kind = kBytes
			return nil
		}
		ti.kind = kSlice
		return m.elem(ti, t.Elem(), added)
	case reflect.Array:
		ti.kind, ti.length = kArray, t.Len()
		return m.elem(ti, t.Elem(), added)
	case reflect.Map:
		ti.kind = kMap
		kt := t.Key()
		switch {
		case kt.Kind() == reflect.String:
			ti.key = &typeInfo{t: kt, kind: kString}
		case implements(kt, textUnmarshalerType):
			ti.key = &typeInfo{t: kt, kind: kText}
		case kt.Kind() >= reflect.Int && kt.Kind() <= reflect.Int64:
			ti.key = &typeInfo{t: kt, kind: kInt, bits: kt.Bits()}
		case kt.Kind() >= reflect.Uint && kt.Kind() <= reflect.Uintptr:
			ti.key = &typeInfo{t: kt, kind: kUint, bits: kt.Bits()}
		default:
			return fmt.Errorf("type %v: map keys must be strings or integers", t)
		}
		if err := m.enum(ti.key); err != nil {
			return err
		}
		return m.elem(ti, t.Elem(), added)
	case reflect.Struct:
		ti.kind = kStruct
		return m.structFields(ti, added)
	default:
		return fmt.Errorf("type %v: a %v cannot be sent as JSON", t, t.Kind())
	}
	return nil
}

func (m *typeModel) elem(ti *typeInfo, et reflect.Type, added map[reflect.Type]bool) error {
	e, err := m.build(et, added)
	if err != nil {
		return err
	}
	ti.elem = e
	return nil
}

func (m *typeModel) enum(ti *typeInfo) error {
	if !ti.t.Implements(enumType) {
		return nil
	}
	vals := reflect.Zero(ti.t).Interface().(Enum).EnumValues()
	if len(vals) == 0 {
		return fmt.Errorf("type %v: EnumValues returned no values", ti.t)
	}
	ti.enum = append([]string(nil), vals...)
	return nil
}

// structFields finds the JSON fields of a struct as encoding/json does:
// tag names, "-" skipped, unexported fields ignored, and the fields of
// untagged embedded structs promoted, the shallowest (then the only
// tagged) one winning a name and a tie dropping it.
func (m *typeModel) structFields(ti *typeInfo, added map[reflect.Type]bool) error {
	type level struct {
		t     reflect.Type
		index []int
	}
	var found []*fieldInfo
	depthOf := map[*fieldInfo]int{}
	visited := map[reflect.Type]bool{}
	next := []level{{ti.t, nil}}
	for depth := 0; len(next) > 0; depth++ {
		cur := next
		next = nil
		for _, lv := range cur {
			if visited[lv.t] {
				continue
			}
			visited[lv.t] = true
			for i := range lv.t.NumField() {
				f := lv.t.Field(i)
				ft := f.Type
				if f.Anonymous && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !f.IsExported() && !(f.Anonymous && ft.Kind() == reflect.Struct) {
					continue
				}
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validJSONName(name) {
					name = ""
				}
				index := append(append([]int(nil), lv.index...), i)
				if name == "" && f.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{ft, index})
					continue
				}
				if !f.IsExported() {
					continue
				}
				fi := &fieldInfo{name: name, tagged: name != "", index: index, doc: f.Tag.Get("doc")}
				if fi.name == "" {
					fi.name = f.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					switch o {
					case "omitempty", "omitzero":
						fi.optional = true
					case "string":
						switch f.Type.Kind() {
						case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
							reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
							return fmt.Errorf("type %v: field %s: %w", ti.t, f.Name, errUnsupportedOption)
						}
					}
				}
				typ, err := m.build(f.Type, added)
				if err != nil {
					return fmt.Errorf("type %v: field %s: %w", ti.t, f.Name, err)
				}
				fi.typ = typ
				found = append(found, fi)
				depthOf[fi] = depth
			}
		}
	}
	byName := map[string][]*fieldInfo{}
	for _, f := range found {
		byName[f.name] = append(byName[f.name], f)
	}
	ti.byName = map[string]*fieldInfo{}
	for name, fs := range byName {
		min := depthOf[fs[0]]
		for _, f := range fs {
			if depthOf[f] < min {
				min = depthOf[f]
			}
		}
		var top, tagged []*fieldInfo
		for _, f := range fs {
			if depthOf[f] == min {
				top = append(top, f)
				if f.tagged {
					tagged = append(tagged, f)
				}
			}
		}
		switch {
		case len(top) == 1:
			ti.byName[name] = top[0]
		case len(tagged) == 1:
			ti.byName[name] = tagged[0]
		}
	}
	for _, f := range ti.byName {
		ti.fields = append(ti.fields, f)
	}
	sort.Slice(ti.fields, func(i, j int) bool {
		a, b := ti.fields[i].index, ti.fields[j].index
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
	return nil
}

// validJSONName mirrors the names encoding/json accepts in a tag; others
// make it fall back to the Go field name.
func validJSONName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// decodeParams decodes params into v (a pointer to a value of ti's type),
// strictly: every field known, every type right, every required field
// present. Errors name the field as the client wrote it.
func decodeParams(ti *typeInfo, params json.RawMessage, v any) *Error {
	if params == nil || jsonKind(params) == "an array" && isEmptyArray(params) {
		params = json.RawMessage("{}")
	}
	var (
		doc     any
		members map[string]json.RawMessage
		err     error
	)
	if ti.kind == kStruct && jsonKind(params) == "an object" {
		if err = json.Unmarshal(params, &members); err == nil {
			doc, err = shapeObject(ti, members)
		}
	} else {
		doc, err = shape(ti, params)
	}
	if err != nil {
		return &Error{Code: CodeInvalidParams, Message: "invalid params: " + err.Error()}
	}
	if e := check(ti, doc, ""); e != nil {
		return e
	}
	if members != nil {
		// Field by field, from the members shape decoded: the whole
		// params are not scanned again, and a json.RawMessage field (a
		// notebook's body) is not even copied.
		rv := reflect.ValueOf(v).Elem()
		for k, raw := range members {
			if err := setField(rv, ti.byName[k], raw); err != nil {
				// check saw every field's type, so this comes from a
				// type's own UnmarshalJSON/UnmarshalText.
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) && te.Field != "" {
					return paramError(k+"."+te.Field, "invalid value")
				}
				return paramError(k, "%s", strings.TrimPrefix(err.Error(), "json: "))
			}
		}
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		// The check above saw every field, so what is left comes from a
		// type's own UnmarshalJSON/UnmarshalText: its message is ours.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return paramError(te.Field, "invalid value")
		}
		return &Error{Code: CodeInvalidParams, Message: "invalid params: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return nil
}

// setField decodes raw into the field of struct value rv that f is.
func setField(rv reflect.Value, f *fieldInfo, raw json.RawMessage) error {
	fv := rv
	for i, x := range f.index {
		if i > 0 && fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				fv.Set(reflect.New(fv.Type().Elem()))
			}
			fv = fv.Elem()
		}
		fv = fv.Field(x)
	}
	if fv.Type() == rawMessageType {
		fv.SetBytes(raw) // as encoding/json would, null included
		return nil
	}
	return json.Unmarshal(raw, fv.Addr().Interface())
}

// opaque stands, in what shape decodes, for a value of a type that takes
// any JSON: check has nothing to look at in it.
type opaque struct{}

// shape decodes params for check, only as deep as ti's type looks into
// them: a value of kind kAny (a notebook's body, say) is left undecoded,
// which on a 200 KB body is most of the time a request takes to decode.
// Numbers are json.Numbers.
func shape(ti *typeInfo, raw json.RawMessage) (any, error) {
	for ti.kind == kPtr {
		ti = ti.elem
	}
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return nil, errors.New("unexpected end of JSON input")
	}
	switch {
	case raw[0] == 'n': // null
		return nil, nil
	case ti.kind == kAny:
		return opaque{}, nil
	case raw[0] == '{' && (ti.kind == kStruct || ti.kind == kMap):
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, err
		}
		return shapeObject(ti, members)
	case raw[0] == '[' && (ti.kind == kSlice || ti.kind == kArray):
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		a := make([]any, len(elems))
		for i, e := range elems {
			var err error
			if a[i], err = shape(ti.elem, e); err != nil {
				return nil, err
			}
		}
		return a, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// shapeObject is shape of an object's members, for a struct or a map.
func shapeObject(ti *typeInfo, members map[string]json.RawMessage) (map[string]any, error) {
	o := make(map[string]any, len(members))
	for k, v := range members {
		elem := ti.elem
		if ti.kind == kStruct {
			f := ti.byName[k]
			if f == nil { // check refuses it by its name alone
				o[k] = opaque{}
				continue
			}
			elem = f.typ
		}
		var err error
		if o[k], err = shape(elem, v); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func isEmptyArray(b []byte) bool {
	var a []json.RawMessage
	return json.Unmarshal(b, &a) == nil && len(a) == 0
}

// paramError is an InvalidParams error at path ("" for the params
// themselves).
func paramError(path, format string, args ...any) *Error {
	if path == "" {
		return &Error{Code: CodeInvalidParams, Message: "invalid params: " + fmt.Sprintf(format, args...)}
	}
	return FieldError(path, format, args...)
}

// check checks a decoded JSON value (json.Number for numbers) against ti.
func check(ti *typeInfo, v any, path string) *Error {
	if v == nil {
		if ti.nullable() {
			return nil
		}
		return mismatch(ti, v, path)
	}
	switch ti.kind {
	case kAny:
		return nil
	case kPtr:
		return check(ti.elem, v, path)
	case kString, kText:
		s, ok := v.(string)
		if !ok {
			return mismatch(ti, v, path)
		}
		return checkEnum(ti, s, path)
	case kTime:
		s, ok := v.(string)
		if !ok {
			return mismatch(ti, v, path)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return paramError(path, "expected %s, got %s", describe(ti), quote(s))
		}
	case kBytes:
		s, ok := v.(string)
		if !ok {
			return mismatch(ti, v, path)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return paramError(path, "expected %s: %v", describe(ti), err)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return mismatch(ti, v, path)
		}
	case kInt, kUint, kFloat:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(ti, v, path)
		}
		return checkNumber(ti, string(n), path)
	case kSlice, kArray:
		a, ok := v.([]any)
		if !ok {
			return mismatch(ti, v, path)
		}
		if ti.kind == kArray && len(a) != ti.length {
			return paramError(path, "expected an array of %d elements, got %d", ti.length, len(a))
		}
		for i, e := range a {
			if err := check(ti.elem, e, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case kMap:
		o, ok := v.(map[string]any)
		if !ok {
			return mismatch(ti, v, path)
		}
		for _, k := range sortedKeys(o) {
			kp := joinPath(path, k)
			switch ti.key.kind {
			case kInt, kUint:
				if err := checkNumber(ti.key, k, kp); err != nil {
					return paramError(kp, "the key must be %s", describe(ti.key))
				}
			case kString, kText:
				if err := checkEnum(ti.key, k, kp); err != nil {
					return err
				}
			}
			if err := check(ti.elem, o[k], kp); err != nil {
				return err
			}
		}
	case kStruct:
		o, ok := v.(map[string]any)
		if !ok {
			return mismatch(ti, v, path)
		}
		keys := sortedKeys(o)
		for _, k := range keys {
			if ti.byName[k] == nil {
				if f := caseInsensitive(ti, k); f != nil {
					return paramError(joinPath(path, k), "unknown field (did you mean %s?)", quote(f.name))
				}
				return paramError(joinPath(path, k), "unknown field")
			}
		}
		for _, f := range ti.fields {
			fv, present := o[f.name]
			fp := joinPath(path, f.name)
			switch {
			case !present && f.optional:
			case !present:
				return paramError(fp, "required field is missing")
			case fv == nil && f.optional:
			default:
				if err := check(f.typ, fv, fp); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// caseInsensitive finds the field encoding/json would have bound k to:
// worth a hint, since it is almost always a typo in case.
func caseInsensitive(ti *typeInfo, k string) *fieldInfo {
	for _, f := range ti.fields {
		if strings.EqualFold(f.name, k) {
			return f
		}
	}
	return nil
}

func checkEnum(ti *typeInfo, s, path string) *Error {
	if len(ti.enum) == 0 {
		return nil
	}
	for _, e := range ti.enum {
		if s == e {
			return nil
		}
	}
	return paramError(path, "expected %s, got %s", describe(ti), quote(s))
}

func checkNumber(ti *typeInfo, n, path string) *Error {
	var err error
	switch ti.kind {
	case kInt:
		_, err = strconv.ParseInt(n, 10, ti.bits)
	case kUint:
		_, err = strconv.ParseUint(n, 10, ti.bits)
	case kFloat:
		_, err = strconv.ParseFloat(n, ti.bits)
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, strconv.ErrRange) {
		switch ti.kind {
		case kInt:
			return paramError(path, "%s is out of range: expected an integer from %d to %d",
				shorten(n), int64(-1)<<(ti.bits-1), int64(1)<<(ti.bits-1)-1)
		case kUint:
			return paramError(path, "%s is out of range: expected an integer from 0 to %d", shorten(n), uint64(1)<<ti.bits-1)
		}
		return paramError(path, "%s is out of range", shorten(n))
	}
	return paramError(path, "expected %s, got %s", describe(ti), shorten(n))
}

// shorten bounds a number's text in a message.
func shorten(n string) string {
	if len(n) > 32 {
		return n[:32] + "…"
	}
	return n
}

func mismatch(ti *typeInfo, v any, path string) *Error {
	return paramError(path, "expected %s, got %s", describe(ti), valueKind(v))
}

// describe names a type in the client's terms: JSON's, never Go's.
func describe(ti *typeInfo) string {
	switch ti.kind {
	case kPtr:
		return describe(ti.elem)
	case kString, kText:
		if len(ti.enum) > 0 {
			q := make([]string, len(ti.enum))
			for i, e := range ti.enum {
				q[i] = strconv.Quote(e)
			}
			return "one of " + strings.Join(q, ", ")
		}
		return "a string"
	case kTime:
		return "a date-time string (RFC 3339)"
	case kBytes:
		return "a base64 string"
	case kBool:
		return "a boolean"
	case kInt:
		return "an integer"
	case kUint:
		return "a non-negative integer"
	case kFloat:
		return "a number"
	case kSlice, kArray:
		return "an array"
	case kMap, kStruct:
		return "an object"
	}
	return "any value"
}

func valueKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

func sortedKeys(o map[string]any) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinPath appends a member to a field path the way JavaScript writes it:
// steps[2].name, labels['app.kubernetes.io/name'].
func joinPath(path, name string) string {
	name = truncate(name)
	if isIdent(name) {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return path + "['" + r.Replace(name) + "']"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}
