// Tests of CORS: an allowed origin gets the headers, on a preflight too; another origin, the
// webhooks and the default configuration get none.

package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"photogen/api"
)

const allowedOrigin = "https://app.example.com"

// corsHeaders returns the Access-Control-* headers of h.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *api.Config) { c.CORSOrigins = []string{allowedOrigin, "http://localhost:5173"} }))
	ctx := context.Background()
	token := "Bearer " + strings.Repeat("A", 43)

	status := func(origin string) http.Header {
		resp, err := e.c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Origin": {origin}, "Authorization": {token}})
		require.NoError(t, err)
		requireError(t, resp, http.StatusNotFound, "not_found") // a token of no one: the answer is still readable
		require.Contains(t, resp.Header.Values("Vary"), "Origin")
		return resp.Header
	}
	h := status(allowedOrigin)
	require.Equal(t, allowedOrigin, h.Get("Access-Control-Allow-Origin"))
	// Header names are case-insensitive; gin-contrib/cors writes them canonicalized ("Etag").
	require.True(t, strings.EqualFold("ETag,X-Request-Id,Retry-After,X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset",
		h.Get("Access-Control-Expose-Headers")), h.Get("Access-Control-Expose-Headers"))
	require.Empty(t, h.Get("Access-Control-Allow-Credentials"), "no credentials: the token is a header, not a cookie")
	require.Empty(t, corsHeaders(status("https://evil.example.com")), "another origin gets no CORS header")
	require.Empty(t, corsHeaders(status("https://app.example.com.evil.example.com")))

	preflight := func(origin, path string) (int, http.Header) {
		req, err := http.NewRequestWithContext(ctx, http.MethodOptions, e.url+path, nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization,if-none-match")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for _, path := range []string{"/api/blueprint/status", "/api/blueprint/events", "/api/blueprint/subscribers"} {
		code, h := preflight(allowedOrigin, path)
		require.Equal(t, http.StatusNoContent, code, path)
		require.Equal(t, allowedOrigin, h.Get("Access-Control-Allow-Origin"), path)
		require.Equal(t, "GET,HEAD,POST,OPTIONS", h.Get("Access-Control-Allow-Methods"), path)
		require.True(t, strings.EqualFold("Authorization,Content-Type,Last-Event-ID,If-None-Match,Idempotency-Key",
			h.Get("Access-Control-Allow-Headers")), "%s: %s", path, h.Get("Access-Control-Allow-Headers"))
		require.Equal(t, "600", h.Get("Access-Control-Max-Age"), path)
		require.Empty(t, h.Get("Access-Control-Allow-Credentials"), path)
	}
	code, h := preflight("https://evil.example.com", "/api/blueprint/status")
	require.Equal(t, http.StatusMethodNotAllowed, code, "no route answers OPTIONS")
	require.Empty(t, corsHeaders(h))

	// The webhooks are server to server, the page is same-origin: no CORS there.
	for _, path := range []string{"/webhooks/stripe", "/webhooks/replicate", "/", "/healthz"} {
		_, h := preflight(allowedOrigin, path)
		require.Empty(t, corsHeaders(h), path)
	}
	resp, err := e.c.Do(ctx, http.MethodPost, "/webhooks/stripe", []byte(`{}`), http.Header{"Origin": {allowedOrigin}})
	require.NoError(t, err)
	requireError(t, resp, http.StatusBadRequest, "invalid_signature")
	require.Empty(t, corsHeaders(resp.Header))
}

func TestNoCORSByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	resp, err := e.c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Origin": {allowedOrigin}})
	require.NoError(t, err)
	requireError(t, resp, http.StatusUnauthorized, "missing_token")
	require.Empty(t, corsHeaders(resp.Header))
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, e.url+"/api/blueprint/status", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", allowedOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	pre, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	pre.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, pre.StatusCode)
	require.Empty(t, corsHeaders(pre.Header))
}

func TestCORSOriginsAreValidated(t *testing.T) {
	t.Parallel()
	err := api.Config{WebhookSecret: "whsec_x", CORSOrigins: []string{
		"https://ok.example.com", "http://localhost:5173", "http://[::1]:8080",
		"https://a.example.com/", "https://b.example.com/app", "https://*.example.com", "null",
		"HTTPS://C.example.com", "https://d.example.com:http", "ftp://e.example.com", "https://f.example.com?x=1",
		"https://user@g.example.com",
	}}.WithDefaults().Validate()
	require.Error(t, err)
	for _, bad := range []string{"a.", "b.", "*", "null", "C.", "d.", "e.", "f.", "g."} {
		require.Contains(t, err.Error(), bad)
	}
	for _, good := range []string{"ok.", "localhost", "[::1]"} {
		require.NotContains(t, err.Error(), good)
	}
}
