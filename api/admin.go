// This file mounts the operator routes (River UI) and /metrics.

package api

import (
	"crypto/subtle"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ServeAdmin mounts h (River UI) at /admin/river/ behind the operator token: HTTP basic
// auth with the token as password (any user name) or "Authorization: Bearer <token>",
// compared in constant time. Without a token the admin routes do not exist (404).
// Call it before Handler.
func (s *Server) ServeAdmin(h http.Handler, token string) {
	if token != "" {
		s.admin, s.adminToken = h, token
	}
}

// Metrics is what the api needs of the metrics package.
type Metrics interface {
	Handler() http.Handler          // the /metrics page
	GinMiddleware() gin.HandlerFunc // counts and times requests by route
	WebhookReceived(outcome string) // counts Replicate webhook deliveries
	PredictionFinished(status string)
}

// Instrument serves m at /metrics and records requests in it. Call it
// before Handler.
func (s *Server) Instrument(m Metrics) { s.metrics = m }

func (s *Server) mountOps(r *gin.Engine) {
	if s.metrics != nil {
		r.GET("/metrics", gin.WrapH(s.metrics.Handler()))
	}
	if s.admin == nil {
		return
	}
	admin := r.Group("/admin", requireOperator(s.adminToken))
	admin.GET("/river", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/admin/river/") })
	admin.Any("/river/*path", gin.WrapH(s.admin))
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
