package rpc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error codes. The panel and the kernel's client branch on them, so they
// never change meaning once released.
//
// -32768..-32000 are reserved by JSON-RPC 2.0; of those, -32700 and
// -32600..-32603 are the standard ones and -32000..-32099 are for
// implementations. This package allocates -32000..-32049; services that need
// codes of their own take them from -32050..-32099 and document them beside
// the method.
const (
	CodeParseError     = -32700 // the message is not JSON
	CodeInvalidRequest = -32600 // JSON, but not a JSON-RPC 2.0 request
	CodeMethodNotFound = -32601 // no such method
	CodeInvalidParams  = -32602 // params do not fit the method's request type
	CodeInternal       = -32603 // a bug on the server (a handler panicked, a result did not encode)

	CodeFailed        = -32000 // the method failed; the message says why
	CodeUnauthorized  = -32001 // no credentials, or wrong ones
	CodeForbiddenPath = -32002 // a path outside the notebook root
	CodeNotFound      = -32003 // the thing named does not exist
	CodeConflict      = -32004 // the thing exists, or is in a state that forbids the call
	CodeTooLarge      = -32005 // a body, message or batch over its limit
	CodeCanceled      = -32006 // the call was canceled: the client left or the server is stopping
	CodeTimeout       = -32007 // the call ran past its deadline
	CodeUnavailable   = -32008 // the server is shutting down or has no room for another client
	CodeForbidden     = -32009 // authenticated, but refused: a foreign Origin, or a missing XSRF token
)

// ErrorCode describes one error code in the method list.
type ErrorCode struct {
	Code        int    `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ErrorCodes returns every code this package uses, for the method list and
// the TypeScript declarations. It returns a new slice on each call: the
// table is a constant, not state.
func ErrorCodes() []ErrorCode {
	return []ErrorCode{
		{CodeParseError, "ParseError", "the message is not JSON"},
		{CodeInvalidRequest, "InvalidRequest", "not a JSON-RPC 2.0 request"},
		{CodeMethodNotFound, "MethodNotFound", "no such method"},
		{CodeInvalidParams, "InvalidParams", "params do not fit the method; data.field names the field"},
		{CodeInternal, "Internal", "a bug on the server; its log has the details"},
		{CodeFailed, "Failed", "the method failed; the message says why"},
		{CodeUnauthorized, "Unauthorized", "no credentials, or wrong ones"},
		{CodeForbiddenPath, "ForbiddenPath", "a path outside the notebook root; data.path names it"},
		{CodeNotFound, "NotFound", "the thing named does not exist"},
		{CodeConflict, "Conflict", "the thing exists, or its state forbids the call"},
		{CodeTooLarge, "TooLarge", "a body, message or batch over its limit"},
		{CodeCanceled, "Canceled", "the call was canceled: the client left or the server is stopping"},
		{CodeTimeout, "Timeout", "the call ran past its deadline"},
		{CodeUnavailable, "Unavailable", "the server is shutting down or full"},
		{CodeForbidden, "Forbidden", "refused: a foreign Origin or a missing XSRF token"},
	}
}

// Error is a JSON-RPC error object. A handler returns one (directly or
// wrapped) to choose the code the client sees; any other error becomes
// CodeFailed with the error's text, which by this project's conventions
// says what was being done and with what.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Data is optional detail for programs: {"field": ...} for
	// InvalidParams, {"path": ...} for ForbiddenPath.
	Data any `json:"data,omitempty"`

	err error // what Errorf formatted, for Unwrap; never sent
}

// Errorf returns an Error with code and a message formatted as by
// fmt.Errorf; errors wrapped with %w stay reachable through errors.Is/As.
func Errorf(code int, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), err: err}
}

// FieldError returns an InvalidParams error about one field of the params,
// worded and shaped like the decoder's own, for checks a type cannot
// express (a path that must end in .ipynb, a range between two fields).
// field is the path as the client writes it: "steps[2].name".
func FieldError(field, format string, args ...any) *Error {
	e := Errorf(CodeInvalidParams, "invalid params: field %s: "+format, append([]any{quote(field)}, args...)...)
	e.Data = map[string]string{"field": field}
	return e
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns what Errorf's format wrapped with %w.
func (e *Error) Unwrap() []error {
	switch u := e.err.(type) {
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	case interface{ Unwrap() error }:
		if w := u.Unwrap(); w != nil {
			return []error{w}
		}
	}
	return nil
}

// CodeOf returns the code err is sent to a client with.
func CodeOf(err error) int {
	if err == nil {
		return 0
	}
	return toError(err).Code
}

// toError maps what a handler returned to what the client sees.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		// Only the public fields travel; the chain stays on this side.
		return &Error{Code: e.Code, Message: e.Message, Data: e.Data}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeCanceled, Message: "request canceled: " + err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "request timed out: " + err.Error()}
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Code: CodeNotFound, Message: err.Error()}
	}
	return &Error{Code: CodeFailed, Message: err.Error()}
}

// canceled describes why ctx ended, for a handler that returned nothing
// better.
func canceled(ctx context.Context) *Error {
	cause := context.Cause(ctx)
	if errors.Is(cause, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "request timed out: " + cause.Error()}
	}
	return &Error{Code: CodeCanceled, Message: "request canceled: " + cause.Error()}
}

// maxQuoted bounds how much of a client's own text an error message
// repeats: a field name or method can be megabytes long.
const maxQuoted = 96

// quote quotes a client-supplied string for a message, shortened.
func quote(s string) string {
	if t := truncate(s); t != s {
		return strconv.Quote(strings.TrimSuffix(t, "…")) + "…"
	}
	return strconv.Quote(s)
}

// truncate shortens s to about maxQuoted bytes, on a rune boundary.
func truncate(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
