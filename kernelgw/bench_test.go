package kernelgw_test

// Benchmarks of the sidecar, each beside its floor in the same run
// (hack/bench-sidecar.sh runs them with -count 5 and prints medians):
//
//	BenchmarkAnalyzeRoundTrip  analyze over a WebSocket vs analyzer.Analyzer in-process
//	BenchmarkFanout            one run.event published to 100 subscribed WebSocket clients
//
// TestSidecarRunsDriver is no test: hack/bench-sidecar.sh runs it against a
// `datainsight serve` of its own, to start runs and track them over one
// WebSocket while it measures the server's memory.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/synth"
	"github.com/datainsight/datainsight/internal/testenv"
	"github.com/datainsight/datainsight/kernelgw"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	nbfile "github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

const benchToken = "sidecar-bench-token-0123456789"

// benchServer is a sidecar served on a loopback port for a benchmark.
type benchServer struct {
	sc   *kernelgw.Sidecar
	url  string // ws://127.0.0.1:PORT/ws
	root string
}

// startBench serves a sidecar whose notebook root is root; it closes when
// tb ends.
func startBench(tb testing.TB, root string) *benchServer {
	tb.Helper()
	python := os.Getenv("DATAINSIGHT_PYTHON")
	if python == "" {
		python = "python3"
	}
	svc := service.New(service.Config{Python: python, RunsDir: filepath.Join(tb.TempDir(), "runs")}, service.Options{})
	auth, err := rpc.TokenAuth(benchToken)
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := kernelgw.New(svc, kernelgw.Options{Root: root, Auth: auth})
	if err != nil {
		tb.Fatal(err)
	}
	l, err := rpc.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- sc.Serve(l) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sc.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return &benchServer{sc: sc, url: "ws://" + l.Addr().String() + "/ws", root: root}
}

func dialBench(tb testing.TB, url, tok string) *websocket.Conn {
	tb.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"token " + tok}})
	if err != nil {
		tb.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// benchMsg is any message from the server.
type benchMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// request is a JSON-RPC request, encoded once.
func request(tb testing.TB, id int, method string, params any) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// roundTrip sends req and reads messages until the response to id, which
// it decodes (a client has to) and checks.
func roundTrip(tb testing.TB, conn *websocket.Conn, id int, req []byte) benchMsg {
	if err := conn.WriteMessage(websocket.TextMessage, req); err != nil {
		tb.Fatal(err)
	}
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			tb.Fatal(err)
		}
		var m benchMsg
		if err := json.Unmarshal(data, &m); err != nil {
			tb.Fatal(err)
		}
		if m.Method != "" {
			continue // a notification
		}
		if string(m.ID) != strconv.Itoa(id) {
			tb.Fatalf("response to %s, want %d", m.ID, id)
		}
		if m.Error != nil {
			tb.Fatalf("call %d: %d %s", id, m.Error.Code, m.Error.Message)
		}
		return m
	}
}

// editTarget is the cell BenchmarkAnalyzeRoundTrip edits: the first cell of
// the last step, as analyzer's BenchmarkIncremental picks it.
func editTarget(tb testing.TB, nb *nbfile.Notebook) int {
	target := -1
	for i, c := range nb.Cells {
		if c.Type == nbfile.Code && len(c.Tags) > 0 && c.Tags[0] != "imports" {
			target = i
		}
	}
	if target < 0 {
		tb.Fatal("no tagged cell to edit")
	}
	return target
}

// BenchmarkAnalyzeRoundTrip: the panel's analyze of the 500-cell synthetic
// notebook as edited (its unsaved body, with its cell ids) over a
// WebSocket, beside the analyzer in-process.
//
//	ws-one-cell-edit          one cell edited, sent as an edit of the connection's last revision
//	ws-one-cell-edit-whole-body  the same edit, sent as the whole notebook's body
//	inprocess-one-cell-edit   the floor: the same edit, analyzer.Analyzer reused
//	ws-whole-notebook-cold    an unsaved notebook without a path: every cell parsed
//	inprocess-whole-cold      the floor: analyzer.Analyze of the parsed notebook
//
// The WebSocket figures include the request's encoding, the notebook's
// parse from JSON, the result's encoding and the client's decoding.
func BenchmarkAnalyzeRoundTrip(b *testing.B) {
	const name = "synth_s100_c500.ipynb"
	o, err := synth.ByName(name)
	if err != nil {
		b.Fatal(err)
	}
	data := synth.Notebook(o)
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
		b.Fatal(err)
	}
	nb, err := nbfile.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	target := editTarget(b, nb)
	orig := nb.Cells[target].Source
	edited := orig + "\n_edit = 1"

	// The two bodies the panel sends, alternately: every call is an edit.
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		b.Fatal(err)
	}
	cells := raw["cells"].([]any)
	if id := cells[target].(map[string]any)["id"]; id != nb.Cells[target].ID || id == "" {
		b.Fatalf("cell %d has id %v, want %q (the panel's ids)", target, id, nb.Cells[target].ID)
	}
	bodies := make([][]byte, 2)
	for i, src := range []string{edited, orig} {
		cells[target].(map[string]any)["source"] = src
		if bodies[i], err = json.Marshal(raw); err != nil {
			b.Fatal(err)
		}
	}

	s := startBench(b, root)
	conn := dialBench(b, s.url, benchToken)
	// Analyse once: the sidecar's analyzer of this notebook is warm.
	roundTrip(b, conn, 1, request(b, 1, "analyze", map[string]any{"path": name}))

	steps := func(b *testing.B, m benchMsg) {
		var r struct {
			Analysis struct {
				Steps []json.RawMessage `json:"steps"`
			} `json:"analysis"`
		}
		if err := json.Unmarshal(m.Result, &r); err != nil || len(r.Analysis.Steps) != o.Steps {
			b.Fatalf("analyze: %d steps (%v), want %d", len(r.Analysis.Steps), err, o.Steps)
		}
	}

	b.Run("ws-one-cell-edit", func(b *testing.B) {
		// The body once, then edits of the one cell, each against the
		// revision the previous call returned, as the panel sends them.
		var first struct {
			Revision string `json:"revision"`
		}
		m := roundTrip(b, conn, 5, request(b, 5, "analyze", map[string]any{"path": name, "body": json.RawMessage(bodies[1])}))
		if err := json.Unmarshal(m.Result, &first); err != nil || first.Revision == "" {
			b.Fatalf("analyze of the body: no revision (%v)", err)
		}
		rev := first.Revision
		id := nb.Cells[target].ID
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			src := edited
			if i%2 == 1 {
				src = orig
			}
			m := roundTrip(b, conn, 6, request(b, 6, "analyze", map[string]any{"path": name, "base": rev,
				"edits": []map[string]any{{"id": id, "source": src}}}))
			b.StopTimer()
			var r struct {
				Revision string `json:"revision"`
			}
			if err := json.Unmarshal(m.Result, &r); err != nil || r.Revision == "" {
				b.Fatalf("analyze with edits: no revision (%v)", err)
			}
			rev = r.Revision
			if i == 0 {
				steps(b, m)
			}
			b.StartTimer()
		}
	})

	b.Run("ws-one-cell-edit-whole-body", func(b *testing.B) {
		reqs := [][]byte{
			request(b, 2, "analyze", map[string]any{"path": name, "body": json.RawMessage(bodies[0])}),
			request(b, 3, "analyze", map[string]any{"path": name, "body": json.RawMessage(bodies[1])}),
		}
		b.SetBytes(int64(len(bodies[0])))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m := roundTrip(b, conn, 2+i%2, reqs[i%2])
			if i == 0 {
				b.StopTimer()
				steps(b, m)
				b.StartTimer()
			}
		}
	})

	b.Run("inprocess-one-cell-edit", func(b *testing.B) {
		a := analyzer.New()
		opts := analyzer.Options{Dir: root}
		nb.Cells[target].Source = orig
		a.Analyze(context.Background(), nb, opts)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				nb.Cells[target].Source = edited
			} else {
				nb.Cells[target].Source = orig
			}
			if an := a.Analyze(context.Background(), nb, opts); len(an.Steps) != o.Steps {
				b.Fatalf("%d steps, want %d", len(an.Steps), o.Steps)
			}
		}
		b.StopTimer()
		nb.Cells[target].Source = orig
	})

	b.Run("ws-whole-notebook-cold", func(b *testing.B) {
		// No path: the service analyses the body with an analyzer of its
		// own, every cell parsed.
		req := request(b, 4, "analyze", map[string]any{"body": json.RawMessage(bodies[1])})
		b.SetBytes(int64(len(bodies[1])))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m := roundTrip(b, conn, 4, req)
			if i == 0 {
				b.StopTimer()
				steps(b, m)
				b.StartTimer()
			}
		}
	})

	b.Run("inprocess-whole-cold", func(b *testing.B) {
		nb.Cells[target].Source = orig
		for i := 0; i < b.N; i++ {
			if an := analyzer.Analyze(context.Background(), nb, analyzer.Options{}); len(an.Steps) != o.Steps {
				b.Fatalf("%d steps, want %d", len(an.Steps), o.Steps)
			}
		}
	})
}

// tinyNotebook has one step that sleeps for the given seconds.
func tinyNotebook(sleep string) string {
	return `{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {"tags": ["block:nap"]}, "outputs": [],
 "source": "import time\ntime.sleep(` + sleep + `)\nprint('done')"}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}`
}

const fanoutClients = 100

// BenchmarkFanout: 100 WebSocket clients subscribed (run.subscribe) to one
// run; each iteration publishes one run.event to the run's topic through
// the server's Publish, as the sidecar's publishers do, and waits until all
// 100 clients have read it. ns/op is that time; p50-ms and p99-ms are its
// percentiles, each-p99-ms the 99th percentile of one client's latency.
// A message lost (a client dropped, or one that never comes) or out of
// order fails the benchmark.
//
// The run is a real one that has ended (run.subscribe needs a run): its
// own events, which the sidecar replays to each new subscriber, are told
// apart from the benchmark's by their step.
func BenchmarkFanout(b *testing.B) {
	python := os.Getenv("DATAINSIGHT_PYTHON")
	if python == "" {
		python = "python3"
	}
	if _, err := exec.LookPath(python); err != nil {
		testenv.Missing(b, "no %s for the run: %v", python, err)
	}
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "nb.ipynb"), []byte(tinyNotebook("0")), 0o644); err != nil {
		b.Fatal(err)
	}
	s := startBench(b, root)

	// A run, followed to its end.
	first := dialBench(b, s.url, benchToken)
	m := roundTrip(b, first, 1, request(b, 1, "run", map[string]any{"path": "nb.ipynb", "subscribe": true}))
	var started struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(m.Result, &started); err != nil || started.ID == "" {
		b.Fatalf("run: %s: %v", m.Result, err)
	}
	runID := started.ID
	for deadline := time.Now().Add(2 * time.Minute); ; {
		first.SetReadDeadline(deadline)
		_, data, err := first.ReadMessage()
		if err != nil {
			b.Fatalf("waiting for the run to end: %v", err)
		}
		var n benchMsg
		var ev cluster.Event
		if json.Unmarshal(data, &n) == nil && n.Method == "run.event" && json.Unmarshal(n.Params, &ev) == nil &&
			ev.Type == cluster.EventRun && ev.Phase.Done() {
			break
		}
	}
	first.SetReadDeadline(time.Time{})
	first.Close()

	// The clients, each subscribed, each with a reader that checks the
	// order of the benchmark's events and reports when it read each one.
	type ack struct {
		client, seq int
		at          time.Time
	}
	acks := make(chan ack, fanoutClients*4)
	var bad atomic.Value // the first loss or reordering seen, a string
	var readers sync.WaitGroup
	conns := make([]*websocket.Conn, fanoutClients)
	for k := range conns {
		conns[k] = dialBench(b, s.url, benchToken)
		roundTrip(b, conns[k], 1, request(b, 1, "run.subscribe", map[string]any{"run": runID}))
	}
	for k, conn := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			next := 0
			for {
				_, data, err := conn.ReadMessage()
				at := time.Now()
				if err != nil {
					return
				}
				var n benchMsg
				var ev cluster.Event
				if json.Unmarshal(data, &n) != nil || n.Method != "run.event" || json.Unmarshal(n.Params, &ev) != nil || ev.Step != "bench-fanout" {
					continue // the run's own events, replayed
				}
				seq, _ := strconv.Atoi(ev.Message)
				if seq != next {
					bad.CompareAndSwap(nil, fmt.Sprintf("client %d read message %d where %d was due", k, seq, next))
				}
				next = seq + 1
				acks <- ack{k, seq, at}
			}
		}()
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	})
	// Let the replays of the run's events to the subscribers end.
	time.Sleep(500 * time.Millisecond)

	topic := "run:" + runID
	srv := s.sc.RPC()
	all := make([]time.Duration, 0, b.N)
	each := make([]time.Duration, 0, b.N*fanoutClients)
	seen := make([]int, fanoutClients)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := cluster.Event{Time: time.Now(), Run: runID, Step: "bench-fanout", Type: cluster.EventStep,
			Phase: cluster.Running, Message: strconv.Itoa(i)}
		t0 := time.Now()
		if err := srv.Publish(topic, "run.event", ev); err != nil {
			b.Fatal(err)
		}
		var last time.Time
		timeout := time.After(30 * time.Second)
		for got := 0; got < fanoutClients; got++ {
			select {
			case a := <-acks:
				if a.seq != i || seen[a.client] != i {
					b.Fatalf("client %d: message %d while %d was due (%d read before)", a.client, a.seq, i, seen[a.client])
				}
				seen[a.client]++
				each = append(each, a.at.Sub(t0))
				if a.at.After(last) {
					last = a.at
				}
			case <-timeout:
				b.Fatalf("message %d lost: %d of %d clients read it in 30 s (%v)", i, got, fanoutClients, bad.Load())
			}
		}
		all = append(all, last.Sub(t0))
	}
	b.StopTimer()
	if v := bad.Load(); v != nil {
		b.Fatal(v)
	}
	for k, n := range seen {
		if n != b.N {
			b.Fatalf("client %d read %d messages of %d", k, n, b.N)
		}
	}
	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))]) / 1e6
	}
	b.ReportMetric(pct(all, 0.50), "p50-ms")
	b.ReportMetric(pct(all, 0.99), "p99-ms")
	b.ReportMetric(pct(each, 0.99), "each-p99-ms")
}

// benchDriver, when set, makes this test binary hack/bench-sidecar.sh's
// driver instead of running tests (see TestMain): runsDriver.
const benchDriver = "DATAINSIGHT_BENCH_URL"

// runsDriver starts runs on the `datainsight serve` at $DATAINSIGHT_BENCH_URL
// (with $DATAINSIGHT_BENCH_TOKEN) and tracks them over one WebSocket, for
// hack/bench-sidecar.sh: it calls run, with subscribe,
// $DATAINSIGHT_BENCH_RUNS times (default 50) for the notebook
// $DATAINSIGHT_BENCH_NOTEBOOK (a path under the server's root), prints
// "started N" once every run has started, and "ended N succeeded M" once
// every run has ended. It fails unless every run succeeded.
func runsDriver() error {
	url := os.Getenv(benchDriver)
	n, _ := strconv.Atoi(os.Getenv("DATAINSIGHT_BENCH_RUNS"))
	if n <= 0 {
		n = 50
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	ws := "ws" + strings.TrimPrefix(url, "http") + "/ws"
	conn, resp, err := websocket.DefaultDialer.Dial(ws, http.Header{"Authorization": {"token " + os.Getenv("DATAINSIGHT_BENCH_TOKEN")}})
	if err != nil {
		return fmt.Errorf("dial %s: %v (%v)", ws, err, resp)
	}
	defer conn.Close()
	for i := 1; i <= n; i++ {
		req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": i, "method": "run",
			"params": map[string]any{"path": os.Getenv("DATAINSIGHT_BENCH_NOTEBOOK"), "subscribe": true, "no_cache": true}})
		if err != nil {
			return err
		}
		if err := conn.WriteMessage(websocket.TextMessage, req); err != nil {
			return err
		}
	}
	runs := map[string]bool{}    // started
	ended := map[string]string{} // phase, of those that ended
	early := map[string]string{} // ended before their response came
	events, lines := 0, 0
	announced := false
	conn.SetReadDeadline(time.Now().Add(10 * time.Minute))
	for len(runs) < n || len(ended) < n {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("%d runs started, %d ended: %v", len(runs), len(ended), err)
		}
		var m benchMsg
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		switch m.Method {
		case "":
			if m.Error != nil {
				return fmt.Errorf("run %s: %d %s", m.ID, m.Error.Code, m.Error.Message)
			}
			var r struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(m.Result, &r); err != nil || r.ID == "" {
				return fmt.Errorf("run: %s: %v", m.Result, err)
			}
			runs[r.ID] = true
			if p, ok := early[r.ID]; ok {
				ended[r.ID] = p
			}
		case "run.event":
			events++
			var ev cluster.Event
			if err := json.Unmarshal(m.Params, &ev); err != nil {
				return err
			}
			if ev.Type == cluster.EventRun && ev.Phase.Done() {
				if runs[ev.Run] {
					ended[ev.Run] = string(ev.Phase)
				} else {
					early[ev.Run] = string(ev.Phase)
				}
			}
		case "run.log":
			lines++
		}
		if len(runs) == n && !announced {
			announced = true
			say("started %d (ended so far %d)", n, len(ended))
		}
	}
	ok := 0
	for _, p := range ended {
		if p == string(cluster.Succeeded) {
			ok++
		}
	}
	say("ended %d succeeded %d events %d lines %d", len(ended), ok, events, lines)
	if ok != n {
		return fmt.Errorf("%d of %d runs succeeded", ok, n)
	}
	return nil
}
