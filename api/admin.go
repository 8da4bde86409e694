// This file mounts the operator routes (River UI): the operator token, and the guards
// that keep a browser holding that token from being driven by another site.

package api

import (
	"crypto/subtle"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
)

// mountOps mounts Options.Admin (River UI) at /admin/river/ behind the operator token:
// HTTP basic auth with the token as password (any user name) or "Authorization: Bearer
// <token>", compared in constant time.
func (s *Server) mountOps(r *gin.Engine) {
	if s.admin == nil {
		return
	}
	admin := r.Group("/admin", denyFraming, sameOriginWrites(), requireOperator(s.cfg.OperatorToken))
	admin.GET("/river", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/admin/river/") })
	admin.Any("/river/*path", gin.WrapH(s.admin))
}

// denyFraming keeps every operator page out of frames (clickjacking).
func denyFraming(c *gin.Context) {
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "frame-ancestors 'none'")
	c.Next()
}

// sameOriginWrites refuses a state-changing request (any method but GET, HEAD and
// OPTIONS) that a browser says comes from another site (Sec-Fetch-Site, or Origin
// against Host: net/http's CrossOriginProtection) with 403, and one that is not
// application/json with 415, unless the browser itself vouches that it is same-origin
// (Sec-Fetch-Site: same-origin, which no page can forge): River UI's own page sends
// some of its actions as text/plain. A cross-site page can send text/plain, forms and
// multipart without a CORS preflight, never application/json.
func sameOriginWrites() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			c.Next()
			return
		}
		if err := cop.Check(c.Request); err != nil {
			renderError(c, &Error{Status: http.StatusForbidden, Code: "cross_site_request",
				Message: "operator actions are refused from another site"})
			return
		}
		mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if c.GetHeader("Sec-Fetch-Site") != "same-origin" && mt != "application/json" {
			renderError(c, &Error{Status: http.StatusUnsupportedMediaType, Code: "json_required",
				Message: "operator actions must be sent as Content-Type: application/json"})
			return
		}
		c.Next()
	}
}

// requireOperator refuses requests without the operator token with 401 and a Basic
// challenge, so that a browser asks for it.
func requireOperator(token string) gin.HandlerFunc {
	want := []byte(token)
	return func(c *gin.Context) {
		var got string
		if _, pass, ok := c.Request.BasicAuth(); ok {
			got = pass
		} else {
			got, _ = bearer(c)
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			c.Header("WWW-Authenticate", `Basic realm="photogen operators"`)
			renderError(c, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the operator token is required"})
			return
		}
		c.Next()
	}
}
