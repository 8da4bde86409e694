// This file writes one JSON log line per request, without the raw URL.

package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

const loggerKey = "photogen.logger"

// requestLog writes one JSON line per request: request id, method, route (the pattern,
// never the raw URL, whose query may carry an access token), status and latency; with
// tracing on, every line of the request also carries its trace id.
func requestLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Header("X-Request-Id", id)
		l := logger.With("request_id", id)
		if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
			l = l.With("trace_id", sc.TraceID().String())
		}
		c.Set(loggerKey, l)
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		l.InfoContext(c.Request.Context(), "request",
			"method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "bytes", c.Writer.Size())
	}
}

func loggerFrom(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}
