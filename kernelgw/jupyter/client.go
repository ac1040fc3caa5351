package jupyter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config says how to reach a Jupyter server and how much to trust it.
// Zero fields take the defaults below.
type Config struct {
	// URL is the server's base URL, including any base_url path
	// (http://127.0.0.1:8888/ or https://host/user/alice/).
	URL string
	// Token is the server's token, sent as "Authorization: token T".
	Token string
	// HTTPClient makes the REST calls (default: a client of its own; calls
	// are bounded by their contexts). Its TLS settings also serve the
	// WebSocket.
	HTTPClient *http.Client
	// Logger receives what the client has to say (default: nothing).
	Logger *slog.Logger

	// MaxMessageBytes bounds one incoming WebSocket message (default
	// 64 MiB: a few large images). A larger one drops the connection.
	MaxMessageBytes int64
	// MaxOutputBytes bounds the outputs one Result keeps (default 32 MiB).
	MaxOutputBytes int
	// MaxQueue bounds the executions waiting for the kernel (default 256).
	MaxQueue int
	// PingInterval is how often the WebSocket is pinged; a connection with
	// no pong or message for PingInterval+PongTimeout is dropped (defaults
	// 20 s and 20 s).
	PingInterval, PongTimeout time.Duration
	// HandshakeTimeout bounds connecting to a kernel: the WebSocket
	// handshake (which the server holds until the kernel is ready) and the
	// first kernel_info exchange (default 60 s).
	HandshakeTimeout time.Duration
	// ProbeInterval: while an execution runs, the kernel is asked for
	// kernel_info on the control channel this often, which reveals a
	// restart the server did not announce; an unanswered probe makes the
	// client ask the server whether the kernel still exists (default 15 s;
	// negative: never).
	ProbeInterval time.Duration
	// Reconnect bounds reconnecting after the WebSocket drops.
	Reconnect Backoff
}

// Backoff is a bounded exponential backoff.
type Backoff struct {
	Initial  time.Duration // first wait (default 200 ms)
	Max      time.Duration // longest wait (default 5 s)
	Attempts int           // tries before giving up (default 20, about 80 s)
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 200 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Attempts <= 0 {
		b.Attempts = 20
	}
	return b
}

// delay is the wait before try n (n ≥ 1).
func (b Backoff) delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Client talks to one Jupyter server. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	token  string
	http   *http.Client
	log    *slog.Logger
	cfg    Config
	dialer wsDialer
}

// New checks cfg and returns a client for its server; it does no I/O.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("jupyter client: server URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("jupyter client: server URL %q: want http(s)://host[:port]/[base/]", cfg.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("jupyter client: server URL %q: no user info, query or fragment, please (the token goes in Config.Token)", u.Redacted())
	}
	if cfg.MaxMessageBytes < 0 || cfg.MaxOutputBytes < 0 || cfg.MaxQueue < 0 || cfg.PingInterval < 0 ||
		cfg.PongTimeout < 0 || cfg.HandshakeTimeout < 0 {
		return nil, errors.New("jupyter client: negative limit in config")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	u.RawPath = ""
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 64 << 20
	}
	if cfg.MaxOutputBytes == 0 {
		cfg.MaxOutputBytes = 32 << 20
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = 256
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if cfg.PongTimeout == 0 {
		cfg.PongTimeout = 20 * time.Second
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 60 * time.Second
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 15 * time.Second
	}
	cfg.Reconnect = cfg.Reconnect.withDefaults()
	c := &Client{base: u, token: cfg.Token, http: cfg.HTTPClient, log: cfg.Logger, cfg: cfg}
	c.dialer = newDialer(c)
	return c, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// KernelModel is the server's view of a kernel.
type KernelModel struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	LastActivity   time.Time `json:"last_activity"`
	ExecutionState string    `json:"execution_state"`
	Connections    int       `json:"connections"`
}

// Session ties a notebook (or console) path to a kernel; the panel finds
// the user's kernel for a notebook through it.
type Session struct {
	ID     string      `json:"id"`
	Path   string      `json:"path"`
	Name   string      `json:"name"`
	Type   string      `json:"type"`
	Kernel KernelModel `json:"kernel"`
}

// ServerStatus is /api/status.
type ServerStatus struct {
	Started      time.Time `json:"started"`
	LastActivity time.Time `json:"last_activity"`
	Connections  int       `json:"connections"`
	Kernels      int       `json:"kernels"`
}

// Status asks the server how it is; it is the cheapest authenticated call.
func (c *Client) Status(ctx context.Context) (*ServerStatus, error) {
	var s ServerStatus
	if err := c.do(ctx, http.MethodGet, []string{"api", "status"}, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Kernels lists the server's running kernels.
func (c *Client) Kernels(ctx context.Context) ([]KernelModel, error) {
	var ks []KernelModel
	if err := c.do(ctx, http.MethodGet, []string{"api", "kernels"}, nil, &ks); err != nil {
		return nil, err
	}
	return ks, nil
}

// Kernel returns one kernel; an error wrapping ErrKernelNotFound if the
// server has no such kernel.
func (c *Client) Kernel(ctx context.Context, id string) (*KernelModel, error) {
	if err := checkKernelID(id); err != nil {
		return nil, err
	}
	var k KernelModel
	if err := c.do(ctx, http.MethodGet, []string{"api", "kernels", id}, nil, &k); err != nil {
		return nil, kernelErr(err)
	}
	return &k, nil
}

// StartKernel starts a kernel of the named kernelspec ("" for the server's
// default). It returns once the server has launched the process; the
// kernel is ready when Connect returns.
func (c *Client) StartKernel(ctx context.Context, name string) (*KernelModel, error) {
	body := map[string]string{}
	if name != "" {
		body["name"] = name
	}
	var k KernelModel
	if err := c.do(ctx, http.MethodPost, []string{"api", "kernels"}, body, &k); err != nil {
		return nil, err
	}
	if err := checkKernelID(k.ID); err != nil {
		return nil, fmt.Errorf("start kernel: server answered with %w", err)
	}
	return &k, nil
}

// DeleteKernel shuts a kernel down.
func (c *Client) DeleteKernel(ctx context.Context, id string) error {
	if err := checkKernelID(id); err != nil {
		return err
	}
	return kernelErr(c.do(ctx, http.MethodDelete, []string{"api", "kernels", id}, nil, nil))
}

// InterruptKernel interrupts what the kernel is running (SIGINT for
// IPython: the running code raises KeyboardInterrupt).
func (c *Client) InterruptKernel(ctx context.Context, id string) error {
	if err := checkKernelID(id); err != nil {
		return err
	}
	return kernelErr(c.do(ctx, http.MethodPost, []string{"api", "kernels", id, "interrupt"}, nil, nil))
}

// RestartKernel restarts a kernel, keeping its id; it returns when the new
// kernel answers. Connections to it see ErrKernelRestarted for what was
// pending.
func (c *Client) RestartKernel(ctx context.Context, id string) (*KernelModel, error) {
	if err := checkKernelID(id); err != nil {
		return nil, err
	}
	var k KernelModel
	if err := c.do(ctx, http.MethodPost, []string{"api", "kernels", id, "restart"}, nil, &k); err != nil {
		return nil, kernelErr(err)
	}
	return &k, nil
}

// Sessions lists the server's sessions.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	var ss []Session
	if err := c.do(ctx, http.MethodGet, []string{"api", "sessions"}, nil, &ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// CreateSession creates (or returns the existing) session for path,
// starting a kernel of kernelName ("" for the default) if it has none.
func (c *Client) CreateSession(ctx context.Context, path, kernelName string) (*Session, error) {
	body := map[string]any{"path": path, "name": path, "type": "notebook", "kernel": map[string]string{"name": kernelName}}
	if kernelName == "" {
		body["kernel"] = map[string]string{}
	}
	var s Session
	if err := c.do(ctx, http.MethodPost, []string{"api", "sessions"}, body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSession deletes a session and shuts its kernel down.
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	if err := checkKernelID(id); err != nil {
		return fmt.Errorf("session id: %w", err)
	}
	return c.do(ctx, http.MethodDelete, []string{"api", "sessions", id}, nil, nil)
}

// Interrupt and restart are sent by kernel id; ids go into URL paths, so
// they are held to the shape the server gives them.
var kernelIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

func checkKernelID(id string) error {
	if !kernelIDPattern.MatchString(id) {
		return fmt.Errorf("invalid kernel id %q", id)
	}
	return nil
}

// kernelErr marks a 404 on a kernel's URL as ErrKernelNotFound.
func kernelErr(err error) error {
	var he *HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrKernelNotFound, err)
	}
	return err
}

// maxResponseBytes bounds a REST answer: lists of kernels and sessions are
// small, and a server that sends more is not one to believe.
const maxResponseBytes = 8 << 20

func (c *Client) endpoint(elem ...string) *url.URL {
	return c.base.JoinPath(elem...)
}

func (c *Client) do(ctx context.Context, method string, path []string, in, out any) error {
	u := c.endpoint(path...)
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, u.Path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	c.authorize(req.Header)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, u.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		return httpError(method, u.Path, resp.StatusCode, data)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("%s %s: answer over %d bytes", method, u.Path, maxResponseBytes)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, u.Path, err)
	}
	return nil
}

func (c *Client) authorize(h http.Header) {
	if c.token != "" {
		h.Set("Authorization", "token "+c.token)
	}
}

// httpError keeps the server's explanation, shortened: it is shown to
// people, and a hostile server could send anything.
func httpError(method, path string, code int, body []byte) *HTTPError {
	e := &HTTPError{Method: method, Path: path, StatusCode: code}
	var m struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	if json.Unmarshal(body, &m) == nil && (m.Message != "" || m.Reason != "") {
		e.Message = m.Message
		if e.Message == "" {
			e.Message = m.Reason
		}
	} else if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		e.Message = string(bytes.TrimSpace(body))
	}
	if len(e.Message) > 300 {
		e.Message = strings.ToValidUTF8(e.Message[:300], "") + "…"
	}
	return e
}
