// Tests of what the api serves besides JSON: the subscriber's page, its assets and the
// OpenAPI document, with their headers, next to the JSON 404 and 405 of everything else.

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"photogen/web"
)

func TestServesThePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	do := func(method, path string, h http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, e.url+path, nil)
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	page := do(http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
	require.Equal(t, "no-referrer", page.Header.Get("Referrer-Policy"))
	require.Equal(t, web.ContentSecurityPolicy, page.Header.Get("Content-Security-Policy"))
	require.Equal(t, []string{"nosniff"}, page.Header.Values("X-Content-Type-Options"), "set once, by the api and the page alike")
	require.NotEmpty(t, page.Header.Get("X-Request-Id"))
	body := new(bytes.Buffer)
	_, err := body.ReadFrom(page.Body)
	require.NoError(t, err)
	require.Contains(t, body.String(), "<html")

	again := do(http.MethodGet, "/index.html", nil)
	require.Equal(t, http.StatusOK, again.StatusCode)
	require.Equal(t, page.Header.Get("ETag"), again.Header.Get("ETag"))
	require.Equal(t, http.StatusNotModified, do(http.MethodGet, "/", http.Header{"If-None-Match": {page.Header.Get("ETag")}}).StatusCode)
	head := do(http.MethodHead, "/", nil)
	require.Equal(t, http.StatusOK, head.StatusCode)
	require.Equal(t, page.Header.Get("Content-Length"), head.Header.Get("Content-Length"))

	// Every asset the page names is served, with the same headers.
	assets := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body.String(), -1)
	require.NotEmpty(t, assets, "the page names its assets")
	for _, a := range assets {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			resp := do(m, a[1], nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s", m, a[1])
			require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), a[1])
			require.NotEmpty(t, resp.Header.Get("Content-Type"), a[1])
		}
	}
	missing := do(http.MethodGet, "/assets/nope.js", nil)
	require.Equal(t, http.StatusNotFound, missing.StatusCode)
	require.Equal(t, "no-referrer", missing.Header.Get("Referrer-Policy"))

	doc := do(http.MethodGet, "/openapi.json", nil)
	require.Equal(t, http.StatusOK, doc.StatusCode)
	require.Equal(t, "application/json; charset=utf-8", doc.Header.Get("Content-Type"))
	var d struct{ Openapi string }
	require.NoError(t, json.NewDecoder(doc.Body).Decode(&d))
	require.Regexp(t, `^3\.1\.`, d.Openapi)
	require.Equal(t, http.StatusOK, do(http.MethodHead, "/openapi.json", nil).StatusCode)

	// Everything else keeps the api's JSON answers.
	for _, path := range []string{"/nope", "/index.htm", "/api/nope", "/openapi.yaml"} {
		r, err := e.c.Do(ctx, http.MethodGet, path, nil, nil)
		require.NoError(t, err)
		requireError(t, r, http.StatusNotFound, "not_found")
	}
	for _, path := range []string{"/", "/openapi.json", "/assets/x.js"} {
		r, err := e.c.Do(ctx, http.MethodPost, path, []byte(`{}`), nil)
		require.NoError(t, err)
		requireError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	}
}
