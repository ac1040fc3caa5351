package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/kernelgw"
	"github.com/datainsight/datainsight/kernelgw/jupyter"
	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// defaultServeAddr is where serve listens unless told otherwise: loopback
// only, on a fixed port so that the panel and the kernel find it.
const defaultServeAddr = "127.0.0.1:8899"

// tokenEnv gives serve its token when --token does not.
const tokenEnv = "DATAINSIGHT_TOKEN"

// jupyterTokenEnv gives serve the Jupyter server's token when
// --jupyter-token does not.
const jupyterTokenEnv = "JUPYTER_TOKEN"

func newServeCmd(s *streams) *cobra.Command {
	var rf runFlags
	var readf readFlags
	var addr, root, token, jupyterURL, jupyterToken string
	var origins []string
	var inProcess, front bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sidecar for JupyterLab",
		Long: `Serve runs the sidecar: JSON-RPC 2.0 over HTTP (POST /rpc) and WebSocket (/ws)
for the JupyterLab panel and for calls from inside the kernel — analyze,
compile, run, runs, run.get, run.logs, run.report, run.cancel, run.retry,
run.resubmit, run.delete, run.subscribe, check — with the same configuration as the
command line (flags, DATAINSIGHT_* variables, ~/.config/datainsight/config.yaml).
GET /rpc/methods lists the methods and their params.

It listens on 127.0.0.1 only (an address without a host is loopback too).
Every request must carry the header "Authorization: token TOKEN": the token
is --token, else $DATAINSIGHT_TOKEN, else a new random one. Either way it is
written, readable only by you, to the runtime file whose path is printed
with the URL (in $DATAINSIGHT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/datainsight,
else ~/.local/share/datainsight/runtime). Notebook paths in requests must lie
under --root. check looks into the user's live kernel: it needs the Jupyter
server, --jupyter-url with --jupyter-token (or $JUPYTER_TOKEN).

Behind Jupyter's server extension (kernelgw/python), the browser reaches the
sidecar at Jupyter's /datainsight/. Without the extension, --jupyter puts the
sidecar in front of Jupyter instead: open the sidecar's address and Jupyter is
there, the sidecar under /datainsight/, signed in with Jupyter's login.
Ctrl-C stops it; runs it started go on.`,
		Example: `  datainsight serve --root ~/notebooks
  datainsight serve --addr 127.0.0.1:9000 --root . --token "$(cat ~/.datainsight-token)"
  datainsight serve --root ~/notebooks --jupyter --jupyter-url http://127.0.0.1:8888/`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv(tokenEnv)
			}
			if token == "" {
				var err error
				if token, err = rpc.NewToken(); err != nil {
					return err
				}
			}
			if front && jupyterURL == "" {
				return usagef("serve: --jupyter needs --jupyter-url: the Jupyter server to stand in front of")
			}
			if jupyterURL != "" && jupyterToken == "" {
				jupyterToken = os.Getenv(jupyterTokenEnv)
			}
			tokens := []string{token}
			if front && jupyterToken != "" {
				// JupyterLab served through the sidecar sends Jupyter's
				// token with its requests, ours among them.
				tokens = append(tokens, jupyterToken)
			}
			auth, err := rpc.TokenAuth(tokens...)
			if err != nil {
				return usagef("serve: --token: %v", err)
			}
			if front {
				// A browser logged in to Jupyter through the sidecar has
				// Jupyter's cookie, and only Jupyter can check it.
				jcookie, err := rpc.NewJupyterCookie(rpc.JupyterCookieConfig{URL: jupyterURL})
				if err != nil {
					return usagef("serve: --jupyter-url: %v", err)
				}
				auth = rpc.AnyOf(auth, jcookie)
			}
			svc, err := rf.service(&readf)
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(s.errOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
			var jc *jupyter.Client
			if jupyterURL != "" {
				if jc, err = jupyter.New(jupyter.Config{URL: jupyterURL, Token: jupyterToken, Logger: logger}); err != nil {
					return usagef("serve: --jupyter-url: %v", err)
				}
			}
			sc, err := kernelgw.New(svc, kernelgw.Options{
				Root: root, Auth: auth, AllowedOrigins: origins, Logger: logger, Detach: !inProcess, Jupyter: jc,
			})
			if err != nil {
				return err
			}
			l, err := rpc.Listen(cmd.Context(), addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			url := "http://" + l.Addr().String()
			runtimeFile, err := writeRuntimeFile(l, rpc.RuntimeInfo{URL: url, Token: token, PID: os.Getpid(), Root: sc.Root()})
			if err != nil {
				l.Close()
				return err
			}
			defer os.Remove(runtimeFile)
			fmt.Fprintf(s.errOut, "datainsight serve: serving the notebooks under %s at\n    %s\n  token: in %s\n", sc.Root(), url, runtimeFile)
			var h http.Handler = sc
			if front {
				if h, err = kernelgw.FrontJupyter(sc, jupyterURL); err != nil {
					return usagef("serve: --jupyter-url: %v", err)
				}
				fmt.Fprintf(s.errOut, "  Jupyter (%s), with the sidecar under its base URL's %s/: open\n    %s/\n", jupyterURL, kernelgw.Prefix, url)
			}

			served := make(chan error, 1)
			go func() { served <- sc.ServeHandler(l, h) }()
			select {
			case err := <-served:
				return fmt.Errorf("serve: %w", err)
			case <-cmd.Context().Done():
			}
			fmt.Fprintf(s.errOut, "datainsight serve: stopping (%v)\n", context.Cause(cmd.Context()))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sc.Close(ctx); err != nil {
				return fmt.Errorf("serve: stop: %w", err)
			}
			if err := <-served; err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultServeAddr, "address to listen on; a port alone (\":8899\") is on loopback too, and port 0 picks a free one")
	cmd.Flags().StringVar(&root, "root", ".", "the notebook root: requests may name notebooks under it only")
	cmd.Flags().StringVar(&token, "token", "", "the token clients must send (default $DATAINSIGHT_TOKEN, else a new random one)")
	cmd.Flags().StringArrayVar(&origins, "allow-origin", nil, "a browser origin allowed besides the sidecar's own, scheme://host[:port]: Jupyter's, for the panel (repeatable)")
	cmd.Flags().StringVar(&jupyterURL, "jupyter-url", "", "the Jupyter server the notebooks' kernels run in, http(s)://host:port/[base/], for check (which looks into a live kernel)")
	cmd.Flags().StringVar(&jupyterToken, "jupyter-token", "", "the Jupyter server's token (default $JUPYTER_TOKEN)")
	cmd.Flags().BoolVar(&front, "jupyter", false, "stand in front of the Jupyter server at --jupyter-url, for a JupyterLab without the server extension: Jupyter is served at this address, the sidecar under /datainsight/, and Jupyter's login cookie is accepted")
	cmd.Flags().BoolVar(&inProcess, "in-process", false, "carry out local runs in this process (they end with it) instead of in processes of their own")
	rf.add(cmd)
	readf.add(cmd)
	return cmd
}

// writeRuntimeFile writes what local clients need to reach the sidecar —
// URL and token — to datainsight-PORT.json in the runtime folder, readable
// only by the user, and returns its path.
func writeRuntimeFile(l net.Listener, info rpc.RuntimeInfo) (string, error) {
	dir, err := rpc.RuntimeDir(os.Getenv)
	if err != nil {
		// No HOME and no XDG_RUNTIME_DIR: a folder of the user's own in
		// the temporary folder.
		dir = filepath.Join(os.TempDir(), "datainsight-"+strconv.Itoa(os.Getuid()))
	}
	port := 0
	if ta, ok := l.Addr().(*net.TCPAddr); ok {
		port = ta.Port
	}
	path, err := rpc.WriteRuntimeFileNamed(dir, "datainsight-"+strconv.Itoa(port)+".json", info)
	if err != nil {
		return "", fmt.Errorf("serve: %w", err)
	}
	return path, nil
}
