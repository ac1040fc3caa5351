package jupyter

import (
	"encoding/json"
	"strings"
)

// OutputType is the kind of an Output, named as the kernel names the message.
type OutputType string

const (
	OutputStream            OutputType = "stream"
	OutputExecuteResult     OutputType = "execute_result"
	OutputDisplayData       OutputType = "display_data"
	OutputUpdateDisplayData OutputType = "update_display_data"
	OutputError             OutputType = "error"
	// OutputClear is clear_output: only ExecuteOptions.OnOutput sees it
	// (as it happens); Result.Outputs shows its effect instead.
	OutputClear OutputType = "clear_output"
)

// Output is one output of an execution.
type Output struct {
	Type OutputType

	Name string // stream: "stdout" or "stderr"
	Text string // stream

	// execute_result, display_data, update_display_data: the MIME bundle
	// (values as sent: a string, or JSON for application/json and friends).
	Data           map[string]json.RawMessage
	Metadata       json.RawMessage
	ExecutionCount int    // execute_result
	DisplayID      string // display_data with a display_id, update_display_data

	EName, EValue string // error
	Traceback     []string
}

// size approximates what o holds, for the output budget.
func (o *Output) size() int {
	n := len(o.Text) + len(o.Metadata) + len(o.EName) + len(o.EValue)
	for k, v := range o.Data {
		n += len(k) + len(v)
	}
	for _, l := range o.Traceback {
		n += len(l)
	}
	return n
}

// ExecuteOptions tune one execution. The zero value runs code quietly: no
// history entry, no aborting of other clients' queued cells on error.
type ExecuteOptions struct {
	// Silent: the kernel neither counts the execution nor sends its value
	// (IPython still sends what the code prints, and errors).
	Silent bool
	// StoreHistory: record the code in the kernel's history, as a user's
	// cell would be (and advance In[n]). The sidecar's own code should not.
	StoreHistory bool
	// StopOnError: if the code raises, the kernel aborts the requests
	// queued behind it — the user's queued cells included, so off by default.
	StopOnError bool
	// UserExpressions are evaluated after the code; their results come back
	// in Result.UserExpressions as MIME bundles.
	UserExpressions map[string]string
	// OnOutput, if set, sees each output as it arrives (for live progress),
	// on the goroutine that called Execute. It must not call Execute on the
	// same kernel: that one would wait behind this one forever.
	OnOutput func(Output)
}

// Result is what an execution produced.
type Result struct {
	// Status is the execute_reply's: "ok", "error" or "aborted"; empty if
	// no reply came.
	Status string
	// ExecutionCount is the kernel's In[n] counter for this execution.
	ExecutionCount int
	// Outputs in order; consecutive stream chunks of one name are joined,
	// clear_output is applied.
	Outputs []Output
	// Truncated: outputs beyond Config.MaxOutputBytes were dropped (and
	// only reached ExecuteOptions.OnOutput).
	Truncated bool
	// UserExpressions holds the evaluated ExecuteOptions.UserExpressions,
	// as the kernel sent them.
	UserExpressions map[string]json.RawMessage

	size         int
	pendingClear bool
	// The last output, a stream, is built in buf: joining chunks by string
	// concatenation would be quadratic in a chatty execution.
	buf     []byte
	buffing bool
}

// Stream returns all text written to the named stream ("stdout", "stderr").
func (r *Result) Stream(name string) string {
	var b strings.Builder
	for _, o := range r.Outputs {
		if o.Type == OutputStream && o.Name == name {
			b.WriteString(o.Text)
		}
	}
	return b.String()
}

// Stdout is Stream("stdout").
func (r *Result) Stdout() string { return r.Stream("stdout") }

// Stderr is Stream("stderr").
func (r *Result) Stderr() string { return r.Stream("stderr") }

// Value returns the text/plain form of the execute_result (the cell's
// value, as IPython shows Out[n]), and whether there was one.
func (r *Result) Value() (string, bool) {
	for _, o := range r.Outputs {
		if o.Type != OutputExecuteResult {
			continue
		}
		var s string
		if err := json.Unmarshal(o.Data["text/plain"], &s); err != nil {
			return "", false
		}
		return s, true
	}
	return "", false
}

// add records o, within the budget of max bytes.
func (r *Result) add(o Output, max int) {
	if r.pendingClear {
		r.clear()
	}
	if o.Type == OutputUpdateDisplayData {
		r.flush()
		// It replaces earlier displays with its id, and is not an output
		// of its own (as in a notebook).
		for i := range r.Outputs {
			if r.Outputs[i].Type == OutputDisplayData && o.DisplayID != "" && r.Outputs[i].DisplayID == o.DisplayID {
				r.size += o.size() - r.Outputs[i].size()
				r.Outputs[i].Data, r.Outputs[i].Metadata = o.Data, o.Metadata
			}
		}
		r.Truncated = r.Truncated || r.size > max
		return
	}
	n := o.size()
	if r.size+n > max {
		r.Truncated = true
		return
	}
	r.size += n
	if last := len(r.Outputs) - 1; o.Type == OutputStream && r.buffing && r.Outputs[last].Name == o.Name {
		r.buf = append(r.buf, o.Text...)
		return
	}
	r.flush()
	r.Outputs = append(r.Outputs, o)
	if o.Type == OutputStream {
		r.buf, r.buffing = append(r.buf[:0], o.Text...), true
	}
}

// flush completes the stream output being built, if any.
func (r *Result) flush() {
	if r.buffing {
		r.Outputs[len(r.Outputs)-1].Text = string(r.buf)
		r.buf, r.buffing = r.buf[:0], false
	}
}

// finish makes r ready for its reader.
func (r *Result) finish() {
	r.flush()
	r.buf = nil
}

// clearOutput applies clear_output: now, or (wait) before the next output.
func (r *Result) clearOutput(wait bool) {
	if wait {
		r.pendingClear = true
		return
	}
	r.clear()
}

func (r *Result) clear() {
	r.Outputs, r.size, r.pendingClear = nil, 0, false
	r.buf, r.buffing = r.buf[:0], false
}
