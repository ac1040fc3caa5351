package kernelgw_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/kernelgw"
)

// In front of a Jupyter server with a base URL, the sidecar answers under
// that base URL's datainsight/, where the server extension would put it;
// everything else, the bare /datainsight/ included, goes to Jupyter with
// its path and the browser's Host unchanged.
func TestFrontJupyterPaths(t *testing.T) {
	jupyter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "jupyter "+r.URL.Path+" host "+r.Host)
	}))
	defer jupyter.Close()
	sidecar := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "sidecar "+r.URL.Path)
	})
	h, err := kernelgw.FrontJupyter(sidecar, jupyter.URL+"/lab-base/")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/lab-base/datainsight/rpc":      "sidecar /rpc",
		"/lab-base/datainsight/ws":       "sidecar /ws",
		"/lab-base/datainsightx/rpc":     "jupyter /lab-base/datainsightx/rpc host front.example:1",
		"/datainsight/rpc":               "jupyter /datainsight/rpc host front.example:1",
		"/lab-base/api/kernels":          "jupyter /lab-base/api/kernels host front.example:1",
		"/lab-base/lab/tree/a%20b.ipynb": "jupyter /lab-base/lab/tree/a b.ipynb host front.example:1",
	} {
		req := httptest.NewRequest(http.MethodGet, "http://front.example:1"+path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := strings.TrimSpace(rec.Body.String()); got != want {
			t.Errorf("GET %s: %q, want %q", path, got, want)
		}
	}
	if _, err := kernelgw.FrontJupyter(sidecar, "ftp://x"); err == nil {
		t.Error("FrontJupyter of an ftp URL: no error")
	}
	// Jupyter gone: a 502 that says which server did not answer.
	jupyter.Close()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://front.example:1/lab-base/api/status", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "did not answer GET /lab-base/api/status") {
		t.Errorf("Jupyter gone: %d %s", rec.Code, rec.Body.String())
	}
}
