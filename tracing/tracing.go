// Package tracing sets up photogen's OpenTelemetry tracing and holds what the other
// packages need to take part in it: the attribute keys, River's middleware, the HTTP
// client transport and the pgx tracer. Tracing is off unless an OTLP endpoint is
// configured (OTEL_EXPORTER_OTLP_ENDPOINT): off, nothing is installed anywhere and the
// provider is a no-op, so the code paths are those of a build without tracing.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is a process's tracer provider, on or off. The zero value is not usable: use
// New or Off.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when off
}

// Off returns tracing that is off: a no-op provider, and nothing to install.
func Off() *Tracing { return &Tracing{provider: noop.NewTracerProvider()} }

// New returns the tracing cfg asks for: Off when cfg has no endpoint, else an SDK
// provider that batches spans to an OTLP/HTTP collector. The exporter, the sampler
// (OTEL_TRACES_SAMPLER, parent-based always-on by default), the batching (OTEL_BSP_*)
// and the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) read the standard
// OTEL_* variables of the process's environment. A non-nil exporter replaces the
// OTLP one and turns tracing on whatever cfg says (tests pass an in-memory one). It
// returns cfg's errors, or the exporter's or resource's.
//
// On, it also sends OpenTelemetry's own errors and warnings (a collector that cannot
// be reached, spans dropped) to logger: the SDK reports them only through its
// process-wide handler and logger, which would otherwise print plain text on stderr.
func New(ctx context.Context, cfg Config, exporter sdktrace.SpanExporter, logger *slog.Logger) (*Tracing, error) {
	if exporter == nil && !cfg.On() {
		return Off(), nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	otel.SetLogger(logr.FromSlogHandler(logger.Handler()))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("tracing: opentelemetry reported an error", "err", err)
	}))
	if exporter == nil {
		var err error
		if exporter, err = otlptracehttp.New(ctx); err != nil {
			return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
		}
	}
	// Later options win: the environment overrides the defaults given here.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.ServiceVersion)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return &Tracing{provider: sdk, sdk: sdk}, nil
}

// On reports whether spans are recorded and exported.
func (t *Tracing) On() bool { return t.sdk != nil }

// Provider returns the tracer provider: a no-op one when tracing is off.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Propagator is how a trace crosses a process or a queue: W3C trace context and baggage.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return propagator }

var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Shutdown exports the spans still buffered and stops the provider, within ctx. Call
// it last, once everything that makes spans has stopped. Off, it does nothing.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}
