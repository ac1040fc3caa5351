package kernelgw

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Prefix is where the sidecar's endpoints are when it is reached through
// Jupyter (the server extension's proxy) or stands in front of it
// (FrontJupyter): /datainsight/rpc, /datainsight/ws.
const Prefix = "/datainsight"

// FrontJupyter returns a handler that puts the sidecar in front of the
// Jupyter server at jupyterURL, for users without the server extension:
// the sidecar's endpoints are under Jupyter's base URL + Prefix, where the
// extension puts them, so the panel reaches them at the same paths either
// way, and every other path goes to Jupyter unchanged (its base URL
// included), kernel WebSockets too. The Host the browser used is passed
// on: Jupyter names its login cookie after it and checks a WebSocket's
// Origin against it.
func FrontJupyter(sidecar http.Handler, jupyterURL string) (http.Handler, error) {
	u, err := url.Parse(jupyterURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("front Jupyter: URL %q: want http(s)://host:port/[base/]", jupyterURL)
	}
	target := &url.URL{Scheme: u.Scheme, Host: u.Host}
	prefix := strings.TrimSuffix(u.Path, "/") + Prefix
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1, // Jupyter streams some answers (events, long polls)
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, fmt.Sprintf("datainsight: the Jupyter server at %s did not answer %s %s: %v", target, r.Method, r.URL.Path, err),
				http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok && strings.HasPrefix(rest, "/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = rest, ""
			sidecar.ServeHTTP(w, r2)
			return
		}
		proxy.ServeHTTP(w, r)
	}), nil
}
