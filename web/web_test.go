package web

// Tests of Handler without a browser: paths, content types, security headers, caching, and
// that the page keeps within its own Content-Security-Policy.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func requireSecurityHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	h := resp.Header
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'",
		"img-src 'self' https: http:", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		require.Contains(t, csp, d)
	}
	require.NotContains(t, csp, "unsafe-inline")
	require.NotContains(t, csp, "unsafe-eval")
}

func TestHandlerServesThePageAndItsAssets(t *testing.T) {
	t.Parallel()
	h := Handler()
	for path, want := range map[string]string{
		"/":                "text/html; charset=utf-8",
		"/index.html":      "text/html; charset=utf-8",
		"/assets/page.js":  "text/javascript; charset=utf-8",
		"/assets/page.css": "text/css; charset=utf-8",
		"/assets/icon.svg": "image/svg+xml",
	} {
		t.Run(path, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, want, resp.Header.Get("Content-Type"))
			require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
			requireSecurityHeaders(t, resp)
			b := body(t, resp)
			require.NotEmpty(t, b)
			require.Equal(t, resp.Header.Get("Content-Length"), strconv.Itoa(len(b)))

			etag := resp.Header.Get("ETag")
			require.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag)
			again := get(t, h, http.MethodGet, path, http.Header{"If-None-Match": {`"other", ` + etag}})
			require.Equal(t, http.StatusNotModified, again.StatusCode)
			require.Empty(t, body(t, again))
			requireSecurityHeaders(t, again)

			head := get(t, h, http.MethodHead, path, nil)
			require.Equal(t, http.StatusOK, head.StatusCode)
			require.Empty(t, body(t, head))
		})
	}
}

func TestHandlerRefusesTheRest(t *testing.T) {
	t.Parallel()
	h := Handler()
	for _, path := range []string{"/assets/", "/assets/nope.js", "/static/index.html", "/assets/../web.go", "/api/blueprint/status"} {
		resp := get(t, h, http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		requireSecurityHeaders(t, resp)
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	}
	resp := get(t, h, http.MethodPost, "/", nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	requireSecurityHeaders(t, resp)
}

// TestPageKeepsToItsPolicy checks what the Content-Security-Policy would refuse in a browser:
// inline scripts, styles and handlers, and sinks that Trusted Types forbid.
func TestPageKeepsToItsPolicy(t *testing.T) {
	t.Parallel()
	h := Handler()
	html := body(t, get(t, h, http.MethodGet, "/", nil))
	require.NotRegexp(t, `<script(?:\s[^>]*)?>\s*[^<\s]`, html, "no inline script")
	require.NotRegexp(t, `(?i)<style|\sstyle=|\son[a-z]+=`, html, "no inline style or handler")
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(html, -1) {
		resp := get(t, h, http.MethodGet, ref[1], nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "index.html refers to %s", ref[1])
	}
	js := body(t, get(t, h, http.MethodGet, "/assets/page.js", nil))
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "new EventSource"} {
		require.False(t, strings.Contains(js, sink), "page.js uses %s", sink)
	}
	// The token is sent only as a header, never in a URL.
	require.Contains(t, js, "Authorization: `Bearer ${token}`")
	require.False(t, strings.Contains(js, "accessToken="), "page.js puts the token in a URL")
	require.True(t, strings.Contains(html, `aria-live="polite"`))
}
