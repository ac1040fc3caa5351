package rpc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// The API of the golden tests: every kind of type the method list
// describes.

type RunStatus string

func (RunStatus) EnumValues() []string { return []string{"pending", "running", "succeeded", "failed"} }

type GPU struct {
	Count  int    `json:"count"`
	Vendor string `json:"vendor,omitempty"`
}

type Step struct {
	Name     string    `json:"name" doc:"The step's name, unique in the pipeline."`
	Cells    []int     `json:"cells"`
	Ins      []string  `json:"ins,omitempty"`
	GPU      *GPU      `json:"gpu,omitempty"`
	Status   RunStatus `json:"status"`
	Children []*Step   `json:"children,omitempty"` // recursion ends in a reference
}

type Meta struct {
	Labels  map[string]string `json:"labels,omitempty"`
	Created time.Time         `json:"created"`
}

type AnalyzeParams struct {
	Path    string          `json:"path" doc:"The notebook's path under the root."`
	Body    json.RawMessage `json:"body,omitempty" doc:"An unsaved notebook, instead of the file."`
	Options struct {
		Strict   bool   `json:"strict"`
		MaxSteps uint16 `json:"maxSteps,omitempty"`
	} `json:"options,omitzero"`
}

type AnalyzeResult struct {
	Meta
	Steps    []Step            `json:"steps"`
	Edges    [][2]string       `json:"edges"`
	ByStatus map[RunStatus]int `json:"byStatus,omitempty"`
	Digest   []byte            `json:"digest,omitempty"`
	Extra    any               `json:"extra"`
	Score    float64           `json:"score"`
	Parent   *Step             `json:"parent"`
}

// SubscribeParams has the name of rpc.SubscribeParams: the list tells them
// apart by package.
type SubscribeParams struct {
	Run string `json:"run"`
}

type RunStatusEvent struct {
	Run    string    `json:"run"`
	Status RunStatus `json:"status"`
	Step   *string   `json:"step,omitempty"`
}

func goldenServer(t *testing.T) *testServer {
	s := newServer(t, func(c *rpc.Config) {})
	must(t, rpc.Register(s.Server, "analyze", "Analyzes a notebook: steps, edges, ins and outs.",
		func(ctx context.Context, c *rpc.Conn, p AnalyzeParams) (AnalyzeResult, error) {
			return AnalyzeResult{}, nil
		}))
	must(t, rpc.Register(s.Server, "run.get", "Returns a run.",
		func(ctx context.Context, c *rpc.Conn, p struct {
			ID string `json:"id"`
		}) (*Step, error) {
			return nil, nil
		}))
	must(t, rpc.Register(s.Server, "run.watch", "Subscribes to a run's status.",
		func(ctx context.Context, c *rpc.Conn, p SubscribeParams) (struct{}, error) {
			return struct{}{}, c.Subscribe("run/" + p.Run)
		}))
	must(t, rpc.RegisterSubscriptions(s.Server, nil))
	must(t, rpc.DeclareNotification[RunStatusEvent](s.Server, "run.status", "A run's or a step's status changed."))
	return s
}

// golden compares got with testdata/name, or rewrites the file when
// UPDATE_GOLDEN is set.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if got != string(want) {
		t.Errorf("%s differs (UPDATE_GOLDEN=1 go test ./kernelgw/rpc/ rewrites it; review the diff):\n%s", path, got)
	}
}

func TestMethodListGolden(t *testing.T) {
	s := goldenServer(t)
	resp, body := s.do(t, http.MethodGet, "/rpc/methods", "", tokenHeader(testToken))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	golden(t, "methods.golden.json", body)

	// What a tool that fetched the list reads back is what the server
	// described.
	var ml rpc.MethodList
	must(t, json.Unmarshal([]byte(body), &ml))
	if !reflect.DeepEqual(ml, s.Methods()) {
		t.Error("the method list does not survive a round trip through JSON")
	}
}

func TestTypeScriptGolden(t *testing.T) {
	s := goldenServer(t)
	golden(t, "api.golden.ts", rpc.TypeScript(s.Methods()))
}

// The method list promises what the decoder enforces: a required field
// is required, an optional one is not.
func TestMethodListMatchesDecoder(t *testing.T) {
	s := goldenServer(t)
	ml := s.Methods()
	params := ml.Components.Schemas["AnalyzeParams"]
	if !reflect.DeepEqual(params.Required, []string{"path"}) {
		t.Errorf("required: %v", params.Required)
	}
	_, body := s.post(t, `{"jsonrpc":"2.0","id":1,"method":"analyze","params":{"body":{}}}`, nil)
	if !strings.Contains(body, `field \"path\": required field is missing`) {
		t.Errorf("missing path: %s", body)
	}
	_, body = s.post(t, `{"jsonrpc":"2.0","id":1,"method":"analyze","params":{"path":"x","options":{"strict":true,"maxSteps":3}}}`, nil)
	if !strings.Contains(body, `"result"`) {
		t.Errorf("optional fields: %s", body)
	}
}

func TestRegisterRefuses(t *testing.T) {
	s := newServer(t, nil)
	ok := func(ctx context.Context, c *rpc.Conn, p echoParams) (echoResult, error) { return echoResult{}, nil }
	for _, tc := range []struct {
		what string
		err  error
		want string
	}{
		{"twice", rpc.Register(s.Server, "echo", "", ok), "registered twice"},
		{"reserved", rpc.Register(s.Server, "rpc.mine", "", ok), "reserved"},
		{"empty", rpc.Register(s.Server, "", "", ok), "empty method name"},
		{"bad name", rpc.Register(s.Server, "run..get", "", ok), "dotted identifiers"},
		{"bad name", rpc.Register(s.Server, "run get", "", ok), "dotted identifiers"},
		{"non-struct params", rpc.Register(s.Server, "x", "", func(ctx context.Context, c *rpc.Conn, p string) (int, error) { return 0, nil }),
			"not a struct"},
		{"a channel", rpc.Register(s.Server, "y", "", func(ctx context.Context, c *rpc.Conn, p struct{ C chan int }) (int, error) { return 0, nil }),
			"cannot be sent as JSON"},
		{"a func result", rpc.Register(s.Server, "z", "", func(ctx context.Context, c *rpc.Conn, p struct{}) (func(), error) { return nil, nil }),
			"response"},
		{"nil", rpc.Register[struct{}, int](s.Server, "w", "", nil), "nil function"},
		{"notification twice", func() error {
			must(t, rpc.DeclareNotification[RunStatusEvent](s.Server, "n", ""))
			return rpc.DeclareNotification[RunStatusEvent](s.Server, "n", "")
		}(), "declared twice"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.what, tc.err, tc.want)
		}
	}
	for _, name := range []string{"x", "y", "z", "w"} {
		for _, m := range s.Methods().Methods {
			if m.Name == name {
				t.Errorf("a refused method %q was registered", name)
			}
		}
	}
}
