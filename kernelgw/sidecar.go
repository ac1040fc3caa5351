package kernelgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/datainsight/datainsight/frontend"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/service"
)

// Options configure a Sidecar.
type Options struct {
	// Root is the notebook root: every path a client sends must lie in
	// it. Required.
	Root string
	// Auth decides who may call; required (rpc.TokenAuth with the
	// sidecar's token, and Jupyter's where the kernel side has only that).
	Auth rpc.Authenticator
	// AllowedOrigins are browser origins allowed besides the sidecar's
	// own: Jupyter's, for the panel.
	AllowedOrigins []string
	// Logger receives the sidecar's logs (default: none).
	Logger *slog.Logger
	// Detach carries out local runs in processes of their own, which
	// outlive the sidecar (the service needs Options.Spawn); otherwise
	// they run in this process and end with it.
	Detach bool
	// Jupyter is a client of the Jupyter server whose kernels the users'
	// notebooks run in, for the methods that look into a live kernel
	// (check, explore, env); without it they fail.
	Jupyter *jupyter.Client
	// RPC tunes the server's limits; its Auth, AllowedOrigins and Logger
	// are set from the fields above.
	RPC rpc.Config
}

// Sidecar is the RPC server of `datainsight serve`: the service's
// operations as JSON-RPC methods (methods.go), and notifications of runs'
// progress pushed to the WebSocket clients that subscribed to them.
type Sidecar struct {
	svc    *service.Service
	root   *rpc.Root
	rpc    *rpc.Server
	log    *slog.Logger
	detach bool

	jupyter *jupyter.Client

	// ctx ends at Close, and with it the goroutines that publish runs'
	// progress.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	watching map[string]bool // runs and notebooks being published, by topic

	drafts drafts // notebooks as clients edit them, for analyze's edits
	panel  http.Handler
	wg     sync.WaitGroup
}

var _ http.Handler = (*Sidecar)(nil)

// New returns a Sidecar serving svc's operations.
func New(svc *service.Service, opts Options) (*Sidecar, error) {
	if opts.Root == "" {
		return nil, errors.New("sidecar: no notebook root")
	}
	root, err := rpc.NewRoot(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := opts.RPC
	cfg.Auth, cfg.AllowedOrigins, cfg.Logger = opts.Auth, opts.AllowedOrigins, log
	srv, err := rpc.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sidecar{svc: svc, root: root, rpc: srv, log: log, detach: opts.Detach,
		jupyter: opts.Jupyter, ctx: ctx, cancel: cancel, watching: map[string]bool{},
		panel: http.StripPrefix(panelPrefix, frontend.Handler())}
	if err := s.register(); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// Root is the notebook root, absolute with links evaluated.
func (s *Sidecar) Root() string { return s.root.Dir() }

// RPC is the underlying server, for its method list.
func (s *Sidecar) RPC() *rpc.Server { return s.rpc }

// ServeHTTP serves the RPC endpoints (POST /rpc, GET /rpc/methods, GET /ws)
// and, under /panel/, the JupyterLab panel's built assets (or a page
// saying the binary has none): public files, like JupyterLab's own.
func (s *Sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, panelPrefix+"/") {
		s.panel.ServeHTTP(w, r)
		return
	}
	s.rpc.ServeHTTP(w, r)
}

// panelPrefix is where the sidecar serves the panel's assets.
const panelPrefix = "/panel"

// Serve serves on l until Close; it returns nil after Close.
func (s *Sidecar) Serve(l net.Listener) error { return s.rpc.ServeHandler(l, s) }

// ServeHandler is Serve with h in front of the sidecar (FrontJupyter).
func (s *Sidecar) ServeHandler(l net.Listener, h http.Handler) error { return s.rpc.ServeHandler(l, h) }

// Close stops the publishers of runs' progress and then the server
// (rpc.Server.Close): calls in progress finish unless ctx ends first.
// Runs are not stopped: detached ones go on, and are found again by the
// next sidecar.
func (s *Sidecar) Close(ctx context.Context) error {
	s.cancel()
	err := s.rpc.Close(ctx)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}
