package kernelgw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/frontend"
	"github.com/datainsight/datainsight/internal/testenv"
	"github.com/datainsight/datainsight/kernelgw"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/service"
)

const token = "sidecar-test-token-0123456789"

// notebook has three steps, each printing what it computed.
const notebook = `{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:load"]}, "outputs": [], "source": ["values = [1, 2, 3]\n", "print('load says', len(values))"]},
  {"cell_type": "code", "execution_count": null, "id": "b", "metadata": {"tags": ["block:double"]}, "outputs": [], "source": ["doubled = [v * 2 for v in values]\n", "print('double says', doubled)"]},
  {"cell_type": "code", "execution_count": null, "id": "c", "metadata": {"tags": ["block:total"]}, "outputs": [], "source": ["total = sum(doubled)\n", "print('total says', total)"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

type sidecar struct {
	url  string // http://127.0.0.1:PORT
	root string
	runs string // the local runs' folder
}

// start serves a sidecar on a real loopback port, with a notebook root
// holding nb.ipynb; it is closed, and must close cleanly, when the test
// ends.
func start(t *testing.T) *sidecar {
	t.Helper()
	return startIn(t, t.TempDir(), nil)
}

// startIn is start with the notebook root given (it gets nb.ipynb too),
// and a client of the Jupyter server the kernels run in (or nil).
func startIn(t testing.TB, root string, jc *jupyter.Client) *sidecar {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	python := os.Getenv("DATAINSIGHT_PYTHON")
	if python == "" {
		python = "python3"
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	runs := filepath.Join(t.TempDir(), "runs")
	svc := service.New(service.Config{Python: python, RunsDir: runs}, service.Options{Logger: log})
	auth, err := rpc.TokenAuth(token)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := kernelgw.New(svc, kernelgw.Options{Root: root, Auth: auth, Logger: log, Jupyter: jc})
	if err != nil {
		t.Fatal(err)
	}
	l, err := rpc.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- sc.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sc.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &sidecar{url: "http://" + l.Addr().String(), root: root, runs: runs}
}

type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type response struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

// post calls a method over HTTP with the token (or with auth, when set).
func (s *sidecar) post(t testing.TB, auth, method string, params any) (*response, int) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.url+"/rpc", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth == "" {
		auth = "token " + token
	}
	if auth != "none" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: decode the response: %v", method, err)
	}
	return &r, resp.StatusCode
}

// call calls a method over HTTP and decodes its result into out.
func (s *sidecar) call(t testing.TB, method string, params, out any) {
	t.Helper()
	r, status := s.post(t, "", method, params)
	if r.Error != nil || status != http.StatusOK {
		t.Fatalf("%s: status %d, error %+v", method, status, r.Error)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		t.Fatalf("%s: decode the result %s: %v", method, r.Result, err)
	}
}

func TestAnalyzeAndCompileOverHTTP(t *testing.T) {
	s := start(t)

	var an struct {
		Analysis struct {
			Steps []struct {
				Name string            `json:"name"`
				Ins  map[string]string `json:"ins"`
				Outs []string          `json:"outs"`
			} `json:"steps"`
			Diagnostics []json.RawMessage `json:"diagnostics"`
		} `json:"analysis"`
	}
	s.call(t, "analyze", map[string]any{"path": "nb.ipynb"}, &an)
	var names []string
	for _, st := range an.Analysis.Steps {
		names = append(names, st.Name)
	}
	if got := strings.Join(names, " "); got != "load double total" {
		t.Fatalf("analyze: steps %q, want load double total", got)
	}
	if got := an.Analysis.Steps[1].Ins["values"]; got != "load" {
		t.Errorf("analyze: double loads values from %q, want load", got)
	}
	if got := an.Analysis.Steps[2].Ins["doubled"]; got != "double" {
		t.Errorf("analyze: total loads doubled from %q, want double", got)
	}

	// An unsaved body is analysed as it is, not as the file on disk is.
	var edited map[string]any
	if err := json.Unmarshal([]byte(notebook), &edited); err != nil {
		t.Fatal(err)
	}
	cells := edited["cells"].([]any)
	edited["cells"] = append(cells, map[string]any{"cell_type": "code", "execution_count": nil, "id": "d",
		"metadata": map[string]any{"tags": []string{"block:report"}}, "outputs": []any{}, "source": "print(total)"})
	s.call(t, "analyze", map[string]any{"path": "nb.ipynb", "body": edited}, &an)
	if n := len(an.Analysis.Steps); n != 4 || an.Analysis.Steps[3].Ins["total"] != "total" {
		t.Errorf("analyze of the unsaved body: %d steps (%+v), want 4, the last loading total", n, an.Analysis.Steps)
	}
	s.call(t, "analyze", map[string]any{"body": edited}, &an)
	if n := len(an.Analysis.Steps); n != 4 {
		t.Errorf("analyze of a body without a path: %d steps, want 4", n)
	}

	var comp struct {
		Workflow    string            `json:"workflow"`
		Diagnostics []json.RawMessage `json:"diagnostics"`
	}
	s.call(t, "compile", map[string]any{"path": "nb.ipynb"}, &comp)
	for _, want := range []string{"kind: Workflow", "name: load", "name: double", "name: total", "print('total says', total)"} {
		if !strings.Contains(comp.Workflow, want) {
			t.Errorf("compile: the workflow lacks %q:\n%s", want, comp.Workflow)
		}
	}

	// A notebook with errors is refused, with its diagnostics as data.
	broken := strings.Replace(notebook, `"block:total"`, `"block:total", "prev:nowhere"`, 1)
	r, _ := s.post(t, "", "compile", map[string]any{"body": json.RawMessage(broken)})
	if r.Error == nil || r.Error.Code != rpc.CodeFailed || !strings.Contains(string(r.Error.Data), "diagnostics") {
		t.Errorf("compile of a broken notebook: %+v, want a Failed error with diagnostics", r.Error)
	}

	// The method list describes what was registered.
	req, _ := http.NewRequest(http.MethodGet, s.url+"/rpc/methods", nil)
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list bytes.Buffer
	list.ReadFrom(resp.Body)
	for _, m := range []string{"analyze", "compile", "run", "runs", "run.get", "run.logs", "run.definition", "run.report", "run.cancel", "run.retry", "run.resubmit", "run.delete", "run.subscribe", "run.event", "run.log", "notebook.subscribe", "notebook.unsubscribe", "notebook.analysis", "check", "explore", "env", "settings.get", "settings.set"} {
		if !strings.Contains(list.String(), `"`+m+`"`) {
			t.Errorf("/rpc/methods does not list %s", m)
		}
	}
}

func TestRefusals(t *testing.T) {
	s := start(t)

	for _, auth := range []string{"none", "token wrong-token"} {
		r, status := s.post(t, auth, "analyze", map[string]any{"path": "nb.ipynb"})
		if status != http.StatusUnauthorized || r.Error == nil || r.Error.Code != rpc.CodeUnauthorized {
			t.Errorf("analyze with Authorization %q: status %d, error %+v; want 401 Unauthorized", auth, status, r.Error)
		}
	}

	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.ipynb")
	if err := os.WriteFile(secret, []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.root, "link")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method string
		params map[string]any
	}{
		{"analyze", map[string]any{"path": "../secret.ipynb"}},
		{"analyze", map[string]any{"path": secret}},
		{"compile", map[string]any{"path": "link/secret.ipynb"}},
		{"run", map[string]any{"path": secret}},
		{"runs", map[string]any{"path": secret}},
		{"run.logs", map[string]any{"run": "x-12345", "path": "../secret.ipynb"}},
	} {
		r, _ := s.post(t, "", tc.method, tc.params)
		if r.Error == nil || r.Error.Code != rpc.CodeForbiddenPath || !strings.Contains(r.Error.Message, `field "path"`) {
			t.Errorf("%s %v: error %+v, want ForbiddenPath naming the field", tc.method, tc.params, r.Error)
			continue
		}
		var data map[string]string
		if err := json.Unmarshal(r.Error.Data, &data); err != nil || data["field"] != "path" {
			t.Errorf("%s %v: error data %s, want field: path", tc.method, tc.params, r.Error.Data)
		}
	}

	// Bad params name their field; an unknown run is NotFound.
	r, _ := s.post(t, "", "run.get", map[string]any{"run": "nope-12345"})
	if r.Error == nil || r.Error.Code != rpc.CodeNotFound {
		t.Errorf("run.get of an unknown run: %+v, want NotFound", r.Error)
	}
	r, _ = s.post(t, "", "run", map[string]any{"path": "nb.ipynb", "backend": "slurm"})
	if r.Error == nil || r.Error.Code != rpc.CodeInvalidParams || !strings.Contains(r.Error.Message, "backend") {
		t.Errorf("run on an unknown backend: %+v, want InvalidParams naming backend", r.Error)
	}
	r, _ = s.post(t, "", "run", map[string]any{"path": "nb.ipynb", "subscribe": true})
	if r.Error == nil || !strings.Contains(r.Error.Message, "WebSocket") {
		t.Errorf("run with subscribe over HTTP: %+v, want an error saying it needs a WebSocket", r.Error)
	}
}

// wsClient is a WebSocket client that keeps every message it reads.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan response
}

func (s *sidecar) dial(t *testing.T) *wsClient {
	t.Helper()
	h := http.Header{"Authorization": {"token " + token}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/ws", h)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	return readAll(t, conn)
}

// readAll makes a wsClient of conn, reading every message into its queue
// until conn closes (when t ends, at the latest).
func readAll(t *testing.T, conn *websocket.Conn) *wsClient {
	c := &wsClient{t: t, conn: conn, msgs: make(chan response, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			var m response
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c
}

func (c *wsClient) send(id int, method string, params any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message, failing the test after a minute.
func (c *wsClient) next() response {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("the connection ended")
		}
		return m
	case <-time.After(time.Minute):
		c.t.Fatal("no message for a minute")
	}
	return response{}
}

func TestRunOverWebSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 steps")
	}
	python := os.Getenv("DATAINSIGHT_PYTHON")
	if python == "" {
		python = "python3"
	}
	if _, err := exec.LookPath(python); err != nil {
		testenv.Missing(t, "no %s: %v", python, err)
	}
	s := start(t)
	c := s.dial(t)
	c.send(1, "run", map[string]any{"path": "nb.ipynb", "subscribe": true})

	// Read until the run has ended and every line printed has come: the
	// response, the run's events and its log lines come on one socket,
	// in no fixed order between the three.
	var runID string
	var events []cluster.Event
	logs := map[string][]string{}
	ended := false
	wantLines := map[string]string{"load": "load says 3", "double": "double says [2, 4, 6]", "total": "total says 12"}
	haveLines := func() bool {
		for step, line := range wantLines {
			found := false
			for _, l := range logs[step] {
				found = found || l == line
			}
			if !found {
				return false
			}
		}
		return true
	}
	for runID == "" || !ended || !haveLines() {
		m := c.next()
		switch m.Method {
		case "":
			if m.Error != nil {
				t.Fatalf("run: %+v", m.Error)
			}
			var res struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(m.Result, &res); err != nil || res.ID == "" {
				t.Fatalf("run: result %s: %v", m.Result, err)
			}
			runID = res.ID
		case "run.event":
			var ev cluster.Event
			if err := json.Unmarshal(m.Params, &ev); err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
			if ev.Type == cluster.EventRun && ev.Phase.Done() {
				ended = true
				// The run's end is the last message of its topic.
				if !haveLines() {
					t.Errorf("the run's end came before its steps' last lines: %v", logs)
				}
			}
		case "run.log":
			if ended {
				t.Errorf("a line after the run's end: %s", m.Params)
			}
			var l kernelgw.LogLine
			if err := json.Unmarshal(m.Params, &l); err != nil {
				t.Fatal(err)
			}
			logs[l.Step] = append(logs[l.Step], l.Line)
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}

	var seq []string
	for _, ev := range events {
		if ev.Run != runID {
			t.Errorf("event of run %s, want %s: %+v", ev.Run, runID, ev)
		}
		seq = append(seq, fmt.Sprintf("%s:%s:%s", ev.Type, ev.Step, ev.Phase))
	}
	t.Logf("events: %s", strings.Join(seq, " "))
	index := func(what string) int {
		for i, s := range seq {
			if s == what {
				return i
			}
		}
		t.Errorf("no event %s in %s", what, strings.Join(seq, " "))
		return -1
	}
	last := -1
	for _, step := range []string{"load", "double", "total"} {
		running, succeeded := index("step:"+step+":Running"), index("step:"+step+":Succeeded")
		// The steps depend on each other, so each starts after the one
		// before it succeeded.
		if !(last < running && running < succeeded) {
			t.Errorf("step %s: Running at %d, Succeeded at %d, the step before succeeded at %d: want them in that order", step, running, succeeded, last)
		}
		last = succeeded
	}
	if end := index("run::Succeeded"); end != len(seq)-1 || end < last {
		t.Errorf("the run's Succeeded is event %d of %d, want the last", end, len(seq))
	}

	// run.logs returns what the steps printed, each line with its step.
	c.send(2, "run.logs", map[string]any{"run": runID})
	var all struct {
		Logs string `json:"logs"`
	}
	c.result(2, &all)
	for step, line := range wantLines {
		if !strings.Contains(all.Logs, step+" | "+line+"\n") {
			t.Errorf("run.logs lacks %q:\n%s", step+" | "+line, all.Logs)
		}
	}
	c.send(3, "run.logs", map[string]any{"run": runID, "step": "total"})
	c.result(3, &all)
	// One step's output is raw: its lines, unprefixed.
	if !slices.Contains(strings.Split(all.Logs, "\n"), "total says 12") || strings.Contains(all.Logs, "total | ") || strings.Contains(all.Logs, "load says") {
		t.Errorf("run.logs of step total: %q, want its lines only, without prefixes", all.Logs)
	}

	// The same over HTTP: state, list, report; a finished run's
	// subscription says so and sends nothing more.
	var run cluster.Run
	s.call(t, "run.get", map[string]any{"run": runID}, &run)
	if run.Phase != cluster.Succeeded || len(run.Steps) != 3 {
		t.Errorf("run.get: %s with %d steps, want Succeeded with 3", run.Phase, len(run.Steps))
	}
	var runs struct {
		Runs []cluster.Run `json:"runs"`
	}
	s.call(t, "runs", map[string]any{"path": "nb.ipynb"}, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].ID != runID {
		t.Errorf("runs: %+v, want the one run", runs.Runs)
	}
	var report struct {
		Report string `json:"report"`
		Format string `json:"format"`
	}
	s.call(t, "run.report", map[string]any{"run": runID, "step": "double"}, &report)
	if report.Format != "ipynb" || !strings.Contains(report.Report, "double says [2, 4, 6]") {
		t.Errorf("run.report: %s report without the step's output:\n%s", report.Format, report.Report)
	}
	var def kernelgw.DefinitionResult
	s.call(t, "run.definition", map[string]any{"run": runID}, &def)
	if def.Kind != "Pipeline" || !strings.Contains(def.YAML, "double") || !strings.Contains(def.YAML, "doubled = [v * 2 for v in values]") {
		t.Errorf("run.definition: %s\n%s\nwant the pipeline with the steps' scripts", def.Kind, def.YAML)
	}
	c.send(4, "run.subscribe", map[string]any{"run": runID})
	var sub struct {
		Topic string      `json:"topic"`
		Run   cluster.Run `json:"run"`
	}
	c.result(4, &sub)
	if sub.Run.Phase != cluster.Succeeded || sub.Topic != "run:"+runID {
		t.Errorf("run.subscribe to a finished run: %+v", sub)
	}
	r, _ := s.post(t, "", "run.retry", map[string]any{"run": runID})
	if r.Error == nil || r.Error.Code != rpc.CodeConflict {
		t.Errorf("run.retry of a run that succeeded: %+v, want Conflict", r.Error)
	}
	var del struct {
		Deleted string `json:"deleted"`
	}
	s.call(t, "run.delete", map[string]any{"run": runID}, &del)
	r, _ = s.post(t, "", "run.get", map[string]any{"run": runID})
	if r.Error == nil || r.Error.Code != rpc.CodeNotFound {
		t.Errorf("run.get after run.delete: %+v, want NotFound", r.Error)
	}
	if r, _ = s.post(t, "", "run.definition", map[string]any{"run": runID}); r.Error == nil || r.Error.Code != rpc.CodeNotFound {
		t.Errorf("run.definition after run.delete: %+v, want NotFound", r.Error)
	}
}

// result reads messages until the response to id, skipping
// notifications, and decodes its result.
func (c *wsClient) result(id int, out any) {
	c.t.Helper()
	for {
		m := c.next()
		if m.Method != "" {
			continue
		}
		if string(m.ID) != fmt.Sprint(id) {
			c.t.Fatalf("response to %s, want %d", m.ID, id)
		}
		if m.Error != nil {
			c.t.Fatalf("call %d: %+v", id, m.Error)
		}
		if err := json.Unmarshal(m.Result, out); err != nil {
			c.t.Fatalf("call %d: result %s: %v", id, m.Result, err)
		}
		return
	}
}

// TestAnalyzeEditsOverWebSocket: the panel sends a notebook's body once,
// then only the cells a keystroke changed, against the revision its last
// analysis returned.
func TestAnalyzeEditsOverWebSocket(t *testing.T) {
	s := start(t)
	c := s.dial(t)
	type stepInfo struct {
		Name string            `json:"name"`
		Ins  map[string]string `json:"ins"`
	}
	type result struct {
		Analysis struct {
			Steps []stepInfo `json:"steps"`
		} `json:"analysis"`
		Revision string `json:"revision"`
	}
	id := 0
	call := func(params map[string]any) (result, *rpcError) {
		t.Helper()
		id++
		c.send(id, "analyze", params)
		m := c.next()
		if string(m.ID) != fmt.Sprint(id) {
			t.Fatalf("response to %s, want %d", m.ID, id)
		}
		var r result
		if m.Error == nil {
			if err := json.Unmarshal(m.Result, &r); err != nil {
				t.Fatal(err)
			}
		}
		return r, m.Error
	}
	steps := func(r result) string {
		var out []string
		for _, st := range r.Analysis.Steps {
			var ins []string
			for v, from := range st.Ins {
				ins = append(ins, v+"<"+from)
			}
			slices.Sort(ins)
			out = append(out, st.Name+"("+strings.Join(ins, ",")+")")
		}
		return strings.Join(out, " ")
	}

	r1, e := call(map[string]any{"path": "nb.ipynb", "body": json.RawMessage(notebook)})
	if e != nil || r1.Revision == "" {
		t.Fatalf("analyze of a body: %+v, revision %q", e, r1.Revision)
	}
	if got, want := steps(r1), "load() double(values<load) total(doubled<double)"; got != want {
		t.Fatalf("steps %s, want %s", got, want)
	}

	r2, e := call(map[string]any{"path": "nb.ipynb", "base": r1.Revision,
		"edits": []map[string]any{{"id": "c", "source": "total = sum(values)\nprint('total says', total)"}}})
	if e != nil {
		t.Fatalf("analyze with edits: %+v", e)
	}
	if got, want := steps(r2), "load() double(values<load) total(values<load)"; got != want {
		t.Errorf("after the edit: steps %s, want %s", got, want)
	}
	if r2.Revision == "" || r2.Revision == r1.Revision {
		t.Errorf("revision after the edit %q, before %q: want a new one", r2.Revision, r1.Revision)
	}

	// Edits build on each other: a tag change renames a step.
	r3, e := call(map[string]any{"path": "nb.ipynb", "base": r2.Revision,
		"edits": []map[string]any{{"id": "a", "source": "values = [1, 2, 3]", "tags": []string{"block:read"}}}})
	if e != nil {
		t.Fatalf("analyze with a tag edit: %+v", e)
	}
	if got, want := steps(r3), "read() double(values<read) total(values<read)"; got != want {
		t.Errorf("after the tag edit: steps %s, want %s", got, want)
	}

	field := func(e *rpcError) string {
		var d struct {
			Field string `json:"field"`
		}
		if e != nil {
			_ = json.Unmarshal(e.Data, &d)
		}
		return d.Field
	}
	// An older revision is refused: the client resends the body.
	if _, e := call(map[string]any{"path": "nb.ipynb", "base": r2.Revision, "edits": []map[string]any{{"id": "a", "source": "x = 1"}}}); e == nil || e.Code != rpc.CodeConflict || field(e) != "base" {
		t.Errorf("a stale base: %+v, want code %d naming base", e, rpc.CodeConflict)
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
		field  string
	}{
		{"unknown cell", map[string]any{"path": "nb.ipynb", "base": r3.Revision, "edits": []map[string]any{{"id": "a", "source": "x"}, {"id": "nope", "source": "y"}}}, "edits[1]"},
		{"body and edits", map[string]any{"path": "nb.ipynb", "base": r3.Revision, "body": json.RawMessage(notebook), "edits": []map[string]any{{"id": "a", "source": "x"}}}, "edits"},
		{"edits without base", map[string]any{"path": "nb.ipynb", "edits": []map[string]any{{"id": "a", "source": "x"}}}, "base"},
		{"another notebook's revision", map[string]any{"path": "other.ipynb", "base": r3.Revision, "edits": []map[string]any{{"id": "a", "source": "x"}}}, "base"},
	} {
		if _, e := call(tc.params); e == nil || field(e) != tc.field {
			t.Errorf("%s: %+v, want an error naming %s", tc.name, e, tc.field)
		}
	}
	// A failed edit changed nothing: the latest revision still works.
	if _, e := call(map[string]any{"path": "nb.ipynb", "base": r3.Revision, "edits": []map[string]any{}}); e != nil {
		t.Errorf("the latest revision after failed edits: %+v", e)
	}

	// Another connection has drafts of its own; HTTP has none.
	other := s.dial(t)
	other.send(1, "analyze", map[string]any{"path": "nb.ipynb", "base": r3.Revision, "edits": []map[string]any{{"id": "a", "source": "x"}}})
	if m := other.next(); m.Error == nil || m.Error.Code != rpc.CodeConflict {
		t.Errorf("another connection's revision: %+v, want a conflict", m.Error)
	}
	if r, _ := s.post(t, "", "analyze", map[string]any{"path": "nb.ipynb", "base": r3.Revision, "edits": []map[string]any{{"id": "a", "source": "x"}}}); r.Error == nil || !strings.Contains(r.Error.Message, "WebSocket") {
		t.Errorf("edits over HTTP: %+v, want an error saying they need a WebSocket", r.Error)
	}
	// Nothing was written.
	if b, err := os.ReadFile(filepath.Join(s.root, "nb.ipynb")); err != nil || string(b) != notebook {
		t.Errorf("the notebook on disk changed (%v)", err)
	}
}

// TestNotebookSubscription: a notebook saved on disk (by JupyterLab, or an
// editor) reaches its subscribers as its analysis.
func TestNotebookSubscription(t *testing.T) {
	s := start(t)
	a, b := s.dial(t), s.dial(t)
	type sub struct {
		Topic    string `json:"topic"`
		Path     string `json:"path"`
		Analysis struct {
			Steps []struct {
				Name string `json:"name"`
			} `json:"steps"`
		} `json:"analysis"`
		Error string `json:"error"`
	}
	names := func(v sub) string {
		var n []string
		for _, st := range v.Analysis.Steps {
			n = append(n, st.Name)
		}
		return strings.Join(n, " ")
	}
	decode := func(raw json.RawMessage) sub {
		var v sub
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []*wsClient{a, b} {
		c.send(1, "notebook.subscribe", map[string]any{"path": "./nb.ipynb"})
		m := c.next()
		if m.Error != nil {
			t.Fatalf("notebook.subscribe: %+v", m.Error)
		}
		if v := decode(m.Result); v.Path != "nb.ipynb" || names(v) != "load double total" {
			t.Fatalf("notebook.subscribe: path %q, steps %q", v.Path, names(v))
		}
	}
	// Saved as Jupyter saves: a new file renamed over the old one.
	save := func(body string) {
		tmp := filepath.Join(s.root, ".nb.ipynb~")
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(s.root, "nb.ipynb")); err != nil {
			t.Fatal(err)
		}
	}
	save(strings.Replace(notebook, "block:total", "block:sum", 1))
	for _, c := range []*wsClient{a, b} {
		m := c.next()
		if v := decode(m.Params); m.Method != "notebook.analysis" || v.Path != "nb.ipynb" || names(v) != "load double sum" {
			t.Errorf("after a save: %s %s, want notebook.analysis with steps load double sum", m.Method, m.Params)
		}
	}
	// One client leaves; the other still hears, of a broken file too.
	a.send(2, "notebook.unsubscribe", map[string]any{"path": "nb.ipynb"})
	if m := a.next(); m.Error != nil {
		t.Fatalf("notebook.unsubscribe: %+v", m.Error)
	}
	save("{not json")
	m := b.next()
	if v := decode(m.Params); m.Method != "notebook.analysis" || v.Error == "" || !strings.Contains(v.Error, "nb.ipynb") {
		t.Errorf("after a broken save: %s %s, want an error naming the file", m.Method, m.Params)
	}
	// The unsubscribed client heard nothing more: its next message is the
	// answer to its next call.
	a.send(3, "runs", map[string]any{})
	if m := a.next(); m.Method != "" || string(m.ID) != "3" {
		t.Errorf("unsubscribed client got %s %s", m.Method, m.Params)
	}

	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{}, "path"},
		{map[string]any{"path": "../outside.ipynb"}, "path"},
		{map[string]any{"path": "missing.ipynb"}, "missing.ipynb"},
	} {
		b.send(9, "notebook.subscribe", tc.params)
		var m response
		for m = b.next(); m.Method != ""; m = b.next() {
		}
		if m.Error == nil || !strings.Contains(m.Error.Message, tc.want) {
			t.Errorf("notebook.subscribe %v: %+v, want an error naming %s", tc.params, m.Error, tc.want)
		}
	}
	if r, _ := s.post(t, "", "notebook.subscribe", map[string]any{"path": "nb.ipynb"}); r.Error == nil || !strings.Contains(r.Error.Message, "WebSocket") {
		t.Errorf("notebook.subscribe over HTTP: %+v, want an error saying it needs a WebSocket", r.Error)
	}
}

// The sidecar serves the panel's assets under /panel/ (public files, no
// token), or a page that says this binary has none.
func TestPanelAssets(t *testing.T) {
	s := start(t)
	resp, err := http.Get(s.url + "/panel/labextension/package.json")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if frontend.Built() {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), `"name"`) {
			t.Errorf("GET /panel/labextension/package.json: %d %.200s", resp.StatusCode, body.String())
		}
	} else if resp.StatusCode != http.StatusNotFound || !strings.Contains(body.String(), "not built") {
		t.Errorf("GET /panel/labextension/package.json without a build: %d %.200s, want 404 and the not-built page", resp.StatusCode, body.String())
	}
	// The RPC endpoints still want the token.
	if r, status := s.post(t, "none", "runs", map[string]any{}); status != http.StatusUnauthorized {
		t.Errorf("runs without a token beside the panel: %d %+v", status, r.Error)
	}
}

// config shows what the sidecar was configured with; the namespace is the
// configuration's and nothing a request says.
func TestConfig(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte(notebook), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Config{Backend: "local", Namespace: "team-a", Kubeconfig: filepath.Join(t.TempDir(), "none"), Marshal: "s3://b-u-c/p"}, service.Options{})
	auth, _ := rpc.TokenAuth(token)
	sc, err := kernelgw.New(svc, kernelgw.Options{Root: root, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	defer sc.Close(context.Background())
	s := &sidecar{url: srv.URL, root: root}
	var cfg kernelgw.ConfigResult
	s.call(t, "config", map[string]any{}, &cfg)
	if cfg.Backend != "local" || cfg.Marshal != "s3://b-u-c/p" || cfg.Jupyter {
		t.Errorf("config: %+v", cfg)
	}
	// No kubeconfig at that path: the namespace cannot be had, and says why.
	if cfg.Namespace != "" || !strings.Contains(cfg.NamespaceError, "no cluster configuration") {
		t.Errorf("config without a cluster: namespace %q, error %q", cfg.Namespace, cfg.NamespaceError)
	}
	if r, _ := s.post(t, "", "config", map[string]any{"namespace": "other"}); r.Error == nil || r.Error.Code != rpc.CodeInvalidParams {
		t.Errorf("config with a namespace in the request: %+v, want invalid params", r.Error)
	}

	// With a cluster configured, the configured namespace over the context's.
	kubeconfig := filepath.Join(t.TempDir(), "config")
	kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
		"contexts: [{name: x, context: {cluster: c, namespace: from-context}}]\ncurrent-context: x\n"
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ configured, want string }{{"team-a", "team-a"}, {"", "from-context"}} {
		svc := service.New(service.Config{Backend: "argo", Namespace: tc.configured, Kubeconfig: kubeconfig}, service.Options{})
		sc, err := kernelgw.New(svc, kernelgw.Options{Root: root, Auth: auth})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sc)
		var cfg kernelgw.ConfigResult
		(&sidecar{url: srv.URL, root: root}).call(t, "config", map[string]any{}, &cfg)
		if cfg.Backend != "argo" || cfg.Namespace != tc.want || cfg.NamespaceError != "" {
			t.Errorf("config with namespace %q configured: %+v, want namespace %s", tc.configured, cfg, tc.want)
		}
		srv.Close()
		sc.Close(context.Background())
	}
}
