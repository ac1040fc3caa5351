package frontend_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/frontend"
)

// The handler serves the built extension, or says plainly that there is
// none: it never serves an empty or half page as if it were the panel.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/panel", frontend.Handler()))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/panel/labextension/package.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if frontend.Built() {
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name"`) {
			t.Fatalf("built: GET labextension/package.json = %d %q", res.StatusCode, body)
		}
	} else {
		if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "not built") {
			t.Fatalf("not built: GET = %d %q, want 404 with the not-built page", res.StatusCode, body)
		}
	}

	res, err = http.Post(srv.URL+"/panel/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST = %d, want 405", res.StatusCode)
	}
}
