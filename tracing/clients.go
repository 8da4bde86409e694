// This file instruments photogen's clients: the HTTP calls to Replicate, to the
// providers' output URLs and to S3 get a client span each, and the trace context goes
// out with them; every database statement run inside a trace gets a span.

package tracing

import (
	"net/http"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// Transport returns rt with a client span around each request, named "<name> <METHOD>"
// (low cardinality: no path), carrying the trace context to the server. Off, it returns
// rt itself; a nil rt stands for http.DefaultTransport.
func (t *Tracing) Transport(name string, rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if !t.On() {
		return rt
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name + " " + r.Method }),
	)
}

// InstrumentPool makes the pool trace its statements: a span for each one run with a
// context inside a trace (otelpgx; the statement's text, never its arguments). River's
// own polling, outside any trace, makes none. Off, it leaves cfg alone.
func (t *Tracing) InstrumentPool(cfg *pgxpool.Config) {
	if !t.On() {
		return
	}
	// Acquire spans would double the count for the time a pool wait takes, which the
	// statement's span shows anyway.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(t.provider), otelpgx.WithDisableAcquireTracer())
}
