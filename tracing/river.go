// This file carries a trace through River: the trace of the request that inserts a job
// reaches every attempt of that job, however long it slept in between.

package tracing

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// RiverMiddleware returns the middleware for a River client's Config.Middleware: nil
// when tracing is off. On, River's own OpenTelemetry middleware (otelriver) records an
// insert span, writes the trace context into the job's metadata, and records a
// river.work/<kind> span for each attempt. otelriver makes that span a new trace with
// a link to the insert; the middleware in front of it makes the insert its parent
// instead, so that a generation, from the payment's webhook through every attempt,
// snoozed and woken, is one trace.
func (t *Tracing) RiverMiddleware() []rivertype.Middleware {
	if !t.On() {
		return nil
	}
	return []rivertype.Middleware{
		&jobParent{},
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			EnableTracePropagation:      true,
			EnableWorkSpanJobKindSuffix: true,
			TracerProvider:              t.provider,
		}),
	}
}

// jobParent makes the trace context in a job's metadata the parent of what works it.
// It must come before otelriver's middleware, which starts the attempt's span.
type jobParent struct{ river.MiddlewareDefaults }

func (*jobParent) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if sc := jobSpanContext(job.Metadata); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return doInner(ctx)
}

// LinkJob links ctx's current span to the trace of the job whose metadata this is (the
// trace that inserted it): a Replicate webhook, its own trace, then leads to the
// generation it wakes. Without trace context in metadata it does nothing.
func LinkJob(ctx context.Context, metadata []byte) {
	if sc := jobSpanContext(metadata); sc.IsValid() {
		trace.SpanFromContext(ctx).AddLink(trace.Link{SpanContext: sc})
	}
}

// jobSpanContext reads the W3C trace context otelriver wrote into a job's metadata.
func jobSpanContext(metadata []byte) trace.SpanContext {
	var meta map[string]any
	if len(metadata) == 0 || json.Unmarshal(metadata, &meta) != nil {
		return trace.SpanContext{}
	}
	carrier := propagation.MapCarrier{}
	for _, k := range (propagation.TraceContext{}).Fields() {
		if s, ok := meta[k].(string); ok {
			carrier[k] = s
		}
	}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
}
