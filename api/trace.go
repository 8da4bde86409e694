// This file traces the api's requests: one server span each, named by its route,
// continuing the trace a caller sent (traceparent); probes and scrapes make none.

package api

import (
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceRequests records a server span for each request with tp, reading the caller's
// trace context with prop. The handlers' database statements and the jobs they insert
// belong to that span's trace.
func traceRequests(tp trace.TracerProvider, prop propagation.TextMapPropagator) gin.HandlerFunc {
	// No server name: server.address is then the request's Host, as the caller addressed it.
	return otelgin.Middleware("",
		otelgin.WithTracerProvider(tp),
		otelgin.WithPropagators(prop),
		otelgin.WithGinFilter(func(c *gin.Context) bool {
			switch c.FullPath() {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}),
	)
}
