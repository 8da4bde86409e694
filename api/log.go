// This file writes one JSON log line per request, without the raw URL.

package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

const loggerKey = "photogen.logger"

// requestLog writes one JSON line per request: request id, method, route (the pattern,
// never the raw URL, whose query may carry an access token), status and latency; with
// tracing on, every line of the request also carries its trace id. A request to one of
// the polled routes (the status every waiting page polls, the probes) that succeeds is
// logged at debug, not info: those lines are the same again and again, they cost the api
// a fifth of its rate under polling (docs/benchmarks.md), and the request metrics count
// them all by route and code. Their failures are logged at info like any other request.
//
// The line is the one logger.With("request_id", id[, "trace_id", t]).Info would write,
// but the request's own logger (loggerFrom) is built only when a handler asks for it:
// most requests log nothing else, and cloning a handler costs more than the line.
func requestLog(logger *slog.Logger, polled ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		c.Header("X-Request-Id", id)
		rl := &requestLogger{base: logger, id: id}
		if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
			rl.traceID = sc.TraceID().String()
		}
		c.Set(loggerKey, rl)
		c.Next()
		ctx := c.Request.Context()
		route, status := c.FullPath(), c.Writer.Status()
		level := lineLevel(route, status, polled)
		if !logger.Enabled(ctx, level) {
			return
		}
		if route == "" {
			route = "unmatched"
		}
		attrs := make([]slog.Attr, 0, 7)
		attrs = append(attrs, slog.String("request_id", id))
		if rl.traceID != "" {
			attrs = append(attrs, slog.String("trace_id", rl.traceID))
		}
		attrs = append(attrs, slog.String("method", c.Request.Method), slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000), slog.Int("bytes", c.Writer.Size()))
		logger.LogAttrs(ctx, level, "request", attrs...)
	}
}

// lineLevel is the level of a request's line: debug for a polled route's success, info
// otherwise.
func lineLevel(route string, status int, polled []string) slog.Level {
	if status < http.StatusBadRequest && slices.Contains(polled, route) {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// newRequestID returns 8 random bytes in hex.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	var h [16]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// requestLogger is what a request's logger is made of: the api's logger, the request id
// and, with tracing on, the trace id.
type requestLogger struct {
	base    *slog.Logger
	id      string
	traceID string
}

// logger returns the api's logger with the request's ids on every line.
func (r *requestLogger) logger() *slog.Logger {
	if r.traceID != "" {
		return r.base.With("request_id", r.id, "trace_id", r.traceID)
	}
	return r.base.With("request_id", r.id)
}

func loggerFrom(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*requestLogger).logger()
	}
	return slog.Default()
}
