// This file names the attributes photogen puts on spans, so that every package spells
// them the same way.

package tracing

import (
	"context"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The attribute keys photogen sets.
const (
	SubscriberKey = attribute.Key("photogen.subscriber_id")   // the subscriber whose generation a span serves
	PredictionKey = attribute.Key("replicate.prediction_id")  // Replicate's prediction id
	AppendedKey   = attribute.Key("photogen.photos_appended") // photos an append added
	PhotosKey     = attribute.Key("photogen.photos")          // the subscriber's photos after a span's work
	StatusKey     = attribute.Key("replicate.status")         // the prediction's status in the provider's answer
)

// Subscriber is the attribute naming subscriber id.
func Subscriber(id uuid.UUID) attribute.KeyValue { return SubscriberKey.String(id.String()) }

// Prediction is the attribute naming the provider's prediction id.
func Prediction(id string) attribute.KeyValue { return PredictionKey.String(id) }

// Annotate sets attrs on ctx's current span (a server span, a job attempt); without
// one, or with tracing off, it does nothing.
func Annotate(ctx context.Context, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
}

// End ends span, marked as failed with err when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
