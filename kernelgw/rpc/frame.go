package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Framing: bytes in, requests out, and responses back to bytes. Nothing
// here knows about methods, transports or handlers, so the fuzz target can
// drive it alone and HTTP and WebSocket share it.

// request is one decoded JSON-RPC request, or the reason an element of the
// frame is not one.
type request struct {
	id     json.RawMessage // verbatim; nil when absent (a notification)
	method string
	params json.RawMessage // an object or array; nil when absent or null
	err    *Error          // not a valid request: answer with this
}

// notification reports whether the request expects no response. An
// invalid request is always answered, with a null id if it had none.
func (r *request) notification() bool { return r.err == nil && r.id == nil }

// response is one JSON-RPC response object.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

var nullID = json.RawMessage("null")

func errorResponse(id json.RawMessage, e *Error) *response {
	if id == nil {
		id = nullID
	}
	return &response{JSONRPC: "2.0", ID: id, Error: e}
}

// decodeFrame decodes one HTTP body or WebSocket message: a request, or a
// batch of them. A frame-level error (not JSON, an empty or oversized
// batch) is answered with one error response; errors in single requests
// travel in request.err so that a batch answers the good ones.
func decodeFrame(data []byte, maxBatch int) (reqs []*request, batch bool, ferr *Error) {
	data = bytes.Trim(data, " \t\r\n") // JSON's whitespace, not Unicode's
	if len(data) > 0 && data[0] == '{' {
		// A single request: decoding its members checks it all, so a
		// large one (a notebook's body) is not scanned once more first.
		var syntax *json.SyntaxError
		r := decodeRequest(data)
		if r.err != nil && errors.As(r.err.err, &syntax) {
			return nil, false, &Error{Code: CodeParseError, Message: parseErrorMessage(data)}
		}
		return []*request{r}, false, nil
	}
	if !json.Valid(data) {
		// The spec wants a parse error whenever the JSON is broken,
		// even if the broken part is deep inside a batch.
		return nil, false, &Error{Code: CodeParseError, Message: parseErrorMessage(data)}
	}
	if data[0] != '[' {
		return []*request{decodeRequest(data)}, false, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, false, &Error{Code: CodeParseError, Message: "parse error: " + err.Error()}
	}
	if len(elems) == 0 {
		return nil, false, &Error{Code: CodeInvalidRequest, Message: "invalid request: empty batch"}
	}
	if len(elems) > maxBatch {
		return nil, false, &Error{Code: CodeTooLarge,
			Message: fmt.Sprintf("batch of %d requests exceeds the limit of %d", len(elems), maxBatch)}
	}
	reqs = make([]*request, len(elems))
	for i, e := range elems {
		reqs[i] = decodeRequest(e)
	}
	return reqs, true, nil
}

// parseErrorMessage says where the JSON broke, which json.Valid does not.
func parseErrorMessage(data []byte) string {
	if len(data) == 0 {
		return "parse error: empty message"
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "parse error: " + err.Error()
	}
	return "parse error: invalid JSON"
}

// decodeRequest decodes one request object. The envelope is strict like the
// params: an unknown member is more likely a client's typo ("param") than
// an extension, and silently ignoring it would hide the bug.
func decodeRequest(data json.RawMessage) *request {
	r := &request{}
	if kind := jsonKind(data); kind != "an object" {
		r.err = &Error{Code: CodeInvalidRequest, Message: "invalid request: expected an object, got " + kind}
		return r
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		r.err = &Error{Code: CodeInvalidRequest, Message: "invalid request: " + err.Error(), err: err}
		return r
	}
	// The id first, so that the errors below can echo it.
	if id, ok := members["id"]; ok {
		switch jsonKind(id) {
		case "a string", "a number", "null":
			r.id = id
		default:
			r.err = &Error{Code: CodeInvalidRequest,
				Message: "invalid request: member \"id\": expected a string, a number or null, got " + jsonKind(id)}
			return r
		}
	}
	fail := func(format string, args ...any) *request {
		r.err = &Error{Code: CodeInvalidRequest, Message: "invalid request: " + fmt.Sprintf(format, args...)}
		return r
	}
	var unknown []string
	for k := range members {
		switch k {
		case "jsonrpc", "id", "method", "params":
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fail("unknown member %s", quote(unknown[0]))
	}
	v, ok := members["jsonrpc"]
	if !ok {
		return fail(`member "jsonrpc" is missing: expected "2.0"`)
	}
	if string(v) != `"2.0"` {
		var s string
		if json.Unmarshal(v, &s) != nil || s != "2.0" {
			return fail(`member "jsonrpc": expected "2.0"`)
		}
	}
	m, ok := members["method"]
	if !ok {
		return fail(`member "method" is missing`)
	}
	if jsonKind(m) != "a string" {
		return fail(`member "method": expected a string, got %s`, jsonKind(m))
	}
	if err := json.Unmarshal(m, &r.method); err != nil || r.method == "" {
		return fail(`member "method" is empty`)
	}
	if p, ok := members["params"]; ok {
		switch jsonKind(p) {
		case "an object", "an array":
			r.params = p
		case "null": // some clients send it for "no params"
		default:
			return fail(`member "params": expected an object or an array, got %s`, jsonKind(p))
		}
	}
	return r
}

// jsonKind names the kind of a valid JSON value in user terms.
func jsonKind(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// encodeResponses encodes what a frame's requests produced: one object
// for a single request, an array for a batch, nothing when every request
// was a notification.
func encodeResponses(resps []*response, batch bool) []byte {
	if len(resps) == 0 {
		return nil
	}
	var v any = resps
	if !batch {
		v = resps[0]
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Results were marshalled before they got here; an error's Data
		// that does not encode is the only way in. The message alone
		// still tells the client what happened.
		for _, r := range resps {
			if r.Error != nil {
				r.Error.Data = nil
			}
		}
		b, _ = json.Marshal(v)
	}
	return b
}

// encodeNotification encodes a notification the server sends.
func encodeNotification(method string, params any) ([]byte, error) {
	n := struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
	}{"2.0", method, params}
	b, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode notification %s: %w", method, err)
	}
	return b, nil
}
