package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"reflect"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultAddr is where the sidecar listens unless told otherwise: loopback
// only, on a port the system picks (clients learn it from the runtime
// file).
const DefaultAddr = "127.0.0.1:0"

// Listen listens on addr for a Server. An address without a host (":8899")
// means loopback, not every interface as it would for net.Listen: serving
// the network takes an explicit "0.0.0.0:8899".
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return l, nil
}

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// Auth decides who may use the server; required (see TokenAuth,
	// JupyterCookie, AnyOf).
	Auth Authenticator
	// AllowedOrigins are the browser origins allowed besides the server's
	// own, as scheme://host[:port]: Jupyter's, for the panel.
	AllowedOrigins []string
	// Logger receives the server's logs (default: none).
	Logger *slog.Logger

	MaxBodyBytes    int64 // largest HTTP request body (default 8 MiB)
	MaxMessageBytes int64 // largest WebSocket message from a client (default 8 MiB)
	MaxBatch        int   // most requests in one batch (default 100)
	MaxClients      int   // most WebSocket clients at once (default 256)
	MaxInflight     int   // most calls one WebSocket client may have running (default 32)
	MaxTopics       int   // most topics one client may subscribe to (default 1024)
	// SendQueue is how many messages may wait to be written to one
	// WebSocket client (default 256); a client that lets it fill is
	// dropped.
	SendQueue int
	// PingInterval is how often a WebSocket client is pinged (default
	// 30 s); PongTimeout is how long it may stay silent — no pong, no
	// message — before it is dropped (default 60 s; more than
	// PingInterval).
	PingInterval time.Duration
	PongTimeout  time.Duration
	// WriteTimeout bounds one write to a client (default 10 s); a client
	// that does not take a message within it is dropped.
	WriteTimeout time.Duration
	// CloseGrace is how long a closing WebSocket waits for the client's
	// side of the close handshake (default 1 s).
	CloseGrace time.Duration
}

func (c *Config) setDefaults() error {
	if c.Auth == nil {
		return errors.New("rpc: Config.Auth is required: the server never runs without authentication")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def64 := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def64(&c.MaxBodyBytes, 8<<20)
	def64(&c.MaxMessageBytes, 8<<20)
	def(&c.MaxBatch, 100)
	def(&c.MaxClients, 256)
	def(&c.MaxInflight, 32)
	def(&c.MaxTopics, 1024)
	def(&c.SendQueue, 256)
	defDur(&c.PingInterval, 30*time.Second)
	defDur(&c.PongTimeout, 2*c.PingInterval)
	defDur(&c.WriteTimeout, 10*time.Second)
	defDur(&c.CloseGrace, time.Second)
	switch {
	case c.MaxBodyBytes < 0 || c.MaxMessageBytes < 0 || c.MaxBatch < 0 || c.MaxClients < 0 ||
		c.MaxInflight < 0 || c.MaxTopics < 0 || c.SendQueue < 0:
		return errors.New("rpc: negative limit in Config")
	case c.PingInterval < 0 || c.WriteTimeout < 0 || c.CloseGrace < 0:
		return errors.New("rpc: negative duration in Config")
	case c.PongTimeout <= c.PingInterval:
		return fmt.Errorf("rpc: PongTimeout (%v) must exceed PingInterval (%v)", c.PongTimeout, c.PingInterval)
	}
	return nil
}

// Server serves JSON-RPC 2.0 over HTTP and WebSocket. It is an
// http.Handler for POST /rpc, GET /rpc/methods and GET /ws, to be served by
// Serve or mounted in the sidecar's own mux (whose http.Server then needs
// an ErrorLog, or net/http logs to stderr); either way Close ends it.
type Server struct {
	cfg      Config
	log      *slog.Logger
	origins  origins
	upgrader websocket.Upgrader

	// base is the parent of every call's context; Close cancels it when
	// its own context runs out, to stop calls that would not end.
	base   context.Context
	cancel context.CancelCauseFunc

	mu      sync.RWMutex
	model   typeModel
	methods map[string]*method
	notes   map[string]*notification
	conns   map[*Conn]struct{}
	topics  map[string]map[*Conn]struct{}
	closing bool
	httpSrv *http.Server
	nextID  uint64

	connWG sync.WaitGroup // WebSocket connections' goroutines
	callWG sync.WaitGroup // calls and HTTP requests in progress
}

var _ http.Handler = (*Server)(nil)

// Errors a WebSocket connection ends with (Conn.Err).
var (
	ErrClosed      = errors.New("connection closed")
	ErrSlowClient  = errors.New("client too slow: its send queue is full")
	ErrPingTimeout = errors.New("client stopped answering pings")
	ErrTooLarge    = errors.New("message too large")
	ErrShutdown    = errors.New("server shutting down")
	ErrClientGone  = errors.New("client went away")
)

// New returns a Server with no methods.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	o, err := newOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, origins: o,
		methods: map[string]*method{},
		notes:   map[string]*notification{},
		conns:   map[*Conn]struct{}{},
		topics:  map[string]map[*Conn]struct{}{},
	}
	s.base, s.cancel = context.WithCancelCause(context.Background())
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteTimeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		CheckOrigin:      s.origins.allowed, // checked before, too, for a clearer refusal
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeHTTPError(w, status, &Error{Code: CodeInvalidRequest, Message: "websocket handshake: " + reason.Error()})
		},
	}
	return s, nil
}

// HandlerFunc is a method's implementation. c is the WebSocket connection
// the call came on, for notifications and subscriptions; it is nil over
// HTTP (its methods then return an error rather than panic). ctx ends when
// the client leaves or the server stops.
type HandlerFunc[Req, Resp any] func(ctx context.Context, c *Conn, req Req) (Resp, error)

type method struct {
	name, doc      string
	params, result *typeInfo
	call           func(ctx context.Context, c *Conn, params json.RawMessage) (any, error)
}

type notification struct {
	name, doc string
	params    *typeInfo
}

// Register adds a method. Req must be a struct: params are passed by name
// and decoded strictly into it. Resp is anything encoding/json encodes.
// The error reports a programming mistake (a bad or taken name, a type
// that cannot travel as JSON); Register may be called while serving.
func Register[Req, Resp any](s *Server, name, doc string, fn HandlerFunc[Req, Resp]) error {
	return register(s, name, doc, fn, false)
}

func register[Req, Resp any](s *Server, name, doc string, fn HandlerFunc[Req, Resp], internal bool) error {
	if fn == nil {
		return fmt.Errorf("rpc: register %s: nil function", name)
	}
	m := &method{name: name, doc: doc}
	m.call = func(ctx context.Context, c *Conn, params json.RawMessage) (any, error) {
		var req Req
		if e := decodeParams(m.params, params, &req); e != nil {
			return nil, e
		}
		return fn(ctx, c, req)
	}
	return s.register(m, reflect.TypeFor[Req](), reflect.TypeFor[Resp](), internal)
}

// DeclareNotification describes a notification the server pushes (with
// Conn.Notify or Server.Publish) so that the method list and the
// TypeScript declarations include its params. Declaring is not enforced
// when sending.
func DeclareNotification[P any](s *Server, name, doc string) error {
	if err := checkName(name, false); err != nil {
		return fmt.Errorf("rpc: declare notification: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.notes[name]; dup {
		return fmt.Errorf("rpc: declare notification %s: declared twice", name)
	}
	ti, err := s.model.info(reflect.TypeFor[P]())
	if err != nil {
		return fmt.Errorf("rpc: declare notification %s: %w", name, err)
	}
	s.notes[name] = &notification{name: name, doc: doc, params: ti}
	return nil
}

func (s *Server) register(m *method, req, resp reflect.Type, internal bool) error {
	if err := checkName(m.name, internal); err != nil {
		return fmt.Errorf("rpc: register: %w", err)
	}
	if req.Kind() != reflect.Struct {
		return fmt.Errorf("rpc: register %s: the request type %v is not a struct: params are passed by name", m.name, req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.methods[m.name]; dup {
		return fmt.Errorf("rpc: register %s: registered twice", m.name)
	}
	var err error
	if m.params, err = s.model.info(req); err != nil {
		return fmt.Errorf("rpc: register %s: request: %w", m.name, err)
	}
	if m.result, err = s.model.info(resp); err != nil {
		return fmt.Errorf("rpc: register %s: response: %w", m.name, err)
	}
	s.methods[m.name] = m
	return nil
}

// checkName accepts dotted identifiers ("run.get"). Names starting with
// "rpc." are JSON-RPC's own, kept for this package's built-in methods.
func checkName(name string, internal bool) error {
	if name == "" {
		return errors.New("empty method name")
	}
	for i, part := range splitDots(name) {
		if !isName(part) {
			return fmt.Errorf("method name %q: want dotted identifiers like run.get", name)
		}
		if i == 0 && part == "rpc" && !internal {
			return fmt.Errorf("method name %q: names starting with rpc. are reserved", name)
		}
	}
	return nil
}

// isName accepts [A-Za-z_][A-Za-z0-9_]*.
func isName(s string) bool {
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return s != ""
}

func splitDots(s string) []string {
	var parts []string
	for {
		i := 0
		for i < len(s) && s[i] != '.' {
			i++
		}
		parts = append(parts, s[:i])
		if i == len(s) {
			return parts
		}
		s = s[i+1:]
	}
}

// Methods describes the registered methods and declared notifications.
func (s *Server) Methods() MethodList {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ms := make([]*method, 0, len(s.methods))
	for _, m := range s.methods {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	ns := make([]*notification, 0, len(s.notes))
	for _, n := range s.notes {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].name < ns[j].name })
	return describeAPI(ms, ns)
}

// Publish sends a notification to every client subscribed to topic. It
// never waits for a client: one whose queue is full is dropped instead.
// The error is about encoding params.
func (s *Server) Publish(topic, method string, params any) error {
	b, err := encodeNotification(method, params)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c := range s.topics[topic] {
		_ = c.enqueue(b) // a client that cannot take it is dropped, and logged, by enqueue
	}
	return nil
}

// Subscribers returns how many clients are subscribed to topic: a
// publisher with none left can stop.
func (s *Server) Subscribers(topic string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.topics[topic])
}

// ServeHTTP serves POST /rpc, GET /rpc/methods and GET /ws.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/rpc":
		s.serveRPC(w, r)
	case "/rpc/methods":
		s.serveMethods(w, r)
	case "/ws":
		s.serveWS(w, r)
	default:
		writeHTTPError(w, http.StatusNotFound, &Error{Code: CodeNotFound, Message: "not found: " + quote(r.URL.Path)})
	}
}

// enter counts a request or call in, unless the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.callWG.Add(1)
	return true
}

func errUnavailable() *Error { return &Error{Code: CodeUnavailable, Message: "server shutting down"} }

// admit checks what every request must pass: its Origin, its credentials
// and, for a state-changing request with cookie credentials, XSRF. It
// answers the refusals itself.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, stateChanging bool) (Credentials, bool) {
	log := s.log.With("remote", r.RemoteAddr, "path", r.URL.Path)
	if !s.origins.allowed(r) {
		log.Warn("rpc: refused a foreign origin", "origin", r.Header.Get("Origin"))
		writeHTTPError(w, http.StatusForbidden, &Error{Code: CodeForbidden,
			Message: "origin " + quote(r.Header.Get("Origin")) + " is not allowed"})
		return Credentials{}, false
	}
	// Tokens in URLs end up in proxy logs, browser history and Referer
	// headers; Jupyter accepts them only to log a browser in, which the
	// sidecar never needs to do. Refused even with a good header, so
	// that a client that sends one learns to stop.
	if r.URL.Query().Has("token") {
		log.Debug("rpc: refused a token in the URL")
		w.Header().Set("WWW-Authenticate", "token")
		writeHTTPError(w, http.StatusUnauthorized, &Error{Code: CodeUnauthorized,
			Message: `unauthorized: a token in the URL is not accepted; send the header "Authorization: token <token>"`})
		return Credentials{}, false
	}
	creds, err := s.cfg.Auth.Authenticate(r)
	if err != nil {
		msg := "unauthorized: " + err.Error()
		if errors.Is(err, ErrNoCredentials) {
			msg = `unauthorized: no credentials; send the header "Authorization: token <token>"`
		}
		log.Debug("rpc: refused credentials", "err", err)
		w.Header().Set("WWW-Authenticate", "token")
		writeHTTPError(w, http.StatusUnauthorized, &Error{Code: CodeUnauthorized, Message: msg})
		return Credentials{}, false
	}
	if creds.Ambient && stateChanging && !xsrfOK(r) {
		log.Warn("rpc: refused a cookie-authenticated request without XSRF token")
		writeHTTPError(w, http.StatusForbidden, &Error{Code: CodeForbidden,
			Message: "XSRF check failed: a request authenticated by cookie must send the _xsrf cookie's value in the X-XSRFToken header"})
		return Credentials{}, false
	}
	return creds, true
}

func writeHTTPError(w http.ResponseWriter, status int, e *Error) {
	writeJSON(w, status, encodeResponses([]*response{errorResponse(nil, e)}, false))
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		writeHTTPError(w, http.StatusServiceUnavailable, errUnavailable())
		return
	}
	defer s.callWG.Done()
	if _, ok := s.admit(w, r, true); !ok {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeHTTPError(w, http.StatusMethodNotAllowed, &Error{Code: CodeInvalidRequest,
			Message: "method " + r.Method + " not allowed: send JSON-RPC requests with POST"})
		return
	}
	// Requiring JSON keeps HTML forms, which cannot send it, out: one more
	// guard against cross-site requests besides Origin and XSRF.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeHTTPError(w, http.StatusUnsupportedMediaType, &Error{Code: CodeInvalidRequest,
			Message: "the request's Content-Type must be application/json"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeHTTPError(w, http.StatusRequestEntityTooLarge, &Error{Code: CodeTooLarge,
				Message: fmt.Sprintf("request body larger than the limit of %d bytes", mbe.Limit)})
			return
		}
		writeHTTPError(w, http.StatusBadRequest, &Error{Code: CodeParseError, Message: "read request body: " + err.Error()})
		return
	}
	// The call ends when the client hangs up or when Close gives up on
	// waiting for it.
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	stop := context.AfterFunc(s.base, func() { cancel(context.Cause(s.base)) })
	defer stop()

	reqs, batch, ferr := decodeFrame(body, s.cfg.MaxBatch)
	if ferr != nil {
		writeJSON(w, http.StatusOK, encodeResponses([]*response{errorResponse(nil, ferr)}, false))
		return
	}
	// A batch runs in order: clients may batch calls that depend on each
	// other, and over HTTP there is nothing to gain from overlapping them.
	var resps []*response
	for _, req := range reqs {
		if resp := s.call(ctx, nil, req); resp != nil {
			resps = append(resps, resp)
		}
	}
	out := encodeResponses(resps, batch)
	if out == nil {
		w.WriteHeader(http.StatusNoContent) // only notifications: nothing to say
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveMethods(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		writeHTTPError(w, http.StatusServiceUnavailable, errUnavailable())
		return
	}
	defer s.callWG.Done()
	if _, ok := s.admit(w, r, false); !ok {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeHTTPError(w, http.StatusMethodNotAllowed, &Error{Code: CodeInvalidRequest, Message: "method " + r.Method + " not allowed"})
		return
	}
	b, err := json.MarshalIndent(s.Methods(), "", "  ")
	if err != nil {
		s.log.Error("rpc: encode the method list", "err", err)
		writeHTTPError(w, http.StatusInternalServerError, &Error{Code: CodeInternal, Message: "internal error: the method list did not encode"})
		return
	}
	writeJSON(w, http.StatusOK, append(b, '\n'))
}

// call runs one request and returns its response: nil for a notification.
func (s *Server) call(ctx context.Context, c *Conn, req *request) *response {
	if req.err != nil {
		return errorResponse(req.id, req.err)
	}
	s.mu.RLock()
	m := s.methods[req.method]
	s.mu.RUnlock()
	var result json.RawMessage
	var e *Error
	if m == nil {
		e = &Error{Code: CodeMethodNotFound, Message: "method " + quote(req.method) + " not found",
			Data: map[string]string{"method": truncate(req.method)}}
	} else {
		result, e = s.invoke(ctx, c, m, req.params)
	}
	if req.notification() {
		if e != nil {
			s.log.Debug("rpc: notification failed", "method", truncate(req.method), "code", e.Code, "err", e.Message)
		}
		return nil
	}
	if e != nil {
		return errorResponse(req.id, e)
	}
	return &response{JSONRPC: "2.0", ID: req.id, Result: result}
}

// invoke runs a method and encodes its result. A panic is the method's bug,
// not the client's: it is logged with its stack and answered with
// CodeInternal, and the server goes on.
func (s *Server) invoke(ctx context.Context, c *Conn, m *method, params json.RawMessage) (result json.RawMessage, e *Error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("rpc: method panicked", "method", m.name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			result, e = nil, &Error{Code: CodeInternal, Message: "internal error in method " + m.name + " (the server's log has the details)"}
		}
	}()
	v, err := m.call(ctx, c, params)
	if err != nil {
		var re *Error
		if !errors.As(err, &re) && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return nil, canceled(ctx) // says why: the client left, or the server is stopping
		}
		return nil, toError(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("rpc: encode result", "method", m.name, "err", err)
		return nil, &Error{Code: CodeInternal, Message: "internal error: the result of " + m.name + " did not encode (the server's log has the details)"}
	}
	return b, nil
}

// Serve serves HTTP on l until Close; it returns nil after Close.
func (s *Server) Serve(l net.Listener) error { return s.ServeHandler(l, s) }

// ServeHandler is Serve with a handler of the caller's in front of the
// server's own (which it calls for the server's paths): the server's
// limits and graceful Close apply to it too.
func (s *Server) ServeHandler(l net.Listener, h http.Handler) error {
	s.mu.Lock()
	if s.closing {
		// Closed before it served: as after Close, nil, and l is ours.
		s.mu.Unlock()
		l.Close()
		return nil
	}
	if s.httpSrv != nil {
		s.mu.Unlock()
		return errors.New("rpc: Serve called twice")
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Bounds a request's reading, body included, against clients that
		// trickle; a WebSocket sets its own deadlines once upgraded.
		ReadTimeout:    time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		// net/http logs to stderr unless told otherwise.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.httpSrv = srv
	s.mu.Unlock()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops the server gracefully: new requests are refused, calls in
// progress finish and their responses are delivered, WebSocket clients are
// told the server is going away (close code 1001), and Close returns when
// every goroutine of the server has ended. If ctx ends first, calls are
// canceled and connections cut; Close then returns ctx's error after the
// connection goroutines end, without waiting for methods that ignore
// their context.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	srv := s.httpSrv
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		for _, c := range conns {
			c.drain()
		}
		if srv != nil {
			// Waits for HTTP calls; its error can only be ctx's, seen below.
			_ = srv.Shutdown(ctx)
		}
		s.connWG.Wait()
		s.callWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel(ErrShutdown)
		return nil
	case <-ctx.Done():
	}
	s.log.Warn("rpc: close: gave up waiting; canceling calls", "err", ctx.Err())
	s.cancel(ErrShutdown)
	for _, c := range conns {
		c.fail(ErrShutdown)
		c.ws.Close() // no close handshake: the time for it is up
	}
	if srv != nil {
		_ = srv.Close()
	}
	s.connWG.Wait()
	return ctx.Err()
}

func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for t := range c.topics {
		delete(s.topics[t], c)
		if len(s.topics[t]) == 0 {
			delete(s.topics, t)
		}
	}
	c.topics = nil
	c.removed = true
}
