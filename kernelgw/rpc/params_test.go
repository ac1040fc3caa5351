package rpc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type runBackend string

func (runBackend) EnumValues() []string { return []string{"local", "argo"} }

type stepSpec struct {
	Name  string `json:"name"`
	Image string `json:"image,omitempty"`
	GPUs  int8   `json:"gpus,omitempty"`
}

type labelled struct {
	Labels map[string]string `json:"labels,omitempty"`
}

type decodeReq struct {
	Path    string          `json:"path"`
	Backend runBackend      `json:"backend,omitempty"`
	Steps   []stepSpec      `json:"steps,omitempty"`
	Limit   uint16          `json:"limit,omitempty"`
	Ratio   float32         `json:"ratio,omitempty"`
	Since   time.Time       `json:"since,omitzero"`
	Data    []byte          `json:"data,omitempty"`
	Extra   any             `json:"extra,omitempty"`
	Parent  *stepSpec       `json:"parent,omitempty"`
	Counts  map[int]int     `json:"counts,omitempty"`
	Force   bool            `json:"force,omitempty"`
	Pair    [2]int          `json:"pair,omitzero"`
	Tags    []string        `json:"tags"` // required, but may be null
	Body    json.RawMessage `json:"body,omitempty"`
	labelled
	hidden int
}

func decodeInfo(t testing.TB) *typeInfo {
	t.Helper()
	var m typeModel
	ti, err := m.info(reflect.TypeFor[decodeReq]())
	if err != nil {
		t.Fatal(err)
	}
	return ti
}

// goNames are what must never reach a client: Go's words for types.
var goNames = []string{"int8", "uint16", "float32", "int64", "float64", "stepSpec", "decodeReq",
	"runBackend", "struct", "map[", "[]", "rpc.", "time.Time", "json:", "Go "}

func TestDecodeParams(t *testing.T) {
	ti := decodeInfo(t)
	for _, tc := range []struct {
		params string
		msg    string // "" for success
		field  string
	}{
		{`{"path":"a.ipynb","tags":[]}`, "", ""},
		{`{"path":"a.ipynb","tags":null}`, "", ""},
		{`{"path":"a","tags":[],"parent":null,"backend":null}`, "", ""},
		{`{"path":"a","tags":[],"extra":{"anything":[1,"x",null]}}`, "", ""},
		{`{"path":"a","tags":[],"since":"2025-01-02T03:04:05Z","data":"aGk=","pair":[1,2],"counts":{"-3":4}}`, "", ""},
		{`{}`, `invalid params: field "path": required field is missing`, "path"},
		{`[]`, `invalid params: field "path": required field is missing`, "path"},
		{`[1]`, `invalid params: expected an object, got an array`, ""},
		{`{"path":"a"}`, `invalid params: field "tags": required field is missing`, "tags"},
		{`{"path":"a","tags":[],"nmae":1}`, `invalid params: field "nmae": unknown field`, "nmae"},
		{`{"Path":"a","tags":[]}`, `invalid params: field "Path": unknown field (did you mean "path"?)`, "Path"},
		{`{"path":"a","tags":[],"hidden":1}`, `invalid params: field "hidden": unknown field`, "hidden"},
		{`{"path":1,"tags":[]}`, `invalid params: field "path": expected a string, got a number`, "path"},
		{`{"path":null,"tags":[]}`, `invalid params: field "path": expected a string, got null`, "path"},
		{`{"path":"a","tags":[1]}`, `invalid params: field "tags[0]": expected a string, got a number`, "tags[0]"},
		{`{"path":"a","tags":[],"steps":[{"name":"x"},{"name":2}]}`,
			`invalid params: field "steps[1].name": expected a string, got a number`, "steps[1].name"},
		{`{"path":"a","tags":[],"steps":[{"name":"x","imgae":"y"}]}`,
			`invalid params: field "steps[0].imgae": unknown field`, "steps[0].imgae"},
		{`{"path":"a","tags":[],"steps":[{"name":"x","gpus":300}]}`,
			`invalid params: field "steps[0].gpus": 300 is out of range: expected an integer from -128 to 127`, "steps[0].gpus"},
		{`{"path":"a","tags":[],"steps":[null]}`, `invalid params: field "steps[0]": expected an object, got null`, "steps[0]"},
		{`{"path":"a","tags":[],"limit":-1}`, `invalid params: field "limit": expected a non-negative integer, got -1`, "limit"},
		{`{"path":"a","tags":[],"limit":1.5}`, `invalid params: field "limit": expected a non-negative integer, got 1.5`, "limit"},
		{`{"path":"a","tags":[],"limit":70000}`, `invalid params: field "limit": 70000 is out of range: expected an integer from 0 to 65535`, "limit"},
		{`{"path":"a","tags":[],"ratio":1e39}`, `invalid params: field "ratio": 1e39 is out of range`, "ratio"},
		{`{"path":"a","tags":[],"backend":"k8s"}`, `invalid params: field "backend": expected one of "local", "argo", got "k8s"`, "backend"},
		{`{"path":"a","tags":[],"since":"yesterday"}`,
			`invalid params: field "since": expected a date-time string (RFC 3339), got "yesterday"`, "since"},
		{`{"path":"a","tags":[],"data":"!!"}`, `invalid params: field "data": expected a base64 string`, "data"},
		{`{"path":"a","tags":[],"force":"yes"}`, `invalid params: field "force": expected a boolean, got a string`, "force"},
		{`{"path":"a","tags":[],"labels":{"a":1}}`, `invalid params: field "labels.a": expected a string, got a number`, "labels.a"},
		{`{"path":"a","tags":[],"labels":{"app.kubernetes.io/name":1}}`,
			`invalid params: field "labels['app.kubernetes.io/name']": expected a string, got a number`, "labels['app.kubernetes.io/name']"},
		{`{"path":"a","tags":[],"counts":{"x":1}}`, `invalid params: field "counts.x": the key must be an integer`, "counts.x"},
		{`{"path":"a","tags":[],"pair":[1]}`, `invalid params: field "pair": expected an array of 2 elements, got 1`, "pair"},
		{`{"path":"a","tags":[],"parent":{"name":"p","x":1}}`, `invalid params: field "parent.x": unknown field`, "parent.x"},
	} {
		var got decodeReq
		e := decodeParams(ti, json.RawMessage(tc.params), &got)
		if tc.msg == "" {
			if e != nil {
				t.Errorf("%s: %v", tc.params, e)
			}
			continue
		}
		if e == nil {
			t.Errorf("%s: no error, want %q", tc.params, tc.msg)
			continue
		}
		if e.Code != CodeInvalidParams || !strings.HasPrefix(e.Message, tc.msg) {
			t.Errorf("%s:\n got %d %q\nwant %d %q", tc.params, e.Code, e.Message, CodeInvalidParams, tc.msg)
		}
		var field string
		if d, ok := e.Data.(map[string]string); ok {
			field = d["field"]
		}
		if field != tc.field {
			t.Errorf("%s: data.field = %q, want %q", tc.params, field, tc.field)
		}
		for _, g := range goNames {
			if strings.Contains(e.Message, g) {
				t.Errorf("%s: message %q names Go's %q", tc.params, e.Message, g)
			}
		}
	}
}

func TestDecodeParamsValues(t *testing.T) {
	ti := decodeInfo(t)
	var got decodeReq
	params := `{"path":"nb.ipynb","backend":"argo","steps":[{"name":"a","gpus":2}],"limit":7,"ratio":0.5,
		"since":"2025-01-02T03:04:05Z","data":"aGk=","parent":{"name":"p"},"counts":{"1":2},"force":true,
		"pair":[3,4],"tags":["x"],"labels":{"k":"v"}}`
	if e := decodeParams(ti, json.RawMessage(params), &got); e != nil {
		t.Fatal(e)
	}
	want := decodeReq{
		Path: "nb.ipynb", Backend: "argo", Steps: []stepSpec{{Name: "a", GPUs: 2}}, Limit: 7, Ratio: 0.5,
		Since: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Data: []byte("hi"), Parent: &stepSpec{Name: "p"},
		Counts: map[int]int{1: 2}, Force: true, Pair: [2]int{3, 4}, Tags: []string{"x"},
		labelled: labelled{Labels: map[string]string{"k": "v"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// Embedded structs promote their fields as encoding/json does: the
// shallower field wins, a tie is dropped unless one side is tagged.
func TestStructFieldsLikeEncodingJSON(t *testing.T) {
	type A struct {
		X int `json:"x"`
		Y int
		Z int
	}
	type B struct {
		X int
		Y int
		Z int `json:"Z"`
	}
	type outer struct {
		A
		B
		Y   string `json:"y"`
		Own int    `json:"-"`
		Raw json.RawMessage
	}
	var m typeModel
	ti, err := m.info(reflect.TypeFor[outer]())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range ti.fields {
		names = append(names, f.name)
	}
	// x: A's (tagged) beats B's X? No: different names ("x" vs "X").
	// Y: both embedded at depth 1, untagged: dropped; y: outer's own.
	// Z: A's untagged vs B's tagged at the same depth: B's wins.
	want := []string{"x", "X", "Z", "y", "Raw"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("fields %q, want %q", names, want)
	}
	// encoding/json agrees about which names exist.
	b, _ := json.Marshal(outer{})
	var keys map[string]any
	json.Unmarshal(b, &keys)
	if len(keys) != len(want) {
		t.Errorf("encoding/json has %v, the model %q", keys, want)
	}
	for _, n := range want {
		if _, ok := keys[n]; !ok {
			t.Errorf("encoding/json lacks %q: %v", n, keys)
		}
	}
}

func TestTypeModelRefuses(t *testing.T) {
	for _, tc := range []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[struct{ C chan int }](), "chan"},
		{reflect.TypeFor[struct{ F func() }](), "func"},
		{reflect.TypeFor[struct{ E error }](), "interface with methods"},
		{reflect.TypeFor[struct {
			N int `json:"n,string"`
		}](), `",string"`},
		{reflect.TypeFor[map[struct{}]int](), "map keys"},
		{reflect.TypeFor[struct{ C complex64 }](), "complex64"},
	} {
		var m typeModel
		_, err := m.info(tc.t)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one about %s", tc.t, err, tc.want)
		}
		if len(m.cache) != 0 {
			t.Errorf("%v: a failed build left %d types in the cache", tc.t, len(m.cache))
		}
	}
}

type tree struct {
	Name     string  `json:"name"`
	Children []*tree `json:"children,omitempty"`
}

func TestRecursiveType(t *testing.T) {
	var m typeModel
	ti, err := m.info(reflect.TypeFor[tree]())
	if err != nil {
		t.Fatal(err)
	}
	var got tree
	e := decodeParams(ti, json.RawMessage(`{"name":"a","children":[{"name":"b","children":[{"name":3}]}]}`), &got)
	if e == nil || !strings.Contains(e.Message, `field "children[0].children[0].name"`) {
		t.Errorf("got %v", e)
	}
}
