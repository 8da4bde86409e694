// This file gives the generation worker its spans: one per prediction created, checked
// and kept, and one per append, inside the span River's middleware makes for the attempt.

package worker

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerName is the instrumentation scope of the worker's spans.
const tracerName = "photogen/worker"

// Trace makes the worker record its spans with tp (tracing.Tracing's provider). Call it
// before the worker starts; without it the worker records none.
func (w *GenerateWorker) Trace(tp trace.TracerProvider) {
	w.tracer = tp.Tracer(tracerName)
}

// span starts a span named name, a child of ctx's (the attempt's), with attrs.
func (w *GenerateWorker) span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return w.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// noTracer is the tracer of a worker that was not given one.
var noTracer trace.Tracer = noop.NewTracerProvider().Tracer(tracerName)
