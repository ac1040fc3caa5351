// Package rpc is the transport and security layer of the sidecar's RPC
// server: JSON-RPC 2.0 over HTTP (POST /rpc) and over one WebSocket per
// client (/ws), for the JupyterLab panel and for calls made from inside the
// user's kernel. The service layer (analyze, compile, run, ...) plugs in
// through Register, one typed function per method; this package owns
// everything between the socket and that function.
//
// Framing (frame.go) is separate from dispatch (server.go): the same
// decoded requests run over HTTP, where batches are answered as one array,
// and over WebSocket, where each request runs on its own and may be
// answered out of order. Params are decoded strictly against the method's
// Go request type (params.go): an unknown or misspelt field, a wrong type
// or a missing required field is an InvalidParams error naming the field
// as the client wrote it, never a Go type. Errors have stable codes
// (errors.go) so that the panel can branch on them.
//
// The same Go types describe the API (schema.go): GET /rpc/methods serves
// an OpenAPI-like method list, and TypeScript renders it as declarations
// for the panel, so request and response shapes are written once, in Go.
//
// The sidecar runs on the user's machine next to their notebooks and can
// run code as them, so every request must authenticate (auth.go): the
// sidecar's token in an Authorization header, or Jupyter's login cookie
// when the panel reaches it through Jupyter's proxy, with Jupyter's XSRF
// rule for state-changing requests and an Origin allow-list against
// cross-site WebSocket hijacking. Tokens in URLs are refused. Notebook
// paths from clients are confined to the notebook root (root.go).
//
// Everything a client can make the server hold is bounded: request bodies
// and WebSocket messages, batch size, in-flight calls and queued messages
// per client, subscriptions, clients. A client that does not keep up with
// what is sent to it is dropped rather than allowed to slow the publisher
// or other clients. The package has no global state, writes nothing to
// stdout or stderr, and logs only to the *slog.Logger it is given.
package rpc
