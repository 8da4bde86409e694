// This file is CORS: which browser front ends on other origins may call the API, through
// gin-contrib/cors.

package api

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// corsPrefix is the part of the URL space CORS covers: what a front end calls (sign-up,
// generate-paid, status, events, usage). Not the webhooks, which Stripe and Replicate call
// server to server, nor the page (same origin), the photos (plain <img>, no CORS needed),
// the health checks or the operator routes. /openapi.json is readable from any origin on
// its own (Access-Control-Allow-Origin: *).
const corsPrefix = "/api/"

// corsMiddleware answers CORS for origins, each validated by validateOrigin. A request from
// one of them to /api/ gets Access-Control-Allow-Origin with that origin (a preflight, an
// OPTIONS with Access-Control-Request-Method, is answered 204 with the methods and headers
// allowed); a request from any other origin passes on without any CORS header, so that
// the browser refuses to hand the answer to the other origin's script. gin-contrib/cors
// would answer such a request 403 with no body; it is never asked, so every error keeps
// the API's JSON shape. No credentials: the token travels in Authorization, not a cookie.
func corsMiddleware(origins []string) gin.HandlerFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	h := cors.New(cors.Config{
		AllowOrigins: origins,
		AllowMethods: []string{"GET", "HEAD", "POST", "OPTIONS"},
		// Idempotency-Key is the usage endpoints' retry key; Stripe-Signature and the
		// webhook-* headers are not allowed: the webhooks are not for browsers.
		AllowHeaders: []string{"Authorization", "Content-Type", "Last-Event-ID", "If-None-Match", "Idempotency-Key"},
		// What a script may read besides the safelisted headers: the status poll's ETag,
		// the request id to quote, Retry-After of a 429, and the usage quota.
		ExposeHeaders: []string{"ETag", "X-Request-Id", "Retry-After",
			"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"},
		AllowCredentials: false,
		MaxAge:           10 * time.Minute,
	})
	return func(c *gin.Context) {
		if !strings.HasPrefix(c.Request.URL.Path, corsPrefix) {
			return
		}
		// The answer depends on Origin whichever it is: caches must keep them apart.
		c.Writer.Header().Add("Vary", "Origin")
		if allowed[c.GetHeader("Origin")] {
			h(c)
		}
	}
}

// validateOrigin checks that o is an origin as a browser sends it in Origin: http or
// https, a host, an optional port, lower case, and nothing else (no path, not even "/").
func validateOrigin(o string) error {
	if strings.Contains(o, "*") {
		return fmt.Errorf("CORSOrigins: %q: no wildcards, list each origin", o)
	}
	u, err := url.Parse(o)
	if err != nil {
		return fmt.Errorf("CORSOrigins: %q is not a URL", o)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("CORSOrigins: %q is not an origin: want scheme://host[:port] with http or https", o)
	}
	if port := u.Port(); strings.HasSuffix(u.Host, ":") || port != "" && strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("CORSOrigins: %q has a bad port", o)
	}
	want := u.Scheme + "://" + strings.ToLower(u.Host)
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Path != "" || u.Opaque != "" || o != want {
		return fmt.Errorf("CORSOrigins: %q is not an origin as browsers send it: want %q (scheme://host[:port], lower case, no path)", o, want)
	}
	return nil
}
