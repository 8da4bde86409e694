// This file serves a Local store's photos over HTTP, read-only, for the api.

package photos

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// cacheControl lets browsers and CDNs keep a photo for a year: a name only
// ever holds the photo of its key, so its bytes do not change.
const cacheControl = "public, max-age=31536000, immutable"

// Handler returns a read-only http.Handler for the store's photos. The api
// mounts it with http.StripPrefix so that the path left is an object name
// (with or without a leading "/"), e.g.
//
//	mux.Handle("/media/", http.StripPrefix("/media", local.Handler()))
//
// for BaseURL ".../media". It answers GET and HEAD (others get 405) with the
// Content-Type of the name's extension, Cache-Control "public,
// max-age=31536000, immutable", Last-Modified and conditional and range
// requests (http.ServeContent). Any path that is not exactly an object name
// ObjectName can produce — directories, "..", other files, temporary files —
// and any file that cannot be opened inside Dir, including a symlink that
// leaves it, gets 404. It never lists a directory.
func (l *Local) Handler() http.Handler {
	return http.HandlerFunc(l.serve)
}

// serve implements Handler.
func (l *Local) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if !validName(name) {
		http.NotFound(w, r)
		return
	}
	// validName already rules out traversal; OpenInRoot also refuses
	// symlinks that point outside Dir.
	f, err := os.OpenInRoot(l.dir, filepath.FromSlash(name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	contentType, _ := contentTypeOf(path.Ext(name))
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, st.ModTime(), f)
}
