package jupyter

import (
	"errors"
	"fmt"
	"net/http"
)

// Conditions callers branch on. Errors returned by this package wrap them
// (errors.Is) together with what was being done and on which kernel.
var (
	// ErrKernelRestarted: the kernel restarted while an execution was
	// pending, so the execution's effects (and the kernel's state) are gone.
	// The connection stays usable: later executions run in the new kernel.
	ErrKernelRestarted = errors.New("kernel restarted")
	// ErrDisconnected: the WebSocket to the kernel dropped while an
	// execution was in flight; whether it ran is unknown. The connection
	// reconnects on its own; if it gives up, it ends with this error too.
	ErrDisconnected = errors.New("disconnected from kernel")
	// ErrKernelLost: the kernel no longer exists on the server (deleted,
	// or the server restarted), is shutting down for good, or died. The
	// connection ends with it (Kernel.Done) once the server confirms.
	ErrKernelLost = errors.New("kernel lost")
	// ErrKernelNotFound: the server answered 404 for a kernel id.
	ErrKernelNotFound = errors.New("kernel not found")
	// ErrClosed: the connection was closed by its owner.
	ErrClosed = errors.New("kernel connection closed")
	// ErrAborted: the kernel aborted the execution without running it
	// (it does so after an earlier request failed with stop_on_error).
	ErrAborted = errors.New("execution aborted by the kernel")
	// ErrQueueFull: too many executions are already waiting on the kernel.
	ErrQueueFull = errors.New("kernel execution queue full")
	// ErrMessageTooLarge: the kernel sent a message over the size limit;
	// the connection was dropped (and reconnects).
	ErrMessageTooLarge = errors.New("kernel message too large")
	// ErrUnauthorized: the server refused the token (401 or 403).
	ErrUnauthorized = errors.New("jupyter server refused the token")
)

// HTTPError is a Jupyter server's non-2xx answer to a REST call or to the
// WebSocket handshake.
type HTTPError struct {
	Method     string
	Path       string // the URL path, without query (the token never appears)
	StatusCode int
	Message    string // the server's "message" field, or the start of its body
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is lets callers test an HTTPError against the sentinels above without
// knowing status codes.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	}
	return false
}

// ExecError is an exception raised by executed code, as the kernel reported
// it. Execute returns it together with the Result holding the outputs.
type ExecError struct {
	EName     string   // exception class, e.g. "KeyboardInterrupt"
	EValue    string   // str(exception)
	Traceback []string // formatted lines; IPython's contain ANSI colour codes
}

func (e *ExecError) Error() string {
	if e.EValue == "" {
		return e.EName
	}
	return e.EName + ": " + e.EValue
}
