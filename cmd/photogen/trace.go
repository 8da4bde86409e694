// This file wires tracing into a serving process: built before the pool (which traces
// its statements), shut down last, after everything that makes spans has stopped.

package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"photogen/tracing"
)

// newTracing returns the process's tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is
// set (or e brings an exporter: the tracing test's), with service.name photogen-<mode>
// unless OTEL_SERVICE_NAME says otherwise.
func newTracing(ctx context.Context, mode string, cfg config, e env, logger *slog.Logger) (*tracing.Tracing, error) {
	tc := cfg.Tracing
	tc.ServiceName = "photogen-" + mode
	tc.ServiceVersion = strings.TrimPrefix(versionString(), "photogen ")
	tr, err := tracing.New(ctx, tc, e.spans, logger)
	if err != nil {
		return nil, err
	}
	if tr.On() {
		logger.InfoContext(ctx, "tracing on: spans are exported over OTLP/HTTP", "service", tc.ServiceName)
	}
	return tr, nil
}

// shutdownTracing exports the spans still buffered, within 10 s.
func shutdownTracing(tr *tracing.Tracing, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		logger.Warn("stop tracing", "err", err)
	}
}

// s3Transport is what wraps the S3 client's transport: nothing when tracing is off, so
// that the SDK's client is left exactly as it builds it.
func s3Transport(tr *tracing.Tracing) func(http.RoundTripper) http.RoundTripper {
	if !tr.On() {
		return nil
	}
	return func(rt http.RoundTripper) http.RoundTripper { return tr.Transport("s3", rt) }
}
