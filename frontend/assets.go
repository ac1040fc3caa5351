package frontend

import (
	"embed"
	"io/fs"
	"net/http"
)

// dist holds the panel's built files once hack/frontend/build.sh has made
// them: the prebuilt JupyterLab extension under labextension/. Without them
// it holds only index.html, which says the panel is not built: go build
// works without npm.
//
//go:embed all:dist
var dist embed.FS

// Assets are the panel's built files (the prebuilt extension under
// labextension/), or only the "not built" page.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// Built reports whether the panel's assets are in this binary.
func Built() bool {
	_, err := fs.Stat(Assets(), "labextension/package.json")
	return err == nil
}

// Handler serves the assets: mount it under a prefix with
// http.StripPrefix. Without a build, every path answers the "not built"
// page with 404 Not Found, so that a client cannot mistake it for a panel.
func Handler() http.Handler {
	files := http.FileServerFS(Assets())
	notBuilt, _ := fs.ReadFile(Assets(), "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !Built() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write(notBuilt)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
