// Package web serves the subscriber's page: index.html at / and its scripts, styles and icon
// under /assets/, embedded in the binary. The page reads the access token from the URL
// fragment (/#token=...), so the token never reaches the server in a path or query, and sends
// it as "Authorization: Bearer" to the status and events endpoints (see openapi/openapi.yaml).
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is the policy of every response: the page's own scripts, styles and
// API only, no inline code, no framing, no plugins; images from the page's origin and from any
// http or https origin, because photos may live on an S3 bucket or a CDN.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' https: http:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

// contentTypes are the types of the files the page is made of; any other file is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves GET and HEAD of / (the page, also at /index.html) and of /assets/NAME, with the security headers
// of SecurityHeaders, an ETag and Cache-Control: no-cache on each; If-None-Match gets 304. Any
// other path is 404 and any other method 405, both as plain text with the same headers. Mount
// it at "/" and "/assets/" (in gin: GET and HEAD of "/" and "/assets/*name").
func Handler() http.Handler {
	assets, err := load()
	if err != nil {
		// The files are embedded at build time and checked by this package's tests.
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecurityHeaders(w.Header())
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Path
		if name == "/" {
			name = "/index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(a.body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(a.body)
		}
	})
}

// SecurityHeaders sets the headers every response of the page carries: the
// ContentSecurityPolicy, no referrer (the URL holds the access token in its fragment, and
// photos may be on other origins), no MIME sniffing, no framing.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// load reads the embedded files: static/index.html as /index.html and static/assets/* as
// /assets/*.
func load() (map[string]asset, error) {
	assets := map[string]asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("web: %s has no known content type", p)
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return fmt.Errorf("web: read %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		assets[strings.TrimPrefix(p, "static")] = asset{body: b, contentType: ct,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := assets["/index.html"]; !ok {
		return nil, fmt.Errorf("web: static/index.html is missing")
	}
	return assets, nil
}

// etagMatches implements If-None-Match's list and wildcard forms (weak comparison).
func etagMatches(header, etag string) bool {
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == "*" || c == etag {
			return true
		}
	}
	return false
}
